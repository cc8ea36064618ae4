// KeyPair and Certificate, checked against the openssl command (an independent implementation).
#include "credentials/certificate.h"
#include "credentials/keypair.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace Onboarder;

namespace {

QString writeTemp(const QTemporaryDir &dir, const QString &name, const QByteArray &data)
{
    QFile file(dir.filePath(name));
    file.open(QIODevice::WriteOnly);
    file.write(data);
    return file.fileName();
}

std::pair<int, QByteArray> openssl(const QStringList &args, const QByteArray &input = {})
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(QStringLiteral("openssl"), args);
    process.write(input);
    process.closeWriteChannel();
    process.waitForFinished(20000);
    return {process.exitCode(), process.readAll()};
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
    }

    void generatesKeysOfEachType()
    {
        QFETCH(KeyPair::Type, type);
        QFETCH(QByteArray, opensslName);
        const auto key = KeyPair::generate(type);
        QVERIFY(key.has_value());
        QCOMPARE(key->type(), type);
        const QByteArray pem = key->privateKeyPem();
        QVERIFY(pem.startsWith("-----BEGIN PRIVATE KEY-----"));
        const auto [code, text] = openssl({QStringLiteral("pkey"), QStringLiteral("-noout"), QStringLiteral("-text")}, pem);
        QCOMPARE(code, 0);
        QVERIFY2(text.contains(opensslName), text.left(200).constData());

        const auto reread = KeyPair::fromPem(pem);
        QVERIFY(reread.has_value());
        QCOMPARE(reread->publicKeyPem(), key->publicKeyPem());
    }

    void selfSignedDeviceCertificate()
    {
        const auto key = KeyPair::generate();
        const auto cert = Certificate::selfSigned(*key, {QStringLiteral("nrf-352656100000001"), {}, {}, 30, Certificate::Usage::Client});
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
            const auto [code, text] = openssl({QStringLiteral("x509"), QStringLiteral("-in"), file, QStringLiteral("-noout"),
                                               QStringLiteral("-fingerprint"), digest});
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
        const auto ca = Certificate::selfSigned(*caKey, {QStringLiteral("Test CA"), {}, {}, 365, Certificate::Usage::CertificateAuthority});
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
        const auto [code, text] = openssl({QStringLiteral("verify"), QStringLiteral("-CAfile"), caFile, QStringLiteral("-purpose"),
                                           QStringLiteral("sslserver"), QStringLiteral("-verify_ip"), QStringLiteral("127.0.0.1"), serverFile});
        QVERIFY2(code == 0, text.constData());

        // A certificate that is not a CA cannot sign.
        const auto refused = Certificate::issue(*server, *serverKey, *serverKey, {QStringLiteral("x"), {}, {}, 1, Certificate::Usage::Client});
        QCOMPARE(refused.error().code, QStringLiteral("IssuerNotCa"));
        const auto wrongKey = Certificate::issue(*ca, *serverKey, *serverKey, {QStringLiteral("x"), {}, {}, 1, Certificate::Usage::Client});
        QCOMPARE(wrongKey.error().code, QStringLiteral("IssuerKeyMismatch"));
    }

    void pemRoundTripAndErrors()
    {
        const auto key = KeyPair::generate();
        const auto cert = Certificate::selfSigned(*key, {QStringLiteral("round"), {}, {}, 1, Certificate::Usage::Client});
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
        const auto [code, encrypted] = openssl({QStringLiteral("pkcs8"), QStringLiteral("-topk8"), QStringLiteral("-v2"),
                                                QStringLiteral("aes-256-cbc"), QStringLiteral("-passout"), QStringLiteral("pass:s3cret")},
                                               key->privateKeyPem());
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
