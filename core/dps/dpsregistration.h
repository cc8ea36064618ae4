#pragma once

#include "common/result.h"
#include "common/secretbytes.h"
#include "dps/dpsprofile.h"

#include <QJsonObject>
#include <QObject>
#include <QTimer>

#include <memory>

namespace Onboarder {

class MqttClient;

// What DPS answered a registration with.
struct DpsAssignment
{
    QString status; // assigned (anything else ends as an error)
    QString substatus; // initialAssignment, deviceDataMigrated, …
    QString assignedHub; // e.g. contoso.azure-devices.net
    QString deviceId;
    QJsonObject registrationState; // as DPS gave it

    // {"registrationId", "status", "substatus", "assignedHub", "deviceId"}, as onboarder-cli dps register prints it.
    QJsonObject toJson(const QString &registrationId) const;

    friend bool operator==(const DpsAssignment &, const DpsAssignment &) = default;
};

// Registers one device with a DPS over MQTT, exactly as a device does (the nRF SDK's flow): connect to the device
// endpoint with the ID scope and registration id, attest with a client certificate or a SAS token (the individual
// enrollment's key, or a key derived from the group's), ask to register, poll the operation at the pace DPS asks
// for (retry-after), and end with the assignment or with DPS's reason. Used to prove an enrollment end to end
// before a device ships. TLS is always verified; the key and token are never logged. Threads: the owner's.
class DpsRegistration final : public QObject
{
    Q_OBJECT

public:
    // Move-only: the keys are SecretBytes.
    struct Credential
    {
        QByteArray certificatePem; // X.509: the device certificate (and its chain), and its private key
        SecretBytes privateKeyPem;
        SecretBytes symmetricKey; // symmetric key: the device's key (base64 text)
    };

    explicit DpsRegistration(QObject *parent = nullptr);
    ~DpsRegistration() override;

    void setTimeoutSeconds(int seconds) { m_timeoutSeconds = seconds; }
    // The outcome is finished(), once.
    void start(const DpsProfile &dps, const QString &registrationId, const Credential &credential);
    void cancel(); // finished() with Cancelled

    // An enrollment group's device key: base64(HMAC-SHA256(base64decode(groupKey), registrationId)).
    static Result<SecretBytes> deriveDeviceKey(const QString &groupKey, const QString &registrationId);

    static constexpr const char *apiVersion = "2019-03-31";

Q_SIGNALS:
    void progress(const QString &text);
    void finished(const Onboarder::Result<Onboarder::DpsAssignment> &result);

private:
    void onMessage(const QString &topic, const QByteArray &payload);
    void publish(const QString &topic, const QByteArray &body);
    void finish(const Result<DpsAssignment> &result);

    std::unique_ptr<MqttClient> m_client;
    DpsProfile m_dps;
    QString m_registrationId;
    QString m_operationId;
    QTimer m_poll;
    QTimer m_deadline;
    int m_rid = 0;
    int m_timeoutSeconds = 60;
    bool m_done = true;
};

} // namespace Onboarder

Q_DECLARE_METATYPE(Onboarder::DpsAssignment)
