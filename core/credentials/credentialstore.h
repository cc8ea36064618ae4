#pragma once

#include "common/result.h"
#include "common/secretbytes.h"
#include "credentials/certificateauthority.h"
#include "credentials/credentialinventory.h"
#include "credentials/devicecredential.h"
#include "credentials/keypair.h"

#include <QFuture>
#include <QObject>

namespace Onboarder {

class CertificateRequest;
class SecretStore;

// Device credentials and imported CAs: secrets in the keychain, public parts in files, and an inventory.
//
// Keychain entries (service AppInfo::keychainService(), "Onboarder"), per hub profile and device:
//   hub/<hub>/connection-string                    the hub's connection string (HubStore)
//   hub/<hub>/device/<deviceId>/private-key        a device's X.509 private key, PKCS#8 PEM
//   hub/<hub>/device/<deviceId>/symmetric-key/primary
//   hub/<hub>/device/<deviceId>/symmetric-key/secondary   a device's SAS keys, base64 as the hub gives them
//   ca/<caName>/private-key                        an imported CA's private key, PKCS#8 PEM
// Files (public only), under the app data dir (~/.local/share/onboarder):
//   credentials/inventory.json                     the inventory (CredentialInventory)
//   credentials/hubs/<hub>/devices/<deviceId>/certificate.pem   (deviceId percent-encoded: fileNameFor())
//   credentials/cas/<caName>/certificate.pem       (and chain.pem when the CA came with intermediates)
// Nothing secret is ever written to a file or a log. A device has at most one X.509 credential; making
// another needs replace = true.
//
// Threads: call it only from the thread it lives on, which must be its SecretStore's (it calls the store directly);
// its futures finish there. The relay posts its calls to that thread (RelayCredentials). generate() makes the key
// and certificate on Qt's global thread pool and continues on the store's thread.
class CredentialStore final : public QObject
{
    Q_OBJECT

public:
    enum class KeySlot { Primary, Secondary };

    struct GenerateOptions
    {
        KeyPair::Type keyType = KeyPair::Type::EcP256;
        int validityDays = 365;
        QString caName; // empty: self-signed; else signed by this imported CA
        bool replace = false; // replace an existing X.509 credential of the device
        QString madeBy; // CredentialRecord::madeBy ("relay"); empty: by hand
    };

    // dataDir: the app data dir (AppInfo::dataDir(); tests give a temporary one).
    CredentialStore(SecretStore &secrets, const QString &dataDir, QObject *parent = nullptr);

    static QString privateKeyEntry(const QString &hub, const QString &deviceId);
    static QString symmetricKeyEntry(const QString &hub, const QString &deviceId, KeySlot slot);
    static QString caKeyEntry(const QString &caName);
    // A device id as a file name: characters outside A–Z a–z 0–9 - _ . ~ percent-encoded, a leading '.' too.
    static QString fileNameFor(const QString &deviceId);

    QString rootDir() const { return m_root; }
    QString certificatePath(const QString &hub, const QString &deviceId) const;
    QString caCertificatePath(const QString &caName) const;

    // A new key pair (in the background) and a certificate with CN = deviceId: self-signed, or signed by
    // the imported CA options.caName (keyType then only says what the device's key is).
    QFuture<Result<CredentialRecord>> generate(
        const QString &hub, const QString &deviceId, const GenerateOptions &options);
    // A certificate and key made elsewhere, checked with DeviceCredential::import first.
    QFuture<Result<CredentialRecord>> importDevice(
        const QString &hub, const QString &deviceId, const DeviceCredential &credential, bool replace = false);
    // Signs a device's CSR (its key stays on the device) with the imported CA caName.
    QFuture<Result<CredentialRecord>> signRequest(const QString &hub, const QString &deviceId, const QString &caName,
        const CertificateRequest &csr, int validityDays, bool replace = false);
    QFuture<Result<void>> remove(const QString &hub, const QString &deviceId);
    // The device's private key now lives only on the device (flashed into a modem): records
    // KeyLocation::Device in the inventory, then removes the key from the keychain. A failed inventory
    // write leaves both as they were; a key that could not be removed (or was left by an earlier call) is
    // removed by the next call, also for a credential whose key is on the device already.
    QFuture<Result<CredentialRecord>> moveKeyToDevice(const QString &hub, const QString &deviceId);

    QFuture<Result<CredentialRecord>> importCertificateAuthority(
        const QString &name, const CertificateAuthority &ca, bool replace = false);
    QFuture<Result<CertificateAuthority>> certificateAuthority(const QString &name);

    // The keys as the hub gives them (base64 text).
    QFuture<Result<void>> saveSymmetricKeys(
        const QString &hub, const QString &deviceId, SecretBytes primaryKey, SecretBytes secondaryKey);
    QFuture<Result<SecretBytes>> symmetricKey(const QString &hub, const QString &deviceId, KeySlot slot);

    // What the inventory knows (re-read from disk on every call).
    Result<QList<CredentialRecord>> records() const;
    Result<CredentialRecord> record(const QString &hub, const QString &deviceId) const; // the device's X.509 credential
    Result<Certificate> certificate(const QString &hub, const QString &deviceId) const;
    // Certificate and private key, for an export. KeyOnDevice when the key was never here.
    QFuture<Result<DeviceCredential>> deviceCredential(const QString &hub, const QString &deviceId);

Q_SIGNALS:
    void credentialsChanged();

private:
    struct Slot
    {
        CredentialRecord record; // kind, hub, deviceId, keychainEntry, certificateFile filled in
        QList<Certificate> chain;
    };

    Result<void> checkDeviceSlot(const QString &hub, const QString &deviceId, bool replace) const;
    Slot deviceSlot(const QString &hub, const QString &deviceId, CredentialRecord::Kind kind) const;
    // Key to the keychain (when given), certificate to its file, record to the inventory; undoes what it
    // did when a later step fails.
    QFuture<Result<CredentialRecord>> persist(Slot slot, const Certificate &certificate, const KeyPair &key);
    Result<CredentialRecord> writeFiles(Slot slot, const Certificate &certificate);
    CredentialInventory inventory() const;

    SecretStore &m_secrets;
    QString m_root;
};

} // namespace Onboarder
