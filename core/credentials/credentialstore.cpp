#include "credentialstore.h"

#include "certificaterequest.h"
#include "common/logging.h"
#include "common/promise.h"
#include "credentials/secretstore.h"
#include "hub/identifiers.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSaveFile>
#include <QUrl>

namespace Onboarder {

namespace {

Result<void> validateDevice(const QString &hub, const QString &deviceId)
{
    if (auto ok = Identifiers::validateHubProfileName(hub); !ok)
        return ok;
    return Identifiers::validateDeviceId(deviceId);
}

Result<void> validateCaName(const QString &name)
{
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"));
    if (!pattern.match(name).hasMatch())
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidCaName"),
            CredentialStore::tr("\"%1\" cannot name a CA: use 1 to 64 ASCII letters, digits and . _ -, starting with a "
                                "letter or digit.")
                .arg(name));
    return {};
}

Result<void> writeFile(const QString &path, const QByteArray &data)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    // Flushed before the commit, which would put a truncated file in place after a short flush (Qt 6.4).
    if (!file.open(QIODevice::WriteOnly) || file.write(data) != data.size() || !file.flush() || !file.commit())
        return fail(ErrorKind::Internal, QStringLiteral("CertificateUnwritable"),
            CredentialStore::tr("Cannot write %1: %2").arg(path, file.errorString()));
    return {};
}

// A private key as the keychain gave it (PKCS#8 PEM); the PEM goes (wiped) with pem.
Result<KeyPair> keyFromSecret(Result<SecretBytes> pem)
{
    if (!pem)
        return std::unexpected(pem.error());
    return KeyPair::fromPem(pem->view());
}

// Whether a symmetric key is base64 of at least 16 bytes. The decoded bytes are wiped (decoded in place in the
// exposed copy, which goes with them).
bool isSymmetricKey(const SecretBytes &key)
{
    auto decoded = QByteArray::fromBase64Encoding(key.exposeForWire(), QByteArray::AbortOnBase64DecodingErrors);
    const bool ok = decoded && decoded.decoded.size() >= 16;
    SecretBytes::fromQByteArray(std::move(decoded.decoded)).clear();
    return ok;
}

// The certificate file of a record; what says whose it is, for the error.
Result<Certificate> readCertificateFile(const QString &path, const QString &whose)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorKind::NotFound, QStringLiteral("CertificateFileMissing"),
            CredentialStore::tr("The certificate of %1 should be in %2, but that file cannot be read: %3")
                .arg(whose, path, file.errorString()));
    return Certificate::fromPem(file.readAll());
}

// Makes a key pair and its certificate: self-signed when ca is null, else signed by ca through a CSR.
// Runs in the background (RSA key generation takes seconds).
Result<DeviceCredential> makeCredential(
    const QString &deviceId, const CredentialStore::GenerateOptions &options, const CertificateAuthority &ca)
{
    auto key = KeyPair::generate(options.keyType);
    if (!key)
        return std::unexpected(key.error());
    Result<Certificate> cert;
    if (ca.isNull()) {
        cert = Certificate::selfSigned(*key, {deviceId, {}, {}, options.validityDays, Certificate::Usage::Client});
    } else {
        const auto csr = CertificateRequest::create(*key, deviceId);
        if (!csr)
            return std::unexpected(csr.error());
        cert = ca.sign(*csr, options.validityDays);
    }
    if (!cert)
        return std::unexpected(cert.error());
    return DeviceCredential{*cert, *key};
}

} // namespace

CredentialStore::CredentialStore(SecretStore &secrets, const QString &dataDir, QObject *parent)
    : QObject(parent)
    , m_secrets(secrets)
    , m_root(QDir(dataDir).filePath(QStringLiteral("credentials")))
{ }

QString CredentialStore::privateKeyEntry(const QString &hub, const QString &deviceId)
{
    return QStringLiteral("hub/%1/device/%2/private-key").arg(hub, deviceId);
}

QString CredentialStore::symmetricKeyEntry(const QString &hub, const QString &deviceId, KeySlot slot)
{
    return QStringLiteral("hub/%1/device/%2/symmetric-key/%3")
        .arg(hub, deviceId, slot == KeySlot::Primary ? QStringLiteral("primary") : QStringLiteral("secondary"));
}

QString CredentialStore::caKeyEntry(const QString &caName)
{
    return QStringLiteral("ca/%1/private-key").arg(caName);
}

QString CredentialStore::fileNameFor(const QString &deviceId)
{
    QString name = QString::fromLatin1(QUrl::toPercentEncoding(deviceId));
    if (name.startsWith(u'.'))
        name.replace(0, 1, QStringLiteral("%2E"));
    return name;
}

QString CredentialStore::certificatePath(const QString &hub, const QString &deviceId) const
{
    return QStringLiteral("%1/hubs/%2/devices/%3/certificate.pem").arg(m_root, hub, fileNameFor(deviceId));
}

QString CredentialStore::caCertificatePath(const QString &caName) const
{
    return QStringLiteral("%1/cas/%2/certificate.pem").arg(m_root, caName);
}

CredentialInventory CredentialStore::inventory() const
{
    return CredentialInventory(m_root + QStringLiteral("/inventory.json"));
}

Result<QList<CredentialRecord>> CredentialStore::records() const
{
    CredentialInventory inv = inventory();
    if (auto loaded = inv.load(); !loaded)
        return std::unexpected(loaded.error());
    return inv.records();
}

Result<CredentialRecord> CredentialStore::record(const QString &hub, const QString &deviceId) const
{
    CredentialInventory inv = inventory();
    if (auto loaded = inv.load(); !loaded)
        return std::unexpected(loaded.error());
    if (auto found = inv.x509(hub, deviceId))
        return *found;
    return fail(ErrorKind::NotFound, QStringLiteral("CredentialNotFound"),
        tr("Device \"%1\" of hub \"%2\" has no X.509 credential on this computer; make or import one first.")
            .arg(deviceId, hub));
}

Result<Certificate> CredentialStore::certificate(const QString &hub, const QString &deviceId) const
{
    const auto found = record(hub, deviceId);
    if (!found)
        return std::unexpected(found.error());
    return readCertificateFile(found->certificateFile, tr("device \"%1\"").arg(deviceId));
}

Result<void> CredentialStore::checkDeviceSlot(const QString &hub, const QString &deviceId, bool replace) const
{
    if (auto ok = validateDevice(hub, deviceId); !ok)
        return ok;
    const auto existing = record(hub, deviceId);
    if (existing && !replace)
        return fail(ErrorKind::Conflict, QStringLiteral("CredentialExists"),
            tr("Device \"%1\" of hub \"%2\" has an X.509 credential already (%3, made %4). Replacing it deletes "
               "its private key, so it must be asked for explicitly.")
                .arg(deviceId, hub, CredentialRecord::kindName(existing->kind),
                    existing->createdAt.toString(Qt::ISODate)));
    if (!existing && existing.error().kind != ErrorKind::NotFound)
        return std::unexpected(existing.error());
    return {};
}

CredentialStore::Slot CredentialStore::deviceSlot(
    const QString &hub, const QString &deviceId, CredentialRecord::Kind kind) const
{
    Slot slot;
    slot.record.hub = hub;
    slot.record.deviceId = deviceId;
    slot.record.kind = kind;
    slot.record.keychainEntry = privateKeyEntry(hub, deviceId);
    slot.record.certificateFile = certificatePath(hub, deviceId);
    return slot;
}

Result<CredentialRecord> CredentialStore::writeFiles(Slot slot, const Certificate &certificate)
{
    CredentialRecord &record = slot.record;
    record.thumbprintSha1 = certificate.thumbprintSha1();
    record.thumbprintSha256 = certificate.thumbprintSha256();
    record.notAfter = certificate.notAfter();
    record.createdAt = QDateTime::currentDateTimeUtc();
    if (record.issuer.isEmpty())
        record.issuer = certificate.issuerCommonName();
    if (auto ok = writeFile(record.certificateFile, certificate.toPem()); !ok)
        return std::unexpected(ok.error());
    const QString chainFile = QFileInfo(record.certificateFile).absolutePath() + QStringLiteral("/chain.pem");
    QByteArray chainPem;
    for (const Certificate &c : slot.chain)
        chainPem += c.toPem();
    if (!chainPem.isEmpty()) {
        if (auto ok = writeFile(chainFile, chainPem); !ok)
            return std::unexpected(ok.error());
    } else {
        QFile::remove(chainFile);
    }
    CredentialInventory inv = inventory();
    if (auto ok = inv.put(record); !ok) {
        QFile::remove(record.certificateFile);
        return std::unexpected(ok.error());
    }
    qCInfo(lcCredentials) << "stored" << CredentialRecord::kindName(record.kind) << record.deviceId << "of hub"
                          << record.hub << "thumbprint" << record.thumbprintSha1;
    return record;
}

QFuture<Result<CredentialRecord>> CredentialStore::persist(
    Slot slot, const Certificate &certificate, const KeyPair &key)
{
    if (key.isNull()) {
        slot.record.keyLocation = CredentialRecord::KeyLocation::Device;
        slot.record.keychainEntry.clear();
        auto written = writeFiles(std::move(slot), certificate);
        if (written)
            Q_EMIT credentialsChanged();
        return readyFuture(written);
    }
    slot.record.keyLocation = CredentialRecord::KeyLocation::Keychain;
    slot.record.keyType = key.algorithmName();
    return m_secrets.save(slot.record.keychainEntry, key.privateKeyPem())
        .then(this,
            [this, slot, certificate](Result<void> stored) -> QFuture<Result<CredentialRecord>> {
                if (!stored)
                    return failedFuture<CredentialRecord>(stored.error());
                auto written = writeFiles(slot, certificate);
                if (written) {
                    Q_EMIT credentialsChanged();
                    return readyFuture(written);
                }
                // The key must not outlive a credential the inventory does not know.
                return m_secrets.remove(slot.record.keychainEntry).then(this, [written](Result<void>) {
                    return written;
                });
            })
        .unwrap();
}

QFuture<Result<CredentialRecord>> CredentialStore::generate(
    const QString &hub, const QString &deviceId, const GenerateOptions &options)
{
    if (auto ok = checkDeviceSlot(hub, deviceId, options.replace); !ok)
        return failedFuture<CredentialRecord>(ok.error());
    if (options.keyType == KeyPair::Type::Other)
        return failedFuture<CredentialRecord>({ErrorKind::InvalidInput, QStringLiteral("UnsupportedKeyType"),
            tr("Choose EC P-256, RSA 2048 or RSA 3072 for a new key.")});
    const auto kind
        = options.caName.isEmpty() ? CredentialRecord::Kind::X509SelfSigned : CredentialRecord::Kind::X509CaSigned;
    Slot slot = deviceSlot(hub, deviceId, kind);
    slot.record.issuer = options.caName;
    slot.record.madeBy = options.madeBy;

    QFuture<Result<CertificateAuthority>> ca = options.caName.isEmpty()
        ? readyFuture(Result<CertificateAuthority>(CertificateAuthority()))
        : certificateAuthority(options.caName);
    return ca
        .then(this,
            [deviceId, options](Result<CertificateAuthority> issuer) -> QFuture<Result<DeviceCredential>> {
                if (!issuer)
                    return failedFuture<DeviceCredential>(issuer.error());
                return runInBackground(
                    [deviceId, options, issuer = *issuer] { return makeCredential(deviceId, options, issuer); });
            })
        .unwrap()
        .then(this,
            [this, slot](Result<DeviceCredential> made) {
                if (!made)
                    return failedFuture<CredentialRecord>(made.error());
                return persist(slot, made->certificate, made->key);
            })
        .unwrap();
}

QFuture<Result<CredentialRecord>> CredentialStore::moveKeyToDevice(const QString &hub, const QString &deviceId)
{
    auto found = record(hub, deviceId);
    if (!found)
        return failedFuture<CredentialRecord>(found.error());
    // The inventory first, the keychain after: when the inventory cannot be written the key is still where
    // the inventory says (the job that flashed it runs again); when the key cannot be removed, the next call
    // removes it.
    const QString entry = found->keychainEntry.isEmpty() ? privateKeyEntry(hub, deviceId) : found->keychainEntry;
    CredentialRecord moved = *found;
    if (moved.keyLocation != CredentialRecord::KeyLocation::Device) {
        moved.keyLocation = CredentialRecord::KeyLocation::Device;
        moved.keychainEntry.clear();
        if (auto put = inventory().put(moved); !put)
            return failedFuture<CredentialRecord>(put.error());
        Q_EMIT credentialsChanged();
    }
    return m_secrets.remove(entry).then(this, [moved](Result<void> removed) -> Result<CredentialRecord> {
        if (!removed && removed.error().kind != ErrorKind::NotFound)
            return std::unexpected(removed.error());
        return moved;
    });
}

QFuture<Result<CredentialRecord>> CredentialStore::importDevice(
    const QString &hub, const QString &deviceId, const DeviceCredential &credential, bool replace)
{
    if (auto ok = checkDeviceSlot(hub, deviceId, replace); !ok)
        return failedFuture<CredentialRecord>(ok.error());
    if (auto ok = credential.certificate.checkUsableWith(credential.key); !ok)
        return failedFuture<CredentialRecord>(ok.error());
    const auto kind = credential.certificate.isSelfIssued() ? CredentialRecord::Kind::X509SelfSigned
                                                            : CredentialRecord::Kind::X509CaSigned;
    return persist(deviceSlot(hub, deviceId, kind), credential.certificate, credential.key);
}

QFuture<Result<CredentialRecord>> CredentialStore::signRequest(const QString &hub, const QString &deviceId,
    const QString &caName, const CertificateRequest &csr, int validityDays, bool replace)
{
    if (auto ok = checkDeviceSlot(hub, deviceId, replace); !ok)
        return failedFuture<CredentialRecord>(ok.error());
    Slot slot = deviceSlot(hub, deviceId, CredentialRecord::Kind::X509CaSigned);
    slot.record.issuer = caName;
    return certificateAuthority(caName)
        .then(this,
            [this, slot, csr, validityDays, deviceId](
                Result<CertificateAuthority> ca) -> QFuture<Result<CredentialRecord>> {
                if (!ca)
                    return failedFuture<CredentialRecord>(ca.error());
                if (csr.subjectCommonName() != deviceId)
                    return failedFuture<CredentialRecord>(
                        {ErrorKind::InvalidInput, QStringLiteral("RequestNameMismatch"),
                            tr("The certificate signing request is for \"%1\", not for device \"%2\"; IoT Hub "
                               "accepts a CA-signed device only when the certificate's CN is its id.")
                                .arg(csr.subjectCommonName(), deviceId)});
                auto cert = ca->sign(csr, validityDays);
                if (!cert)
                    return failedFuture<CredentialRecord>(cert.error());
                // The key is on the device: a key of an earlier credential here must go.
                return persist(slot, *cert, KeyPair())
                    .then(this,
                        [this, slot](Result<CredentialRecord> stored) -> QFuture<Result<CredentialRecord>> {
                            if (!stored)
                                return readyFuture(stored);
                            return m_secrets.remove(privateKeyEntry(slot.record.hub, slot.record.deviceId))
                                .then(this, [stored](Result<void>) { return stored; });
                        })
                    .unwrap();
            })
        .unwrap();
}

QFuture<Result<void>> CredentialStore::remove(const QString &hub, const QString &deviceId)
{
    const auto found = record(hub, deviceId);
    if (!found)
        return failedFuture<void>(found.error());
    const auto forget = [this, found = *found]() -> Result<void> {
        QFile::remove(found.certificateFile);
        QFile::remove(QFileInfo(found.certificateFile).absolutePath() + QStringLiteral("/chain.pem"));
        QDir().rmdir(QFileInfo(found.certificateFile).absolutePath());
        CredentialInventory inv = inventory();
        if (auto removed = inv.remove(found); !removed)
            return std::unexpected(removed.error());
        Q_EMIT credentialsChanged();
        return {};
    };
    if (found->keychainEntry.isEmpty())
        return readyFuture(forget());
    return m_secrets.remove(found->keychainEntry).then(this, [forget](Result<void> removed) -> Result<void> {
        if (!removed && removed.error().kind != ErrorKind::NotFound)
            return removed; // keep the record while its key is still in the keychain
        return forget();
    });
}

QFuture<Result<CredentialRecord>> CredentialStore::importCertificateAuthority(
    const QString &name, const CertificateAuthority &ca, bool replace)
{
    if (auto ok = validateCaName(name); !ok)
        return failedFuture<CredentialRecord>(ok.error());
    if (ca.isNull())
        return failedFuture<CredentialRecord>(
            {ErrorKind::Internal, QStringLiteral("CaMissing"), tr("There is no CA to import.")});
    CredentialInventory inv = inventory();
    if (auto loaded = inv.load(); !loaded)
        return failedFuture<CredentialRecord>(loaded.error());
    if (inv.certificateAuthority(name) && !replace)
        return failedFuture<CredentialRecord>({ErrorKind::Conflict, QStringLiteral("CaExists"),
            tr("A CA named \"%1\" was imported already. Replacing it deletes its private key, so it must be "
               "asked for explicitly.")
                .arg(name)});
    Slot slot;
    slot.record.deviceId = name;
    slot.record.kind = CredentialRecord::Kind::CertificateAuthority;
    slot.record.keychainEntry = caKeyEntry(name);
    slot.record.certificateFile = caCertificatePath(name);
    slot.chain = ca.chain();
    return persist(slot, ca.certificate(), ca.key());
}

QFuture<Result<CertificateAuthority>> CredentialStore::certificateAuthority(const QString &name)
{
    CredentialInventory inv = inventory();
    if (auto loaded = inv.load(); !loaded)
        return failedFuture<CertificateAuthority>(loaded.error());
    const auto found = inv.certificateAuthority(name);
    if (!found)
        return failedFuture<CertificateAuthority>({ErrorKind::NotFound, QStringLiteral("CaNotFound"),
            tr("No CA named \"%1\" was imported on this computer.").arg(name)});
    const auto certificate = readCertificateFile(found->certificateFile, tr("CA \"%1\"").arg(name));
    if (!certificate)
        return failedFuture<CertificateAuthority>(certificate.error());
    QList<Certificate> chain;
    QFile chainFile(QFileInfo(found->certificateFile).absolutePath() + QStringLiteral("/chain.pem"));
    if (chainFile.open(QIODevice::ReadOnly)) {
        if (auto list = Certificate::listFromPem(chainFile.readAll()))
            chain = *list;
    }
    return m_secrets.load(found->keychainEntry)
        .then(this, [certificate = *certificate, chain](Result<SecretBytes> pem) -> Result<CertificateAuthority> {
            const auto key = keyFromSecret(std::move(pem));
            if (!key)
                return std::unexpected(key.error());
            return CertificateAuthority::fromParts(certificate, *key, chain);
        });
}

QFuture<Result<void>> CredentialStore::saveSymmetricKeys(
    const QString &hub, const QString &deviceId, SecretBytes primaryKey, SecretBytes secondaryKey)
{
    if (auto ok = validateDevice(hub, deviceId); !ok)
        return failedFuture<void>(ok.error());
    for (const SecretBytes *key : {&primaryKey, &secondaryKey}) {
        if (!isSymmetricKey(*key))
            return failedFuture<void>({ErrorKind::InvalidInput, QStringLiteral("InvalidSymmetricKey"),
                tr("A device's symmetric key is base64 of at least 16 bytes; this one is not.")});
    }
    CredentialRecord record;
    record.hub = hub;
    record.deviceId = deviceId;
    record.kind = CredentialRecord::Kind::SymmetricKey;
    record.keychainEntry = symmetricKeyEntry(hub, deviceId, KeySlot::Primary);
    record.createdAt = QDateTime::currentDateTimeUtc();
    const QString secondaryEntry = symmetricKeyEntry(hub, deviceId, KeySlot::Secondary);
    return m_secrets.save(record.keychainEntry, std::move(primaryKey))
        .then(this,
            [this, secondaryEntry, secondaryKey = std::move(secondaryKey)](Result<void> saved) mutable {
                if (!saved)
                    return readyFuture(saved);
                return m_secrets.save(secondaryEntry, std::move(secondaryKey));
            })
        .unwrap()
        .then(this, [this, record](Result<void> saved) -> Result<void> {
            if (!saved)
                return saved;
            CredentialInventory inv = inventory();
            if (auto ok = inv.put(record); !ok)
                return ok;
            Q_EMIT credentialsChanged();
            return {};
        });
}

QFuture<Result<SecretBytes>> CredentialStore::symmetricKey(const QString &hub, const QString &deviceId, KeySlot slot)
{
    if (auto ok = validateDevice(hub, deviceId); !ok)
        return failedFuture<SecretBytes>(ok.error());
    return m_secrets.load(symmetricKeyEntry(hub, deviceId, slot));
}

QFuture<Result<DeviceCredential>> CredentialStore::deviceCredential(const QString &hub, const QString &deviceId)
{
    const auto found = record(hub, deviceId);
    if (!found)
        return failedFuture<DeviceCredential>(found.error());
    if (found->keyLocation == CredentialRecord::KeyLocation::Device)
        return failedFuture<DeviceCredential>({ErrorKind::Conflict, QStringLiteral("KeyOnDevice"),
            tr("The private key of device \"%1\" was made on the device and never left it, so only its "
               "certificate can be exported.")
                .arg(deviceId)});
    const auto cert = certificate(hub, deviceId);
    if (!cert)
        return failedFuture<DeviceCredential>(cert.error());
    return m_secrets.load(found->keychainEntry)
        .then(this, [certificate = *cert](Result<SecretBytes> pem) -> Result<DeviceCredential> {
            const auto key = keyFromSecret(std::move(pem));
            if (!key)
                return std::unexpected(key.error());
            if (auto ok = certificate.checkKeyMatches(*key); !ok)
                return std::unexpected(ok.error());
            return DeviceCredential{certificate, *key};
        });
}

} // namespace Onboarder
