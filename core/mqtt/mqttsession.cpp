#include "mqtt/mqttsession.h"

#include "common/logging.h"
#include "mqtt/mqttpacket.h"
#include "mqtt/websocket.h"

#include <QFile>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>

namespace Onboarder {

namespace {

constexpr int maxBackoffSeconds = 30;

} // namespace

MqttSession::MqttSession(QObject *parent)
    : QObject(parent)
{
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &MqttSession::startConnection);
    connect(&m_pingTimer, &QTimer::timeout, this, [this] {
        if (m_state != State::Connected)
            return;
        if (m_lastReceived.isValid() && m_lastReceived.elapsed() > qint64(m_keepAlive) * 1500) {
            reportError(QStringLiteral("MqttTimeout"), tr("No answer from %1 any more.").arg(peerName()));
            m_socket->abort();
            return;
        }
        send(MqttPacket::encode(MqttPacket::Pingreq << 4, {}));
    });
}

MqttSession::~MqttSession()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

void MqttSession::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void MqttSession::reportError(const QString &code, const QString &message, ErrorKind kind)
{
    qCWarning(lcMqtt).noquote() << message;
    Q_EMIT errorOccurred({kind, code, message});
}

QString MqttSession::peerName() const
{
    return m_peerName.isEmpty() ? QStringLiteral("%1:%2").arg(m_hostname).arg(m_port) : m_peerName;
}

void MqttSession::setClientCertificate(const QSslCertificate &certificate, const QSslKey &key)
{
    m_certificate = certificate;
    m_key = key;
}

void MqttSession::connectToHost()
{
    m_wanted = true;
    if (m_state != State::Disconnected && !m_reconnectTimer.isActive())
        return;
    m_reconnectTimer.stop();
    startConnection();
}

void MqttSession::disconnectFromHost()
{
    m_wanted = false;
    m_reconnectTimer.stop();
    m_pingTimer.stop();
    if (m_socket) {
        if (m_state == State::Connected) {
            send(MqttPacket::encode(MqttPacket::Disconnect << 4, {}));
            m_socket->flush();
        }
        m_socket->disconnect(this);
        m_socket->disconnectFromHost();
        m_socket->deleteLater();
        m_socket = nullptr;
    }
    m_unacknowledged.clear();
    m_publishes.clear();
    setState(State::Disconnected);
}

void MqttSession::startConnection()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket->deleteLater();
    }
    ++m_connection;
    m_buffer.clear();
    m_framing = m_webSocketPath.isEmpty() ? Framing::Raw : Framing::Upgrading;
    m_webSocketHead.clear();
    m_webSocketDecoder = {};
    m_unacknowledged.clear();
    m_publishes.clear();
    m_pendingSubscriptions.clear();
    setState(State::Connecting);
    if (m_tls) {
        auto *socket = new QSslSocket(this);
        QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
        configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
        if (!m_caFile.isEmpty()) {
            const QList<QSslCertificate> extra = QSslCertificate::fromPath(m_caFile, QSsl::Pem);
            if (extra.isEmpty())
                reportError(
                    QStringLiteral("CaFileUnreadable"), tr("The CA file %1 holds no PEM certificate.").arg(m_caFile));
            configuration.setCaCertificates(configuration.caCertificates() + extra);
        }
        if (!m_certificate.isNull()) {
            configuration.setLocalCertificate(m_certificate);
            configuration.setPrivateKey(m_key);
        }
        socket->setSslConfiguration(configuration);
        if (m_proxy)
            socket->setProxy(*m_proxy);
        connect(socket, &QSslSocket::encrypted, this, &MqttSession::onSocketConnected);
        connect(socket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
            QStringList texts;
            for (const QSslError &error : errors)
                texts.append(error.errorString());
            reportError(QStringLiteral("TlsError"),
                tr("The certificate of %1 was refused: %2").arg(peerName(), texts.join(QStringLiteral("; "))));
        });
        m_socket = socket;
        connect(m_socket, &QTcpSocket::readyRead, this, &MqttSession::onReadyRead);
        connect(m_socket, &QTcpSocket::disconnected, this, &MqttSession::onSocketGone);
        connect(m_socket, &QTcpSocket::errorOccurred, this, &MqttSession::onSocketGone);
        socket->connectToHostEncrypted(m_hostname, quint16(m_port));
    } else {
        m_socket = new QTcpSocket(this);
        if (m_proxy)
            m_socket->setProxy(*m_proxy);
        connect(m_socket, &QTcpSocket::connected, this, &MqttSession::onSocketConnected);
        connect(m_socket, &QTcpSocket::readyRead, this, &MqttSession::onReadyRead);
        connect(m_socket, &QTcpSocket::disconnected, this, &MqttSession::onSocketGone);
        connect(m_socket, &QTcpSocket::errorOccurred, this, &MqttSession::onSocketGone);
        m_socket->connectToHost(m_hostname, quint16(m_port));
    }
}

void MqttSession::onSocketConnected()
{
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1); // small packets out at once
    m_lastReceived.start();
    if (m_framing == Framing::Upgrading) {
        m_webSocketKey = WebSocket::newKey();
        m_socket->write(WebSocket::clientHandshake(m_hostname, m_port, m_webSocketPath, m_webSocketKey));
        return; // CONNECT once upgraded
    }
    sendConnect();
}

void MqttSession::sendConnect()
{
    m_lastReceived.start();
    send(MqttPacket::connect({m_clientId, m_username, m_password, m_cleanSession, m_keepAlive}));
}

void MqttSession::onSocketGone()
{
    if (!m_socket)
        return;
    const bool wasConnected = m_state == State::Connected;
    const QString reason = m_socket->errorString();
    m_socket->disconnect(this);
    m_socket->abort();
    m_socket->deleteLater();
    m_socket = nullptr;
    m_pingTimer.stop();
    m_unacknowledged.clear();
    m_publishes.clear();
    setState(State::Disconnected);
    if (wasConnected) {
        Q_EMIT disconnected();
        reportError(QStringLiteral("ConnectionLost"), tr("Lost the connection to %1: %2").arg(peerName(), reason));
    } else {
        reportError(QStringLiteral("ConnectFailed"), tr("Cannot connect to %1: %2").arg(peerName(), reason));
    }
    if (m_wanted)
        scheduleReconnect(wasConnected ? 1 : m_backoff);
}

void MqttSession::refused(const QString &code, const QString &message, ErrorKind kind)
{
    m_socket->disconnect(this);
    m_socket->abort();
    m_socket->deleteLater();
    m_socket = nullptr;
    m_pingTimer.stop();
    setState(State::Disconnected);
    if (m_wanted)
        scheduleReconnect(maxBackoffSeconds);
    // Last: the owner may call disconnectFromHost() on it.
    reportError(code, message, kind);
}

void MqttSession::scheduleReconnect(int seconds)
{
    setState(State::Connecting);
    m_backoff = std::min(maxBackoffSeconds, std::max(1, seconds) * 2);
    m_reconnectTimer.start(seconds * 1000);
}

void MqttSession::send(const QByteArray &data)
{
    if (!m_socket)
        return;
    if (m_framing == Framing::Framed)
        m_socket->write(WebSocket::frame(WebSocket::Binary, data, true));
    else
        m_socket->write(data);
}

bool MqttSession::takeWebSocketData(const QByteArray &data)
{
    QByteArray framed = data;
    if (m_framing == Framing::Upgrading) {
        m_webSocketHead += data;
        const auto head = WebSocket::parseHead(m_webSocketHead);
        if (!head) {
            if (m_webSocketHead.size() > 16384)
                refused(
                    QStringLiteral("WebSocketRefused"), tr("%1 did not answer the WebSocket upgrade.").arg(peerName()));
            return false;
        }
        if (const QString why = WebSocket::checkServerHandshake(*head, m_webSocketKey); !why.isEmpty()) {
            // Refused by the server (a wrong path or port, a proxy's error page): not worth retrying soon.
            refused(QStringLiteral("WebSocketRefused"),
                tr("Cannot use MQTT over WebSockets with %1: %2.").arg(peerName(), why));
            return false;
        }
        framed = m_webSocketHead.mid(head->length);
        m_webSocketHead.clear();
        m_framing = Framing::Framed;
        sendConnect();
    }
    bool ok = true;
    const QList<WebSocket::Frame> frames = m_webSocketDecoder.feed(framed, &ok);
    for (const WebSocket::Frame &frame : frames) {
        switch (frame.opcode) {
        case WebSocket::Binary:
        case WebSocket::Continuation: m_buffer += frame.payload; break;
        case WebSocket::Ping: m_socket->write(WebSocket::frame(WebSocket::Pong, frame.payload, true)); break;
        case WebSocket::Pong: break;
        case WebSocket::Close: m_socket->disconnectFromHost(); return false;
        default: ok = false; break;
        }
    }
    if (!ok) {
        reportError(QStringLiteral("ProtocolError"), tr("Malformed WebSocket frame from %1.").arg(peerName()));
        m_socket->abort();
        return false;
    }
    return true;
}

void MqttSession::onReadyRead()
{
    const QByteArray data = m_socket->readAll();
    m_lastReceived.start();
    if (m_framing == Framing::Raw)
        m_buffer += data;
    else if (!takeWebSocketData(data))
        return;
    while (m_socket) {
        MqttPacket::Frame frame;
        const MqttPacket::Framing framing = MqttPacket::take(m_buffer, &frame);
        if (framing == MqttPacket::Framing::Incomplete)
            return;
        if (framing == MqttPacket::Framing::Malformed || !handlePacket(frame)) {
            if (framing == MqttPacket::Framing::Malformed)
                reportError(QStringLiteral("ProtocolError"), tr("Malformed packet from %1.").arg(peerName()));
            if (m_socket)
                m_socket->abort();
            return;
        }
    }
}

bool MqttSession::handlePacket(const MqttPacket::Frame &frame)
{
    switch (frame.type()) {
    case MqttPacket::Connack: {
        const auto connack = MqttPacket::readConnack(frame.body);
        if (!connack)
            return malformed(frame);
        if (connack->returnCode != 0) {
            const int code = connack->returnCode;
            const QString why = code == 4 || code == 5 ? tr("bad user name or password, or not authorised")
                                                       : tr("refused with code %1").arg(code);
            refused(QStringLiteral("ConnectionRefused"), tr("%1 refused the connection: %2.").arg(peerName(), why),
                code == 4 || code == 5 ? ErrorKind::AuthRefused : ErrorKind::Network);
            return true;
        }
        m_backoff = 1;
        setState(State::Connected);
        m_pingTimer.start(std::max(1, m_keepAlive / 2) * 1000);
        for (const QString &filter : std::as_const(m_filters)) {
            const quint16 id = nextPacketId();
            m_pendingSubscriptions.insert(id, filter);
            send(MqttPacket::subscribe(id, filter, 1));
        }
        Q_EMIT connected(connack->sessionPresent);
        return true;
    }
    case MqttPacket::Suback: {
        const auto suback = MqttPacket::readSuback(frame.body);
        if (!suback)
            return malformed(frame);
        const QString filter = m_pendingSubscriptions.take(suback->packetId);
        const int granted = suback->grantedQos.constFirst();
        if (granted == 0x80)
            reportError(QStringLiteral("SubscriptionRefused"),
                tr("%1 refused the subscription %2.").arg(peerName(), filter), ErrorKind::AuthRefused);
        else
            Q_EMIT subscribed(filter, granted);
        return true;
    }
    case MqttPacket::Publish: {
        auto message = MqttPacket::readPublish(frame.header, frame.body);
        if (!message)
            return malformed(frame);
        if (message->qos == 2) {
            reportError(QStringLiteral("ProtocolError"),
                tr("%1 sent a QoS 2 message to a QoS 1 subscription.").arg(peerName()));
            return false;
        }
        message->connection = m_connection;
        if (message->qos == 1)
            m_unacknowledged.insert(quint16(message->packetId));
        Q_EMIT messageReceived(*message);
        return true;
    }
    case MqttPacket::Pingresp: return true;
    case MqttPacket::Puback: {
        const auto id = MqttPacket::readPacketId(frame.body);
        if (!id)
            return malformed(frame);
        if (m_publishes.remove(*id))
            Q_EMIT published(*id);
        return true;
    }
    default:
        reportError(QStringLiteral("ProtocolError"),
            tr("%1 sent an unexpected packet (type %2).").arg(peerName()).arg(frame.type()));
        return false;
    }
}

bool MqttSession::malformed(const MqttPacket::Frame &frame)
{
    reportError(
        QStringLiteral("ProtocolError"), tr("%1 sent a malformed packet (type %2).").arg(peerName()).arg(frame.type()));
    return false;
}

bool MqttSession::acknowledge(const MqttMessage &message)
{
    if (message.qos != 1 || message.connection != m_connection || m_state != State::Connected
        || !m_unacknowledged.remove(quint16(message.packetId)))
        return false;
    send(MqttPacket::acknowledgement(MqttPacket::Puback, quint16(message.packetId)));
    return true;
}

} // namespace Onboarder

namespace Onboarder {

quint16 MqttSession::nextPacketId()
{
    // Ids in use are few (a window of publishes, a few subscriptions): the next free one is near.
    do {
        if (++m_lastPacketId == 0)
            m_lastPacketId = 1;
    } while (m_publishes.contains(m_lastPacketId) || m_pendingSubscriptions.contains(m_lastPacketId));
    return m_lastPacketId;
}

Result<quint16> MqttSession::publish(const QString &topic, const QByteArray &payload)
{
    if (m_state != State::Connected || !m_socket)
        return fail(ErrorKind::Conflict, QStringLiteral("NotConnected"),
            tr("Not connected to %1: the message to %2 was not sent.").arg(peerName(), topic));
    const QByteArray topicUtf8 = topic.toUtf8();
    if (topicUtf8.isEmpty() || topicUtf8.size() > 65535 || topic.contains(u'+') || topic.contains(u'#'))
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidTopic"),
            tr("\"%1\" is not a topic a message can be published to.").arg(topic));
    if (m_publishes.size() >= 65535)
        return fail(ErrorKind::Conflict, QStringLiteral("TooManyInFlight"),
            tr("Too many messages to %1 wait for an acknowledgement.").arg(peerName()));
    if (payload.size() + topicUtf8.size() + 4 > MqttPacket::maxRemainingLength)
        return fail(ErrorKind::InvalidInput, QStringLiteral("PayloadTooLarge"),
            tr("The message is too large for MQTT (%1 bytes).").arg(payload.size()));
    const quint16 id = nextPacketId();
    m_publishes.insert(id);
    send(MqttPacket::publish(topic, payload, 1, id));
    return id;
}

} // namespace Onboarder
