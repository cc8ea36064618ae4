// CertificateRequest (CSR), checked against the openssl command in both directions.
#include "credentials/certificaterequest.h"
#include "credentials/keypair.h"
#include "opensslcli.h"

#include <QTemporaryDir>
#include <QTest>

using namespace Onboarder;
using TestSupport::openssl;

class tst_CertificateRequest : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

private Q_SLOTS:
    void ourRequestVerifiesWithOpenssl()
    {
        const auto key = KeyPair::generate();
        const auto csr = CertificateRequest::create(*key, QStringLiteral("nrf-352656100000002"));
        QVERIFY(csr.has_value());
        QVERIFY(csr->isSignatureValid());
        QCOMPARE(csr->subjectCommonName(), QStringLiteral("nrf-352656100000002"));
        QVERIFY(csr->toPem().startsWith("-----BEGIN CERTIFICATE REQUEST-----"));

        const auto [code, text] = openssl(
            {QStringLiteral("req"), QStringLiteral("-verify"), QStringLiteral("-noout"), QStringLiteral("-subject")},
            csr->toPem());
        QVERIFY2(code == 0, text.constData());
        QVERIFY2(text.contains("verify OK") || text.contains("Certificate request self-signature verify OK"),
            text.constData());
        QVERIFY2(text.contains("CN = nrf-352656100000002"), text.constData());
        // The public key in it is the key's.
        const auto [pkCode, publicKey]
            = openssl({QStringLiteral("req"), QStringLiteral("-noout"), QStringLiteral("-pubkey")}, csr->toPem());
        QCOMPARE(pkCode, 0);
        QCOMPARE(publicKey, key->publicKeyPem());

        QCOMPARE(CertificateRequest::fromDer(csr->toDer())->toPem(), csr->toPem());
        QCOMPARE(CertificateRequest::create(*key, QString()).error().code, QStringLiteral("InvalidCommonName"));
    }

    void opensslRequestsAreRead()
    {
        const QString keyFile = m_dir.filePath(QStringLiteral("modem.key"));
        const auto [code, pem]
            = openssl({QStringLiteral("req"), QStringLiteral("-new"), QStringLiteral("-newkey"), QStringLiteral("ec"),
                QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:P-256"), QStringLiteral("-nodes"),
                QStringLiteral("-keyout"), keyFile, QStringLiteral("-subj"), QStringLiteral("/CN=modem-born")});
        QCOMPARE(code, 0);
        const QByteArray csrPem = pem.mid(pem.indexOf("-----BEGIN CERTIFICATE REQUEST-----"));
        const auto csr = CertificateRequest::fromData(csrPem);
        QVERIFY2(csr.has_value(), csr ? "" : qPrintable(csr.error().message));
        QCOMPARE(csr->subjectCommonName(), QStringLiteral("modem-born"));
        QVERIFY(csr->isSignatureValid());

        // One changed byte in the signed part: the proof of possession fails.
        QByteArray der = csr->toDer();
        der[der.size() / 3] = char(der[der.size() / 3] ^ 0x01);
        const auto tampered = CertificateRequest::fromDer(der);
        QVERIFY(!tampered || !tampered->isSignatureValid());

        QCOMPARE(CertificateRequest::fromPem("nothing").error().code, QStringLiteral("NotPemRequest"));
        QCOMPARE(CertificateRequest::fromDer("nothing").error().code, QStringLiteral("BrokenDerRequest"));
    }
};

QTEST_GUILESS_MAIN(tst_CertificateRequest)
#include "tst_certificaterequest.moc"
