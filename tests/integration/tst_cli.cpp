// onboarder-cli as scripts use it: a real process, secrets on stdin, exit codes, --json, the real keychain.
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QUrl>

namespace {

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

QString hubString(const QString &host, const QString &key)
{
    return QStringLiteral("HostName=%1;SharedAccessKeyName=iothubowner;SharedAccessKey=%2").arg(host, key);
}

// HMAC-SHA256 by the openssl binary: an implementation independent of ours.
QByteArray opensslHmacBase64(const QByteArray &keyBytes, const QByteArray &message)
{
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
        {QStringLiteral("dgst"), QStringLiteral("-sha256"), QStringLiteral("-mac"), QStringLiteral("HMAC"),
            QStringLiteral("-macopt"), QStringLiteral("hexkey:") + QString::fromLatin1(keyBytes.toHex())});
    openssl.write(message);
    openssl.closeWriteChannel();
    openssl.waitForFinished(10000);
    // "SHA2-256(stdin)= <hex>" (wording varies by version; the hex is after the last space).
    const QByteArray line = openssl.readAllStandardOutput().trimmed();
    return QByteArray::fromHex(line.mid(line.lastIndexOf(' ') + 1)).toBase64();
}

} // namespace

class tst_Cli : public QObject
{
    Q_OBJECT

    QTemporaryDir m_home; // XDG config/data/cache dirs of the CLI under test
    QProcessEnvironment m_env;

    Run cli(const QStringList &args, const QByteArray &input = {}, const QProcessEnvironment &env = {})
    {
        QProcess process;
        process.setProcessEnvironment(env.isEmpty() ? m_env : env);
        process.start(TestSupport::buildPath(QStringLiteral("app/onboarder-cli")), args);
        if (!process.waitForStarted(10000))
            qFatal("onboarder-cli did not start");
        process.write(input);
        process.closeWriteChannel();
        if (!process.waitForFinished(60000))
            qFatal("onboarder-cli did not finish");
        Run run;
        run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        run.out = process.readAllStandardOutput();
        run.err = process.readAllStandardError();
        return run;
    }

    QStringList leaks(const QByteArray &secret) const
    {
        // The CLI's own dirs, and the whole throw-away HOME of the test session (keyring files included).
        return TestSupport::filesContaining(m_home.path(), secret)
            + TestSupport::filesContaining(qEnvironmentVariable("HOME"), secret);
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        QVERIFY(m_home.isValid());
        m_env = QProcessEnvironment::systemEnvironment();
        m_env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home.filePath(QStringLiteral("config")));
        m_env.insert(QStringLiteral("XDG_DATA_HOME"), m_home.filePath(QStringLiteral("data")));
        m_env.insert(QStringLiteral("XDG_CACHE_HOME"), m_home.filePath(QStringLiteral("cache")));
        m_env.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
        m_env.remove(QStringLiteral("LANGUAGE"));
    }

    void helpAndUsage()
    {
        QCOMPARE(cli({QStringLiteral("--version")}).exitCode, 0);
        QVERIFY(cli({QStringLiteral("--version")}).out.startsWith("onboarder-cli "));
        const Run help = cli({QStringLiteral("--help")});
        QCOMPARE(help.exitCode, 0);
        QVERIFY(help.out.contains("hub add"));
        QVERIFY(help.out.contains("sas token"));
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("--help")}).exitCode, 0);
        const Run verbHelp = cli({QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("--help")});
        QCOMPARE(verbHelp.exitCode, 0);
        QVERIFY(verbHelp.out.contains("--rest-port"));

        QCOMPARE(cli({}).exitCode, 1);
        QCOMPARE(cli({QStringLiteral("nosuch")}).exitCode, 1);
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("nosuch")}).exitCode, 1);
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("add")}).exitCode, 1);
        QCOMPARE(cli({QStringLiteral("--bogus"), QStringLiteral("hub"), QStringLiteral("list")}).exitCode, 1);
        const Run badPort = cli({QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("x"),
                                    QStringLiteral("--rest-port"), QStringLiteral("abc")},
            "HostName=a.b;SharedAccessKeyName=p;SharedAccessKey=YWJj");
        QCOMPARE(badPort.exitCode, 1);
        QVERIFY(badPort.err.startsWith("error: "));
    }

    void hubLifecycle()
    {
        const QString key = TestSupport::randomKey();
        const QString cs = hubString(QStringLiteral("contoso-test.azure-devices.net"), key);

        const Run added
            = cli({QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("contoso")}, cs.toUtf8() + '\n');
        QVERIFY2(added.exitCode == 0, added.err.constData());
        QVERIFY(added.out.contains("contoso-test.azure-devices.net"));
        QVERIFY(!added.out.contains(key.toUtf8()));

        const Run list = cli({QStringLiteral("--json"), QStringLiteral("hub"), QStringLiteral("list")});
        QCOMPARE(list.exitCode, 0);
        const QJsonArray hubs = list.json().value(QStringLiteral("hubs")).toArray();
        QCOMPARE(hubs.size(), 1);
        QCOMPARE(hubs.at(0)[QStringLiteral("name")].toString(), QStringLiteral("contoso"));
        QCOMPARE(hubs.at(0)[QStringLiteral("hostName")].toString(), QStringLiteral("contoso-test.azure-devices.net"));
        QCOMPARE(hubs.at(0)[QStringLiteral("policyName")].toString(), QStringLiteral("iothubowner"));

        const Run table = cli({QStringLiteral("hub"), QStringLiteral("list")});
        QVERIFY(table.out.contains("NAME"));
        QVERIFY(table.out.contains("contoso-test.azure-devices.net"));

        // hub use makes it current; list shows which one is.
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("use"), QStringLiteral("nosuch")}).exitCode, 3);
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("use"), QStringLiteral("contoso")}).exitCode, 0);
        QCOMPARE(cli({QStringLiteral("--json"), QStringLiteral("hub"), QStringLiteral("list")})
                     .json()[QStringLiteral("hubs")]
                     .toArray()
                     .at(0)[QStringLiteral("current")]
                     .toBool(),
            true);

        // The key is nowhere on disk in the clear: not in settings, data, cache, nor anywhere in HOME.
        QCOMPARE(leaks(key.toUtf8()), QStringList());

        // The same name again: conflict.
        const Run again
            = cli({QStringLiteral("--json"), QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("contoso")},
                cs.toUtf8());
        QCOMPARE(again.exitCode, 4);
        QCOMPARE(again.json()[QStringLiteral("error")][QStringLiteral("code")].toString(), QStringLiteral("HubExists"));

        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("remove"), QStringLiteral("contoso")}).exitCode, 0);
        QCOMPARE(cli({QStringLiteral("--json"), QStringLiteral("hub"), QStringLiteral("list")})
                     .json()[QStringLiteral("hubs")]
                     .toArray()
                     .size(),
            0);
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("remove"), QStringLiteral("contoso")}).exitCode, 3);
    }

    void hubAddFromFileWithEndpoint()
    {
        const QString key = TestSupport::randomKey();
        QFile secret(m_home.filePath(QStringLiteral("cs.txt")));
        QVERIFY(secret.open(QIODevice::WriteOnly));
        secret.write(hubString(QStringLiteral("sandbox.azure-devices.net"), key).toUtf8());
        secret.close();
        const Run added
            = cli({QStringLiteral("--json"), QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("local"),
                QStringLiteral("--rest-port"), QStringLiteral("8443"), QStringLiteral("--mqtt-port"),
                QStringLiteral("18883"), QStringLiteral("--secret-file"), secret.fileName()});
        QVERIFY2(added.exitCode == 0, added.err.constData());
        QCOMPARE(added.json()[QStringLiteral("restPort")].toInt(), 8443);
        QCOMPARE(added.json()[QStringLiteral("mqttPort")].toInt(), 18883);
        secret.remove();
        QCOMPARE(leaks(key.toUtf8()), QStringList());
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("remove"), QStringLiteral("local")}).exitCode, 0);
    }

    void hubAddRefusesBadInput_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<QString>("code");
        const QByteArray key = TestSupport::randomKey().toUtf8();
        QTest::newRow("device string") << QByteArray("HostName=h.azure-devices.net;DeviceId=d1;SharedAccessKey=" + key)
                                       << QStringList() << QStringLiteral("NotAHubConnectionString");
        QTest::newRow("no host") << QByteArray("SharedAccessKeyName=iothubowner;SharedAccessKey=" + key)
                                 << QStringList() << QStringLiteral("MissingHostName");
        QTest::newRow("key not base64") << QByteArray(
            "HostName=h.azure-devices.net;SharedAccessKeyName=p;SharedAccessKey=not*base64")
                                        << QStringList() << QStringLiteral("KeyNotBase64");
        QTest::newRow("missing CA file") << QByteArray(
            "HostName=h.azure-devices.net;SharedAccessKeyName=p;SharedAccessKey=" + key)
                                         << QStringList{QStringLiteral("--ca"), QStringLiteral("/nonexistent/ca.pem")}
                                         << QStringLiteral("CaFileUnreadable");
        QTest::newRow("bad name") << QByteArray(
            "HostName=h.azure-devices.net;SharedAccessKeyName=p;SharedAccessKey=" + key)
                                  << QStringList{QStringLiteral("--")} << QString();
    }

    void hubAddRefusesBadInput()
    {
        QFETCH(QByteArray, input);
        QFETCH(QStringList, extra);
        QFETCH(QString, code);
        QStringList args{QStringLiteral("--json"), QStringLiteral("hub"), QStringLiteral("add")};
        args += extra;
        args.append(code.isEmpty() ? QStringLiteral("-bad name") : QStringLiteral("x"));
        const Run run = cli(args, input);
        QVERIFY2(run.exitCode == 2, run.err.constData());
        QVERIFY(run.err.startsWith("error: "));
        if (!code.isEmpty())
            QCOMPARE(run.json()[QStringLiteral("error")][QStringLiteral("code")].toString(), code);
        QCOMPARE(run.json()[QStringLiteral("error")][QStringLiteral("exitCode")].toInt(), 2);
        QCOMPARE(cli({QStringLiteral("--json"), QStringLiteral("hub"), QStringLiteral("list")})
                     .json()[QStringLiteral("hubs")]
                     .toArray()
                     .size(),
            0);
    }

    void keychainUnavailableWritesNothing()
    {
        const QString key = TestSupport::randomKey();
        QProcessEnvironment noBus = m_env;
        noBus.insert(
            QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), QStringLiteral("unix:path=/nonexistent/onboarder-no-bus"));
        noBus.remove(QStringLiteral("DISPLAY"));
        const Run run
            = cli({QStringLiteral("--json"), QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("offline")},
                hubString(QStringLiteral("h.azure-devices.net"), key).toUtf8(), noBus);
        QCOMPARE(run.exitCode, 8);
        QVERIFY(run.err.contains("keychain"));
        QVERIFY(!run.err.contains(key.toUtf8()));
        QCOMPARE(cli({QStringLiteral("--json"), QStringLiteral("hub"), QStringLiteral("list")})
                     .json()[QStringLiteral("hubs")]
                     .toArray()
                     .size(),
            0);
        QCOMPARE(leaks(key.toUtf8()), QStringList());
    }

    void connParseMasksKey()
    {
        const QString key = TestSupport::randomKey();
        const QByteArray cs
            = QStringLiteral("HostName=myhub.azure-devices.net;DeviceId=dev-1;SharedAccessKey=%1").arg(key).toUtf8();
        const Run masked = cli({QStringLiteral("conn"), QStringLiteral("parse")}, cs);
        QCOMPARE(masked.exitCode, 0);
        QVERIFY(masked.out.contains("dev-1"));
        QVERIFY(masked.out.contains("myhub"));
        QVERIFY(!masked.out.contains(key.toUtf8()));

        const Run json = cli({QStringLiteral("--json"), QStringLiteral("conn"), QStringLiteral("parse")}, cs);
        QCOMPARE(json.json()[QStringLiteral("kind")].toString(), QStringLiteral("device"));
        QCOMPARE(json.json()[QStringLiteral("DeviceId")].toString(), QStringLiteral("dev-1"));
        QCOMPARE(json.json()[QStringLiteral("hubName")].toString(), QStringLiteral("myhub"));
        QVERIFY(json.json()[QStringLiteral("SharedAccessKey")].toString() != key);

        const Run revealed = cli(
            {QStringLiteral("--json"), QStringLiteral("conn"), QStringLiteral("parse"), QStringLiteral("--reveal")},
            cs);
        QCOMPARE(revealed.json()[QStringLiteral("SharedAccessKey")].toString(), key);

        const Run bad = cli({QStringLiteral("--json"), QStringLiteral("conn"), QStringLiteral("parse")},
            "HostName=myhub.azure-devices.net;DeviceId=d;DeviceId=e;SharedAccessKey=" + key.toUtf8());
        QCOMPARE(bad.exitCode, 2);
        QCOMPARE(
            bad.json()[QStringLiteral("error")][QStringLiteral("code")].toString(), QStringLiteral("DuplicateKey"));
        QVERIFY(!bad.err.contains(key.toUtf8()));
        QVERIFY(!bad.out.contains(key.toUtf8()));

        QCOMPARE(cli({QStringLiteral("conn"), QStringLiteral("parse")}, "").exitCode, 2);
    }

    void sasTokenMatchesKnownVector()
    {
        // iothub.md 2.6, V7: a service token of the az CLI's unit tests.
        const Run run
            = cli({QStringLiteral("sas"), QStringLiteral("token"), QStringLiteral("--uri"),
                      QStringLiteral("iot-hub-for-test.azure-devices.net"), QStringLiteral("--key-name"),
                      QStringLiteral("iothubowner"), QStringLiteral("--expiry"), QStringLiteral("1471940363")},
                "+XLy+MVZ+aTeOnVzN2kLeB16O+kSxmz6g3rS6fAf6rw=\n");
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.out.trimmed(),
            QByteArray("SharedAccessSignature "
                       "sr=iot-hub-for-test.azure-devices.net&sig=770sPjjYxRYpNz8%2FhEN7XR5XU5KDGYGTinSP8YyeTXw%3D"
                       "&se=1471940363&skn=iothubowner"));
    }

    void sasTokenVerifiesWithOpenssl()
    {
        const QStringList resources{QStringLiteral("myhub.azure-devices.net/devices/dev-1"),
            QStringLiteral("myhub.azure-devices.net"),
            QStringLiteral("h.azure-devices.net/devices/a:b+c%d#e*f?g!h(i)j,k=l@m;n$o'p"),
            QStringLiteral("h.azure-devices.net/devices/d/modules/m"),
            QStringLiteral("0ne00111111/registrations/my reg")};
        for (int i = 0; i < 10; ++i) {
            QByteArray keyBytes(16 + QRandomGenerator::global()->bounded(49), Qt::Uninitialized);
            for (char &c : keyBytes)
                c = char(QRandomGenerator::global()->bounded(256));
            const QString resource = resources.at(i % resources.size());
            const bool withPolicy = i % 2 == 0;
            QStringList args{QStringLiteral("--json"), QStringLiteral("sas"), QStringLiteral("token"),
                QStringLiteral("--uri"), resource, QStringLiteral("--ttl"), QString::number(60 + i * 3600)};
            if (withPolicy)
                args += {QStringLiteral("--key-name"), QStringLiteral("service")};
            const Run run = cli(args, keyBytes.toBase64());
            QVERIFY2(run.exitCode == 0, run.err.constData());
            const QString token = run.json()[QStringLiteral("token")].toString();
            QVERIFY(token.startsWith(QStringLiteral("SharedAccessSignature ")));

            QMap<QString, QString> fields;
            for (const QString &field : token.mid(22).split(u'&')) {
                const auto eq = field.indexOf(u'=');
                fields.insert(field.left(eq), field.mid(eq + 1));
            }
            QCOMPARE(QUrl::fromPercentEncoding(fields.value(QStringLiteral("sr")).toUtf8()), resource);
            const qint64 se = fields.value(QStringLiteral("se")).toLongLong();
            QVERIFY(qAbs(se - (QDateTime::currentSecsSinceEpoch() + 60 + i * 3600)) < 30);
            QCOMPARE(fields.contains(QStringLiteral("skn")), withPolicy);

            const QByteArray stringToSign = fields.value(QStringLiteral("sr")).toUtf8() + '\n' + QByteArray::number(se);
            const QByteArray expected = opensslHmacBase64(keyBytes, stringToSign);
            QCOMPARE(QUrl::fromPercentEncoding(fields.value(QStringLiteral("sig")).toUtf8()).toLatin1(), expected);
        }
    }

    void sasTokenUsage()
    {
        const QByteArray key = TestSupport::randomKey().toUtf8();
        QCOMPARE(
            cli({QStringLiteral("sas"), QStringLiteral("token"), QStringLiteral("--ttl"), QStringLiteral("60")}, key)
                .exitCode,
            1);
        QCOMPARE(
            cli({QStringLiteral("sas"), QStringLiteral("token"), QStringLiteral("--uri"), QStringLiteral("h")}, key)
                .exitCode,
            1);
        QCOMPARE(
            cli({QStringLiteral("sas"), QStringLiteral("token"), QStringLiteral("--uri"), QStringLiteral("h"),
                    QStringLiteral("--ttl"), QStringLiteral("60"), QStringLiteral("--expiry"), QStringLiteral("5")},
                key)
                .exitCode,
            1);
        QCOMPARE(cli({QStringLiteral("sas"), QStringLiteral("token"), QStringLiteral("--uri"), QStringLiteral("h"),
                         QStringLiteral("--ttl"), QStringLiteral("-5")},
                     key)
                     .exitCode,
            1);
        const Run notBase64
            = cli({QStringLiteral("--json"), QStringLiteral("sas"), QStringLiteral("token"), QStringLiteral("--uri"),
                      QStringLiteral("h"), QStringLiteral("--ttl"), QStringLiteral("60")},
                "not base64!");
        QCOMPARE(notBase64.exitCode, 2);
        QCOMPARE(notBase64.json()[QStringLiteral("error")][QStringLiteral("code")].toString(),
            QStringLiteral("KeyNotBase64"));
    }

    void cleanupTestCase()
    {
        // Leave no hub behind in the shared keychain service.
        const Run list = cli({QStringLiteral("--json"), QStringLiteral("hub"), QStringLiteral("list")});
        for (const QJsonValue &hub : list.json()[QStringLiteral("hubs")].toArray())
            cli({QStringLiteral("hub"), QStringLiteral("remove"), hub[QStringLiteral("name")].toString()});
    }
};

QTEST_GUILESS_MAIN(tst_Cli)
#include "tst_cli.moc"
