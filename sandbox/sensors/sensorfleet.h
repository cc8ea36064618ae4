#pragma once

#include "mqtt/mqttclient.h"

#include <QCoreApplication>
#include <QList>
#include <QObject>
#include <QTimer>

namespace Onboarder::Sandbox {

// A handful of simulated sensors behind one gateway connection to a local broker: every interval each
// sensor publishes one JSON reading (QoS 1) to its topic ("sensors/{deviceId}/telemetry" by default).
// Kinds take turns: climate (temperature, humidity), air (CO2, temperature), power (voltage, current),
// soil (moisture, temperature); every reading also has "n" (the sensor's sequence number), "t" (ms since
// the epoch) and "battery". Values drift slowly, as real ones do. While the broker is away, readings are
// skipped (counted), not queued: a sensor's reading is of its moment.
// Threads: the simulator's main thread (where its MqttClient's socket lives).
class SensorFleet final : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        QString host = QStringLiteral("127.0.0.1");
        int port = 1883;
        int sensors = 4;
        int intervalMs = 1000;
        QString prefix = QStringLiteral("demo-sensor-");
        QString topic = QStringLiteral("sensors/{deviceId}/telemetry");
        qint64 rounds = 0; // 0: until stopped
    };

    explicit SensorFleet(const Options &options, QObject *parent = nullptr);

    void start();
    QStringList deviceIds() const;
    qint64 published() const { return m_published; }
    qint64 skipped() const { return m_skipped; }

    // One reading of sensor `index` (0-based), as JSON; advances that sensor's state.
    QByteArray reading(int index, qint64 nowMs);

Q_SIGNALS:
    void publishedReading(const QString &topic, const QByteArray &payload);
    void finished(); // after `rounds` rounds, once the broker acknowledged them

private:
    struct Sensor
    {
        QString id;
        int kind = 0;
        qint64 n = 0;
        double a = 0; // the kind's first value
        double b = 0; // its second
        double battery = 4.1;
        double phase = 0;
    };

    void tick();

    Options m_options;
    MqttClient m_client;
    QTimer m_timer;
    QList<Sensor> m_sensors;
    qint64 m_round = 0;
    qint64 m_published = 0;
    qint64 m_skipped = 0;
    qint64 m_unacknowledged = 0;
};

} // namespace Onboarder::Sandbox
