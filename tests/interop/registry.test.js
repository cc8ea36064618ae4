// The azure-iothub service SDK (unchanged) against the sandbox hub's registry API.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { Registry } = require('azure-iothub');

const ready = JSON.parse(fs.readFileSync(process.env.ONBOARDER_SANDBOX_READY, 'utf8'));
const registry = Registry.fromConnectionString(ready.connectionString);
const unique = (prefix) => `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

test('create, get, update with ETag, delete a SAS device', async () => {
  const deviceId = unique('sdk-sas');
  const created = (await registry.create({ deviceId, status: 'enabled' })).responseBody;
  assert.equal(created.deviceId, deviceId);
  assert.equal(created.authentication.type, 'sas');
  assert.ok(Buffer.from(created.authentication.symmetricKey.primaryKey, 'base64').length >= 16, 'hub generates keys');

  const got = (await registry.get(deviceId)).responseBody;
  assert.equal(got.etag, created.etag);
  assert.equal(got.connectionState, 'Disconnected');

  got.status = 'disabled';
  const updated = (await registry.update(got)).responseBody;
  assert.equal(updated.status, 'disabled');
  assert.notEqual(updated.etag, created.etag);

  await registry.delete(deviceId);
  await assert.rejects(registry.get(deviceId), (err) => err.constructor.name === 'DeviceNotFoundError');
});

test('errors map to the SDK error classes', async () => {
  const deviceId = unique('sdk-errors');
  await registry.create({ deviceId });
  await assert.rejects(registry.create({ deviceId }), (err) => err.constructor.name === 'DeviceAlreadyExistsError');

  // Registry.update forces (If-Match: "*"); updateTwin sends the twin's ETag, so a stale one fails.
  const stale = (await registry.getTwin(deviceId)).responseBody;
  await registry.updateTwin(deviceId, { tags: { round: 1 } }, stale.etag);
  await assert.rejects(registry.updateTwin(deviceId, { tags: { round: 2 } }, stale.etag),
    (err) => err.response && err.response.statusCode === 412);

  await assert.rejects(registry.get(unique('missing')), (err) => err.constructor.name === 'DeviceNotFoundError');
  await registry.delete(deviceId);
});

test('a wrong key is refused', async () => {
  const wrong = ready.connectionString.replace(/SharedAccessKey=[^;]+/, 'SharedAccessKey=' + Buffer.alloc(32, 7).toString('base64'));
  const intruder = Registry.fromConnectionString(wrong);
  await assert.rejects(intruder.get('anything'), (err) => err.constructor.name === 'UnauthorizedError');
});

test('self-signed X.509 device: thumbprints kept', async () => {
  const deviceId = unique('sdk-x509');
  const primary = 'A'.repeat(40);
  const secondary = 'B'.repeat(64);
  const created = (await registry.create({
    deviceId,
    authentication: { x509Thumbprint: { primaryThumbprint: primary, secondaryThumbprint: secondary } },
  })).responseBody;
  assert.equal(created.authentication.type, 'selfSigned');
  assert.equal(created.authentication.x509Thumbprint.primaryThumbprint, primary);
  await registry.delete(deviceId);
});

test('bulk add and remove', async () => {
  const ids = [unique('bulk-a'), unique('bulk-b'), unique('bulk-c')];
  const added = (await registry.addDevices(ids.map((deviceId) => ({ deviceId })))).responseBody;
  assert.equal(added.isSuccessful, true, JSON.stringify(added));
  for (const id of ids) assert.equal((await registry.get(id)).responseBody.deviceId, id);
  const removed = (await registry.removeDevices(ids.map((deviceId) => ({ deviceId })), true)).responseBody;
  assert.equal(removed.isSuccessful, true, JSON.stringify(removed));
  await assert.rejects(registry.get(ids[0]), (err) => err.constructor.name === 'DeviceNotFoundError');
});

test('twin: tags and desired properties, then a query finds the device by tag', async () => {
  const deviceId = unique('sdk-twin');
  await registry.create({ deviceId });
  const twin = (await registry.getTwin(deviceId)).responseBody;
  assert.equal(twin.deviceId, deviceId);
  await twin.update({ tags: { site: 'bench-7' }, properties: { desired: { interval: 30 } } });
  // The SDK copies the hub's answer into the twin object.
  assert.equal(twin.tags.site, 'bench-7');
  assert.equal(twin.properties.desired.interval, 30);
  assert.equal(twin.properties.desired.$version, 2);
  const reread = (await registry.getTwin(deviceId)).responseBody;
  assert.equal(reread.properties.desired.interval, 30);
  assert.equal(reread.etag, twin.etag);

  const query = registry.createQuery(`SELECT * FROM devices WHERE tags.site = 'bench-7' AND deviceId = '${deviceId}'`, 10);
  const page = await query.nextAsTwin();
  assert.deepEqual(page.result.map((t) => t.deviceId), [deviceId]);
  assert.equal(query.hasMoreResults, false);
  await registry.delete(deviceId);
});

test('query pages follow the continuation token', async () => {
  const ids = [];
  for (let i = 0; i < 5; ++i) ids.push(unique(`page-${i}`));
  await registry.addDevices(ids.map((deviceId) => ({ deviceId })));
  const seen = [];
  const query = registry.createQuery("SELECT * FROM devices WHERE STARTSWITH(deviceId, 'page-')", 2);
  let pages = 0;
  while (query.hasMoreResults) {
    const page = await query.nextAsTwin();
    seen.push(...page.result.map((t) => t.deviceId));
    pages += 1;
  }
  assert.ok(pages >= 3, `expected at least 3 pages of 2, got ${pages}`);
  for (const id of ids) assert.ok(seen.includes(id), `${id} missing from the pages`);
  await registry.removeDevices(ids.map((deviceId) => ({ deviceId })), true);
});

test('registry statistics count devices', async () => {
  const before = (await registry.getRegistryStatistics()).responseBody;
  const deviceId = unique('stats');
  await registry.create({ deviceId, status: 'disabled' });
  const after = (await registry.getRegistryStatistics()).responseBody;
  assert.equal(after.totalDeviceCount, before.totalDeviceCount + 1);
  assert.equal(after.disabledDeviceCount, before.disabledDeviceCount + 1);
  await registry.delete(deviceId);
});
