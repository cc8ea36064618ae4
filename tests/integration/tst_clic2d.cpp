// onboarder-cli c2d send|feedback|purge against a real sandbox hub process over AMQP, with the device side played by
// mosquitto_sub (a client the project did not write) on the hub's MQTT endpoint.
#include "clirunner.h"
#include "mosquittodevice.h"
#include "sandboxprocess.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QUrl>

using Run = TestSupport::CliRun;

class tst_CliC2d : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QProcessEnvironment m_env;
    TestSupport::SandboxProcess m_sandbox;

    Run cli(const QStringList &args, const QByteArray &input = {})
    {
        TestSupport::CliRunner runner;
        runner.environment = m_env;
        return runner(args, input);
    }

    // mosquitto_sub as the device, subscribed to its cloud-to-device topic; prints "topic payload" lines.
    void startDevice(QProcess &device, const QString &id)
    {
        const TestSupport::MosquittoDevice as{m_sandbox.hostName(), m_sandbox.mqttPort(), m_sandbox.caFile(),
            m_sandbox.hostName(), id, TestSupport::revealedDeviceKey(m_env, id), m_dir.path()};
        QString error;
        QVERIFY2(TestSupport::startMosquittoDevice(device, QStringLiteral("mosquitto_sub"), as,
                     {QStringLiteral("-t"), QStringLiteral("devices/%1/messages/devicebound/#").arg(id),
                         QStringLiteral("-v")},
                     &error),
            qPrintable(error));
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        if (QStandardPaths::findExecutable(QStringLiteral("mosquitto_sub")).isEmpty())
            QFAIL("mosquitto_sub is missing (Debian package mosquitto-clients; scripts/setup installs it)");
        m_env = QProcessEnvironment::systemEnvironment();
        m_env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
        m_env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir.filePath(QStringLiteral("data")));
        m_env.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
        const QString started = m_sandbox.start(
            m_dir.filePath(QStringLiteral("hub")), {QStringLiteral("--seed-devices"), QStringLiteral("3")});
        QVERIFY2(started.isEmpty(), qPrintable(started));
        QCOMPARE(
            cli(m_sandbox.hubAddArguments(QStringLiteral("sb")), m_sandbox.connectionString().toUtf8()).exitCode, 0);
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("use"), QStringLiteral("sb")}).exitCode, 0);
    }

    void sendReachesTheDeviceAndFeedbackSaysSuccess()
    {
        const QString id = QStringLiteral("sandbox-device-000001");
        QProcess device;
        startDevice(device, id);
        QTest::qWait(1000); // subscribed (a message sent before would wait for it anyway)

        const Run sent = cli(
            {QStringLiteral("--json"), QStringLiteral("c2d"), QStringLiteral("send"), id, QStringLiteral("--property"),
                QStringLiteral("colour=blue"), QStringLiteral("--property"), QStringLiteral("with space=a&b"),
                QStringLiteral("--ack"), QStringLiteral("full"), QStringLiteral("--message-id"), QStringLiteral("m-1")},
            "{\"led\":\"on\"}");
        QVERIFY2(sent.exitCode == 0, sent.err.constData());
        QCOMPARE(sent.json().object().value(QStringLiteral("messageId")).toString(), QStringLiteral("m-1"));

        QDeadlineTimer deadline(10000);
        QByteArray output;
        while (!output.contains('\n') && !deadline.hasExpired()) {
            device.waitForReadyRead(200);
            output += device.readAllStandardOutput();
        }
        device.terminate();
        device.waitForFinished(3000);
        const qsizetype space = output.indexOf(' ');
        QVERIFY2(space > 0, QByteArray(output + device.readAllStandardError()).constData());
        const QString topic = QString::fromUtf8(output.left(space));
        QCOMPARE(output.mid(space + 1).trimmed(), QByteArray("{\"led\":\"on\"}"));
        const QString prefix = QStringLiteral("devices/%1/messages/devicebound/").arg(id);
        QVERIFY2(topic.startsWith(prefix), qPrintable(topic));
        QMap<QString, QString> bag;
        for (const QString &pair : topic.mid(prefix.size()).split(u'&')) {
            const qsizetype eq = pair.indexOf(u'=');
            bag.insert(QUrl::fromPercentEncoding(pair.left(eq).toUtf8()),
                QUrl::fromPercentEncoding(pair.mid(eq + 1).toUtf8()));
        }
        QCOMPARE(bag.value(QStringLiteral("colour")), QStringLiteral("blue"));
        QCOMPARE(bag.value(QStringLiteral("with space")), QStringLiteral("a&b"));
        QCOMPARE(bag.value(QStringLiteral("$.mid")), QStringLiteral("m-1"));
        QCOMPARE(bag.value(QStringLiteral("iothub-ack")), QStringLiteral("full"));

        const Run feedback = cli({QStringLiteral("--json"), QStringLiteral("c2d"), QStringLiteral("feedback"),
            QStringLiteral("--message-id"), QStringLiteral("m-1"), QStringLiteral("--wait"), QStringLiteral("20")});
        QVERIFY2(feedback.exitCode == 0, feedback.err.constData());
        bool success = false;
        for (const QByteArray &line : feedback.out.trimmed().split('\n')) {
            const QJsonObject record = QJsonDocument::fromJson(line).object();
            if (record.value(QStringLiteral("originalMessageId")).toString() == QStringLiteral("m-1"))
                success = record.value(QStringLiteral("statusCode")).toString() == QStringLiteral("Success")
                    && record.value(QStringLiteral("deviceId")).toString() == id;
        }
        QVERIFY2(success, feedback.out.constData());
    }

    void queueDepthAndPurge()
    {
        const QString id = QStringLiteral("sandbox-device-000002");
        for (int i = 0; i < 3; ++i)
            QCOMPARE(cli({QStringLiteral("c2d"), QStringLiteral("send"), id}, "waiting").exitCode, 0);
        const Run shown = cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("show"), id});
        QCOMPARE(shown.json()[QStringLiteral("cloudToDeviceMessageCount")].toInt(), 3);
        QCOMPARE(cli({QStringLiteral("c2d"), QStringLiteral("purge"), id}).exitCode, 2); // not without --yes
        const Run purged = cli(
            {QStringLiteral("--json"), QStringLiteral("c2d"), QStringLiteral("purge"), id, QStringLiteral("--yes")});
        QVERIFY2(purged.exitCode == 0, purged.err.constData());
        QCOMPARE(purged.json()[QStringLiteral("totalMessagesPurged")].toInt(), 3);
        QCOMPARE(cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("show"), id})
                     .json()[QStringLiteral("cloudToDeviceMessageCount")]
                     .toInt(),
            0);
    }

    void badInputIsRefusedBeforeAnythingIsSent()
    {
        const QString id = QStringLiteral("sandbox-device-000003");
        const Run large = cli({QStringLiteral("c2d"), QStringLiteral("send"), id}, QByteArray(70000, 'x'));
        QCOMPARE(large.exitCode, 2);
        QVERIFY2(large.err.contains("64 KB"), large.err.constData());
        const Run reserved = cli({QStringLiteral("c2d"), QStringLiteral("send"), id, QStringLiteral("--property"),
                                     QStringLiteral("iothub-ack=full")},
            "x");
        QCOMPARE(reserved.exitCode, 2);
        QVERIFY2(reserved.err.contains("iothub-"), reserved.err.constData());
        QCOMPARE(cli({QStringLiteral("c2d"), QStringLiteral("send"), id, QStringLiteral("--ack"),
                         QStringLiteral("sometimes")},
                     "x")
                     .exitCode,
            2);
        QCOMPARE(cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("show"), id})
                     .json()[QStringLiteral("cloudToDeviceMessageCount")]
                     .toInt(),
            0);

        // A device the hub does not know: not found (3), named.
        const Run unknown = cli({QStringLiteral("c2d"), QStringLiteral("send"), QStringLiteral("nobody-here")}, "x");
        QCOMPARE(unknown.exitCode, 3);
        QVERIFY2(unknown.err.contains("nobody-here"), unknown.err.constData());
    }
};

QTEST_GUILESS_MAIN(tst_CliC2d)
#include "tst_clic2d.moc"
