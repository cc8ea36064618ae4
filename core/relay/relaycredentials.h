#pragma once

#include "common/result.h"
#include "hub/connectionstring.h"
#include "hub/hubprofile.h"
#include "relay/relayconfig.h"

#include <QFuture>
#include <QHash>
#include <QObject>

#include <memory>

namespace Onboarder {

class CredentialStore;
class HubClient;

// What a device needs to open its hub session.
struct DeviceSecret
{
    QString sasKey; // base64 (SAS devices)
    QByteArray certificatePem; // X.509 devices
    QByteArray privateKeyPem;
};

// Finds the hub credentials of the devices the relay speaks for: SAS keys from the registry (with the
// hub's service connection string), registering a device that does not exist when auto-registration is
// on; or certificates and keys from the keychain (CredentialStore). SAS keys are cached in memory
// until forget() (after the hub refused one); nothing is written anywhere.
class RelayCredentials final : public QObject
{
    Q_OBJECT

public:
    RelayCredentials(const RelayConfig &config, const HubProfile &profile, const ConnectionString &service,
        CredentialStore *store, QObject *parent = nullptr);
    ~RelayCredentials() override;

    // NotFound (code "DeviceNotFound") when the device is not in the registry and auto-registration is off.
    QFuture<Result<DeviceSecret>> secret(const QString &deviceId);
    void forget(const QString &deviceId);

Q_SIGNALS:
    void deviceRegistered(const QString &deviceId);

private:
    QFuture<Result<DeviceSecret>> sasSecret(const QString &deviceId);

    RelayConfig m_config;
    HubProfile m_profile;
    std::unique_ptr<HubClient> m_registry;
    CredentialStore *m_store = nullptr;
    QHash<QString, QString> m_keys;
};

} // namespace Onboarder
