// The relay in-process against a real mosquitto (the local broker) and the sandbox hub: messages reach
// the hub's telemetry consumer as their devices' messages, with the configured properties; unknown
// devices are registered only when autoRegister is on, else their messages wait in the outbox; the
// outbox limit holds messages back at the broker; stop() leaves nothing behind.
#include "credentials/credentialstore.h"
#include "credentials/secretstore.h"
#include "httpconnectproxy.h"
#include "hub/connectionstring.h"
#include "inprocesshub.h"
#include "inprocessrelay.h"
#include "mosquittofixture.h"
#include "relay/outbox.h"
#include "relay/relay.h"
#include "relayfixture.h"
#include "sandboxhub.h"
#include "testsupport.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <functional>

using namespace Onboarder;
using namespace Onboarder::Sandbox;

// JSON written with single quotes (raw strings confuse moc): the quotes become double quotes.
inline QByteArray J(const char *text)
{
    return QByteArray(text).replace('\'', '"');
}

class tst_Relay : public QObject
{
    Q_OBJECT

    static constexpr int hubMessageLimit = 128 * 1024;

    QTemporaryDir m_dir;
    TestSupport::InProcessHub m_hub;
    MosquittoFixture m_broker;
    HubProfile m_profile;
    RelayFixture::Consumer m_consumer;
    int m_run = 0;

    RelayConfig config(const QByteArray &extra = {}) { return parsed(configJson(extra)); }

    RelayConfig parsed(const QByteArray &json)
    {
        auto parsed = RelayConfig::parse(json, m_dir.path());
        if (!parsed)
            qFatal("%s", qPrintable(parsed.error().message));
        return *parsed;
    }

    QByteArray configJson(const QByteArray &extra = {})
    {
        const QByteArray run = QByteArray::number(++m_run);
        const QByteArray json = J("{'hub': 'sandbox', 'source': {'url': 'mqtt://127.0.0.1:")
            + QByteArray::number(m_broker.port()) + J("', 'clientId': 'relay-") + run
            + J("', 'topics': ['sensors/+/telemetry']}, 'deviceIdFromTopic': 'sensors/{deviceId}/telemetry', "
                "'metricsIntervalMs': 200, 'outbox': {'path': 'outbox-")
            + run + J(".db'}") + extra + "}";
        return json;
    }

    std::unique_ptr<Relay> relay(const RelayConfig &c, CredentialStore *store = nullptr)
    {
        return TestSupport::startRelay(c, m_profile, m_hub->ownerConnectionString(), store);
    }

    // Connects publisher to the local broker as clientId; the function publishes {"n": n, "pad": "xx…"} (padding
    // bytes of it) for a device at QoS 1 and says whether the broker took it. Null when it cannot connect.
    std::function<bool(const QString &, qint64, qsizetype)> publisherFor(MqttClient &publisher, const QString &clientId)
    {
        publisher.setHostname(QStringLiteral("127.0.0.1"));
        publisher.setPort(m_broker.port());
        publisher.setClientId(clientId);
        if (!RelayFixture::connectAndWait(publisher))
            return [](const QString &, qint64, qsizetype) { return false; };
        return [&publisher](const QString &device, qint64 n, qsizetype padding) {
            const QByteArray payload
                = QJsonDocument(QJsonObject{{QStringLiteral("n"), n}, {QStringLiteral("pad"), QString(padding, u'x')}})
                      .toJson(QJsonDocument::Compact);
            QSignalSpy delivered(&publisher, &MqttClient::messageDelivered);
            return publisher.publish(QStringLiteral("sensors/%1/telemetry").arg(device), payload, 1).has_value()
                && delivered.wait(10000);
        };
    }

private Q_SLOTS:
    void initTestCase()
    {
        // A hub that takes smaller messages than IoT Hub's 256 KB, which the relay checks for: what it refuses, it
        // refuses after the relay sent it, as IoT Hub refuses what the relay cannot check (by closing the connection).
        const QString started = m_hub.start(m_dir.filePath(QStringLiteral("hub")), 0, {}, hubMessageLimit);
        QVERIFY2(started.isEmpty(), qPrintable(started));
        m_profile = m_hub.profile();
        MosquittoFixture::Options brokerOptions;
        brokerOptions.extraConfig = "max_queued_messages 0\n";
        QVERIFY2(m_broker.start(brokerOptions), qPrintable(m_broker.errorString()));
        QVERIFY(m_consumer.connect(m_profile.hostName, m_profile.mqttPort, m_profile.caFile,
            m_hub->registry().policy(QStringLiteral("iothubowner"))->primaryKey));
    }

    void messagesArriveWithTheirProperties()
    {
        QVERIFY(m_hub->registry().putDevice(QStringLiteral("known-0"), {}, {}).has_value());
        QVERIFY(m_hub->registry().putDevice(QStringLiteral("known-1"), {}, {}).has_value());
        auto r = relay(config(J(", 'properties': {'sensor': '{deviceId}', 'kind': '$.kind', 'via': 'relay'}")));
        RelayFixture::Publisher publisher(m_broker.port(), 2, QStringLiteral("known-"));
        QVERIFY(publisher.connect());
        const qint64 before = m_consumer.total();
        QVERIFY(publisher.publishUntil(50, 20000));
        QTRY_COMPARE_WITH_TIMEOUT(m_consumer.total(), before + 50, 20000);
        QVERIFY(m_consumer.missing(50).isEmpty());

        const auto last = m_consumer.last();
        QVERIFY(last.deviceId.startsWith(QStringLiteral("known-")));
        QHash<QString, QString> properties;
        for (const auto &[name, value] : last.message.userProperties)
            properties.insert(name, value);
        QCOMPARE(properties.value(QStringLiteral("sensor")), last.deviceId);
        QCOMPARE(properties.value(QStringLiteral("via")), QStringLiteral("relay"));
        QVERIFY(!properties.contains(QStringLiteral("kind"))); // not in the payload: left out

        QTRY_COMPARE_WITH_TIMEOUT(TestSupport::lastMetrics(*r).outTotal, 50, 5000);
        const RelayMetrics m = r->metrics();
        QCOMPARE(m.inTotal, 50);
        QCOMPARE(m.outboxDepth, 0);
        QCOMPARE(m.sourceState, QStringLiteral("subscribed"));
        QVERIFY(m.sessions >= 1);
        TestSupport::stopRelay(*r);
    }

    void messagesOfAnOpenSessionSkipTheOutbox()
    {
        // Once its session is open, a device's messages go to the hub at once and, acknowledged by the hub
        // within the grace, are never written to the outbox; with the hub stopped, every one is stored.
        QVERIFY(m_hub->registry().putDevice(QStringLiteral("direct-0"), {}, {}).has_value());
        auto r = relay(config());
        RelayFixture::Publisher publisher(m_broker.port(), 1, QStringLiteral("direct-"));
        QVERIFY(publisher.connect());
        const qint64 before = m_consumer.total();
        for (int i = 0; i < 31; ++i) {
            QVERIFY(publisher.publishUntil(publisher.next() + 1, 10000));
            QTRY_COMPARE_WITH_TIMEOUT(m_consumer.total(), before + i + 1, 10000);
        }
        QTRY_COMPARE_WITH_TIMEOUT(TestSupport::lastMetrics(*r).outTotal, 31, 5000);
        const qint64 stored = r->metrics().storedTotal;
        QVERIFY2(stored < 10, qPrintable(QStringLiteral("%1 of 31 messages were written to the outbox").arg(stored)));
        QCOMPARE(r->metrics().outboxDepth, 0);
        TestSupport::stopRelay(*r);
    }

    void webSocketsThroughAProxy()
    {
        // "hubConnection": every device session is MQTT over WebSockets, tunnelled through an HTTP proxy.
        QVERIFY(m_hub->registry().putDevice(QStringLiteral("tunnelled-0"), {}, {}).has_value());
        QVERIFY(m_hub->registry().putDevice(QStringLiteral("tunnelled-1"), {}, {}).has_value());
        TestSupport::HttpConnectProxy proxy;
        QVERIFY(proxy.listen());
        auto r = relay(
            config(", \"hubConnection\": {\"webSockets\": true, \"proxy\": \"" + proxy.url().toEncoded() + "\"}"));
        RelayFixture::Publisher publisher(m_broker.port(), 2, QStringLiteral("tunnelled-"));
        QVERIFY(publisher.connect());
        const qint64 before = m_consumer.total();
        QVERIFY(publisher.publishUntil(20, 20000));
        QTRY_COMPARE_WITH_TIMEOUT(m_consumer.total(), before + 20, 20000);
        const QString hub = QStringLiteral("%1:%2").arg(m_profile.hostName).arg(m_profile.mqttPort);
        QCOMPARE(proxy.targets(), (QStringList{hub, hub})); // one tunnel a device
        TestSupport::stopRelay(*r);
    }

    void aLinkThatDropsWhileRenewingItsTokenRenewsAndSends()
    {
        // #20 (2): a SAS renewal waits for the acknowledgements in flight; the link drops before they come. The session
        // must come back with a new token and send, not reconnect with the old one and send nothing until it expires.
        QVERIFY(m_hub->registry().putDevice(QStringLiteral("renewing-0"), {}, {}).has_value());
        TestSupport::HttpConnectProxy proxy;
        QVERIFY(proxy.listen());
        RelayConfig c = config(", \"hubConnection\": {\"proxy\": \"" + proxy.url().toEncoded() + "\"}");
        c.tokenLifetimeSeconds = 5; // renewed after 4 s (the configuration's floor is 60: set here, past the parser)
        auto r = relay(c);
        RelayFixture::Publisher publisher(m_broker.port(), 1, QStringLiteral("renewing-"));
        QVERIFY(publisher.connect());
        const qint64 before = m_consumer.total();
        QVERIFY(publisher.publishUntil(publisher.next() + 1, 10000));
        QTRY_COMPARE_WITH_TIMEOUT(m_consumer.total(), before + 1, 20000);
        // The hub's acknowledgements stall; three messages are in flight when the renewal falls due.
        proxy.setHolding(true);
        QVERIFY(publisher.publishUntil(publisher.next() + 3, 10000));
        QTest::qWait(5000);
        QCOMPARE(m_consumer.total(), before + 1 + 3); // they reached the hub; only the acknowledgements were held
        const int tunnels = int(proxy.targets().size());
        proxy.setHolding(false);
        proxy.dropAll();
        // Back with a new session (a new tunnel), and sending: what was in flight again, and what comes next.
        QVERIFY(publisher.publishUntil(publisher.next() + 2, 10000));
        QTRY_VERIFY_WITH_TIMEOUT(m_consumer.total() >= before + 1 + 3 + 2, 20000);
        QVERIFY(proxy.targets().size() > tunnels);
        QTRY_COMPARE_WITH_TIMEOUT(TestSupport::lastMetrics(*r).outboxDepth, 0, 20000);
        QVERIFY(m_consumer.missing(publisher.next()).isEmpty());
        TestSupport::stopRelay(*r);
    }

    void unknownDevicesWaitWithoutAutoRegistration()
    {
        auto r = relay(config());
        RelayFixture::Publisher publisher(m_broker.port(), 1, QStringLiteral("stranger-"));
        QVERIFY(publisher.connect());
        QVERIFY(publisher.publishUntil(5, 10000));
        // Taken and acknowledged (stored), but not sent: the device does not exist.
        QTRY_COMPARE_WITH_TIMEOUT(TestSupport::lastMetrics(*r).outboxDepth, 5, 10000);
        QCOMPARE(r->metrics().outTotal, 0);
        QVERIFY(!m_hub->registry().device(QStringLiteral("stranger-0")).has_value());
        bool sawError = false;
        for (int i = 0; i < 10 && !sawError; ++i) {
            for (const auto &device : TestSupport::lastMetrics(*r).devices)
                sawError |= device.id == QStringLiteral("stranger-0") && device.state == QStringLiteral("waiting")
                    && !device.lastError.isEmpty();
        }
        QVERIFY(sawError);
        TestSupport::stopRelay(*r);
    }

    void autoRegistrationRegistersOnFirstMessage()
    {
        auto r = relay(config(J(", 'autoRegister': true")));
        RelayFixture::Publisher publisher(m_broker.port(), 3, QStringLiteral("newcomer-"));
        QVERIFY(publisher.connect());
        const qint64 before = m_consumer.total();
        QVERIFY(publisher.publishUntil(30, 10000));
        QTRY_COMPARE_WITH_TIMEOUT(m_consumer.total(), before + 30, 20000);
        for (int i = 0; i < 3; ++i)
            QVERIFY(m_hub->registry().device(QStringLiteral("newcomer-%1").arg(i)).has_value());
        TestSupport::stopRelay(*r);
    }

    void x509DevicesUseTheirCertificateFromTheKeychain()
    {
        REQUIRE_TEST_SESSION();
        SecretStore secrets(QStringLiteral("OnboarderTest-") + QUuid::createUuid().toString(QUuid::WithoutBraces));
        CredentialStore store(secrets, m_dir.filePath(QStringLiteral("data")));
        const QString device = QStringLiteral("x509-sensor-0");
        const auto made = TestSupport::await(store.generate(m_profile.name, device, {}));
        QVERIFY2(made.has_value(), made ? "" : qPrintable(made.error().message));
        QJsonObject thumbprint{{QStringLiteral("primaryThumbprint"), made->thumbprintSha256}};
        const QJsonObject body{{QStringLiteral("authentication"),
            QJsonObject{{QStringLiteral("type"), QStringLiteral("selfSigned")},
                {QStringLiteral("x509Thumbprint"), thumbprint}}}};
        QVERIFY(m_hub->registry().putDevice(device, body, {}).has_value());

        auto r = relay(config(J(", 'deviceAuth': 'x509'")), &store);
        RelayFixture::Publisher publisher(m_broker.port(), 1, QStringLiteral("x509-sensor-"));
        QVERIFY(publisher.connect());
        const qint64 before = m_consumer.total();
        QVERIFY(publisher.publishUntil(publisher.next() + 20, 10000));
        QTRY_COMPARE_WITH_TIMEOUT(m_consumer.total(), before + 20, 20000);
        QCOMPARE(m_consumer.last().deviceId, device);
        TestSupport::stopRelay(*r);

        // Another key with the same name is refused by the hub (its thumbprint is not registered): the
        // device waits with the hub's reason, its messages stay in the outbox.
        CredentialStore::GenerateOptions again;
        again.replace = true;
        const auto replaced = TestSupport::await(store.generate(m_profile.name, device, again));
        QVERIFY(replaced.has_value());
        auto refused = relay(config(J(", 'deviceAuth': 'x509'")), &store);
        QVERIFY(publisher.publishUntil(publisher.next() + 3, 10000));
        QTRY_COMPARE_WITH_TIMEOUT(TestSupport::lastMetrics(*refused).outboxDepth, 3, 10000);
        bool sawRefusal = false;
        for (int i = 0; i < 20 && !sawRefusal; ++i) {
            for (const auto &d : TestSupport::lastMetrics(*refused).devices)
                sawRefusal |= d.id == device && d.lastError.contains(QStringLiteral("refused"));
        }
        QVERIFY(sawRefusal);
        QCOMPARE(m_consumer.total(), before + 20);
        TestSupport::stopRelay(*refused);
        QVERIFY(TestSupport::await(store.remove(m_profile.name, device)).has_value());
    }

    void idleSessionsAreClosed()
    {
        QVERIFY(m_hub->registry().putDevice(QStringLiteral("sleepy-0"), {}, {}).has_value());
        auto r = relay(config(J(", 'idleTimeoutSeconds': 1")));
        RelayFixture::Publisher publisher(m_broker.port(), 1, QStringLiteral("sleepy-"));
        QVERIFY(publisher.connect());
        const qint64 before = m_consumer.total();
        QVERIFY(publisher.publishUntil(3, 10000));
        QTRY_COMPARE_WITH_TIMEOUT(m_consumer.total(), before + 3, 20000);
        QTRY_COMPARE_WITH_TIMEOUT(TestSupport::lastMetrics(*r).sessions, 0, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(m_hub->registry().device(QStringLiteral("sleepy-0"))->connectionState,
            QStringLiteral("Disconnected"), 5000);
        // The next message opens a session again.
        QVERIFY(publisher.publishUntil(4, 10000));
        QTRY_COMPARE_WITH_TIMEOUT(m_consumer.total(), before + 4, 20000);
        TestSupport::stopRelay(*r);
    }

    void theOutboxLimitHoldsMessagesAtTheBroker()
    {
        // Unknown devices without auto-registration: nothing leaves, so the outbox fills.
        auto c = config(J(", 'outbox': {'maxMessages': 10}"));
        auto r = relay(c);
        RelayFixture::Publisher publisher(m_broker.port(), 1, QStringLiteral("held-"));
        QVERIFY(publisher.connect());
        QVERIFY(publisher.publishUntil(15, 10000)); // the broker takes them all
        QTRY_VERIFY_WITH_TIMEOUT(TestSupport::lastMetrics(*r).outboxFull, 10000);
        const RelayMetrics m = r->metrics();
        QCOMPARE(m.outboxDepth, 10);
        QCOMPARE(m.held, 5);
        QVERIFY(m.toJson().value(QStringLiteral("outboxFull")).toBool());
        TestSupport::stopRelay(*r);

        // Now the device exists: a new relay on the same session and outbox sends the 10 stored and the
        // 5 the broker kept (they were never acknowledged).
        QVERIFY(m_hub->registry().putDevice(QStringLiteral("held-0"), {}, {}).has_value());
        const qint64 before = m_consumer.total();
        auto again
            = std::make_unique<Relay>(c, m_profile, *ConnectionString::parse(m_hub->ownerConnectionString()), nullptr);
        QVERIFY(again->start({}).has_value());
        QTRY_COMPARE_WITH_TIMEOUT(m_consumer.total(), before + 15, 20000);
        QTRY_COMPARE_WITH_TIMEOUT(TestSupport::lastMetrics(*again).outboxDepth, 0, 5000);
        TestSupport::stopRelay(*again);
    }

    void poisonMessagesAreSetAsideAndTheDeviceGoesOn()
    {
        // A message larger than IoT Hub takes (the hub closes the connection of a device that sends one) and one
        // that names no valid device: both set aside as dead letters with their reasons, and the device's next
        // message reaches the hub. Before dead letters, the large one was sent again and again at the head of its
        // device's queue, and nothing after it ever left.
        QVERIFY(m_hub->registry().putDevice(QStringLiteral("poison-0"), {}, {}).has_value());
        const QByteArray json = configJson();
        const QString configFile = TestSupport::writeFile(m_dir.filePath(QStringLiteral("poison.json")), json);
        const RelayConfig c = parsed(json);
        auto r = relay(c);
        MqttClient publisher;
        const auto publish = publisherFor(publisher, QStringLiteral("relay-test-poison"));
        QVERIFY(publish(QStringLiteral("poison-0"), 9001, 10));
        QVERIFY(publish(QStringLiteral("poison-0"), 9002, 300 * 1024));
        QVERIFY(publish(QStringLiteral("not a device id"), 9003, 10));
        QVERIFY(publish(QStringLiteral("poison-0"), 9004, 10));
        QTRY_VERIFY_WITH_TIMEOUT(m_consumer.has(9001) && m_consumer.has(9004), 20000);
        QVERIFY(!m_consumer.has(9002));
        QTRY_COMPARE_WITH_TIMEOUT(TestSupport::lastMetrics(*r).deadLettered, 2, 5000);
        const RelayMetrics m = r->metrics();
        QCOMPARE(m.deadLetters, 2);
        QCOMPARE(m.toJson().value(QStringLiteral("deadLettered")).toInteger(), 2);

        // The CLI lists them while the relay runs, exports them with their payloads, then purges them.
        const QString exported = m_dir.filePath(QStringLiteral("dead-letters.jsonl"));
        QProcess cli;
        cli.start(TestSupport::buildPath(QStringLiteral("app/onboarder-cli")),
            {QStringLiteral("--json"), QStringLiteral("relay"), QStringLiteral("dead-letters"),
                QStringLiteral("--config"), configFile, QStringLiteral("--export"), exported, QStringLiteral("--purge"),
                QStringLiteral("--yes")});
        QVERIFY(cli.waitForFinished(30000));
        QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
        const QJsonArray listed = QJsonDocument::fromJson(cli.readAllStandardOutput())
                                      .object()
                                      .value(QStringLiteral("deadLetters"))
                                      .toArray();
        QCOMPARE(listed.size(), 2);
        QCOMPARE(listed.at(0)[QStringLiteral("reasonCode")].toString(), QStringLiteral("TooLarge"));
        QCOMPARE(listed.at(0)[QStringLiteral("deviceId")].toString(), QStringLiteral("poison-0"));
        QVERIFY(listed.at(0)[QStringLiteral("bytes")].toInteger() > 300 * 1024);
        QCOMPARE(listed.at(1)[QStringLiteral("reasonCode")].toString(), QStringLiteral("Unroutable"));
        QCOMPARE(listed.at(1)[QStringLiteral("topic")].toString(), QStringLiteral("sensors/not a device id/telemetry"));
        QFile file(exported);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther), QFileDevice::Permissions());
        const QList<QByteArray> lines = file.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 2);
        const QByteArray payload = QByteArray::fromBase64(
            QJsonDocument::fromJson(lines.at(0)).object().value(QStringLiteral("payloadBase64")).toString().toLatin1());
        QCOMPARE(QJsonDocument::fromJson(payload).object().value(QStringLiteral("n")).toInteger(), 9002);
        QTRY_COMPARE_WITH_TIMEOUT(TestSupport::lastMetrics(*r).deadLetters, 0, 5000); // the purge is seen
        TestSupport::stopRelay(*r);
    }

    void aMessageTheHubRefusesAfterSendingIsSetAside()
    {
        // The hub refuses a message only once it has it, by closing the device's connection (no negative
        // acknowledgement in MQTT 3.1.1). Before, the relay sent it again after every reconnect, at the head of its
        // device's queue, for ever: the device's later messages never left. Now, after three closes with it alone in
        // flight and the hub taking the device's next message, it is a dead letter and the device goes on.
        QVERIFY(m_hub->registry().putDevice(QStringLiteral("refused-0"), {}, {}).has_value());
        const RelayConfig c = config();
        auto r = relay(c);
        MqttClient publisher;
        const auto publish = publisherFor(publisher, QStringLiteral("relay-test-refused"));
        QVERIFY(publish(QStringLiteral("refused-0"), 9101, 10));
        QTRY_VERIFY_WITH_TIMEOUT(m_consumer.has(9101), 20000);
        QVERIFY(publish(QStringLiteral("refused-0"), 9102, hubMessageLimit + 1024)); // under the relay's 256 KB
        QVERIFY(publish(QStringLiteral("refused-0"), 9103, 10));
        QVERIFY(publish(QStringLiteral("refused-0"), 9104, 10));
        QTRY_VERIFY_WITH_TIMEOUT(m_consumer.has(9103) && m_consumer.has(9104), 60000);
        QVERIFY(!m_consumer.has(9102));
        QTRY_COMPARE_WITH_TIMEOUT(TestSupport::lastMetrics(*r).deadLettered, 1, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(TestSupport::lastMetrics(*r).outboxDepth, 0, 5000);
        TestSupport::stopRelay(*r);

        const auto inspected = Outbox::inspect(c.outboxPath);
        QVERIFY2(inspected.has_value(), inspected ? "" : qPrintable(inspected.error().message));
        const auto letters = (*inspected)->deadLetters();
        QVERIFY(letters.has_value());
        QCOMPARE(letters->size(), 1);
        QCOMPARE(letters->at(0).reasonCode, QStringLiteral("RefusedByHub"));
        QCOMPARE(letters->at(0).deviceId, QStringLiteral("refused-0"));
        QCOMPARE(letters->at(0).topic, QStringLiteral("devices/refused-0/messages/events/"));
        QCOMPARE(QJsonDocument::fromJson(letters->at(0).payload).object().value(QStringLiteral("n")).toInteger(), 9102);
    }

    void aHubThatRefusesEveryMessageSetsNothingAside()
    {
        // When the hub closes the connection on the next message too, it refuses the device (a quota, a hub that
        // closes every session), not one message: nothing becomes a dead letter, the messages stay in the outbox and
        // the device's session backs off, saying why.
        QVERIFY(m_hub->registry().putDevice(QStringLiteral("refused-1"), {}, {}).has_value());
        auto r = relay(config());
        QString lastError;
        connect(r.get(), &Relay::metricsUpdated, this, [&lastError](const RelayMetrics &metrics) {
            for (const RelayMetrics::Device &device : metrics.devices)
                if (device.id == u"refused-1")
                    lastError = device.lastError;
        });
        MqttClient publisher;
        const auto publish = publisherFor(publisher, QStringLiteral("relay-test-refused-all"));
        QVERIFY(publish(QStringLiteral("refused-1"), 9201, hubMessageLimit + 1024));
        QVERIFY(publish(QStringLiteral("refused-1"), 9202, hubMessageLimit + 2048));
        QTRY_VERIFY_WITH_TIMEOUT(lastError.contains(QStringLiteral("whenever it sends a message")), 60000);
        const RelayMetrics m = r->metrics();
        QCOMPARE(m.deadLettered, 0);
        QCOMPARE(m.outboxDepth, 2);
        QVERIFY(!m_consumer.has(9201) && !m_consumer.has(9202));
        TestSupport::stopRelay(*r);
    }

    void cleanupTestCase() { m_hub.stop(); }
};

QTEST_GUILESS_MAIN(tst_Relay)
#include "tst_relay.moc"
