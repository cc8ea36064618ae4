#pragma once

#include <QObject>

#include <memory>

namespace Onboarder {
class MqttClient;
struct MqttMessage;
} // namespace Onboarder

namespace Onboarder::Sandbox {

class EventLog;

// Carries every device-to-cloud message from the broker (where the plugin marks it with the device id, the
// property bag and the hub's system properties, on $sandbox/telemetry/{id}) into the Event Hub-compatible
// endpoint's log. A persistent QoS 1 session: what arrives while the sandbox is busy waits in the broker.
// Threads: the sandbox's main thread.
class TelemetryIngest final : public QObject
{
    Q_OBJECT

public:
    explicit TelemetryIngest(EventLog &log, QObject *parent = nullptr);
    ~TelemetryIngest() override;

    // Connects to the broker (loopback) with the internal secret; true once subscribed.
    bool start(quint16 port, const QByteArray &secret);

private:
    void onMessage(const MqttMessage &message);

    EventLog &m_log;
    std::unique_ptr<MqttClient> m_client;
};

} // namespace Onboarder::Sandbox
