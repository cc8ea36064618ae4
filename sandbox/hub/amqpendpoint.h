#pragma once

#include "common/result.h"

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QSet>
#include <QSslConfiguration>
#include <QSslServer>
#include <QStringList>
#include <QTimer>

#include <memory>
#include <unordered_map>

struct pn_event_t;
struct pn_link_t;
struct pn_delivery_t;

namespace Onboarder {
class AmqpConnection;
struct AmqpMessage;
} // namespace Onboarder

namespace Onboarder::Sandbox {

class CloudToDevice;
class EventLog;
class Registry;

// The sandbox hub's AMQP 1.0 face (what IoT Hub serves on 5671), over the project's Proton driver and the
// sandbox's own TLS:
//   - SASL ANONYMOUS followed by claims-based security ($cbs put-token with a policy's SAS token), or SASL
//     PLAIN with "{policy}@sas.root.{hub}" and a SAS token as the password;
//   - cloud-to-device: a sender to /messages/devicebound (each message's "to" names the device);
//   - feedback: a receiver on /messages/servicebound/feedback gets batched JSON records;
//   - the Event Hub-compatible endpoint: receivers on {entity}/ConsumerGroups/{group}/Partitions/{n} with the
//     Event Hubs selector filters, and $management READ of the event hub and its partitions;
//   - a receiver on messages/events (the hub's own telemetry address) is redirected (amqp:link:redirect) to
//     the Event Hub-compatible entity, as IoT Hub redirects az iot and IoT Explorer.
// Every link needs a token whose audience covers it, from a policy with ServiceConnect; a token that expires
// without being put again closes the links it covered.
// Threads: the sandbox's main thread.
class AmqpEndpoint final : public QObject
{
    Q_OBJECT

public:
    AmqpEndpoint(Registry &registry, EventLog &events, CloudToDevice &cloudToDevice, const QSslConfiguration &tls,
        const QString &hostName, const QString &eventHubName, QObject *parent = nullptr);
    ~AmqpEndpoint() override;

    Result<quint16> listen(quint16 port);
    quint16 port() const { return m_port; }
    QString eventHubName() const { return m_eventHubName; }

    // Serves AMQP on a stream that is already open and secured (e.g. a WebSocket on the REST port).
    void adopt(QIODevice *stream);
    // Connections being served (those whose transport has not ended).
    int peerCount() const { return int(m_peers.size()); }

private:
    struct Peer;
    struct Token
    {
        QString audience; // normalised: host/path, lower case, no scheme, port or trailing '/'
        QStringList rights;
        QDateTime expiry;
    };
    enum class LinkKind {
        CbsRequests,
        CbsReplies,
        ManagementRequests,
        ManagementReplies,
        CloudToDevice,
        Feedback,
        Events
    };
    struct Link
    {
        LinkKind kind = LinkKind::ManagementReplies;
        QString resource; // what the link's token must cover (normalised)
        int partition = -1;
        qint64 next = 0; // Events: the next sequence number to send
        QHash<pn_delivery_t *, QList<QJsonObject>> feedbackInFlight;
    };

    void accept();
    void handle(Peer &peer, pn_event_t *event);
    void linkOpened(Peer &peer, pn_link_t *link);
    void linkClosed(Peer &peer, pn_link_t *link);
    void delivery(Peer &peer, pn_delivery_t *delivery);
    void refuseLink(pn_link_t *link, const char *condition, const QString &description);
    void redirect(Peer &peer, pn_link_t *link, const QString &path);

    void putToken(Peer &peer, const AmqpMessage &request);
    void management(Peer &peer, const AmqpMessage &request);
    void cloudToDevice(Peer &peer, pn_delivery_t *delivery, const AmqpMessage &message);
    void reply(Peer &peer, LinkKind kind, const AmqpMessage &request, int status, const QString &description,
        const QVariant &body = {});

    std::optional<Token> checkToken(const QString &token, QString *why) const;
    bool authorised(const Peer &peer, const QString &resource, QString *why) const;
    QString resourceFor(const QString &path) const;

    void pumpEvents(Peer &peer, pn_link_t *link, Link &state);
    void pumpFeedback(Peer &peer, pn_link_t *link, Link &state);
    void pumpAll();
    void sweepTokens();

    Registry &m_registry;
    EventLog &m_events;
    CloudToDevice &m_cloudToDevice;
    QSslServer m_server;
    QString m_hostName;
    QString m_eventHubName;
    quint16 m_port = 0;
    std::unordered_map<AmqpConnection *, std::unique_ptr<Peer>> m_peers;
    bool m_pumpScheduled = false;
    QTimer *m_sweep = nullptr;
};

} // namespace Onboarder::Sandbox
