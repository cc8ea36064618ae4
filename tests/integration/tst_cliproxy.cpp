// A hub reached only through an HTTP CONNECT proxy, with WebSockets on (`hub add --websockets --proxy`), as from
// a network that lets only HTTPS out through its proxy: REST, cloud-to-device over AMQP and telemetry from the
// Event Hub-compatible endpoint all go through the proxy, to the hub's HTTPS port. The hub's name resolves only
// at the proxy (a .invalid name it maps to the sandbox), so a connection that went around it could not have
// reached the hub at all; the proxy's record of its tunnels says where each went.
#include "clirunner.h"
#include "httpconnectproxy.h"
#include "mosquittodevice.h"
#include "sandboxprocess.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QThread>

using Run = TestSupport::CliRun;

namespace {

const QString HubName = QStringLiteral("onboarder-proxied.invalid");

// The proxy on a thread of its own: onboarder-cli runs while the test waits for it.
class ProxyThread
{
public:
    ProxyThread()
    {
        m_thread.start();
        m_context.moveToThread(&m_thread);
        QMetaObject::invokeMethod(
            &m_context,
            [this] {
                m_proxy = new TestSupport::HttpConnectProxy;
                m_proxy->mapHost(HubName, QStringLiteral("127.0.0.1"));
                m_listening = m_proxy->listen();
            },
            Qt::BlockingQueuedConnection);
    }
    ~ProxyThread()
    {
        QMetaObject::invokeMethod(
            &m_context, [this] { delete m_proxy; }, Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }
    bool listening() const { return m_listening; }
    QUrl url() const { return m_proxy->url(); }
    QStringList targets()
    {
        QStringList copy;
        QMetaObject::invokeMethod(
            &m_context, [this, &copy] { copy = m_proxy->targets(); }, Qt::BlockingQueuedConnection);
        return copy;
    }

private:
    QThread m_thread;
    QObject m_context;
    TestSupport::HttpConnectProxy *m_proxy = nullptr;
    bool m_listening = false;
};

} // namespace

class tst_CliProxy : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QProcessEnvironment m_env;
    TestSupport::SandboxProcess m_sandbox;
    std::unique_ptr<ProxyThread> m_proxy;

    Run cli(const QStringList &args, const QByteArray &input = {})
    {
        TestSupport::CliRunner runner;
        runner.environment = m_env;
        return runner(args, input);
    }

    // A mosquitto client as the device, straight to the sandbox's MQTT port at 127.0.0.1 (the devices are not
    // behind the proxy).
    void startMosquitto(QProcess &process, const QString &tool, const QString &id, const QStringList &more)
    {
        const TestSupport::MosquittoDevice as{QStringLiteral("127.0.0.1"), m_sandbox.mqttPort(), m_sandbox.caFile(),
            HubName, id, TestSupport::revealedDeviceKey(m_env, id), m_dir.path()};
        QString error;
        QVERIFY2(TestSupport::startMosquittoDevice(process, tool, as, more, &error), qPrintable(error));
    }

    // Every tunnel went to the hub's HTTPS port: nothing took the MQTT or AMQP ports.
    void verifyTunnels(qsizetype atLeast)
    {
        const QStringList targets = m_proxy->targets();
        QVERIFY2(targets.size() >= atLeast, qPrintable(targets.join(u' ')));
        for (const QString &target : targets)
            QCOMPARE(target, QStringLiteral("%1:%2").arg(HubName).arg(m_sandbox.restPort()));
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        for (const char *tool : {"mosquitto_sub", "mosquitto_pub"}) {
            if (QStandardPaths::findExecutable(QString::fromLatin1(tool)).isEmpty())
                QFAIL(qPrintable(
                    QStringLiteral("%1 is missing (Debian package mosquitto-clients; scripts/setup installs it)")
                        .arg(QLatin1String(tool))));
        }
        m_env = QProcessEnvironment::systemEnvironment();
        m_env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
        m_env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir.filePath(QStringLiteral("data")));
        m_env.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
        const QString started = m_sandbox.start(m_dir.filePath(QStringLiteral("hub")),
            {QStringLiteral("--host-name"), HubName, QStringLiteral("--seed-devices"), QStringLiteral("2")});
        QVERIFY2(started.isEmpty(), qPrintable(started));
        m_proxy = std::make_unique<ProxyThread>();
        QVERIFY(m_proxy->listening());

        // Without the proxy the hub cannot even be found: the name resolves nowhere but at the proxy.
        QCOMPARE(
            cli(m_sandbox.hubAddArguments(QStringLiteral("direct")), m_sandbox.connectionString().toUtf8()).exitCode,
            0);
        const Run direct = cli(
            {QStringLiteral("--hub"), QStringLiteral("direct"), QStringLiteral("device"), QStringLiteral("list")});
        QCOMPARE(direct.exitCode, 6);

        QCOMPARE(
            cli(m_sandbox.hubAddArguments(QStringLiteral("proxied"))
                    + QStringList{QStringLiteral("--websockets"), QStringLiteral("--proxy"), m_proxy->url().toString()},
                m_sandbox.connectionString().toUtf8())
                .exitCode,
            0);
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("use"), QStringLiteral("proxied")}).exitCode, 0);
        const Run listed = cli({QStringLiteral("--json"), QStringLiteral("hub"), QStringLiteral("list")});
        QVERIFY2(listed.out.contains("\"webSockets\":true") || listed.out.contains("\"webSockets\": true"),
            listed.out.constData());
    }

    void restAndCloudToDeviceGoThroughTheProxy()
    {
        const QString id = QStringLiteral("sandbox-device-000001");
        QProcess device;
        startMosquitto(device, QStringLiteral("mosquitto_sub"), id,
            {QStringLiteral("-t"), QStringLiteral("devices/%1/messages/devicebound/#").arg(id), QStringLiteral("-v")});
        QTest::qWait(1000);
        const Run sent
            = cli({QStringLiteral("--json"), QStringLiteral("c2d"), QStringLiteral("send"), id, QStringLiteral("--ack"),
                      QStringLiteral("positive"), QStringLiteral("--message-id"), QStringLiteral("via-proxy")},
                "through the proxy");
        QVERIFY2(sent.exitCode == 0, sent.err.constData());
        QDeadlineTimer deadline(10000);
        QByteArray output;
        while (!output.contains('\n') && !deadline.hasExpired()) {
            device.waitForReadyRead(200);
            output += device.readAllStandardOutput();
        }
        device.terminate();
        device.waitForFinished(3000);
        QVERIFY2(output.trimmed().endsWith(" through the proxy"), output.constData());

        const Run feedback = cli({QStringLiteral("--json"), QStringLiteral("c2d"), QStringLiteral("feedback"),
            QStringLiteral("--message-id"), QStringLiteral("via-proxy"), QStringLiteral("--wait"),
            QStringLiteral("20")});
        QVERIFY2(feedback.exitCode == 0 && feedback.out.contains("\"Success\""),
            QByteArray(feedback.out + feedback.err).constData());
        verifyTunnels(3); // REST (device list), AMQP for send and for feedback
    }

    void telemetryGoesThroughTheProxy()
    {
        const QString id = QStringLiteral("sandbox-device-000002");
        QProcess reader;
        reader.setProcessEnvironment(m_env);
        reader.start(TestSupport::buildPath(QStringLiteral("app/onboarder-cli")),
            {QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("telemetry"), id,
                QStringLiteral("--count"), QStringLiteral("3"), QStringLiteral("--seconds"), QStringLiteral("60")});
        QVERIFY(reader.waitForStarted(5000));
        const qsizetype before = m_proxy->targets().size();
        QDeadlineTimer listening(20000);
        while (m_proxy->targets().size() == before && !listening.hasExpired())
            QTest::qWait(100);
        QTest::qWait(1500); // the reader's links are attached ("from now")
        for (int i = 0; i < 3; ++i) {
            QProcess publish;
            startMosquitto(publish, QStringLiteral("mosquitto_pub"), id,
                {QStringLiteral("-t"), QStringLiteral("devices/%1/messages/events/colour=red").arg(id),
                    QStringLiteral("-m"), QStringLiteral("{\"n\":%1}").arg(i)});
            QVERIFY(publish.waitForFinished(10000));
            QCOMPARE(publish.exitCode(), 0);
        }
        QVERIFY(reader.waitForFinished(60000));
        const QByteArray out = reader.readAllStandardOutput();
        QVERIFY2(reader.exitCode() == 0, QByteArray(out + reader.readAllStandardError()).constData());
        const QList<QByteArray> lines = out.trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        for (int i = 0; i < 3; ++i) {
            const QJsonObject event = QJsonDocument::fromJson(lines.at(i)).object();
            QCOMPARE(event.value(QStringLiteral("payload")).toString(), QStringLiteral("{\"n\":%1}").arg(i));
            QCOMPARE(event.value(QStringLiteral("properties")).toObject().value(QStringLiteral("colour")).toString(),
                QStringLiteral("red"));
            QCOMPARE(event.value(QStringLiteral("systemProperties"))
                         .toObject()
                         .value(QStringLiteral("iothub-connection-device-id"))
                         .toString(),
                id);
        }
        verifyTunnels(before + 1);
    }

    void aProxyThatIsDownIsNamed()
    {
        QCOMPARE(cli(m_sandbox.hubAddArguments(QStringLiteral("down"))
                         + QStringList{QStringLiteral("--websockets"), QStringLiteral("--proxy"),
                             QStringLiteral("http://127.0.0.1:1")},
                     m_sandbox.connectionString().toUtf8())
                     .exitCode,
            0);
        const Run sent = cli({QStringLiteral("--hub"), QStringLiteral("down"), QStringLiteral("c2d"),
                                 QStringLiteral("send"), QStringLiteral("sandbox-device-000001")},
            "x");
        QCOMPARE(sent.exitCode, 6);
        QVERIFY2(sent.err.contains(HubName.toUtf8()) && sent.err.contains("127.0.0.1:1"), sent.err.constData());
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("bad"), QStringLiteral("--proxy"),
                         QStringLiteral("socks5://x:1")},
                     m_sandbox.connectionString().toUtf8())
                     .exitCode,
            2);
    }
};

QTEST_GUILESS_MAIN(tst_CliProxy)
#include "tst_cliproxy.moc"
