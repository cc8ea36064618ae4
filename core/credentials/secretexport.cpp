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
    const QByteArray &secret, const QString &recipient, const QString &path, const QString &gnupgHome)
{
    if (auto ok = SecureFile::checkNew(path); !ok)
        return QtFuture::makeReadyFuture(Result<OpenPgpEncryptor::Encrypted>(std::unexpected(ok.error())));
    return runInBackground([secret, recipient, path, gnupgHome]() -> Result<OpenPgpEncryptor::Encrypted> {
        auto encrypted = OpenPgpEncryptor(gnupgHome).encrypt(secret, recipient);
        if (!encrypted)
            return encrypted;
        if (auto written = SecureFile::writeNew(path, encrypted->armored); !written)
            return std::unexpected(written.error());
        qCInfo(lcCredentials) << "OpenPGP export to" << encrypted->fingerprint << "written to" << path;
        return encrypted;
    });
}

QFuture<Result<void>> SecretExport::toPkcs12File(const DeviceCredential &credential, const QByteArray &password,
    const QString &path, const QList<Certificate> &chain)
{
    if (auto ok = SecureFile::checkNew(path); !ok)
        return QtFuture::makeReadyFuture(Result<void>(ok));
    return runInBackground([credential, password = QByteArray(password), path, chain]() mutable -> Result<void> {
        const auto p12 = Pkcs12::create(
            credential.certificate, credential.key, password, credential.certificate.subjectCommonName(), chain);
        password.fill('\0');
        if (!p12)
            return std::unexpected(p12.error());
        return SecureFile::writeNew(path, *p12);
    });
}

Result<QrCode> SecretExport::toQrCode(const QByteArray &secret)
{
    return QrCode::encode(secret);
}

Result<void> SecretExport::toPlaintextFile(const QByteArray &secret, const QString &path, bool userConfirmedPlaintext)
{
    if (!userConfirmedPlaintext)
        return fail(ErrorKind::InvalidInput, QStringLiteral("PlaintextNotConfirmed"),
            Text::tr("Writing a secret unencrypted needs the user's explicit confirmation; nothing was written."));
    if (auto ok = SecureFile::writeNew(path, secret); !ok)
        return ok;
    qCWarning(lcCredentials) << "a secret was written unencrypted to" << path << "at the user's request";
    return {};
}

QByteArray SecretExport::credentialPem(const DeviceCredential &credential)
{
    return credential.certificate.toPem() + credential.key.privateKeyPem();
}

} // namespace Onboarder
