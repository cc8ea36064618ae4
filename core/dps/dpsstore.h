#pragma once

#include "common/result.h"
#include "dps/dpsprofile.h"
#include "hub/connectionstring.h"

#include <QFuture>
#include <QObject>
#include <QSet>

#include <optional>

namespace Onboarder {

class SecretStore;
class Settings;

// Where a DPS is reached and how it is known, besides its connection string (dps add's options).
struct DpsEndpoint
{
    QString idScope;
    int restPort = 0; // 0: Azure's 443
    int mqttPort = 0; // 0: Azure's 8883
    QString address; // a sandbox's address (service and device registration); empty: Azure's hosts
    QString caFile; // extra CA to trust for this DPS only; empty: system CAs
};

// The Device Provisioning Service instances the user has added: profiles in the settings, service connection
// strings in the keychain. Adding writes the keychain first and the profile only once the secret is safe; a
// failure at any point leaves neither behind.
class DpsStore final : public QObject
{
    Q_OBJECT

public:
    DpsStore(Settings &settings, SecretStore &secrets, QObject *parent = nullptr);

    QList<DpsProfile> instances() const;
    std::optional<DpsProfile> find(const QString &name) const;

    // Checks everything that can be checked without the keychain: the name, the connection string (a DPS shared
    // access policy's; an IoT hub's is recognised and explained), the ID scope, the endpoint overrides.
    Result<DpsProfile> validate(
        const QString &name, const QString &connectionString, const DpsEndpoint &endpoint) const;

    QFuture<Result<DpsProfile>> add(const QString &name, const QString &connectionString, const DpsEndpoint &endpoint);
    QFuture<Result<void>> remove(const QString &name);
    QFuture<Result<ConnectionString>> connectionString(const QString &name);

    // True when the connection string names a DPS (its host or its policy says so), for refusing one given as a
    // hub's with a useful sentence.
    static bool looksLikeDps(const ConnectionString &connectionString);

Q_SIGNALS:
    void instancesChanged();

private:
    Settings &m_settings;
    SecretStore &m_secrets;
    QSet<QString> m_pending;
};

} // namespace Onboarder
