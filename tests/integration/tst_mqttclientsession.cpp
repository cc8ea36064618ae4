// MqttClient's sessions against a real mosquitto: with manual acknowledgement a QoS 1 message is acknowledged only
// when the owner says so;
// one that was not is sent again (DUP) on the next connection of the same session, also after the
// client vanished without a word; the subscription is restored after the broker was killed. Its QoS 1
// publishes are reported once the broker acknowledged them, and what is not acknowledged when the
// connection ends is reported as not delivered.
#include "mosquittofixture.h"
#include "mqtt/mqttclient.h"
#include "relayfixture.h"

#include <QSet>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using namespace Onboarder;

class tst_MqttClientSession : public QObject
{
    Q_OBJECT

    MosquittoFixture m_broker;

    std::unique_ptr<MqttClient> subscriber()
    {
        auto s = std::make_unique<MqttClient>();
        s->setHostname(QStringLiteral("127.0.0.1"));
        s->setPort(m_broker.port());
        s->setClientId(QStringLiteral("manual-ack"));
        s->setCleanSession(false);
        s->setManualAcknowledgement(true);
        s->setAutoReconnect(true);
        return s;
    }

    // Connects and subscribes to t/# (QoS 1), which is sent again on every connection.
    static void start(MqttClient &s)
    {
        s.connectToHost();
        QVERIFY(s.subscribe(QStringLiteral("t/#"), 1).has_value());
    }

    bool publish(const QByteArray &payload)
    {
        MqttClient publisher;
        publisher.setHostname(QStringLiteral("127.0.0.1"));
        publisher.setPort(m_broker.port());
        publisher.setClientId(QStringLiteral("pub"));
        if (!RelayFixture::connectAndWait(publisher))
            return false;
        QSignalSpy delivered(&publisher, &MqttClient::messageDelivered);
        return publisher.publish(QStringLiteral("t/1"), payload, 1).has_value() && delivered.wait(5000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        MosquittoFixture::Options options;
        options.extraConfig = "max_queued_messages 0\n";
        QVERIFY2(m_broker.start(options), qPrintable(m_broker.errorString()));
    }

    void unacknowledgedMessagesComeAgain()
    {
        {
            auto first = subscriber();
            QSignalSpy subscribed(first.get(), &MqttClient::subscribed);
            QSignalSpy received(first.get(), &MqttClient::messageReceived);
            start(*first);
            QVERIFY(subscribed.wait(5000));
            QVERIFY(publish("one"));
            QTRY_COMPARE(received.count(), 1);
            const auto message = received.at(0).at(0).value<MqttMessage>();
            QCOMPARE(message.payload, QByteArray("one"));
            QCOMPARE(message.qos, 1);
            QVERIFY(!message.duplicate);
            QCOMPARE(first->unacknowledged(), 1);
        } // gone without PUBACK (the socket is aborted: like a crash)

        auto second = subscriber();
        QSignalSpy received(second.get(), &MqttClient::messageReceived);
        QSignalSpy connected(second.get(), &MqttClient::connected);
        second->connectToHost();
        QVERIFY(connected.wait(5000));
        QVERIFY(connected.at(0).at(0).toBool()); // session present
        QTRY_COMPARE(received.count(), 1);
        const auto again = received.at(0).at(0).value<MqttMessage>();
        QCOMPARE(again.payload, QByteArray("one"));
        QVERIFY(again.duplicate);
        QVERIFY(second->acknowledge(again));
        QVERIFY(!second->acknowledge(again)); // once only
        QTest::qWait(200);
        second->disconnectFromHost();

        auto third = subscriber();
        QSignalSpy nothing(third.get(), &MqttClient::messageReceived);
        QSignalSpy subscribed(third.get(), &MqttClient::subscribed);
        start(*third);
        QVERIFY(subscribed.wait(5000));
        QTest::qWait(300);
        QCOMPARE(nothing.count(), 0);
        third->disconnectFromHost();
    }

    void acknowledgementsOfAnEarlierConnectionAreDropped()
    {
        auto s = subscriber();
        QSignalSpy received(s.get(), &MqttClient::messageReceived);
        QSignalSpy subscribed(s.get(), &MqttClient::subscribed);
        start(*s);
        QVERIFY(subscribed.wait(5000));
        QVERIFY(publish("two"));
        QTRY_COMPARE(received.count(), 1);
        const auto old = received.at(0).at(0).value<MqttMessage>();

        m_broker.kill(); // persistence off: the session is gone with the broker
        QVERIFY(m_broker.restart());
        QTRY_COMPARE_WITH_TIMEOUT(subscribed.count(), 2, 10000); // reconnected and subscribed again
        QVERIFY(!s->acknowledge(old));
        QVERIFY(publish("three"));
        QTRY_COMPARE(received.count(), 2);
        QVERIFY(s->acknowledge(received.at(1).at(0).value<MqttMessage>()));
        s->disconnectFromHost();
    }

    void tlsWithTheBrokersCa()
    {
        MosquittoFixture secure;
        MosquittoFixture::Options options;
        options.tls = true;
        QVERIFY2(secure.start(options), qPrintable(secure.errorString()));
        const auto attempt = [&](const QString &caFile) {
            auto s = std::make_unique<MqttClient>();
            s->setHostname(QStringLiteral("localhost"));
            s->setPort(secure.tlsPort());
            s->setClientId(QStringLiteral("tls"));
            s->setTlsEnabled(true);
            s->setCaFile(caFile);
            return s;
        };
        auto trusted = attempt(secure.caFile());
        QSignalSpy subscribed(trusted.get(), &MqttClient::subscribed);
        start(*trusted);
        QVERIFY(subscribed.wait(10000));
        trusted->disconnectFromHost();

        // A CA that did not sign the broker's certificate: refused, and said why.
        auto stranger = attempt(secure.writeOtherCaFile());
        QSignalSpy error(stranger.get(), &MqttClient::errorOccurred);
        start(*stranger);
        QVERIFY(error.wait(10000));
        QCOMPARE(error.at(0).at(0).value<Error>().code, QStringLiteral("CertificateVerificationFailed"));
        QVERIFY(stranger->state() != MqttClient::State::Connected);
        stranger->disconnectFromHost();
    }

    void publishesAreAcknowledgedByTheBroker()
    {
        MqttClient reader;
        reader.setHostname(QStringLiteral("127.0.0.1"));
        reader.setPort(m_broker.port());
        reader.setClientId(QStringLiteral("reader"));
        QVERIFY(RelayFixture::connectAndWait(reader));
        QSignalSpy readerSubscribed(&reader, &MqttClient::subscribed);
        QVERIFY(reader.subscribe(QStringLiteral("p/#"), 1).has_value());
        QVERIFY(readerSubscribed.wait(5000));
        QSignalSpy arrived(&reader, &MqttClient::messageReceived);

        MqttClient s;
        s.setHostname(QStringLiteral("127.0.0.1"));
        s.setPort(m_broker.port());
        s.setClientId(QStringLiteral("publisher-session"));
        s.setCleanSession(true);
        // Not connected: refused with a reason, nothing sent.
        const auto early = s.publish(QStringLiteral("p/early"), "x", 1);
        QVERIFY(!early.has_value());
        QCOMPARE(early.error().code, QStringLiteral("NotConnected"));
        QSignalSpy connected(&s, &MqttClient::connected);
        s.connectToHost();
        QVERIFY(connected.wait(5000));
        QCOMPARE(s.publish(QStringLiteral("p/+"), "x", 1).error().code, QStringLiteral("InvalidTopic"));

        QSignalSpy published(&s, &MqttClient::messageDelivered);
        QSet<int> ids;
        for (int i = 0; i < 300; ++i) {
            const auto id = s.publish(QStringLiteral("p/%1").arg(i % 3), QByteArray::number(i), 1);
            QVERIFY(id.has_value());
            QVERIFY(*id != 0);
            ids.insert(*id);
        }
        QCOMPARE(ids.size(), 300); // distinct while in flight
        QTRY_COMPARE_WITH_TIMEOUT(published.count(), 300, 10000);
        QSet<int> acknowledged;
        for (const auto &args : std::as_const(published))
            acknowledged.insert(args.at(0).toInt());
        QCOMPARE(acknowledged, ids);
        QCOMPARE(s.publishesInFlight(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(arrived.count(), 300, 10000);
        const auto first = arrived.at(0).at(0).value<MqttMessage>();
        QCOMPARE(first.topic, QStringLiteral("p/0"));
        QCOMPARE(first.payload, QByteArray("0"));

        // The broker goes away with publishes in flight: disconnected(), and they are no longer counted.
        MosquittoFixture shortLived;
        QVERIFY2(shortLived.start(), qPrintable(shortLived.errorString()));
        MqttClient t;
        t.setHostname(QStringLiteral("127.0.0.1"));
        t.setPort(shortLived.port());
        t.setClientId(QStringLiteral("interrupted"));
        QSignalSpy up(&t, &MqttClient::connected);
        t.connectToHost();
        QVERIFY(up.wait(5000));
        QSignalSpy down(&t, &MqttClient::disconnected);
        shortLived.kill();
        for (int i = 0; i < 50 && t.state() == MqttClient::State::Connected; ++i)
            (void)t.publish(QStringLiteral("p/lost"), "x", 1);
        QVERIFY(down.wait(5000));
        QCOMPARE(t.publishesInFlight(), 0);
        t.disconnectFromHost();
        s.disconnectFromHost();
    }

    void refusedCredentialsAreReported()
    {
        MosquittoFixture locked;
        MosquittoFixture::Options options;
        options.users = {{QStringLiteral("relay"), "right"}};
        QVERIFY2(locked.start(options), qPrintable(locked.errorString()));
        MqttClient s;
        s.setHostname(QStringLiteral("127.0.0.1"));
        s.setPort(locked.port());
        s.setClientId(QStringLiteral("x"));
        s.setUsername(QStringLiteral("relay"));
        s.setPassword(Onboarder::SecretBytes::fromView("wrong"));
        QSignalSpy error(&s, &MqttClient::errorOccurred);
        s.connectToHost();
        QVERIFY(error.wait(5000));
        const auto e = error.at(0).at(0).value<Error>();
        QCOMPARE(e.kind, ErrorKind::AuthRefused);
        QVERIFY(!e.message.contains(QStringLiteral("wrong")));
        s.disconnectFromHost();
    }

    // A broker that answers CONNECT with bytes that are no MQTT packet: the session says so and drops the
    // connection, instead of waiting for more bytes that can never make a packet. Found by fuzz_mqttpacket: a
    // fixed header whose four length bytes all ask for a fifth was taken for an unfinished one.
    void malformedPacketsFromTheBrokerEndTheConnection_data()
    {
        QTest::addColumn<QByteArray>("answer");
        QTest::newRow("five length bytes") << QByteArray::fromHex("2080808080");
        QTest::newRow("CONNACK of three bytes") << QByteArray::fromHex("2003000000");
        // After a CONNACK (20020000): a PUBLISH to "a/#"; a PUBLISH of QoS 3 to "a/b".
        QTest::newRow("wildcard in a topic") << QByteArray::fromHex("2002000030050003612f23");
        QTest::newRow("QoS 3") << QByteArray::fromHex("2002000036070003612f620001");
    }

    void malformedPacketsFromTheBrokerEndTheConnection()
    {
        QFETCH(QByteArray, answer);
        QTcpServer broker;
        QVERIFY(broker.listen(QHostAddress::LocalHost));
        connect(&broker, &QTcpServer::newConnection, this, [&broker, answer] {
            QTcpSocket *client = broker.nextPendingConnection();
            connect(client, &QTcpSocket::readyRead, client, [client, answer] {
                client->readAll(); // CONNECT
                client->write(answer);
            });
        });
        MqttClient session;
        session.setHostname(QStringLiteral("127.0.0.1"));
        session.setPort(broker.serverPort());
        session.setClientId(QStringLiteral("malformed"));
        QSignalSpy errors(&session, &MqttClient::errorOccurred);
        session.connectToHost();
        QVERIFY(errors.wait(5000));
        QCOMPARE(errors.first().first().value<Error>().code, QStringLiteral("ProtocolError"));
        QVERIFY(session.state() != MqttClient::State::Connected);
        session.disconnectFromHost();
    }
};

QTEST_GUILESS_MAIN(tst_MqttClientSession)
#include "tst_mqttclientsession.moc"
