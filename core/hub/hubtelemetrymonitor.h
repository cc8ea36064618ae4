#pragma once

#include "common/result.h"
#include "hub/connectionstring.h"
#include "hub/hubprofile.h"
#include "mqtt/mqttmessage.h"

#include <QHash>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QSet>
#include <QString>
#include <QTimer>

#include <memory>

namespace Onboarder {

class MqttClient;

// What a hub received from its devices (device-to-cloud telemetry), per device, while the monitor listens.
struct HubTelemetry
{
    struct Message
    {
        QByteArray payload; // the first maxPayloadBytes of it
        bool truncated = false; // the payload was longer
        MqttUserProperties properties; // the application's properties and the hub's (iothub-…)
        qint64 receivedMs = 0; // when the monitor got it (ms since the epoch)
    };

    struct Device
    {
        QString id;
        qint64 received = 0; // since the monitor started
        Message last;
    };

    qint64 timeMs = 0;
    qint64 total = 0; // messages received since the monitor started, all devices
    QList<Device> devices; // the devices that received messages since the last update

    static constexpr qsizetype maxPayloadBytes = 16 * 1024;
};

// Reads the device-to-cloud telemetry a hub received, for showing it beside what was sent (the Relay page).
//
// The sandbox hub offers its "Event Hubs endpoint" as MQTT 5 on its device port: a client named
// "{hostName}/$sandbox/consumer" with a SAS token of a policy with ServiceConnect (iothubowner) as password
// subscribes to $sandbox/telemetry/# and gets every message as $sandbox/telemetry/{deviceId}, its
// properties as user properties. An Azure IoT Hub's telemetry is read only through its Event Hub-compatible
// endpoint (AMQP), which this app does not speak: start() then fails at once with "HubTelemetryUnsupported".
//
// The monitor counts what arrives while it listens (a clean session: nothing is kept for it while it is
// away). It reconnects with backoff when the connection fails or drops for a network reason; a refused key
// or a certificate that fails verification ends it (state Failed, errorOccurred()). TLS is always verified,
// with the hub profile's CA. The SAS token is made from the service connection string for each connection
// and never logged.
//
// Use it from the thread it lives on. Per-message work is a hash update; updated() comes at most every
// updateIntervalMs with the devices that changed, so a view stays responsive at thousands of messages per
// second. The monitor may live on a worker thread (the Relay page does that) and be used through queued
// calls.
class HubTelemetryMonitor final : public QObject
{
    Q_OBJECT

public:
    enum class State {
        Stopped,
        Connecting, // the first connection, or a reconnect after a failure or drop
        Listening, // subscribed: counting what the hub receives
        Unsupported, // not a sandbox hub: there is nothing this app can read
        Failed, // refused (key, certificate); see lastError()
    };
    Q_ENUM(State)

    explicit HubTelemetryMonitor(QObject *parent = nullptr);
    ~HubTelemetryMonitor() override;

    // Whether this app can read what the hub receives: only a sandbox hub (a hub profile whose device
    // endpoint has a port or CA of its own, not *.azure-devices.net). The error is the explanation.
    static Result<void> checkSupported(const HubProfile &profile);

    // Starts listening to the hub. service: the hub's connection string (a shared access policy with
    // ServiceConnect). Any previous monitoring is stopped and its counts are cleared. The outcome is
    // stateChanged(): Listening, or Unsupported/Failed with errorOccurred().
    void start(const HubProfile &profile, const ConnectionString &service);
    void stop();

    State state() const { return m_state; }
    Error lastError() const { return m_lastError; }
    qint64 total() const { return m_total; }
    QHash<QString, HubTelemetry::Device> devices() const { return m_devices; }

    // Only this device's messages (empty: every device's); takes effect with the next start().
    void setDevice(const QString &deviceId) { m_device = deviceId; }

    int updateIntervalMs() const { return m_updateTimer.interval(); }
    void setUpdateIntervalMs(int ms) { m_updateTimer.setInterval(ms); }
    // The bounds of the reconnect backoff (doubling from min to max).
    void setReconnectInterval(int minSeconds, int maxSeconds);

    // A sentence for a person: what the monitor does now (translated).
    static QString stateText(State state);

Q_SIGNALS:
    void stateChanged(Onboarder::HubTelemetryMonitor::State state);
    // At most every updateIntervalMs, while messages arrive.
    void updated(const Onboarder::HubTelemetry &update);
    // Every message as it arrives (payload cut at maxPayloadBytes), for a view of one device's stream.
    void messageReceived(const QString &deviceId, const Onboarder::HubTelemetry::Message &message);
    // A failure: refused, TLS, dropped (then it reconnects: the state stays Connecting), unsupported hub.
    void errorOccurred(const Onboarder::Error &error);

private:
    void connectClient();
    void onConnected();
    void onMessage(const MqttMessage &message);
    void onClientError(const Error &error);
    void scheduleRetry();
    void setState(State state);
    void flush();
    QString subscription() const;
    QByteArray freshToken() const;

    std::unique_ptr<MqttClient> m_client;
    HubProfile m_profile;
    QString m_device;
    ConnectionString m_service;
    State m_state = State::Stopped;
    Error m_lastError;
    QHash<QString, HubTelemetry::Device> m_devices;
    QSet<QString> m_changed;
    qint64 m_total = 0;
    QTimer m_updateTimer;
    QTimer m_retryTimer;
    int m_retryMinSeconds = 1;
    int m_retryMaxSeconds = 30;
    int m_retrySeconds = 0;
};

} // namespace Onboarder

Q_DECLARE_METATYPE(Onboarder::HubTelemetry)
Q_DECLARE_METATYPE(Onboarder::HubTelemetry::Message)
