// The official Azure provisioning SDKs (unchanged) against the sandbox's Device Provisioning Service (--dps,
// on its own loopback address so that both it and the hub have 443 and 8883): the service SDK manages
// enrollments and groups; the device SDKs (MQTT and HTTPS) register X.509 and symmetric-key devices, which
// then reach their assigned hub with azure-iot-device-mqtt and send telemetry; refusals are DPS's. MQTT over
// WebSockets (MqttWs: wss://{host}:443/$iothub/websocket) reaches the DPS's HTTPS port, as on Azure.
'use strict';

const test = require('node:test');
const { closeTracker } = require('./closing');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const mqtt = require('mqtt');
const { Registry } = require('azure-iothub');
const { Client, Message } = require('azure-iot-device');
const { Mqtt: HubMqtt } = require('azure-iot-device-mqtt');
const { SharedAccessSignature } = require('azure-iot-common');
const { ProvisioningServiceClient } = require('azure-iot-provisioning-service');
const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { Mqtt: DpsMqtt, MqttWs: DpsMqttWs } = require('azure-iot-provisioning-device-mqtt');
const { Http: DpsHttp } = require('azure-iot-provisioning-device-http');
const { X509Security } = require('azure-iot-security-x509');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');

const ready = JSON.parse(fs.readFileSync(process.env.ONBOARDER_SANDBOX_READY, 'utf8'));
assert.ok(ready.dps, 'the sandbox was started without --dps');
const dps = ready.dps;
const service = ProvisioningServiceClient.fromConnectionString(dps.connectionString);
const registry = Registry.fromConnectionString(ready.connectionString);
const hubHost = /HostName=([^;]+)/.exec(ready.connectionString)[1];
const ownerKey = /SharedAccessKey=([^;]+)/.exec(ready.connectionString)[1];
const ca = fs.readFileSync(ready.caFile);
const unique = (prefix) => `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const transports = [['MQTT', DpsMqtt], ['MQTT over WebSockets', DpsMqttWs], ['HTTPS', DpsHttp]];
const slug = (name) => name.toLowerCase().replace(/[^a-z]+/g, '-');

// Certificates made with openssl for the test: self-signed devices, a CA and devices it signs.
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dps-interop-'));
test.after(() => fs.rmSync(work, { recursive: true, force: true }));
const read = (name) => fs.readFileSync(path.join(work, name), 'utf8');
function selfSigned(cn) {
  const name = crypto.randomUUID();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${cn}`, '-keyout', path.join(work, `${name}.key`), '-out', path.join(work, `${name}.pem`)], { stdio: 'ignore' });
  return { cert: read(`${name}.pem`), key: read(`${name}.key`) };
}
function makeCa(cn) {
  const name = crypto.randomUUID();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', path.join(work, `${name}.key`), '-out', path.join(work, `${name}.pem`)], { stdio: 'ignore' });
  return { cert: read(`${name}.pem`), key: read(`${name}.key`), certFile: path.join(work, `${name}.pem`), keyFile: path.join(work, `${name}.key`) };
}
function signedBy(authority, cn) {
  const name = crypto.randomUUID();
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${cn}`,
    '-keyout', path.join(work, `${name}.key`), '-out', path.join(work, `${name}.csr`)], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', path.join(work, `${name}.csr`), '-CA', authority.certFile, '-CAkey', authority.keyFile,
    '-set_serial', `0x${crypto.randomBytes(8).toString('hex')}`, '-days', '2', '-out', path.join(work, `${name}.pem`)], { stdio: 'ignore' });
  return { cert: read(`${name}.pem`), key: read(`${name}.key`) };
}
const sha1 = (pem) => new crypto.X509Certificate(pem).fingerprint.replace(/:/g, '');
const deriveKey = (groupKey, registrationId) =>
  crypto.createHmac('sha256', Buffer.from(groupKey, 'base64')).update(registrationId, 'utf8').digest('base64');

const track = closeTracker(test); // closed when the test ends

const once = (emitter, event) => new Promise((resolve, reject) => {
  emitter.once(event, (...args) => resolve(args));
  emitter.once('error', reject);
});

// The registered device reaches its assigned hub with azure-iot-device-mqtt and sends a message; the
// sandbox hub's consumer (the owner policy over MQTT 5, as in device.test.js) must receive it.
async function sendTelemetry(result, credential) {
  assert.equal(result.assignedHub, hubHost);
  const expiry = Math.floor(Date.now() / 1000) + 600;
  const token = SharedAccessSignature.create(hubHost, 'iothubowner', ownerKey, expiry).toString();
  const consumer = track(mqtt.connect(`mqtts://${hubHost}:8883`, {
    protocolVersion: 5, clientId: unique('consumer'), username: `${hubHost}/$sandbox/consumer`, password: token, ca,
  }));
  await once(consumer, 'connect');
  await new Promise((resolve, reject) =>
    consumer.subscribe(`$sandbox/telemetry/${result.deviceId}`, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  const received = once(consumer, 'message');
  let client;
  if (credential.sharedAccessKey) {
    client = track(Client.fromConnectionString(`HostName=${result.assignedHub};DeviceId=${result.deviceId};SharedAccessKey=${credential.sharedAccessKey}`, HubMqtt));
  } else {
    client = track(Client.fromConnectionString(`HostName=${result.assignedHub};DeviceId=${result.deviceId};x509=true`, HubMqtt));
    client.setOptions({ cert: credential.cert, key: credential.key });
  }
  await client.open();
  const body = JSON.stringify({ provisioned: result.deviceId });
  await client.sendEvent(new Message(body));
  const [topic, payload] = await received;
  assert.equal(topic, `$sandbox/telemetry/${result.deviceId}`);
  assert.equal(payload.toString(), body);
  await client.close();
}

// How a device SDK reports DPS's refusal: the status (MQTT: in the response topic; HTTPS: the response's)
// and DPS's error body.
function refusal(err) {
  const topicStatus = /\/res\/(\d+)\//.exec(err.transportObject?.topic ?? '');
  const status = err.response?.statusCode ?? (topicStatus ? Number(topicStatus[1]) : undefined);
  const body = err.responseBody ? JSON.parse(err.responseBody) : err.result;
  return { status, body };
}
const unauthorized = (err) => {
  const { status, body } = refusal(err);
  return status === 401 && body.errorCode === 401002 && typeof body.trackingId === 'string' && typeof body.timestampUtc === 'string';
};

const register = (Transport, security) =>
  ProvisioningDeviceClient.create(dps.host, dps.idScope, new Transport(), security).register();

test('the service SDK creates, reads, updates (ETag), queries and deletes individual enrollments', { timeout: 30000 }, async () => {
  const device = selfSigned('unused');
  const ids = [unique('svc-a'), unique('svc-b'), unique('svc-c')];
  const created = (await service.createOrUpdateIndividualEnrollment({
    registrationId: ids[0],
    deviceId: `${ids[0]}-device`,
    attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate: device.cert } } } },
    initialTwin: { tags: { site: 'bench' }, properties: { desired: { interval: 30 } } },
  })).responseBody;
  assert.equal(created.registrationId, ids[0]);
  assert.equal(created.deviceId, `${ids[0]}-device`);
  assert.equal(created.provisioningStatus, 'enabled');
  assert.equal(created.attestation.type, 'x509');
  assert.equal(created.attestation.x509.clientCertificates.primary.info.sha1Thumbprint, sha1(device.cert));
  assert.equal(created.attestation.x509.clientCertificates.primary.certificate, undefined, 'the certificate is not echoed');
  const stripZeros = (hex) => hex.replace(/^0+/, '');
  assert.equal(stripZeros(created.attestation.x509.clientCertificates.primary.info.serialNumber),
    stripZeros(new crypto.X509Certificate(device.cert).serialNumber));
  assert.ok(created.etag);
  for (const id of ids.slice(1)) await service.createOrUpdateIndividualEnrollment({ registrationId: id, attestation: { type: 'symmetricKey' } });

  const read = (await service.getIndividualEnrollment(ids[1])).responseBody;
  assert.equal(read.attestation.type, 'symmetricKey');
  assert.equal(Buffer.from(read.attestation.symmetricKey.primaryKey, 'base64').length, 64, 'a key is generated');
  assert.deepEqual((await service.getIndividualEnrollment(ids[0])).responseBody.initialTwin,
    { tags: { site: 'bench' }, properties: { desired: { interval: 30 } } });

  // An update with the current ETag passes and changes it; the stale one is refused.
  const updated = (await service.createOrUpdateIndividualEnrollment({ ...read, provisioningStatus: 'disabled' })).responseBody;
  assert.equal(updated.provisioningStatus, 'disabled');
  assert.notEqual(updated.etag, read.etag);
  await assert.rejects(service.createOrUpdateIndividualEnrollment({ ...read, provisioningStatus: 'enabled' }),
    (err) => err.response.statusCode === 412 && JSON.parse(err.responseBody).errorCode === 412002);

  // Paged query, two at a time: every enrollment of this test once, continuation tokens between pages.
  const query = service.createIndividualEnrollmentQuery({ query: '*' }, 2);
  const seen = [];
  let pages = 0;
  while (query.hasMoreResults) {
    // (the SDK's promise form of next() forgets the token it kept: it is passed back explicitly)
    const page = (await query.next(query.continuationToken)).responseBody;
    assert.ok(page.length <= 2);
    seen.push(...page.map((e) => e.registrationId));
    ++pages;
  }
  for (const id of ids) assert.equal(seen.filter((s) => s === id).length, 1, `${id} once in the query`);
  assert.ok(pages >= 2, 'more than one page');

  // Given back as read (the X.509 certificate by its info only, with the ETag): the certificate is kept.
  const x509Read = (await service.getIndividualEnrollment(ids[0])).responseBody;
  const x509Updated = (await service.createOrUpdateIndividualEnrollment({ ...x509Read, deviceId: `${ids[0]}-renamed` })).responseBody;
  assert.equal(x509Updated.deviceId, `${ids[0]}-renamed`);
  assert.deepEqual(x509Updated.attestation.x509.clientCertificates.primary.info, x509Read.attestation.x509.clientCertificates.primary.info);

  await assert.rejects(service.deleteIndividualEnrollment(ids[2], 'not-the-etag'), (err) => err.response.statusCode === 412);
  for (const id of ids) await service.deleteIndividualEnrollment(id);
  await assert.rejects(service.getIndividualEnrollment(ids[0]), (err) => err.response.statusCode === 404);
});

test('the service SDK runs bulk enrollment operations: create, a refused second create, delete', { timeout: 30000 }, async () => {
  // (the SDK's promise form of runBulkEnrollmentOperation never settles: its callback form is used)
  const bulk = (operation) => new Promise((resolve, reject) =>
    service.runBulkEnrollmentOperation(operation, (err, result) => (err ? reject(err) : resolve(result))));
  const enrollments = [unique('bulk-a'), unique('bulk-b')].map((registrationId) => ({ registrationId, attestation: { type: 'symmetricKey' } }));
  const created = await bulk({ mode: 'create', enrollments });
  assert.deepEqual(created, { isSuccessful: true, errors: [] });
  assert.equal((await service.getIndividualEnrollment(enrollments[1].registrationId)).responseBody.attestation.type, 'symmetricKey');
  const again = await bulk({ mode: 'create', enrollments });
  assert.equal(again.isSuccessful, false);
  assert.deepEqual(again.errors.map((e) => [e.registrationId, e.errorCode]), enrollments.map((e) => [e.registrationId, 409201]));
  assert.ok(again.errors.every((e) => /exists already/.test(e.errorStatus)));
  assert.equal((await bulk({ mode: 'delete', enrollments })).isSuccessful, true);
  await assert.rejects(service.getIndividualEnrollment(enrollments[0].registrationId), (err) => err.response.statusCode === 404);
});

test('the service SDK creates, reads, queries and deletes enrollment groups; TPM is refused as unsupported', { timeout: 30000 }, async () => {
  const authority = makeCa('Group CA');
  const x509Id = unique('grp-x509');
  const keyId = unique('grp-key');
  const x509Group = (await service.createOrUpdateEnrollmentGroup({
    enrollmentGroupId: x509Id,
    attestation: { type: 'x509', x509: { signingCertificates: { primary: { certificate: authority.cert } } } },
  })).responseBody;
  assert.equal(x509Group.enrollmentGroupId, x509Id);
  assert.equal(x509Group.attestation.x509.signingCertificates.primary.info.sha1Thumbprint, sha1(authority.cert));
  const keyGroup = (await service.createOrUpdateEnrollmentGroup({ enrollmentGroupId: keyId, attestation: { type: 'symmetricKey' } })).responseBody;
  assert.ok(keyGroup.attestation.symmetricKey.primaryKey);
  // (keys compared without printing them, should the assertion fail)
  assert.ok((await service.getEnrollmentGroup(keyId)).responseBody.attestation.symmetricKey.primaryKey ===
    keyGroup.attestation.symmetricKey.primaryKey, 'the group key reads back');

  const query = service.createEnrollmentGroupQuery({ query: '*' }, 1);
  const seen = [];
  while (query.hasMoreResults) seen.push(...(await query.next(query.continuationToken)).responseBody.map((g) => g.enrollmentGroupId));
  assert.ok(seen.includes(x509Id) && seen.includes(keyId));

  await assert.rejects(service.createOrUpdateIndividualEnrollment({
    registrationId: unique('tpm'), attestation: { type: 'tpm', tpm: { endorsementKey: 'AToAAQALAAMAsgAgg3GXZ0SEs/g' } },
  }), (err) => err.response.statusCode === 400 && /TPM attestation is not supported/.test(JSON.parse(err.responseBody).message));

  await service.deleteEnrollmentGroup(x509Id);
  await service.deleteEnrollmentGroup(keyId);
  await assert.rejects(service.getEnrollmentGroup(keyId), (err) => err.response.statusCode === 404);
});

for (const [transportName, Transport] of transports) {
  test(`an X.509 individual enrollment registers over ${transportName}, gets its initial twin and sends telemetry`, { timeout: 40000 }, async () => {
    const registrationId = unique(`x509-${slug(transportName)}`);
    const device = selfSigned(registrationId);
    await service.createOrUpdateIndividualEnrollment({
      registrationId,
      attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate: device.cert } } } },
      initialTwin: { tags: { line: transportName }, properties: { desired: { interval: 5 } } },
    });
    const result = await register(Transport, new X509Security(registrationId, device));
    assert.equal(result.status, 'assigned');
    assert.equal(result.deviceId, registrationId);

    const identity = (await registry.get(registrationId)).responseBody;
    assert.equal(identity.authentication.type, 'selfSigned');
    assert.equal(identity.authentication.x509Thumbprint.primaryThumbprint, sha1(device.cert));
    const twin = (await registry.getTwin(registrationId)).responseBody;
    assert.equal(twin.tags.line, transportName);
    assert.equal(twin.properties.desired.interval, 5);

    const state = (await service.getDeviceRegistrationState(registrationId)).responseBody;
    assert.equal(state.status, 'assigned');
    assert.equal(state.assignedHub, hubHost);
    const enrollment = (await service.getIndividualEnrollment(registrationId)).responseBody;
    assert.deepEqual(enrollment.registrationState, state, 'the enrollment shows its registration state');
    await sendTelemetry(result, device);
    await service.deleteIndividualEnrollment(registrationId);
    await registry.delete(registrationId);
  });

  test(`a device of an X.509 CA group registers over ${transportName} and sends telemetry; a stranger's certificate is refused`, { timeout: 40000 }, async () => {
    const authority = makeCa(`CA ${transportName}`);
    const groupId = unique('cagroup');
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: groupId,
      attestation: { type: 'x509', x509: { signingCertificates: { primary: { certificate: authority.cert } } } },
    });
    const registrationId = unique(`ca-${slug(transportName)}`);
    const device = signedBy(authority, registrationId);
    const result = await register(Transport, new X509Security(registrationId, device));
    assert.equal(result.status, 'assigned');
    assert.equal(result.deviceId, registrationId);
    assert.equal((await registry.get(registrationId)).responseBody.authentication.x509Thumbprint.primaryThumbprint, sha1(device.cert));
    const states = (await service.createEnrollmentGroupDeviceRegistrationStateQuery({ query: '*' }, groupId).next()).responseBody;
    assert.deepEqual(states.map((s) => s.registrationId), [registrationId]);
    await sendTelemetry(result, device);

    const strangerId = unique('stranger');
    const stranger = signedBy(makeCa('Another CA'), strangerId);
    await assert.rejects(register(Transport, new X509Security(strangerId, stranger)),
      unauthorized);
    await assert.rejects(registry.get(strangerId), (err) => err.response.statusCode === 404);
    await service.deleteEnrollmentGroup(groupId);
    await registry.delete(registrationId);
  });

  test(`a device of a symmetric-key group registers over ${transportName} with its derived key and sends telemetry`, { timeout: 40000 }, async () => {
    const groupId = unique('keygroup');
    const group = (await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: groupId, attestation: { type: 'symmetricKey' },
      initialTwin: { tags: { fleet: groupId }, properties: { desired: {} } },
    })).responseBody;
    const registrationId = unique(`sym-${slug(transportName)}`);
    const deviceKey = deriveKey(group.attestation.symmetricKey.primaryKey, registrationId);
    const result = await register(Transport, new SymmetricKeySecurityClient(registrationId, deviceKey));
    assert.equal(result.status, 'assigned');
    const identity = (await registry.get(result.deviceId)).responseBody;
    assert.equal(identity.authentication.type, 'sas');
    assert.ok(identity.authentication.symmetricKey.primaryKey === deviceKey, 'the hub device has the derived key');
    assert.equal((await registry.getTwin(result.deviceId)).responseBody.tags.fleet, groupId);
    await sendTelemetry(result, { sharedAccessKey: deviceKey });
    await service.deleteEnrollmentGroup(groupId);
    await registry.delete(result.deviceId);
  });

  test(`refusals over ${transportName}: not enrolled and wrong key are 401002, a disabled enrollment answers "disabled"`, { timeout: 40000 }, async () => {
    const stranger = unique('nobody');
    await assert.rejects(register(Transport, new SymmetricKeySecurityClient(stranger, crypto.randomBytes(32).toString('base64'))),
      unauthorized);

    const enrolled = unique('wrongkey');
    await service.createOrUpdateIndividualEnrollment({ registrationId: enrolled, attestation: { type: 'symmetricKey' } });
    await assert.rejects(register(Transport, new SymmetricKeySecurityClient(enrolled, crypto.randomBytes(64).toString('base64'))),
      unauthorized);

    const disabledId = unique('disabled');
    const disabled = (await service.createOrUpdateIndividualEnrollment({
      registrationId: disabledId, provisioningStatus: 'disabled', attestation: { type: 'symmetricKey' },
    })).responseBody;
    await assert.rejects(register(Transport, new SymmetricKeySecurityClient(disabledId, disabled.attestation.symmetricKey.primaryKey)),
      (err) => err.result && err.result.status === 'disabled' && err.result.registrationState.status === 'disabled');
    for (const id of [stranger, enrolled, disabledId])
      await assert.rejects(registry.get(id), (err) => err.response.statusCode === 404, `no hub device ${id}`);
    await service.deleteIndividualEnrollment(enrolled);
    await service.deleteIndividualEnrollment(disabledId);
  });
}

// Onboarder's own CLI against the same DPS, read back by the official service SDK: what `dps enrollment create`
// writes is an enrollment Azure's tools understand, and `dps register` proves it as a device would. The CLI runs in a
// private keychain session of its own (scripts/test-session) inside this network namespace.
test('onboarder-cli: enrollments it creates are read back by the service SDK; dps register succeeds, and says why a disabled one cannot', { timeout: 90000 }, () => {
  const cli = process.env.ONBOARDER_CLI;
  assert.ok(cli && fs.existsSync(cli), 'ONBOARDER_CLI names the onboarder-cli binary');
  const enabled = unique('cli-sym');
  const disabledId = unique('cli-off');
  const twinFile = path.join(work, 'twin.json');
  fs.writeFileSync(twinFile, JSON.stringify({ tags: { site: 'bench-7' }, properties: { desired: { interval: 30 } } }));
  const script = [
    'set -u',
    `printf '%s' "$DPS_CS" | "$CLI" dps add sbdps --id-scope "$SCOPE" --ca "$CA" --address ${dps.host} >&2`,
    `printf '%s' "$HUB_CS" | "$CLI" hub add sb --ca "$CA" >&2`,
    `"$CLI" dps enrollment create ${enabled} --auth symmetric-key --initial-twin "${twinFile}" >&2`,
    `"$CLI" dps enrollment create ${disabledId} --auth symmetric-key --disabled >&2`,
    `"$CLI" --json dps register ${enabled}`,
    `"$CLI" dps register ${disabledId} 2>&1; echo "exit=$?"`,
  ].join('\n');
  const env = { ...process.env, CLI: cli, DPS_CS: dps.connectionString, HUB_CS: ready.connectionString, SCOPE: dps.idScope, CA: ready.caFile };
  delete env.ONBOARDER_TEST_SESSION;
  const output = execFileSync(path.join(__dirname, '..', '..', 'scripts', 'test-session'), ['bash', '-c', script],
    { env, encoding: 'utf8', timeout: 80000 });
  const registered = JSON.parse(output.slice(0, output.indexOf('\n}') + 2)); // the --json document comes first
  assert.equal(registered.deviceId, enabled);
  assert.equal(registered.assignedHub, hubHost);
  assert.match(output, /disabled/);
  assert.match(output, /exit=5/);
  return (async () => {
    const read = (await service.getIndividualEnrollment(enabled)).responseBody;
    assert.equal(read.attestation.type, 'symmetricKey');
    assert.equal(read.provisioningStatus, 'enabled');
    assert.deepEqual(read.initialTwin.tags, { site: 'bench-7' });
    assert.equal(read.initialTwin.properties.desired.interval, 30);
    assert.equal((await service.getIndividualEnrollment(disabledId)).responseBody.provisioningStatus, 'disabled');
    assert.equal((await service.getDeviceRegistrationState(enabled)).responseBody.status, 'assigned');
    assert.equal((await registry.get(enabled)).responseBody.deviceId, enabled);
    await assert.rejects(registry.get(disabledId), (err) => err.response.statusCode === 404);
    await service.deleteIndividualEnrollment(enabled);
    await service.deleteIndividualEnrollment(disabledId);
    await registry.delete(enabled);
  })();
});
