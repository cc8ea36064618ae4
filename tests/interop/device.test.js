// The azure-iot-device-mqtt SDK (unchanged) against the sandbox hub's MQTT endpoint: SAS devices,
// telemetry to the service-side consumer, refusals and per-device topic isolation.
'use strict';

const test = require('node:test');
const { closeTracker } = require('./closing');
const { onboarderCliFor } = require('./onboarder-cli');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const mqtt = require('mqtt');
const { Registry } = require('azure-iothub');
const { Client, Message } = require('azure-iot-device');
const { Mqtt, MqttWs } = require('azure-iot-device-mqtt');
const { SharedAccessSignature } = require('azure-iot-common');

const ready = JSON.parse(fs.readFileSync(process.env.ONBOARDER_SANDBOX_READY, 'utf8'));
const registry = Registry.fromConnectionString(ready.connectionString);
const hubHost = /HostName=([^;]+)/.exec(ready.connectionString)[1];
const ownerKey = /SharedAccessKey=([^;]+)/.exec(ready.connectionString)[1];
const ca = fs.readFileSync(ready.caFile);
const unique = (prefix) => `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

async function newDevice(prefix) {
  const deviceId = unique(prefix);
  const created = (await registry.create({ deviceId })).responseBody;
  return { deviceId, key: created.authentication.symmetricKey.primaryKey };
}

// The service side's view of telemetry: a consumer authorised by the owner policy (MQTT 5).
function consumer() {
  const expiry = Math.floor(Date.now() / 1000) + 600;
  const token = SharedAccessSignature.create(hubHost, 'iothubowner', ownerKey, expiry).toString();
  return mqtt.connect(`mqtts://${hubHost}:8883`, {
    protocolVersion: 5, clientId: unique('consumer'), username: `${hubHost}/$sandbox/consumer`, password: token, ca,
  });
}

// Resolves with all the event's arguments.
const once = (emitter, event) => new Promise((resolve, reject) => {
  emitter.once(event, (...args) => resolve(args));
  emitter.once('error', reject);
});

// The hub's own refusal (CONNACK "not authorized" or "bad user name or password"), not a TLS, DNS or socket error,
// which the SDK wraps in the same "Failure on first connection" sentence.
const refusedByTheHub = (err) => {
  assert.match(err.message, /Connection refused: (Not authorized|Bad username or password)/);
  return true;
};

const track = closeTracker(test); // closed when the test ends

test('a SAS device sends telemetry; the consumer receives body and properties', { timeout: 30000 }, async () => {
  const { deviceId, key } = await newDevice('sdk-telemetry');
  const service = track(consumer());
  await once(service, 'connect');
  await new Promise((resolve, reject) => service.subscribe(`$sandbox/telemetry/${deviceId}`, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  const received = once(service, 'message');

  const client = track(Client.fromConnectionString(`HostName=${hubHost};DeviceId=${deviceId};SharedAccessKey=${key}`, Mqtt));
  await client.open();
  const message = new Message(JSON.stringify({ temperature: 21.5 }));
  message.properties.add('alert', 'none');
  message.contentType = 'application/json';
  message.contentEncoding = 'utf-8';
  await client.sendEvent(message);

  const [topic, payload, packet] = await received;
  assert.equal(topic, `$sandbox/telemetry/${deviceId}`);
  assert.deepEqual(JSON.parse(payload.toString()), { temperature: 21.5 });
  const props = packet.properties.userProperties;
  assert.equal(props.alert, 'none');
  assert.equal(props['$.ct'], 'application/json');
  assert.equal(props['iothub-connection-device-id'], deviceId);
  assert.ok(props['iothub-enqueuedtime']);

  const identity = (await registry.get(deviceId)).responseBody;
  assert.equal(identity.connectionState, 'Connected');
  assert.notEqual(identity.lastActivityTime, '0001-01-01T00:00:00');
  await client.close();
  service.end(true);
  // The broker handles the DISCONNECT on its own time: wait (bounded) for the registry to follow.
  let state = 'Connected';
  for (let i = 0; i < 50 && state !== 'Disconnected'; ++i) {
    state = (await registry.get(deviceId)).responseBody.connectionState;
    if (state !== 'Disconnected') await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(state, 'Disconnected');
  track.deleteDeviceAtEnd(registry, deviceId);
});

test('MQTT over WebSockets on 443 (MqttWs): telemetry reaches the consumer and a twin round-trips', { timeout: 30000 }, async () => {
  const { deviceId, key } = await newDevice('sdk-mqttws');
  const service = track(consumer());
  await once(service, 'connect');
  await new Promise((resolve, reject) => service.subscribe(`$sandbox/telemetry/${deviceId}`, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  const received = once(service, 'message');

  // wss://HOST:443/$iothub/websocket, sub-protocol mqtt: the port that also serves REST and AMQP over WebSockets.
  const client = track(Client.fromConnectionString(`HostName=${hubHost};DeviceId=${deviceId};SharedAccessKey=${key}`, MqttWs));
  await client.open();
  const message = new Message('over websockets');
  message.properties.add('path', 'wss');
  await client.sendEvent(message);
  const [topic, payload, packet] = await received;
  assert.equal(topic, `$sandbox/telemetry/${deviceId}`);
  assert.equal(payload.toString(), 'over websockets');
  assert.equal(packet.properties.userProperties.path, 'wss');

  const twin = await client.getTwin();
  await new Promise((resolve, reject) => twin.properties.reported.update({ via: 'mqttws' }, (err) => (err ? reject(err) : resolve())));
  const serviceTwin = (await registry.getTwin(deviceId)).responseBody;
  assert.equal(serviceTwin.properties.reported.via, 'mqttws');
  await client.close();
  track.deleteDeviceAtEnd(registry, deviceId);
});

test('a wrong key is refused', { timeout: 30000 }, async () => {
  const { deviceId } = await newDevice('sdk-wrongkey');
  const wrong = Buffer.alloc(32, 9).toString('base64');
  const client = Client.fromConnectionString(`HostName=${hubHost};DeviceId=${deviceId};SharedAccessKey=${wrong}`, Mqtt);
  await assert.rejects(client.open(), refusedByTheHub);
  track.deleteDeviceAtEnd(registry, deviceId);
});

test('a disabled device is refused', { timeout: 30000 }, async () => {
  const { deviceId, key } = await newDevice('sdk-disabled');
  const identity = (await registry.get(deviceId)).responseBody;
  identity.status = 'disabled';
  await registry.update(identity);
  const client = Client.fromConnectionString(`HostName=${hubHost};DeviceId=${deviceId};SharedAccessKey=${key}`, Mqtt);
  await assert.rejects(client.open(), refusedByTheHub);
  track.deleteDeviceAtEnd(registry, deviceId);
});

test("device A cannot read device B's messages nor publish as B", { timeout: 30000 }, async () => {
  const a = await newDevice('sdk-a');
  const b = await newDevice('sdk-b');
  const expiry = Math.floor(Date.now() / 1000) + 600;
  const token = SharedAccessSignature.create(`${hubHost}/devices/${a.deviceId}`, null, a.key, expiry).toString();
  const raw = track(mqtt.connect(`mqtts://${hubHost}:8883`, {
    protocolVersion: 4, clientId: a.deviceId, username: `${hubHost}/${a.deviceId}/?api-version=2021-04-12`, password: token, ca,
  }));
  await once(raw, 'connect');
  const granted = await new Promise((resolve, reject) => raw.subscribe(`devices/${b.deviceId}/messages/devicebound/#`, { qos: 1 },
    (err, grants) => (err ? reject(err) : resolve(grants))));
  assert.equal(granted[0].qos, 128, 'the subscription to another device must be refused');
  const own = await new Promise((resolve, reject) => raw.subscribe(`devices/${a.deviceId}/messages/devicebound/#`, { qos: 1 },
    (err, grants) => (err ? reject(err) : resolve(grants))));
  assert.equal(own[0].qos, 1);

  // A's publish to B's telemetry topic never reaches the consumer.
  const service = track(consumer());
  await once(service, 'connect');
  await new Promise((resolve) => service.subscribe('$sandbox/telemetry/#', { qos: 1 }, resolve));
  let leaked = false;
  service.on('message', (topic) => { if (topic.endsWith(b.deviceId)) leaked = true; });
  raw.publish(`devices/${b.deviceId}/messages/events/`, 'spoofed', { qos: 0 });
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(leaked, false);
  raw.end(true);
  service.end(true);
  track.deleteDeviceAtEnd(registry, a.deviceId);
  track.deleteDeviceAtEnd(registry, b.deviceId);
});

test('reported properties written by the device are read back through the service twin', { timeout: 30000 }, async () => {
  const { deviceId, key } = await newDevice('sdk-reported');
  const client = track(Client.fromConnectionString(`HostName=${hubHost};DeviceId=${deviceId};SharedAccessKey=${key}`, Mqtt));
  await client.open();
  const twin = await client.getTwin();
  await new Promise((resolve, reject) => twin.properties.reported.update({ firmware: '1.2.3', battery: { level: 87 } },
    (err) => (err ? reject(err) : resolve())));
  const service = (await registry.getTwin(deviceId)).responseBody;
  assert.equal(service.properties.reported.firmware, '1.2.3');
  assert.equal(service.properties.reported.battery.level, 87);
  assert.equal(service.properties.reported.$version, 2);
  await client.close();
  track.deleteDeviceAtEnd(registry, deviceId);
});

test('desired properties set by the service reach the device', { timeout: 30000 }, async () => {
  const { deviceId, key } = await newDevice('sdk-desired');
  const client = track(Client.fromConnectionString(`HostName=${hubHost};DeviceId=${deviceId};SharedAccessKey=${key}`, Mqtt));
  await client.open();
  const twin = await client.getTwin();
  let got = null;
  twin.on('properties.desired', (patch) => { if (patch.interval >= 30) got = patch; });
  // The SDK subscribes in the background: change the desired properties until a change arrives
  // (a change made before its subscription is in place is, as on IoT Hub, not delivered).
  for (let attempt = 0; attempt < 20 && !got; ++attempt) {
    const serviceTwin = (await registry.getTwin(deviceId)).responseBody;
    await serviceTwin.update({ properties: { desired: { interval: 30 + attempt } } });
    for (let wait = 0; wait < 10 && !got; ++wait) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(got, 'no desired-properties patch reached the device');
  assert.ok(got.interval >= 30);
  assert.ok(got.$version >= 2);
  await client.close();
  track.deleteDeviceAtEnd(registry, deviceId);
});

test('a direct method is delivered to the device and its answer returned', { timeout: 30000 }, async () => {
  const { Client: ServiceClient } = require('azure-iothub');
  const { deviceId, key } = await newDevice('sdk-method');
  const client = track(Client.fromConnectionString(`HostName=${hubHost};DeviceId=${deviceId};SharedAccessKey=${key}`, Mqtt));
  await client.open();
  client.onDeviceMethod('echo', (request, response) => {
    response.send(201, { echoed: request.payload, method: request.methodName }, () => {});
  });
  const service = ServiceClient.fromConnectionString(ready.connectionString);
  // Until the SDK's method subscription is in place a call times out (504); try a few times.
  let result = null;
  for (let attempt = 0; attempt < 5 && !result; ++attempt) {
    try {
      result = await service.invokeDeviceMethod(deviceId, { methodName: 'echo', payload: { ping: 1 }, responseTimeoutInSeconds: 5 });
    } catch (err) {
      if (!(err.response && err.response.statusCode === 504)) throw err;
    }
  }
  assert.ok(result, 'the method was never answered');
  assert.equal(result.result.status, 201);
  assert.deepEqual(result.result.payload, { echoed: { ping: 1 }, method: 'echo' });

  // A method no handler answers times out as the hub says: 504.
  await assert.rejects(service.invokeDeviceMethod(deviceId, { methodName: 'nobody', payload: null, responseTimeoutInSeconds: 5 }),
    (err) => err.response && err.response.statusCode === 504);
  await client.close();
  track.deleteDeviceAtEnd(registry, deviceId);
});

test('an X.509 self-signed device connects with its certificate; another certificate is refused', { timeout: 30000 }, async () => {
  const { execFileSync } = require('node:child_process');
  const os = require('node:os');
  const path = require('node:path');
  const crypto = require('node:crypto');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'x509-'));
  const makeCert = (name) => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-subj', `/CN=${name}`, '-keyout', path.join(dir, `${name}.key`), '-out', path.join(dir, `${name}.pem`)], { stdio: 'ignore' });
    return { cert: fs.readFileSync(path.join(dir, `${name}.pem`), 'utf8'), key: fs.readFileSync(path.join(dir, `${name}.key`), 'utf8') };
  };
  const deviceId = unique('sdk-x509dev');
  const own = makeCert(deviceId);
  const stranger = makeCert('stranger');
  fs.rmSync(dir, { recursive: true, force: true });
  const thumbprint = new crypto.X509Certificate(own.cert).fingerprint.replace(/:/g, '');
  await registry.create({ deviceId, authentication: { x509Thumbprint: { primaryThumbprint: thumbprint } } });

  const service = track(consumer());
  await once(service, 'connect');
  await new Promise((resolve, reject) => service.subscribe(`$sandbox/telemetry/${deviceId}`, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  const received = once(service, 'message');

  const client = track(Client.fromConnectionString(`HostName=${hubHost};DeviceId=${deviceId};x509=true`, Mqtt));
  client.setOptions({ cert: own.cert, key: own.key });
  await client.open();
  await client.sendEvent(new Message('from an X.509 device'));
  const [topic, payload] = await received;
  assert.equal(topic, `$sandbox/telemetry/${deviceId}`);
  assert.equal(payload.toString(), 'from an X.509 device');
  assert.equal((await registry.get(deviceId)).responseBody.connectionState, 'Connected');
  await client.close();

  const impostor = track(Client.fromConnectionString(`HostName=${hubHost};DeviceId=${deviceId};x509=true`, Mqtt));
  impostor.setOptions({ cert: stranger.cert, key: stranger.key });
  await assert.rejects(impostor.open(), refusedByTheHub);
  track.deleteDeviceAtEnd(registry, deviceId);
});

// The consumer's copy of every message of a device, counted by the "n" property.
async function countingConsumer(deviceId) {
  const service = track(consumer());
  await once(service, 'connect');
  await new Promise((resolve, reject) => service.subscribe(`$sandbox/telemetry/${deviceId}`, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  const seen = new Set();
  service.on('message', (topic, payload, packet) => seen.add(packet.properties.userProperties.n));
  return seen;
}

async function sendNumbered(client, from, count) {
  await Promise.all(Array.from({ length: count }, (_, i) => {
    const message = new Message(`m${from + i}`);
    message.properties.add('n', String(from + i));
    return client.sendEvent(message);
  }));
}

async function waitFor(condition, ms) {
  for (const deadline = Date.now() + ms; !condition() && Date.now() < deadline;)
    await new Promise((resolve) => setTimeout(resolve, 50));
  return condition();
}

test('a device killed without DISCONNECT, then the same id from another client at once: no message lost', { timeout: 60000 }, async () => {
  const { execFile } = require('node:child_process');
  const { deviceId, key } = await newDevice('sdk-killed');
  const connectionString = `HostName=${hubHost};DeviceId=${deviceId};SharedAccessKey=${key}`;
  const seen = await countingConsumer(deviceId);
  // The first client: the official SDK in a process of its own (its session kept: clean session off), killed -9.
  const script = `
    const { Client, Message } = require('azure-iot-device');
    const { Mqtt } = require('azure-iot-device-mqtt');
    const client = Client.fromConnectionString(process.env.CS, Mqtt);
    client.open().then(() => { const m = new Message('m0'); m.properties.add('n', '0'); return client.sendEvent(m); })
      .then(() => { process.stdout.write('sent\\n'); setInterval(() => {}, 1000); });`;
  const child = execFile(process.execPath, ['-e', script], { env: { ...process.env, CS: connectionString, NODE_EXTRA_CA_CERTS: ready.caFile }, cwd: __dirname });
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (data) => { if (String(data).includes('sent')) resolve(); });
    child.on('exit', (code) => reject(new Error(`the first client ended (${code}) before sending`)));
  });
  child.kill('SIGKILL');
  // The same id from another client, publishing QoS 1 as soon as it is in.
  const client = track(Client.fromConnectionString(connectionString, Mqtt));
  await client.open();
  await sendNumbered(client, 1, 50);
  assert.ok(await waitFor(() => seen.size === 51, 20000), `the consumer saw ${seen.size} of 51 messages`);
  await client.close();
  track.deleteDeviceAtEnd(registry, deviceId);
});

test('a live takeover: the new connection sends, every message arrives', { timeout: 60000 }, async () => {
  const { NoRetry } = require('azure-iot-common');
  const { deviceId, key } = await newDevice('sdk-takeover');
  const connectionString = `HostName=${hubHost};DeviceId=${deviceId};SharedAccessKey=${key}`;
  const seen = await countingConsumer(deviceId);
  const first = track(Client.fromConnectionString(connectionString, Mqtt));
  first.setRetryPolicy(new NoRetry()); // taken over, it stays away instead of taking the id back
  first.on('error', () => {});
  await first.open();
  await sendNumbered(first, 0, 10);
  const disconnected = new Promise((resolve) => first.on('disconnect', resolve));
  const second = track(Client.fromConnectionString(connectionString, Mqtt));
  await second.open();
  await sendNumbered(second, 10, 50);
  await disconnected; // the broker closed the first connection: a takeover, not two sessions
  assert.ok(await waitFor(() => seen.size === 60, 20000), `the consumer saw ${seen.size} of 60 messages`);
  assert.equal((await registry.get(deviceId)).responseBody.connectionState, 'Connected');
  await second.close();
  track.deleteDeviceAtEnd(registry, deviceId);
});

const onboarderCli = async (commands) => (await onboarderCliFor(ready, 30000)(commands)).stdout;

async function waitUntil(condition, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, `not within ${timeoutMs} ms: ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const deviceString = (deviceId, key) => `HostName=${hubHost};DeviceId=${deviceId};SharedAccessKey=${key}`;

// Onboarder's key rotation: `device keys regenerate|swap` (a new random key, written back under the ETag). A device
// with the old key is refused, with the new key or the untouched one accepted; without --yes and a terminal nothing
// changes.
test('onboarder-cli: a regenerated key replaces the old one, which the hub then refuses; swap exchanges them', { timeout: 60000 }, async () => {
  const { deviceId, key: oldPrimary } = await newDevice('sdk-rotate');
  track.deleteDeviceAtEnd(registry, deviceId);
  const secondary = (await registry.get(deviceId)).responseBody.authentication.symmetricKey.secondaryKey;
  // Connected with the old key while the keys change (plain MQTT, which does not reconnect when the hub closes it).
  const token = SharedAccessSignature.create(`${hubHost}/devices/${deviceId}`, null, oldPrimary, Math.floor(Date.now() / 1000) + 600).toString();
  const connected = track(mqtt.connect(`mqtts://${hubHost}:8883`, {
    protocolVersion: 4, clientId: deviceId, username: `${hubHost}/${deviceId}/?api-version=2021-04-12`, password: token, ca, reconnectPeriod: 0,
  }));
  await once(connected, 'connect');
  await waitUntil(async () => (await registry.get(deviceId)).responseBody.connectionState === 'Connected');

  const output = await onboarderCli([
    `"$CLI" --hub sb device keys regenerate ${deviceId} --primary </dev/null 2>&1 && exit 9 || echo "exit=$?"`,
    `"$CLI" --json --hub sb device keys regenerate ${deviceId} --primary --yes --reveal`,
  ]);
  assert.match(output, /needs --yes when there is no terminal to ask on\. .*The device is connected now/);
  assert.match(output, /exit=1/);
  const regenerated = JSON.parse(output.slice(output.indexOf('{')));
  const newPrimary = regenerated.authentication.symmetricKey.primaryKey;
  assert.notEqual(newPrimary, oldPrimary);
  assert.equal(Buffer.from(newPrimary, 'base64').length, 32);
  assert.equal(regenerated.authentication.symmetricKey.secondaryKey, secondary);
  assert.equal((await registry.get(deviceId)).responseBody.authentication.symmetricKey.primaryKey, newPrimary);
  await waitUntil(() => !connected.connected); // the hub closed the connection made with the old key

  await assert.rejects(track(Client.fromConnectionString(deviceString(deviceId, oldPrimary), Mqtt)).open(), refusedByTheHub);
  for (const key of [newPrimary, secondary]) { // one at a time: a second connection would take the first one over
    const client = track(Client.fromConnectionString(deviceString(deviceId, key), Mqtt));
    await client.open();
    await client.close();
  }

  const swapped = JSON.parse(await onboarderCli([`"$CLI" --json --hub sb device keys swap ${deviceId} --yes --reveal`]));
  assert.equal(swapped.authentication.symmetricKey.primaryKey, secondary);
  assert.equal(swapped.authentication.symmetricKey.secondaryKey, newPrimary);
});

// Onboarder's hand-over that stops working: `device connection-string --expires` gives a connection string with a
// device SAS token and no key. The device SDK connects with it before it expires and is refused after (this sandbox
// takes a token one second past its expiry, --clock-skew 1, where IoT Hub takes it five minutes).
test('onboarder-cli: an expiring connection string holds no key, connects before it expires and is refused after', { timeout: 60000 }, async () => {
  const { deviceId } = await newDevice('sdk-expiring');
  track.deleteDeviceAtEnd(registry, deviceId);
  const output = await onboarderCli([`"$CLI" --json --hub sb device connection-string ${deviceId} --expires 15s --reveal`]);
  const handOver = JSON.parse(output);
  assert.equal(handOver.deviceId, deviceId);
  assert.doesNotMatch(handOver.connectionString, /SharedAccessKey=/);
  assert.match(handOver.connectionString, new RegExp(`^HostName=${hubHost};DeviceId=${deviceId};SharedAccessSignature=SharedAccessSignature sr=`));
  const expiresAt = Date.parse(handOver.expiresAt);
  // Time enough to connect before it expires, even on a busy machine (else the test would say why).
  assert.ok(expiresAt - Date.now() > 5000, `expiresAt ${handOver.expiresAt} lies at least 5 s ahead`);

  const before = track(Client.fromConnectionString(handOver.connectionString, Mqtt));
  await before.open();
  await before.sendEvent(new Message('handed over'));
  await before.close();

  // Past the expiry and the second the sandbox allows (whole seconds: se is in seconds).
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt + 2500 - Date.now())));
  const after = track(Client.fromConnectionString(handOver.connectionString, Mqtt));
  await assert.rejects(after.open(), refusedByTheHub);
});

// Onboarder's certificate rollover for a self-signed X.509 device: `device keys thumbprint --cert NEW` registers the
// new certificate as primary and keeps the old one as secondary, so the device is taken with either; the next
// rollover drops the oldest. Checked with azure-iot-device presenting each certificate.
test('onboarder-cli: an X.509 device\'s new certificate becomes primary, the old one stays secondary until the next', { timeout: 60000 }, async () => {
  const os = require('node:os');
  const crypto = require('node:crypto');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'x509-rollover-'));
  const deviceId = unique('sdk-rollover');
  const makeCert = (name) => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-subj', `/CN=${deviceId}`, '-keyout', path.join(dir, `${name}.key`), '-out', path.join(dir, `${name}.pem`)], { stdio: 'ignore' });
    const cert = fs.readFileSync(path.join(dir, `${name}.pem`), 'utf8');
    return { file: path.join(dir, `${name}.pem`), cert, key: fs.readFileSync(path.join(dir, `${name}.key`), 'utf8'),
      thumbprint: new crypto.X509Certificate(cert).fingerprint.replace(/:/g, '') };
  };
  try {
    const [first, second, third] = [makeCert('first'), makeCert('second'), makeCert('third')];
    await registry.create({ deviceId, authentication: { x509Thumbprint: { primaryThumbprint: first.thumbprint } } });
    track.deleteDeviceAtEnd(registry, deviceId);
    const connects = async (credential) => {
      const client = track(Client.fromConnectionString(`HostName=${hubHost};DeviceId=${deviceId};x509=true`, Mqtt));
      client.setOptions({ cert: credential.cert, key: credential.key });
      await client.open();
      await client.close();
    };
    const refused = async (credential) => {
      const client = track(Client.fromConnectionString(`HostName=${hubHost};DeviceId=${deviceId};x509=true`, Mqtt));
      client.setOptions({ cert: credential.cert, key: credential.key });
      await assert.rejects(client.open(), refusedByTheHub);
    };
    await refused(second);

    const output = await onboarderCli([
      `"$CLI" --json --hub sb device keys thumbprint ${deviceId} --cert "${second.file}" --yes`,
      `"$CLI" --hub sb device keys thumbprint ${deviceId} --cert "${second.file}" --yes 2>&1 && exit 9 || echo "exit=$?"`,
    ]);
    const rolled = JSON.parse(output.slice(0, output.indexOf('\n}') + 2));
    assert.deepEqual(rolled.authentication.x509Thumbprint, { primaryThumbprint: second.thumbprint, secondaryThumbprint: first.thumbprint });
    assert.match(output, /is already the primary thumbprint/);
    assert.match(output, /exit=4/);
    await connects(second);
    await connects(first);

    await onboarderCli([`"$CLI" --hub sb device keys thumbprint ${deviceId} --cert "${third.file}" --yes >/dev/null`]);
    const thumbprints = (await registry.get(deviceId)).responseBody.authentication.x509Thumbprint;
    assert.deepEqual(thumbprints, { primaryThumbprint: third.thumbprint, secondaryThumbprint: second.thumbprint });
    await connects(third);
    await connects(second);
    await refused(first);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
