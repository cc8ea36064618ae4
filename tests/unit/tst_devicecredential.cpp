// DeviceCredential::import: a certificate and key made elsewhere, with one precise error per problem.
#include "certificatefixtures.h"
#include "credentials/devicecredential.h"
#include "opensslcli.h"

#include <QTest>

using namespace Onboarder;

class tst_DeviceCredential : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void importsAndNamesEachProblem()
    {
        const auto key = KeyPair::generate();
        const auto cert
            = Certificate::selfSigned(*key, {QStringLiteral("imported-1"), {}, {}, 30, Certificate::Usage::Client});
        using Target = DeviceCredential::Target;

        const auto good = DeviceCredential::import(cert->toPem(), key->privateKeyPem().view(), {}, Target::Nrf9160);
        QVERIFY2(good.has_value(), good ? "" : qPrintable(good.error().message));
        QCOMPARE(good->certificate, *cert);
        QVERIFY(DeviceCredential::import(cert->toDer(), key->privateKeyPem().view(), {}, Target::Nrf9160).has_value());

        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("KEYPASS"), QStringLiteral("imp0rt-pass"));
        const auto [code, encrypted] = TestSupport::openssl(
            {QStringLiteral("pkcs8"), QStringLiteral("-topk8"), QStringLiteral("-v2"), QStringLiteral("aes-256-cbc"),
                QStringLiteral("-passout"), QStringLiteral("env:KEYPASS")},
            key->privateKeyPem().exposeForWire(), env);
        QCOMPARE(code, 0);
        QCOMPARE(DeviceCredential::import(cert->toPem(), encrypted, {}, Target::AnyDevice).error().code,
            QStringLiteral("KeyEncrypted"));
        QVERIFY(DeviceCredential::import(cert->toPem(), encrypted, "imp0rt-pass", Target::AnyDevice).has_value());

        QCOMPARE(
            DeviceCredential::import(cert->toPem(), KeyPair::generate()->privateKeyPem().view(), {}, Target::AnyDevice)
                .error()
                .code,
            QStringLiteral("KeyCertificateMismatch"));
        QCOMPARE(DeviceCredential::import(TestSupport::redated(*cert, *key, -5 * 86400, -60).toPem(),
                     key->privateKeyPem().view(), {}, Target::AnyDevice)
                     .error()
                     .code,
            QStringLiteral("CertificateExpired"));
        QCOMPARE(DeviceCredential::import(TestSupport::redated(*cert, *key, 3600, 5 * 86400).toPem(),
                     key->privateKeyPem().view(), {}, Target::AnyDevice)
                     .error()
                     .code,
            QStringLiteral("CertificateNotYetValid"));

        // RSA works for a device in general, not for the nRF9160.
        const auto rsa = KeyPair::generate(KeyPair::Type::Rsa2048);
        const auto rsaCert
            = Certificate::selfSigned(*rsa, {QStringLiteral("imported-rsa"), {}, {}, 30, Certificate::Usage::Client});
        QVERIFY(
            DeviceCredential::import(rsaCert->toPem(), rsa->privateKeyPem().view(), {}, Target::AnyDevice).has_value());
        const auto refused
            = DeviceCredential::import(rsaCert->toPem(), rsa->privateKeyPem().view(), {}, Target::Nrf9160);
        QCOMPARE(refused.error().code, QStringLiteral("UnsupportedKeyAlgorithm"));
        QVERIFY(refused.error().message.contains(QStringLiteral("RSA 2048")));
    }
};

QTEST_GUILESS_MAIN(tst_DeviceCredential)
#include "tst_devicecredential.moc"
