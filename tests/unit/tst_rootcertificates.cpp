// RootCertificates: the bundled roots are the real ones (SHA-256 fingerprints as published by their
// issuers and in Mozilla's trust store), with subject and expiry, loaded from the core's resource.
#include "credentials/rootcertificates.h"
#include "testsupport.h"

#include <QTest>

using namespace Onboarder;

class tst_RootCertificates : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void bundledRootsAreTheRealOnes_data()
    {
        QTest::addColumn<QString>("fileName");
        QTest::addColumn<QString>("commonName");
        QTest::addColumn<QString>("sha256");
        QTest::addColumn<QDateTime>("expires");
        QTest::newRow("digicert") << QStringLiteral("digicert-global-root-g2.pem")
                                  << QStringLiteral("DigiCert Global Root G2")
                                  << QStringLiteral("CB3CCBB76031E5E0138F8DD39A23F9DE47FFC35E43C1144CEA27D46A5AB1CB5F")
                                  << QDateTime(QDate(2038, 1, 15), QTime(12, 0), Qt::UTC);
        QTest::newRow("baltimore") << QStringLiteral("baltimore-cybertrust-root.pem")
                                   << QStringLiteral("Baltimore CyberTrust Root")
                                   << QStringLiteral("16AF57A9F676B0AB126095AA5EBADEF22AB31119D644AC95CD4B93DBF3F26AEB")
                                   << QDateTime(QDate(2025, 5, 12), QTime(23, 59), Qt::UTC);
        QTest::newRow("microsoft") << QStringLiteral("microsoft-rsa-root-ca-2017.pem")
                                   << QStringLiteral("Microsoft RSA Root Certificate Authority 2017")
                                   << QStringLiteral("C741F70F4B2A8D88BF2E71C14122EF53EF10EBA0CFA5E64CFA20F418853073E0")
                                   << QDateTime(QDate(2042, 7, 18), QTime(23, 0, 23), Qt::UTC);
    }

    void bundledRootsAreTheRealOnes()
    {
        QFETCH(QString, fileName);
        QFETCH(QString, commonName);
        QFETCH(QString, sha256);
        QFETCH(QDateTime, expires);
        const auto entry = RootCertificates::find(fileName);
        QVERIFY2(entry.has_value(), entry ? "" : qPrintable(entry.error().message));
        QCOMPARE(entry->resourcePath, QStringLiteral(":/certs/") + fileName);
        QCOMPARE(entry->certificate.thumbprintSha256(), sha256);
        QCOMPARE(entry->certificate.subjectCommonName(), commonName);
        QVERIFY(entry->subject().contains(QStringLiteral("CN=") + commonName));
        QCOMPARE(entry->expires(), expires);
        QCOMPARE(entry->isExpired(), QDateTime::currentDateTimeUtc() > expires);
        QVERIFY(entry->certificate.isCertificateAuthority());
        QVERIFY(entry->certificate.isSelfIssued());

        // The resource is the file in resources/certs, byte for byte.
        QFile source(TestSupport::sourcePath(QStringLiteral("resources/certs/") + fileName));
        QVERIFY(source.open(QIODevice::ReadOnly));
        QFile resource(entry->resourcePath);
        QVERIFY(resource.open(QIODevice::ReadOnly));
        QCOMPARE(resource.readAll(), source.readAll());
    }

    void listAndBundle()
    {
        QCOMPARE(RootCertificates::all().size(), 3);
        const auto bundle = Certificate::listFromPem(RootCertificates::bundlePem());
        QVERIFY(bundle.has_value());
        QCOMPARE(bundle->size(), 3);
        QCOMPARE(
            RootCertificates::find(QStringLiteral("nope.pem")).error().code, QStringLiteral("RootCertificateUnknown"));
    }
};

QTEST_GUILESS_MAIN(tst_RootCertificates)
#include "tst_rootcertificates.moc"
