#pragma once

#include "common/result.h"
#include "common/secretbytes.h"
#include "hub/connectionstring.h"
#include "hub/hubprofile.h"
#include "mqtt/mqttmessage.h"
#include "relay/devicelink.h"
#include "relay/messagemapper.h"
#include "relay/relayconfig.h"
#include "relay/relaymessage.h"
#include "relay/relaymetrics.h"

#include <QElapsedTimer>
#include <QFuture>
#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <map>
#include <memory>

namespace Onboarder {

class CredentialStore;
class MqttClient;
class Outbox;
class RelayCredentials;
class SecretStore;

// The relay: a persistent QoS 1 subscription on the local broker (stable client id, clean session off)
// → one hub session per active device (DeviceLink), through a durable outbox.
//
// Delivery: a message taken from the local broker is acknowledged to it only once it is safe: after the
// hub's PUBACK, or after the outbox transaction that stored it has committed (batched: one SQLite
// transaction every few milliseconds), whichever comes first. A message whose device session is open
// and has everything earlier of that device in flight goes to the hub at once, while it also waits for
// the outbox (it is written only if the hub has not acknowledged it within earlyGraceMs); when the hub
// acknowledges it first, it is acknowledged to the local broker and never written (the common case:
// the hub's round trip is shorter than that). Every other message is stored first and sent from the outbox; it leaves
// the outbox only after the hub's PUBACK. So a message is never acknowledged before it is safe, whatever dies when
// (relay, local broker, hub, machine): at least once, with duplicates possible after a crash or a lost
// connection, never a loss. Acknowledgements to the local broker keep the order the messages came in
// (MQTT asks for it). Each device's messages go out in the order they came (one session per device, a
// window of QoS 1 publishes, resent from the outbox in order after an interruption). An idle device's
// session is closed after idleTimeoutSeconds.
//
// The outbox limit: when it is full, messages are held unacknowledged (the broker stops sending after
// its in-flight limit and keeps the rest) until the hub takes some; metrics say "outboxFull" and "held".
// Dead letters: a message the hub can never take (no valid device id, or larger than IoT Hub's 256 KB) is not
// sent, where it would stop its device's queue; it is stored in the outbox's dead-letter table with the reason,
// then acknowledged, counted ("deadLettered") and logged without its payload. `relay dead-letters` shows them.
// A message the hub refuses after it was sent: IoT Hub refuses by closing the connection, which looks like a hub
// that went away. After such a close the device's messages go one at a time; a message that closes the connection
// refusalStrikes times in a row, each time on a session that had come back, is held aside while the device's next
// message goes: when the hub takes that one, the refused one becomes a dead letter (RefusedByHub) and the device
// goes on at full speed. When the hub closes on the next one too, it refuses the device, not a message: nothing is
// set aside, the device's session waits and backs off (its lastError says why), and its messages stay in the
// outbox.
//
// Threads: one thread, the one it was created in (its timers, clients and outbox are members, not
// children: it cannot be moved). The GUI and the CLI create it on a worker thread with an epoll event loop
// through RelayThread and receive its signals queued.
class Relay final : public QObject
{
    Q_OBJECT

public:
    Relay(const RelayConfig &config, const HubProfile &profile, const ConnectionString &service, CredentialStore *store,
        QObject *parent = nullptr);
    ~Relay() override;

    // The local broker's password from "source.passwordFile" or "source.passwordKeychain" (empty: none).
    // A password file that others may read is used, with a warning in the log.
    static QFuture<Result<SecretBytes>> sourcePassword(const RelayConfig &config, SecretStore &secrets);
    // The keychain entry of "source.passwordKeychain": NAME is kept under relay/source/NAME, so that a
    // configuration can never make the relay send another secret (a hub's key) to a local broker.
    static QString sourcePasswordEntry(const QString &name);

    // Opens the outbox, starts sending what it holds, connects to the local broker.
    Result<void> start(const SecretBytes &sourcePassword);
    // Stores and acknowledges what was taken, disconnects from the local broker (it keeps the session),
    // waits up to drainMs for the hub's acknowledgements of what is in flight, closes everything; then
    // stopped().
    void stop(int drainMs = 5000);
    bool isRunning() const { return m_running; }

    RelayMetrics metrics() const;

Q_SIGNALS:
    void metricsUpdated(const Onboarder::RelayMetrics &metrics);
    void errorOccurred(const Onboarder::Error &error); // the local broker refused us, the outbox fails, …
    void stopped();

private:
    struct Taken
    {
        MqttMessage source;
        RelayMessage message;
        qint64 seq = 0; // order of arrival; an early send's message id is -seq
        qint64 takenMs = 0; // m_clock
        bool sentEarly = false; // in flight on its device's current session, not stored yet
        bool delivered = false; // the hub acknowledged it before it was stored
    };
    struct StoredEarly
    {
        QString deviceId;
        qint64 outboxId = 0;
    };

    void onMessage(const MqttMessage &message);
    void setAside(const MqttMessage &message, const QString &deviceId, qint64 receivedMs, const Error &why);
    void flushWrites();
    void acknowledgeDeliveredHead();
    void pump(const QString &deviceId);
    void onDelivered(const QString &deviceId, qint64 messageId, qint64 receivedMs);
    void onInterrupted(const QString &deviceId, const DeviceLink::Interruption &interruption);
    void endProbe(const QString &deviceId, qint64 deliveredId);
    void flushRemovals();
    void housekeeping();
    void publishMetrics();
    void finishStop();
    DeviceLink &link(const QString &deviceId);
    RelayMetrics::Device &deviceStats(const QString &deviceId);

    RelayConfig m_config;
    HubProfile m_profile;
    MessageMapper m_mapper;
    std::unique_ptr<RelayCredentials> m_credentials;
    std::unique_ptr<MqttClient> m_source;
    std::unique_ptr<Outbox> m_outbox;
    std::map<QString, std::unique_ptr<DeviceLink>> m_links;

    QList<Taken> m_taken; // not yet in the outbox (also the held ones), in order of arrival
    qint64 m_nextSeq = 1;
    QElapsedTimer m_clock;
    QHash<qint64, StoredEarly> m_storedEarly; // seq of a message sent early and stored while in flight
    QHash<QString, qint64> m_waiting; // per device: messages taken and not yet delivered (outbox or m_taken)
    QHash<QString, qint64> m_cursor; // per device: the last outbox id sent in this session
    // A device whose session the hub closed with messages in flight: is one of them refused (see the class comment)?
    struct Probe
    {
        qint64 suspect = 0; // the message in flight at the last closes
        int strikes = 0; // closes in a row with the suspect alone in flight
        qint64 heldAside = 0; // struck out: skipped while the next message shows whether the hub takes the device's
    };
    QHash<QString, Probe> m_probes;
    QList<qint64> m_removals; // delivered, to be removed from the outbox
    QTimer m_writeTimer;
    QTimer m_removeTimer;
    QTimer m_retryTimer; // the outbox failed: try again
    QTimer m_housekeeping;
    QTimer m_metricsTimer;
    QTimer m_stopTimer;
    QElapsedTimer m_stopClock;
    int m_drainMs = 0;
    bool m_running = false;
    bool m_stopping = false;
    bool m_outboxFull = false;
    QString m_outboxError; // the outbox failed to store (a full disk, an I/O error): retried every second
    qsizetype m_subscriptions = 0; // granted on the current connection to the local broker

    // Metrics
    qint64 m_in = 0;
    qint64 m_stored = 0;
    qint64 m_out = 0;
    qint64 m_unroutable = 0;
    qint64 m_deadLettered = 0;
    qint64 m_deadLetters = 0; // in the table: counted at start and in housekeeping, plus those set aside
    qint64 m_retainedSkipped = 0;
    qint64 m_lastIn = 0;
    qint64 m_lastOut = 0;
    QElapsedTimer m_interval;
    QList<qint64> m_latencies; // ms, this interval
    QHash<QString, RelayMetrics::Device> m_devices;
    QSet<QString> m_changed;
    RelayMetrics m_lastMetrics;
};

} // namespace Onboarder
