// HubTelemetryMonitor against the sandbox hub in-process: devices publish over the hub's real MQTT endpoint
// (TLS, SAS tokens) and the monitor counts, per device, what the hub received, with the last payload and its
// properties, in coalesced updates. It reads the hub's Event Hub-compatible endpoint over AMQP, found through the
// hub's redirect (as on Azure) or from a pasted Event Hub-compatible connection string; a wrong key and a CA that is
// not the hub's end it with their own errors; a closed port is retried.
#include "hub/connectionstring.h"
#include "hub/hubtelemetrymonitor.h"
#include "hub/sastoken.h"
#include "inprocesshub.h"
#include "mqtt/mqttclient.h"
#include "mqttconnect.h"
#include "sandboxdevice.h"
#include "sandboxhub.h"
#include "testsupport.h"

#include <QDeadlineTimer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <functional>

using namespace Onboarder;
using namespace Onboarder::Sandbox;

class tst_HubTelemetryMonitor : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::InProcessHub m_hub;
    HubProfile m_profile;

    ConnectionString owner() const { return *ConnectionString::parse(m_hub->ownerConnectionString()); }

    std::unique_ptr<MqttClient> device(const QString &id) { return TestSupport::sandboxDevice(m_hub, id); }

    // QoS 1, at most 10 in flight.
    static bool publishAll(
        MqttClient &client, const QString &topic, int count, const std::function<QByteArray(int)> &payload)
    {
        QSignalSpy delivered(&client, &MqttClient::messageDelivered);
        for (int i = 0; i < count; ++i) {
            QDeadlineTimer deadline(10000);
            while (i - delivered.count() >= 10 && !deadline.hasExpired())
                QTest::qWait(5);
            if (!client.publish(topic.arg(i), payload(i), 1))
                return false;
        }
        QDeadlineTimer deadline(10000);
        while (delivered.count() < count && !deadline.hasExpired())
            QTest::qWait(5);
        return delivered.count() == count;
    }

    static QHash<QString, QString> properties(const MqttUserProperties &list)
    {
        QHash<QString, QString> map;
        for (const auto &[name, value] : list)
            map.insert(name, value);
        return map;
    }

private Q_SLOTS:
    void initTestCase()
    {
        const QString started = m_hub.start(m_dir.filePath(QStringLiteral("hub")));
        QVERIFY2(started.isEmpty(), qPrintable(started));
        m_profile = m_hub.profile();
        QVERIFY(m_profile.mqttPort > 0);
        QVERIFY(m_profile.amqpPort > 0);
    }

    void readsThroughAnEventHubConnectionString()
    {
        // The Event Hub-compatible connection string the user pastes (Azure portal: Built-in endpoints): no
        // redirect, the endpoint and the entity come from it.
        const QString eventHub = m_hub.hub()->eventHubConnectionString();
        QVERIFY(eventHub.startsWith(QStringLiteral("Endpoint=sb://")));
        HubTelemetryMonitor monitor;
        QSignalSpy errors(&monitor, &HubTelemetryMonitor::errorOccurred);
        monitor.start(m_profile, owner(), eventHub);
        QTRY_COMPARE_WITH_TIMEOUT(monitor.state(), HubTelemetryMonitor::State::Listening, 20000);
        QCOMPARE(errors.count(), 0);
        auto sender = device(QStringLiteral("monitored-eh"));
        QVERIFY(sender);
        QVERIFY(publishAll(*sender, QStringLiteral("devices/monitored-eh/messages/events/k=%1"), 5,
            [](int i) { return QByteArray::number(i); }));
        QTRY_COMPARE_WITH_TIMEOUT(monitor.total(), qint64(5), 20000);
        QCOMPARE(monitor.devices().value(QStringLiteral("monitored-eh")).last.payload, QByteArray("4"));
    }

    void hubConnectionStringGivenAsEventHubIsExplained()
    {
        HubTelemetryMonitor monitor;
        QSignalSpy errors(&monitor, &HubTelemetryMonitor::errorOccurred);
        monitor.start(m_profile, owner(), owner().toString());
        QCOMPARE(monitor.state(), HubTelemetryMonitor::State::Failed); // at once: nothing to connect to
        QCOMPARE(errors.count(), 1);
        const Error error = errors.at(0).at(0).value<Error>();
        QCOMPARE(error.code, QStringLiteral("NotAnEventHubConnectionString"));
        QVERIFY2(error.message.contains(QStringLiteral("IoT Hub connection string")), qPrintable(error.message));
        QVERIFY(!error.message.contains(owner().sharedAccessKey().exposeAsString()));
    }

    void countsWhatTheHubReceived()
    {
        HubTelemetryMonitor monitor;
        QSignalSpy updates(&monitor, &HubTelemetryMonitor::updated);
        QSignalSpy errors(&monitor, &HubTelemetryMonitor::errorOccurred);
        monitor.start(m_profile, owner());
        QCOMPARE(monitor.state(), HubTelemetryMonitor::State::Connecting);
        QTRY_COMPARE_WITH_TIMEOUT(monitor.state(), HubTelemetryMonitor::State::Listening, 20000);
        QCOMPARE(errors.count(), 0);

        auto first = device(QStringLiteral("monitored-1"));
        auto second = device(QStringLiteral("monitored-2"));
        QVERIFY(first && second);
        QVERIFY(publishAll(*first, QStringLiteral("devices/monitored-1/messages/events/seq=%1&via=test"), 300,
            [](int i) { return QStringLiteral("{\"n\": %1}").arg(i).toUtf8(); }));
        QVERIFY(publishAll(*second, QStringLiteral("devices/monitored-2/messages/events/n=%1"), 120,
            [](int i) { return QByteArray::number(i); }));

        QTRY_COMPARE_WITH_TIMEOUT(monitor.total(), qint64(420), 20000);
        const auto devices = monitor.devices();
        QCOMPARE(devices.size(), 2);
        QCOMPARE(devices.value(QStringLiteral("monitored-1")).received, qint64(300));
        QCOMPARE(devices.value(QStringLiteral("monitored-2")).received, qint64(120));
        const HubTelemetry::Message last = devices.value(QStringLiteral("monitored-1")).last;
        QCOMPARE(last.payload, QByteArray("{\"n\": 299}"));
        QVERIFY(last.receivedMs > 0);
        const auto props = properties(last.properties);
        QCOMPARE(props.value(QStringLiteral("seq")), QStringLiteral("299"));
        QCOMPARE(props.value(QStringLiteral("via")), QStringLiteral("test"));
        QCOMPARE(props.value(QStringLiteral("iothub-connection-device-id")), QStringLiteral("monitored-1"));
        QVERIFY(props.contains(QStringLiteral("iothub-enqueuedtime")));

        // The updates are coalesced: far fewer than the messages, and the last one holds the totals.
        QTRY_VERIFY_WITH_TIMEOUT(
            !updates.isEmpty() && updates.constLast().at(0).value<HubTelemetry>().total == 420, 5000);
        QVERIFY2(updates.count() < 100, qPrintable(QString::number(updates.count())));
        QHash<QString, qint64> seen;
        for (const auto &arguments : std::as_const(updates)) {
            for (const HubTelemetry::Device &changed : arguments.at(0).value<HubTelemetry>().devices)
                seen[changed.id] = changed.received;
        }
        QCOMPARE(seen.value(QStringLiteral("monitored-1")), qint64(300));
        QCOMPARE(seen.value(QStringLiteral("monitored-2")), qint64(120));

        // Stopped, it counts nothing more; started again, it counts from zero.
        monitor.stop();
        QCOMPARE(monitor.state(), HubTelemetryMonitor::State::Stopped);
        QVERIFY(second->publish(QStringLiteral("devices/monitored-2/messages/events/"), "late", 1).has_value());
        QTest::qWait(500);
        QCOMPARE(monitor.total(), qint64(420));
        monitor.start(m_profile, owner());
        QCOMPARE(monitor.total(), qint64(0));
        QTRY_COMPARE_WITH_TIMEOUT(monitor.state(), HubTelemetryMonitor::State::Listening, 20000);
        QVERIFY(second->publish(QStringLiteral("devices/monitored-2/messages/events/"), "again", 1).has_value());
        QTRY_COMPARE_WITH_TIMEOUT(monitor.total(), qint64(1), 10000);
        QCOMPARE(monitor.devices().value(QStringLiteral("monitored-2")).last.payload, QByteArray("again"));
    }

    void wrongKeyIsRefused()
    {
        HubTelemetryMonitor monitor;
        QSignalSpy errors(&monitor, &HubTelemetryMonitor::errorOccurred);
        const QString wrongKey = QString::fromLatin1(QByteArray(32, 'k').toBase64());
        monitor.start(
            m_profile, ConnectionString::service(m_profile.hostName, QStringLiteral("iothubowner"), wrongKey));
        QTRY_COMPARE_WITH_TIMEOUT(monitor.state(), HubTelemetryMonitor::State::Failed, 20000);
        QCOMPARE(errors.count(), 1);
        const Error error = errors.at(0).at(0).value<Error>();
        QCOMPARE(error.kind, ErrorKind::AuthRefused);
        QVERIFY2(error.message.contains(QStringLiteral("refused to let Onboarder read what it receives")),
            qPrintable(error.message));
        QVERIFY2(error.message.contains(QStringLiteral("\"iothubowner\"")), qPrintable(error.message));
        QVERIFY(!error.message.contains(wrongKey));
        QVERIFY(!error.message.contains(owner().sharedAccessKey().exposeAsString()));
        QTest::qWait(1500); // no retry of a refused key
        QCOMPARE(errors.count(), 1);
        QCOMPARE(monitor.state(), HubTelemetryMonitor::State::Failed);
    }

    void certificateOfAnotherCaFails()
    {
        HubProfile profile = m_profile;
        profile.caFile = TestSupport::sourcePath(QStringLiteral("tests/data/amazon-root-ca-1.pem"));
        QVERIFY(!profile.caFile.isEmpty());
        HubTelemetryMonitor monitor;
        QSignalSpy errors(&monitor, &HubTelemetryMonitor::errorOccurred);
        monitor.start(profile, owner());
        QTRY_COMPARE_WITH_TIMEOUT(monitor.state(), HubTelemetryMonitor::State::Failed, 20000);
        QCOMPARE(errors.count(), 1);
        const Error error = errors.at(0).at(0).value<Error>();
        QCOMPARE(error.code, QStringLiteral("CertificateVerificationFailed"));
        QVERIFY2(
            error.message.contains(QStringLiteral("Reading what hub sandbox receives")), qPrintable(error.message));
    }

    void unreachableHubIsTriedAgain()
    {
        // A port nobody listens on (taken, then freed).
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost));
        const int closedPort = probe.serverPort();
        probe.close();

        HubProfile profile = m_profile;
        profile.amqpPort = closedPort;
        HubTelemetryMonitor monitor;
        monitor.setReconnectInterval(1, 1);
        QSignalSpy errors(&monitor, &HubTelemetryMonitor::errorOccurred);
        monitor.start(profile, owner());
        QTRY_VERIFY_WITH_TIMEOUT(errors.count() >= 2, 20000); // the first attempt and at least one more
        QCOMPARE(errors.at(0).at(0).value<Error>().code, QStringLiteral("HubUnreachable"));
        QVERIFY(errors.at(0).at(0).value<Error>().message.contains(QString::number(closedPort)));
        QCOMPARE(monitor.state(), HubTelemetryMonitor::State::Connecting); // still trying
        monitor.stop();
        QCOMPARE(monitor.state(), HubTelemetryMonitor::State::Stopped);
        const qsizetype after = errors.count();
        QTest::qWait(1500);
        QCOMPARE(errors.count(), after); // stopped means stopped
    }
};

QTEST_GUILESS_MAIN(tst_HubTelemetryMonitor)
#include "tst_hubtelemetrymonitor.moc"
