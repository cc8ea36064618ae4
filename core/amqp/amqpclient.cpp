#include "amqp/amqpclient.h"

#include "amqp/amqpconnection.h"
#include "amqp/websocketstream.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QUuid>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>

#include <proton/codec.h>
#include <proton/condition.h>
#include <proton/connection.h>
#include <proton/delivery.h>
#include <proton/disposition.h>
#include <proton/event.h>
#include <proton/link.h>
#include <proton/session.h>
#include <proton/terminus.h>
#include <proton/transport.h>

namespace Onboarder {

namespace {

constexpr int requestTimeoutMs = 60000;
constexpr int replyCredit = 50;

QString conditionName(pn_condition_t *condition)
{
    const char *name = condition && pn_condition_is_set(condition) ? pn_condition_get_name(condition) : nullptr;
    return name ? QString::fromUtf8(name) : QString();
}

QString conditionDescription(pn_condition_t *condition)
{
    const char *text = condition && pn_condition_is_set(condition) ? pn_condition_get_description(condition) : nullptr;
    return text ? QString::fromUtf8(text) : QString();
}

QString newId()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

} // namespace

AmqpClient::AmqpClient(QObject *parent)
    : QObject(parent)
{
    m_timeout.setInterval(1000);
    connect(&m_timeout, &QTimer::timeout, this, [this] {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        for (auto it = m_deadlines.begin(); it != m_deadlines.end();) {
            if (it.value() > now) {
                ++it;
                continue;
            }
            const QString id = it.key();
            it = m_deadlines.erase(it);
            if (auto done = m_pending.take(id))
                done(fail(ErrorKind::Network, QStringLiteral("AmqpRequestTimedOut"),
                    tr("%1 did not answer within %2 seconds.").arg(peerName()).arg(requestTimeoutMs / 1000)));
        }
    });
}

AmqpClient::~AmqpClient()
{
    if (m_connection) {
        m_connection->setHandler(nullptr);
        m_connection->disconnect(this);
    }
}

QString AmqpClient::peerName() const
{
    return QStringLiteral("%1:%2").arg(m_endpoint.host).arg(m_endpoint.port)
        + (m_endpoint.proxy
                ? tr(" (through the proxy %1:%2)").arg(m_endpoint.proxy->hostName()).arg(m_endpoint.proxy->port())
                : QString());
}

AmqpClient::Endpoint AmqpClient::forHub(
    const HubProfile &hub, const QString &host, quint16 amqpPort, const char *webSocketPath)
{
    Endpoint endpoint;
    endpoint.host = host;
    const bool hubsOwnHost = host.compare(hub.hostName, Qt::CaseInsensitive) == 0;
    endpoint.caFile = hubsOwnHost ? hub.caFile : QString();
    endpoint.proxy = hub.networkProxy();
    if (hub.webSockets) {
        endpoint.port = quint16(hubsOwnHost ? hub.effectiveRestPort() : HubProfile::defaultRestPort);
        endpoint.webSocketPath = QString::fromLatin1(webSocketPath);
    } else {
        endpoint.port = amqpPort;
    }
    return endpoint;
}

void AmqpClient::open(Endpoint endpoint)
{
    close();
    m_endpoint = std::move(endpoint); // endpoint is empty from here: read m_endpoint
    m_closing = false;
    m_tlsError.clear();
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
    if (!m_endpoint.caFile.isEmpty()) {
        const QList<QSslCertificate> extra = QSslCertificate::fromPath(m_endpoint.caFile, QSsl::Pem);
        if (extra.isEmpty()) {
            QMetaObject::invokeMethod(
                this,
                [this] {
                    finish(Error{ErrorKind::InvalidInput, QStringLiteral("CaFileUnreadable"),
                        tr("The CA file %1 holds no PEM certificate.").arg(m_endpoint.caFile)});
                },
                Qt::QueuedConnection);
            return;
        }
        configuration.setCaCertificates(configuration.caCertificates() + extra);
    }
    m_timeout.start();
    if (!m_endpoint.webSocketPath.isEmpty()) {
        openWebSocket(configuration);
        return;
    }
    auto *socket = new QSslSocket(this);
    socket->setSslConfiguration(configuration);
    socket->setProxy(m_endpoint.proxy ? *m_endpoint.proxy : QNetworkProxy(QNetworkProxy::NoProxy));
    connect(socket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) { noteTlsErrors(errors); });
    connect(socket, &QAbstractSocket::errorOccurred, this, [this, socket] { transportFailed(socket->errorString()); });
    connect(socket, &QSslSocket::encrypted, this, [this, socket] {
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        startAmqp(socket);
    });
    socket->connectToHostEncrypted(m_endpoint.host, m_endpoint.port);
}

void AmqpClient::openWebSocket(const QSslConfiguration &configuration)
{
    auto *webSocket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    webSocket->setSslConfiguration(configuration);
    webSocket->setProxy(m_endpoint.proxy ? *m_endpoint.proxy : QNetworkProxy(QNetworkProxy::NoProxy));
    connect(webSocket, &QWebSocket::sslErrors, this, [this](const QList<QSslError> &errors) { noteTlsErrors(errors); });
    connect(webSocket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
        [this, webSocket] { transportFailed(webSocket->errorString()); });
    connect(webSocket, &QWebSocket::connected, this, [this, webSocket] {
        if (webSocket->subprotocol() != QLatin1String(webSocketSubprotocol)) {
            webSocket->disconnect(this);
            webSocket->abort();
            finish(Error{ErrorKind::Network, QStringLiteral("AmqpWebSocketRefused"),
                tr("%1 accepted the WebSocket but not AMQP on it (sub-protocol %2).")
                    .arg(peerName(), QLatin1String(webSocketSubprotocol))});
            return;
        }
        startAmqp(new WebSocketStream(webSocket));
    });
    QUrl url;
    url.setScheme(QStringLiteral("wss"));
    url.setHost(m_endpoint.host);
    url.setPort(m_endpoint.port);
    url.setPath(m_endpoint.webSocketPath);
    QWebSocketHandshakeOptions options;
    options.setSubprotocols({QLatin1String(webSocketSubprotocol)});
    webSocket->open(QNetworkRequest(url), options);
}

void AmqpClient::noteTlsErrors(const QList<QSslError> &errors)
{
    QStringList texts;
    for (const QSslError &error : errors)
        texts.append(error.errorString());
    m_tlsError = texts.join(QStringLiteral("; "));
}

void AmqpClient::transportFailed(const QString &why)
{
    if (m_connection)
        return; // the AMQP connection reports its end itself
    const QString text = m_tlsError.isEmpty() ? why : m_tlsError;
    finish(Error{ErrorKind::Network,
        m_tlsError.isEmpty() ? QStringLiteral("HubUnreachable") : QStringLiteral("CertificateVerificationFailed"),
        m_tlsError.isEmpty() ? tr("Cannot reach %1: %2").arg(peerName(), text)
                             : tr("The certificate of %1 was refused: %2").arg(peerName(), text)});
}

void AmqpClient::startAmqp(QIODevice *device)
{
    m_connection = new AmqpConnection(AmqpConnection::Role::Client, device, this);
    m_connection->setClientSasl(m_endpoint.plainUser, m_endpoint.plainPassword);
    m_endpoint.plainPassword.clear(); // Proton has its own copy now
    m_connection->setClientIdentity(m_endpoint.host, QStringLiteral("onboarder-") + newId());
    m_connection->setHandler([this](pn_event_t *event) { handle(event); });
    connect(m_connection, &AmqpConnection::finished, this, [this](const QString &error) {
        if (m_closing && error.isEmpty())
            return finish({});
        if (error.contains(QLatin1String("unauthorized")) || error.contains(QLatin1String("authentication")))
            return finish(Error{ErrorKind::AuthRefused, QStringLiteral("AmqpUnauthorized"),
                tr("%1 refused the credentials: %2").arg(peerName(), error)});
        finish(Error{ErrorKind::Network, QStringLiteral("AmqpConnectionLost"),
            error.isEmpty() ? tr("%1 closed the connection.").arg(peerName())
                            : tr("The connection to %1 ended: %2").arg(peerName(), error)});
    });
    pn_connection_open(m_connection->connection());
    m_session = pn_session(m_connection->connection());
    pn_session_set_incoming_capacity(m_session, 8 * 1024 * 1024);
    pn_session_open(m_session);
    m_connection->start();
}

void AmqpClient::close()
{
    m_timeout.stop();
    if (!m_connection) {
        // Still connecting (or never opened): drop the socket quietly.
        for (auto *socket : findChildren<QSslSocket *>(Qt::FindDirectChildrenOnly)) {
            socket->disconnect(this);
            socket->abort();
            socket->deleteLater();
        }
        for (auto *webSocket : findChildren<QWebSocket *>(Qt::FindDirectChildrenOnly)) {
            webSocket->disconnect(this);
            webSocket->abort();
            webSocket->deleteLater();
        }
        return;
    }
    m_closing = true;
    pn_connection_close(m_connection->connection());
    m_connection->process();
}

void AmqpClient::finish(const Error &error)
{
    const bool wasOpen = m_open || m_connection;
    m_open = false;
    m_timeout.stop();
    m_nodes.clear();
    m_deadlines.clear();
    const auto pending = std::exchange(m_pending, {});
    for (const auto &done : pending)
        done(std::unexpected(error.code.isEmpty() ? Error{ErrorKind::Network, QStringLiteral("AmqpConnectionLost"),
                                 tr("The connection to %1 was closed.").arg(peerName())}
                                                  : error));
    if (m_connection) {
        m_connection->setHandler(nullptr);
        m_connection->disconnect(this);
        m_connection->deleteLater();
        m_connection = nullptr;
    }
    m_session = nullptr;
    for (auto *socket : findChildren<QSslSocket *>(Qt::FindDirectChildrenOnly)) {
        socket->disconnect(this);
        socket->deleteLater();
    }
    for (auto *webSocket : findChildren<QWebSocket *>(Qt::FindDirectChildrenOnly)) {
        webSocket->disconnect(this);
        webSocket->deleteLater();
    }
    Q_UNUSED(wasOpen)
    Q_EMIT closed(error);
}

AmqpClient::Node &AmqpClient::node(const QString &address)
{
    auto it = m_nodes.find(address);
    if (it != m_nodes.end())
        return *it;
    Node created;
    created.replyTo = address.mid(address.startsWith(u'$') ? 1 : 0) + QStringLiteral("-reply-") + newId();
    created.sender = openSender(address);
    pn_link_t *receiver = pn_receiver(m_session, (QStringLiteral("onboarder-reply-") + newId()).toUtf8().constData());
    pn_terminus_set_address(pn_link_source(receiver), address.toUtf8().constData());
    pn_terminus_set_address(pn_link_target(receiver), created.replyTo.toUtf8().constData());
    pn_link_open(receiver);
    pn_link_flow(receiver, replyCredit);
    created.receiver = receiver;
    return *m_nodes.insert(address, created);
}

void AmqpClient::flushNode(Node &node)
{
    if (!node.sender || !node.receiver || !(pn_link_state(node.sender) & PN_REMOTE_ACTIVE)
        || !(pn_link_state(node.receiver) & PN_REMOTE_ACTIVE))
        return;
    while (!node.waiting.isEmpty() && pn_link_credit(node.sender) > 0)
        Amqp::send(node.sender, node.waiting.takeFirst());
}

void AmqpClient::request(const QString &address, AmqpMessage message, std::function<void(Result<AmqpMessage>)> done)
{
    if (!m_connection || !m_session) {
        done(fail(ErrorKind::Network, QStringLiteral("AmqpNotConnected"), tr("Not connected to %1.").arg(peerName())));
        return;
    }
    Node &target = node(address);
    const QString id = newId();
    message.messageId = id; // a string: the peers match the answer's correlation-id by value and type
    message.replyTo = target.replyTo;
    message.to = address;
    m_pending.emplace(id, std::move(done));
    m_deadlines.insert(id, QDateTime::currentMSecsSinceEpoch() + requestTimeoutMs);
    target.waiting.append(std::move(message));
    flushNode(target);
    m_connection->schedule();
}

void AmqpClient::putToken(const QString &audience, const QString &token, std::function<void(Result<void>)> done)
{
    AmqpMessage message;
    message.applicationProperties.insertString(QStringLiteral("operation"), QStringLiteral("put-token"));
    message.applicationProperties.insertString(
        QStringLiteral("type"), QStringLiteral("servicebus.windows.net:sastoken"));
    message.applicationProperties.insertString(QStringLiteral("name"), audience);
    message.body = token;
    message.bodyIsValue = true;
    request(QStringLiteral("$cbs"), std::move(message), [this, done = std::move(done)](Result<AmqpMessage> response) {
        if (!response)
            return done(std::unexpected(response.error()));
        const int status = response->applicationProperties.value(QStringLiteral("status-code")).toInt();
        if (status >= 200 && status < 300)
            return done({});
        const QString description
            = Amqp::text(response->applicationProperties.value(QStringLiteral("status-description")));
        done(fail(status == 401 || status == 403 ? ErrorKind::AuthRefused : ErrorKind::Network,
            QStringLiteral("AmqpTokenRefused"),
            tr("%1 refused the token (%2): %3").arg(peerName()).arg(status).arg(description)));
    });
}

void AmqpClient::schedule()
{
    if (m_connection)
        m_connection->schedule();
}

pn_link_t *AmqpClient::openSender(const QString &target)
{
    if (!m_session)
        return nullptr;
    pn_link_t *link = pn_sender(m_session, (QStringLiteral("onboarder-sender-") + newId()).toUtf8().constData());
    pn_terminus_set_address(pn_link_target(link), target.toUtf8().constData());
    pn_link_open(link);
    m_connection->schedule();
    return link;
}

pn_link_t *AmqpClient::openReceiver(const QString &source, const QString &selector)
{
    if (!m_session)
        return nullptr;
    pn_link_t *link = pn_receiver(m_session, (QStringLiteral("onboarder-receiver-") + newId()).toUtf8().constData());
    pn_terminus_set_address(pn_link_source(link), source.toUtf8().constData());
    pn_terminus_set_address(pn_link_target(link), (QStringLiteral("onboarder-") + newId()).toUtf8().constData());
    if (!selector.isEmpty()) {
        AmqpMap filter;
        filter.insertSymbol("apache.org:selector-filter:string",
            QVariant::fromValue(
                AmqpDescribed{QVariant::fromValue(AmqpSymbol{"apache.org:selector-filter:string"}), selector}));
        Amqp::write(pn_terminus_filter(pn_link_source(link)), QVariant::fromValue(filter));
    }
    pn_link_set_rcv_settle_mode(link, PN_RCV_FIRST);
    pn_link_open(link);
    m_connection->schedule();
    return link;
}

void AmqpClient::handle(pn_event_t *event)
{
    switch (pn_event_type(event)) {
    case PN_CONNECTION_REMOTE_OPEN:
        m_open = true;
        Q_EMIT opened();
        break;
    case PN_CONNECTION_REMOTE_CLOSE: pn_connection_close(pn_event_connection(event)); break;
    case PN_LINK_REMOTE_OPEN: {
        pn_link_t *link = pn_event_link(event);
        for (Node &n : m_nodes)
            flushNode(n);
        Q_EMIT linkOpened(link);
        break;
    }
    case PN_LINK_REMOTE_CLOSE:
    case PN_LINK_REMOTE_DETACH: {
        pn_link_t *link = pn_event_link(event);
        pn_condition_t *condition = pn_link_remote_condition(link);
        const QString name = conditionName(condition);
        const QString description = conditionDescription(condition);
        const QVariant info
            = condition && pn_condition_is_set(condition) ? Amqp::read(pn_condition_info(condition)) : QVariant();
        for (auto it = m_nodes.begin(); it != m_nodes.end();) {
            if (it->sender != link && it->receiver != link) {
                ++it;
                continue;
            }
            // The node is gone: its waiting requests fail now rather than at their timeout.
            for (const AmqpMessage &waiting : std::as_const(it->waiting)) {
                if (auto done = m_pending.take(Amqp::text(waiting.messageId)))
                    done(fail(ErrorKind::Network, QStringLiteral("AmqpNodeClosed"),
                        tr("%1 closed %2: %3 %4").arg(peerName(), it.key(), name, description)));
            }
            it = m_nodes.erase(it);
        }
        pn_link_close(link);
        Q_EMIT linkClosed(link, name, description, info);
        break;
    }
    case PN_LINK_FLOW: {
        pn_link_t *link = pn_event_link(event);
        for (Node &n : m_nodes) {
            if (n.sender == link)
                flushNode(n);
        }
        if (pn_link_is_sender(link) && pn_link_credit(link) > 0)
            Q_EMIT creditAvailable(link);
        break;
    }
    case PN_DELIVERY: {
        pn_delivery_t *delivery = pn_event_delivery(event);
        pn_link_t *link = pn_delivery_link(delivery);
        if (pn_link_is_sender(link)) {
            if (pn_delivery_updated(delivery)) {
                pn_condition_t *condition = pn_disposition_condition(pn_delivery_remote(delivery));
                Q_EMIT deliveryUpdated(delivery, pn_delivery_remote_state(delivery), conditionName(condition),
                    conditionDescription(condition));
                pn_delivery_settle(delivery);
            }
            break;
        }
        const auto bytes = Amqp::receive(delivery);
        if (!bytes)
            break;
        const auto message = AmqpMessage::decode(*bytes);
        pn_delivery_update(delivery, message ? PN_ACCEPTED : PN_REJECTED);
        pn_delivery_settle(delivery);
        if (!message)
            break;
        bool reply = false;
        for (const Node &n : std::as_const(m_nodes)) {
            if (n.receiver == link) {
                reply = true;
                if (pn_link_credit(link) < replyCredit / 2)
                    pn_link_flow(link, replyCredit - pn_link_credit(link));
            }
        }
        if (reply) {
            const QString id = Amqp::text(message->correlationId);
            m_deadlines.remove(id);
            if (auto done = m_pending.take(id))
                done(*message);
            break;
        }
        Q_EMIT messageReceived(link, *message);
        break;
    }
    default: break;
    }
}

} // namespace Onboarder
