// Jobs: azure-iothub's JobClient (unchanged) schedules twin updates and direct methods on the devices a query
// condition selects; the sandbox runs them on devices that azure-iot-device (unchanged) connects over MQTT; the
// job's statistics and each device's record (SELECT * FROM devices.jobs) say what happened. onboarder-cli's job
// verbs do the same through Onboarder's own client.
'use strict';

const test = require('node:test');
const { closeTracker } = require('./closing');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const { Registry, JobClient, Client: ServiceClient } = require('azure-iothub');
const { Client } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');

const ready = JSON.parse(fs.readFileSync(process.env.ONBOARDER_SANDBOX_READY, 'utf8'));
const registry = Registry.fromConnectionString(ready.connectionString);
const jobs = JobClient.fromConnectionString(ready.connectionString);
const service = ServiceClient.fromConnectionString(ready.connectionString);
const hubHost = /HostName=([^;]+)/.exec(ready.connectionString)[1];
const unique = (prefix) => `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const track = closeTracker(test);
const statusOf = (err) => err.response && err.response.statusCode;

async function waitUntil(condition, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    assert.ok(Date.now() < deadline, `not within ${timeoutMs} ms: ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Devices with a tag that names this batch alone; deleted when the test ends.
async function taggedDevices(prefix, count, batch) {
  const devices = [];
  for (let i = 0; i < count; ++i) {
    const deviceId = unique(`${prefix}${i}`);
    const created = (await registry.create({ deviceId })).responseBody;
    track.deleteDeviceAtEnd(registry, deviceId);
    await registry.updateTwin(deviceId, { tags: { batch } }, '*');
    devices.push({ deviceId, key: created.authentication.symmetricKey.primaryKey });
  }
  return devices;
}

async function connected({ deviceId, key }) {
  const client = track(Client.fromConnectionString(`HostName=${hubHost};DeviceId=${deviceId};SharedAccessKey=${key}`, Mqtt));
  await client.open();
  return client;
}

// Until the SDK's method subscription is in place a call times out (504): call until it is answered.
async function answering(deviceId, methodName) {
  await waitUntil(async () => {
    try {
      await service.invokeDeviceMethod(deviceId, { methodName, payload: { probe: true }, responseTimeoutInSeconds: 5 });
      return true;
    } catch (err) {
      if (statusOf(err) !== 504) throw err;
      return false;
    }
  }, 30000);
}

const finished = (jobId) => waitUntil(async () => {
  const job = (await jobs.getJob(jobId)).jobStatus;
  return ['completed', 'failed', 'cancelled'].includes(job.status) ? job : null;
});

async function deviceJobRecords(jobId) {
  const query = registry.createQuery(`SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '${jobId}'`, 2);
  const records = [];
  // next() without an argument starts again from the first page: the SDK's promise form needs the token given.
  while (query.hasMoreResults) records.push(...(await query.next(query.continuationToken)).result);
  return records;
}

// Asynchronous: the devices this process runs must go on answering while onboarder-cli works.
async function onboarderCli(commands) {
  const cli = process.env.ONBOARDER_CLI;
  assert.ok(cli && fs.existsSync(cli), 'ONBOARDER_CLI names the onboarder-cli binary');
  const script = ['set -eu', 'printf \'%s\' "$HUB_CS" | "$CLI" hub add sb --ca "$CA" >&2', ...commands].join('\n');
  const env = { ...process.env, CLI: cli, HUB_CS: ready.connectionString, CA: ready.caFile };
  delete env.ONBOARDER_TEST_SESSION;
  const { stdout, stderr } = await promisify(execFile)(path.join(__dirname, '..', '..', 'scripts', 'test-session'),
    ['bash', '-c', script], { env, encoding: 'utf8', timeout: 60000 });
  return { stdout, stderr };
}

test('JobClient.scheduleTwinUpdate changes the twins of the devices the condition selects', { timeout: 60000 }, async () => {
  const batch = unique('twin-batch');
  const devices = await taggedDevices('sdk-job-twin', 3, batch);
  const [outsider] = await taggedDevices('sdk-job-outsider', 1, unique('other-batch'));
  const client = await connected(devices[0]);
  const twin = await client.getTwin();
  let patchSeen = null;
  let probeSeen = false;
  twin.on('properties.desired', (patch) => {
    if (patch.probe !== undefined) probeSeen = true;
    if (patch.interval === 45) patchSeen = patch;
  });
  // The SDK subscribes to desired properties in the background: change them until a change arrives.
  let attempt = 0;
  await waitUntil(async () => {
    await registry.updateTwin(devices[0].deviceId, { properties: { desired: { probe: ++attempt } } }, '*');
    await new Promise((resolve) => setTimeout(resolve, 200));
    return probeSeen;
  });

  const jobId = unique('twin-job');
  const scheduled = await jobs.scheduleTwinUpdate(jobId, `tags.batch = '${batch}'`,
    { etag: '*', tags: { firmware: 'v2' }, properties: { desired: { interval: 45 } } });
  assert.equal(scheduled.jobStatus.jobId, jobId);
  assert.equal(scheduled.jobStatus.type, 'scheduleUpdateTwin');
  assert.ok(['queued', 'scheduled', 'running', 'completed'].includes(scheduled.jobStatus.status), scheduled.jobStatus.status);

  const job = await finished(jobId);
  assert.equal(job.status, 'completed');
  assert.deepEqual(job.deviceJobStatistics,
    { deviceCount: 3, succeededCount: 3, failedCount: 0, runningCount: 0, pendingCount: 0 });
  for (const { deviceId } of devices) {
    const changed = (await registry.getTwin(deviceId)).responseBody;
    assert.equal(changed.tags.firmware, 'v2');
    assert.equal(changed.tags.batch, batch, 'a twin update merges: the other tags stay');
    assert.equal(changed.properties.desired.interval, 45);
  }
  const untouched = (await registry.getTwin(outsider.deviceId)).responseBody;
  assert.equal(untouched.tags.firmware, undefined);
  assert.equal(untouched.properties.desired.interval, undefined);
  // The connected device was told, as a twin update through the registry would tell it.
  await waitUntil(() => patchSeen);

  const records = await deviceJobRecords(jobId);
  assert.deepEqual(records.map((r) => r.deviceId).sort(), devices.map((d) => d.deviceId).sort());
  for (const record of records) {
    assert.equal(record.jobId, jobId);
    assert.equal(record.jobType, 'scheduleUpdateTwin');
    assert.equal(record.status, 'completed');
  }
});

test('JobClient.scheduleDeviceMethod calls the connected devices; one offline fails as not online', { timeout: 90000 }, async () => {
  const batch = unique('method-batch');
  const [online, offline] = await taggedDevices('sdk-job-method', 2, batch);
  const client = await connected(online);
  client.onDeviceMethod('reboot', (request, response) => {
    response.send(200, { rebooting: true, delay: request.payload && request.payload.delay }, () => {});
  });
  await answering(online.deviceId, 'reboot');

  const jobId = unique('method-job');
  const scheduled = await jobs.scheduleDeviceMethod(jobId, `tags.batch = '${batch}'`,
    { methodName: 'reboot', payload: { delay: 5 }, responseTimeoutInSeconds: 10 });
  assert.equal(scheduled.jobStatus.type, 'scheduleDeviceMethod');
  assert.equal(scheduled.jobStatus.cloudToDeviceMethod.methodName, 'reboot');

  const job = await finished(jobId);
  assert.equal(job.status, 'completed');
  assert.equal(job.deviceJobStatistics.deviceCount, 2);
  assert.equal(job.deviceJobStatistics.succeededCount, 1);
  assert.equal(job.deviceJobStatistics.failedCount, 1);

  const records = Object.fromEntries((await deviceJobRecords(jobId)).map((r) => [r.deviceId, r]));
  assert.equal(records[online.deviceId].status, 'completed');
  assert.deepEqual(records[online.deviceId].outcome.deviceMethodResponse, { status: 200, payload: { rebooting: true, delay: 5 } });
  assert.equal(records[offline.deviceId].status, 'failed');
  assert.equal(records[offline.deviceId].error.code, 'DeviceNotOnline');
});

test('a job scheduled for later can be cancelled; jobs are listed by type and status; unknown and duplicate ids are refused', { timeout: 30000 }, async () => {
  const batch = unique('later-batch');
  await taggedDevices('sdk-job-later', 1, batch);
  const jobId = unique('later-job');
  const later = new Date(Date.now() + 3600 * 1000);
  const scheduled = await jobs.scheduleTwinUpdate(jobId, `tags.batch = '${batch}'`,
    { tags: { late: true } }, later, 600);
  assert.equal(scheduled.jobStatus.status, 'scheduled');
  assert.equal(scheduled.jobStatus.maxExecutionTimeInSeconds, 600);
  assert.equal(new Date(scheduled.jobStatus.startTime).getTime(), later.getTime());

  await assert.rejects(jobs.scheduleTwinUpdate(jobId, `tags.batch = '${batch}'`, { tags: { again: 1 } }),
    (err) => statusOf(err) === 409);
  await assert.rejects(jobs.getJob(unique('no-such-job')), (err) => statusOf(err) === 404);
  await assert.rejects(jobs.scheduleTwinUpdate(unique('bad-job'), 'tags.batch = = 1', { tags: { x: 1 } }),
    (err) => statusOf(err) === 400);

  const cancelled = (await jobs.cancelJob(jobId)).jobStatus;
  assert.equal(cancelled.status, 'cancelled');
  assert.equal((await jobs.getJob(jobId)).jobStatus.status, 'cancelled');

  const query = jobs.createQuery('scheduleUpdateTwin', 'cancelled', 5);
  const listed = [];
  while (query.hasMoreResults) listed.push(...(await query.next(query.continuationToken)).result);
  assert.ok(listed.some((job) => job.jobId === jobId), 'the cancelled job is listed');
  assert.ok(listed.every((job) => job.type === 'scheduleUpdateTwin' && job.status === 'cancelled'));
});
