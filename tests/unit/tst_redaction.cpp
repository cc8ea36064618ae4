#include "common/logging.h"

#include <QTemporaryFile>
#include <QTest>

#include <cstdio>
#include <unistd.h>

using namespace Onboarder;

class tst_Redaction : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void removesSecrets_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("secret");
        QTest::addColumn<QString>("kept");

        QTest::newRow("hub connection string")
            << QStringLiteral(
                   "HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=c2VjcmV0a2V5MTIz+/=")
            << QStringLiteral("c2VjcmV0a2V5MTIz") << QStringLiteral("SharedAccessKeyName=iothubowner");
        QTest::newRow("key last, spaces") << QStringLiteral("got SharedAccessKey = abcDEF123== from user")
                                          << QStringLiteral("abcDEF123") << QStringLiteral("from user");
        QTest::newRow("key then more") << QStringLiteral("SharedAccessKey=QUJD;DeviceId=d1") << QStringLiteral("QUJD")
                                       << QStringLiteral("DeviceId=d1");
        QTest::newRow("sas token") << QStringLiteral("SharedAccessSignature sr=h%2Fdevices%2Fd&sig=AbC%2Bd%3D&se=12345")
                                   << QStringLiteral("AbC%2Bd") << QStringLiteral("se=12345");
        QTest::newRow("sig in url") << QStringLiteral("https://h/x?sig=zzzSECRETzzz&other=1")
                                    << QStringLiteral("zzzSECRETzzz") << QStringLiteral("other=1");
        QTest::newRow("registry json") << QStringLiteral(
            "{\"authentication\":{\"symmetricKey\":{\"primaryKey\": \"cHJpbWFyeQ==\",\"secondaryKey\":\"c2Vjb25k\"}}}")
                                       << QStringLiteral("cHJpbWFyeQ") << QStringLiteral("symmetricKey");
        QTest::newRow("secondary key json") << QStringLiteral("{\"secondaryKey\":\"c2Vjb25k\"}")
                                            << QStringLiteral("c2Vjb25k") << QStringLiteral("secondaryKey");
        QTest::newRow("pkcs8 pem") << QStringLiteral(
            "before\n-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\nafter")
                                   << QStringLiteral("MIGHAgEAMBMGByqGSM49") << QStringLiteral("after");
        QTest::newRow("ec pem") << QStringLiteral(
            "-----BEGIN EC PRIVATE KEY-----\r\nMHcCAQEEIBx\r\n-----END EC PRIVATE KEY-----")
                                << QStringLiteral("MHcCAQEEIBx") << QStringLiteral("EC PRIVATE KEY");
        QTest::newRow("encrypted pem") << QStringLiteral(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkq\n-----END ENCRYPTED PRIVATE KEY-----")
                                       << QStringLiteral("MIIFHDBOBgkq") << QStringLiteral("ENCRYPTED");
        QTest::newRow("cut-off pem") << QStringLiteral("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA")
                                     << QStringLiteral("MIIEowIBAAKCAQEA") << QStringLiteral("RSA PRIVATE KEY");
    }

    void removesSecrets()
    {
        QFETCH(QString, text);
        QFETCH(QString, secret);
        QFETCH(QString, kept);
        const QString out = redacted(text);
        QVERIFY2(!out.contains(secret), qPrintable(out));
        QVERIFY2(out.contains(kept), qPrintable(out));
        QVERIFY(out.contains(QStringLiteral("<redacted>")));
    }

    void leavesOrdinaryTextAlone()
    {
        const QStringList texts{QStringLiteral("device dev-1 connected"),
            QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;x509=true"),
            QStringLiteral("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"),
            QStringLiteral("signal=5 design=ok")};
        for (const QString &text : texts)
            QCOMPARE(redacted(text), text);
    }

    void messageHandlerRedacts()
    {
        // qWarning output passes through the handler; capture stderr by redirecting it to a file.
        installRedactingMessageHandler();
        QTemporaryFile capture;
        QVERIFY(capture.open());
        const int saved = dup(fileno(stderr));
        QVERIFY(freopen(qPrintable(capture.fileName()), "w", stderr));
        qWarning("leaking SharedAccessKey=dG9wc2VjcmV0 now");
        fflush(stderr);
        dup2(saved, fileno(stderr));
        ::close(saved);
        qInstallMessageHandler(nullptr);
        const QByteArray logged = capture.readAll();
        QVERIFY2(logged.contains("leaking SharedAccessKey=<redacted> now"), logged.constData());
        QVERIFY(!logged.contains("dG9wc2VjcmV0"));
    }
};

QTEST_GUILESS_MAIN(tst_Redaction)
#include "tst_redaction.moc"
