#pragma once

#include "common/promise.h"
#include "common/result.h"
#include "common/secretbytes.h"
#include "hub/connectionstring.h"
#include "hub/hubclient.h"
#include "hub/hubprofile.h"
#include "relay/relayconfig.h"

#include <QFuture>
#include <QHash>
#include <QObject>

#include <map>
#include <memory>
#include <optional>

namespace Onboarder {

class CredentialStore;
class HubClient;

// What a device needs to open its hub session (move-only: its keys are SecretBytes).
struct DeviceSecret
{
    SecretBytes sasKey; // base64 text (SAS devices)
    QByteArray certificatePem; // X.509 devices
    SecretBytes privateKeyPem;
};

// Finds the hub credentials of the devices the relay speaks for: SAS keys from the registry (with the
// hub's service connection string), registering a device that does not exist when auto-registration is
// on; or certificates and keys from the keychain (CredentialStore). With X.509 and auto-registration, a
// device the hub does not know gets a key and certificate made here (self-signed, or signed by the
// configuration's CA), kept in the keychain and the inventory marked as made by the relay, and is
// registered with that certificate; a later run finds and uses them again. SAS keys are cached in memory
// until forget() (after the hub refused one). Every failure is the device's own (its link retries).
//
// Threads: one thread, the one it was created in (its HubClient is a member, not a child: it cannot be moved): the
// Relay's. Calls to the CredentialStore run on the store's thread (posted there; its keychain queue belongs there),
// so a future from secret() may finish on that thread: continue it with then(context, …).
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
    QFuture<Result<DeviceSecret>> x509Secret(const QString &deviceId);
    // The certificate and key kept for the device; with hubDevice, checked against what the hub holds.
    QFuture<Result<DeviceSecret>> keptSecret(const QString &deviceId, const std::optional<DeviceIdentity> &hubDevice);
    void registerX509(const QString &deviceId, const SharedPromise<DeviceSecret> &promise);

    RelayConfig m_config;
    HubProfile m_profile;
    std::unique_ptr<HubClient> m_registry;
    CredentialStore *m_store = nullptr;
    std::map<QString, SecretBytes> m_keys; // SAS keys by device id
};

} // namespace Onboarder
