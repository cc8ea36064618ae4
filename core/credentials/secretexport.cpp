#include "secretexport.h"

#include "common/logging.h"
#include "common/promise.h"
#include "credentials/pkcs12.h"
#include "credentials/securefile.h"

#include <QCoreApplication>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(SecretExport)
};

} // namespace

QFuture<Result<OpenPgpEncryptor::Encrypted>> SecretExport::toOpenPgpFile(
    SecretBytes secret, const QString &recipient, const QString &path, const QString &gnupgHome)
{
    if (auto ok = SecureFile::checkNew(path); !ok)
        return QtFuture::makeReadyFuture(Result<OpenPgpEncryptor::Encrypted>(std::unexpected(ok.error())));
    return runInBackground(
        [secret = std::move(secret), recipient, path, gnupgHome]() -> Result<OpenPgpEncryptor::Encrypted> {
            auto encrypted = OpenPgpEncryptor(gnupgHome).encrypt(secret.view(), recipient);
            if (!encrypted)
                return encrypted;
            if (auto written = SecureFile::writeNew(path, encrypted->armored); !written)
                return std::unexpected(written.error());
            qCInfo(lcCredentials) << "OpenPGP export to" << encrypted->fingerprint << "written to" << path;
            return encrypted;
        });
}

QFuture<Result<void>> SecretExport::toPkcs12File(
    const DeviceCredential &credential, SecretBytes password, const QString &path, const QList<Certificate> &chain)
{
    if (auto ok = SecureFile::checkNew(path); !ok)
        return QtFuture::makeReadyFuture(Result<void>(ok));
    return runInBackground([credential, password = std::move(password), path, chain]() mutable -> Result<void> {
        const auto p12 = Pkcs12::create(
            credential.certificate, credential.key, password.view(), credential.certificate.subjectCommonName(), chain);
        password.clear();
        if (!p12)
            return std::unexpected(p12.error());
        return SecureFile::writeNew(path, *p12);
    });
}

Result<QrCode> SecretExport::toQrCode(const SecretBytes &secret)
{
    // Encoded in place: fromRawData copies nothing, and libqrencode reads it during the call only.
    return QrCode::encode(QByteArray::fromRawData(secret.data(), secret.size()));
}

Result<void> SecretExport::toPlaintextFile(const SecretBytes &secret, const QString &path, bool userConfirmedPlaintext)
{
    if (!userConfirmedPlaintext)
        return fail(ErrorKind::InvalidInput, QStringLiteral("PlaintextNotConfirmed"),
            Text::tr("Writing a secret unencrypted needs the user's explicit confirmation; nothing was written."));
    if (auto ok = SecureFile::writeNew(path, secret.view()); !ok)
        return ok;
    qCWarning(lcCredentials) << "a secret was written unencrypted to" << path << "at the user's request";
    return {};
}

SecretBytes SecretExport::credentialPem(const DeviceCredential &credential)
{
    const SecretBytes key = credential.key.privateKeyPem();
    QByteArray pem = credential.certificate.toPem();
    pem.reserve(pem.size() + key.size()); // one buffer: no copy of the key is left behind by a reallocation
    pem.append(key.view());
    return SecretBytes::fromQByteArray(std::move(pem));
}

} // namespace Onboarder
