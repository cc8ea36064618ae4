// onboarder-sensor-sim as the demo runs it: its own mosquitto on a free loopback port, readings of every
// sensor arriving there as JSON, numbered in order; --help and --version; its broker ends with it.
#include "mqtt/mqttclient.h"
#include "mqtt/mqttmessage.h"
#include "testsupport.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>

using namespace Onboarder;

class tst_SensorSim : public QObject
{
    Q_OBJECT

    static QString program() { return TestSupport::buildPath(QStringLiteral("sandbox/sensors/onboarder-sensor-sim")); }

private Q_SLOTS:
    void helpAndVersion()
    {
        QProcess process;
        process.start(program(), {QStringLiteral("--version")});
        QVERIFY(process.waitForFinished(10000));
        QCOMPARE(process.exitCode(), 0);
        QVERIFY(process.readAllStandardOutput().startsWith("onboarder-sensor-sim "));
        process.start(program(), {QStringLiteral("--help")});
        QVERIFY(process.waitForFinished(10000));
        QCOMPARE(process.exitCode(), 0);
        const QByteArray help = process.readAllStandardOutput();
        QVERIFY(help.contains("--start-broker"));
        QVERIFY(help.contains("--interval-ms"));
        // Neither a broker nor --start-broker: a usage error.
        process.start(program(), {});
        QVERIFY(process.waitForFinished(10000));
        QCOMPARE(process.exitCode(), 1);
    }

    void roundsArePublishedWhateverTheInterval()
    {
        // --rounds counts rounds that reached the broker: with a 10 ms interval the first ticks come before the
        // connection is up.
        QProcess sim;
        sim.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        sim.start(program(),
            {QStringLiteral("--start-broker"), QStringLiteral("--sensors"), QStringLiteral("2"),
                QStringLiteral("--interval-ms"), QStringLiteral("10"), QStringLiteral("--rounds"), QStringLiteral("3"),
                QStringLiteral("--prefix"), QStringLiteral("r-sensor-"), QStringLiteral("--verbose")});
        QVERIFY(sim.waitForFinished(20000));
        QCOMPARE(sim.exitStatus(), QProcess::NormalExit);
        QCOMPARE(sim.exitCode(), 0);
        const QList<QByteArray> lines = sim.readAllStandardOutput().trimmed().split('\n');
        QStringList readings;
        for (const QByteArray &line : lines) {
            if (line.startsWith("sensors/"))
                readings.append(QString::fromUtf8(line.left(line.indexOf(' '))));
        }
        QCOMPARE(readings.size(), 6);
        QCOMPARE(readings.count(QStringLiteral("sensors/r-sensor-1/telemetry")), 3);
        QCOMPARE(readings.count(QStringLiteral("sensors/r-sensor-2/telemetry")), 3);
    }

    void publishesEverySensorsReadings()
    {
        QProcess sim;
        sim.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        sim.start(program(),
            {QStringLiteral("--start-broker"), QStringLiteral("--sensors"), QStringLiteral("3"),
                QStringLiteral("--interval-ms"), QStringLiteral("100"), QStringLiteral("--prefix"),
                QStringLiteral("t-sensor-"), QStringLiteral("--ready-json")});
        QVERIFY(sim.waitForStarted(10000));
        QDeadlineTimer deadline(15000);
        while (!sim.canReadLine() && !deadline.hasExpired() && sim.state() == QProcess::Running)
            sim.waitForReadyRead(100);
        QVERIFY2(sim.canReadLine(), "no ready line");
        const QJsonObject ready = QJsonDocument::fromJson(sim.readLine()).object();
        const int port = ready.value(QStringLiteral("port")).toInt();
        QVERIFY(port > 0);
        QCOMPARE(
            ready.value(QStringLiteral("topics")).toArray().first().toString(), QStringLiteral("sensors/+/telemetry"));
        QCOMPARE(ready.value(QStringLiteral("sensors")).toArray().size(), 3);

        MqttClient client;
        client.setHostname(QStringLiteral("127.0.0.1"));
        client.setPort(port);
        client.setClientId(QStringLiteral("tst-sensorsim"));
        QHash<QString, QList<QJsonObject>> readings;
        connect(&client, &MqttClient::messageReceived, this, [&readings](const MqttMessage &message) {
            readings[message.topic].append(QJsonDocument::fromJson(message.payload).object());
        });
        QSignalSpy connected(&client, &MqttClient::connected);
        client.connectToHost();
        QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 1, 10000);
        QSignalSpy subscribed(&client, &MqttClient::subscribed);
        QVERIFY(client.subscribe(QStringLiteral("sensors/+/telemetry"), 1).has_value());
        QVERIFY(subscribed.wait(10000));

        const auto enough = [&readings] {
            if (readings.size() < 3)
                return false;
            for (const auto &list : readings)
                if (list.size() < 5)
                    return false;
            return true;
        };
        QTRY_VERIFY_WITH_TIMEOUT(enough(), 20000);
        QCOMPARE(readings.size(), 3);
        for (auto it = readings.cbegin(); it != readings.cend(); ++it) {
            QVERIFY2(it.key().startsWith(QStringLiteral("sensors/t-sensor-")), qPrintable(it.key()));
            const QList<QJsonObject> &list = it.value();
            for (qsizetype i = 1; i < list.size(); ++i)
                QCOMPARE(list.at(i).value(QStringLiteral("n")).toInteger(),
                    list.at(i - 1).value(QStringLiteral("n")).toInteger() + 1);
            const QJsonObject last = list.last();
            QVERIFY(last.value(QStringLiteral("t")).toInteger() > 0);
            QVERIFY(last.value(QStringLiteral("battery")).isDouble());
            QVERIFY(!last.value(QStringLiteral("kind")).toString().isEmpty());
        }
        // A climate sensor's reading is in a plausible range.
        const QJsonObject climate = readings.value(QStringLiteral("sensors/t-sensor-1/telemetry")).last();
        QCOMPARE(climate.value(QStringLiteral("kind")).toString(), QStringLiteral("climate"));
        QVERIFY(climate.value(QStringLiteral("temperature")).toDouble() > 10
            && climate.value(QStringLiteral("temperature")).toDouble() < 35);

        // SIGTERM ends the simulator and its broker.
        client.disconnectFromHost();
        sim.terminate();
        QVERIFY(sim.waitForFinished(10000));
        QCOMPARE(sim.exitCode(), 0);
        const auto brokerGone = [port] {
            QTcpSocket socket;
            socket.connectToHost(QHostAddress::LocalHost, quint16(port));
            return !socket.waitForConnected(300);
        };
        QTRY_VERIFY_WITH_TIMEOUT(brokerGone(), 10000);
    }
};

QTEST_MAIN(tst_SensorSim)
#include "tst_sensorsim.moc"
