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
    m_keys.erase(deviceId);
}

namespace {

// Runs work(store) in the store's thread (the keychain queue behind it belongs there, which may not be the relay's: the
// GUI runs the relay on a worker thread); the future finishes there, for a continuation in the caller's.
template<typename T, typename F> QFuture<Result<T>> onStoreThread(CredentialStore *store, F work)
{
    auto promise = startedPromise<T>();
    QMetaObject::invokeMethod(store, [store, promise, work = std::move(work)]() mutable {
        work(*store).then(store, [promise](Result<T> result) { deliver<T>(promise, std::move(result)); });
    });
    return promise->future();
}

} // namespace

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
    return m_config.autoRegister ? x509Secret(deviceId) : keptSecret(deviceId, std::nullopt);
}

QFuture<Result<DeviceSecret>> RelayCredentials::keptSecret(
    const QString &deviceId, const std::optional<DeviceIdentity> &hubDevice)
{
    const QString hub = m_profile.name;
    return onStoreThread<DeviceSecret>(
        m_store, [hub, deviceId, hubDevice](CredentialStore &store) -> QFuture<Result<DeviceSecret>> {
            // The inventory says whether anything is kept (the keychain, when locked, cannot tell "none" from
            // "locked").
            if (hubDevice && !store.record(hub, deviceId))
                return failedFuture<DeviceSecret>({ErrorKind::Conflict, QStringLiteral("DeviceWithoutCredential"),
                    RelayCredentials::tr(
                        "The hub has the device %1 (%2 authentication), but no certificate and key are kept "
                        "here for it: the relay cannot speak for it. Import its credential "
                        "(onboarder-cli cred import) or delete the device to let the relay register it anew.")
                        .arg(deviceId, hubDevice->authType)});
            return store.deviceCredential(hub, deviceId)
                .then([deviceId, hubDevice](Result<DeviceCredential> credential) -> Result<DeviceSecret> {
                    if (!credential)
                        return std::unexpected(credential.error());
                    if (hubDevice) {
                        const Certificate &ours = credential->certificate;
                        const bool takes = hubDevice->authType == QStringLiteral("certificateAuthority")
                            || (hubDevice->authType == QStringLiteral("selfSigned")
                                && hubDevice->holdsThumbprint(ours.thumbprintSha1(), ours.thumbprintSha256()));
                        if (!takes)
                            return fail(ErrorKind::Conflict, QStringLiteral("DeviceConflict"),
                                RelayCredentials::tr(
                                    "The hub has the device %1 with %2 authentication that does not take the "
                                    "certificate kept here (%3…); nothing was changed.")
                                    .arg(deviceId, hubDevice->authType, ours.thumbprintSha256().left(16)));
                    }
                    return DeviceSecret{{}, credential->certificate.toPem(), credential->key.privateKeyPem()};
                });
        });
}

QFuture<Result<DeviceSecret>> RelayCredentials::x509Secret(const QString &deviceId)
{
    auto promise = startedPromise<DeviceSecret>();
    m_registry->device(deviceId).then(this, [this, promise, deviceId](Result<DeviceIdentity> device) {
        if (device) {
            keptSecret(deviceId, *device).then(this, [promise](Result<DeviceSecret> secret) {
                deliver<DeviceSecret>(promise, std::move(secret));
            });
            return;
        }
        if (device.error().kind != ErrorKind::NotFound) {
            deliver<DeviceSecret>(promise, std::unexpected(device.error()));
            return;
        }
        registerX509(deviceId, promise);
    });
    return promise->future();
}

// An unknown device: its credential (what an earlier run made, or made now), then the hub device with it.
void RelayCredentials::registerX509(const QString &deviceId, const SharedPromise<DeviceSecret> &promise)
{
    const QString hub = m_profile.name;
    const QString caName = m_config.autoRegisterCa;
    onStoreThread<CredentialRecord>(m_store, [hub, deviceId, caName](CredentialStore &store) {
        const auto kept = store.record(hub, deviceId);
        const auto wanted
            = caName.isEmpty() ? CredentialRecord::Kind::X509SelfSigned : CredentialRecord::Kind::X509CaSigned;
        if (kept && kept->kind == wanted && kept->keyLocation == CredentialRecord::KeyLocation::Keychain)
            return QtFuture::makeReadyFuture(Result<CredentialRecord>(*kept));
        CredentialStore::GenerateOptions options;
        options.caName = caName;
        options.madeBy = QStringLiteral("relay");
        options.replace = kept.has_value(); // a credential that cannot serve (its key left for a device) is replaced
        return store.generate(hub, deviceId, options);
    }).then(this, [this, promise, deviceId](Result<CredentialRecord> record) {
        if (!record) {
            deliver<DeviceSecret>(promise, std::unexpected(record.error()));
            return;
        }
        DeviceIdentity draft;
        draft.id = deviceId;
        if (record->kind == CredentialRecord::Kind::X509CaSigned) {
            draft.authType = QStringLiteral("certificateAuthority");
        } else {
            draft.authType = QStringLiteral("selfSigned");
            draft.primaryThumbprint = record->thumbprintSha256;
            draft.secondaryThumbprint = record->thumbprintSha1;
        }
        m_registry->createDevice(draft).then(this, [this, promise, deviceId](Result<DeviceIdentity> created) {
            if (!created && created.error().kind != ErrorKind::Conflict) {
                deliver<DeviceSecret>(promise, std::unexpected(created.error()));
                return;
            }
            if (created) {
                qCInfo(lcRelay) << "registered device" << deviceId << "with a certificate made here";
                Q_EMIT deviceRegistered(deviceId);
            }
            // Registered in between by someone else: the hub's device must take this certificate.
            const auto use = [this, promise, deviceId](const DeviceIdentity &device) {
                keptSecret(deviceId, device).then(this, [promise](Result<DeviceSecret> secret) {
                    deliver<DeviceSecret>(promise, std::move(secret));
                });
            };
            if (created) {
                use(*created);
                return;
            }
            m_registry->device(deviceId).then(this, [promise, use](Result<DeviceIdentity> again) {
                if (again)
                    use(*again);
                else
                    deliver<DeviceSecret>(promise, std::unexpected(again.error()));
            });
        });
    });
}

QFuture<Result<DeviceSecret>> RelayCredentials::sasSecret(const QString &deviceId)
{
    auto promise = startedPromise<DeviceSecret>();
    if (const auto key = m_keys.find(deviceId); key != m_keys.end()) {
        deliver<DeviceSecret>(promise, DeviceSecret{key->second.copy(), {}, {}});
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
        SecretBytes key = SecretBytes::fromString(QString(device.primaryKey));
        deliver<DeviceSecret>(promise, DeviceSecret{key.copy(), {}, {}});
        m_keys.insert_or_assign(deviceId, std::move(key));
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
