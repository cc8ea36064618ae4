#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>
#include <utility>
#include <variant>

namespace Onboarder::Sandbox {

class Registry;

// The sandbox's Device Provisioning Service: enrollments, enrollment groups, registration states and the
// device registration itself, without any transport (DpsServer serves it over HTTPS, DpsMqtt over MQTT).
//
// State lives in one JSON file in the data dir (dps.json, owner-only: it holds keys): the ID scope, the
// shared access policy, enrollments, groups and registration states. Operations (what a device polls after
// registering) are kept in memory only, as DPS keeps them for a short while.
//
// Every answer is an HTTP-like status, a JSON body and headers; errors carry DPS's body
// {"errorCode","trackingId","message","timestampUtc"}. A successful registration creates or updates the
// device in the sandbox hub's registry (same process) with the enrollment's credential and initial twin.
// Threads: the sandbox's main thread.
class Dps final
{
public:
    struct Answer
    {
        int status = 200;
        QByteArray body; // JSON; empty for 204
        QList<std::pair<QByteArray, QByteArray>> headers;
        QByteArray header(const QByteArray &name) const;
        QJsonObject object() const;
    };

    // What a device proved about itself: a SAS token (MQTT password, HTTP Authorization) and/or the
    // certificate chain its TLS handshake presented (leaf first, DER; the handshake proved the key).
    struct Credentials
    {
        QString sasToken;
        QList<QByteArray> chainDer;
    };

    // A service REST call, already split by the transport.
    struct ServiceRequest
    {
        QByteArray method; // GET, PUT, POST, DELETE
        QStringList path; // percent-decoded segments
        QString apiVersion;
        QByteArray authorization; // Authorization header
        QByteArray ifMatch;
        QByteArray maxItemCount; // x-ms-max-item-count
        QByteArray continuation; // x-ms-continuation
        QByteArray body;
    };

    static constexpr const char *ServiceApiVersion = "2021-10-01";
    static constexpr const char *OwnerPolicy = "provisioningserviceowner";

    Dps(Registry &hub, const QString &hubHostName);

    // Loads (or creates, with a new ID scope and policy keys) the state file.
    Result<void> open(const QString &path, const QString &dpsHost);

    QString idScope() const { return m_idScope; }
    QString host() const { return m_host; }
    QString connectionString() const; // HostName=…;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=…
    QString policyKey(const QString &policyName) const;

    Answer service(const ServiceRequest &request);

    // PUT /{idScope}/registrations/{id}/register (HTTPS) or $dps/registrations/PUT/iotdps-register (MQTT).
    Answer registerDevice(
        const QString &idScope, const QString &registrationId, const Credentials &credentials, const QByteArray &body);
    // GET …/operations/{operationId} (HTTPS) or $dps/registrations/GET/iotdps-get-operationstatus (MQTT).
    Answer operationStatus(const QString &idScope, const QString &registrationId, const QString &operationId,
        const Credentials &credentials);

    // The device key of a symmetric-key enrollment group's member:
    // base64(HMAC-SHA256(base64decode(groupKey), registrationId)); empty when the group key is not base64.
    static QString deriveDeviceKey(const QString &groupKey, const QString &registrationId);

    // Parsers of untrusted bytes (fuzzed). An enrollment or group as PUT by a service: checked and
    // normalised (keys generated when absent, defaults filled in, certificates parsed); the error's
    // message says what is wrong. id: the id in the URL.
    static Result<QJsonObject> parseEnrollment(const QByteArray &body, const QString &id, bool group);
    // A registration request body: {"registrationId": …, "payload": …}; the payload, if any.
    static Result<QJsonObject> parseRegistrationRequest(const QByteArray &body, const QString &registrationId);

    static Answer error(int status, int errorCode, const QString &message);

private:
    struct Authenticated
    {
        QString enrollmentKind; // "individual" or "group"
        QString enrollmentId; // registration id or group id
        QString hubAuthType; // sas or selfSigned
        QString primaryKey, secondaryKey, thumbprint;
    };

    std::optional<Answer> authorizeService(const ServiceRequest &request) const;
    std::variant<Authenticated, Answer> authenticateDevice(
        const QString &idScope, const QString &registrationId, const Credentials &credentials) const;
    Answer putEnrollment(const ServiceRequest &request, const QString &id, bool group);
    Answer bulk(const ServiceRequest &request); // POST /enrollments {mode, enrollments}
    Answer getOrDelete(
        const ServiceRequest &request, QHash<QString, QJsonObject> &collection, const QString &id, const QString &what);
    Answer query(const ServiceRequest &request, const QList<QJsonObject> &items, const char *itemType) const;
    QJsonObject present(const QJsonObject &stored) const; // without certificates and internal fields
    QJsonObject assign(const QString &registrationId, const Authenticated &who, const QJsonObject &payload);
    QString nextEtag();
    bool save();

    Registry &m_hub;
    QString m_hubHostName;
    QString m_path;
    QString m_host;
    QString m_idScope;
    QString m_primaryKey, m_secondaryKey;
    qint64 m_etagCounter = 0;
    QHash<QString, QJsonObject> m_enrollments; // by registration id (lower case)
    QHash<QString, QJsonObject> m_groups; // by group id (lower case)
    QHash<QString, QJsonObject> m_registrations; // by registration id (lower case)
    struct Operation
    {
        QString registrationId;
        QJsonObject result; // {operationId, status, registrationState}
    };
    QHash<QString, Operation> m_operations;
};

} // namespace Onboarder::Sandbox
