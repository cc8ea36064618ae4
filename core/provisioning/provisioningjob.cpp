#include "provisioningjob.h"

#include "common/logging.h"
#include "common/promise.h"
#include "credentials/certificate.h"
#include "credentials/credentialstore.h"
#include "modem/modemcredentialstore.h"
#include "modem/modemcsr.h"
#include "provisioning/auditlog.h"
#include "provisioning/modemkeyledger.h"

#include <QCoreApplication>
#include <QHostInfo>
#include <QJsonArray>

#include <pwd.h>
#include <unistd.h>

namespace Onboarder {

using Step = ProvisioningStep;

// ─── ProvisioningStep ────────────────────────────────────────────────────────────────────────────────

QList<Step::Id> ProvisioningStep::all()
{
    return {Id::Connect, Id::Identity, Id::DeviceId, Id::HubLookup, Id::Credentials,
            Id::Register, Id::TwinTags, Id::Flash, Id::Verify, Id::Record};
}

QString ProvisioningStep::idName(Id id)
{
    switch (id) {
    case Id::Connect: return QStringLiteral("connect");
    case Id::Identity: return QStringLiteral("identity");
    case Id::DeviceId: return QStringLiteral("deviceId");
    case Id::HubLookup: return QStringLiteral("hubLookup");
    case Id::Credentials: return QStringLiteral("credentials");
    case Id::Register: return QStringLiteral("register");
    case Id::TwinTags: return QStringLiteral("twinTags");
    case Id::Flash: return QStringLiteral("flash");
    case Id::Verify: return QStringLiteral("verify");
    case Id::Record: return QStringLiteral("record");
    }
    return {};
}

QString ProvisioningStep::title(Id id)
{
    switch (id) {
    case Id::Connect: return ProvisioningJob::tr("Connect to the modem");
    case Id::Identity: return ProvisioningJob::tr("Read IMEI, model and firmware");
    case Id::DeviceId: return ProvisioningJob::tr("Device id");
    case Id::HubLookup: return ProvisioningJob::tr("Look the device up in the hub");
    case Id::Credentials: return ProvisioningJob::tr("Key and certificate");
    case Id::Register: return ProvisioningJob::tr("Register in the hub");
    case Id::TwinTags: return ProvisioningJob::tr("Twin tags");
    case Id::Flash: return ProvisioningJob::tr("Flash root CAs, certificate and key");
    case Id::Verify: return ProvisioningJob::tr("Verify modem and hub");
    case Id::Record: return ProvisioningJob::tr("Audit record");
    }
    return {};
}

QString ProvisioningStep::stateName(State state)
{
    switch (state) {
    case State::Pending: return QStringLiteral("pending");
    case State::Running: return QStringLiteral("running");
    case State::Done: return QStringLiteral("done");
    case State::Skipped: return QStringLiteral("skipped");
    case State::Failed: return QStringLiteral("failed");
    case State::Cancelled: return QStringLiteral("cancelled");
    }
    return {};
}

// ─── ProvisioningReport ──────────────────────────────────────────────────────────────────────────────

QString ProvisioningReport::hubDeviceName(HubDevice state)
{
    switch (state) {
    case HubDevice::Unknown: return QStringLiteral("unknown");
    case HubDevice::Absent: return QStringLiteral("absent");
    case HubDevice::Created: return QStringLiteral("created");
    case HubDevice::Reused: return QStringLiteral("reused");
    case HubDevice::Updated: return QStringLiteral("updated");
    case HubDevice::Conflict: return QStringLiteral("conflict");
    }
    return {};
}

QStringList ProvisioningReport::stateSummary() const
{
    QStringList lines;
    const QString id = deviceId.isEmpty() ? ProvisioningJob::tr("(no device id yet)") : deviceId;
    switch (hubDevice) {
    case HubDevice::Unknown: lines << ProvisioningJob::tr("Hub: not asked; nothing was changed there."); break;
    case HubDevice::Absent: lines << ProvisioningJob::tr("Hub: no device \"%1\"; nothing was registered.").arg(id); break;
    case HubDevice::Created: lines << ProvisioningJob::tr("Hub: device \"%1\" was registered by this job and stays registered.").arg(id); break;
    case HubDevice::Reused: lines << ProvisioningJob::tr("Hub: device \"%1\" was registered already with these credentials.").arg(id); break;
    case HubDevice::Updated: lines << ProvisioningJob::tr("Hub: device \"%1\" now has the new credentials.").arg(id); break;
    case HubDevice::Conflict:
        lines << ProvisioningJob::tr("Hub: device \"%1\" exists with other credentials and was left alone.").arg(id);
        break;
    }
    if (!thumbprintSha256.isEmpty())
        lines << ProvisioningJob::tr("Credentials: certificate %1 (SHA-256 thumbprint)%2; private key %3.")
                     .arg(thumbprintSha256,
                          credentialsReused ? ProvisioningJob::tr(", kept from an earlier run") : QString(),
                          keyLocation == QStringLiteral("modem") ? ProvisioningJob::tr("in the modem only")
                                                                 : ProvisioningJob::tr("in the keychain"));
    else
        lines << ProvisioningJob::tr("Credentials: none made.");
    if (!flash) {
        lines << (modemKeyMade ? ProvisioningJob::tr("Modem: a new key was made in security tag %1; nothing was flashed.").arg(secTag)
                               : ProvisioningJob::tr("Modem: nothing was written."));
    } else {
        for (const FlashSlot &slot : flash->slots)
            lines << ProvisioningJob::tr("Modem: tag %1 type %2 (%3): %4.")
                         .arg(slot.tag)
                         .arg(slot.type)
                         .arg(slot.label, FlashSlot::stateName(slot.state));
        if (flash->previousMode >= 0 && !flash->modeRestored)
            lines << ProvisioningJob::tr("Modem: may still be offline (it was in functional mode %1).").arg(flash->previousMode);
    }
    return lines;
}

QJsonObject ProvisioningReport::toJson(const QString &operatorName, const QString &station) const
{
    QJsonArray stepList;
    for (const ProvisioningStep &step : steps)
        stepList.append(QJsonObject{{QStringLiteral("step"), ProvisioningStep::idName(step.id)},
                                    {QStringLiteral("state"), ProvisioningStep::stateName(step.state)},
                                    {QStringLiteral("detail"), step.detail},
                                    {QStringLiteral("ms"), step.elapsedMs}});
    QJsonObject json{{QStringLiteral("time"), (finishedAt.isValid() ? finishedAt : startedAt).toUTC().toString(Qt::ISODateWithMs)},
                     {QStringLiteral("operator"), operatorName},
                     {QStringLiteral("station"), station},
                     {QStringLiteral("port"), port},
                     {QStringLiteral("imei"), identity.imei},
                     {QStringLiteral("model"), identity.model},
                     {QStringLiteral("firmware"), identity.firmware},
                     {QStringLiteral("deviceId"), deviceId},
                     {QStringLiteral("hub"), hubName},
                     {QStringLiteral("hubHost"), hubHost},
                     {QStringLiteral("hubDevice"), hubDeviceName(hubDevice)},
                     {QStringLiteral("auth"), hubAuthType},
                     {QStringLiteral("keyBirth"), keyBirth},
                     {QStringLiteral("keyLocation"), keyLocation},
                     {QStringLiteral("thumbprint"), thumbprintSha256},
                     {QStringLiteral("thumbprintSha1"), thumbprintSha1},
                     {QStringLiteral("secTag"), qint64(secTag)},
                     {QStringLiteral("secondarySecTag"), secondarySecTag ? QJsonValue(qint64(*secondarySecTag)) : QJsonValue()},
                     {QStringLiteral("steps"), stepList},
                     {QStringLiteral("result"), ok() ? QStringLiteral("passed") : cancelled() ? QStringLiteral("cancelled") : QStringLiteral("failed")},
                     {QStringLiteral("durationMs"), startedAt.isValid() && finishedAt.isValid() ? startedAt.msecsTo(finishedAt) : 0}};
    if (flash) {
        QJsonArray slotList;
        for (const FlashSlot &slot : flash->slots)
            slotList.append(QJsonObject{{QStringLiteral("tag"), qint64(slot.tag)},
                                        {QStringLiteral("type"), slot.type},
                                        {QStringLiteral("content"), slot.label},
                                        {QStringLiteral("state"), FlashSlot::stateName(slot.state)},
                                        {QStringLiteral("sha256"), slot.modemSha256}});
        json.insert(QStringLiteral("modemSlots"), slotList);
    }
    if (failure) {
        json.insert(QStringLiteral("error"), QJsonObject{{QStringLiteral("code"), failure->code}, {QStringLiteral("message"), failure->message}});
        json.insert(QStringLiteral("state"), QJsonArray::fromStringList(stateSummary()));
    }
    return json;
}

// ─── ProvisioningJob ─────────────────────────────────────────────────────────────────────────────────

ProvisioningJob::ProvisioningJob(const ProvisioningProfile &profile, const QString &portPath, HubClient &hub,
                                 const HubProfile &hubProfile, CredentialStore &credentials, const ProvisioningOptions &options,
                                 QObject *parent)
    : QObject(parent)
    , m_profile(profile)
    , m_options(options)
    , m_hub(&hub)
    , m_credentials(credentials)
    , m_modem(new Nrf91Modem(this))
    , m_store(new ModemCredentialStore(*m_modem, this))
{
    if (m_options.operatorName.isEmpty())
        m_options.operatorName = defaultOperator();
    if (m_options.station.isEmpty())
        m_options.station = QHostInfo::localHostName();
    if (m_options.credentialHub.isEmpty())
        m_options.credentialHub = profile.hub;
    m_report.port = portPath;
    m_report.hubName = profile.hub;
    m_report.hubHost = hubProfile.hostName;
    m_report.hubAuthType = profile.hubAuthType();
    m_report.keyBirth = ProvisioningProfile::keyBirthName(profile.keyBirth);
    m_report.secTag = profile.secTag;
    m_report.secondarySecTag = profile.secondarySecTag;
    for (Step::Id id : Step::all())
        m_report.steps.append(Step{id, Step::State::Pending, {}, 0});
}

ProvisioningJob::~ProvisioningJob()
{
    m_keyPem.fill('\0');
    // As AzureFlashJob: a QPromise must not die inside a continuation of its own future (Qt 6.4).
    if (m_promise && QCoreApplication::instance())
        QMetaObject::invokeMethod(QCoreApplication::instance(), [promise = std::move(m_promise)] {}, Qt::QueuedConnection);
}

QString ProvisioningJob::defaultOperator()
{
    if (const passwd *entry = ::getpwuid(::getuid()); entry && entry->pw_name)
        return QString::fromLocal8Bit(entry->pw_name);
    return qEnvironmentVariable("USER");
}

QFuture<ProvisioningReport> ProvisioningJob::start()
{
    Q_ASSERT(!m_started);
    m_started = true;
    m_promise = std::make_shared<QPromise<ProvisioningReport>>();
    m_promise->start();
    m_report.startedAt = QDateTime::currentDateTimeUtc();
    if (!m_audit) {
        m_ownAudit = std::make_unique<AuditLog>(AuditLog::defaultDirectory());
        m_audit = m_ownAudit.get();
    }
    if (!m_ledger) {
        m_ownLedger = std::make_unique<ModemKeyLedger>(ModemKeyLedger::defaultPath());
        m_ledger = m_ownLedger.get();
    }
    const QFuture<ProvisioningReport> future = m_promise->future();
    if (auto valid = m_profile.validate(); !valid) {
        begin(Step::Id::Connect);
        failStep(valid.error());
        return future;
    }
    connectModem();
    return future;
}

void ProvisioningJob::cancel()
{
    if (!isRunning())
        return;
    m_cancelled = true;
    if (m_flashJob)
        m_flashJob->cancel(); // stops between writes, restores the functional mode, reports
}

int ProvisioningJob::stepIndex(Step::Id id) const
{
    return int(Step::all().indexOf(id));
}

void ProvisioningJob::begin(Step::Id id)
{
    m_current = stepIndex(id);
    Step &step = m_report.steps[m_current];
    step.state = Step::State::Running;
    step.detail.clear();
    m_stepTimer.start();
    qCInfo(lcProvisioning).noquote() << m_report.port << "step" << Step::idName(id);
    Q_EMIT stepChanged(m_current, step);
}

void ProvisioningJob::done(const QString &detail, Step::State state)
{
    Step &step = m_report.steps[m_current];
    step.state = state;
    step.detail = detail;
    step.elapsedMs = m_stepTimer.elapsed();
    Q_EMIT stepChanged(m_current, step);
}

void ProvisioningJob::failStep(const Error &error)
{
    m_report.failure = error;
    if (m_current >= 0) {
        Step &step = m_report.steps[m_current];
        step.state = error.kind == ErrorKind::Cancelled ? Step::State::Cancelled : Step::State::Failed;
        step.detail = error.message;
        step.elapsedMs = m_stepTimer.elapsed();
        Q_EMIT stepChanged(m_current, step);
    }
    qCWarning(lcProvisioning).noquote() << m_report.port << "failed:" << error.code;
    finish();
}

bool ProvisioningJob::stopIfCancelled()
{
    if (!m_cancelled)
        return false;
    failStep(Error{ErrorKind::Cancelled, QStringLiteral("Cancelled"), tr("Cancelled before this step.")});
    return true;
}

void ProvisioningJob::connectModem()
{
    begin(Step::Id::Connect);
    m_modem->open(m_report.port, m_options.serial).then(this, [this](Result<void> opened) {
        if (!opened)
            return failStep(opened.error());
        done(tr("%1 answers AT commands.").arg(m_report.port));
        readIdentity();
    });
}

void ProvisioningJob::readIdentity()
{
    if (stopIfCancelled())
        return;
    begin(Step::Id::Identity);
    m_modem->identity().then(this, [this](Result<ModemIdentity> identity) {
        if (!identity)
            return failStep(identity.error());
        m_report.identity = *identity;
        done(tr("IMEI %1, %2, firmware %3").arg(identity->imei, identity->model, identity->firmware));
        makeDeviceId();
    });
}

void ProvisioningJob::makeDeviceId()
{
    begin(Step::Id::DeviceId);
    const auto id = m_profile.deviceId(m_report.identity, m_options.usbSerial);
    if (!id)
        return failStep(id.error());
    m_report.deviceId = *id;
    done(*id);
    Q_EMIT identified(m_report.identity, *id);
    lookUp();
}

void ProvisioningJob::lookUp()
{
    if (stopIfCancelled())
        return;
    begin(Step::Id::HubLookup);
    if (!m_hub)
        return failStep({ErrorKind::Internal, QStringLiteral("HubGone"), tr("The hub connection was closed.")});
    m_hub->device(m_report.deviceId).then(this, [this](Result<DeviceIdentity> device) {
        if (!device && device.error().kind != ErrorKind::NotFound)
            return failStep(device.error());
        if (device) {
            m_existing = *device;
            done(tr("Registered already (%1, %2).").arg(device->authType, device->status));
        } else {
            m_report.hubDevice = ProvisioningReport::HubDevice::Absent;
            done(tr("Not registered yet."));
        }
        credentials();
    });
}

// Whether the hub's device takes the certificate this job holds.
Result<void> ProvisioningJob::hubMatches(const DeviceIdentity &device) const
{
    const auto mismatch = [&](const QString &why) {
        return fail(ErrorKind::Conflict, QStringLiteral("DeviceConflict"),
                    tr("The hub already has a device \"%1\" %2. Nothing was changed. Replace its credentials with the ones "
                       "made here, or give this modem another device id.")
                        .arg(device.id, why));
    };
    if (device.authType != m_report.hubAuthType)
        return mismatch(tr("with %1 authentication, not %2").arg(device.authType, m_report.hubAuthType));
    if (m_report.hubAuthType == QStringLiteral("selfSigned")) {
        const QStringList ours{m_report.thumbprintSha1.toUpper(), m_report.thumbprintSha256.toUpper()};
        if (!ours.contains(device.primaryThumbprint.toUpper()) && !ours.contains(device.secondaryThumbprint.toUpper()))
            return mismatch(tr("whose thumbprint %1 is not the certificate's kept here").arg(device.primaryThumbprint));
    }
    return {};
}

void ProvisioningJob::credentials()
{
    if (stopIfCancelled())
        return;
    begin(Step::Id::Credentials);
    // What the modem holds in the tag decides whether a key there can be used again.
    m_store->list(m_profile.secTag).then(this, [this](Result<QList<ModemCredential>> held) {
        if (!held)
            return failStep(held.error());
        reuseOrMake(*held);
    });
}

void ProvisioningJob::reuseOrMake(const QList<ModemCredential> &held)
{
    const QString hub = m_options.credentialHub;
    const QString id = m_report.deviceId;
    const auto record = m_credentials.record(hub, id);
    bool reusable = false;
    bool keyInModem = false;
    QString modemKeySha;
    if (record) {
        const bool caSigned = record->kind == CredentialRecord::Kind::X509CaSigned;
        const bool kindFits = (m_profile.auth == ProvisioningProfile::Auth::CaSigned) == caSigned
                              && (!caSigned || record->issuer == m_profile.caName);
        const auto certificate = m_credentials.certificate(hub, id);
        const bool valid = certificate && certificate->checkValidity().has_value();
        if (kindFits && valid) {
            if (record->keyLocation == CredentialRecord::KeyLocation::Keychain) {
                reusable = m_profile.keyBirth == ProvisioningProfile::KeyBirth::Pc;
            } else if (const auto entry = m_ledger->find(hub, id)) {
                const auto key = std::find_if(held.cbegin(), held.cend(), [this](const ModemCredential &c) {
                    return c.tag == m_profile.secTag && c.type == CredentialType::ClientKey;
                });
                reusable = entry->certificateSha256 == record->thumbprintSha256 && entry->secTag == m_profile.secTag
                           && key != held.cend() && !key->sha256.isEmpty() && key->sha256.compare(entry->keySha256, Qt::CaseInsensitive) == 0;
                keyInModem = true;
                modemKeySha = entry->keySha256;
            }
        }
    }
    if (reusable) {
        m_report.thumbprintSha1 = record->thumbprintSha1;
        m_report.thumbprintSha256 = record->thumbprintSha256;
        // An existing hub device that does not take these credentials is a conflict, decided before anything changes.
        if (m_existing) {
            if (auto matches = hubMatches(*m_existing); !matches && !m_options.replaceConflicting) {
                m_report.hubDevice = ProvisioningReport::HubDevice::Conflict;
                return failStep(matches.error());
            }
        }
        m_report.credentialsReused = true;
        return useCertificate(*record, keyInModem, modemKeySha);
    }
    if (m_existing && !m_options.replaceConflicting) {
        m_report.hubDevice = ProvisioningReport::HubDevice::Conflict;
        return failStep({ErrorKind::Conflict, QStringLiteral("DeviceConflict"),
                         tr("The hub already has a device \"%1\" (%2 authentication), but this computer holds no usable credential "
                            "for it. Nothing was changed. Replace its credentials with new ones made here, or give this modem "
                            "another device id.")
                             .arg(id, m_existing->authType)});
    }
    if (m_profile.keyBirth == ProvisioningProfile::KeyBirth::Modem)
        makeInModem();
    else
        makeOnPc();
}

void ProvisioningJob::makeOnPc()
{
    Q_EMIT detail(tr("Making an EC P-256 key and certificate"));
    CredentialStore::GenerateOptions options;
    options.keyType = KeyPair::Type::EcP256;
    options.validityDays = m_profile.validityDays;
    options.caName = m_profile.auth == ProvisioningProfile::Auth::CaSigned ? m_profile.caName : QString();
    options.replace = true; // only reached when the credential kept here (if any) cannot be used
    m_credentials.generate(m_options.credentialHub, m_report.deviceId, options).then(this, [this](Result<CredentialRecord> made) {
        if (!made)
            return failStep(made.error());
        useCertificate(*made, false, {});
    });
}

void ProvisioningJob::makeInModem()
{
    if (stopIfCancelled())
        return;
    Q_EMIT detail(tr("The modem makes its key (%KEYGEN)"));
    const QString hub = m_options.credentialHub;
    const QString id = m_report.deviceId;
    m_store->generateKey(m_profile.secTag, id)
        .then(this,
              [this, hub, id](Result<ModemCsr> csr) -> QFuture<Result<CredentialRecord>> {
                  if (!csr)
                      return failedFuture<CredentialRecord>(csr.error());
                  m_report.modemKeyMade = true;
                  Q_EMIT detail(tr("Signing the modem's request with CA \"%1\"").arg(m_profile.caName));
                  return m_credentials.signRequest(hub, id, m_profile.caName, csr->request(), m_profile.validityDays, true);
              })
        .unwrap()
        .then(this,
              [this](Result<CredentialRecord> signedRecord) {
                  if (!signedRecord)
                      return failStep(signedRecord.error());
                  // The key's hash as the modem lists it pairs it with the certificate for later runs.
                  m_store->list(m_profile.secTag, CredentialType::ClientKey)
                      .then(this, [this, record = *signedRecord](Result<QList<ModemCredential>> key) {
                          if (!key)
                              return failStep(key.error());
                          if (key->isEmpty() || key->first().sha256.isEmpty())
                              return failStep({ErrorKind::Device, QStringLiteral("ModemKeyUnlisted"),
                                               tr("The modem lists no hash for the key it made in security tag %1 (firmware before "
                                                  "1.3.2?); its key cannot be tracked.")
                                                   .arg(m_profile.secTag)});
                          const QString keySha = key->first().sha256;
                          if (auto put = m_ledger->put({record.hub, record.deviceId, m_report.identity.imei, m_profile.secTag, keySha,
                                                        record.thumbprintSha256, QDateTime::currentDateTimeUtc()});
                              !put)
                              return failStep(put.error());
                          useCertificate(record, true, keySha);
                      });
              });
}

void ProvisioningJob::useCertificate(const CredentialRecord &record, bool keyInModem, const QString &modemKeySha256)
{
    m_report.thumbprintSha1 = record.thumbprintSha1;
    m_report.thumbprintSha256 = record.thumbprintSha256;
    m_keyInModem = keyInModem;
    m_modemKeySha256 = modemKeySha256;
    m_report.keyLocation = keyInModem ? QStringLiteral("modem") : QStringLiteral("keychain");
    const auto certificate = m_credentials.certificate(m_options.credentialHub, m_report.deviceId);
    if (!certificate)
        return failStep(certificate.error());
    m_certificatePem = certificate->toPem();
    const QString what = m_report.credentialsReused ? tr("Kept from an earlier run") : tr("Made now");
    const QString where = keyInModem ? tr("key in the modem") : tr("key in the keychain");
    if (keyInModem) {
        done(tr("%1: certificate %2…, %3.").arg(what, record.thumbprintSha256.left(16), where));
        return registerDevice();
    }
    m_credentials.deviceCredential(m_options.credentialHub, m_report.deviceId).then(this, [this, what, where, record](Result<DeviceCredential> credential) {
        if (!credential)
            return failStep(credential.error());
        m_keyPem = credential->key.privateKeyPem();
        done(tr("%1: certificate %2…, %3.").arg(what, record.thumbprintSha256.left(16), where));
        registerDevice();
    });
}

void ProvisioningJob::registerDevice()
{
    if (stopIfCancelled())
        return;
    begin(Step::Id::Register);
    if (!m_hub)
        return failStep({ErrorKind::Internal, QStringLiteral("HubGone"), tr("The hub connection was closed.")});
    DeviceIdentity wanted = m_existing.value_or(DeviceIdentity{});
    wanted.id = m_report.deviceId;
    wanted.authType = m_report.hubAuthType;
    wanted.primaryKey.clear();
    wanted.secondaryKey.clear();
    if (wanted.authType == QStringLiteral("selfSigned")) {
        wanted.primaryThumbprint = m_report.thumbprintSha256;
        wanted.secondaryThumbprint = m_report.thumbprintSha1; // the same certificate, the other digest
    } else {
        wanted.primaryThumbprint.clear();
        wanted.secondaryThumbprint.clear();
    }
    if (m_existing) {
        if (hubMatches(*m_existing)) {
            m_report.hubDevice = ProvisioningReport::HubDevice::Reused;
            done(tr("Registered already with this certificate."), Step::State::Skipped);
            return setTwinTags();
        }
        // replaceConflicting (checked before the credentials were made)
        m_hub->updateDevice(wanted).then(this, [this](Result<DeviceIdentity> updated) {
            if (!updated)
                return failStep(updated.error());
            m_report.hubDevice = ProvisioningReport::HubDevice::Updated;
            done(tr("The existing device now has the new credentials."));
            setTwinTags();
        });
        return;
    }
    wanted.status = QStringLiteral("enabled");
    m_hub->createDevice(wanted).then(this, [this](Result<DeviceIdentity> created) {
        if (!created)
            return failStep(created.error());
        m_report.hubDevice = ProvisioningReport::HubDevice::Created;
        done(m_report.hubAuthType == QStringLiteral("selfSigned") ? tr("Registered with thumbprint %1…").arg(m_report.thumbprintSha256.left(16))
                                                                  : tr("Registered as signed by a CA."));
        setTwinTags();
    });
}

void ProvisioningJob::setTwinTags()
{
    if (stopIfCancelled())
        return;
    begin(Step::Id::TwinTags);
    if (m_profile.twinTags.isEmpty()) {
        done(tr("The profile sets none."), Step::State::Skipped);
        return flash();
    }
    m_hub->updateTwin(m_report.deviceId, QJsonObject{{QStringLiteral("tags"), m_profile.twinTags}})
        .then(this, [this](Result<QJsonObject> twin) {
            if (!twin)
                return failStep(twin.error());
            done(m_profile.twinTags.keys().join(QStringLiteral(", ")));
            flash();
        });
}

void ProvisioningJob::flash()
{
    if (stopIfCancelled())
        return;
    begin(Step::Id::Flash);
    AzureCredentialSet set;
    set.tag = m_profile.secTag;
    set.secondaryTag = m_profile.secondarySecTag;
    set.deviceCertificate = m_certificatePem;
    set.keyInModem = m_keyInModem;
    set.modemKeySha256 = m_modemKeySha256;
    set.deviceKey = m_keyPem;
    m_keyPem.fill('\0');
    m_keyPem.clear();
    m_flashJob = new AzureFlashJob(*m_modem, set, this);
    set.deviceKey.fill('\0');
    connect(m_flashJob, &AzureFlashJob::progress, this, [this](int step, int steps, const QString &text) {
        Q_EMIT detail(tr("%1 (%2/%3)").arg(text).arg(step).arg(steps));
    });
    m_flashJob->start().then(this, [this](const FlashReport &report) {
        m_report.flash = report;
        m_flashJob->deleteLater();
        if (!report.ok())
            return failStep(*report.failure);
        int written = 0;
        for (const FlashSlot &slot : report.slots)
            written += slot.state == FlashSlot::State::Flashed ? 1 : 0;
        done(tr("%1 credentials on the modem, each verified by SHA-256; functional mode %2 restored.")
                 .arg(written)
                 .arg(report.previousMode));
        verify();
    });
}

void ProvisioningJob::verify()
{
    if (stopIfCancelled())
        return;
    begin(Step::Id::Verify);
    // The modem again, from scratch: every slot of the plan must list the hash the flash verified.
    m_store->list().then(this, [this](Result<QList<ModemCredential>> held) {
        if (!held)
            return failStep(held.error());
        const auto sha = [&](quint32 tag, int type) {
            const auto found = std::find_if(held->cbegin(), held->cend(),
                                            [&](const ModemCredential &c) { return c.tag == tag && c.type == type; });
            return found == held->cend() ? QString() : found->sha256;
        };
        for (const FlashSlot &slot : m_report.flash->slots) {
            if (sha(slot.tag, slot.type).compare(slot.expectedSha256, Qt::CaseInsensitive) != 0)
                return failStep({ErrorKind::Device, QStringLiteral("VerifyFailed"),
                                 tr("The modem's %1 in security tag %2 is not what was flashed (SHA-256 %3, expected %4).")
                                     .arg(slot.label)
                                     .arg(slot.tag)
                                     .arg(sha(slot.tag, slot.type), slot.expectedSha256)});
        }
        // The hub: the device as it is now must take this certificate.
        m_hub->device(m_report.deviceId).then(this, [this](Result<DeviceIdentity> device) {
            if (!device)
                return failStep(device.error());
            if (device->status != QStringLiteral("enabled"))
                Q_EMIT detail(tr("Note: the device is %1 in the hub.").arg(device->status));
            if (auto matches = hubMatches(*device); !matches)
                return failStep({ErrorKind::Conflict, QStringLiteral("VerifyFailed"),
                                 tr("The hub's device \"%1\" does not take the certificate on the modem (%2).")
                                     .arg(device->id, device->authType)});
            done(tr("%1 hashes match on the modem; the hub takes certificate %2….")
                     .arg(m_report.flash->slots.size())
                     .arg(m_report.thumbprintSha256.left(16)));
            forgetPcKeyIfAsked();
        });
    });
}

void ProvisioningJob::forgetPcKeyIfAsked()
{
    if (m_keyInModem || m_profile.keyBirth != ProvisioningProfile::KeyBirth::Pc || m_profile.keepKeyOnPc)
        return record();
    // The key is on the modem and verified there; the profile wants it nowhere else. The ledger pairs the
    // modem's key with the certificate first, so that a later run can use it again.
    const FlashSlot *keySlot = nullptr;
    for (const FlashSlot &slot : m_report.flash->slots) {
        if (slot.type == CredentialType::ClientKey)
            keySlot = &slot;
    }
    if (!keySlot)
        return record();
    if (auto put = m_ledger->put({m_options.credentialHub, m_report.deviceId, m_report.identity.imei, m_profile.secTag,
                                  keySlot->modemSha256, m_report.thumbprintSha256, QDateTime::currentDateTimeUtc()});
        !put)
        return failStep(put.error());
    m_credentials.moveKeyToDevice(m_options.credentialHub, m_report.deviceId).then(this, [this](Result<CredentialRecord> moved) {
        if (!moved)
            return failStep(moved.error());
        m_report.keyLocation = QStringLiteral("modem");
        record();
    });
}

void ProvisioningJob::record()
{
    begin(Step::Id::Record);
    m_report.finishedAt = QDateTime::currentDateTimeUtc();
    done(m_audit->filePath());
    if (auto logged = m_audit->append(m_report.toJson(m_options.operatorName, m_options.station)); !logged) {
        m_report.finishedAt = {};
        return failStep(logged.error()); // logs the failed job (a second try, which says why)
    }
    deliver();
}

void ProvisioningJob::finish()
{
    m_report.finishedAt = QDateTime::currentDateTimeUtc();
    if (auto logged = m_audit->append(m_report.toJson(m_options.operatorName, m_options.station)); !logged)
        qCWarning(lcProvisioning).noquote() << "audit log:" << logged.error().message;
    deliver();
}

void ProvisioningJob::deliver()
{
    m_keyPem.fill('\0');
    m_keyPem.clear();
    m_modem->close();
    m_promise->addResult(m_report);
    m_promise->finish();
}

} // namespace Onboarder
