#pragma once

#include "common/result.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QString>

#include <functional>

namespace Onboarder::Sandbox {

struct DeviceQuery;

// One device or module: its identity and its twin, as the registry keeps them. A module is a device's: id is the
// device's, moduleId its own.
struct Device
{
    QString id;
    QString moduleId; // empty: a device
    QString managedBy; // a module's (IoT Edge writes it); empty otherwise
    QString generationId;
    qint64 etagCounter = 0;
    QString status = QStringLiteral("enabled");
    QString statusReason;
    QDateTime statusUpdated;
    QString authType = QStringLiteral("sas"); // sas | selfSigned | certificateAuthority | none
    QString primaryKey;
    QString secondaryKey;
    QString primaryThumbprint;
    QString secondaryThumbprint;
    QString connectionState = QStringLiteral("Disconnected");
    QDateTime connectionStateUpdated;
    QDateTime lastActivity;
    int cloudToDeviceMessageCount = 0;
    bool iotEdge = false;

    qint64 twinEtagCounter = 1;
    qint64 twinVersion = 1;
    QJsonObject tags;
    QJsonObject desired;
    qint64 desiredVersion = 1;
    QJsonObject desiredMetadata;
    QJsonObject reported;
    qint64 reportedVersion = 1;
    QJsonObject reportedMetadata;

    bool isModule() const { return !moduleId.isEmpty(); }
    // How the sandbox names the identity among its sessions: the device id, or {deviceId}/{moduleId} (neither id
    // may hold '/'), which is also the MQTT client id IoT Hub asks of it.
    QString key() const { return isModule() ? id + u'/' + moduleId : id; }
    QString etag() const; // base64 of the decimal counter, as the hub shows it ("MA==" for 0)
    QString twinEtag() const; // base64 of the 8-byte big-endian counter ("AAAAAAAAAAE=" for 1)
    QJsonObject identityJson() const;
    QJsonObject twinJson() const;
};

struct RegistryStatistics
{
    qint64 total = 0;
    qint64 enabled = 0;
    qint64 disabled = 0;
    qint64 connected = 0;
    qint64 telemetryMessages = 0; // device-to-cloud messages since the hub started
};

struct QueryPage
{
    QJsonArray items;
    QString continuation; // empty: last page
    bool raw = false; // projection or aggregate rather than whole twins
};

struct SharedAccessPolicy
{
    QString name;
    QString primaryKey;
    QString secondaryKey;
    QStringList rights; // RegistryRead, RegistryWrite, ServiceConnect, DeviceConnect
};

// The sandbox hub's identity registry and twins in SQLite (WAL), kept across restarts.
// Failures carry Azure's error names as codes (DeviceNotFound, DeviceAlreadyExists, PreconditionFailed, …).
class Registry final
{
public:
    Registry();
    ~Registry();
    Registry(const Registry &) = delete;
    Registry &operator=(const Registry &) = delete;

    Result<void> open(const QString &path);

    // Shared access policies; created with random keys on first open.
    QList<SharedAccessPolicy> policies() const;
    std::optional<SharedAccessPolicy> policy(const QString &name) const;

    // PUT /devices/{id}: create when ifMatch is empty, else replace the writable fields.
    Result<Device> putDevice(const QString &id, const QJsonObject &body, const QString &ifMatch);
    Result<Device> device(const QString &id) const;
    // Deletes the device and its modules.
    Result<void> deleteDevice(const QString &id, const QString &ifMatch);

    // PUT /devices/{id}/modules/{moduleId}: create when ifMatch is empty, else replace the writable fields
    // (authentication, managedBy). The device must exist.
    Result<Device> putModule(
        const QString &deviceId, const QString &moduleId, const QJsonObject &body, const QString &ifMatch);
    Result<Device> module(const QString &deviceId, const QString &moduleId) const;
    Result<QList<Device>> modules(const QString &deviceId) const; // by module id
    Result<void> deleteModule(const QString &deviceId, const QString &moduleId, const QString &ifMatch);

    // A device or a module by its key (Device::key()).
    Result<Device> identity(const QString &key) const;

    // Of a device or a module, by its key.
    Result<Device> updateTwin(const QString &id, const QJsonObject &body, const QString &ifMatch, bool replace);
    Result<Device> updateReported(const QString &id, const QJsonObject &patch);
    // Of a device (a module's connection state and activity are the broker plugin's to write).
    Result<void> setConnectionState(const QString &id, bool connected);
    Result<void> touch(const QString &id); // lastActivityTime = now
    Result<void> setCloudToDeviceCount(const QString &id, int count); // messages waiting in its C2D queue

    Result<QueryPage> query(const DeviceQuery &query, int pageSize, const QString &continuation) const;
    RegistryStatistics statistics() const;

    // Adds count devices named sandbox-device-000001… with SAS keys, in one transaction.
    Result<int> seed(int count);

    // Called when a device's sessions must end, as IoT Hub ends them: the device was deleted, disabled, or
    // its authentication changed (new keys, thumbprints or type). After the change is stored.
    void setSessionCloser(std::function<void(const QString &deviceId)> closer) { m_closeSessions = std::move(closer); }

private:
    Result<Device> load(const QString &key) const;
    Result<Device> put(
        const QString &deviceId, const QString &moduleId, const QJsonObject &body, const QString &ifMatch);
    Result<void> store(const Device &device, bool insert);
    Result<void> checkEtag(const QString &ifMatch, const QString &etag) const;

    QString m_connectionName;
    QSqlDatabase m_db;
    std::function<void(const QString &deviceId)> m_closeSessions;
};

Error azureError(const QString &code, const QString &message);

// A member of a request's JSON object by name, matched case-insensitively as the hub does (SDKs differ in casing);
// undefined when absent.
QJsonValue jsonMember(const QJsonObject &object, const QString &name);

} // namespace Onboarder::Sandbox
