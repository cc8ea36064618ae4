// Jobs and configurations: azure-iothub's JobClient (unchanged) schedules twin updates and direct methods on the
// devices a query condition selects; the sandbox runs them on devices that azure-iot-device (unchanged) connects over
// MQTT; the job's statistics and each device's record (SELECT * FROM devices.jobs) say what happened. Registry's
// configuration calls (unchanged) write configurations whose metrics the sandbox counts. onboarder-cli's job and
// configuration verbs do the same through Onboarder's own client.
'use strict';

const test = require('node:test');
const { closeTracker } = require('./closing');
const { onboarderCliFor } = require('./onboarder-cli');
const assert = require('node:assert/strict');
const fs = require('node:fs');
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

const onboarderCli = onboarderCliFor(ready);

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

test('onboarder-cli job create --wait follows a direct method job; job show --devices, list and cancel', { timeout: 90000 }, async () => {
  const batch = unique('cli-batch');
  const [online, offline] = await taggedDevices('cli-job-method', 2, batch);
  const client = await connected(online);
  client.onDeviceMethod('blink', (request, response) => {
    response.send(202, { blinked: request.payload.times }, () => {});
  });
  await answering(online.deviceId, 'blink');

  const jobId = unique('cli-method-job');
  const created = await onboarderCli([
    `"$CLI" --hub sb job create ${jobId} --query "tags.batch = '${batch}'" --method blink --payload '{"times":3}' --timeout 10 --wait`,
  ]);
  assert.match(created.stderr, new RegExp(`job ${jobId}: completed, 2 of 2 devices done, 1 failed`));
  assert.match(created.stdout, /Status\s+completed/);
  assert.match(created.stdout, /1 of 2 devices failed; job show .* --devices says why\./);

  const shown = JSON.parse((await onboarderCli([`"$CLI" --json --hub sb job show ${jobId} --devices`])).stdout);
  assert.equal(shown.job.jobId, jobId);
  assert.equal(shown.job.deviceJobStatistics.succeededCount, 1);
  const byDevice = Object.fromEntries(shown.devices.map((r) => [r.deviceId, r]));
  assert.deepEqual(byDevice[online.deviceId].outcome.deviceMethodResponse, { status: 202, payload: { blinked: 3 } });
  assert.equal(byDevice[offline.deviceId].error.code, 'DeviceNotOnline');
  const table = (await onboarderCli([`"$CLI" --hub sb job show ${jobId} --devices`])).stdout;
  assert.match(table, new RegExp(`${online.deviceId}\\s+completed\\s+answered 202: \\{"blinked":3\\}`));
  assert.match(table, new RegExp(`${offline.deviceId}\\s+failed\\s+DeviceNotOnline: `));

  // A twin update scheduled for tomorrow, listed, then cancelled before it touched a twin.
  const laterId = unique('cli-later-job');
  const tomorrow = new Date(Date.now() + 86400 * 1000).toISOString();
  const later = JSON.parse((await onboarderCli([
    `"$CLI" --json --hub sb job create ${laterId} --query "tags.batch = '${batch}'" --twin '{"tags":{"ring":"beta"}}' --start ${tomorrow}`,
  ])).stdout);
  assert.equal(later.status, 'scheduled');
  const listed = JSON.parse((await onboarderCli([`"$CLI" --json --hub sb job list --status scheduled`])).stdout);
  assert.ok(listed.some((job) => job.jobId === laterId));
  assert.ok(listed.every((job) => job.status === 'scheduled'));
  const cancelled = await onboarderCli([`"$CLI" --hub sb job cancel ${laterId}`]);
  assert.match(cancelled.stdout, new RegExp(`Cancelled job ${laterId}: 0 of 0 devices were done\\.`));
  assert.equal((await jobs.getJob(laterId)).jobStatus.status, 'cancelled');
  assert.equal((await registry.getTwin(online.deviceId)).responseBody.tags.ring, undefined);

  // Refusals, each with its exit code: an unknown job (3), a taken id (4), a condition the hub cannot read (2).
  const exitOf = (command) => onboarderCli([`set +e; ${command} 2>&1; echo "exit=$?"`]).then((r) => r.stdout);
  assert.match(await exitOf(`"$CLI" --hub sb job show ${unique('nothing')}`), /error: The hub has no job "nothing-[^"]+"\.\nexit=3/);
  assert.match(await exitOf(`"$CLI" --hub sb job create ${laterId} --query "tags.x = 1" --method m`),
    new RegExp(`error: The hub has a job "${laterId}" already; choose another id\\.\\nexit=4`));
  assert.match(await exitOf(`"$CLI" --hub sb job create ${unique('bad')} --query "tags.x = = 1" --method m`), /exit=2$/m);
  assert.match(await exitOf(`"$CLI" --hub sb job create it\\'s --query "tags.x = 1" --method m`), /The job ID contains .* position 3.*\nexit=2/);
});

test('Registry configurations: add, get with metrics, list, update, remove; onboarder-cli configuration list and show', { timeout: 60000 }, async () => {
  const batch = unique('config-batch');
  const [first, second] = await taggedDevices('sdk-config', 2, batch);
  const client = await connected(first);
  const twin = await client.getTwin();
  await new Promise((resolve, reject) => twin.properties.reported.update({ telemetry: { interval: 60 } },
    (err) => (err ? reject(err) : resolve())));

  const id = unique('telemetry-config').toLowerCase();
  const added = (await registry.addConfiguration({
    id,
    labels: { ring: 'pilot' },
    content: { deviceContent: { 'properties.desired.telemetry': { interval: 60 } } },
    targetCondition: `tags.batch = '${batch}'`,
    priority: 10,
    metrics: { queries: { reporting: 'SELECT deviceId FROM devices WHERE properties.reported.telemetry.interval = 60' } },
  })).responseBody;
  assert.equal(added.id, id);
  assert.equal(added.schemaVersion, '1.0');
  assert.ok(added.etag);
  await assert.rejects(registry.addConfiguration({ id, targetCondition: 'tags.x = 1' }), (err) => statusOf(err) === 409);

  let got = (await registry.getConfiguration(id)).responseBody;
  assert.deepEqual(got.systemMetrics.results, { targetedCount: 2, appliedCount: 2 });
  assert.equal(got.metrics.results.reporting, 1);
  for (const { deviceId } of [first, second])
    assert.deepEqual((await registry.getTwin(deviceId)).responseBody.properties.desired.telemetry, { interval: 60 });

  // A configuration of higher priority on one of the devices takes it over.
  const over = unique('override-config').toLowerCase();
  await registry.addConfiguration({ id: over, targetCondition: `deviceId = '${second.deviceId}'`, priority: 20,
    content: { deviceContent: { 'properties.desired.telemetry': { interval: 5 } } } });
  got = (await registry.getConfiguration(id)).responseBody;
  assert.deepEqual(got.systemMetrics.results, { targetedCount: 2, appliedCount: 1 });
  assert.deepEqual((await registry.getTwin(second.deviceId)).responseBody.properties.desired.telemetry, { interval: 5 });
  const all = (await registry.getConfigurations()).responseBody;
  assert.ok(all.some((c) => c.id === id) && all.some((c) => c.id === over));

  const cliList = await onboarderCli([`"$CLI" --hub sb configuration list`]);
  assert.match(cliList.stdout, new RegExp(`${id}\\s+10\\s+2\\s+1\\s+tags.batch = '${batch}'`));
  const cliShow = await onboarderCli([`"$CLI" --hub sb configuration show ${id}`]);
  assert.match(cliShow.stdout, /Labels\s+ring=pilot/);
  assert.match(cliShow.stdout, /Sets\s+properties.desired.telemetry/);
  assert.match(cliShow.stdout, /appliedCount\s+1\s+system/);
  assert.match(cliShow.stdout, /reporting\s+1\s+SELECT deviceId FROM devices WHERE properties.reported.telemetry.interval = 60/);
  const shownJson = JSON.parse((await onboarderCli([`"$CLI" --json --hub sb configuration show ${id}`])).stdout);
  assert.equal(shownJson.metrics.results.reporting, 1);

  // Updates need the ETag (or force); a stale one is refused.
  got.priority = 30;
  const updated = (await registry.updateConfiguration(got)).responseBody;
  assert.equal(updated.priority, 30);
  assert.notEqual(updated.etag, got.etag);
  await assert.rejects(registry.updateConfiguration(got), (err) => statusOf(err) === 412);
  assert.deepEqual((await registry.getConfiguration(id)).responseBody.systemMetrics.results, { targetedCount: 2, appliedCount: 2 });

  await registry.removeConfiguration(over);
  await registry.removeConfiguration(id);
  await assert.rejects(registry.getConfiguration(id), (err) => statusOf(err) === 404);
  const exitOf = (command) => onboarderCli([`set +e; ${command} 2>&1; echo "exit=$?"`]).then((r) => r.stdout);
  assert.match(await exitOf(`"$CLI" --hub sb configuration show ${id}`),
    new RegExp(`error: The hub has no configuration "${id}"\\.\\nexit=3`));
});

test('a job past its maxExecutionTimeInSeconds fails with the devices it did not finish; --connect-timeout waits for an offline device', { timeout: 60000 }, async () => {
  const batch = unique('slow-batch');
  const [silent] = await taggedDevices('sdk-job-slow', 1, batch);
  await connected(silent); // connected, but nothing answers the method "hang"
  const jobId = unique('slow-job');
  await jobs.scheduleDeviceMethod(jobId, `tags.batch = '${batch}'`, { methodName: 'hang', responseTimeoutInSeconds: 60 },
    new Date(), 2);
  const job = await finished(jobId);
  assert.equal(job.status, 'failed');
  assert.match(job.failureReason, /maxExecutionTimeInSeconds \(2\)/);
  assert.equal(job.deviceJobStatistics.failedCount, 1);
  const [record] = await deviceJobRecords(jobId);
  assert.equal(record.status, 'failed');
  assert.equal(record.error.code, 'JobTimedOut');
  // onboarder-cli --json --wait on such a job: one JSON document on stdout, the error, and exit 4.
  const failedRun = await onboarderCli([`set +e; "$CLI" --json --hub sb job create ${unique('short-job')} `
    + `--query "tags.batch = '${batch}'" --method hang --timeout 60 --max-time 1 --wait; echo "exit=$?" >&2`]);
  const failure = JSON.parse(failedRun.stdout);
  assert.equal(failure.error.code, 'JobFailed');
  assert.match(failure.error.message, /maxExecutionTimeInSeconds \(1\)/);
  assert.match(failedRun.stderr, /exit=4/);

  // The hub waits --connect-timeout seconds for a device that is not connected before it gives up on it.
  const offlineBatch = unique('offline-batch');
  await taggedDevices('cli-job-offline', 1, offlineBatch);
  const patientId = unique('patient-job');
  const waited = await onboarderCli([
    `"$CLI" --hub sb job create ${patientId} --query "tags.batch = '${offlineBatch}'" --method wake --connect-timeout 3 --wait`,
  ]);
  const [late] = (await deviceJobRecords(patientId));
  assert.equal(late.error.code, 'DeviceNotOnline');
  const waitedMs = new Date(late.endTimeUtc) - new Date(late.startTimeUtc);
  assert.ok(waitedMs >= 3000, `the hub gave up on the device after ${waitedMs} ms`);
  assert.match(waited.stderr, /completed, 1 of 1 devices done, 1 failed/);
});
