// Module identities: the azure-iothub service SDK (unchanged) manages them and their twins through the sandbox's
// registry API; azure-iot-device's ModuleClient over MQTT (unchanged) connects as a module with IoT Hub's username,
// client id and topics; and onboarder-cli's module verbs do the same through Onboarder's own client.
'use strict';

const test = require('node:test');
const { closeTracker } = require('./closing');
const { onboarderCliFor } = require('./onboarder-cli');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const mqtt = require('mqtt');
const { Registry, Client: ServiceClient } = require('azure-iothub');
const { ModuleClient, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const { SharedAccessSignature } = require('azure-iot-common');

const ready = JSON.parse(fs.readFileSync(process.env.ONBOARDER_SANDBOX_READY, 'utf8'));
const registry = Registry.fromConnectionString(ready.connectionString);
const service = ServiceClient.fromConnectionString(ready.connectionString);
const hubHost = /HostName=([^;]+)/.exec(ready.connectionString)[1];
const ownerKey = /SharedAccessKey=([^;]+)/.exec(ready.connectionString)[1];
const ca = fs.readFileSync(ready.caFile);
const unique = (prefix) => `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const track = closeTracker(test);

const moduleString = (deviceId, moduleId, key) =>
  `HostName=${hubHost};DeviceId=${deviceId};ModuleId=${moduleId};SharedAccessKey=${key}`;
const statusOf = (err) => err.response && err.response.statusCode;

// The hub's own refusal (CONNACK "not authorized" or "bad user name or password").
const refusedByTheHub = (err) => {
  assert.match(err.message, /Connection refused: (Not authorized|Bad username or password)/);
  return true;
};

async function waitUntil(condition, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, `not within ${timeoutMs} ms: ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// A device with one module; both deleted when the test ends.
async function deviceWithModule(prefix) {
  const deviceId = unique(prefix);
  await registry.create({ deviceId });
  track.deleteDeviceAtEnd(registry, deviceId);
  const moduleId = 'sensor-reader';
  const created = (await registry.addModule({ deviceId, moduleId })).responseBody;
  return { deviceId, moduleId, key: created.authentication.symmetricKey.primaryKey };
}

// Gives stdout; asynchronous, so that the module this process runs goes on answering while onboarder-cli calls it.
const onboarderCli = async (commands) => (await onboarderCliFor(ready, 30000)(commands)).stdout;

test('Registry: addModule, getModule, getModulesOnDevice, updateModule, removeModule', async () => {
  const deviceId = unique('sdk-modules');
  await registry.create({ deviceId });
  track.deleteDeviceAtEnd(registry, deviceId);

  const added = (await registry.addModule({ deviceId, moduleId: 'reader', managedBy: 'bench' })).responseBody;
  assert.equal(added.deviceId, deviceId);
  assert.equal(added.moduleId, 'reader');
  assert.equal(added.managedBy, 'bench');
  assert.equal(added.authentication.type, 'sas');
  assert.ok(Buffer.from(added.authentication.symmetricKey.primaryKey, 'base64').length >= 16, 'hub generates keys');
  await registry.addModule({ deviceId, moduleId: 'writer' });
  await assert.rejects(registry.addModule({ deviceId, moduleId: 'reader' }), (err) => statusOf(err) === 409);
  await assert.rejects(registry.addModule({ deviceId: unique('nobody'), moduleId: 'reader' }),
    (err) => err.constructor.name === 'DeviceNotFoundError');

  const got = (await registry.getModule(deviceId, 'reader')).responseBody;
  assert.equal(got.etag, added.etag);
  assert.equal(got.connectionState, 'Disconnected');
  assert.equal(got.status, undefined, 'a module has no status of its own');
  const listed = (await registry.getModulesOnDevice(deviceId)).responseBody;
  assert.deepEqual(listed.map((m) => m.moduleId), ['reader', 'writer']);

  // updateModule with the ETag read; a stale ETag is refused.
  got.authentication.symmetricKey.primaryKey = Buffer.alloc(32, 3).toString('base64');
  const updated = (await registry.updateModule(got)).responseBody;
  assert.equal(updated.authentication.symmetricKey.primaryKey, got.authentication.symmetricKey.primaryKey);
  assert.notEqual(updated.etag, added.etag);
  await assert.rejects(registry.updateModule(got), (err) => statusOf(err) === 412);

  await registry.removeModule(deviceId, 'writer');
  await assert.rejects(registry.getModule(deviceId, 'writer'), (err) => statusOf(err) === 404);
  assert.deepEqual((await registry.getModulesOnDevice(deviceId)).responseBody.map((m) => m.moduleId), ['reader']);

  // Deleting the device deletes its modules.
  await registry.delete(deviceId);
  await registry.create({ deviceId });
  await assert.rejects(registry.getModule(deviceId, 'reader'), (err) => statusOf(err) === 404);
});

test('module twin: getModuleTwin, updateModuleTwin with its ETag; a stale ETag is refused', async () => {
  const { deviceId, moduleId } = await deviceWithModule('sdk-module-twin');
  const twin = (await registry.getModuleTwin(deviceId, moduleId)).responseBody;
  assert.equal(twin.deviceId, deviceId);
  assert.equal(twin.moduleId, moduleId);
  const patched = (await registry.updateModuleTwin(deviceId, moduleId,
    { tags: { role: 'reader' }, properties: { desired: { interval: 15 } } }, twin.etag)).responseBody;
  assert.equal(patched.tags.role, 'reader');
  assert.equal(patched.properties.desired.interval, 15);
  assert.notEqual(patched.etag, twin.etag);
  await assert.rejects(registry.updateModuleTwin(deviceId, moduleId, { tags: { role: 'late' } }, twin.etag),
    (err) => statusOf(err) === 412);
  // The module's twin is its own: the device's is untouched.
  const deviceTwin = (await registry.getTwin(deviceId)).responseBody;
  assert.deepEqual(deviceTwin.tags, {});
  assert.equal(deviceTwin.properties.desired.interval, undefined);
});

test('ModuleClient over MQTT: twin, desired patch, direct method and telemetry as the module', { timeout: 60000 }, async () => {
  const { deviceId, moduleId, key } = await deviceWithModule('sdk-module-client');
  // The service side's telemetry consumer (the owner policy, MQTT 5 for the properties).
  const token = SharedAccessSignature.create(hubHost, 'iothubowner', ownerKey, Math.floor(Date.now() / 1000) + 600).toString();
  const consumer = track(mqtt.connect(`mqtts://${hubHost}:8883`, {
    protocolVersion: 5, clientId: unique('consumer'), username: `${hubHost}/$sandbox/consumer`, password: token, ca,
  }));
  await new Promise((resolve, reject) => { consumer.once('connect', resolve); consumer.once('error', reject); });
  await new Promise((resolve, reject) => consumer.subscribe(`$sandbox/telemetry/${deviceId}`, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  const received = [];
  consumer.on('message', (topic, payload, packet) => received.push({ payload: payload.toString(), properties: packet.properties.userProperties }));

  const client = track(ModuleClient.fromConnectionString(moduleString(deviceId, moduleId, key), Mqtt));
  await client.open();
  await waitUntil(async () => (await registry.getModule(deviceId, moduleId)).responseBody.connectionState === 'Connected');
  assert.equal((await registry.get(deviceId)).responseBody.connectionState, 'Disconnected', 'the device itself is not connected');

  // Reported properties land in the module's twin.
  const twin = await client.getTwin();
  await new Promise((resolve, reject) => twin.properties.reported.update({ firmware: 'm-1.0' }, (err) => (err ? reject(err) : resolve())));
  assert.equal((await registry.getModuleTwin(deviceId, moduleId)).responseBody.properties.reported.firmware, 'm-1.0');
  assert.equal((await registry.getTwin(deviceId)).responseBody.properties.reported.firmware, undefined);

  // Desired properties set on the module's twin reach the module.
  let desired = null;
  twin.on('properties.desired', (patch) => { if (patch.interval >= 40) desired = patch; });
  for (let attempt = 0; attempt < 20 && !desired; ++attempt) {
    await registry.updateModuleTwin(deviceId, moduleId, { properties: { desired: { interval: 40 + attempt } } }, '*');
    for (let wait = 0; wait < 10 && !desired; ++wait) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(desired, 'no desired-properties patch reached the module');

  // A direct method on the module.
  client.onMethod('whoami', (request, response) => response.send(200, { module: moduleId, asked: request.payload }, () => {}));
  let answer = null;
  for (let attempt = 0; attempt < 5 && !answer; ++attempt) {
    try {
      answer = await service.invokeDeviceMethod(deviceId, moduleId, { methodName: 'whoami', payload: 7, responseTimeoutInSeconds: 5 });
    } catch (err) {
      if (statusOf(err) !== 504) throw err;
    }
  }
  assert.ok(answer, 'the module never answered');
  assert.equal(answer.result.status, 200);
  assert.deepEqual(answer.result.payload, { module: moduleId, asked: 7 });
  // The device has no such method: it is not connected at all.
  await assert.rejects(service.invokeDeviceMethod(deviceId, { methodName: 'whoami', payload: null, responseTimeoutInSeconds: 5 }),
    (err) => statusOf(err) === 404);

  // Telemetry from the module: the hub marks the device and the module; a sender's own iothub-… property (here one
  // that claims another module) is not taken.
  const message = new Message('from the module');
  message.properties.add('iothub-connection-module-id', 'someone-else');
  message.properties.add('kind', 'reading');
  await client.sendEvent(message);
  await waitUntil(() => received.length > 0);
  assert.equal(received[0].payload, 'from the module');
  assert.equal(received[0].properties['iothub-connection-device-id'], deviceId);
  assert.equal(received[0].properties['iothub-connection-module-id'], moduleId);
  assert.equal(received[0].properties.kind, 'reading');
  await client.close();
});

test('a module is refused with a wrong key, with the device\'s key, as another client id, and while its device is disabled', { timeout: 60000 }, async () => {
  const { deviceId, moduleId, key } = await deviceWithModule('sdk-module-refusals');
  const deviceKey = (await registry.get(deviceId)).responseBody.authentication.symmetricKey.primaryKey;
  await assert.rejects(track(ModuleClient.fromConnectionString(moduleString(deviceId, moduleId, deviceKey), Mqtt)).open(), refusedByTheHub);
  await assert.rejects(track(ModuleClient.fromConnectionString(moduleString(deviceId, 'nobody', key), Mqtt)).open(), refusedByTheHub);

  // The module's token, but the device's client id: IoT Hub requires {deviceId}/{moduleId}.
  const token = SharedAccessSignature.create(`${hubHost}/devices/${deviceId}/modules/${moduleId}`, null, key,
    Math.floor(Date.now() / 1000) + 600).toString();
  const impostor = track(mqtt.connect(`mqtts://${hubHost}:8883`, {
    protocolVersion: 4, clientId: deviceId, username: `${hubHost}/${deviceId}/${moduleId}/?api-version=2021-04-12`,
    password: token, ca, reconnectPeriod: 0,
  }));
  await assert.rejects(new Promise((resolve, reject) => { impostor.once('connect', resolve); impostor.once('error', reject); }),
    (err) => { assert.match(err.message, /Connection refused: (Not authorized|Bad username or password)/); return true; });

  // A module connected with MQTT may not publish on its device's topics: the hub closes the connection.
  const module = track(mqtt.connect(`mqtts://${hubHost}:8883`, {
    protocolVersion: 4, clientId: `${deviceId}/${moduleId}`, username: `${hubHost}/${deviceId}/${moduleId}/?api-version=2021-04-12`,
    password: token, ca, reconnectPeriod: 0,
  }));
  await new Promise((resolve, reject) => { module.once('connect', resolve); module.once('error', reject); });
  module.publish(`devices/${deviceId}/messages/events/`, 'as the device', { qos: 1 });
  await waitUntil(() => !module.connected);

  // Disabling the device closes its modules' sessions and refuses them from then on.
  const connected = track(mqtt.connect(`mqtts://${hubHost}:8883`, {
    protocolVersion: 4, clientId: `${deviceId}/${moduleId}`, username: `${hubHost}/${deviceId}/${moduleId}/?api-version=2021-04-12`,
    password: token, ca, reconnectPeriod: 0,
  }));
  await new Promise((resolve, reject) => { connected.once('connect', resolve); connected.once('error', reject); });
  const device = (await registry.get(deviceId)).responseBody;
  device.status = 'disabled';
  await registry.update(device);
  await waitUntil(() => !connected.connected);
  await assert.rejects(track(ModuleClient.fromConnectionString(moduleString(deviceId, moduleId, key), Mqtt)).open(), refusedByTheHub);
});

// Onboarder's module verbs: create a module, hand over its connection string with --expires (a module token, no
// key), which ModuleClient connects with; read its twin and call its method with --module; list and delete it.
test('onboarder-cli: module create, list, connection-string --expires, twin and method with --module, delete', { timeout: 60000 }, async () => {
  const deviceId = unique('cli-module');
  await registry.create({ deviceId });
  track.deleteDeviceAtEnd(registry, deviceId);
  const created = JSON.parse(await onboarderCli([`"$CLI" --json --hub sb module create ${deviceId} reader`]));
  assert.equal(created.moduleId, 'reader');
  assert.equal(created.authentication.symmetricKey.primaryKey, '********', 'keys are masked');
  const handOver = JSON.parse(await onboarderCli([`"$CLI" --json --hub sb module connection-string ${deviceId} reader --expires 10m --reveal`]));
  assert.equal(handOver.deviceId, deviceId);
  assert.equal(handOver.moduleId, 'reader');
  assert.doesNotMatch(handOver.connectionString, /SharedAccessKey=/);
  assert.match(handOver.connectionString, new RegExp(`^HostName=${hubHost};DeviceId=${deviceId};ModuleId=reader;SharedAccessSignature=SharedAccessSignature sr=`));

  // ModuleClient takes a module's token as such (its connection-string parser wants a key): the token names the
  // hub, the device and the module.
  const token = /;SharedAccessSignature=(SharedAccessSignature .*)$/.exec(handOver.connectionString)[1];
  const client = track(ModuleClient.fromSharedAccessSignature(token, Mqtt));
  await client.open();
  const twin = await client.getTwin();
  await new Promise((resolve, reject) => twin.properties.reported.update({ via: 'cli' }, (err) => (err ? reject(err) : resolve())));
  client.onMethod('ping', (request, response) => response.send(200, 'pong', () => {}));

  const shown = JSON.parse(await onboarderCli([`"$CLI" --json --hub sb twin show ${deviceId} --module reader`]));
  assert.equal(shown.moduleId, 'reader');
  assert.equal(shown.properties.reported.via, 'cli');
  let pinged = null;
  for (let attempt = 0; attempt < 5 && !pinged; ++attempt) {
    try {
      pinged = JSON.parse(await onboarderCli([`"$CLI" --json --hub sb method invoke ${deviceId} ping --module reader --timeout 5`]));
    } catch (err) {
      if (!/did not answer in time/.test(String(err.stderr) + String(err.stdout))) throw err;
    }
  }
  assert.deepEqual(pinged, { status: 200, payload: 'pong' });
  await client.close();

  const listed = JSON.parse(await onboarderCli([`"$CLI" --json --hub sb module list ${deviceId}`]));
  assert.deepEqual(listed.map((m) => m.moduleId), ['reader']);
  await onboarderCli([`"$CLI" --hub sb module delete ${deviceId} reader --yes`]);
  await assert.rejects(registry.getModule(deviceId, 'reader'), (err) => statusOf(err) === 404);
  const missing = await onboarderCli([`"$CLI" --hub sb module show ${deviceId} reader 2>&1 && exit 9 || echo "exit=$?"`]);
  assert.match(missing, /has no module "reader"/);
  assert.match(missing, /exit=3/);
});
