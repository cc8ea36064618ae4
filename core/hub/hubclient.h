#pragma once

#include "common/result.h"
#include "hub/connectionstring.h"
#include "hub/devicetwin.h"
#include "hub/hubconfiguration.h"
#include "hub/hubjob.h"
#include "hub/hubprofile.h"
#include "hub/moduleidentity.h"
#include "hub/restclient.h"

#include <QDateTime>
#include <QFuture>
#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QSslConfiguration>
#include <QStringList>

#include <functional>
#include <memory>

class QNetworkAccessManager;
class QNetworkReply;
class QNetworkRequest;

namespace Onboarder {

// A device identity as the registry returns it.
struct DeviceIdentity
{
    QString id;
    QString generationId;
    QString etag;
    QString status = QStringLiteral("enabled"); // enabled | disabled
    QString statusReason;
    QString authType = QStringLiteral("sas"); // sas | selfSigned | certificateAuthority | none
    QString primaryKey; // sas: empty asks the hub to generate them
    QString secondaryKey;
    QString primaryThumbprint; // selfSigned: SHA-1 or SHA-256, hex
    QString secondaryThumbprint;
    QString connectionState; // Connected | Disconnected
    QDateTime connectionStateUpdated;
    QDateTime statusUpdated;
    QDateTime lastActivity; // invalid: never
    int cloudToDeviceMessageCount = 0;
    bool iotEdge = false;

    static DeviceIdentity fromJson(const QJsonObject &json);
    QJsonObject toJson() const; // the writable fields, for PUT
    // Everything that was read, in the registry's shape: the writable fields and generationId, etag, connectionState,
    // lastActivityTime (empty: never), cloudToDeviceMessageCount; a SAS device's keys masked unless revealKeys. What
    // onboarder-cli prints for a device (docs/cli.md).
    QJsonObject toRecordJson(bool revealKeys) const;

    // selfSigned: whether a certificate of these thumbprints (hex, either case) is registered as primary or secondary.
    bool holdsThumbprint(const QString &sha1, const QString &sha256) const;
};

// One row of a device list, from a twin of a SELECT * query: small, for lists of 100k devices.
struct DeviceSummary
{
    enum class Auth : quint8 { Sas, SelfSigned, CertificateAuthority, None };

    QString id;
    bool enabled = true;
    bool connected = false;
    Auth auth = Auth::Sas;
    int cloudToDeviceMessageCount = 0;
    qint64 lastActivityMs = 0; // since the epoch, UTC; 0: never

    static DeviceSummary fromTwin(const QJsonObject &twin);
};

// One row of a device list as text, in the hub's own words ("enabled", "Connected", the time as the hub wrote it),
// from a twin of a query's answer: for a table or CSV (onboarder-cli device list). A field the query did not select
// is empty.
struct DeviceQueryRow
{
    QString deviceId;
    QString status;
    QString connectionState;
    QString lastActivityTime; // as the hub wrote it
    QString authenticationType;
    int cloudToDeviceMessageCount = 0;

    static DeviceQueryRow fromTwin(const QJsonObject &twin);
    bool neverActive() const; // lastActivityTime is the hub's "never" (0001-01-01…)
    // The hub's names of the fields above, in that order: a CSV header.
    static QStringList fieldNames();
};

struct QueryPage
{
    QJsonArray items;
    QString continuation; // empty: no more pages
};

struct MethodResult
{
    int status = 0; // chosen by the device
    QJsonValue payload;

    QJsonObject toJson() const; // {"status", "payload"}, as the hub answers
};

// What purging a device's cloud-to-device queue did, in the hub's words (onboarder-cli c2d purge prints it).
struct CloudToDevicePurge
{
    QString deviceId;
    int totalMessagesPurged = 0;

    QJsonObject toJson() const;
};

// One device a bulk registry request could not create or change, in the hub's words.
struct BulkFailure
{
    QString deviceId;
    QString code; // DeviceAlreadyExists, ArgumentInvalid, …
    QString message;
};

struct DeviceStatistics
{
    qint64 total = 0;
    qint64 enabled = 0;
    qint64 disabled = 0;
};

// The IoT Hub service REST API for one hub (registry, query, twins, direct methods, statistics),
// asynchronous on the owner's thread. It signs every request with a SAS token of the hub's policy,
// renewed before it expires; retries 429 and 503 with exponential backoff, honouring Retry-After;
// verifies TLS against the system CAs plus the hub profile's own CA, if it has one. Every failure is
// an Error whose code is Azure's error name (DeviceNotFound, PreconditionFailed, …) or a network
// code, with a sentence a person understands.
//
// Threads: one thread, the one it was created in (its RestClient is a member, not a child: it cannot be moved),
// where its requests run and its futures finish. The relay makes one on its own thread (RelayCredentials, a worker
// thread under RelayThread).
class HubClient final : public QObject
{
    Q_OBJECT

public:
    using RetryPolicy = RestClient::RetryPolicy;

    HubClient(const HubProfile &profile, const ConnectionString &serviceConnection, QObject *parent = nullptr);
    ~HubClient() override;

    void setRetryPolicy(const RetryPolicy &policy) { m_rest->setRetryPolicy(policy); }
    void setTokenLifetime(int seconds) { m_tokenLifetime = seconds; }
    void setRequestTimeout(int milliseconds) { m_rest->setRequestTimeout(milliseconds); }

    QFuture<Result<DeviceIdentity>> createDevice(const DeviceIdentity &device);
    // With an ETag in device.etag the update only applies to that version (PreconditionFailed
    // otherwise); force ignores it.
    QFuture<Result<DeviceIdentity>> updateDevice(const DeviceIdentity &device, bool force = false);
    QFuture<Result<DeviceIdentity>> device(const QString &id);
    QFuture<Result<void>> deleteDevice(const QString &id, const QString &etag = QStringLiteral("*"));
    // Drops every cloud-to-device message waiting for the device (DELETE /devices/{id}/commands): how many.
    QFuture<Result<int>> purgeCloudToDeviceQueue(const QString &id);

    // A device's modules (/devices/{id}/modules/{moduleId}): as the device calls above, with a module's errors
    // (ModuleNotFound, ModuleAlreadyExistsOnDevice). Deleting a device deletes its modules.
    QFuture<Result<ModuleIdentity>> createModule(const ModuleIdentity &module);
    QFuture<Result<ModuleIdentity>> updateModule(const ModuleIdentity &module, bool force = false);
    QFuture<Result<ModuleIdentity>> module(const QString &deviceId, const QString &moduleId);
    QFuture<Result<QList<ModuleIdentity>>> modules(const QString &deviceId);
    QFuture<Result<void>> deleteModule(
        const QString &deviceId, const QString &moduleId, const QString &etag = QStringLiteral("*"));

    // Registers up to 100 devices in one request (POST /devices, importMode "create"; each item a device as
    // DeviceImport makes it): the devices the hub refused, each with its reason, or a failure of the whole request.
    QFuture<Result<QList<BulkFailure>>> createDevices(const QJsonArray &devices);

    QFuture<Result<QueryPage>> query(const QString &query, int pageSize = 100, const QString &continuation = {});
    // The number a count query gives (DeviceListQuery::count: SELECT COUNT() AS numberOfDevices …).
    QFuture<Result<qint64>> countDevices(const QString &countQuery);

    QFuture<Result<DeviceTwin>> twin(const QString &id);
    // PATCH (merge; null removes) or PUT (replace tags and desired); etag empty: unconditional. The body is
    // DeviceTwin::Change::toJson(), or a patch in the hub's shape as a user gave it.
    QFuture<Result<DeviceTwin>> updateTwin(
        const QString &id, const QJsonObject &patch, const QString &etag = {}, bool replace = false);

    QFuture<Result<MethodResult>> invokeMethod(const QString &id, const QString &method, const QJsonValue &payload,
        int responseTimeoutSeconds = 30, int connectTimeoutSeconds = 0);

    // A module's twin and direct methods, as the device's above.
    QFuture<Result<DeviceTwin>> moduleTwin(const QString &id, const QString &moduleId);
    QFuture<Result<DeviceTwin>> updateModuleTwin(const QString &id, const QString &moduleId, const QJsonObject &patch,
        const QString &etag = {}, bool replace = false);
    QFuture<Result<MethodResult>> invokeModuleMethod(const QString &id, const QString &moduleId, const QString &method,
        const QJsonValue &payload, int responseTimeoutSeconds = 30, int connectTimeoutSeconds = 0);

    QFuture<Result<DeviceStatistics>> statistics();

    // Jobs (/jobs/v2): schedule one (a request HubJob::twinUpdateRequest or directMethodRequest made; JobAlreadyExists
    // when its id is taken), read or cancel one (JobNotFound), list them newest first, filtered by type and status
    // (empty: any). A job's device records are a device query: query(HubJob::deviceRecordsQuery(id)).
    QFuture<Result<HubJob>> scheduleJob(const QJsonObject &request);
    QFuture<Result<HubJob>> job(const QString &id);
    QFuture<Result<HubJob>> cancelJob(const QString &id);
    QFuture<Result<HubJobPage>> jobs(
        const QString &type = {}, const QString &status = {}, int pageSize = 100, const QString &continuation = {});

    // Configurations (automatic device management): at most top of them (1–100), or one (ConfigurationNotFound),
    // with the hub's current metrics.
    QFuture<Result<QList<HubConfiguration>>> configurations(int top = 100);
    QFuture<Result<HubConfiguration>> configuration(const QString &id);

    // Aborts every request in flight; their futures end with ErrorKind::Cancelled.
    void cancelAll();

    static constexpr const char *apiVersion = "2021-04-12";

private:
    QString authorization();
    QString encodedDevicePath(const QString &prefix, const QString &id, const QString &suffix = {}) const;
    QString modulePath(const QString &deviceId, const QString &moduleId) const;
    // /twins/{id}[/modules/{moduleId}]{suffix}
    QString twinPath(const QString &id, const QString &moduleId, const QString &suffix = {}) const;

    HubProfile m_profile;
    ConnectionString m_service;
    std::unique_ptr<RestClient> m_rest;
    int m_tokenLifetime = 3600;
    QString m_token;
    qint64 m_tokenExpiry = 0;
};

} // namespace Onboarder
