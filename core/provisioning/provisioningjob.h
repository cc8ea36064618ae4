#pragma once

#include "common/result.h"
#include "common/secretbytes.h"
#include "credentials/certificate.h"
#include "dps/dpsprofile.h"
#include "hub/hubclient.h"
#include "modem/azureflashjob.h"
#include "modem/modemcheck.h"
#include "modem/modemcredential.h"
#include "modem/nrf91modem.h"
#include "modem/seriallink.h"
#include "provisioning/provisioningprofile.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFuture>
#include <QJsonObject>
#include <QObject>
#include <QPointer>

#include <memory>
#include <optional>

namespace Onboarder {

class AuditLog;
class CredentialStore;
class DpsClient;
class DpsRegistration;
struct DpsAssignment;
class ModemCredentialStore;
class ModemKeyLedger;
struct CredentialRecord;

struct ProvisioningStep
{
    enum class Id {
        Connect,
        Identity,
        DeviceId,
        HubLookup,
        Credentials,
        Register,
        TwinTags,
        Flash,
        Verify,
        Record,
        DpsLookup,
        Enroll,
        TestRegistration, // provisioning through DPS
    };
    enum class State { Pending, Running, Done, Skipped, Failed, Cancelled };

    Id id = Id::Connect;
    State state = State::Pending;
    QString detail; // what was found or done, a sentence; never a secret
    qint64 elapsedMs = 0;

    // The steps of a job, in order: registered in the hub, or enrolled in DPS (and registered from the bench).
    static QList<Id> all(ProvisioningProfile::Registration registration = ProvisioningProfile::Registration::Hub);
    static QString idName(Id id); // stable, for JSON: "connect", "identity", …
    static QString title(Id id); // translated: "Connect to the modem", …
    static QString stateName(State state); // stable: "pending", "running", "done", "skipped", "failed", "cancelled"
};

// Everything a provisioning job did and left behind; when it failed, the exact state of hub and modem.
struct ProvisioningReport
{
    enum class HubDevice {
        Unknown, // not looked at (or the hub could not be asked)
        Absent, // no such device in the hub, and none was made
        Created, // registered by this job
        Reused, // there already, with the credentials made here
        Updated, // there already with other credentials, replaced on request
        Conflict, // there already with other credentials, left alone
    };

    // Where an enrollment in DPS stands (provisioning through DPS).
    enum class Enrollment {
        Unknown, // not looked at
        Absent, // no such enrollment, and none was made
        Created, // enrolled by this job
        Reused, // enrolled already with the certificate made here
        Updated, // enrolled with another certificate, replaced on request
        Conflict, // enrolled with another certificate or another attestation, left alone
        Group, // a member of the profile's enrollment group: its CA signs the certificate
    };

    QString port;
    ModemIdentity identity;
    QString deviceId;
    QString hubName;
    QString hubHost;
    HubDevice hubDevice = HubDevice::Unknown;
    QString hubAuthType; // selfSigned | certificateAuthority
    QString thumbprintSha1;
    QString thumbprintSha256;
    QString keyBirth; // pc | modem
    QString keyLocation; // keychain | modem (after the job)
    bool credentialsReused = false;
    bool modemKeyMade = false; // %KEYGEN ran in this job
    quint32 secTag = 0;
    std::optional<quint32> secondarySecTag;
    std::optional<FlashReport> flash;
    // After a job that passed: the modem check (will it reach the hub?), or why it could not run.
    std::optional<ModemCheckReport> modemCheck;
    QString modemCheckError;
    // Provisioning through DPS: empty registration means the hub path.
    QString registration; // hub | dps
    QString dpsName;
    QString idScope;
    QString registrationId;
    QString enrollmentKind; // individual | group
    QString enrollmentGroup; // the group's id
    Enrollment enrollment = Enrollment::Unknown;
    QString assignedHub; // what the test registration was assigned to
    QList<ProvisioningStep> steps;
    std::optional<Error> failure;
    QDateTime startedAt;
    QDateTime finishedAt;

    bool ok() const { return !failure && finishedAt.isValid(); }
    bool cancelled() const { return failure && failure->kind == ErrorKind::Cancelled; }
    static QString hubDeviceName(HubDevice state); // "created", "reused", …
    static QString enrollmentName(Enrollment state); // "created", "reused", "group", …
    bool throughDps() const { return registration == QLatin1String("dps"); }

    // Where hub, credentials and modem stand, in sentences, for a failed card and the CLI.
    QStringList stateSummary() const;
    // The audit record: time, operator, station, modem, device, hub, thumbprint, tags, steps, result, error.
    QJsonObject toJson(const QString &operatorName = {}, const QString &station = {}) const;
};

struct ProvisioningOptions
{
    QString operatorName; // who ran it (default: the login name)
    QString station; // which bench (default: the host name)
    QString usbSerial; // {serial} in the device id template
    SerialSettings serial;
    bool replaceConflicting = false; // a hub device of that id with other credentials gets the new ones
    QString credentialHub; // the hub profile name credentials are kept under (default: profile.hub)
};

// One modem, from the serial port to a registered, credentialed, verified hub device (issue #8):
// connect → identity → device id → look the device up in the hub → credentials (reuse or make: on the PC,
// or by %KEYGEN in the modem and signed by the profile's CA) → register (or reuse) → twin tags → flash the
// Azure set (AzureFlashJob) → verify every hash on the modem and the hub's thumbprint → audit record.
// Each step first looks at what is there, so running a job again after a failure or a cancel finishes the
// rest without a second device or a second credential. A conflicting hub device stops the job (Conflict,
// code DeviceConflict) before anything changes, unless replaceConflicting. Cancel stops between steps (and
// between the flash's writes); the report then says what hub and modem hold. Asynchronous on the owner's
// thread; jobs for different ports run side by side.
class ProvisioningJob final : public QObject
{
    Q_OBJECT

public:
    ProvisioningJob(const ProvisioningProfile &profile, const QString &portPath, HubClient &hub,
        const HubProfile &hubProfile, CredentialStore &credentials, const ProvisioningOptions &options = {},
        QObject *parent = nullptr);
    ~ProvisioningJob() override;

    // Audit log and ledger: the defaults in the app data dir unless set (tests give their own).
    void setAuditLog(AuditLog *log) { m_audit = log; }
    void setLedger(ModemKeyLedger *ledger) { m_ledger = ledger; }
    // Provisioning through DPS (profile "registration": "dps"): the DPS the profile names, and its service client.
    void setDps(DpsClient *client, const DpsProfile &profile);

    // The login name of whoever runs the process (the audit log's default operator).
    static QString defaultOperator();

    QFuture<ProvisioningReport> start();
    void cancel();
    bool isRunning() const { return m_started && !m_report.finishedAt.isValid(); }
    const ProvisioningReport &report() const { return m_report; }
    QString portPath() const { return m_report.port; }

Q_SIGNALS:
    void stepChanged(int index, const Onboarder::ProvisioningStep &step);
    void detail(const QString &text); // finer progress within a step (the flash's writes)
    void identified(const Onboarder::ModemIdentity &identity, const QString &deviceId);

private:
    void connectModem();
    void readIdentity();
    void makeDeviceId();
    void lookUp();
    void credentials();
    void reuseOrMake(const QList<ModemCredential> &held);
    void makeOnPc();
    void makeInModem();
    void useCertificate(const CredentialRecord &record, bool keyInModem, const QString &modemKeySha256);
    void registerDevice();
    void setTwinTags();
    void flash();
    void verify();
    void forgetPcKeyIfAsked();
    void record();
    void checkModem();
    // Through DPS
    void lookUpEnrollment();
    void enroll();
    void testRegistration();
    void checkAssignedDevice(const DpsAssignment &assignment);
    Result<void> enrollmentMatches() const;
    Result<void> registrationIdValid() const;

    void begin(ProvisioningStep::Id id);
    void done(const QString &detail, ProvisioningStep::State state = ProvisioningStep::State::Done);
    void failStep(const Error &error);
    bool stopIfCancelled();
    void finish(); // after a failure: the audit record, then deliver()
    void deliver();
    int stepIndex(ProvisioningStep::Id id) const;
    Result<void> hubMatches(const DeviceIdentity &device) const;

    ProvisioningProfile m_profile;
    ProvisioningOptions m_options;
    QPointer<HubClient> m_hub;
    CredentialStore &m_credentials;
    Nrf91Modem *m_modem = nullptr;
    ModemCredentialStore *m_store = nullptr;
    QPointer<AzureFlashJob> m_flashJob;
    QPointer<ModemCheck> m_check; // the check after a job that passed
    AuditLog *m_audit = nullptr;
    ModemKeyLedger *m_ledger = nullptr;
    std::unique_ptr<AuditLog> m_ownAudit;
    std::unique_ptr<ModemKeyLedger> m_ownLedger;

    ProvisioningReport m_report;
    std::optional<DeviceIdentity> m_existing;
    QPointer<DpsClient> m_dps;
    DpsProfile m_dpsProfile;
    std::optional<QJsonObject> m_enrollment; // the individual enrollment DPS holds already
    Certificate m_groupCa; // the enrollment group's CA (the profile's, as the keychain has it)
    QPointer<DpsRegistration> m_registration;
    QByteArray m_certificatePem;
    SecretBytes m_keyPem; // only while the job needs it
    bool m_keyInModem = false;
    QString m_modemKeySha256;
    int m_current = -1;
    QElapsedTimer m_stepTimer;
    bool m_started = false;
    bool m_cancelled = false;
    std::shared_ptr<QPromise<ProvisioningReport>> m_promise;
};

} // namespace Onboarder

Q_DECLARE_METATYPE(Onboarder::ProvisioningStep)
