#include "restfrontdoor.h"

#include <QHash>
#include <QSslSocket>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>

#include <memory>

namespace Onboarder::Sandbox {

namespace {

constexpr int HeadLimit = 16 * 1024;
constexpr int HeadTimeoutMs = 10000;

// The request line's target and whether the head asks for a WebSocket upgrade; nullopt while incomplete.
struct Head
{
    QByteArray method;
    QByteArray path;
    bool upgradeToWebSocket = false;
    QList<QByteArray> subprotocols; // Sec-WebSocket-Protocol, lower case
};

std::optional<Head> parseHead(const QByteArray &bytes)
{
    const qsizetype end = bytes.indexOf("\r\n\r\n");
    if (end < 0)
        return std::nullopt;
    Head head;
    const QList<QByteArray> lines = bytes.left(end).split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    head.method = requestLine.value(0);
    head.path = requestLine.value(1);
    if (const qsizetype query = head.path.indexOf('?'); query >= 0)
        head.path.truncate(query);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            continue;
        if (line.left(colon).trimmed().compare("upgrade", Qt::CaseInsensitive) == 0
            && line.mid(colon + 1).trimmed().compare("websocket", Qt::CaseInsensitive) == 0)
            head.upgradeToWebSocket = true;
        if (line.left(colon).trimmed().compare("sec-websocket-protocol", Qt::CaseInsensitive) == 0) {
            for (const QByteArray &protocol : line.mid(colon + 1).split(','))
                head.subprotocols.append(protocol.trimmed().toLower());
        }
    }
    return head;
}

} // namespace

RestFrontDoor::RestFrontDoor(const QSslConfiguration &tls, QObject *parent)
    : QTcpServer(parent)
    , m_tls(tls)
    , m_webSockets(QStringLiteral("onboarder-sandbox"), QWebSocketServer::NonSecureMode) // TLS is done before
{
    m_webSockets.setSupportedSubprotocols({QString::fromLatin1(AmqpSubprotocol)});
    m_webSockets.setHandshakeTimeout(std::chrono::milliseconds(HeadTimeoutMs));
    connect(&m_webSockets, &QWebSocketServer::newConnection, this, &RestFrontDoor::webSocketReady);
}

RestFrontDoor::~RestFrontDoor() = default;

const QStringList &RestFrontDoor::amqpPaths()
{
    static const QStringList paths{QStringLiteral("/$iothub/websocket"), QStringLiteral("/$servicebus/websocket")};
    return paths;
}

void RestFrontDoor::incomingConnection(qintptr descriptor)
{
    auto *socket = new QSslSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        return;
    }
    socket->setSslConfiguration(m_tls);
    auto *deadline = new QTimer(socket);
    deadline->setSingleShot(true);
    deadline->setObjectName(QStringLiteral("headDeadline"));
    connect(deadline, &QTimer::timeout, socket, [socket] { socket->abort(); });
    connect(socket, &QSslSocket::disconnected, socket, &QObject::deleteLater);
    connect(socket, &QSslSocket::readyRead, this, [this, socket] { inspect(socket); });
    deadline->start(HeadTimeoutMs);
    socket->startServerEncryption();
}

void RestFrontDoor::inspect(QSslSocket *socket)
{
    if (!socket->isEncrypted())
        return;
    const QByteArray bytes = socket->peek(HeadLimit + 4);
    const auto head = parseHead(bytes);
    if (!head) {
        if (bytes.size() > HeadLimit)
            socket->abort();
        return;
    }
    // From here the socket belongs to someone else: none of this server's hooks stay on it.
    socket->disconnect(this);
    disconnect(socket, &QSslSocket::disconnected, socket, &QObject::deleteLater);
    delete socket->findChild<QTimer *>(QStringLiteral("headDeadline"), Qt::FindDirectChildrenOnly);

    const bool upgrade = head->method == "GET" && head->upgradeToWebSocket;
    const bool mqtt
        = upgrade && head->path == "/$iothub/websocket" && head->subprotocols.contains("mqtt") && m_mqttHook;
    const bool amqp = upgrade && !mqtt && amqpPaths().contains(QString::fromLatin1(head->path));
    if (mqtt) {
        socket->setParent(nullptr);
        m_mqttHook(socket); // the gateway reads the upgrade request itself
    } else if (amqp) {
        socket->setParent(nullptr);
        m_webSockets.handleConnection(socket); // the WebSocket it makes takes the socket
    } else {
        socket->setParent(nullptr);
        watchRequests(socket); // before the HTTP server's own readyRead handler, which reads everything
        addPendingConnection(socket);
        Q_EMIT newConnection();
    }
    // The head is still unread in the socket, and readyRead is only signalled for new bytes: the new owner
    // reads it when told.
    QMetaObject::invokeMethod(
        socket, [socket] { Q_EMIT socket->readyRead(); }, Qt::QueuedConnection);
}

void RestFrontDoor::watchRequests(QSslSocket *socket)
{
    auto framing = std::make_shared<HttpRequestFraming>();
    connect(socket, &QSslSocket::readyRead, socket, [this, socket, framing] {
        // What is unread now is what the HTTP server reads next: nothing of it has been seen here.
        const QList<HttpRequestFraming::Head> heads = framing->feed(socket->peek(socket->bytesAvailable()));
        std::optional<Refusal> refusal;
        for (const HttpRequestFraming::Head &head : heads) {
            const bool tooLarge = head.contentLength > m_bodyLimit;
            if (m_gate)
                refusal = m_gate(head, tooLarge);
            if (!refusal && tooLarge)
                refusal = Refusal{413, "text/plain; charset=utf-8",
                    QByteArrayLiteral("The request body of ") + QByteArray::number(head.contentLength)
                        + " bytes is larger than the " + QByteArray::number(m_bodyLimit) + " bytes this server takes.",
                    {}};
            if (refusal)
                break;
        }
        // Refused whole, also when a request the HTTP server has not seen yet comes before the refused one:
        // the connection closes, a client sends it again.
        if (!refusal) {
            switch (framing->error()) {
            case HttpRequestFraming::Error::None: return;
            case HttpRequestFraming::Error::BadRequest:
                refusal = Refusal{400, "text/plain; charset=utf-8", "This is no HTTP/1.1 request head.", {}};
                break;
            case HttpRequestFraming::Error::HeadTooLarge:
                refusal = Refusal{431, "text/plain; charset=utf-8", "The request head is larger than 16 KB.", {}};
                break;
            case HttpRequestFraming::Error::LengthRequired:
                refusal = Refusal{411, "text/plain; charset=utf-8", "A request body needs a Content-Length.", {}};
                break;
            }
        }
        refuse(socket, *refusal);
    });
}

void RestFrontDoor::refuse(QSslSocket *socket, const Refusal &refusal)
{
    // Nobody else reads from here on (the HTTP server would take the body in), and what comes is dropped.
    disconnect(socket, &QSslSocket::readyRead, nullptr, nullptr);
    connect(socket, &QSslSocket::readyRead, socket, [socket] { socket->skip(socket->bytesAvailable()); });
    socket->skip(socket->bytesAvailable());
    static const QHash<int, QByteArray> reasons{{400, "Bad Request"}, {401, "Unauthorized"}, {411, "Length Required"},
        {413, "Payload Too Large"}, {431, "Request Header Fields Too Large"}};
    QByteArray response = "HTTP/1.1 " + QByteArray::number(refusal.status) + ' '
        + reasons.value(refusal.status, "Refused") + "\r\nContent-Type: " + refusal.contentType
        + "\r\nContent-Length: " + QByteArray::number(refusal.body.size()) + "\r\nConnection: close\r\n";
    for (const auto &[name, value] : refusal.headers)
        response += name + ": " + value + "\r\n";
    response += "\r\n" + refusal.body;
    socket->write(response);
    socket->disconnectFromHost(); // once the answer is out
}

void RestFrontDoor::webSocketReady()
{
    while (QWebSocket *webSocket = m_webSockets.nextPendingConnection()) {
        if (webSocket->subprotocol() != QLatin1String(AmqpSubprotocol) || !m_amqpHook) {
            webSocket->close(
                QWebSocketProtocol::CloseCodeProtocolError, QStringLiteral("Sub-protocol AMQPWSB10 required"));
            webSocket->deleteLater();
            continue;
        }
        m_amqpHook(webSocket);
    }
}

} // namespace Onboarder::Sandbox
