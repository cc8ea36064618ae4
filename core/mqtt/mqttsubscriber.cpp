#include "mqtt/mqttsubscriber.h"

#include "common/logging.h"

#include <QFile>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>

namespace Onboarder {

namespace {

constexpr int maxBackoffSeconds = 30;
constexpr qsizetype maxPacketSize = 268435455;

enum PacketType : quint8 {
    Connect = 1,
    Connack = 2,
    Publish = 3,
    Puback = 4,
    Subscribe = 8,
    Suback = 9,
    Pingreq = 12,
    Pingresp = 13,
    Disconnect = 14,
};

void appendString(QByteArray &out, const QByteArray &text)
{
    out.append(char(text.size() >> 8)).append(char(text.size() & 0xff)).append(text);
}

QByteArray packet(quint8 header, const QByteArray &body)
{
    QByteArray out;
    out.append(char(header));
    qsizetype length = body.size();
    do {
        quint8 byte = length % 128;
        length /= 128;
        if (length > 0)
            byte |= 0x80;
        out.append(char(byte));
    } while (length > 0);
    return out + body;
}

quint16 readUint16(const QByteArray &data, qsizetype at)
{
    return quint16((quint8(data.at(at)) << 8) | quint8(data.at(at + 1)));
}

} // namespace

MqttSubscriber::MqttSubscriber(QObject *parent)
    : QObject(parent)
{
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &MqttSubscriber::startConnection);
    connect(&m_pingTimer, &QTimer::timeout, this, [this] {
        if (m_state != State::Connected)
            return;
        if (m_lastReceived.isValid() && m_lastReceived.elapsed() > qint64(m_keepAlive) * 1500) {
            reportError(QStringLiteral("MqttTimeout"),
                tr("The local broker %1:%2 stopped answering.").arg(m_hostname).arg(m_port));
            m_socket->abort();
            return;
        }
        send(packet(Pingreq << 4, {}));
    });
}

MqttSubscriber::~MqttSubscriber()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

void MqttSubscriber::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void MqttSubscriber::reportError(const QString &code, const QString &message)
{
    qCWarning(lcMqtt) << message;
    Q_EMIT errorOccurred({ ErrorKind::Network, code, message });
}

void MqttSubscriber::connectToHost()
{
    m_wanted = true;
    if (m_state != State::Disconnected && !m_reconnectTimer.isActive())
        return;
    m_reconnectTimer.stop();
    startConnection();
}

void MqttSubscriber::disconnectFromHost()
{
    m_wanted = false;
    m_reconnectTimer.stop();
    m_pingTimer.stop();
    if (m_socket) {
        if (m_state == State::Connected) {
            send(packet(Disconnect << 4, {}));
            m_socket->flush();
        }
        m_socket->disconnect(this);
        m_socket->disconnectFromHost();
        m_socket->deleteLater();
        m_socket = nullptr;
    }
    m_unacknowledged.clear();
    setState(State::Disconnected);
}

void MqttSubscriber::startConnection()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket->deleteLater();
    }
    ++m_connection;
    m_buffer.clear();
    m_unacknowledged.clear();
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
        socket->setSslConfiguration(configuration);
        connect(socket, &QSslSocket::encrypted, this, &MqttSubscriber::onSocketConnected);
        connect(socket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
            QStringList texts;
            for (const QSslError &error : errors)
                texts.append(error.errorString());
            reportError(QStringLiteral("TlsError"),
                tr("The local broker's certificate was refused: %1").arg(texts.join(QStringLiteral("; "))));
        });
        m_socket = socket;
        connect(m_socket, &QTcpSocket::readyRead, this, &MqttSubscriber::onReadyRead);
        connect(m_socket, &QTcpSocket::disconnected, this, &MqttSubscriber::onSocketGone);
        connect(m_socket, &QTcpSocket::errorOccurred, this, &MqttSubscriber::onSocketGone);
        socket->connectToHostEncrypted(m_hostname, quint16(m_port));
    } else {
        m_socket = new QTcpSocket(this);
        connect(m_socket, &QTcpSocket::connected, this, &MqttSubscriber::onSocketConnected);
        connect(m_socket, &QTcpSocket::readyRead, this, &MqttSubscriber::onReadyRead);
        connect(m_socket, &QTcpSocket::disconnected, this, &MqttSubscriber::onSocketGone);
        connect(m_socket, &QTcpSocket::errorOccurred, this, &MqttSubscriber::onSocketGone);
        m_socket->connectToHost(m_hostname, quint16(m_port));
    }
}

void MqttSubscriber::onSocketConnected()
{
    QByteArray body;
    appendString(body, "MQTT");
    body.append(char(4)); // 3.1.1
    quint8 flags = m_cleanSession ? 0x02 : 0x00;
    if (!m_username.isEmpty())
        flags |= 0x80;
    if (!m_password.isEmpty())
        flags |= 0x40;
    body.append(char(flags));
    body.append(char(m_keepAlive >> 8)).append(char(m_keepAlive & 0xff));
    appendString(body, m_clientId.toUtf8());
    if (!m_username.isEmpty())
        appendString(body, m_username.toUtf8());
    if (!m_password.isEmpty())
        appendString(body, m_password);
    m_lastReceived.start();
    send(packet(Connect << 4, body));
}

void MqttSubscriber::onSocketGone()
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
    setState(State::Disconnected);
    if (wasConnected)
        reportError(QStringLiteral("ConnectionLost"),
            tr("The connection to the local broker %1:%2 was lost: %3").arg(m_hostname).arg(m_port).arg(reason));
    else
        reportError(QStringLiteral("ConnectFailed"),
            tr("Cannot connect to the local broker %1:%2: %3").arg(m_hostname).arg(m_port).arg(reason));
    if (m_wanted)
        scheduleReconnect(wasConnected ? 1 : m_backoff);
}

void MqttSubscriber::scheduleReconnect(int seconds)
{
    setState(State::Connecting);
    m_backoff = std::min(maxBackoffSeconds, std::max(1, seconds) * 2);
    m_reconnectTimer.start(seconds * 1000);
}

void MqttSubscriber::send(const QByteArray &data)
{
    if (m_socket)
        m_socket->write(data);
}

void MqttSubscriber::onReadyRead()
{
    m_buffer += m_socket->readAll();
    m_lastReceived.start();
    while (m_socket && m_buffer.size() >= 2) {
        qsizetype length = 0;
        int multiplier = 1;
        qsizetype at = 1;
        bool complete = false;
        for (; at < m_buffer.size() && at <= 4; ++at) {
            const quint8 byte = quint8(m_buffer.at(at));
            length += (byte & 0x7f) * multiplier;
            multiplier *= 128;
            if (!(byte & 0x80)) {
                complete = true;
                ++at;
                break;
            }
        }
        if (!complete) {
            if (m_buffer.size() > 5) {
                reportError(QStringLiteral("ProtocolError"), tr("The local broker sent a malformed packet."));
                m_socket->abort();
            }
            return;
        }
        if (length > maxPacketSize || m_buffer.size() < at + length)
            return;
        const quint8 header = quint8(m_buffer.at(0));
        const QByteArray body = m_buffer.mid(at, length);
        m_buffer.remove(0, at + length);
        if (!handlePacket(header, body)) {
            if (m_socket)
                m_socket->abort();
            return;
        }
    }
}

bool MqttSubscriber::handlePacket(quint8 header, const QByteArray &body)
{
    switch (header >> 4) {
    case Connack: {
        if (body.size() < 2)
            return false;
        const bool sessionPresent = quint8(body.at(0)) & 0x01;
        const int code = quint8(body.at(1));
        if (code != 0) {
            const QString why = code == 4 || code == 5 ? tr("bad user name or password, or not authorised")
                                                       : tr("refused with code %1").arg(code);
            m_socket->disconnect(this);
            m_socket->abort();
            m_socket->deleteLater();
            m_socket = nullptr;
            setState(State::Disconnected);
            Q_EMIT errorOccurred({ code == 4 || code == 5 ? ErrorKind::AuthRefused : ErrorKind::Network,
                QStringLiteral("ConnectionRefused"),
                tr("The local broker %1:%2 refused the relay: %3.").arg(m_hostname).arg(m_port).arg(why) });
            if (m_wanted)
                scheduleReconnect(maxBackoffSeconds);
            return true;
        }
        m_backoff = 1;
        setState(State::Connected);
        m_pingTimer.start(std::max(1, m_keepAlive / 2) * 1000);
        for (const QString &filter : std::as_const(m_filters)) {
            if (++m_lastPacketId == 0)
                m_lastPacketId = 1;
            QByteArray subscribe;
            subscribe.append(char(m_lastPacketId >> 8)).append(char(m_lastPacketId & 0xff));
            appendString(subscribe, filter.toUtf8());
            subscribe.append(char(1));
            m_pendingSubscriptions.insert(m_lastPacketId, filter);
            send(packet((Subscribe << 4) | 0x02, subscribe));
        }
        Q_EMIT connected(sessionPresent);
        return true;
    }
    case Suback: {
        if (body.size() < 3)
            return false;
        const QString filter = m_pendingSubscriptions.take(readUint16(body, 0));
        const int granted = quint8(body.at(2));
        if (granted == 0x80)
            Q_EMIT errorOccurred({ ErrorKind::AuthRefused, QStringLiteral("SubscriptionRefused"),
                tr("The local broker refused the subscription %1.").arg(filter) });
        else
            Q_EMIT subscribed(filter, granted);
        return true;
    }
    case Publish: {
        const int qos = (header >> 1) & 0x03;
        if (body.size() < 2)
            return false;
        const quint16 topicLength = readUint16(body, 0);
        qsizetype at = 2 + topicLength;
        if (body.size() < at + (qos > 0 ? 2 : 0))
            return false;
        MqttMessage message;
        message.topic = QString::fromUtf8(body.mid(2, topicLength));
        message.qos = qos;
        message.retain = header & 0x01;
        message.duplicate = header & 0x08;
        message.connection = m_connection;
        if (qos > 0) {
            message.packetId = readUint16(body, at);
            at += 2;
        }
        message.payload = body.mid(at);
        if (qos == 2) {
            reportError(QStringLiteral("ProtocolError"),
                tr("The local broker sent a QoS 2 message although the relay subscribes with QoS 1."));
            return false;
        }
        if (qos == 1)
            m_unacknowledged.insert(quint16(message.packetId), true);
        Q_EMIT messageReceived(message);
        return true;
    }
    case Pingresp: return true;
    case Puback: return true; // we publish nothing
    default:
        reportError(QStringLiteral("ProtocolError"),
            tr("The local broker sent an unexpected packet (type %1).").arg(header >> 4));
        return false;
    }
}

bool MqttSubscriber::acknowledge(const MqttMessage &message)
{
    if (message.qos != 1 || message.connection != m_connection || m_state != State::Connected
        || !m_unacknowledged.remove(quint16(message.packetId)))
        return false;
    QByteArray body;
    body.append(char(message.packetId >> 8)).append(char(message.packetId & 0xff));
    send(packet(Puback << 4, body));
    return true;
}

} // namespace Onboarder
