#pragma once

#include "amqp/eventhubreader.h"
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

// Reads the device-to-cloud telemetry a hub received, for showing it beside what was sent (the Relay page) and
// for "what is this device sending now" (device telemetry). It reads the hub's Event Hub-compatible endpoint over
// AMQP (EventHubReader): found through the hub's redirect, as on Azure, or from the Event Hub-compatible
// connection string when the user gave one. It counts what arrives from the moment it starts.
//
// It reconnects with backoff when the connection fails or drops for a network reason, resuming each partition
// after the last message it counted; a refused key, an unknown consumer group or a certificate that fails
// verification ends it (state Failed, errorOccurred()). TLS is always verified, with the hub profile's CA.
// Tokens are made from the service connection string and never logged.
//
// Per-message work is a hash update; updated() comes at most every updateIntervalMs with the devices that changed,
// so a view stays responsive at thousands of messages per second.
//
// Threads: use it from the thread it lives on, where its reader is made (start()) and its signals are emitted. It
// may be moved before start() or after stop() (its update timer is a child): the Relay page moves it to a worker
// thread, calls start() and stop() through queued calls, receives its signals queued and deletes it on that thread.
class HubTelemetryMonitor final : public QObject
{
    Q_OBJECT

public:
    enum class State {
        Stopped,
        Connecting, // the first connection, or a reconnect after a failure or drop
        Listening, // every partition open: counting what the hub receives
        Failed, // refused (key, certificate, consumer group); see lastError()
    };
    Q_ENUM(State)

    explicit HubTelemetryMonitor(QObject *parent = nullptr);
    ~HubTelemetryMonitor() override;

    // Starts listening to the hub. service: the hub's connection string (a shared access policy with
    // ServiceConnect); eventHub: its Event Hub-compatible connection string if the user gave one (else the hub's
    // redirect is followed). Any previous monitoring is stopped and its counts are cleared. The outcome is
    // stateChanged(): Listening, or Failed with errorOccurred().
    void start(const HubProfile &profile, const ConnectionString &service, const QString &eventHub = {});
    void stop();

    State state() const { return m_state; }
    Error lastError() const { return m_lastError; }
    qint64 total() const { return m_total; }
    QHash<QString, HubTelemetry::Device> devices() const { return m_devices; }

    // Only this device's messages (empty: every device's); takes effect with the next start().
    void setDevice(const QString &deviceId) { m_options.deviceId = deviceId; }
    // Consumer group and where to start (default $Default, now); take effect with the next start().
    void setReaderOptions(const EventHubReader::Options &options);

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
    // Every message whole, with its partition, sequence number and times (a telemetry view, an export).
    void eventReceived(const Onboarder::TelemetryEvent &event);
    // A failure: refused, TLS, dropped (then it reconnects: the state stays Connecting).
    void errorOccurred(const Onboarder::Error &error);

private:
    void onEvent(const TelemetryEvent &event);
    void onReaderState(EventHubReader::State state);
    void setState(State state);
    void flush();

    std::unique_ptr<EventHubReader> m_reader;
    HubProfile m_profile;
    EventHubReader::Options m_options;
    State m_state = State::Stopped;
    Error m_lastError;
    QHash<QString, HubTelemetry::Device> m_devices;
    QSet<QString> m_changed;
    qint64 m_total = 0;
    QTimer m_updateTimer;
    int m_retryMinSeconds = 1;
    int m_retryMaxSeconds = 30;
};

} // namespace Onboarder

Q_DECLARE_METATYPE(Onboarder::HubTelemetry)
Q_DECLARE_METATYPE(Onboarder::HubTelemetry::Message)
