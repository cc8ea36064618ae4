#include "relay/relaycredentials.h"

#include "common/logging.h"
#include "common/promise.h"
#include "credentials/credentialstore.h"
#include "hub/hubclient.h"

namespace Onboarder {

RelayCredentials::RelayCredentials(const RelayConfig &config, const HubProfile &profile,
    const ConnectionString &service, CredentialStore *store, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_profile(profile)
    , m_registry(std::make_unique<HubClient>(profile, service))
    , m_store(store)
{ }

RelayCredentials::~RelayCredentials() = default;

void RelayCredentials::forget(const QString &deviceId)
{
    m_keys.remove(deviceId);
}

QFuture<Result<DeviceSecret>> RelayCredentials::secret(const QString &deviceId)
{
    if (m_config.deviceAuth == RelayConfig::DeviceAuth::Sas)
        return sasSecret(deviceId);
    if (!m_store) {
        auto promise = startedPromise<DeviceSecret>();
        deliver<DeviceSecret>(promise,
            fail(ErrorKind::Internal, QStringLiteral("NoCredentialStore"),
                tr("The relay has no keychain access for X.509 devices.")));
        return promise->future();
    }
    // The store (and the keychain queue behind it) belongs to its own thread, which may not be the
    // relay's (the GUI runs the relay on a worker thread): the request is posted there.
    auto promise = startedPromise<DeviceSecret>();
    QMetaObject::invokeMethod(m_store, [store = m_store, hub = m_profile.name, deviceId, promise] {
        store->deviceCredential(hub, deviceId).then(store, [promise](Result<DeviceCredential> credential) {
            if (!credential) {
                deliver<DeviceSecret>(promise, std::unexpected(credential.error()));
                return;
            }
            deliver<DeviceSecret>(
                promise, DeviceSecret { {}, credential->certificate.toPem(), credential->key.privateKeyPem() });
        });
    });
    return promise->future();
}

QFuture<Result<DeviceSecret>> RelayCredentials::sasSecret(const QString &deviceId)
{
    auto promise = startedPromise<DeviceSecret>();
    if (const auto key = m_keys.constFind(deviceId); key != m_keys.cend()) {
        deliver<DeviceSecret>(promise, DeviceSecret { *key, {}, {} });
        return promise->future();
    }
    const auto found = [this, promise, deviceId](const DeviceIdentity &device) {
        if (device.authType != QStringLiteral("sas") || device.primaryKey.isEmpty()) {
            deliver<DeviceSecret>(promise,
                fail(ErrorKind::Conflict, QStringLiteral("DeviceNotSas"),
                    tr("The device %1 does not use SAS keys; set \"deviceAuth\": \"x509\" for "
                       "certificate devices.")
                        .arg(deviceId)));
            return;
        }
        m_keys.insert(deviceId, device.primaryKey);
        deliver<DeviceSecret>(promise, DeviceSecret { device.primaryKey, {}, {} });
    };
    m_registry->device(deviceId).then(this, [this, promise, deviceId, found](Result<DeviceIdentity> device) {
        if (device) {
            found(*device);
            return;
        }
        if (device.error().kind != ErrorKind::NotFound || !m_config.autoRegister) {
            deliver<DeviceSecret>(promise, std::unexpected(device.error()));
            return;
        }
        DeviceIdentity draft;
        draft.id = deviceId;
        m_registry->createDevice(draft).then(this, [this, promise, deviceId, found](Result<DeviceIdentity> created) {
            if (created) {
                qCInfo(lcRelay) << "registered device" << deviceId;
                Q_EMIT deviceRegistered(deviceId);
                found(*created);
                return;
            }
            if (created.error().kind != ErrorKind::Conflict) {
                deliver<DeviceSecret>(promise, std::unexpected(created.error()));
                return;
            }
            // Someone registered it in between: read it again.
            m_registry->device(deviceId).then(this, [promise, found](Result<DeviceIdentity> again) {
                if (again)
                    found(*again);
                else
                    deliver<DeviceSecret>(promise, std::unexpected(again.error()));
            });
        });
    });
    return promise->future();
}

} // namespace Onboarder
