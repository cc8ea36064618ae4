// onboarder-cli device/twin/method commands against a real sandbox hub process, with the real keychain.
#include "clirunner.h"
#include "hub/connectionstring.h"
#include "hub/sastoken.h"
#include "mqttconnect.h"
#include "sandboxprocess.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>

#include <algorithm>

using Run = TestSupport::CliRun;

class tst_CliDevices : public QObject
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

    // A device of the sandbox connected over MQTT with its own key, as a field device would be.
    std::unique_ptr<Onboarder::MqttClient> connectDevice(const QString &id)
    {
        const Run shown = cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("show"), id,
            QStringLiteral("--reveal")});
        const QString key = shown
                                .json()[QStringLiteral("authentication")][QStringLiteral("symmetricKey")]
                                       [QStringLiteral("primaryKey")]
                                .toString();
        auto device = std::make_unique<Onboarder::MqttClient>();
        device->setHostname(m_sandbox.hostName());
        device->setPort(m_sandbox.mqttPort());
        device->setTlsEnabled(true);
        device->setCaFile(m_sandbox.caFile());
        device->setClientId(id);
        device->setUsername(QStringLiteral("%1/%2/?api-version=2021-04-12").arg(m_sandbox.hostName(), id));
        device->setPassword(Onboarder::SecretBytes::fromQByteArray(Onboarder::SasToken::create(
            m_sandbox.hostName() + QStringLiteral("/devices/") + id, key, QDateTime::currentSecsSinceEpoch() + 600)
                                                                       ->toString()
                                                                       .toUtf8()));
        if (!TestSupport::connects(*device))
            return nullptr;
        return device;
    }

    // Starts onboarder-cli with args; the devices publish in turn until it ends (it ends itself at its --count).
    QList<QJsonObject> watchWhilePublishing(
        const QStringList &args, const QList<Onboarder::MqttClient *> &devices, int *exitCode)
    {
        QProcess watch;
        watch.setProcessEnvironment(m_env);
        watch.start(TestSupport::buildPath(QStringLiteral("app/onboarder-cli")), args);
        if (!watch.waitForStarted(10000))
            return {};
        int sent = 0;
        QDeadlineTimer deadline(30000);
        while (watch.state() == QProcess::Running && !deadline.hasExpired()) {
            Onboarder::MqttClient *device = devices.at(sent % devices.size());
            if (!device->publish(QStringLiteral("devices/%1/messages/events/n=%2").arg(device->clientId()).arg(sent),
                    "{\"n\":" + QByteArray::number(sent) + '}', 1))
                break;
            ++sent;
            QTest::qWait(300); // the event loop runs: the device's socket sends what was published
        }
        if (watch.state() == QProcess::Running) {
            watch.kill();
            watch.waitForFinished(5000);
        }
        *exitCode = watch.exitStatus() == QProcess::NormalExit ? watch.exitCode() : -1;
        QList<QJsonObject> lines;
        for (const QByteArray &line : watch.readAllStandardOutput().trimmed().split('\n')) {
            if (!line.isEmpty())
                lines.append(QJsonDocument::fromJson(line).object());
        }
        return lines;
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        m_env = QProcessEnvironment::systemEnvironment();
        m_env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
        m_env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir.filePath(QStringLiteral("data")));
        m_env.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
        const QString started = m_sandbox.start(
            m_dir.filePath(QStringLiteral("hub")), {QStringLiteral("--seed-devices"), QStringLiteral("3")});
        QVERIFY2(started.isEmpty(), qPrintable(started));
        const QString port = QString::number(m_sandbox.restPort());
        const QString ca = m_sandbox.caFile();
        const QByteArray cs = m_sandbox.connectionString().toUtf8();
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("sb"), QStringLiteral("--ca"), ca,
                         QStringLiteral("--rest-port"), port},
                     cs)
                     .exitCode,
            0);
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("use"), QStringLiteral("sb")}).exitCode, 0);
        // A hub profile with a wrong key, and one whose port nobody listens on.
        QByteArray wrong = cs;
        wrong = wrong.left(wrong.indexOf("SharedAccessKey=") + 16) + TestSupport::randomKey().toUtf8();
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("wrongkey"), QStringLiteral("--ca"),
                         ca, QStringLiteral("--rest-port"), port},
                     wrong)
                     .exitCode,
            0);
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("closed"), QStringLiteral("--ca"),
                         ca, QStringLiteral("--rest-port"), QStringLiteral("1")},
                     cs)
                     .exitCode,
            0);
    }

    void createShowListDelete()
    {
        const Run created = cli(
            {QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("create"), QStringLiteral("cli-1")});
        QVERIFY2(created.exitCode == 0, created.err.constData());
        QCOMPARE(created.json().object().value(QStringLiteral("deviceId")).toString(), QStringLiteral("cli-1"));
        QCOMPARE(cli({QStringLiteral("device"), QStringLiteral("create"), QStringLiteral("cli-1")}).exitCode, 4);
        QCOMPARE(cli({QStringLiteral("device"), QStringLiteral("create"), QStringLiteral("has space")}).exitCode, 2);

        // Keys are masked unless revealed; the connection string carries the revealed key.
        const Run shown = cli(
            {QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("show"), QStringLiteral("cli-1")});
        const QString maskedKey = shown
                                      .json()[QStringLiteral("authentication")][QStringLiteral("symmetricKey")]
                                             [QStringLiteral("primaryKey")]
                                      .toString();
        QCOMPARE(maskedKey, QStringLiteral("********"));
        const Run revealed = cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("show"),
            QStringLiteral("cli-1"), QStringLiteral("--reveal")});
        const QString key = revealed
                                .json()[QStringLiteral("authentication")][QStringLiteral("symmetricKey")]
                                       [QStringLiteral("primaryKey")]
                                .toString();
        QVERIFY(QByteArray::fromBase64(key.toLatin1()).size() >= 16);
        QVERIFY(!cli({QStringLiteral("device"), QStringLiteral("connection-string"), QStringLiteral("cli-1")})
                     .out.contains(key.toUtf8()));
        const Run cs = cli({QStringLiteral("device"), QStringLiteral("connection-string"), QStringLiteral("cli-1"),
            QStringLiteral("--reveal")});
        QVERIFY2(cs.out.trimmed()
                == QStringLiteral("HostName=127.0.0.1;DeviceId=cli-1;SharedAccessKey=%1").arg(key).toUtf8(),
            "the revealed connection string is the device's (not printed here)");
        // The expiring hand-over: a token of the device's, valid that long, masked unless --reveal; never the key.
        const Run expiring = cli({QStringLiteral("--json"), QStringLiteral("device"),
            QStringLiteral("connection-string"), QStringLiteral("cli-1"), QStringLiteral("--expires"),
            QStringLiteral("2h"), QStringLiteral("--reveal")});
        QVERIFY2(expiring.exitCode == 0, expiring.err.constData());
        const QString handOver = expiring.json()[QStringLiteral("connectionString")].toString();
        QVERIFY(handOver.startsWith(
            QStringLiteral("HostName=127.0.0.1;DeviceId=cli-1;SharedAccessSignature=SharedAccessSignature sr=")));
        QVERIFY(!handOver.contains(QStringLiteral("SharedAccessKey")) && !handOver.contains(key));
        const qint64 validFor = QDateTime::currentDateTimeUtc().secsTo(
            QDateTime::fromString(expiring.json()[QStringLiteral("expiresAt")].toString(), Qt::ISODate));
        QVERIFY2(validFor > 7100 && validFor <= 7200, qPrintable(QString::number(validFor)));
        const auto token
            = Onboarder::SasToken::parse(Onboarder::ConnectionString::parse(handOver)->sharedAccessSignature());
        QVERIFY(token && token->verify(key) && token->resource() == QStringLiteral("127.0.0.1/devices/cli-1"));
        const Run maskedHandOver = cli({QStringLiteral("device"), QStringLiteral("connection-string"),
            QStringLiteral("cli-1"), QStringLiteral("--expires"), QStringLiteral("2h")});
        QCOMPARE(maskedHandOver.exitCode, 0);
        // The token's signature is the mask (the rest of the token stays readable: whom it is for, until when).
        static const QRegularExpression sig(QStringLiteral("[?&\\s]sig=([^&\\s]*)"));
        const auto maskedSig = sig.match(QString::fromUtf8(maskedHandOver.out));
        QVERIFY2(maskedSig.hasMatch(), maskedHandOver.out.constData());
        QCOMPARE(maskedSig.captured(1), QStringLiteral("********"));
        QVERIFY(maskedHandOver.out.contains("&se=") && maskedHandOver.out.contains("sr=127.0.0.1%2Fdevices%2Fcli-1"));
        const Run notADuration
            = cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("connection-string"),
                QStringLiteral("cli-1"), QStringLiteral("--expires"), QStringLiteral("tomorrow")});
        QCOMPARE(notADuration.exitCode, 1);
        QVERIFY(notADuration.err.contains("\"tomorrow\" is not a length of time"));
        QCOMPARE(notADuration.json()[QStringLiteral("error")][QStringLiteral("exitCode")].toInt(), 1); // as it exits
        QCOMPARE(cli({QStringLiteral("device"), QStringLiteral("connection-string"), QStringLiteral("cli-1"),
                         QStringLiteral("--expires"), QStringLiteral("366d")})
                     .exitCode,
            1);

        // Key rotation, in human mode: the device as `device show` prints it, the new key masked unless --reveal.
        const Run rotated = cli(
            {QStringLiteral("device"), QStringLiteral("keys"), QStringLiteral("regenerate"), QStringLiteral("cli-1"),
                QStringLiteral("--secondary"), QStringLiteral("--yes"), QStringLiteral("--reveal")});
        QVERIFY2(rotated.exitCode == 0, rotated.err.constData());
        QVERIFY(rotated.out.contains("Regenerated the secondary key of \"cli-1\"."));
        QVERIFY(rotated.out.contains(key.toUtf8())); // the primary, untouched
        QVERIFY(rotated.out.contains("Secondary key"));
        const Run maskedRotation = cli({QStringLiteral("device"), QStringLiteral("keys"), QStringLiteral("swap"),
            QStringLiteral("cli-1"), QStringLiteral("--yes")});
        QVERIFY2(maskedRotation.exitCode == 0, maskedRotation.err.constData());
        QVERIFY(maskedRotation.out.contains("Swapped the keys of \"cli-1\".")
            && !maskedRotation.out.contains(key.toUtf8()));
        for (const QStringList &wrong : {QStringList{QStringLiteral("regenerate"), QStringLiteral("cli-1")},
                 QStringList{QStringLiteral("swap"), QStringLiteral("cli-1"), QStringLiteral("--primary")},
                 QStringList{QStringLiteral("rotate"), QStringLiteral("cli-1")}})
            QCOMPARE(cli(QStringList{QStringLiteral("device"), QStringLiteral("keys")} + wrong
                         + QStringList{QStringLiteral("--yes")})
                         .exitCode,
                1);

        const Run list = cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("list")});
        QCOMPARE(list.exitCode, 0);
        QCOMPARE(list.json().array().size(), 4);
        const Run csv = cli({QStringLiteral("device"), QStringLiteral("list"), QStringLiteral("--csv"),
            QStringLiteral("--query"), QStringLiteral("SELECT * FROM devices WHERE deviceId = 'cli-1'")});
        QCOMPARE(csv.out.trimmed().split('\n').size(), 2);
        QVERIFY(csv.out.startsWith("deviceId,status,"));
        QCOMPARE(cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("list"),
                         QStringLiteral("--top"), QStringLiteral("2")})
                     .json()
                     .array()
                     .size(),
            2);

        QCOMPARE(cli({QStringLiteral("device"), QStringLiteral("delete"), QStringLiteral("cli-1")}).exitCode,
            1); // no terminal, no --yes
        const Run deleted = cli(
            {QStringLiteral("device"), QStringLiteral("delete"), QStringLiteral("cli-1"), QStringLiteral("--yes")});
        QVERIFY2(deleted.exitCode == 0, deleted.err.constData());
        QCOMPARE(cli({QStringLiteral("device"), QStringLiteral("show"), QStringLiteral("cli-1")}).exitCode, 3);
    }

    void csvDefusesFormulas()
    {
        // IoT Hub allows = + - @ and the comma in device ids: a spreadsheet opening the export must not run
        // any of them as a formula (the cell starts with an apostrophe) nor split one at its comma.
        const QStringList ids{QStringLiteral("=1+2"), QStringLiteral("+1+2"), QStringLiteral("-1+2"),
            QStringLiteral("@SUM(1)"), QStringLiteral("=1,2")};
        for (const QString &id : ids) { // after "--": "-1+2" is no option
            const Run created = cli({QStringLiteral("device"), QStringLiteral("create"), QStringLiteral("--"), id});
            QVERIFY2(created.exitCode == 0, created.err.constData());
        }
        const Run csv = cli({QStringLiteral("device"), QStringLiteral("list"), QStringLiteral("--csv")});
        QCOMPARE(csv.exitCode, 0);
        const QList<QByteArray> lines = csv.out.trimmed().split('\n');
        for (const QByteArray &line : lines)
            QVERIFY2(!QByteArrayView("=+-@").contains(line.front()), line.constData());
        for (const char *expected :
            {"'=1+2,enabled,", "'+1+2,enabled,", "'-1+2,enabled,", "'@SUM(1),enabled,", "\"'=1,2\",enabled,"}) {
            QVERIFY2(std::any_of(lines.cbegin(), lines.cend(),
                         [expected](const QByteArray &line) { return line.startsWith(expected); }),
                expected);
        }
        for (const QString &id : ids)
            QCOMPARE(cli({QStringLiteral("device"), QStringLiteral("delete"), QStringLiteral("--yes"),
                             QStringLiteral("--"), id})
                         .exitCode,
                0);
    }

    void enableDisableAndTwin()
    {
        QCOMPARE(cli({QStringLiteral("device"), QStringLiteral("disable"), QStringLiteral("sandbox-device-000001")})
                     .exitCode,
            0);
        QCOMPARE(cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("show"),
                         QStringLiteral("sandbox-device-000001")})
                     .json()[QStringLiteral("status")]
                     .toString(),
            QStringLiteral("disabled"));
        QCOMPARE(
            cli({QStringLiteral("device"), QStringLiteral("enable"), QStringLiteral("sandbox-device-000001")}).exitCode,
            0);

        const Run patched = cli({QStringLiteral("--json"), QStringLiteral("twin"), QStringLiteral("patch"),
                                    QStringLiteral("sandbox-device-000002")},
            R"({"tags":{"site":"bench-1"},"properties":{"desired":{"interval":30}}})");
        QVERIFY2(patched.exitCode == 0, patched.err.constData());
        const Run twin = cli({QStringLiteral("--json"), QStringLiteral("twin"), QStringLiteral("show"),
            QStringLiteral("sandbox-device-000002")});
        QCOMPARE(twin.json()[QStringLiteral("tags")][QStringLiteral("site")].toString(), QStringLiteral("bench-1"));
        QCOMPARE(
            twin.json()[QStringLiteral("properties")][QStringLiteral("desired")][QStringLiteral("interval")].toInt(),
            30);
        // A stale ETag is a conflict; broken JSON is invalid input.
        QCOMPARE(cli({QStringLiteral("twin"), QStringLiteral("patch"), QStringLiteral("sandbox-device-000002"),
                         QStringLiteral("--etag"), QStringLiteral("AAAAAAAAAAE=")},
                     R"({"tags":{"site":"x"}})")
                     .exitCode,
            4);
        QCOMPARE(
            cli({QStringLiteral("twin"), QStringLiteral("patch"), QStringLiteral("sandbox-device-000002")}, "{not json")
                .exitCode,
            2);
    }

    void selfSignedFromCertificate()
    {
        const QString key = m_dir.filePath(QStringLiteral("dev.key"));
        const QString cert = m_dir.filePath(QStringLiteral("dev.pem"));
        QCOMPARE(
            QProcess::execute(QStringLiteral("openssl"),
                {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("ec"),
                    QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:P-256"), QStringLiteral("-nodes"),
                    QStringLiteral("-keyout"), key, QStringLiteral("-out"), cert, QStringLiteral("-subj"),
                    QStringLiteral("/CN=x509-1"), QStringLiteral("-days"), QStringLiteral("2")}),
            0);
        QProcess fingerprint;
        fingerprint.start(QStringLiteral("openssl"),
            {QStringLiteral("x509"), QStringLiteral("-in"), cert, QStringLiteral("-noout"),
                QStringLiteral("-fingerprint"), QStringLiteral("-sha1")});
        fingerprint.waitForFinished();
        const QString expected = QString::fromLatin1(fingerprint.readAll().trimmed()).section(u'=', 1).remove(u':');
        const Run created = cli(
            {QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("create"), QStringLiteral("x509-1"),
                QStringLiteral("--auth"), QStringLiteral("x509-self-signed"), QStringLiteral("--cert"), cert});
        QVERIFY2(created.exitCode == 0, created.err.constData());
        QCOMPARE(created
                     .json()[QStringLiteral("authentication")][QStringLiteral("x509Thumbprint")]
                            [QStringLiteral("primaryThumbprint")]
                     .toString(),
            expected);
        QCOMPARE(cli({QStringLiteral("device"), QStringLiteral("connection-string"), QStringLiteral("x509-1")})
                     .out.trimmed(),
            QByteArray("HostName=127.0.0.1;DeviceId=x509-1;x509=true"));
        const Run noKey = cli({QStringLiteral("device"), QStringLiteral("connection-string"), QStringLiteral("x509-1"),
            QStringLiteral("--expires"), QStringLiteral("1d")});
        QVERIFY(noKey.exitCode != 0 && noKey.err.contains("there is no key to sign an expiring token with"));
        const Run noKeys = cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("keys"),
            QStringLiteral("swap"), QStringLiteral("x509-1"), QStringLiteral("--yes")});
        QCOMPARE(noKeys.exitCode, 4);
        QCOMPARE(
            noKeys.json()[QStringLiteral("error")][QStringLiteral("code")].toString(), QStringLiteral("NotSasDevice"));
        QCOMPARE(cli({QStringLiteral("device"), QStringLiteral("create"), QStringLiteral("x509-2"),
                         QStringLiteral("--auth"), QStringLiteral("x509-self-signed")})
                     .exitCode,
            2);
    }

    void checkAnswersTheSupportQuestions()
    {
        const Run check = cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("check"),
            QStringLiteral("sandbox-device-000003"), QStringLiteral("--ping")});
        QCOMPARE(check.exitCode, 0);
        QHash<QString, QString> verdicts;
        for (const QJsonValue &item : check.json().array())
            verdicts.insert(item[QStringLiteral("check")].toString(), item[QStringLiteral("verdict")].toString());
        QCOMPARE(verdicts.value(QStringLiteral("registered")), QStringLiteral("good"));
        QCOMPARE(verdicts.value(QStringLiteral("enabled")), QStringLiteral("good"));
        QCOMPARE(verdicts.value(QStringLiteral("connected")), QStringLiteral("warning"));
        QCOMPARE(verdicts.value(QStringLiteral("lastActivity")), QStringLiteral("warning"));
        QCOMPARE(verdicts.value(QStringLiteral("ping")), QStringLiteral("skipped")); // offline: not asked

        const Run missing = cli({QStringLiteral("device"), QStringLiteral("check"), QStringLiteral("nobody-here")});
        QCOMPARE(missing.exitCode, 3);
        QVERIFY(missing.out.contains("nobody-here"));
    }

    void telemetryShowsWhatTheHubReceives()
    {
        // A support call: "what is it sending now?" The hub's view of the device's messages, as they arrive.
        QCOMPARE(
            cli(m_sandbox.hubAddArguments(QStringLiteral("sbmqtt")), m_sandbox.connectionString().toUtf8()).exitCode,
            0);
        const QString id = QStringLiteral("sandbox-device-000002");
        const Run shown = cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("show"), id,
            QStringLiteral("--reveal")});
        const QString key = shown
                                .json()[QStringLiteral("authentication")][QStringLiteral("symmetricKey")]
                                       [QStringLiteral("primaryKey")]
                                .toString();

        QProcess watch;
        watch.setProcessEnvironment(m_env);
        watch.start(TestSupport::buildPath(QStringLiteral("app/onboarder-cli")),
            {QStringLiteral("--hub"), QStringLiteral("sbmqtt"), QStringLiteral("--json"), QStringLiteral("device"),
                QStringLiteral("telemetry"), id, QStringLiteral("--count"), QStringLiteral("2"),
                QStringLiteral("--seconds"), QStringLiteral("60")});
        QVERIFY(watch.waitForStarted(10000));

        Onboarder::MqttClient device;
        device.setHostname(m_sandbox.hostName());
        device.setPort(m_sandbox.mqttPort());
        device.setTlsEnabled(true);
        device.setCaFile(m_sandbox.caFile());
        device.setClientId(id);
        device.setUsername(QStringLiteral("%1/%2/?api-version=2021-04-12").arg(m_sandbox.hostName(), id));
        device.setPassword(Onboarder::SecretBytes::fromQByteArray(Onboarder::SasToken::create(
            m_sandbox.hostName() + QStringLiteral("/devices/") + id, key, QDateTime::currentSecsSinceEpoch() + 600)
                                                                      ->toString()
                                                                      .toUtf8()));
        QVERIFY(TestSupport::connects(device));
        // The watch subscribes after it starts: publish until it has seen two (it ends itself at --count 2).
        int sent = 0;
        QDeadlineTimer deadline(30000);
        while (watch.state() == QProcess::Running && !deadline.hasExpired()) {
            QVERIFY(device
                        .publish(QStringLiteral("devices/%1/messages/events/site=bench-%2").arg(id).arg(sent),
                            "{\"temperature\":" + QByteArray::number(20 + sent) + '}', 1)
                        .has_value());
            ++sent;
            QTest::qWait(300); // the event loop runs: the device's socket sends what was published
        }
        QCOMPARE(watch.exitStatus(), QProcess::NormalExit);
        QCOMPARE(watch.exitCode(), 0);
        const QList<QByteArray> lines = watch.readAllStandardOutput().trimmed().split('\n');
        QCOMPARE(lines.size(), 2);
        for (const QByteArray &line : lines) {
            const QJsonObject message = QJsonDocument::fromJson(line).object();
            QCOMPARE(message.value(QStringLiteral("deviceId")).toString(), id);
            QVERIFY2(
                message.value(QStringLiteral("payload")).toString().startsWith(QStringLiteral("{\"temperature\":")),
                line.constData());
            QVERIFY2(message.value(QStringLiteral("properties"))
                         .toObject()
                         .value(QStringLiteral("site"))
                         .toString()
                         .startsWith(QStringLiteral("bench-")),
                line.constData());
            QVERIFY(
                QDateTime::fromString(message.value(QStringLiteral("time")).toString(), Qt::ISODateWithMs).isValid());
            // Read from the hub's Event Hub-compatible endpoint (AMQP): the hub's own marks come along.
            const QJsonObject system = message.value(QStringLiteral("systemProperties")).toObject();
            QCOMPARE(system.value(QStringLiteral("iothub-connection-device-id")).toString(), id);
            QVERIFY2(system.contains(QStringLiteral("x-opt-sequence-number")), line.constData());
        }
        device.disconnectFromHost();

        // A hub that cannot be reached: network (6), naming where it tried; nothing waits forever.
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("azure")},
                     "HostName=contoso.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey="
                         + TestSupport::randomKey().toUtf8())
                     .exitCode,
            0);
        const Run azure = cli({QStringLiteral("--hub"), QStringLiteral("azure"), QStringLiteral("device"),
            QStringLiteral("telemetry"), id});
        QCOMPARE(azure.exitCode, 6);
        QVERIFY2(azure.err.contains("contoso.azure-devices.net:5671"), azure.err.constData());

        // The wrong key: refused (5), and the key is not repeated.
        const QString wrong = TestSupport::randomKey();
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("sbwrong"), QStringLiteral("--ca"),
                         m_sandbox.caFile(), QStringLiteral("--rest-port"), QString::number(m_sandbox.restPort()),
                         QStringLiteral("--amqp-port"), QString::number(m_sandbox.amqpPort())},
                     QStringLiteral("HostName=%1;SharedAccessKeyName=iothubowner;SharedAccessKey=%2")
                         .arg(m_sandbox.hostName(), wrong)
                         .toUtf8())
                     .exitCode,
            0);
        const Run refused = cli({QStringLiteral("--hub"), QStringLiteral("sbwrong"), QStringLiteral("device"),
            QStringLiteral("telemetry"), id});
        QVERIFY2(refused.exitCode == 5, refused.err.constData());
        QVERIFY2(refused.err.contains("refused"), refused.err.constData());
        QVERIFY(!refused.err.contains(wrong.toUtf8()));
    }

    void hubTelemetryWithAKeptEventHubConnectionString()
    {
        // A hub whose Event Hub-compatible connection string the user pasted (Azure portal: Built-in endpoints):
        // telemetry is read there, for all devices of the hub or one.
        QCOMPARE(
            cli(m_sandbox.hubAddArguments(QStringLiteral("sbeh")), m_sandbox.connectionString().toUtf8()).exitCode, 0);
        const QString eventHub = m_sandbox.ready().value(QStringLiteral("eventHubConnectionString")).toString();
        QVERIFY(eventHub.startsWith(QStringLiteral("Endpoint=sb://")));

        // The hub's own connection string given by mistake: recognised and explained, nothing kept.
        const Run mistaken = cli({QStringLiteral("hub"), QStringLiteral("event-hub"), QStringLiteral("sbeh")},
            m_sandbox.connectionString().toUtf8());
        QCOMPARE(mistaken.exitCode, 2);
        QVERIFY2(mistaken.err.contains("IoT Hub connection string"), mistaken.err.constData());
        QVERIFY(!mistaken.err.contains(m_sandbox.connectionString().toUtf8()));

        // A kept string with a wrong key: the hub's own key is right, so a refusal proves the kept one is used.
        const QString wrongKey = TestSupport::randomKey();
        QString wrong = eventHub;
        wrong.replace(
            QRegularExpression(QStringLiteral("SharedAccessKey=[^;]+")), QStringLiteral("SharedAccessKey=") + wrongKey);
        QCOMPARE(
            cli({QStringLiteral("hub"), QStringLiteral("event-hub"), QStringLiteral("sbeh")}, wrong.toUtf8()).exitCode,
            0);
        const Run listed = cli({QStringLiteral("--json"), QStringLiteral("hub"), QStringLiteral("list")});
        bool kept = false;
        for (const QJsonValue &hub : listed.json()[QStringLiteral("hubs")].toArray()) {
            if (hub[QStringLiteral("name")].toString() == QLatin1String("sbeh"))
                kept = hub[QStringLiteral("eventHub")].toBool();
        }
        QVERIFY(kept);
        QVERIFY(!listed.out.contains(wrongKey.toUtf8()));
        const Run refused = cli({QStringLiteral("--hub"), QStringLiteral("sbeh"), QStringLiteral("hub"),
            QStringLiteral("telemetry"), QStringLiteral("--seconds"), QStringLiteral("30")});
        QVERIFY2(refused.exitCode == 5, refused.err.constData());
        QVERIFY2(refused.err.contains("refused the key"), refused.err.constData());
        QVERIFY(!refused.err.contains(wrongKey.toUtf8()));

        // The right one: every device's messages, each with its device id.
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("event-hub"), QStringLiteral("sbeh")}, eventHub.toUtf8())
                     .exitCode,
            0);
        const auto first = connectDevice(QStringLiteral("sandbox-device-000001"));
        const auto second = connectDevice(QStringLiteral("sandbox-device-000002"));
        QVERIFY(first && second);
        int exitCode = -1;
        QList<QJsonObject> lines
            = watchWhilePublishing({QStringLiteral("--hub"), QStringLiteral("sbeh"), QStringLiteral("--json"),
                                       QStringLiteral("hub"), QStringLiteral("telemetry"), QStringLiteral("--count"),
                                       QStringLiteral("4"), QStringLiteral("--seconds"), QStringLiteral("60")},
                {first.get(), second.get()}, &exitCode);
        QCOMPARE(exitCode, 0);
        QCOMPARE(lines.size(), 4);
        QSet<QString> devices;
        for (const QJsonObject &line : lines) {
            devices.insert(line.value(QStringLiteral("deviceId")).toString());
            QCOMPARE(line.value(QStringLiteral("systemProperties"))
                         .toObject()
                         .value(QStringLiteral("iothub-connection-device-id"))
                         .toString(),
                line.value(QStringLiteral("deviceId")).toString());
            QVERIFY(line.value(QStringLiteral("properties")).toObject().contains(QStringLiteral("n")));
        }
        QCOMPARE(
            devices, (QSet<QString>{QStringLiteral("sandbox-device-000001"), QStringLiteral("sandbox-device-000002")}));

        // --device: one device's only, though both publish.
        lines = watchWhilePublishing(
            {QStringLiteral("--hub"), QStringLiteral("sbeh"), QStringLiteral("--json"), QStringLiteral("hub"),
                QStringLiteral("telemetry"), QStringLiteral("--device"), QStringLiteral("sandbox-device-000002"),
                QStringLiteral("--count"), QStringLiteral("2"), QStringLiteral("--seconds"), QStringLiteral("60")},
            {first.get(), second.get()}, &exitCode);
        QCOMPARE(exitCode, 0);
        QCOMPARE(lines.size(), 2);
        for (const QJsonObject &line : lines)
            QCOMPARE(line.value(QStringLiteral("deviceId")).toString(), QStringLiteral("sandbox-device-000002"));

        // Forgotten with --clear (a wrong one kept first): telemetry follows the hub's redirect again.
        QCOMPARE(
            cli({QStringLiteral("hub"), QStringLiteral("event-hub"), QStringLiteral("sbeh")}, wrong.toUtf8()).exitCode,
            0);
        QCOMPARE(
            cli({QStringLiteral("hub"), QStringLiteral("event-hub"), QStringLiteral("sbeh"), QStringLiteral("--clear")})
                .exitCode,
            0);
        lines = watchWhilePublishing({QStringLiteral("--hub"), QStringLiteral("sbeh"), QStringLiteral("--json"),
                                         QStringLiteral("hub"), QStringLiteral("telemetry"), QStringLiteral("--count"),
                                         QStringLiteral("1"), QStringLiteral("--seconds"), QStringLiteral("60")},
            {first.get()}, &exitCode);
        QCOMPARE(exitCode, 0);
        QCOMPARE(lines.size(), 1);
        first->disconnectFromHost();
        second->disconnectFromHost();
    }

    void importTenThousandRowsWithTenBadOnesTwice()
    {
        // 10,000 rows, ten of them bad in ten ways; the good ones partly with tags, a few X.509 self-signed.
        QByteArray csv = "id,auth,status,thumbprint,tags\n";
        QStringList badLines;
        const QList<QByteArray> bad{
            "imp bad space,sas,enabled,,",
            "imp-bad-auth,rsa,enabled,,",
            "imp-bad-status,sas,paused,,",
            "imp-bad-x509,x509-self-signed,enabled,,",
            "imp-bad-thumb,x509-self-signed,enabled,XYZ,",
            "imp-bad-tags,sas,enabled,,\"[1,2]\"",
            "imp-000005,sas,enabled,,",
            "imp-bad-columns,sas",
            "imp-sas-thumb,sas,enabled,0123456789ABCDEF0123456789ABCDEF01234567,",
            "imp-bad-json,sas,enabled,,\"{\"\"site\"\":\"",
        };
        for (int i = 1, line = 2; i <= 9990; ++i, ++line) {
            const QByteArray id = "imp-" + QByteArray::number(i).rightJustified(6, '0');
            if (i % 1000 == 0)
                csv += id + ",x509-self-signed,enabled," + QByteArray(40, 'A') + ",\n";
            else if (i % 3 == 0)
                csv += id + ",sas,disabled,,\"{\"\"site\"\":\"\"north\"\",\"\"row\"\":" + QByteArray::number(i)
                    + "}\"\n";
            else
                csv += id + ",,,,\n";
            if (i % 999 == 0 && badLines.size() < bad.size()) { // the bad rows among the good ones
                ++line;
                csv += bad.at(badLines.size()) + '\n';
                badLines.append(QString::number(line));
            }
        }
        QCOMPARE(badLines.size(), 10);
        const QString file = m_dir.filePath(QStringLiteral("devices.csv"));
        const QString report = m_dir.filePath(QStringLiteral("report.csv"));
        QFile out(file);
        QVERIFY(out.open(QIODevice::WriteOnly) && out.write(csv) == csv.size());
        out.close();

        const auto import = [&] {
            return cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("import"), file,
                QStringLiteral("--report"), report});
        };
        const auto reportedLines = [&report] {
            QFile in(report);
            in.open(QIODevice::ReadOnly);
            QStringList lines;
            for (const QByteArray &row : in.readAll().split('\n').mid(1))
                if (!row.isEmpty())
                    lines.append(QString::fromUtf8(row.left(row.indexOf(','))));
            return lines;
        };
        QElapsedTimer clock;
        clock.start();
        const Run first = import();
        const qint64 firstMs = clock.elapsed();
        QCOMPARE(first.exitCode, 2); // some rows were not imported
        QCOMPARE(first.json()[QStringLiteral("created")].toInt(), 9990);
        QCOMPARE(first.json()[QStringLiteral("existing")].toInt(), 0);
        QCOMPARE(first.json()[QStringLiteral("notImported")].toArray().size(), 10);
        QStringList lines = reportedLines();
        lines.sort();
        QStringList expected = badLines;
        expected.sort();
        QCOMPARE(lines, expected); // the report names the ten, by line
        const QString reasons = QString::fromUtf8(QJsonDocument(first.json()).toJson());
        for (const char *why : {"The device ID contains", "auth is sas, x509-self-signed or x509-ca",
                 "status is enabled or disabled", "needs a thumbprint", "tags must be a JSON object", "appears on line",
                 "fields where the header names", "only an x509-self-signed device has a thumbprint"})
            QVERIFY2(reasons.contains(QLatin1String(why)), why);
        qInfo("imported 9,990 of 10,000 rows (10 refused) into the sandbox in %lld ms, %.0f devices/s", firstMs,
            9990 * 1000.0 / double(std::max<qint64>(1, firstMs)));

        // What the hub holds: tags, status, thumbprints as the rows said.
        const Run twin = cli(
            {QStringLiteral("--json"), QStringLiteral("twin"), QStringLiteral("show"), QStringLiteral("imp-000003")});
        QCOMPARE(twin.json()[QStringLiteral("tags")][QStringLiteral("site")].toString(), QStringLiteral("north"));
        QCOMPARE(twin.json()[QStringLiteral("status")].toString(), QStringLiteral("disabled"));
        const Run x509 = cli(
            {QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("show"), QStringLiteral("imp-001000")});
        QCOMPARE(x509.json()[QStringLiteral("authentication")][QStringLiteral("x509Thumbprint")]
                            [QStringLiteral("primaryThumbprint")]
                                .toString(),
            QString(40, u'A'));

        // Again: nothing created twice, the ten reported again.
        const Run second = import();
        QCOMPARE(second.exitCode, 2);
        QCOMPARE(second.json()[QStringLiteral("created")].toInt(), 0);
        QCOMPARE(second.json()[QStringLiteral("existing")].toInt(), 9990);
        QCOMPARE(second.json()[QStringLiteral("notImported")].toArray().size(), 10);
        lines = reportedLines();
        lines.sort();
        QCOMPARE(lines, expected);
        // Exported as an import file, and imported back: every device exists, nothing is refused. No keys without
        // --with-keys, and those only encrypted.
        const QString exported = m_dir.filePath(QStringLiteral("north.jsonl"));
        const Run exportRun = cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("export"),
            exported, QStringLiteral("--query"), QStringLiteral("SELECT * FROM devices WHERE tags.site = 'north'")});
        QCOMPARE(exportRun.exitCode, 0);
        QCOMPARE(exportRun.json()[QStringLiteral("devices")].toInt(), 3327);
        QFile exportedFile(exported);
        QVERIFY(exportedFile.open(QIODevice::ReadOnly));
        const QByteArray exportedText = exportedFile.readAll();
        QVERIFY(!exportedText.contains("Key"));
        QVERIFY(exportedText.contains("{\"auth\":\"sas\",\"id\":\"imp-000003\",\"status\":\"disabled\",\"tags\":{"
                                      "\"row\":3,\"site\":\"north\"}}"));
        const Run back = cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("import"), exported});
        QCOMPARE(back.exitCode, 0);
        QCOMPARE(back.json()[QStringLiteral("existing")].toInt(), 3327);
        QCOMPARE(back.json()[QStringLiteral("created")].toInt(), 0);
        const Run noGpg = cli({QStringLiteral("device"), QStringLiteral("export"),
            m_dir.filePath(QStringLiteral("keys.csv")), QStringLiteral("--with-keys")});
        QCOMPARE(noGpg.exitCode, 1);
        QVERIFY(noGpg.err.contains("only encrypted"));
        QVERIFY(!QFile::exists(m_dir.filePath(QStringLiteral("keys.csv"))));
        // An existing file is not overwritten.
        QCOMPARE(cli({QStringLiteral("device"), QStringLiteral("export"), exported}).exitCode, 4);
    }

    void exitCodesForAuthNetworkAndDevice()
    {
        QCOMPARE(cli({QStringLiteral("--hub"), QStringLiteral("wrongkey"), QStringLiteral("device"),
                         QStringLiteral("show"), QStringLiteral("sandbox-device-000001")})
                     .exitCode,
            5);
        QCOMPARE(
            cli({QStringLiteral("--hub"), QStringLiteral("closed"), QStringLiteral("device"), QStringLiteral("list")})
                .exitCode,
            6);
        QCOMPARE(
            cli({QStringLiteral("--hub"), QStringLiteral("nosuch"), QStringLiteral("device"), QStringLiteral("list")})
                .exitCode,
            3);
        const Run offline = cli({QStringLiteral("--json"), QStringLiteral("method"), QStringLiteral("invoke"),
            QStringLiteral("sandbox-device-000003"), QStringLiteral("ping"), QStringLiteral("--timeout"),
            QStringLiteral("5")});
        QCOMPARE(offline.exitCode, 6);
        QCOMPARE(offline.json()[QStringLiteral("error")][QStringLiteral("code")].toString(),
            QStringLiteral("DeviceNotOnline"));
        QCOMPARE(cli({QStringLiteral("method"), QStringLiteral("invoke"), QStringLiteral("x"), QStringLiteral("m"),
                         QStringLiteral("--payload"), QStringLiteral("{bad")})
                     .exitCode,
            2);
    }

    void cleanupTestCase()
    {
        for (const char *hub : {"sb", "wrongkey", "closed", "sbmqtt", "azure", "sbeh"})
            cli({QStringLiteral("hub"), QStringLiteral("remove"), QString::fromLatin1(hub)});
        m_sandbox.stop();
    }
};

QTEST_GUILESS_MAIN(tst_CliDevices)
#include "tst_clidevices.moc"
