#include "dpsmqtt.h"

#include "dpsmqttsession.h"
#include "mqtt/websocket.h"
#include "tlsserver.h"

#include <QHostAddress>
#include <QSslCertificate>
#include <QSslSocket>
#include <QTimer>

#include <memory>

namespace Onboarder::Sandbox {

DpsMqtt::DpsMqtt(Dps &dps, const QSslConfiguration &tls, QObject *parent)
    : QObject(parent)
    , m_dps(dps)
{
    QSslConfiguration configuration = tls;
    // Ask for a client certificate without requiring one, and judge it by the enrollments, not by a CA list.
    configuration.setPeerVerifyMode(QSslSocket::QueryPeer);
    m_server.setSslConfiguration(configuration);
    QObject::connect(&m_server, &QSslServer::pendingConnectionAvailable, this, &DpsMqtt::accept);
    keepAccepting(m_server);
}

Result<quint16> DpsMqtt::listen(const QHostAddress &address, quint16 port)
{
    if (!m_server.listen(address, port))
        return fail(ErrorKind::Network, QStringLiteral("PortInUse"),
            QStringLiteral("Cannot listen on %1:%2: %3").arg(address.toString()).arg(port).arg(m_server.errorString()));
    return m_server.serverPort();
}

void DpsMqtt::accept()
{
    while (QTcpSocket *next = m_server.nextPendingConnection()) {
        auto *socket = qobject_cast<QSslSocket *>(next);
        if (!socket) {
            next->deleteLater();
            continue;
        }
        serve(socket, false);
    }
}

void DpsMqtt::adoptWebSocket(QSslSocket *socket)
{
    serve(socket, true);
}

namespace {

// One device connection: the session, and for WebSockets the upgrade and the framing around it.
struct Connection
{
    explicit Connection(Dps &dps, QList<QByteArray> chain)
        : session(dps, std::move(chain))
    { }
    DpsMqttSession session;
    enum class Mode { Mqtt, Upgrading, WebSocket } mode = Mode::Mqtt;
    QByteArray head;
    WebSocket::Decoder frames;
};

// The WebSocket upgrade as DPS answers it: 101 for GET /$iothub/websocket with sub-protocol mqtt. False
// while the request is incomplete or once it was refused (then the socket is closing).
bool upgrade(QSslSocket *socket, Connection &connection)
{
    const auto head = WebSocket::parseHead(connection.head);
    if (!head) {
        if (connection.head.size() > 16384)
            socket->abort();
        return false;
    }
    const QList<QByteArray> request = head->startLine.split(' ');
    const QByteArray path = request.value(1).split('?').value(0);
    const QByteArray protocols = head->fields.value("sec-websocket-protocol").toLower();
    QByteArray status;
    if (request.value(0) != "GET" || path != WebSocket::iotHubPath)
        status = "404 Not Found";
    else if (head->fields.value("upgrade").toLower() != "websocket" || !head->fields.contains("sec-websocket-key")
        || head->fields.value("sec-websocket-version") != "13" || !protocols.contains(WebSocket::subProtocol))
        status = "400 Bad Request";
    if (!status.isEmpty()) {
        socket->write("HTTP/1.1 " + status + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        socket->disconnectFromHost();
        return false;
    }
    socket->write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
        + WebSocket::acceptKey(head->fields.value("sec-websocket-key"))
        + "\r\nSec-WebSocket-Protocol: " + WebSocket::subProtocol + "\r\n\r\n");
    connection.head.remove(0, head->length);
    connection.mode = Connection::Mode::WebSocket;
    return true;
}

} // namespace

void DpsMqtt::serve(QSslSocket *socket, bool webSocket)
{
    socket->setParent(this);
    QList<QByteArray> chain;
    for (const QSslCertificate &certificate : socket->peerCertificateChain())
        chain.append(certificate.toDer());
    auto connection = std::make_shared<Connection>(m_dps, chain);
    if (webSocket)
        connection->mode = Connection::Mode::Upgrading;
    // Keep-alive: a device silent for one and a half keep-alive periods (or 30 s before CONNECT) is dropped.
    auto *idle = new QTimer(socket);
    idle->setSingleShot(true);
    idle->start(30000);
    QObject::connect(idle, &QTimer::timeout, socket, [socket] { socket->abort(); });
    QObject::connect(socket, &QSslSocket::disconnected, socket, &QObject::deleteLater);
    const auto read = [socket, connection, idle] {
        DpsMqttSession &session = connection->session;
        QByteArray data = socket->readAll();
        if (connection->mode == Connection::Mode::Upgrading) {
            connection->head += data;
            if (!upgrade(socket, *connection))
                return;
            data = std::exchange(connection->head, {});
        }
        if (connection->mode == Connection::Mode::Mqtt) {
            if (const QByteArray out = session.feed(data); !out.isEmpty())
                socket->write(out);
        } else {
            bool ok = true;
            for (const WebSocket::Frame &frame : connection->frames.feed(data, &ok)) {
                if (frame.opcode == WebSocket::Binary || frame.opcode == WebSocket::Continuation) {
                    if (const QByteArray out = session.feed(frame.payload); !out.isEmpty())
                        socket->write(WebSocket::frame(WebSocket::Binary, out, false));
                } else if (frame.opcode == WebSocket::Ping) {
                    socket->write(WebSocket::frame(WebSocket::Pong, frame.payload, false));
                } else if (frame.opcode != WebSocket::Pong) {
                    ok = false; // close, or text (MQTT is binary)
                }
                if (session.closed() || !ok)
                    break;
            }
            if (!ok) {
                socket->write(WebSocket::frame(WebSocket::Close, {}, false));
                socket->disconnectFromHost();
                return;
            }
        }
        if (session.closed()) {
            if (connection->mode == Connection::Mode::WebSocket)
                socket->write(WebSocket::frame(WebSocket::Close, {}, false));
            socket->disconnectFromHost();
            return;
        }
        if (session.keepAliveSeconds() > 0)
            idle->start(session.keepAliveSeconds() * 1500);
        else if (session.connected())
            idle->stop();
    };
    QObject::connect(socket, &QSslSocket::readyRead, socket, read);
    if (socket->bytesAvailable() > 0)
        read();
}

} // namespace Onboarder::Sandbox
