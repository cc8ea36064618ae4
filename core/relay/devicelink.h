#pragma once

#include "common/result.h"
#include "common/secretbytes.h"
#include "hub/hubprofile.h"
#include "relay/relaymessage.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>
#include <QUrl>

#include <memory>

namespace Onboarder {

class MqttClient;
class RelayCredentials;

// One device's session with the hub (MQTT 3.1.1 over TLS as that device): credentials from
// RelayCredentials, QoS 1 publishes to devices/{id}/messages/events/{properties}, a window of messages
// in flight, on an MqttClient (a socket of its own on the relay's event loop; a thousand of them cost
// what their traffic costs). The SAS token is renewed before it expires (the session is reopened once the
// messages in flight are acknowledged); lost connections are retried with backoff by MqttClient,
// refusals and unknown devices here (2 s doubling to 5 min: the key may have changed, the device may be
// created). A device's X.509 key stays in memory (never in a file).
//
// Threads: one thread, the one it was created in (its timers and session are members, not children: it cannot be
// moved): the Relay's, which makes it and takes its signals directly (under RelayThread, a worker thread). Its
// secret comes from RelayCredentials as a future, continued on this thread.
class DeviceLink final : public QObject
{
    Q_OBJECT

public:
    enum class State { Resolving, Connecting, Connected, Waiting };
    Q_ENUM(State)

    static constexpr int window = 64; // QoS 1 messages in flight per device
    // A connection the hub closes within this time of sending a message may be the hub refusing that message.
    static constexpr qint64 refusalWindowMs = 10000;

    // Messages in flight that a lost connection took away (they are sent again).
    struct Interruption
    {
        qint64 oldestMessageId = 0; // the first of them the relay gave send()
        int inFlight = 0;
        // The hub closed a session that was up, soon after the oldest was sent (not a keep-alive that ran out): what
        // IoT Hub does with a message it refuses, and also what a hub that goes away looks like.
        bool closedWhileSending = false;
    };

    // How a session reaches the hub.
    struct Options
    {
        int tokenLifetimeSeconds = 3600;
        bool webSockets = false; // wss://HOST:443/$iothub/websocket (the profile's MQTT port when it has one)
        QUrl proxy; // http://HOST:PORT, or empty
        int keepAliveSeconds = 120; // IoT Hub allows up to 1,177 s; an idle session pings half as often
    };

    DeviceLink(const QString &deviceId, const HubProfile &profile, const Options &options,
        RelayCredentials &credentials, QObject *parent = nullptr);
    ~DeviceLink() override;

    QString deviceId() const { return m_deviceId; }
    State state() const { return m_state; }
    QString lastError() const { return m_lastError; }
    int inFlight() const { return int(m_inFlight.size()); }
    bool canSend() const
    {
        return m_state == State::Connected && !m_renewing && m_inFlight.size() < (m_probing ? 1 : window);
    }
    // One message in flight at a time (the relay is finding out whether the hub refuses one of them), or the window.
    void setProbing(bool probing);
    bool isProbing() const { return m_probing; }
    qint64 idleMs() const { return m_lastActivity.elapsed(); }

    void start();
    Result<void> send(const RelayMessage &message);
    void close(); // DISCONNECT; messages in flight are forgotten (they stay in the outbox)
    // Closes the session and waits (backoff, as after a refusal) before connecting again; why is the link's lastError.
    void holdOff(const Error &why);

Q_SIGNALS:
    void delivered(const QString &deviceId, qint64 messageId, qint64 receivedMs);
    void readyToSend(const QString &deviceId); // connected, or room in the window again
    // The messages in flight were not acknowledged.
    void interrupted(const QString &deviceId, const Onboarder::DeviceLink::Interruption &interruption);
    void stateChanged(const QString &deviceId, Onboarder::DeviceLink::State state);

private:
    void setState(State state);
    void resolve();
    void connectWith(const SecretBytes &sasKey, const QByteArray &certificatePem, const SecretBytes &privateKeyPem);
    void retryLater(const Error &error);
    void renew();

    QString m_deviceId;
    HubProfile m_profile;
    Options m_options;
    RelayCredentials &m_credentials;
    std::unique_ptr<MqttClient> m_client;
    State m_state = State::Resolving;
    QString m_lastError;
    struct InFlight
    {
        qint64 messageId = 0;
        qint64 receivedMs = 0;
        qint64 sentMs = 0; // m_clock
    };
    QHash<int, InFlight> m_inFlight; // by publish token
    QTimer m_retryTimer;
    QTimer m_renewTimer;
    int m_backoffSeconds = 2;
    bool m_renewing = false;
    bool m_probing = false;
    QString m_lastDropCode; // the error that came with the last lost connection
    QElapsedTimer m_lastActivity;
    QElapsedTimer m_clock;
};

} // namespace Onboarder
