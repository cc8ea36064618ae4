#include "sensorfleet.h"

#include <QDateTime>
#include <QRandomGenerator>

#include <algorithm>
#include <cmath>

namespace Onboarder::Sandbox {

namespace {

enum Kind { Climate, Air, Power, Soil, KindCount };

const char *kindName(int kind)
{
    switch (kind) {
    case Climate: return "climate";
    case Air: return "air";
    case Power: return "power";
    case Soil: return "soil";
    default: return "climate";
    }
}

double rounded(double value, int decimals)
{
    const double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}

// A value that wanders around its centre: a slow swing plus a little noise, pulled back when it strays.
double drift(double value, double centre, double swing, double phase, double noise)
{
    const double target = centre + swing * std::sin(phase);
    return value + 0.2 * (target - value) + noise * (QRandomGenerator::global()->generateDouble() - 0.5);
}

} // namespace

SensorFleet::SensorFleet(const Options &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
{
    for (int i = 0; i < options.sensors; ++i) {
        Sensor sensor;
        sensor.id = options.prefix + QString::number(i + 1);
        sensor.kind = i % KindCount;
        sensor.phase = double(i) * 1.3;
        switch (sensor.kind) {
        case Climate:
            sensor.a = 21.0 + i % 3;
            sensor.b = 45.0;
            break;
        case Air:
            sensor.a = 600.0;
            sensor.b = 22.0;
            break;
        case Power:
            sensor.a = 230.0;
            sensor.b = 2.0;
            break;
        case Soil:
        default:
            sensor.a = 35.0;
            sensor.b = 14.0;
            break;
        }
        m_sensors.append(sensor);
    }
    m_client.setHostname(options.host);
    m_client.setPort(options.port);
    m_client.setClientId(QStringLiteral("onboarder-sensor-sim-%1").arg(QCoreApplication::applicationPid()));
    m_client.setAutoReconnect(true);
    m_client.setReconnectInterval(1, 5);
    connect(&m_client, &MqttClient::messageDelivered, this, [this](int) {
        m_unacknowledged = std::max<qint64>(0, m_unacknowledged - 1);
        if (m_options.rounds > 0 && m_round >= m_options.rounds && m_unacknowledged == 0)
            Q_EMIT finished();
    });
    connect(&m_timer, &QTimer::timeout, this, &SensorFleet::tick);
}

void SensorFleet::start()
{
    m_client.connectToHost();
    m_timer.start(m_options.intervalMs);
}

QStringList SensorFleet::deviceIds() const
{
    QStringList ids;
    for (const Sensor &sensor : m_sensors)
        ids.append(sensor.id);
    return ids;
}

QByteArray SensorFleet::reading(int index, qint64 nowMs)
{
    Sensor &s = m_sensors[index];
    s.phase += 0.05;
    // Written by hand rather than through QJsonObject (which sorts its keys): the measurements come first, as
    // a sensor would send them, so that a preview of the payload shows them.
    QList<std::pair<const char *, QByteArray>> fields{{"kind", QByteArray("\"") + kindName(s.kind) + '"'}};
    const auto add = [&fields](const char *name, double value, int decimals) {
        fields.append({name, QByteArray::number(rounded(value, decimals), 'f', decimals)});
    };
    switch (s.kind) {
    case Climate:
        s.a = drift(s.a, 21.5, 2.5, s.phase, 0.2);
        s.b = drift(s.b, 48.0, 8.0, s.phase + 2.0, 0.6);
        add("temperature", s.a, 2);
        add("humidity", s.b, 1);
        break;
    case Air:
        s.a = drift(s.a, 700.0, 250.0, s.phase, 20.0);
        s.b = drift(s.b, 22.5, 1.5, s.phase + 1.0, 0.1);
        add("co2", s.a, 0);
        add("temperature", s.b, 2);
        break;
    case Power:
        s.a = drift(s.a, 230.0, 3.0, s.phase, 0.8);
        s.b = drift(s.b, 2.5, 1.5, s.phase + 0.5, 0.2);
        add("voltage", s.a, 1);
        add("current", std::max(0.0, s.b), 2);
        break;
    case Soil:
    default:
        s.a = drift(s.a, 32.0, 6.0, s.phase, 0.5);
        s.b = drift(s.b, 14.0, 3.0, s.phase + 1.5, 0.1);
        add("moisture", s.a, 1);
        add("temperature", s.b, 2);
        break;
    }
    s.battery = std::max(3.3, s.battery - 0.0002);
    add("battery", s.battery, 3);
    fields.append({"n", QByteArray::number(s.n++)});
    fields.append({"t", QByteArray::number(nowMs)});
    QByteArray json = "{";
    for (const auto &[name, value] : std::as_const(fields)) {
        if (json.size() > 1)
            json += ',';
        json += '"' + QByteArray(name) + "\":" + value;
    }
    return json + '}';
}

void SensorFleet::tick()
{
    if (m_options.rounds > 0 && m_round >= m_options.rounds) {
        m_timer.stop();
        return;
    }
    // A counted round waits for the broker (the first connection, or a reconnect): --rounds N publishes N
    // rounds whatever the interval. Without --rounds the sensors go on measuring, and what finds the broker
    // away is skipped, as a real sensor's reading would be.
    if (m_options.rounds > 0 && m_client.state() != MqttClient::State::Connected)
        return;
    ++m_round;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (int i = 0; i < m_sensors.size(); ++i) {
        const QByteArray payload = reading(i, now);
        if (m_client.state() != MqttClient::State::Connected) {
            ++m_skipped;
            continue;
        }
        QString topic = m_options.topic;
        topic.replace(QStringLiteral("{deviceId}"), m_sensors.at(i).id);
        if (m_client.publish(topic, payload, 1)) {
            ++m_published;
            ++m_unacknowledged;
            Q_EMIT publishedReading(topic, payload);
        } else {
            ++m_skipped;
        }
    }
    if (m_options.rounds > 0 && m_round >= m_options.rounds && m_unacknowledged == 0)
        Q_EMIT finished();
}

} // namespace Onboarder::Sandbox
