// The sandbox hub's device endpoint through the project's own MQTT client: telemetry to the consumer
// and into the statistics; CA-signed (certificateAuthority) devices accepted or refused.
#include "certificatefixtures.h"
#include "credentials/certificate.h"
#include "credentials/keypair.h"
#include "httpconnectproxy.h"
#include "hub/devicecheck.h"
#include "hub/hubclient.h"
#include "hub/sastoken.h"
#include "mqtt/mqttclient.h"
#include "mqtt/mqttmessage.h"
#include "mqtt/websocket.h"
#include "mqttconnect.h"
#include "sandboxdevice.h"
#include "sandboxhub.h"
#include "testsupport.h"

#include <QNetworkProxy>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>

using namespace Onboarder;
using namespace Onboarder::Sandbox;

class tst_SandboxMqtt : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<SandboxHub> m_hub;
    KeyPair m_caKey;
    Certificate m_ca;
    int m_port = 0;
    QString m_caFile;

    std::unique_ptr<MqttClient> client(const QString &id, const QString &username)
    {
        auto c = std::make_unique<MqttClient>();
        c->setHostname(QStringLiteral("127.0.0.1"));
        c->setPort(m_port);
        c->setTlsEnabled(true);
        c->setCaFile(m_caFile);
        c->setClientId(id);
        c->setUsername(username);
        return c;
    }

    std::pair<Certificate, KeyPair> deviceCertificate(
        const QString &cn, const Certificate &issuer, const KeyPair &issuerKey)
    {
        KeyPair key = *KeyPair::generate();
        const Certificate cert
            = *Certificate::issue(issuer, issuerKey, key, {cn, {}, {}, 2, Certificate::Usage::Client});
        return {cert, std::move(key)};
    }

    // The service side's view of a device's telemetry (the owner policy, MQTT 5); null when it cannot subscribe.
    // cleanSession false: a session the broker keeps while the consumer is away.
    std::unique_ptr<MqttClient> subscribedConsumer(const QString &deviceId, bool cleanSession = true)
    {
        const auto owner = m_hub->registry().policy(QStringLiteral("iothubowner"));
        auto consumer = client(QStringLiteral("consumer-") + deviceId, QStringLiteral("127.0.0.1/$sandbox/consumer"));
        consumer->setProtocolVersion(MqttClient::ProtocolVersion::Mqtt5);
        consumer->setCleanSession(cleanSession);
        consumer->setPassword(Onboarder::SecretBytes::fromQByteArray(SasToken::create(QStringLiteral("127.0.0.1"),
            owner->primaryKey, QDateTime::currentSecsSinceEpoch() + 600, QStringLiteral("iothubowner"))
                                                                         ->toString()
                                                                         .toUtf8()));
        if (!TestSupport::connects(*consumer))
            return {};
        QSignalSpy subscribed(consumer.get(), &MqttClient::subscribed);
        if (!consumer->subscribe(QStringLiteral("$sandbox/telemetry/") + deviceId, 1) || !subscribed.wait(5000))
            return {};
        return consumer;
    }

    // The sandbox's device port over TLS with its CA, as device id, MQTT over WebSockets on path.
    void setUpWebSocketSession(MqttClient &session, const QString &id, const QString &path) const
    {
        session.setHostname(QStringLiteral("127.0.0.1"));
        session.setPort(m_port);
        session.setTlsEnabled(true);
        session.setCaFile(m_caFile);
        session.setClientId(id);
        session.setWebSocketPath(path);
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_caKey = *KeyPair::generate();
        m_ca = *Certificate::selfSigned(
            m_caKey, {QStringLiteral("Fleet CA"), {}, {}, 30, Certificate::Usage::CertificateAuthority});
        QFile caFile(m_dir.filePath(QStringLiteral("fleet-ca.pem")));
        QVERIFY(caFile.open(QIODevice::WriteOnly));
        caFile.write(m_ca.toPem());
        caFile.close();

        SandboxHub::Options options;
        options.dataDir = m_dir.filePath(QStringLiteral("hub"));
        options.trustedCaFiles = {caFile.fileName()};
        m_hub = std::make_unique<SandboxHub>(options);
        const auto started = m_hub->start();
        QVERIFY2(started.has_value(), started ? "" : qPrintable(started.error().message));
        m_port = m_hub->readyInfo().value(QStringLiteral("mqttPort")).toInt();
        m_caFile = m_hub->readyInfo().value(QStringLiteral("caFile")).toString();
    }

    // Clients that connect and give up before their TLS handshake is done (a relay's sessions after a hub outage,
    // more of them than QSslServer keeps pending) must not leave the device port dead: a device connects after them.
    void thePortOutlivesAbandonedHandshakes()
    {
        std::vector<std::unique_ptr<QTcpSocket>> abandoned;
        for (int i = 0; i < 40; ++i) {
            abandoned.push_back(std::make_unique<QTcpSocket>());
            abandoned.back()->connectToHost(QHostAddress::LocalHost, quint16(m_port));
        }
        for (const auto &socket : abandoned)
            QVERIFY(socket->waitForConnected(5000));
        QTest::qWait(300); // the server takes them into their handshakes
        abandoned.clear(); // and they go away
        QTest::qWait(300);

        const auto device = m_hub->registry().putDevice(QStringLiteral("after-abandoned"), {}, {});
        QVERIFY(device.has_value());
        auto sender = client(
            QStringLiteral("after-abandoned"), QStringLiteral("127.0.0.1/after-abandoned/?api-version=2021-04-12"));
        sender->setPassword(
            Onboarder::SecretBytes::fromQByteArray(SasToken::create(QStringLiteral("127.0.0.1/devices/after-abandoned"),
                device->primaryKey, QDateTime::currentSecsSinceEpoch() + 600)
                                                       ->toString()
                                                       .toUtf8()));
        QVERIFY(TestSupport::connects(*sender));
    }

    void telemetryReachesTheConsumerAndIsCounted()
    {
        const auto device = m_hub->registry().putDevice(QStringLiteral("mqtt-sas"), {}, {});
        QVERIFY(device.has_value());
        auto consumer = subscribedConsumer(QStringLiteral("mqtt-sas"));
        QVERIFY(consumer);
        QSignalSpy received(consumer.get(), &MqttClient::messageReceived);

        auto sender = client(QStringLiteral("mqtt-sas"), QStringLiteral("127.0.0.1/mqtt-sas/?api-version=2021-04-12"));
        sender->setPassword(Onboarder::SecretBytes::fromQByteArray(SasToken::create(
            QStringLiteral("127.0.0.1/devices/mqtt-sas"), device->primaryKey, QDateTime::currentSecsSinceEpoch() + 600)
                                                                       ->toString()
                                                                       .toUtf8()));
        QVERIFY(TestSupport::connects(*sender));
        const qint64 before = m_hub->registry().statistics().telemetryMessages;
        for (int i = 0; i < 3; ++i)
            QVERIFY(sender->publish(QStringLiteral("devices/mqtt-sas/messages/events/n=%1").arg(i), "hello", 1)
                        .has_value());
        QTRY_COMPARE_WITH_TIMEOUT(received.count(), 3, 10000);
        const auto message = received.at(2).at(0).value<MqttMessage>();
        QCOMPARE(message.payload, QByteArray("hello"));
        bool sawProperty = false;
        for (const auto &[name, value] : message.userProperties)
            sawProperty |= name == QStringLiteral("n") && value == QStringLiteral("2");
        QVERIFY(sawProperty);
        QTRY_COMPARE_WITH_TIMEOUT(m_hub->registry().statistics().telemetryMessages, before + 3, 5000);
    }

    // A telemetry consumer with a kept session gets what its devices sent while it was away, as an Event Hub keeps
    // telemetry for its readers. (The broker asks the plugin whether the away session may have each message; the
    // plugin said no, having forgotten the consumer when it disconnected.)
    void aConsumerAwayGetsWhatArrivedMeanwhile()
    {
        const auto device = m_hub->registry().putDevice(QStringLiteral("while-away"), {}, {});
        QVERIFY(device.has_value());
        auto consumer = subscribedConsumer(QStringLiteral("while-away"), false);
        QVERIFY(consumer);
        QSignalSpy gone(consumer.get(), &MqttClient::disconnected);
        consumer->disconnectFromHost();
        QCOMPARE(gone.count(), 1); // at once

        auto sender
            = client(QStringLiteral("while-away"), QStringLiteral("127.0.0.1/while-away/?api-version=2021-04-12"));
        sender->setPassword(
            Onboarder::SecretBytes::fromQByteArray(SasToken::create(QStringLiteral("127.0.0.1/devices/while-away"),
                device->primaryKey, QDateTime::currentSecsSinceEpoch() + 600)
                                                       ->toString()
                                                       .toUtf8()));
        QVERIFY(TestSupport::connects(*sender));
        for (int i = 0; i < 3; ++i)
            QVERIFY(TestSupport::publishAndWait(
                *sender, QStringLiteral("devices/while-away/messages/events/"), QByteArray::number(i)));

        QSignalSpy received(consumer.get(), &MqttClient::messageReceived);
        QVERIFY(TestSupport::connects(*consumer));
        QTRY_COMPARE_WITH_TIMEOUT(received.count(), 3, 10000);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(received.at(i).at(0).value<MqttMessage>().payload, QByteArray::number(i));
    }

    void webSocketsDirectAndThroughAProxy()
    {
        // IoT Hub's MQTT over WebSockets (GET /$iothub/websocket, sub-protocol mqtt) on the device port, directly
        // and tunnelled through an HTTP proxy.
        const QString id = QStringLiteral("mqtt-ws");
        const auto device = m_hub->registry().putDevice(id, {}, {});
        QVERIFY(device.has_value());
        const QByteArray password = SasToken::create(
            QStringLiteral("127.0.0.1/devices/") + id, device->primaryKey, QDateTime::currentSecsSinceEpoch() + 600)
                                        ->toString()
                                        .toUtf8();
        const QString username = QStringLiteral("127.0.0.1/%1/?api-version=2021-04-12").arg(id);
        auto consumer = subscribedConsumer(id);
        QVERIFY(consumer);
        QSignalSpy received(consumer.get(), &MqttClient::messageReceived);
        TestSupport::HttpConnectProxy proxy;
        QVERIFY(proxy.listen());
        const QString target = QStringLiteral("127.0.0.1:%1").arg(m_port);

        // Directly, then through the proxy; a large message spans the 64 KiB frame length form.
        for (const bool viaProxy : {false, true}) {
            MqttClient session;
            setUpWebSocketSession(session, id, QString::fromLatin1(WebSocket::iotHubPath));
            session.setUsername(username);
            session.setPassword(Onboarder::SecretBytes::fromView(password));
            session.setCleanSession(true);
            if (viaProxy)
                session.setHttpProxy(proxy.url());
            QSignalSpy connected(&session, &MqttClient::connected);
            QSignalSpy published(&session, &MqttClient::messageDelivered);
            session.connectToHost();
            QVERIFY(connected.wait(10000));
            QCOMPARE(proxy.targets(), viaProxy ? QStringList{target} : QStringList());
            const QByteArray payload = viaProxy ? QByteArray(100000, 'p') : QByteArray("from the session");
            const qsizetype before = received.count();
            const auto token = session.publish(QStringLiteral("devices/%1/messages/events/").arg(id), payload, 1);
            QVERIFY(token.has_value());
            QVERIFY(published.wait(10000));
            QCOMPARE(published.at(0).at(0).toInt(), *token);
            QTRY_COMPARE_WITH_TIMEOUT(received.count(), before + 1, 10000);
            QCOMPARE(received.last().at(0).value<MqttMessage>().payload, payload);
            session.disconnectFromHost();
        }

        // A path the hub does not serve: refused with the server's answer, not retried as a lost connection.
        MqttClient wrong;
        setUpWebSocketSession(wrong, id, QStringLiteral("/mqtt"));
        QSignalSpy failed(&wrong, &MqttClient::errorOccurred);
        wrong.connectToHost();
        QVERIFY(failed.wait(10000));
        const auto error = failed.at(0).at(0).value<Error>();
        QCOMPARE(error.code, QStringLiteral("WebSocketRefused"));
        QVERIFY2(error.message.contains(QStringLiteral("404")), qPrintable(error.message));
        wrong.disconnectFromHost();
    }

    void caSignedDevices()
    {
        QVERIFY(m_hub->registry()
                    .putDevice(QStringLiteral("fleet-1"),
                        QJsonObject{{QStringLiteral("authentication"),
                            QJsonObject{{QStringLiteral("type"), QStringLiteral("certificateAuthority")}}}},
                        {})
                    .has_value());
        const QString username = QStringLiteral("127.0.0.1/fleet-1/?api-version=2021-04-12");

        // Signed by the trusted CA, CN = device id: accepted.
        auto [good, goodKey] = deviceCertificate(QStringLiteral("fleet-1"), m_ca, m_caKey);
        auto accepted = client(QStringLiteral("fleet-1"), username);
        QVERIFY(accepted->setClientCertificate(good.toPem(), goodKey.privateKeyPem()).has_value());
        QVERIFY(TestSupport::connects(*accepted));
        QCOMPARE(m_hub->registry().device(QStringLiteral("fleet-1"))->connectionState, QStringLiteral("Connected"));
        accepted->disconnectFromHost();

        // Right CA, wrong CN: refused.
        auto [misnamed, misnamedKey] = deviceCertificate(QStringLiteral("fleet-2"), m_ca, m_caKey);
        auto wrongName = client(QStringLiteral("fleet-1"), username);
        QVERIFY(wrongName->setClientCertificate(misnamed.toPem(), misnamedKey.privateKeyPem()).has_value());
        QVERIFY(!TestSupport::connects(*wrongName));

        // Signed by a CA the hub does not trust: refused.
        KeyPair otherKey = *KeyPair::generate();
        const Certificate other = *Certificate::selfSigned(
            otherKey, {QStringLiteral("Other CA"), {}, {}, 30, Certificate::Usage::CertificateAuthority});
        auto [foreign, foreignKey] = deviceCertificate(QStringLiteral("fleet-1"), other, otherKey);
        auto stranger = client(QStringLiteral("fleet-1"), username);
        QVERIFY(stranger->setClientCertificate(foreign.toPem(), foreignKey.privateKeyPem()).has_value());
        QVERIFY(!TestSupport::connects(*stranger));
    }

    // A path through intermediates: each must be a CA in its validity, and no CA may have more intermediates
    // below it than its pathLen allows.
    void caSignedThroughIntermediates()
    {
        QVERIFY(m_hub->registry()
                    .putDevice(QStringLiteral("fleet-3"),
                        QJsonObject{{QStringLiteral("authentication"),
                            QJsonObject{{QStringLiteral("type"), QStringLiteral("certificateAuthority")}}}},
                        {})
                    .has_value());
        const QString username = QStringLiteral("127.0.0.1/fleet-3/?api-version=2021-04-12");
        const auto connectsWith = [&](const QList<Certificate> &chain, const KeyPair &key) {
            QByteArray pem;
            for (const Certificate &certificate : chain)
                pem += certificate.toPem();
            auto device = client(QStringLiteral("fleet-3"), username);
            if (!device->setClientCertificate(pem, key.privateKeyPem()))
                return false;
            const bool connected = TestSupport::connects(*device);
            device->disconnectFromHost();
            return connected;
        };
        const auto intermediate
            = [](const QString &cn, const Certificate &issuer, const KeyPair &issuerKey, const KeyPair &key) {
                  return *Certificate::issue(
                      issuer, issuerKey, key, {cn, {}, {}, 30, Certificate::Usage::CertificateAuthority});
              };
        const KeyPair firstKey = *KeyPair::generate();
        const Certificate first = intermediate(QStringLiteral("Fleet Intermediate 1"), m_ca, m_caKey, firstKey);
        const KeyPair secondKey = *KeyPair::generate();
        const Certificate second = intermediate(QStringLiteral("Fleet Intermediate 2"), first, firstKey, secondKey);

        // leaf ← intermediate 2 ← intermediate 1 ← Fleet CA: accepted.
        auto [leaf, leafKey] = deviceCertificate(QStringLiteral("fleet-3"), second, secondKey);
        QVERIFY(connectsWith({leaf, second, first}, leafKey));

        // Intermediate 1 expired yesterday (re-signed by the CA, so only its dates are wrong): refused.
        const Certificate expired = TestSupport::redated(first, m_caKey, -30L * 24 * 3600, -24L * 3600);
        QVERIFY(!connectsWith({leaf, second, expired}, leafKey));
        // Not valid until tomorrow: refused.
        const Certificate early = TestSupport::redated(first, m_caKey, 24L * 3600, 30L * 24 * 3600);
        QVERIFY(!connectsWith({leaf, second, early}, leafKey));

        // Intermediate 1 with pathLen 0 may sign devices, not another CA: refused through intermediate 2 …
        const Certificate lastCa = TestSupport::withBasicConstraints(first, m_caKey, "critical,CA:TRUE,pathlen:0");
        QVERIFY(!connectsWith({leaf, second, lastCa}, leafKey));
        // … accepted for a device it signed itself.
        auto [direct, directKey] = deviceCertificate(QStringLiteral("fleet-3"), lastCa, firstKey);
        QVERIFY(connectsWith({direct, lastCa}, directKey));

        // Intermediate 2 with CA:FALSE is no CA: refused.
        const Certificate notCa = TestSupport::withBasicConstraints(second, firstKey, "critical,CA:FALSE");
        QVERIFY(!connectsWith({leaf, notCa, first}, leafKey));
    }

    // A version 1 self-signed certificate is no CA: the sandbox refuses to start trusting one.
    void version1CertificateIsNoCa()
    {
        const KeyPair key = *KeyPair::generate();
        const Certificate v1 = TestSupport::version1SelfSigned(key, "Old CA");
        QFile file(m_dir.filePath(QStringLiteral("v1-ca.pem")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(v1.toPem());
        file.close();
        SandboxHub::Options options;
        options.dataDir = m_dir.filePath(QStringLiteral("hub-v1"));
        options.trustedCaFiles = {file.fileName()};
        SandboxHub hub(options);
        const auto started = hub.start();
        QVERIFY(!started.has_value());
        QCOMPARE(started.error().code, QStringLiteral("NotACa"));
        QVERIFY2(started.error().message.contains(QStringLiteral("version 3 with basicConstraints CA:TRUE")),
            qPrintable(started.error().message));
    }

    void checkPingsAConnectedDevice()
    {
        const auto device = m_hub->registry().putDevice(QStringLiteral("pingable"), {}, {});
        QVERIFY(device.has_value());
        auto online = client(QStringLiteral("pingable"), QStringLiteral("127.0.0.1/pingable/?api-version=2021-04-12"));
        online->setPassword(Onboarder::SecretBytes::fromQByteArray(SasToken::create(
            QStringLiteral("127.0.0.1/devices/pingable"), device->primaryKey, QDateTime::currentSecsSinceEpoch() + 600)
                                                                       ->toString()
                                                                       .toUtf8()));
        QVERIFY(TestSupport::connects(*online));
        QSignalSpy subscribed(online.get(), &MqttClient::subscribed);
        QVERIFY(online->subscribe(QStringLiteral("$iothub/methods/POST/#"), 0).has_value());
        QTRY_COMPARE(subscribed.count(), 1);
        bool answer = true;
        connect(online.get(), &MqttClient::messageReceived, this, [&](const MqttMessage &request) {
            // $iothub/methods/POST/ping/?$rid=…  →  $iothub/methods/res/200/?$rid=…
            const QString rid = request.topic.section(QStringLiteral("$rid="), 1);
            if (answer)
                QVERIFY(online->publish(QStringLiteral("$iothub/methods/res/200/?$rid=") + rid, "{\"pong\":true}", 0)
                            .has_value());
        });

        const QJsonObject info = m_hub->readyInfo();
        HubProfile profile;
        profile.name = QStringLiteral("sandbox");
        profile.hostName = info.value(QStringLiteral("hostName")).toString();
        profile.restPort = info.value(QStringLiteral("restPort")).toInt();
        profile.caFile = m_caFile;
        HubClient hub(profile, *ConnectionString::parse(m_hub->ownerConnectionString()));
        DeviceCheckOptions options;
        options.ping = true;
        options.pingTimeoutSeconds = 5;
        const auto items = TestSupport::await(checkDevice(hub, QStringLiteral("pingable"), options));
        QVERIFY(items.has_value());
        QHash<QString, DeviceCheckItem> byKey;
        for (const DeviceCheckItem &item : *items)
            byKey.insert(item.key, item);
        QCOMPARE(byKey.value(QStringLiteral("connected")).verdict, DeviceCheckItem::Verdict::Good);
        QCOMPARE(byKey.value(QStringLiteral("lastActivity")).verdict, DeviceCheckItem::Verdict::Good);
        QCOMPARE(byKey.value(QStringLiteral("ping")).verdict, DeviceCheckItem::Verdict::Good);
        QVERIFY2(byKey.value(QStringLiteral("ping")).sentence.contains(QStringLiteral("status 200")),
            qPrintable(byKey.value(QStringLiteral("ping")).sentence));

        // Connected but silent: the ping is a problem, said as a timeout.
        answer = false;
        const auto silent = TestSupport::await(checkDevice(hub, QStringLiteral("pingable"), options), 30000);
        QVERIFY(silent.has_value());
        QCOMPARE(silent->last().key, QStringLiteral("ping"));
        QCOMPARE(silent->last().verdict, DeviceCheckItem::Verdict::Problem);
        QVERIFY(silent->last().sentence.contains(QStringLiteral("5 seconds")));
    }

    // As IoT Hub: a device's session ends when the device is disabled, deleted or given new keys through the
    // registry (here through the service REST API, as HubClient calls it), and when its SAS token expires. An
    // update that leaves its credentials alone keeps it connected.
    void sessionsClosedAsIoTHubCloses()
    {
        const QJsonObject info = m_hub->readyInfo();
        HubProfile profile;
        profile.name = QStringLiteral("sandbox");
        profile.hostName = info.value(QStringLiteral("hostName")).toString();
        profile.restPort = info.value(QStringLiteral("restPort")).toInt();
        profile.caFile = m_caFile;
        HubClient hub(profile, *ConnectionString::parse(m_hub->ownerConnectionString()));
        const QString id = QStringLiteral("closing-1");
        DeviceIdentity fresh;
        fresh.id = id;
        auto created = TestSupport::await(hub.createDevice(fresh));
        QVERIFY2(created.has_value(), created ? "" : qPrintable(created.error().message));
        DeviceIdentity device = *created;

        const auto connected = [&](const QString &key, qint64 expiry) {
            auto c = client(id, QStringLiteral("127.0.0.1/%1/?api-version=2021-04-12").arg(id));
            c->setPassword(Onboarder::SecretBytes::fromQByteArray(
                SasToken::create(QStringLiteral("127.0.0.1/devices/") + id, key, expiry)->toString().toUtf8()));
            return TestSupport::connects(*c) ? std::move(c) : std::unique_ptr<MqttClient>();
        };
        const auto closedWithin = [](MqttClient &c, int ms) {
            QSignalSpy gone(&c, &MqttClient::disconnected);
            return c.state() == MqttClient::State::Disconnected || gone.wait(ms);
        };
        const qint64 inAnHour = QDateTime::currentSecsSinceEpoch() + 3600;

        // An update that changes nothing about its credentials: the session stays.
        auto session = connected(device.primaryKey, inAnHour);
        QVERIFY(session);
        device.statusReason = QStringLiteral("checked");
        auto updated = TestSupport::await(hub.updateDevice(device, true));
        QVERIFY(updated.has_value());
        QVERIFY(!closedWithin(*session, 2000));

        // Disabled: closed.
        device = *updated;
        device.status = QStringLiteral("disabled");
        updated = TestSupport::await(hub.updateDevice(device, true));
        QVERIFY(updated.has_value());
        QVERIFY(closedWithin(*session, 5000));
        QVERIFY(!connected(device.primaryKey, inAnHour)); // and it cannot come back
        device = *updated;
        device.status = QStringLiteral("enabled");
        updated = TestSupport::await(hub.updateDevice(device, true));
        QVERIFY(updated.has_value());

        // New keys: closed; the old key no longer works, the new one does.
        session = connected(device.primaryKey, inAnHour);
        QVERIFY(session);
        device = *updated;
        const QString oldKey = device.primaryKey;
        device.primaryKey = TestSupport::randomKey();
        updated = TestSupport::await(hub.updateDevice(device, true));
        QVERIFY(updated.has_value());
        QVERIFY(closedWithin(*session, 5000));
        QVERIFY(!connected(oldKey, inAnHour));
        session = connected(device.primaryKey, inAnHour);
        QVERIFY(session);

        // Deleted: closed.
        QVERIFY(TestSupport::await(hub.deleteDevice(id)).has_value());
        QVERIFY(closedWithin(*session, 5000));

        // A token that expires while connected (the sandbox allows 300 s of clock skew, at connect and after):
        // closed within seconds of its end.
        const auto again = m_hub->registry().putDevice(id, {}, {});
        QVERIFY(again.has_value());
        // It ends, with the skew, 5 s from now; measured against the clock, not from the end of the connect,
        // which takes seconds of its own on a loaded machine or under the sanitizers.
        const qint64 expiry = QDateTime::currentSecsSinceEpoch() - 295;
        session = connected(again->primaryKey, expiry);
        QVERIFY(session);
        QVERIFY(closedWithin(*session, 15000));
        const qint64 ends = (expiry + 300) * 1000;
        QVERIFY2(QDateTime::currentMSecsSinceEpoch() >= ends - 1000, "closed before the token expired");
    }

    // IoT Hub refuses a device's publish by closing its connection, never by acknowledging it: a message to another
    // device's topic, and one larger than 256 KB with its properties. Before, mosquitto acknowledged the first (a
    // denial looks like success to an MQTT 3.1.1 client) and delivered the second.
    void refusedPublishesCloseTheConnection()
    {
        const auto device = m_hub->registry().putDevice(QStringLiteral("refusing-0"), {}, {});
        QVERIFY(device.has_value());
        QVERIFY(m_hub->registry().putDevice(QStringLiteral("refusing-1"), {}, {}).has_value());
        auto consumer = subscribedConsumer(QStringLiteral("refusing-0"));
        QVERIFY(consumer);
        QSignalSpy received(consumer.get(), &MqttClient::messageReceived);
        const auto connected = [&] {
            auto c
                = client(QStringLiteral("refusing-0"), QStringLiteral("127.0.0.1/refusing-0/?api-version=2021-04-12"));
            c->setPassword(
                Onboarder::SecretBytes::fromQByteArray(SasToken::create(QStringLiteral("127.0.0.1/devices/refusing-0"),
                    device->primaryKey, QDateTime::currentSecsSinceEpoch() + 600)
                                                           ->toString()
                                                           .toUtf8()));
            return TestSupport::connects(*c) ? std::move(c) : std::unique_ptr<MqttClient>();
        };
        const auto refused = [](MqttClient &c, const QString &topic, const QByteArray &payload) {
            QSignalSpy delivered(&c, &MqttClient::messageDelivered);
            QSignalSpy gone(&c, &MqttClient::disconnected);
            if (!c.publish(topic, payload, 1))
                return false;
            return gone.wait(5000) && delivered.isEmpty();
        };

        auto sender = connected();
        QVERIFY(sender);
        QVERIFY(refused(*sender, QStringLiteral("devices/refusing-1/messages/events/"), "not mine"));

        sender = connected();
        QVERIFY(sender);
        const QByteArray large(256 * 1024 + 1, 'x'); // over the limit by one byte, with an empty property bag
        QVERIFY(refused(*sender, QStringLiteral("devices/refusing-0/messages/events/"), large));

        // At the limit, with its property bag, it is taken.
        sender = connected();
        QVERIFY(sender);
        QSignalSpy delivered(sender.get(), &MqttClient::messageDelivered);
        const QByteArray bag = "a=b";
        QVERIFY(sender->publish(QStringLiteral("devices/refusing-0/messages/events/") + QString::fromLatin1(bag),
            QByteArray(256 * 1024 - bag.size(), 'y'), 1));
        QVERIFY(delivered.wait(5000));
        QTRY_COMPARE_WITH_TIMEOUT(received.size(), 1, 5000);
        QCOMPARE(received.at(0).at(0).value<MqttMessage>().payload.size(), 256 * 1024 - bag.size());
    }

    void cleanupTestCase() { m_hub.reset(); }
};

QTEST_GUILESS_MAIN(tst_SandboxMqtt)
#include "tst_sandboxmqtt.moc"
