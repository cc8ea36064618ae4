#include "provisioningjob.h"

#include "common/continuation.h"
#include "common/logging.h"
#include "common/promise.h"
#include "credentials/certificate.h"
#include "credentials/credentialstore.h"
#include "dps/dpsclient.h"
#include "dps/dpsenrollment.h"
#include "dps/dpsregistration.h"
#include "modem/modemcredentialstore.h"
#include "modem/modemcsr.h"
#include "provisioning/auditlog.h"
#include "provisioning/modemkeyledger.h"

#include <QCoreApplication>
#include <QFile>
#include <QHostInfo>
#include <QJsonArray>

#include <pwd.h>
#include <unistd.h>

namespace Onboarder {

using Step = ProvisioningStep;

// ─── ProvisioningStep ────────────────────────────────────────────────────────────────────────────────

QList<Step::Id> ProvisioningStep::all(ProvisioningProfile::Registration registration)
{
    if (registration == ProvisioningProfile::Registration::Dps)
        return {Id::Connect, Id::Identity, Id::DeviceId, Id::DpsLookup, Id::Credentials, Id::Enroll, Id::Flash,
            Id::Verify, Id::TestRegistration, Id::Record};
    return {Id::Connect, Id::Identity, Id::DeviceId, Id::HubLookup, Id::Credentials, Id::Register, Id::TwinTags,
        Id::Flash, Id::Verify, Id::Record};
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
    case Id::DpsLookup: return QStringLiteral("dpsLookup");
    case Id::Enroll: return QStringLiteral("enroll");
    case Id::TestRegistration: return QStringLiteral("testRegistration");
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
    case Id::DpsLookup: return ProvisioningJob::tr("Look the enrollment up in DPS");
    case Id::Enroll: return ProvisioningJob::tr("Enroll in DPS");
    case Id::TestRegistration: return ProvisioningJob::tr("Test registration through DPS");
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

QString ProvisioningReport::enrollmentName(Enrollment state)
{
    switch (state) {
    case Enrollment::Unknown: return QStringLiteral("unknown");
    case Enrollment::Absent: return QStringLiteral("absent");
    case Enrollment::Created: return QStringLiteral("created");
    case Enrollment::Reused: return QStringLiteral("reused");
    case Enrollment::Updated: return QStringLiteral("updated");
    case Enrollment::Conflict: return QStringLiteral("conflict");
    case Enrollment::Group: return QStringLiteral("group");
    }
    return {};
}

QStringList ProvisioningReport::stateSummary() const
{
    QStringList lines;
    const QString id = deviceId.isEmpty() ? ProvisioningJob::tr("(no device id yet)") : deviceId;
    if (throughDps()) {
        switch (enrollment) {
        case Enrollment::Unknown: lines << ProvisioningJob::tr("DPS: not asked; nothing was changed there."); break;
        case Enrollment::Absent:
            lines << ProvisioningJob::tr("DPS: no enrollment \"%1\"; nothing was enrolled.").arg(id);
            break;
        case Enrollment::Created:
            lines << ProvisioningJob::tr("DPS: enrollment \"%1\" was made by this job and stays.").arg(id);
            break;
        case Enrollment::Reused:
            lines << ProvisioningJob::tr("DPS: \"%1\" was enrolled already with these credentials.").arg(id);
            break;
        case Enrollment::Updated:
            lines << ProvisioningJob::tr("DPS: enrollment \"%1\" now has the new certificate.").arg(id);
            break;
        case Enrollment::Conflict:
            lines << ProvisioningJob::tr("DPS: enrollment \"%1\" exists with other credentials and was left alone.")
                         .arg(id);
            break;
        case Enrollment::Group:
            lines << ProvisioningJob::tr("DPS: \"%1\" belongs to enrollment group \"%2\"; nothing was changed there.")
                         .arg(id, enrollmentGroup);
            break;
        }
    }
    switch (hubDevice) {
    case HubDevice::Unknown:
        lines << (throughDps() ? ProvisioningJob::tr(
                      "Hub: DPS makes the device when it first registers; not registered from the bench.")
                               : ProvisioningJob::tr("Hub: not asked; nothing was changed there."));
        break;
    case HubDevice::Absent:
        lines << ProvisioningJob::tr("Hub: no device \"%1\"; nothing was registered.").arg(id);
        break;
    case HubDevice::Created:
        lines << ProvisioningJob::tr("Hub: device \"%1\" was registered by this job and stays registered.").arg(id);
        break;
    case HubDevice::Reused:
        lines << ProvisioningJob::tr("Hub: device \"%1\" was registered already with these credentials.").arg(id);
        break;
    case HubDevice::Updated:
        lines << ProvisioningJob::tr("Hub: device \"%1\" now has the new credentials.").arg(id);
        break;
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
        lines << (modemKeyMade
                ? ProvisioningJob::tr("Modem: a new key was made in security tag %1; nothing was flashed.").arg(secTag)
                : ProvisioningJob::tr("Modem: nothing was written."));
    } else {
        for (const FlashSlot &slot : flash->slots)
            lines << ProvisioningJob::tr("Modem: tag %1 type %2 (%3): %4.")
                         .arg(slot.tag)
                         .arg(slot.type)
                         .arg(slot.label, FlashSlot::stateName(slot.state));
        if (flash->previousMode >= 0 && !flash->modeRestored)
            lines << ProvisioningJob::tr("Modem: may still be offline (it was in functional mode %1).")
                         .arg(flash->previousMode);
    }
    return lines;
}

QJsonObject ProvisioningReport::toJson(const QString &operatorName, const QString &station) const
{
    QJsonArray stepList;
    for (const ProvisioningStep &step : steps)
        stepList.append(QJsonObject{{QStringLiteral("step"), ProvisioningStep::idName(step.id)},
            {QStringLiteral("state"), ProvisioningStep::stateName(step.state)}, {QStringLiteral("detail"), step.detail},
            {QStringLiteral("ms"), step.elapsedMs}});
    QJsonObject json{
        {QStringLiteral("time"), (finishedAt.isValid() ? finishedAt : startedAt).toUTC().toString(Qt::ISODateWithMs)},
        {QStringLiteral("operator"), operatorName}, {QStringLiteral("station"), station},
        {QStringLiteral("port"), port}, {QStringLiteral("imei"), identity.imei},
        {QStringLiteral("model"), identity.model}, {QStringLiteral("firmware"), identity.firmware},
        {QStringLiteral("deviceId"), deviceId}, {QStringLiteral("hub"), hubName}, {QStringLiteral("hubHost"), hubHost},
        {QStringLiteral("hubDevice"), hubDeviceName(hubDevice)}, {QStringLiteral("auth"), hubAuthType},
        {QStringLiteral("keyBirth"), keyBirth}, {QStringLiteral("keyLocation"), keyLocation},
        {QStringLiteral("thumbprint"), thumbprintSha256}, {QStringLiteral("thumbprintSha1"), thumbprintSha1},
        {QStringLiteral("secTag"), qint64(secTag)},
        {QStringLiteral("secondarySecTag"), secondarySecTag ? QJsonValue(qint64(*secondarySecTag)) : QJsonValue()},
        {QStringLiteral("steps"), stepList},
        {QStringLiteral("result"),
            ok()              ? QStringLiteral("passed")
                : cancelled() ? QStringLiteral("cancelled")
                              : QStringLiteral("failed")},
        {QStringLiteral("durationMs"),
            startedAt.isValid() && finishedAt.isValid() ? startedAt.msecsTo(finishedAt) : 0}};
    if (flash) {
        QJsonArray slotList;
        for (const FlashSlot &slot : flash->slots)
            slotList.append(QJsonObject{{QStringLiteral("tag"), qint64(slot.tag)}, {QStringLiteral("type"), slot.type},
                {QStringLiteral("content"), slot.label}, {QStringLiteral("state"), FlashSlot::stateName(slot.state)},
                {QStringLiteral("sha256"), slot.modemSha256}});
        json.insert(QStringLiteral("modemSlots"), slotList);
    }
    json.insert(QStringLiteral("registration"), throughDps() ? QStringLiteral("dps") : QStringLiteral("hub"));
    if (throughDps()) {
        json.insert(QStringLiteral("dps"), dpsName);
        json.insert(QStringLiteral("idScope"), idScope);
        json.insert(QStringLiteral("registrationId"), registrationId);
        json.insert(QStringLiteral("enrollmentKind"), enrollmentKind);
        if (!enrollmentGroup.isEmpty())
            json.insert(QStringLiteral("enrollmentGroup"), enrollmentGroup);
        json.insert(QStringLiteral("enrollment"), enrollmentName(enrollment));
        json.insert(QStringLiteral("assignedHub"), assignedHub);
    }
    if (failure) {
        json.insert(QStringLiteral("error"),
            QJsonObject{{QStringLiteral("code"), failure->code}, {QStringLiteral("message"), failure->message}});
        json.insert(QStringLiteral("state"), QJsonArray::fromStringList(stateSummary()));
    }
    if (modemCheck)
        json.insert(QStringLiteral("modemCheck"),
            QJsonObject{{QStringLiteral("verdict"), ModemCheckReport::verdictName(modemCheck->verdict)},
                {QStringLiteral("verdictText"), modemCheck->verdictText},
                {QStringLiteral("evidence"), QJsonArray::fromStringList(modemCheck->evidence)}});
    else if (!modemCheckError.isEmpty())
        json.insert(QStringLiteral("modemCheck"), QJsonObject{{QStringLiteral("error"), modemCheckError}});
    return json;
}

// ─── ProvisioningJob ─────────────────────────────────────────────────────────────────────────────────

ProvisioningJob::ProvisioningJob(const ProvisioningProfile &profile, const QString &portPath, HubClient &hub,
    const HubProfile &hubProfile, CredentialStore &credentials, const ProvisioningOptions &options, QObject *parent)
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
    if (profile.registration == ProvisioningProfile::Registration::Dps) {
        m_report.registration = QStringLiteral("dps");
        m_report.dpsName = profile.dps;
        m_report.enrollmentKind = ProvisioningProfile::enrollmentName(profile.enrollment);
        if (profile.enrollment == ProvisioningProfile::Enrollment::Group)
            m_report.enrollmentGroup = profile.enrollmentGroup;
        m_report.hubAuthType.clear(); // what DPS makes of it, known after a test registration
    }
    for (Step::Id id : Step::all(profile.registration))
        m_report.steps.append(Step{id, Step::State::Pending, {}, 0});
}

ProvisioningJob::~ProvisioningJob()
{
    // As AzureFlashJob: a QPromise must not die inside a continuation of its own future (Qt 6.4).
    if (m_promise && QCoreApplication::instance())
        QMetaObject::invokeMethod(
            QCoreApplication::instance(), [promise = std::move(m_promise)] {}, Qt::QueuedConnection);
}

void ProvisioningJob::setDps(DpsClient *client, const DpsProfile &profile)
{
    m_dps = client;
    m_dpsProfile = profile;
    m_report.idScope = profile.idScope;
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
    if (m_profile.registration == ProvisioningProfile::Registration::Dps
        && (!m_dps || m_dpsProfile.name != m_profile.dps)) {
        begin(Step::Id::Connect);
        failStep({ErrorKind::InvalidInput, QStringLiteral("NoDps"),
            tr("The profile provisions through DPS \"%1\", which is not known here (onboarder-cli dps add).")
                .arg(m_profile.dps)});
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
    if (m_registration)
        m_registration->cancel(); // finished() with Cancelled
    if (m_check)
        m_check->cancel(); // the job has passed; the report then says the check was cancelled
}

int ProvisioningJob::stepIndex(Step::Id id) const
{
    for (int i = 0; i < m_report.steps.size(); ++i) {
        if (m_report.steps.at(i).id == id)
            return i;
    }
    Q_ASSERT_X(false, "ProvisioningJob", "a step of the other path");
    return 0;
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
    if (m_report.throughDps()) {
        m_report.registrationId = *id;
        if (auto valid = registrationIdValid(); !valid)
            return failStep(valid.error());
        done(tr("%1 (also its registration id in DPS)").arg(*id));
        Q_EMIT identified(m_report.identity, *id);
        return lookUpEnrollment();
    }
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
    if (m_report.hubAuthType == QStringLiteral("selfSigned")
        && !device.holdsThumbprint(m_report.thumbprintSha1, m_report.thumbprintSha256))
        return mismatch(tr("whose thumbprint %1 is not the certificate's kept here").arg(device.primaryThumbprint));
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
        // Through an enrollment group: the group's CA must sign it, or DPS refuses the device.
        const bool valid = certificate && certificate->checkValidity().has_value()
            && (m_groupCa.isNull() || certificate->isSignedBy(m_groupCa));
        if (kindFits && valid) {
            if (record->keyLocation == CredentialRecord::KeyLocation::Keychain) {
                reusable = m_profile.keyBirth == ProvisioningProfile::KeyBirth::Pc;
            } else if (const auto entry = m_ledger->find(hub, id)) {
                const auto key = std::find_if(held.cbegin(), held.cend(), [this](const ModemCredential &c) {
                    return c.tag == m_profile.secTag && c.type == CredentialType::ClientKey;
                });
                reusable = entry->certificateSha256 == record->thumbprintSha256 && entry->secTag == m_profile.secTag
                    && key != held.cend() && !key->sha256.isEmpty()
                    && key->sha256.compare(entry->keySha256, Qt::CaseInsensitive) == 0;
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
        if (auto matches = enrollmentMatches(); !matches && !m_options.replaceConflicting) {
            m_report.enrollment = ProvisioningReport::Enrollment::Conflict;
            return failStep(matches.error());
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
    if (m_enrollment && !m_options.replaceConflicting) {
        m_report.enrollment = ProvisioningReport::Enrollment::Conflict;
        return failStep({ErrorKind::Conflict, QStringLiteral("EnrollmentConflict"),
            tr("DPS %1 already has an individual enrollment \"%2\", but this computer holds no usable credential for "
               "it. Nothing was changed. Replace its certificate with a new one made here, or give this modem another "
               "device id.")
                .arg(m_profile.dps, id)});
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
    m_credentials.generate(m_options.credentialHub, m_report.deviceId, options)
        .then(this, [this](Result<CredentialRecord> made) {
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
                return m_credentials.signRequest(
                    hub, id, m_profile.caName, csr->request(), m_profile.validityDays, true);
            })
        .unwrap()
        .then(this, [this](Result<CredentialRecord> signedRecord) {
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
                    if (auto put = m_ledger->put({record.hub, record.deviceId, m_report.identity.imei, m_profile.secTag,
                            keySha, record.thumbprintSha256, QDateTime::currentDateTimeUtc()});
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
        return m_report.throughDps() ? enroll() : registerDevice();
    }
    m_credentials.deviceCredential(m_options.credentialHub, m_report.deviceId)
        .then(this, [this, what, where, record](Result<DeviceCredential> credential) {
            if (!credential)
                return failStep(credential.error());
            m_keyPem = credential->key.privateKeyPem();
            done(tr("%1: certificate %2…, %3.").arg(what, record.thumbprintSha256.left(16), where));
            m_report.throughDps() ? enroll() : registerDevice();
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
        done(m_report.hubAuthType == QStringLiteral("selfSigned")
                ? tr("Registered with thumbprint %1…").arg(m_report.thumbprintSha256.left(16))
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
    m_hub->updateTwin(m_report.deviceId, DeviceTwin::Change::tagsOnly(m_profile.twinTags).toJson())
        .then(this, [this](Result<DeviceTwin> twin) {
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
    // The key moves into the set (m_keyPem is left empty) and on into the flash job.
    AzureCredentialSet set = m_keyInModem ? AzureCredentialSet::forKeyInModem(
                                 m_profile.secTag, m_profile.secondarySecTag, m_certificatePem, m_modemKeySha256)
                                          : AzureCredentialSet::forDevice(m_profile.secTag, m_profile.secondarySecTag,
                                              m_certificatePem, std::move(m_keyPem));
    m_keyPem.clear();
    m_flashJob = new AzureFlashJob(*m_modem, std::move(set), this);
    connect(m_flashJob, &AzureFlashJob::progress, this, [this](int step, int steps, const QString &text) {
        Q_EMIT detail(tr("%1 (%2/%3)").arg(text).arg(step).arg(steps));
    });
    m_flashJob->start().then(this, [this](const FlashReport &report) {
        m_report.flash = report;
        m_flashJob->deleteLater();
        for (const QString &warning : report.warnings)
            Q_EMIT detail(warning);
        if (!report.ok())
            return failStep(*report.failure);
        int written = 0;
        for (const FlashSlot &slot : report.slots)
            written += slot.state == FlashSlot::State::Flashed ? 1 : 0;
        // The warnings go into the step's detail too, and so into the audit record.
        QStringList sentences{tr("%1 credentials on the modem, each verified by SHA-256; functional mode %2 restored.")
                                  .arg(written)
                                  .arg(report.previousMode)};
        sentences += report.warnings;
        done(sentences.join(u' '));
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
            const auto found = std::find_if(
                held->cbegin(), held->cend(), [&](const ModemCredential &c) { return c.tag == tag && c.type == type; });
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
        if (m_report.throughDps()) {
            // DPS makes the hub device when the device registers: the test registration looks at it.
            done(tr("%1 hashes match on the modem.").arg(m_report.flash->slots.size()));
            return testRegistration();
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

// ─── Through DPS ─────────────────────────────────────────────────────────────────────────────────────

Result<void> ProvisioningJob::registrationIdValid() const
{
    if (DpsEnrollment::isRegistrationId(m_report.registrationId))
        return {};
    return fail(ErrorKind::InvalidInput, QStringLiteral("RegistrationIdInvalid"),
        tr("\"%1\" cannot be a DPS registration id: DPS takes lower-case letters, digits, '-', '.', '_' and ':', at "
           "most "
           "128. Change the profile's device id template.")
            .arg(m_report.registrationId));
}

void ProvisioningJob::lookUpEnrollment()
{
    if (stopIfCancelled())
        return;
    begin(Step::Id::DpsLookup);
    if (!m_dps)
        return failStep({ErrorKind::Internal, QStringLiteral("DpsGone"), tr("The DPS connection was closed.")});
    if (m_profile.enrollment == ProvisioningProfile::Enrollment::Group) {
        // The group must exist, be enabled and hold the profile's CA: checked before anything is made.
        const auto caChain = Certificate::listFromPem([&] {
            QFile file(m_credentials.caCertificatePath(m_profile.caName));
            return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
        }());
        if (!caChain || caChain->isEmpty())
            return failStep({ErrorKind::NotFound, QStringLiteral("CaNotFound"),
                tr("The keychain holds no CA \"%1\" (onboarder-cli cred import-ca).").arg(m_profile.caName)});
        const Certificate ca = caChain->first();
        m_dps->get(DpsClient::Kind::Group, m_profile.enrollmentGroup).then(this, [this, ca](Result<QJsonObject> group) {
            if (!group && group.error().kind == ErrorKind::NotFound)
                return failStep({ErrorKind::NotFound, QStringLiteral("GroupNotFound"),
                    tr("DPS %1 has no enrollment group \"%2\". Nothing was changed. Create it with the CA \"%3\" "
                       "(onboarder-cli dps group create %2 --ca %3) or correct the profile.")
                        .arg(m_profile.dps, m_profile.enrollmentGroup, m_profile.caName)});
            if (!group)
                return failStep(group.error());
            const QStringList thumbprints = DpsEnrollment::sha256Thumbprints(*group);
            if (DpsEnrollment::attestationType(*group) != QLatin1String("x509")
                || !DpsEnrollment::hasSigningCertificates(*group))
                return failStep({ErrorKind::Conflict, QStringLiteral("GroupNotX509"),
                    tr("Enrollment group \"%1\" does not admit devices by a CA certificate (its attestation is %2). "
                       "Nothing was changed.")
                        .arg(m_profile.enrollmentGroup, DpsEnrollment::attestationType(*group))});
            if (!thumbprints.contains(ca.thumbprintSha256().toUpper()))
                return failStep({ErrorKind::Conflict, QStringLiteral("GroupCaMismatch"),
                    tr("Enrollment group \"%1\" admits devices signed by the CA with SHA-256 thumbprint %2, not by "
                       "the profile's CA \"%3\" (%4): DPS would refuse these devices. Nothing was changed.")
                        .arg(
                            m_profile.enrollmentGroup, thumbprints.value(0), m_profile.caName, ca.thumbprintSha256())});
            if (!DpsEnrollment::isEnabled(*group))
                return failStep({ErrorKind::Conflict, QStringLiteral("GroupDisabled"),
                    tr("Enrollment group \"%1\" is disabled in DPS: its devices are refused. Nothing was changed.")
                        .arg(m_profile.enrollmentGroup)});
            m_groupCa = ca;
            done(tr("Group \"%1\" admits devices signed by CA \"%2\".")
                     .arg(m_profile.enrollmentGroup, m_profile.caName));
            credentials();
        });
        return;
    }
    m_dps->get(DpsClient::Kind::Enrollment, m_report.registrationId).then(this, [this](Result<QJsonObject> enrollment) {
        if (!enrollment && enrollment.error().kind != ErrorKind::NotFound)
            return failStep(enrollment.error());
        if (enrollment) {
            m_enrollment = *enrollment;
            done(tr("Enrolled already (%1, %2).")
                     .arg(DpsEnrollment::attestationType(*enrollment),
                         enrollment->value(QStringLiteral("provisioningStatus")).toString()));
        } else {
            m_report.enrollment = ProvisioningReport::Enrollment::Absent;
            done(tr("Not enrolled yet."));
        }
        credentials();
    });
}

// Whether DPS's individual enrollment (if any) attests the certificate this job holds.
Result<void> ProvisioningJob::enrollmentMatches() const
{
    if (!m_enrollment)
        return {};
    const QString type = DpsEnrollment::attestationType(*m_enrollment);
    if (type != QLatin1String("x509") || DpsEnrollment::hasSigningCertificates(*m_enrollment))
        return fail(ErrorKind::Conflict, QStringLiteral("EnrollmentConflict"),
            tr("DPS %1 already has an enrollment \"%2\" with %3 attestation. Nothing was changed. Replace it with this "
               "certificate, or give this modem another device id.")
                .arg(m_profile.dps, m_report.registrationId, type));
    if (!DpsEnrollment::sha256Thumbprints(*m_enrollment).contains(m_report.thumbprintSha256.toUpper()))
        return fail(ErrorKind::Conflict, QStringLiteral("EnrollmentConflict"),
            tr("DPS %1 already has an enrollment \"%2\" with another certificate (%3). Nothing was changed. Replace it "
               "with this certificate, or give this modem another device id.")
                .arg(m_profile.dps, m_report.registrationId, DpsEnrollment::sha256Thumbprints(*m_enrollment).value(0)));
    return {};
}

void ProvisioningJob::enroll()
{
    if (stopIfCancelled())
        return;
    begin(Step::Id::Enroll);
    if (!m_dps)
        return failStep({ErrorKind::Internal, QStringLiteral("DpsGone"), tr("The DPS connection was closed.")});
    if (m_profile.enrollment == ProvisioningProfile::Enrollment::Group) {
        const auto certificate = Certificate::fromPem(m_certificatePem);
        if (!certificate || !certificate->isSignedBy(m_groupCa))
            return failStep({ErrorKind::Conflict, QStringLiteral("GroupCaMismatch"),
                tr("The device certificate is not signed by the CA of enrollment group \"%1\".")
                    .arg(m_profile.enrollmentGroup)});
        m_report.enrollment = ProvisioningReport::Enrollment::Group;
        done(tr("A member of group \"%1\": its CA signed the certificate.").arg(m_profile.enrollmentGroup),
            Step::State::Skipped);
        return flash();
    }
    if (m_enrollment && enrollmentMatches()) {
        m_report.enrollment = ProvisioningReport::Enrollment::Reused;
        done(DpsEnrollment::isEnabled(*m_enrollment) ? tr("Enrolled already with this certificate.")
                                                     : tr("Enrolled already with this certificate (disabled in DPS)."),
            Step::State::Skipped);
        return flash();
    }
    DpsEnrollment::Options options;
    if (!m_profile.twinTags.isEmpty())
        options.initialTwin = QJsonObject{{QStringLiteral("tags"), m_profile.twinTags}};
    QJsonObject body = DpsEnrollment::individualX509(m_report.registrationId, m_certificatePem, options);
    const QString etag = m_enrollment ? m_enrollment->value(QStringLiteral("etag")).toString() : QString();
    if (m_enrollment) {
        // replaceConflicting (checked before the credentials were made): what else the enrollment holds stays.
        QJsonObject kept = *m_enrollment;
        kept.insert(QStringLiteral("attestation"), body.value(QStringLiteral("attestation")));
        if (!options.initialTwin.isEmpty())
            kept.insert(QStringLiteral("initialTwin"), options.initialTwin);
        body = kept;
    }
    m_dps->put(DpsClient::Kind::Enrollment, m_report.registrationId, body, etag)
        .then(this, [this](Result<QJsonObject> put) {
            if (!put)
                return failStep(put.error());
            m_report.enrollment
                = m_enrollment ? ProvisioningReport::Enrollment::Updated : ProvisioningReport::Enrollment::Created;
            done(m_enrollment ? tr("The enrollment now has certificate %1….").arg(m_report.thumbprintSha256.left(16))
                              : tr("Enrolled with certificate %1….").arg(m_report.thumbprintSha256.left(16)));
            flash();
        });
}

void ProvisioningJob::testRegistration()
{
    if (stopIfCancelled())
        return;
    begin(Step::Id::TestRegistration);
    if (!m_profile.testRegistration) {
        done(tr("Not asked: the device registers when it first connects."), Step::State::Skipped);
        return forgetPcKeyIfAsked();
    }
    Q_EMIT detail(tr("Registering \"%1\" with DPS %2 from this computer").arg(m_report.registrationId, m_profile.dps));
    m_credentials.deviceCredential(m_options.credentialHub, m_report.deviceId)
        .then(this, [this](Result<DeviceCredential> credential) {
            if (!credential)
                return failStep(credential.error());
            if (stopIfCancelled())
                return;
            DpsRegistration::Credential attestation;
            attestation.certificatePem = credential->certificate.toPem();
            attestation.privateKeyPem = credential->key.privateKeyPem();
            m_registration = new DpsRegistration(this);
            connect(m_registration, &DpsRegistration::progress, this, &ProvisioningJob::detail);
            connect(m_registration, &DpsRegistration::finished, this, [this](const Result<DpsAssignment> &assignment) {
                m_registration->deleteLater();
                if (!assignment)
                    return failStep(assignment.error());
                checkAssignedDevice(*assignment);
            });
            m_registration->start(m_dpsProfile, m_report.registrationId, attestation); // the key is wiped as it goes
        });
}

void ProvisioningJob::checkAssignedDevice(const DpsAssignment &assignment)
{
    m_report.assignedHub = assignment.assignedHub;
    if (assignment.assignedHub.compare(m_report.hubHost, Qt::CaseInsensitive) != 0)
        return failStep({ErrorKind::Conflict, QStringLiteral("AssignedElsewhere"),
            tr("DPS assigned \"%1\" to hub %2, not to the profile's hub %3 (%4). The device is enrolled and flashed; "
               "check the enrollment's hubs in DPS, or make the profile name the hub DPS assigns to.")
                .arg(m_report.registrationId, assignment.assignedHub, m_profile.hub, m_report.hubHost)});
    if (assignment.deviceId != m_report.deviceId)
        return failStep({ErrorKind::Conflict, QStringLiteral("AssignedOtherId"),
            tr("DPS assigned the registration \"%1\" the hub device id \"%2\", not \"%3\".")
                .arg(m_report.registrationId, assignment.deviceId, m_report.deviceId)});
    if (!m_hub)
        return failStep({ErrorKind::Internal, QStringLiteral("HubGone"), tr("The hub connection was closed.")});
    m_hub->device(assignment.deviceId).then(this, [this, assignment](Result<DeviceIdentity> device) {
        if (!device)
            return failStep(device.error());
        m_report.hubAuthType = device->authType;
        // A CA-authenticated device is trusted by its chain; a self-signed one must hold this certificate's thumbprint.
        const bool takes = device->authType == QLatin1String("certificateAuthority")
            || (device->authType == QLatin1String("selfSigned") && hubMatches(*device).has_value());
        if (!takes)
            return failStep({ErrorKind::Conflict, QStringLiteral("VerifyFailed"),
                tr("DPS registered \"%1\", but the hub's device does not take the certificate on the modem (%2 "
                   "authentication, thumbprint %3).")
                    .arg(device->id, device->authType, device->primaryThumbprint)});
        m_report.hubDevice = assignment.substatus == QLatin1String("initialAssignment")
            ? ProvisioningReport::HubDevice::Created
            : ProvisioningReport::HubDevice::Reused;
        done(tr("Assigned to %1 as \"%2\" (%3); the hub takes certificate %4….")
                 .arg(assignment.assignedHub, assignment.deviceId, assignment.substatus,
                     m_report.thumbprintSha256.left(16)));
        forgetPcKeyIfAsked();
    });
}

void ProvisioningJob::forgetPcKeyIfAsked()
{
    if (m_keyInModem || m_profile.keyBirth != ProvisioningProfile::KeyBirth::Pc || m_profile.keepKeyOnPc)
        return record();
    // The key is on the modem and verified there; the profile wants it nowhere else. The ledger pairs the
    // modem's key with the certificate first, so that a later run can use it again.
    if (!m_report.flash)
        return record(); // nothing was flashed: no key on the modem to pair
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
    m_credentials.moveKeyToDevice(m_options.credentialHub, m_report.deviceId)
        .then(this, [this](Result<CredentialRecord> moved) {
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
    checkModem();
}

// The job has passed; the check only informs (a modem without coverage at the bench is provisioned all the
// same), so that the technician sees at once whether the device will reach the hub once installed.
void ProvisioningJob::checkModem()
{
    auto *check = new ModemCheck(*m_modem, this);
    m_check = check;
    ModemCheckOptions options;
    options.secTag = m_profile.secTag;
    options.registrationWaitMs = 20000; // after the flash put LTE back on; a bench without coverage says so after this
    options.knownHashes = ModemCheck::knownRootHashes();
    if (m_report.flash)
        for (const FlashSlot &slot : m_report.flash->slots)
            if (slot.type == CredentialType::ClientCert)
                options.knownHashes.insert(
                    slot.expectedSha256, tr("the certificate of %1 flashed in this job").arg(m_report.deviceId));
    whenFinished(check->run(options), this, [this, check](Result<ModemCheckReport> checked) {
        check->deleteLater();
        if (checked)
            m_report.modemCheck = *checked;
        else
            m_report.modemCheckError = checked.error().message;
        deliver();
    });
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
    m_keyPem.clear();
    m_modem->close();
    m_promise->addResult(m_report);
    m_promise->finish();
}

} // namespace Onboarder
