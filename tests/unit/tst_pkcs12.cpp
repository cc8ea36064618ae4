// Pkcs12: what we write opens with `openssl pkcs12` and the password, with AES-256-CBC, PBKDF2 and a
// SHA-256 MAC; the password never goes through argv (env:).
#include "credentials/pkcs12.h"
#include "opensslcli.h"

#include <QTemporaryDir>
#include <QTest>

using namespace Onboarder;
using TestSupport::openssl;

class tst_Pkcs12 : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

private Q_SLOTS:
    void opensslOpensWhatWeWrite()
    {
        const auto key = KeyPair::generate();
        const auto cert
            = Certificate::selfSigned(*key, {QStringLiteral("p12-device"), {}, {}, 30, Certificate::Usage::Client});
        const auto caKey = KeyPair::generate();
        const auto ca = Certificate::selfSigned(
            *caKey, {QStringLiteral("p12 CA"), {}, {}, 30, Certificate::Usage::CertificateAuthority});
        const QByteArray password = "correct horse battery";
        const auto p12 = Pkcs12::create(*cert, *key, password, QStringLiteral("p12-device"), {*ca});
        QVERIFY2(p12.has_value(), p12 ? "" : qPrintable(p12.error().message));
        const QString file = TestSupport::writeFile(m_dir.filePath(QStringLiteral("device.p12")), *p12);

        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("P12PASS"), QString::fromUtf8(password));
        const auto [infoCode, info]
            = openssl({QStringLiteral("pkcs12"), QStringLiteral("-in"), file, QStringLiteral("-info"),
                          QStringLiteral("-noout"), QStringLiteral("-passin"), QStringLiteral("env:P12PASS")},
                {}, env);
        QVERIFY2(infoCode == 0, info.constData());
        QVERIFY2(info.contains("MAC: sha256"), info.constData());
        QVERIFY2(info.contains("PBES2, PBKDF2, AES-256-CBC"), info.constData());
        QVERIFY2(info.contains("PRF hmacWithSHA256"), info.constData());
        QVERIFY2(!info.contains("RC2") && !info.contains("3DES"), info.constData());

        // The key and the certificate come out as they went in.
        const auto [keyCode, keyOut]
            = openssl({QStringLiteral("pkcs12"), QStringLiteral("-in"), file, QStringLiteral("-nocerts"),
                          QStringLiteral("-nodes"), QStringLiteral("-passin"), QStringLiteral("env:P12PASS")},
                {}, env);
        QCOMPARE(keyCode, 0);
        QCOMPARE(KeyPair::fromPem(keyOut.mid(keyOut.indexOf("-----BEGIN")))->publicKeyPem(), key->publicKeyPem());
        const auto [certCode, certOut]
            = openssl({QStringLiteral("pkcs12"), QStringLiteral("-in"), file, QStringLiteral("-clcerts"),
                          QStringLiteral("-nokeys"), QStringLiteral("-passin"), QStringLiteral("env:P12PASS")},
                {}, env);
        QCOMPARE(certCode, 0);
        QCOMPARE(Certificate::fromPem(certOut)->thumbprintSha256(), cert->thumbprintSha256());

        // A wrong password does not open it.
        env.insert(QStringLiteral("P12PASS"), QStringLiteral("wrong password"));
        const auto [wrongCode, wrongText]
            = openssl({QStringLiteral("pkcs12"), QStringLiteral("-in"), file, QStringLiteral("-noout"),
                          QStringLiteral("-passin"), QStringLiteral("env:P12PASS")},
                {}, env);
        QVERIFY2(wrongCode != 0, wrongText.constData());

        // And we read it back, chain included.
        const auto parsed = Pkcs12::parse(*p12, password);
        QVERIFY(parsed.has_value());
        QCOMPARE(parsed->certificate, *cert);
        QCOMPARE(parsed->key.publicKeyPem(), key->publicKeyPem());
        QCOMPARE(parsed->chain.size(), 1);
        QCOMPARE(parsed->chain.first(), *ca);
        QCOMPARE(Pkcs12::parse(*p12, "wrong password").error().code, QStringLiteral("Pkcs12WrongPassword"));
    }

    void refusesWeakOrMismatched()
    {
        const auto key = KeyPair::generate();
        const auto cert
            = Certificate::selfSigned(*key, {QStringLiteral("p12-x"), {}, {}, 30, Certificate::Usage::Client});
        QCOMPARE(Pkcs12::create(*cert, *key, "short", QString()).error().code, QStringLiteral("PasswordTooShort"));
        QCOMPARE(Pkcs12::create(*cert, *KeyPair::generate(), "long enough password", QString()).error().code,
            QStringLiteral("KeyCertificateMismatch"));
    }
};

QTEST_GUILESS_MAIN(tst_Pkcs12)
#include "tst_pkcs12.moc"
