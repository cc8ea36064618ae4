#pragma once

#include "amqp/amqpmessage.h"
#include "common/result.h"
#include "common/secretbytes.h"
#include "hub/hubprofile.h"

#include <QHash>
#include <QNetworkProxy>
#include <QObject>
#include <QPointer>
#include <QSslConfiguration>
#include <QSslError>
#include <QTimer>

#include <functional>
#include <optional>

struct pn_event_t;
struct pn_link_t;
struct pn_delivery_t;
struct pn_session_t;

namespace Onboarder {

class AmqpConnection;

// A client's AMQP 1.0 connection to an IoT Hub or Event Hubs endpoint: TLS verified with the system's CAs
// (and the hub's own CA file, for a sandbox), SASL ANONYMOUS or PLAIN, one session, and the request/response
// nodes ($cbs for claims-based security, $management) with their replies matched by correlation id.
//
// Links are Proton links; the owner reacts to them through the signals, which pass Proton's objects (valid
// until the connection ends). Nothing blocks.
//
// Threads: one thread, the one it was created in (its timeout timer is a member, not a child: it cannot be moved),
// where its socket and connection live and its signals are emitted, for direct connections only (they pass Proton's
// objects). EventHubReader makes it on worker threads too (the Relay page's monitor, the telemetry view).
class AmqpClient final : public QObject
{
    Q_OBJECT

public:
    struct Endpoint
    {
        QString host;
        quint16 port = 5671;
        QString caFile; // extra CA to trust (the sandbox's); empty: the system's
        QString plainUser; // SASL PLAIN user; empty: ANONYMOUS
        SecretBytes plainPassword; // a SAS token; handed to Proton and cleared when the connection starts
        std::optional<QNetworkProxy> proxy; // an HTTP proxy tunnelled through with CONNECT
        // AMQP over WebSockets (sub-protocol AMQPWSB10) at wss://host:port/PATH when set: IoT Hub's
        // "/$iothub/websocket", Event Hubs' "/$servicebus/websocket" (Azure: port 443).
        QString webSocketPath;
    };
    static constexpr const char *webSocketSubprotocol = "AMQPWSB10";
    static constexpr const char *iotHubWebSocketPath = "/$iothub/websocket";
    static constexpr const char *eventHubsWebSocketPath = "/$servicebus/websocket";

    // Where to connect for host (the hub's, or its Event Hub-compatible endpoint's) as the hub profile's
    // connection settings say: AMQPS on amqpPort, or, with the profile's webSockets on, WebSockets at
    // webSocketPath on the hub's REST port (Azure: 443; a host other than the hub's: 443); through the
    // profile's proxy if it has one. The hub's own CA is trusted for the hub's own host only.
    static Endpoint forHub(const HubProfile &hub, const QString &host, quint16 amqpPort, const char *webSocketPath);

    explicit AmqpClient(QObject *parent = nullptr);
    ~AmqpClient() override;

    void open(Endpoint endpoint); // taken: it holds the password
    void close();
    bool isOpen() const { return m_open; }
    QString peerName() const;

    // $cbs put-token: a SAS token for an audience. done(error) when the hub answered (or the connection ended).
    void putToken(const QString &audience, const QString &token, std::function<void(Result<void>)> done);
    // A request to a node ($management): done with the response (status-code in its application properties).
    void request(const QString &node, AmqpMessage request, std::function<void(Result<AmqpMessage>)> done);

    pn_link_t *openSender(const QString &target);
    // Writes what was done to Proton's objects outside the signals (a message sent on a link) soon.
    void schedule();
    // A receiver from source; selector: an Event Hubs selector filter (empty: none). Credit is the owner's.
    pn_link_t *openReceiver(const QString &source, const QString &selector = {});

Q_SIGNALS:
    void opened(); // the peer's open arrived
    void closed(const Onboarder::Error &error); // the connection ended; error.code empty when asked to
    void linkOpened(pn_link_t *link);
    // The peer detached a link (refused it, or closed it): condition and description from its error.
    void linkClosed(pn_link_t *link, const QString &condition, const QString &description, const QVariant &info);
    void messageReceived(pn_link_t *link, const Onboarder::AmqpMessage &message); // accepted already
    void deliveryUpdated(
        pn_delivery_t *delivery, quint64 outcome, const QString &condition, const QString &description);
    void creditAvailable(pn_link_t *link);

private:
    struct Node
    {
        pn_link_t *sender = nullptr;
        pn_link_t *receiver = nullptr;
        QString replyTo;
        QList<AmqpMessage> waiting; // until both links are open
    };

    void openWebSocket(const QSslConfiguration &configuration);
    void noteTlsErrors(const QList<QSslError> &errors);
    void transportFailed(const QString &why);
    void startAmqp(QIODevice *device);
    void handle(pn_event_t *event);
    void finish(const Error &error);
    Node &node(const QString &address);
    void flushNode(Node &node);

    AmqpConnection *m_connection = nullptr;
    pn_session_t *m_session = nullptr;
    Endpoint m_endpoint;
    bool m_open = false;
    bool m_closing = false;
    QHash<QString, Node> m_nodes;
    QHash<QString, std::function<void(Result<AmqpMessage>)>> m_pending; // by message id
    QTimer m_timeout; // requests that the peer never answers
    QHash<QString, qint64> m_deadlines;
    QString m_tlsError;
};

} // namespace Onboarder

// Proton's objects travel through the signals as opaque pointers (direct connections only).
Q_DECLARE_OPAQUE_POINTER(pn_link_t *)
Q_DECLARE_OPAQUE_POINTER(pn_delivery_t *)
