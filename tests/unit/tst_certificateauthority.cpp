// CertificateAuthority: a CA made by openssl is imported (PEM, encrypted PEM, PKCS#12) and signs device
// CSRs; `openssl verify` accepts what it signs. Import errors each have their own code.
#include "certificatefixtures.h"
#include "credentials/certificateauthority.h"
#include "credentials/certificaterequest.h"
#include "opensslcli.h"

#include <QTemporaryDir>
#include <QTest>

using namespace Onboarder;
using TestSupport::openssl;

class tst_CertificateAuthority : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QByteArray m_caPem;
    QByteArray m_caKeyPem;
    QString m_caFile;

    QByteArray readFile(const QString &name)
    {
        QFile file(m_dir.filePath(name));
        if (!file.open(QIODevice::ReadOnly))
            qFatal("cannot read %s", qPrintable(name));
        return file.readAll();
    }

    QProcessEnvironment withPassword(const QString &variable, const QString &password)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(variable, password);
        return env;
    }

    // openssl verify of a device certificate against our CA file, as a TLS client certificate.
    std::pair<int, QByteArray> verify(const Certificate &device)
    {
        const QString file = TestSupport::writeFile(m_dir.filePath(QStringLiteral("device.pem")), device.toPem());
        return openssl({QStringLiteral("verify"), QStringLiteral("-CAfile"), m_caFile, QStringLiteral("-purpose"),
            QStringLiteral("sslclient"), file});
    }

private Q_SLOTS:
    void initTestCase()
    {
        // A fleet CA as a user would make it with openssl.
        m_caFile = m_dir.filePath(QStringLiteral("ca.pem"));
        const auto [code, text] = openssl({QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
            QStringLiteral("ec"), QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:P-256"),
            QStringLiteral("-nodes"), QStringLiteral("-keyout"), m_dir.filePath(QStringLiteral("ca.key")),
            QStringLiteral("-out"), m_caFile, QStringLiteral("-subj"),
            QStringLiteral("/O=Example Fleet/CN=Example Fleet CA"), QStringLiteral("-days"), QStringLiteral("30"),
            QStringLiteral("-addext"), QStringLiteral("basicConstraints=critical,CA:TRUE"), QStringLiteral("-addext"),
            QStringLiteral("keyUsage=critical,keyCertSign,cRLSign")});
        QVERIFY2(code == 0, text.constData());
        m_caPem = readFile(QStringLiteral("ca.pem"));
        m_caKeyPem = readFile(QStringLiteral("ca.key"));
    }

    void signsCsrsThatOpensslVerifies()
    {
        const auto ca = CertificateAuthority::fromCertificateAndKey(m_caPem, m_caKeyPem);
        QVERIFY2(ca.has_value(), ca ? "" : qPrintable(ca.error().message));
        QCOMPARE(ca->certificate().subjectCommonName(), QStringLiteral("Example Fleet CA"));

        // A CSR of ours (key born on the PC) and one of openssl's (key born elsewhere, e.g. a modem).
        const auto deviceKey = KeyPair::generate();
        const auto ours = CertificateRequest::create(*deviceKey, QStringLiteral("fleet-device-1"));
        const auto [code, pem] = openssl(
            {QStringLiteral("req"), QStringLiteral("-new"), QStringLiteral("-newkey"), QStringLiteral("rsa:2048"),
                QStringLiteral("-nodes"), QStringLiteral("-keyout"), m_dir.filePath(QStringLiteral("other.key")),
                QStringLiteral("-subj"), QStringLiteral("/CN=fleet-device-2")});
        QCOMPARE(code, 0);
        const auto theirs = CertificateRequest::fromPem(pem.mid(pem.indexOf("-----BEGIN")));
        QVERIFY(theirs.has_value());

        for (const auto &[csr, cn] : {std::pair{*ours, QStringLiteral("fleet-device-1")},
                 std::pair{*theirs, QStringLiteral("fleet-device-2")}}) {
            const auto device = ca->sign(csr, 10);
            QVERIFY2(device.has_value(), device ? "" : qPrintable(device.error().message));
            QCOMPARE(device->subjectCommonName(), cn);
            QCOMPARE(device->issuerCommonName(), QStringLiteral("Example Fleet CA"));
            QVERIFY(!device->isCertificateAuthority());
            const auto [verifyCode, verifyText] = verify(*device);
            QVERIFY2(verifyCode == 0, verifyText.constData());
        }
        QVERIFY(ca->sign(*ours, 10)->matches(*deviceKey));

        // The same check refuses a certificate of another CA with the same name: the test can fail.
        const auto otherKey = KeyPair::generate();
        const auto impostor = CertificateAuthority::fromParts(
            *Certificate::selfSigned(
                *otherKey, {QStringLiteral("Example Fleet CA"), {}, {}, 30, Certificate::Usage::CertificateAuthority}),
            std::move(*KeyPair::fromPem(otherKey->privateKeyPem().view())));
        QVERIFY(impostor.has_value());
        const auto [refusedCode, refusedText] = verify(*impostor->sign(*ours, 10));
        QVERIFY2(refusedCode != 0, refusedText.constData());

        // A CSR whose signature does not verify is refused.
        QByteArray der = ours->toDer();
        der[der.size() - 5] = char(der[der.size() - 5] ^ 0x01);
        const auto tampered = CertificateRequest::fromDer(der);
        QVERIFY(tampered.has_value());
        QCOMPARE(ca->sign(*tampered, 10).error().code, QStringLiteral("RequestSignatureInvalid"));
    }

    void importsEncryptedPemAndPkcs12()
    {
        const auto env = withPassword(QStringLiteral("CAPASS"), QStringLiteral("ca-s3cret-pass"));
        const auto [code, encrypted]
            = openssl({QStringLiteral("pkcs8"), QStringLiteral("-topk8"), QStringLiteral("-v2"),
                          QStringLiteral("aes-256-cbc"), QStringLiteral("-passout"), QStringLiteral("env:CAPASS")},
                m_caKeyPem, env);
        QCOMPARE(code, 0);
        QCOMPARE(CertificateAuthority::fromCertificateAndKey(m_caPem, encrypted).error().code,
            QStringLiteral("KeyEncrypted"));
        QCOMPARE(CertificateAuthority::fromCertificateAndKey(m_caPem, encrypted, "wrong").error().code,
            QStringLiteral("KeyWrongPassword"));
        QVERIFY(CertificateAuthority::fromCertificateAndKey(m_caPem, encrypted, "ca-s3cret-pass").has_value());

        // DER certificate with a PEM key works too.
        QVERIFY(CertificateAuthority::fromCertificateAndKey(Certificate::fromPem(m_caPem)->toDer(), m_caKeyPem)
                    .has_value());

        const QString p12 = m_dir.filePath(QStringLiteral("ca.p12"));
        const auto [p12Code, p12Text]
            = openssl({QStringLiteral("pkcs12"), QStringLiteral("-export"), QStringLiteral("-in"), m_caFile,
                          QStringLiteral("-inkey"), m_dir.filePath(QStringLiteral("ca.key")), QStringLiteral("-out"),
                          p12, QStringLiteral("-passout"), QStringLiteral("env:CAPASS")},
                {}, env);
        QVERIFY2(p12Code == 0, p12Text.constData());
        const QByteArray p12Data = readFile(QStringLiteral("ca.p12"));
        const auto fromP12 = CertificateAuthority::fromPkcs12(p12Data, "ca-s3cret-pass");
        QVERIFY2(fromP12.has_value(), fromP12 ? "" : qPrintable(fromP12.error().message));
        QCOMPARE(fromP12->certificate().toPem(), Certificate::fromPem(m_caPem)->toPem());
        QCOMPARE(CertificateAuthority::fromPkcs12(p12Data, "wrong-password").error().code,
            QStringLiteral("Pkcs12WrongPassword"));
        QCOMPARE(CertificateAuthority::fromPkcs12("not a p12", "x").error().code, QStringLiteral("NotPkcs12"));

        // Old tools' files (RC2-40 / 3DES): a clear error instead of a generic failure.
        const QString legacy = m_dir.filePath(QStringLiteral("legacy.p12"));
        const auto [legacyCode, legacyText] = openssl(
            {QStringLiteral("pkcs12"), QStringLiteral("-export"), QStringLiteral("-legacy"), QStringLiteral("-in"),
                m_caFile, QStringLiteral("-inkey"), m_dir.filePath(QStringLiteral("ca.key")), QStringLiteral("-out"),
                legacy, QStringLiteral("-passout"), QStringLiteral("env:CAPASS")},
            {}, env);
        QVERIFY2(legacyCode == 0, legacyText.constData());
        QCOMPARE(
            CertificateAuthority::fromPkcs12(readFile(QStringLiteral("legacy.p12")), "ca-s3cret-pass").error().code,
            QStringLiteral("Pkcs12LegacyAlgorithm"));
    }

    void refusesWhatCannotSign()
    {
        const auto key = KeyPair::generate();
        const auto device
            = Certificate::selfSigned(*key, {QStringLiteral("not-a-ca"), {}, {}, 30, Certificate::Usage::Client});
        QCOMPARE(CertificateAuthority::fromCertificateAndKey(device->toPem(), key->privateKeyPem().view()).error().code,
            QStringLiteral("NotCaCertificate"));
        QCOMPARE(CertificateAuthority::fromCertificateAndKey(m_caPem, key->privateKeyPem().view()).error().code,
            QStringLiteral("KeyCertificateMismatch"));
        const auto caKey = KeyPair::fromPem(m_caKeyPem);
        const Certificate expired = TestSupport::redated(*Certificate::fromPem(m_caPem), *caKey, -30 * 86400, -86400);
        QCOMPARE(CertificateAuthority::fromCertificateAndKey(expired.toPem(), m_caKeyPem).error().code,
            QStringLiteral("CertificateExpired"));
        QCOMPARE(CertificateAuthority::fromCertificateAndKey("junk", m_caKeyPem).error().code,
            QStringLiteral("BrokenDerCertificate"));
    }
};

QTEST_GUILESS_MAIN(tst_CertificateAuthority)
#include "tst_certificateauthority.moc"
