// SecretExport: the files it writes are 0600 and open with the real tools — gpg --decrypt (throwaway
// GNUPGHOME) to exactly the connection string, openssl pkcs12 with the password (given through env).
#include "credentials/secretexport.h"
#include "gnupghome.h"
#include "opensslcli.h"
#include "testsupport.h"

#include <QTemporaryDir>

using namespace Onboarder;
using TestSupport::await;

namespace {

bool ownerOnly(const QString &path)
{
    return QFile::permissions(path) == (QFile::ReadOwner | QFile::WriteOwner | QFile::ReadUser | QFile::WriteUser);
}

} // namespace

class tst_SecretExport : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    const QByteArray m_connectionString = "HostName=contoso.azure-devices.net;DeviceId=microshare-1;SharedAccessKey="
        + TestSupport::randomKey().toLatin1();

private Q_SLOTS:
    void openPgpFileDecryptsToExactlyTheConnectionString()
    {
        TestSupport::GnupgHome recipient;
        const QString fingerprint = recipient.generateKey(QStringLiteral("Support <support@example.invalid>"));
        const QString path = m_dir.filePath(QStringLiteral("cs.asc"));
        const auto exported = await(
            SecretExport::toOpenPgpFile(SecretBytes::fromView(m_connectionString), fingerprint, path, recipient.path()),
            60000);
        QVERIFY2(exported.has_value(), exported ? "" : qPrintable(exported.error().message));
        QVERIFY(ownerOnly(path));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray armored = file.readAll();
        QVERIFY(armored.startsWith("-----BEGIN PGP MESSAGE-----"));
        QVERIFY(!armored.contains("SharedAccessKey"));
        const auto decrypted = recipient.decrypt(armored);
        QVERIFY2(decrypted.exitCode == 0, decrypted.err.constData());
        QCOMPARE(decrypted.out, m_connectionString);

        // Never over an existing file; an unknown recipient writes nothing.
        QCOMPARE(await(SecretExport::toOpenPgpFile(
                           SecretBytes::fromView(m_connectionString), fingerprint, path, recipient.path()))
                     .error()
                     .code,
            QStringLiteral("FileExists"));
        const QString other = m_dir.filePath(QStringLiteral("other.asc"));
        QCOMPARE(await(SecretExport::toOpenPgpFile(SecretBytes::fromView(m_connectionString),
                           QStringLiteral("nobody@example.invalid"), other, recipient.path()))
                     .error()
                     .code,
            QStringLiteral("RecipientNotFound"));
        QVERIFY(!QFile::exists(other));
    }

    void pkcs12FileOpensWithOpensslAndThePassword()
    {
        const auto key = KeyPair::generate();
        const auto cert
            = Certificate::selfSigned(*key, {QStringLiteral("export-1"), {}, {}, 30, Certificate::Usage::Client});
        const QString path = m_dir.filePath(QStringLiteral("export-1.p12"));
        const QByteArray password = "export password 1";
        const auto written = await(SecretExport::toPkcs12File({*cert, *key}, SecretBytes::fromView(password), path));
        QVERIFY2(written.has_value(), written ? "" : qPrintable(written.error().message));
        QVERIFY(ownerOnly(path));

        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("P12PASS"), QString::fromLatin1(password));
        const auto [code, out]
            = TestSupport::openssl({QStringLiteral("pkcs12"), QStringLiteral("-in"), path, QStringLiteral("-nodes"),
                                       QStringLiteral("-passin"), QStringLiteral("env:P12PASS")},
                {}, env);
        QVERIFY2(code == 0, out.constData());
        QCOMPARE(Certificate::fromPem(out)->thumbprintSha256(), cert->thumbprintSha256());
        QCOMPARE(
            KeyPair::fromPem(out.mid(out.indexOf("-----BEGIN PRIVATE KEY-----")))->publicKeyPem(), key->publicKeyPem());

        QCOMPARE(await(SecretExport::toPkcs12File(
                           {*cert, *key}, SecretBytes::fromView("short"), m_dir.filePath(QStringLiteral("weak.p12"))))
                     .error()
                     .code,
            QStringLiteral("PasswordTooShort"));
        QVERIFY(!QFile::exists(m_dir.filePath(QStringLiteral("weak.p12"))));
    }

    void plaintextOnlyWhenConfirmed()
    {
        const QString path = m_dir.filePath(QStringLiteral("plain.txt"));
        QCOMPARE(SecretExport::toPlaintextFile(SecretBytes::fromView(m_connectionString), path, false).error().code,
            QStringLiteral("PlaintextNotConfirmed"));
        QVERIFY(!QFile::exists(path));
        QVERIFY(SecretExport::toPlaintextFile(SecretBytes::fromView(m_connectionString), path, true).has_value());
        QVERIFY(ownerOnly(path));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), m_connectionString);
    }

    void qrCodeOfTheSecret()
    {
        QVERIFY(SecretExport::toQrCode(SecretBytes::fromView(m_connectionString))->size() > 21);
    }
};

QTEST_GUILESS_MAIN(tst_SecretExport)
#include "tst_secretexport.moc"
