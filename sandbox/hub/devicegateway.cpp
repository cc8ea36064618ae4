#include "devicegateway.h"

#include "certificatepath.h"
#include "credentials/certificate.h"
#include "mqtt/websocket.h"
#include "mqttwire.h"
#include "registry.h"
#include "tlsserver.h"

#include <QDateTime>
#include <QMessageAuthenticationCode>
#include <QSslSocket>
#include <QTcpSocket>

#include <optional>
#include <utility>

namespace Onboarder::Sandbox {

using namespace MqttWire;

namespace {

// A device's connection: the TLS side and the broker side, CONNECT handled once, then bytes piped. A
// connection that starts with an HTTP GET is MQTT over WebSockets (IoT Hub's wss://…/$iothub/websocket):
// upgraded, then the MQTT bytes are taken out of the frames and put back into frames on the way back.
class Link final : public QObject
{
public:
    Link(QSslSocket *device, quint16 brokerPort,
        std::function<QByteArray(const QByteArray &, const QSslCertificate &)> firstPacket)
        : m_device(device)
        , m_broker(new QTcpSocket(this))
        , m_firstPacket(std::move(firstPacket))
    {
        device->setParent(this);
        // MQTT's small packets go out at once (no Nagle), as on a real hub: a QoS 1 stream otherwise waits for
        // delayed ACKs on one side of the pipe or the other.
        m_device->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        connect(m_device, &QTcpSocket::readyRead, this, &Link::fromDevice);
        connect(m_broker, &QTcpSocket::readyRead, this, [this] {
            const QByteArray bytes = m_broker->readAll();
            m_device->write(m_mode == Mode::WebSocket ? WebSocket::frame(WebSocket::Binary, bytes, false) : bytes);
        });
        connect(m_broker, &QTcpSocket::connected, this, [this] {
            m_broker->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            fromDevice();
        });
        connect(m_device, &QTcpSocket::disconnected, this, &Link::close);
        connect(m_broker, &QTcpSocket::disconnected, this, &Link::close);
        connect(m_broker, &QTcpSocket::errorOccurred, this, &Link::close);
        m_broker->connectToHost(QHostAddress::LocalHost, brokerPort);
    }

private:
    enum class Mode { Unknown, Mqtt, Upgrading, WebSocket };

    void fromDevice()
    {
        if (m_broker->state() != QAbstractSocket::ConnectedState)
            return; // read once the broker side is up
        QByteArray data = m_device->readAll();
        if (m_mode == Mode::Unknown) {
            m_head += data;
            if (m_head.size() < 4)
                return;
            m_mode = m_head.startsWith("GET ") ? Mode::Upgrading : Mode::Mqtt;
            data = std::exchange(m_head, {});
        }
        if (m_mode == Mode::Upgrading) {
            m_head += data;
            if (!upgrade())
                return;
            data = std::exchange(m_head, {});
        }
        if (m_mode == Mode::Mqtt)
            return fromDeviceMqtt(data);
        bool ok = true;
        for (const WebSocket::Frame &frame : m_frames.feed(data, &ok)) {
            if (frame.opcode == WebSocket::Binary || frame.opcode == WebSocket::Continuation)
                fromDeviceMqtt(frame.payload);
            else if (frame.opcode == WebSocket::Ping)
                m_device->write(WebSocket::frame(WebSocket::Pong, frame.payload, false));
            else if (frame.opcode != WebSocket::Pong)
                ok = false; // close, or text (MQTT is binary)
            if (m_closing)
                return;
        }
        if (!ok) {
            m_device->write(WebSocket::frame(WebSocket::Close, {}, false));
            close();
        }
    }

    // The HTTP upgrade; false while it is incomplete or when it was refused.
    bool upgrade()
    {
        const auto head = WebSocket::parseHead(m_head);
        if (!head) {
            if (m_head.size() > 16384)
                close();
            return false;
        }
        const QList<QByteArray> request = head->startLine.split(' ');
        const QByteArray path = request.value(1).split('?').value(0); // ?iothub-no-client-cert=true is allowed
        const QByteArray protocols = head->fields.value("sec-websocket-protocol").toLower();
        QByteArray status;
        if (request.value(0) != "GET" || path != WebSocket::iotHubPath)
            status = "404 Not Found";
        else if (head->fields.value("upgrade").toLower() != "websocket" || !head->fields.contains("sec-websocket-key")
            || head->fields.value("sec-websocket-version") != "13" || !protocols.contains(WebSocket::subProtocol))
            status = "400 Bad Request";
        if (!status.isEmpty()) {
            m_device->write("HTTP/1.1 " + status + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            close();
            return false;
        }
        m_device->write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: "
            + WebSocket::acceptKey(head->fields.value("sec-websocket-key"))
            + "\r\nSec-WebSocket-Protocol: " + WebSocket::subProtocol + "\r\n\r\n");
        m_head.remove(0, head->length);
        m_mode = Mode::WebSocket;
        return true;
    }

    void fromDeviceMqtt(const QByteArray &data)
    {
        if (m_connectForwarded) {
            m_broker->write(data);
            return;
        }
        m_buffer += data;
        const qsizetype length = completePacket(m_buffer);
        if (length == 0) {
            if (m_buffer.size() > 65536)
                close();
            return;
        }
        const QByteArray first = m_firstPacket(m_buffer.left(length), m_device->peerCertificate());
        if (first.isEmpty())
            return close(); // not an MQTT CONNECT
        m_broker->write(first + m_buffer.mid(length));
        m_buffer.clear();
        m_connectForwarded = true;
    }

    void close()
    {
        if (m_closing)
            return;
        m_closing = true;
        m_device->disconnectFromHost();
        m_broker->disconnectFromHost();
        deleteLater();
    }

    QSslSocket *m_device;
    QTcpSocket *m_broker;
    std::function<QByteArray(const QByteArray &, const QSslCertificate &)> m_firstPacket;
    QByteArray m_buffer;
    Mode m_mode = Mode::Unknown;
    QByteArray m_head; // the first bytes, or the HTTP upgrade request
    WebSocket::Decoder m_frames;
    bool m_connectForwarded = false;
    bool m_closing = false;
};

} // namespace

DeviceGateway::DeviceGateway(
    Registry &registry, const QSslConfiguration &tls, const QByteArray &secret, quint16 brokerPort, QObject *parent)
    : QObject(parent)
    , m_registry(registry)
    , m_secret(secret)
    , m_brokerPort(brokerPort)
{
    QSslConfiguration configuration = tls;
    // Ask for a client certificate, do not require one, and do not judge its chain here: a self-signed
    // device certificate is checked against the registry below, by thumbprint.
    configuration.setPeerVerifyMode(QSslSocket::QueryPeer);
    m_server.setSslConfiguration(configuration);
    connect(&m_server, &QSslServer::pendingConnectionAvailable, this, &DeviceGateway::accept);
    keepAccepting(m_server);
}

Result<quint16> DeviceGateway::listen(quint16 port)
{
    if (!m_server.listen(QHostAddress::LocalHost, port))
        return fail(ErrorKind::Network, QStringLiteral("PortInUse"),
            QStringLiteral("Cannot listen on 127.0.0.1:%1: %2").arg(port).arg(m_server.errorString()));
    return m_server.serverPort();
}

QByteArray DeviceGateway::assertion(const QByteArray &secret, const QString &deviceId)
{
    return "x509:"
        + QMessageAuthenticationCode::hash("x509:" + deviceId.toUtf8(), secret, QCryptographicHash::Sha256).toBase64();
}

QByteArray DeviceGateway::withPassword(const QByteArray &packet, const QByteArray &password, QString *clientId)
{
    if (packet.isEmpty() || (quint8(packet.at(0)) & 0xf0) != 0x10)
        return {};
    qsizetype pos = 1;
    if (!readVarint(packet, pos))
        return {};
    const qsizetype headerStart = pos;
    const auto protocol = readField(packet, pos);
    if (!protocol || pos + 4 > packet.size())
        return {};
    const quint8 level = quint8(packet.at(pos));
    const qsizetype flagsAt = pos + 1;
    quint8 flags = quint8(packet.at(flagsAt));
    pos += 4; // level, flags, keep-alive
    if (level == 5) {
        const auto length = readVarint(packet, pos);
        if (!length)
            return {};
        pos += *length;
    }
    const auto id = readField(packet, pos);
    if (!id)
        return {};
    *clientId = QString::fromUtf8(*id);
    if (flags & 0x04) { // will
        if (level == 5) {
            const auto length = readVarint(packet, pos);
            if (!length)
                return {};
            pos += *length;
        }
        if (!readField(packet, pos) || !readField(packet, pos))
            return {};
    }
    if (flags & 0x80 && !readField(packet, pos))
        return {};
    // pos: where the password is, or would be. Everything before it stays.
    QByteArray body = packet.mid(headerStart, pos - headerStart);
    body[flagsAt - headerStart] = char(flags | 0x40);
    body += char((password.size() >> 8) & 0xff);
    body += char(password.size() & 0xff);
    body += password;
    return packet.left(1) + varint(body.size()) + body;
}

void DeviceGateway::accept()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        auto *device = qobject_cast<QSslSocket *>(socket);
        if (!device) {
            socket->deleteLater();
            continue;
        }
        adopt(device);
    }
}

void DeviceGateway::adopt(QSslSocket *device)
{
    {
        // The gateway owns its links (a link deletes itself once either side closes): one still open when
        // the hub stops goes with the gateway (its first-packet check points at the gateway, too).
        auto *link = new Link(device, m_brokerPort,
            [this, device](const QByteArray &connect, const QSslCertificate &certificate) -> QByteArray {
                QString clientId;
                if (withPassword(connect, {}, &clientId).isEmpty())
                    return {};
                if (certificate.isNull() || !certificateAccepted(clientId, certificate, device->peerCertificateChain()))
                    return connect; // the broker decides, as for any other client
                return withPassword(connect, assertion(m_secret, clientId), &clientId);
            });
        link->setParent(this);
    }
}

bool DeviceGateway::certificateAccepted(
    const QString &deviceId, const QSslCertificate &leaf, const QList<QSslCertificate> &chain) const
{
    const auto device = m_registry.identity(deviceId); // a module's client id is its key, {deviceId}/{moduleId}
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (!device || leaf.effectiveDate() > now || leaf.expiryDate() < now)
        return false;
    if (device->authType == QStringLiteral("selfSigned")) {
        const QString sha1 = QString::fromLatin1(leaf.digest(QCryptographicHash::Sha1).toHex().toUpper());
        const QString sha256 = QString::fromLatin1(leaf.digest(QCryptographicHash::Sha256).toHex().toUpper());
        for (const QString &registered : {device->primaryThumbprint.toUpper(), device->secondaryThumbprint.toUpper()}) {
            if (!registered.isEmpty() && (registered == sha1 || registered == sha256))
                return true;
        }
        return false;
    }
    if (device->authType != QStringLiteral("certificateAuthority")
        || leaf.subjectInfo(QSslCertificate::CommonName).value(0) != deviceId)
        return false;
    QList<Certificate> presented;
    for (const QSslCertificate &certificate : chain.isEmpty() ? QList<QSslCertificate>{leaf} : chain) {
        auto ours = Certificate::fromDer(certificate.toDer());
        if (!ours)
            return false;
        presented.append(*ours);
    }
    QList<Certificate> trusted;
    for (const QSslCertificate &ca : m_trustedCas) {
        if (auto ours = Certificate::fromDer(ca.toDer()))
            trusted.append(*ours);
    }
    const auto path = CertificatePath::verify(presented, trusted, now);
    if (!path)
        qWarning("sandbox: device %s refused: %s", qPrintable(deviceId), qPrintable(path.error().message));
    return path.has_value();
}

} // namespace Onboarder::Sandbox
