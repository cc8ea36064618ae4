#pragma once

#include "common/result.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QObject>

namespace Onboarder::Sandbox {

class Registry;

// IoT Hub's configurations (automatic device management) as the sandbox keeps them: PUT, GET, DELETE
// /configurations/{id} and GET /configurations. A configuration targets the devices its targetCondition selects;
// on each device the one of highest priority (then the newest) of those that set device twins applies, and its
// deviceContent
// ("properties.desired.<name>": value) is merged into the device's desired properties when the configuration is
// written. Its metrics are counted when it is read: systemMetrics targetedCount and appliedCount, and each of its
// own metrics queries' rows.
//
// Configurations live in memory: the sandbox forgets them when it restarts. The hub re-evaluates target conditions
// every few minutes; the sandbox only when a configuration is written. Module content is kept, not applied.
// Threads: the sandbox's main thread.
class Configurations final : public QObject
{
    Q_OBJECT

public:
    explicit Configurations(Registry &registry, QObject *parent = nullptr);

    // Creates (ifMatch empty: ConfigurationAlreadyExists if taken) or replaces (ifMatch "*" or the etag:
    // PreconditionFailed, ConfigurationNotFound) one; ArgumentInvalid for what the hub would refuse.
    Result<QJsonObject> put(const QString &id, const QJsonObject &body, const QString &ifMatch);
    Result<QJsonObject> get(const QString &id) const; // with its metrics counted now
    QList<QJsonObject> list(int top) const; // oldest first, at most top
    Result<void> remove(const QString &id, const QString &ifMatch);

Q_SIGNALS:
    // Writing a configuration changed a device's desired properties (as RegistryServer's signal of the same name).
    void desiredPropertiesChanged(const QString &deviceId, const QJsonObject &patch, qint64 version);

private:
    struct Entry
    {
        QJsonObject body; // as written, without the read-only members
        QString targetCondition;
        int priority = 0;
        QDateTime created;
        QDateTime updated;
        qint64 etag = 1;
        bool deviceContent = false; // it sets device twins (else modules'): the two kinds do not compete
    };

    Result<QStringList> devicesOf(const QString &condition) const; // ids of the devices a condition selects
    Result<QStringList> appliedDevices(const QString &id) const; // the targeted devices where id wins
    QJsonObject toJson(const QString &id, const Entry &entry) const;
    void apply(const QString &id);

    Registry &m_registry;
    QList<std::pair<QString, Entry>> m_entries; // in creation order
    qint64 m_lastEtag = 0; // of every configuration written, so that an ETag never comes back
};

} // namespace Onboarder::Sandbox
