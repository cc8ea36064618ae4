// KeyPair and Certificate, checked against the openssl command (an independent implementation).
#include "certificatefixtures.h"
#include "credentials/certificate.h"
#include "credentials/keypair.h"
#include "opensslcli.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace Onboarder;

using TestSupport::openssl;

namespace {

QString writeTemp(const QTemporaryDir &dir, const QString &name, const QByteArray &data)
{
    return TestSupport::writeFile(dir.filePath(name), data);
}

} // namespace

class tst_Certificate : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

private Q_SLOTS:
    void generatesKeysOfEachType_data()
    {
        QTest::addColumn<KeyPair::Type>("type");
        QTest::addColumn<QByteArray>("opensslName");
        QTest::newRow("ec") << KeyPair::Type::EcP256 << QByteArray("prime256v1");
        QTest::newRow("rsa2048") << KeyPair::Type::Rsa2048 << QByteArray("2048 bit");
        QTest::newRow("rsa3072") << KeyPair::Type::Rsa3072 << QByteArray("3072 bit");
    }

    void generatesKeysOfEachType()
    {
        QFETCH(KeyPair::Type, type);
        QFETCH(QByteArray, opensslName);
        const auto key = KeyPair::generate(type);
        QVERIFY(key.has_value());
        QCOMPARE(key->type(), type);
        const QByteArray pem = key->privateKeyPem().exposeForWire();
        QVERIFY(pem.startsWith("-----BEGIN PRIVATE KEY-----"));
        const auto [code, text]
            = openssl({QStringLiteral("pkey"), QStringLiteral("-noout"), QStringLiteral("-text")}, pem);
        QCOMPARE(code, 0);
        QVERIFY2(text.contains(opensslName), text.left(200).constData());

        const auto reread = KeyPair::fromPem(pem);
        QVERIFY(reread.has_value());
        QCOMPARE(reread->publicKeyPem(), key->publicKeyPem());
        // Only EC P-256 goes into the nRF9160.
        QCOMPARE(key->checkModemCompatible().has_value(), type == KeyPair::Type::EcP256);
        if (type != KeyPair::Type::EcP256) {
            QCOMPARE(key->checkModemCompatible().error().code, QStringLiteral("UnsupportedKeyAlgorithm"));
            QVERIFY(key->checkModemCompatible().error().message.contains(key->algorithmName()));
        }
    }

    void keysOfOtherToolsAndAlgorithms()
    {
        // A P-384 and an Ed25519 key made by openssl: read, named, refused for the modem.
        for (const auto &[args, name] :
            {std::pair{QStringList{QStringLiteral("-algorithm"), QStringLiteral("EC"), QStringLiteral("-pkeyopt"),
                           QStringLiteral("ec_paramgen_curve:P-384")},
                 QStringLiteral("EC P-384")},
                std::pair{
                    QStringList{QStringLiteral("-algorithm"), QStringLiteral("ED25519")}, QStringLiteral("ED25519")}}) {
            const auto [code, pem] = openssl(QStringList{QStringLiteral("genpkey")} + args);
            QCOMPARE(code, 0);
            const auto key = KeyPair::fromPem(pem);
            QVERIFY(key.has_value());
            QCOMPARE(key->type(), KeyPair::Type::Other);
            QCOMPARE(key->algorithmName(), name);
            QCOMPARE(key->checkModemCompatible().error().code, QStringLiteral("UnsupportedKeyAlgorithm"));
        }
    }

    void derKeys()
    {
        const auto key = KeyPair::generate();
        const QString pemFile
            = writeTemp(m_dir, QStringLiteral("der-source.pem"), key->privateKeyPem().exposeForWire());
        // Plain PKCS#8 DER, traditional EC DER, encrypted PKCS#8 DER — all from openssl.
        const auto derFrom = [&](const QStringList &args, const QString &name, const QProcessEnvironment &env) {
            const QString out = m_dir.filePath(name);
            const auto [code, text] = openssl(args
                    + QStringList{QStringLiteral("-in"), pemFile, QStringLiteral("-outform"), QStringLiteral("DER"),
                        QStringLiteral("-out"), out},
                {}, env);
            if (code != 0)
                qFatal("openssl failed: %s", text.constData());
            QFile file(out);
            file.open(QIODevice::ReadOnly);
            return file.readAll();
        };
        const auto system = QProcessEnvironment::systemEnvironment();
        const QByteArray pkcs8
            = derFrom({QStringLiteral("pkcs8"), QStringLiteral("-topk8"), QStringLiteral("-nocrypt")},
                QStringLiteral("k1.der"), system);
        const QByteArray traditional = derFrom({QStringLiteral("ec")}, QStringLiteral("k2.der"), system);
        QProcessEnvironment env = system;
        env.insert(QStringLiteral("KEYPASS"), QStringLiteral("der-s3cret"));
        const QByteArray encrypted
            = derFrom({QStringLiteral("pkcs8"), QStringLiteral("-topk8"), QStringLiteral("-v2"),
                          QStringLiteral("aes-256-cbc"), QStringLiteral("-passout"), QStringLiteral("env:KEYPASS")},
                QStringLiteral("k3.der"), env);
        for (const QByteArray &der : {pkcs8, traditional}) {
            const auto read = KeyPair::fromData(der);
            QVERIFY2(read.has_value(), read ? "" : qPrintable(read.error().message));
            QCOMPARE(read->publicKeyPem(), key->publicKeyPem());
        }
        QCOMPARE(KeyPair::fromData(encrypted).error().code, QStringLiteral("KeyEncrypted"));
        QCOMPARE(KeyPair::fromData(encrypted, "wrong").error().code, QStringLiteral("KeyWrongPassword"));
        QCOMPARE(KeyPair::fromData(encrypted, "der-s3cret")->publicKeyPem(), key->publicKeyPem());
        QCOMPARE(KeyPair::fromData(QByteArray("\x30\x03\x02\x01\x00", 5)).error().code, QStringLiteral("KeyNotDer"));
    }

    void validityIsCheckedWithDates()
    {
        const auto key = KeyPair::generate();
        const auto cert
            = Certificate::selfSigned(*key, {QStringLiteral("dated"), {}, {}, 30, Certificate::Usage::Client});
        QVERIFY(cert->checkValidity().has_value());
        QVERIFY(cert->checkUsableWith(*key).has_value());
        const Certificate expired = TestSupport::redated(*cert, *key, -10 * 86400, -86400);
        QCOMPARE(expired.checkValidity().error().code, QStringLiteral("CertificateExpired"));
        QVERIFY(expired.checkValidity().error().message.contains(expired.notAfter().toString(Qt::ISODate)));
        const Certificate future = TestSupport::redated(*cert, *key, 86400, 10 * 86400);
        QCOMPARE(future.checkUsableWith(*key).error().code, QStringLiteral("CertificateNotYetValid"));
        QCOMPARE(cert->checkUsableWith(*KeyPair::generate()).error().code, QStringLiteral("KeyCertificateMismatch"));
        QCOMPARE(cert->subject(), QStringLiteral("CN=dated"));
    }

    void selfSignedDeviceCertificate()
    {
        const auto key = KeyPair::generate();
        const auto cert = Certificate::selfSigned(
            *key, {QStringLiteral("nrf-352656100000001"), {}, {}, 30, Certificate::Usage::Client});
        QVERIFY(cert.has_value());
        QCOMPARE(cert->subjectCommonName(), QStringLiteral("nrf-352656100000001"));
        QVERIFY(cert->isSelfIssued());
        QVERIFY(!cert->isCertificateAuthority());
        QVERIFY(cert->matches(*key));
        QVERIFY(qAbs(cert->notAfter().secsTo(QDateTime::currentDateTimeUtc().addDays(30))) < 600);

        // Thumbprints as openssl computes them (upper-case hex without colons).
        const QString file = writeTemp(m_dir, QStringLiteral("device.pem"), cert->toPem());
        for (const auto &[digest, ours] : {std::pair{QStringLiteral("-sha1"), cert->thumbprintSha1()},
                 std::pair{QStringLiteral("-sha256"), cert->thumbprintSha256()}}) {
            const auto [code, text] = openssl({QStringLiteral("x509"), QStringLiteral("-in"), file,
                QStringLiteral("-noout"), QStringLiteral("-fingerprint"), digest});
            QCOMPARE(code, 0);
            const QString theirs = QString::fromLatin1(text.trimmed()).section(u'=', 1).remove(u':');
            QCOMPARE(ours, theirs);
        }
        QCOMPARE(cert->thumbprintSha1().size(), 40);
        QCOMPARE(cert->thumbprintSha256().size(), 64);
    }

    void caIssuesServerCertificateThatOpensslVerifies()
    {
        const auto caKey = KeyPair::generate();
        const auto ca = Certificate::selfSigned(
            *caKey, {QStringLiteral("Test CA"), {}, {}, 365, Certificate::Usage::CertificateAuthority});
        QVERIFY(ca.has_value());
        QVERIFY(ca->isCertificateAuthority());

        const auto serverKey = KeyPair::generate();
        const auto server = Certificate::issue(*ca, *caKey, *serverKey,
            {QStringLiteral("localhost"), {QStringLiteral("localhost")},
                {QStringLiteral("127.0.0.1"), QStringLiteral("::1")}, 30, Certificate::Usage::Server});
        QVERIFY(server.has_value());
        QCOMPARE(server->issuerCommonName(), QStringLiteral("Test CA"));
        QVERIFY(server->isSignedBy(*ca));
        QVERIFY(!server->isSignedBy(*server));
        QVERIFY(server->matches(*serverKey));
        QVERIFY(!server->matches(*caKey));

        const QString caFile = writeTemp(m_dir, QStringLiteral("ca.pem"), ca->toPem());
        const QString serverFile = writeTemp(m_dir, QStringLiteral("server.pem"), server->toPem());
        const auto [code, text]
            = openssl({QStringLiteral("verify"), QStringLiteral("-CAfile"), caFile, QStringLiteral("-purpose"),
                QStringLiteral("sslserver"), QStringLiteral("-verify_ip"), QStringLiteral("127.0.0.1"), serverFile});
        QVERIFY2(code == 0, text.constData());

        // A certificate that is not a CA cannot sign.
        const auto refused = Certificate::issue(
            *server, *serverKey, *serverKey, {QStringLiteral("x"), {}, {}, 1, Certificate::Usage::Client});
        QCOMPARE(refused.error().code, QStringLiteral("IssuerNotCa"));
        const auto wrongKey = Certificate::issue(
            *ca, *serverKey, *serverKey, {QStringLiteral("x"), {}, {}, 1, Certificate::Usage::Client});
        QCOMPARE(wrongKey.error().code, QStringLiteral("IssuerKeyMismatch"));
    }

    void pemRoundTripAndErrors()
    {
        const auto key = KeyPair::generate();
        const auto cert
            = Certificate::selfSigned(*key, {QStringLiteral("round"), {}, {}, 1, Certificate::Usage::Client});
        const auto again = Certificate::fromPem(cert->toPem());
        QVERIFY(again.has_value());
        QCOMPARE(*again, *cert);
        QCOMPARE(Certificate::fromDer(cert->toDer())->thumbprintSha256(), cert->thumbprintSha256());

        const auto two = Certificate::listFromPem(cert->toPem() + cert->toPem());
        QCOMPARE(two->size(), 2);

        QCOMPARE(Certificate::fromPem("hello").error().code, QStringLiteral("NotPemCertificate"));
        QByteArray broken = cert->toPem();
        broken[40] = '!';
        broken[41] = '!';
        QCOMPARE(Certificate::fromPem(broken).error().code, QStringLiteral("BrokenPemCertificate"));
        QCOMPARE(Certificate::selfSigned(*key, {QString(), {}, {}, 1, Certificate::Usage::Client}).error().code,
            QStringLiteral("InvalidCommonName"));

        QCOMPARE(KeyPair::fromPem("nothing").error().code, QStringLiteral("KeyNotPem"));
        // An encrypted key needs its password, and the right one.
        const auto [code, encrypted]
            = openssl({QStringLiteral("pkcs8"), QStringLiteral("-topk8"), QStringLiteral("-v2"),
                          QStringLiteral("aes-256-cbc"), QStringLiteral("-passout"), QStringLiteral("pass:s3cret")},
                key->privateKeyPem().exposeForWire());
        QCOMPARE(code, 0);
        QVERIFY(encrypted.contains("ENCRYPTED PRIVATE KEY"));
        QCOMPARE(KeyPair::fromPem(encrypted).error().code, QStringLiteral("KeyEncrypted"));
        QCOMPARE(KeyPair::fromPem(encrypted, "wrong").error().code, QStringLiteral("KeyWrongPassword"));
        const auto decrypted = KeyPair::fromPem(encrypted, "s3cret");
        QVERIFY(decrypted.has_value());
        QCOMPARE(decrypted->publicKeyPem(), key->publicKeyPem());
    }
};

QTEST_GUILESS_MAIN(tst_Certificate)
#include "tst_certificate.moc"
