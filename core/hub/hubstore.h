#pragma once

#include "common/result.h"
#include "hub/connectionstring.h"
#include "hub/hubprofile.h"

#include <QFuture>
#include <QObject>
#include <QSet>

#include <optional>

namespace Onboarder {

class SecretStore;
class Settings;

// Where a hub is reached, when not at Azure's defaults (the sandbox, a gateway).
struct HubEndpoint
{
    int restPort = 0; // 0: Azure's 443
    int mqttPort = 0; // 0: Azure's 8883
    QString caFile; // extra CA to trust for this hub only (the sandbox's); empty: system CAs
    int amqpPort = 0; // 0: Azure's 5671
    bool webSockets = false; // MQTT and AMQP over WebSockets on the REST port
    QUrl proxy{}; // http://HOST:PORT; empty: none
};

// The hubs the user has added: profiles in the settings, connection strings in the keychain.
// Adding writes the keychain first and the profile only once the secret is safe; a failure at any
// point leaves neither behind.
class HubStore final : public QObject
{
    Q_OBJECT

public:
    HubStore(Settings &settings, SecretStore &secrets, QObject *parent = nullptr);

    QList<HubProfile> hubs() const;
    std::optional<HubProfile> find(const QString &name) const;

    // Checks everything that can be checked without the keychain: the name (rules, not taken),
    // the connection string (a hub's shared access policy, not a device's), the endpoint overrides.
    Result<HubProfile> validate(
        const QString &name, const QString &connectionString, const HubEndpoint &endpoint = {}) const;

    QFuture<Result<HubProfile>> add(
        const QString &name, const QString &connectionString, const HubEndpoint &endpoint = {});
    QFuture<Result<void>> remove(const QString &name);
    QFuture<Result<ConnectionString>> connectionString(const QString &name);

    // Keeps the hub's Event Hub-compatible connection string in the keychain beside the hub's own; telemetry is then
    // read there instead of through the hub's redirect. An empty string forgets it. The string is checked first
    // (an IoT Hub connection string given here is recognised and explained).
    QFuture<Result<void>> setEventHub(const QString &name, const QString &connectionString);
    // The Event Hub-compatible connection string kept for the hub; empty when none is.
    QFuture<Result<QString>> eventHubConnectionString(const QString &name);

Q_SIGNALS:
    void hubsChanged();

private:
    Result<void> setEventHubFlag(const QString &name, bool kept);

    Settings &m_settings;
    SecretStore &m_secrets;
    QSet<QString> m_pending; // names being added right now
};

} // namespace Onboarder
