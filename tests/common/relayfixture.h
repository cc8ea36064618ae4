#pragma once

// What the relay tests share: a telemetry consumer on a sandbox hub (every device-to-cloud message body
// with its properties, counted per sequence number to find losses and duplicates), and a QoS 1 sensor
// publisher for the local broker that sends again what the broker did not acknowledge.

#include "hub/sastoken.h"
#include "mqtt/mqttclient.h"
#include "mqtt/mqttmessage.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QSignalSpy>
#include <QTest>

#include <memory>

namespace RelayFixture {

// A positive whole number from the environment (a test's size), else fallback.
inline qint64 envOr(const char *name, qint64 fallback)
{
    bool ok = false;
    const qint64 value = qEnvironmentVariable(name).toLongLong(&ok);
    return ok && value > 0 ? value : fallback;
}

// Connects an MqttClient and waits; false when it failed.
inline bool connectAndWait(Onboarder::MqttClient &client, int timeoutMs = 15000)
{
    QSignalSpy connected(&client, &Onboarder::MqttClient::connected);
    QSignalSpy failed(&client, &Onboarder::MqttClient::errorOccurred);
    client.connectToHost();
    QDeadlineTimer deadline(timeoutMs);
    while (connected.isEmpty() && failed.isEmpty() && !deadline.hasExpired())
        QTest::qWait(20);
    return !connected.isEmpty();
}

// Every message the sandbox hub received from devices, by the "n" of its JSON payload.
class Consumer final
{
public:
    struct Received
    {
        QString deviceId;
        Onboarder::MqttMessage message;
    };

    // hostName / port / caFile of the sandbox's device endpoint; ownerKey: the iothubowner policy key.
    bool connect(const QString &hostName, int port, const QString &caFile, const QString &ownerKey,
        const QString &clientId = QStringLiteral("relay-test-consumer"))
    {
        m_client = std::make_unique<Onboarder::MqttClient>();
        m_client->setHostname(hostName);
        m_client->setPort(port);
        m_client->setTlsEnabled(true);
        m_client->setCaFile(caFile);
        m_client->setClientId(clientId);
        m_client->setCleanSession(false); // keeps what arrives while it reconnects
        m_client->setAutoReconnect(true);
        m_client->setReconnectInterval(1, 2);
        m_client->setProtocolVersion(Onboarder::MqttClient::ProtocolVersion::Mqtt5);
        m_client->setUsername(hostName + QStringLiteral("/$sandbox/consumer"));
        m_client->setPassword(Onboarder::SecretBytes::fromQByteArray(Onboarder::SasToken::create(
            hostName, ownerKey, QDateTime::currentSecsSinceEpoch() + 86400, QStringLiteral("iothubowner"))
                                                                         ->toString()
                                                                         .toUtf8()));
        QObject::connect(m_client.get(), &Onboarder::MqttClient::messageReceived, m_client.get(),
            [this](const Onboarder::MqttMessage &message) {
                const QString device = message.topic.section(u'/', 2, 2);
                const QJsonObject body = QJsonDocument::fromJson(message.payload).object();
                const qint64 n = body.value(QStringLiteral("n")).toInteger(-1);
                ++m_counts[n];
                ++m_total;
                m_lastReceivedMs = QDateTime::currentMSecsSinceEpoch();
                m_last = {device, message};
                const qint64 sent = body.value(QStringLiteral("t")).toInteger(0);
                if (sent > 0)
                    m_latencies.append(QDateTime::currentMSecsSinceEpoch() - sent);
            });
        if (!connectAndWait(*m_client))
            return false;
        QSignalSpy subscribed(m_client.get(), &Onboarder::MqttClient::subscribed);
        if (!m_client->subscribe(QStringLiteral("$sandbox/telemetry/#"), 1))
            return false;
        return subscribed.wait(10000);
    }

    qint64 total() const { return m_total; }
    qint64 lastReceivedMs() const { return m_lastReceivedMs; }
    qint64 distinct() const { return m_counts.size(); }
    bool has(qint64 n) const { return m_counts.contains(n); }
    Received last() const { return m_last; }
    QList<qint64> &latencies() { return m_latencies; }

    // The numbers in [0, count) never received, and those received more than once (with how often).
    QList<qint64> missing(qint64 count) const
    {
        QList<qint64> list;
        for (qint64 n = 0; n < count; ++n) {
            if (!m_counts.contains(n))
                list.append(n);
        }
        return list;
    }
    QMap<qint64, int> duplicates() const
    {
        QMap<qint64, int> map;
        for (auto it = m_counts.cbegin(); it != m_counts.cend(); ++it) {
            if (it.value() > 1)
                map.insert(it.key(), it.value());
        }
        return map;
    }

private:
    std::unique_ptr<Onboarder::MqttClient> m_client;
    QHash<qint64, int> m_counts;
    qint64 m_total = 0;
    qint64 m_lastReceivedMs = 0;
    Received m_last;
    QList<qint64> m_latencies;
};

// A sensor gateway's publisher: QoS 1 to the local broker, numbered JSON messages {"n": N, "t": ms},
// device "sensor-<n % devices>" on sensors/<device>/telemetry. A message counts as published once the
// broker acknowledged it; what was in flight when the connection broke is sent again.
class Publisher final
{
public:
    Publisher(int port, int devices, const QString &prefix = QStringLiteral("sensor-"))
        : m_devices(devices)
        , m_prefix(prefix)
    {
        m_client.setHostname(QStringLiteral("127.0.0.1"));
        m_client.setPort(port);
        m_client.setClientId(QStringLiteral("relay-test-publisher"));
        m_client.setAutoReconnect(true);
        m_client.setReconnectInterval(1, 1);
        QObject::connect(&m_client, &Onboarder::MqttClient::messageDelivered, &m_client, [this](int token) {
            if (m_inFlight.remove(token))
                ++m_acknowledged;
        });
        QObject::connect(&m_client, &Onboarder::MqttClient::disconnected, &m_client, [this] {
            for (qint64 n : std::as_const(m_inFlight))
                m_resend.append(n);
            m_inFlight.clear();
        });
    }

    bool connect() { return connectAndWait(m_client); }
    QString deviceFor(qint64 n) const { return m_prefix + QString::number(n % m_devices); }

    // Publishes messages [next, until) (and what must be sent again), at most window in flight, while
    // the event loop runs; returns once all are acknowledged or the deadline passes.
    // ratePerSecond > 0 paces new messages (a benchmark's fixed load).
    bool publishUntil(qint64 until, int timeoutMs, int window = 200, double ratePerSecond = 0)
    {
        QDeadlineTimer deadline(timeoutMs);
        QElapsedTimer clock;
        clock.start();
        const qint64 first = m_next;
        const auto due = [&] {
            return ratePerSecond <= 0 || double(m_next - first) < ratePerSecond * double(clock.elapsed()) / 1000.0;
        };
        while (!deadline.hasExpired()) {
            while (m_client.state() == Onboarder::MqttClient::State::Connected && m_inFlight.size() < window
                && (!m_resend.isEmpty() || (m_next < until && due()))) {
                const qint64 n = m_resend.isEmpty() ? m_next++ : m_resend.takeFirst();
                const QByteArray payload = QJsonDocument(
                    QJsonObject{{QStringLiteral("n"), n}, {QStringLiteral("t"), QDateTime::currentMSecsSinceEpoch()}})
                                               .toJson(QJsonDocument::Compact);
                const auto token
                    = m_client.publish(QStringLiteral("sensors/%1/telemetry").arg(deviceFor(n)), payload, 1);
                if (!token) {
                    m_resend.prepend(n);
                    break;
                }
                m_inFlight.insert(*token, n);
            }
            if (m_next >= until && m_inFlight.isEmpty() && m_resend.isEmpty())
                return true;
            QTest::qWait(ratePerSecond > 0 ? 1 : 2);
        }
        return false;
    }

    qint64 next() const { return m_next; }
    qint64 acknowledged() const { return m_acknowledged; }

private:
    Onboarder::MqttClient m_client;
    int m_devices = 1;
    QString m_prefix;
    QHash<int, qint64> m_inFlight; // token → n
    QList<qint64> m_resend;
    qint64 m_next = 0;
    qint64 m_acknowledged = 0;
};

} // namespace RelayFixture
