#pragma once

// The sandbox hub's seeded devices as a benchmark drives them: N MQTT sessions (a token of the owner policy each)
// publishing numbered QoS 1 messages {"n": N, "t": ms} round-robin, paced or as fast as they can.

#include "hub/connectionstring.h"
#include "hub/sastoken.h"
#include "mqtt/mqttclient.h"
#include "sandboxprocess.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <algorithm>
#include <memory>
#include <vector>

namespace BenchSupport {

using namespace Onboarder;

// N device sessions publishing QoS 1, at most window in flight over all.
class Devices
{
public:
    Devices(const TestSupport::SandboxProcess &hub, int count)
    {
        const auto owner = ConnectionString::parse(hub.connectionString());
        for (int i = 1; i <= count; ++i) {
            const QString id = QStringLiteral("sandbox-device-%1").arg(i, 6, 10, QLatin1Char('0'));
            auto client = std::make_unique<MqttClient>();
            client->setHostname(hub.hostName());
            client->setPort(hub.mqttPort());
            client->setTlsEnabled(true);
            client->setCaFile(hub.caFile());
            client->setClientId(id);
            client->setUsername(hub.hostName() + QStringLiteral("/") + id + QStringLiteral("/?api-version=2021-04-12"));
            // A token of the owner policy (DeviceConnect) for this device, as a provisioning service would hand out.
            client->setPassword(Onboarder::SecretBytes::fromQByteArray(
                SasToken::create(hub.hostName() + QStringLiteral("/devices/") + id, owner->sharedAccessKey(),
                    QDateTime::currentSecsSinceEpoch() + 86400, owner->sharedAccessKeyName())
                    ->toString()
                    .toUtf8()));
            QObject::connect(client.get(), &MqttClient::messageDelivered, client.get(), [this] { --m_inFlight; });
            m_clients.push_back(std::move(client));
        }
    }

    // Connects every device, a batch at a time; returns how many are connected.
    int connectAll(int timeoutMs)
    {
        QDeadlineTimer deadline(timeoutMs);
        for (auto &client : m_clients) {
            client->connectToHost();
            while (connecting() > 50 && !deadline.hasExpired())
                QTest::qWait(5);
        }
        while (connected() < int(m_clients.size()) && !deadline.hasExpired())
            QTest::qWait(20);
        return connected();
    }

    // Publishes count messages from number first on, round-robin over the devices (paced when rate > 0).
    bool publish(qint64 first, qint64 count, double rate, int timeoutMs, int window = 2000)
    {
        QDeadlineTimer deadline(timeoutMs);
        QElapsedTimer clock;
        clock.start();
        qint64 n = first;
        while (n < first + count && !deadline.hasExpired()) {
            while (n < first + count && m_inFlight < window
                && (rate <= 0 || double(n - first) < rate * double(clock.elapsed()) / 1000.0)) {
                MqttClient &client = *m_clients[size_t(n % qint64(m_clients.size()))];
                const QByteArray payload = QJsonDocument(
                    QJsonObject{{QStringLiteral("n"), n}, {QStringLiteral("t"), QDateTime::currentMSecsSinceEpoch()}})
                                               .toJson(QJsonDocument::Compact);
                const QString topic = QStringLiteral("devices/%1/messages/events/").arg(client.clientId());
                if (!client.publish(topic, payload, 1))
                    break; // that session is not connected now: the next turn tries again
                ++m_inFlight;
                ++n;
            }
            QTest::qWait(rate > 0 ? 1 : 0);
        }
        while (m_inFlight > 0 && !deadline.hasExpired())
            QTest::qWait(5);
        return n == first + count;
    }

private:
    int connected() const
    {
        return int(std::count_if(m_clients.begin(), m_clients.end(),
            [](const auto &c) { return c->state() == MqttClient::State::Connected; }));
    }
    int connecting() const
    {
        return int(std::count_if(m_clients.begin(), m_clients.end(),
            [](const auto &c) { return c->state() == MqttClient::State::Connecting; }));
    }

    std::vector<std::unique_ptr<MqttClient>> m_clients;
    qint64 m_inFlight = 0;
};

} // namespace BenchSupport
