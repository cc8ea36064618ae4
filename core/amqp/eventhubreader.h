#pragma once

#include "common/result.h"
#include "hub/connectionstring.h"
#include "hub/hubprofile.h"

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QTimer>

#include <memory>
#include <utility>

struct pn_link_t;

namespace Onboarder {

class AmqpClient;
struct AmqpMessage;

// One device-to-cloud message as a hub's Event Hub-compatible endpoint hands it out.
struct TelemetryEvent
{
    QString deviceId; // iothub-connection-device-id
    int partition = -1;
    qint64 sequenceNumber = -1;
    QString offset;
    QDateTime enqueuedTime;
    QByteArray body;
    QString contentType;
    QString contentEncoding;
    QString messageId;
    QString correlationId;
    QList<std::pair<QString, QString>> properties; // the sender's application properties
    QList<std::pair<QString, QString>> systemProperties; // the hub's annotations (iothub-…, x-opt-…), as text

    // One line of `device telemetry --json` and of the Telemetry page's export: deviceId, time, partition,
    // sequenceNumber, properties, systemProperties, contentType and messageId when set, and the body as payload
    // (UTF-8 text) or payloadBase64.
    QJsonObject toJson() const;
};

// Where an Event Hub-compatible endpoint is: from a pasted connection string
// ("Endpoint=sb://HOST[:PORT]/;SharedAccessKeyName=…;SharedAccessKey=…;EntityPath=…"), or found through the
// hub's redirect.
struct EventHubEndpoint
{
    QString host;
    quint16 port = 5671;
    QString entity;
    QString keyName;
    QString key; // Event Hubs signs with the key's text
    static Result<EventHubEndpoint> parse(const QString &connectionString);
};

// Reads what a hub's devices send, from its Event Hub-compatible endpoint over AMQP, as Azure IoT Explorer and
// "az iot hub monitor-events" do: every partition of the entity, one consumer group, from now, from the oldest
// kept, or from a time. The endpoint comes from the Event Hub-compatible connection string when one is given,
// else from the hub itself: a receiver attached to its messages/events address is redirected
// (amqp:link:redirect) to the entity, and the hub's policy key signs the tokens there.
//
// Tokens (CBS) are put per partition and renewed before they expire; a dropped connection is opened again with
// backoff, and each partition resumes after the last message it delivered (none lost, none twice). A refused
// key, an unknown consumer group or a certificate that fails verification ends it (Failed, errorOccurred()).
// Device filtering is done here: Event Hubs has no filter by device.
// Threads: the thread it lives on, where its AMQP client is made (on each connection) and its signals are emitted;
// none of its methods may be called from another. The telemetry view's worker and the Relay page's
// HubTelemetryMonitor make it on worker threads.
class EventHubReader final : public QObject
{
    Q_OBJECT

public:
    enum class State { Stopped, Connecting, Listening, Failed };
    Q_ENUM(State)
    enum class Start { Now, Oldest, Time };

    struct Options
    {
        QString consumerGroup = QStringLiteral("$Default");
        Start start = Start::Now;
        QDateTime from; // with Start::Time
        QString deviceId; // only this device's messages; empty: all
    };

    explicit EventHubReader(QObject *parent = nullptr);
    ~EventHubReader() override;

    // hub: where the hub is (host, AMQP port, CA); service: a policy with ServiceConnect; eventHub: the Event
    // Hub-compatible connection string if the user gave one (then the redirect is skipped).
    void start(const HubProfile &hub, const ConnectionString &service, const QString &eventHub, const Options &options);
    void stop();

    State state() const { return m_state; }
    Error lastError() const { return m_lastError; }
    int partitionCount() const { return int(m_partitions.size()); }
    EventHubEndpoint endpoint() const { return m_endpoint; }

    void setReconnectInterval(int minSeconds, int maxSeconds);

Q_SIGNALS:
    void stateChanged(Onboarder::EventHubReader::State state);
    void eventReceived(const Onboarder::TelemetryEvent &event);
    void errorOccurred(const Onboarder::Error &error);

private:
    struct Partition
    {
        QString id;
        pn_link_t *link = nullptr;
        qint64 lastSequence = -1; // the last delivered: a reconnect resumes after it
    };

    void connectToHub();
    void connectToEventHub();
    void onClosed(const Error &error);
    void fail(const Error &error);
    void retry(const Error &error);
    void setState(State state);
    void readPartitions();
    void openPartition(Partition &partition);
    void renewTokens();
    QString audience(const QString &path) const;
    QString token(const QString &audience) const;
    QString selector(const Partition &partition) const;
    void onMessage(pn_link_t *link, const AmqpMessage &message);
    void onLinkClosed(pn_link_t *link, const QString &condition, const QString &description, const QVariant &info);

    std::unique_ptr<AmqpClient> m_client;
    HubProfile m_hub;
    ConnectionString m_service;
    QString m_eventHubConnectionString;
    Options m_options;
    EventHubEndpoint m_endpoint;
    bool m_redirecting = false;
    State m_state = State::Stopped;
    Error m_lastError;
    QList<Partition> m_partitions;
    qint64 m_startedMs = 0;
    QTimer m_retryTimer;
    QTimer m_renewTimer;
    int m_retrySeconds = 0;
    int m_retryMinSeconds = 1;
    int m_retryMaxSeconds = 30;
};

} // namespace Onboarder

Q_DECLARE_METATYPE(Onboarder::TelemetryEvent)
