// The official service SDKs (unchanged) against the sandbox hub's AMQP face: azure-iothub's cloud-to-device
// messages and feedback, and @azure/event-hubs reading telemetry from the Event Hub-compatible endpoint.
'use strict';

const test = require('node:test');
const { closeTracker } = require('./closing');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { Registry, Client: ServiceClient, AmqpWs } = require('azure-iothub');
const { Message: ServiceMessage, SharedAccessSignature } = require('azure-iot-common');
const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const { EventHubConsumerClient, earliestEventPosition } = require('@azure/event-hubs');

const ready = JSON.parse(fs.readFileSync(process.env.ONBOARDER_SANDBOX_READY, 'utf8'));
const registry = Registry.fromConnectionString(ready.connectionString);
const hubHost = /HostName=([^;]+)/.exec(ready.connectionString)[1];
const ownerKey = /SharedAccessKey=([^;]+)/.exec(ready.connectionString)[1];
const unique = (prefix) => `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function newDevice(prefix) {
  const deviceId = unique(prefix);
  const created = (await registry.create({ deviceId })).responseBody;
  return { deviceId, key: created.authentication.symmetricKey.primaryKey };
}

const deviceClient = ({ deviceId, key }) =>
  Client.fromConnectionString(`HostName=${hubHost};DeviceId=${deviceId};SharedAccessKey=${key}`, Mqtt);

const track = closeTracker(test); // closed when the test ends

// Resolves with the next message the device receives (completing it, as a device application does).
function nextMessage(client) {
  return new Promise((resolve) => {
    client.once('message', (message) => { client.complete(message, () => {}); resolve(message); });
  });
}

// Collects feedback records until one for messageId arrives.
function feedbackFor(receiver, messageId) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      const records = JSON.parse(message.getData().toString());
      const record = records.find((r) => r.originalMessageId === messageId);
      if (record) { receiver.removeListener('message', onMessage); resolve({ record, message }); }
    };
    receiver.on('message', onMessage);
  });
}

test('a C2D message with properties and ack full reaches the device and yields a Success record', { timeout: 60000 }, async () => {
  const device = await newDevice('amqp-c2d');
  const client = track(deviceClient(device));
  await client.open();
  const received = nextMessage(client);

  const service = track(ServiceClient.fromConnectionString(ready.connectionString));
  await service.open();
  const feedback = (await service.getFeedbackReceiver()).result;
  const message = new ServiceMessage('hello, device');
  message.messageId = unique('mid');
  message.ack = 'full';
  message.properties.add('colour', 'blue');
  message.properties.add('with space', 'a&b=c');
  const waitingFeedback = feedbackFor(feedback, message.messageId);
  await service.send(device.deviceId, message);

  const got = await received;
  assert.equal(got.getData().toString(), 'hello, device');
  assert.equal(got.messageId, message.messageId);
  assert.equal(got.properties.getValue('colour'), 'blue');
  assert.equal(got.properties.getValue('with space'), 'a&b=c');

  const { record, message: batch } = await waitingFeedback;
  assert.equal(record.statusCode, 'Success');
  assert.equal(record.deviceId, device.deviceId);
  assert.equal(batch.contentType, 'application/vnd.microsoft.iothub.feedback.json');
  track.deleteDeviceAtEnd(registry, device.deviceId);
});

test('a message to an offline device waits and is delivered when it connects', { timeout: 60000 }, async () => {
  const device = await newDevice('amqp-offline');
  const service = track(ServiceClient.fromConnectionString(ready.connectionString));
  await service.open();
  const message = new ServiceMessage(JSON.stringify({ command: 'reboot' }));
  message.messageId = unique('mid');
  await service.send(device.deviceId, message);
  assert.equal((await registry.get(device.deviceId)).responseBody.cloudToDeviceMessageCount, 1);

  const client = track(deviceClient(device));
  await client.open();
  const got = await nextMessage(client);
  assert.deepEqual(JSON.parse(got.getData().toString()), { command: 'reboot' });
  assert.equal(got.messageId, message.messageId);
  assert.equal((await registry.get(device.deviceId)).responseBody.cloudToDeviceMessageCount, 0);
  track.deleteDeviceAtEnd(registry, device.deviceId);
});

test('a message that expires before the device connects yields an Expired record', { timeout: 60000 }, async () => {
  const device = await newDevice('amqp-expired');
  const service = track(ServiceClient.fromConnectionString(ready.connectionString));
  await service.open();
  const feedback = (await service.getFeedbackReceiver()).result;
  const message = new ServiceMessage('too late');
  message.messageId = unique('mid');
  message.ack = 'negative';
  message.expiryTimeUtc = Date.now() + 1000;
  const waitingFeedback = feedbackFor(feedback, message.messageId);
  await service.send(device.deviceId, message);
  const { record } = await waitingFeedback;
  assert.equal(record.statusCode, 'Expired');
  assert.equal(record.deviceId, device.deviceId);
  track.deleteDeviceAtEnd(registry, device.deviceId);
});

test('the 51st queued message is refused as IoT Hub refuses it', { timeout: 60000 }, async () => {
  const device = await newDevice('amqp-full');
  const service = track(ServiceClient.fromConnectionString(ready.connectionString));
  await service.open();
  for (let i = 0; i < 50; ++i) await service.send(device.deviceId, new ServiceMessage(`m${i}`));
  await assert.rejects(service.send(device.deviceId, new ServiceMessage('one too many')),
    (err) => err.name === 'DeviceMaximumQueueDepthExceededError');
  track.deleteDeviceAtEnd(registry, device.deviceId);
});

test('a message to a device that does not exist is refused with DeviceNotFoundError', { timeout: 60000 }, async () => {
  const service = track(ServiceClient.fromConnectionString(ready.connectionString));
  await service.open();
  await assert.rejects(service.send(unique('nobody'), new ServiceMessage('x')), (err) => err.name === 'DeviceNotFoundError');
});

test('wrong key, expired token, token for another hub and a policy without ServiceConnect are refused at CBS', { timeout: 90000 }, async () => {
  const device = await newDevice('amqp-refused');
  const refused = async (service) => {
    let error;
    try { await service.open(); await service.send(device.deviceId, new ServiceMessage('x')); } catch (err) { error = err; }
    try { await service.close(); } catch { /* never opened */ }
    assert.ok(error, 'the hub accepted what it must refuse');
    // A refused put-token reaches the application as a transport error carrying the UnauthorizedError; a
    // refused link as the UnauthorizedError itself.
    const names = [error.name, error.amqpError && error.amqpError.name];
    assert.ok(names.includes('UnauthorizedError'), `${error.name}: ${error.message}`);
  };
  const wrongKey = Buffer.alloc(32, 7).toString('base64');
  await refused(ServiceClient.fromConnectionString(`HostName=${hubHost};SharedAccessKeyName=iothubowner;SharedAccessKey=${wrongKey}`));
  const expired = SharedAccessSignature.create(hubHost, 'iothubowner', ownerKey, Math.floor(Date.now() / 1000) - 60).toString();
  await refused(ServiceClient.fromSharedAccessSignature(`HostName=${hubHost};SharedAccessSignature=${expired}`));
  // A valid owner token whose resource is one device: CBS takes it for that resource only.
  const elsewhere = SharedAccessSignature.create(`${hubHost}/devices/someone`, 'iothubowner', ownerKey,
    Math.floor(Date.now() / 1000) + 600).toString();
  await refused(ServiceClient.fromSharedAccessSignature(`HostName=${hubHost};SharedAccessSignature=${elsewhere}`));

  // The "device" policy has DeviceConnect only: CBS takes its token, the C2D link is refused.
  const service = track(ServiceClient.fromConnectionString(ready.policyConnectionStrings.device));
  await service.open();
  await assert.rejects(service.send(device.deviceId, new ServiceMessage('x')), (err) => err.name === 'UnauthorizedError');
  track.deleteDeviceAtEnd(registry, device.deviceId);
});

// --- Event Hub-compatible endpoint ---

async function sendTelemetry(device, count, tag) {
  const client = track(deviceClient(device));
  await client.open();
  for (let i = 0; i < count; ++i) {
    const message = new Message(JSON.stringify({ n: i, tag }));
    message.properties.add('tag', tag);
    message.contentType = 'application/json';
    message.contentEncoding = 'utf-8';
    await client.sendEvent(message);
  }
  await client.close();
}

// Reads from every partition until predicate says it has enough (or the timeout).
async function readEvents(consumerGroup, position, enough, timeoutMs = 20000, connection = {}) {
  const consumer = new EventHubConsumerClient(consumerGroup, connection.connectionString || ready.eventHubConnectionString,
    connection.options || {});
  const events = [];
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  const subscription = consumer.subscribe({
    processEvents: async (batch) => { events.push(...batch); if (enough(events)) done(); },
    processError: async (err) => { events.error = err; if (enough(events)) done(); },
  }, { startPosition: position, maxWaitTimeInSeconds: 1 });
  const timer = setTimeout(done, timeoutMs);
  await finished;
  clearTimeout(timer);
  try {
    await subscription.close();
  } finally {
    await consumer.close(); // even when the subscription's close failed: an open client keeps node running
  }
  return events;
}

test('EventHubConsumerClient reads every message of SDK devices from every partition', { timeout: 90000 }, async () => {
  const tag = unique('eh');
  const devices = [];
  for (let i = 0; i < 6; ++i) devices.push(await newDevice('amqp-eh'));
  for (const device of devices) await sendTelemetry(device, 3, tag);

  const consumer = new EventHubConsumerClient('$Default', ready.eventHubConnectionString);
  const ids = await consumer.getPartitionIds();
  assert.equal(ids.length, ready.eventHubPartitions);
  await consumer.close();

  const mine = (events) => events.filter((e) => e.properties && e.properties.tag === tag);
  const events = mine(await readEvents('$Default', earliestEventPosition, (all) => mine(all).length >= 18));
  assert.equal(events.length, 18, `received ${events.length} of 18`);
  for (const device of devices) {
    const own = events.filter((e) => e.systemProperties['iothub-connection-device-id'] === device.deviceId);
    assert.deepEqual(own.map((e) => e.body.n), [0, 1, 2], `device ${device.deviceId} in order`);
    for (const e of own) {
      assert.equal(e.contentType, 'application/json');
      assert.ok(e.enqueuedTimeUtc instanceof Date);
      assert.equal(typeof e.sequenceNumber, 'number');
    }
  }
  for (const device of devices) track.deleteDeviceAtEnd(registry, device.deviceId);
});

test('starting from an enqueued time skips older messages; two consumer groups each get every message', { timeout: 90000 }, async () => {
  const device = await newDevice('amqp-eh-time');
  const before = unique('before');
  await sendTelemetry(device, 2, before);
  await sleep(1100);
  const start = new Date();
  await sleep(50);
  const after = unique('after');
  await sendTelemetry(device, 3, after);

  const ofDevice = (events) => events.filter((e) => e.systemProperties['iothub-connection-device-id'] === device.deviceId);
  const raw = await readEvents('$Default', { enqueuedOn: start }, (all) => ofDevice(all).length >= 3, 8000);
  const fromTime = ofDevice(raw);
  assert.deepEqual(fromTime.map((e) => e.properties.tag), [after, after, after]);

  assert.deepEqual([...ready.consumerGroups].sort(), ['$Default', 'second']); // as the sandbox lists them
  for (const group of ['$Default', 'second']) {
    const all = ofDevice(await readEvents(group, earliestEventPosition, (events) => ofDevice(events).length >= 5));
    assert.deepEqual(all.map((e) => e.properties.tag), [before, before, after, after, after], `consumer group ${group}`);
  }
  track.deleteDeviceAtEnd(registry, device.deviceId);
});

test('an unknown consumer group is refused as not found', { timeout: 60000 }, async () => {
  const events = await readEvents('no-such-group', earliestEventPosition, (all) => all.error !== undefined || all.length > 0, 8000);
  assert.ok(events.error, 'the endpoint accepted an unknown consumer group');
  assert.match(events.error.message, /could not be found/);
});

// --- AMQP over WebSockets on the HTTPS port (443), as behind a firewall that lets only HTTPS out ---

test('over WebSockets on 443 (AmqpWs): a C2D message reaches the device and its feedback comes back', { timeout: 60000 }, async () => {
  const device = await newDevice('amqp-ws');
  const client = track(deviceClient(device));
  await client.open();
  const received = nextMessage(client);

  const service = track(ServiceClient.fromConnectionString(ready.connectionString, AmqpWs));
  await service.open();
  const feedback = (await service.getFeedbackReceiver()).result;
  const message = new ServiceMessage('over websockets');
  message.messageId = unique('mid-ws');
  message.ack = 'positive';
  message.properties.add('path', 'wss');
  const waitingFeedback = feedbackFor(feedback, message.messageId);
  await service.send(device.deviceId, message);

  const got = await received;
  assert.equal(got.getData().toString(), 'over websockets');
  assert.equal(got.properties.getValue('path'), 'wss');
  const { record } = await waitingFeedback;
  assert.equal(record.statusCode, 'Success');
  track.deleteDeviceAtEnd(registry, device.deviceId);
});

test('over WebSockets on 443: EventHubConsumerClient reads the Event Hub-compatible endpoint', { timeout: 90000 }, async () => {
  const device = await newDevice('amqp-eh-ws');
  const tag = unique('eh-ws');
  await sendTelemetry(device, 3, tag);
  // As Azure gives it: no port in the endpoint. With webSocketOptions the client goes to wss://HOST:443/$servicebus/websocket.
  const connectionString = ready.eventHubConnectionString.replace(/(sb:\/\/[^/:;]+):\d+/, '$1');
  assert.notEqual(connectionString, ready.eventHubConnectionString);
  const mine = (events) => events.filter((e) => e.properties && e.properties.tag === tag);
  const events = mine(await readEvents('$Default', earliestEventPosition, (all) => all.error !== undefined || mine(all).length >= 3, 20000,
    { connectionString, options: { webSocketOptions: { webSocket: require('ws') } } }));
  assert.equal(events.error, undefined);
  assert.deepEqual(events.map((e) => e.body.n), [0, 1, 2]);
  assert.equal(events[0].systemProperties['iothub-connection-device-id'], device.deviceId);
  track.deleteDeviceAtEnd(registry, device.deviceId);
});
