#include "mqtt/mqttclient.h"

#include "common/logging.h"
#include "credentials/certificate.h"
#include "credentials/keypair.h"

#include <QDir>
#include <QFileInfo>
#include <QNetworkProxy>
#include <QSslConfiguration>
#include <QSslError>
#include <QSslSocket>
#include <QTcpSocket>

#include <algorithm>
#include <limits>
#include <utility>

namespace Onboarder {

namespace {

constexpr int connectTimeoutSeconds = 30; // TCP, TLS, WebSocket upgrade and CONNACK together
constexpr qsizetype maxStringSize = 65535;

// The broker's reason for refusing something, as a phrase that fits after a colon.
QString reasonText(int code, bool mqtt5)
{
    if (!mqtt5) {
        switch (code) {
        case 1: return MqttClient::tr("unacceptable protocol version");
        case 2: return MqttClient::tr("client identifier rejected");
        case 3: return MqttClient::tr("server unavailable");
        case 4: return MqttClient::tr("bad user name or password");
        case 5: return MqttClient::tr("not authorised");
        case 0x80: return MqttClient::tr("refused");
        default: return MqttClient::tr("unknown reason");
        }
    }
    switch (code) {
    case 0x80: return MqttClient::tr("unspecified error");
    case 0x81: return MqttClient::tr("malformed packet");
    case 0x82: return MqttClient::tr("protocol error");
    case 0x83: return MqttClient::tr("implementation specific error");
    case 0x84: return MqttClient::tr("unsupported protocol version");
    case 0x85: return MqttClient::tr("client identifier not valid");
    case 0x86: return MqttClient::tr("bad user name or password");
    case 0x87: return MqttClient::tr("not authorised");
    case 0x88: return MqttClient::tr("server unavailable");
    case 0x89: return MqttClient::tr("server busy");
    case 0x8A: return MqttClient::tr("banned");
    case 0x8B: return MqttClient::tr("server shutting down");
    case 0x8C: return MqttClient::tr("bad authentication method");
    case 0x8D: return MqttClient::tr("keep-alive timeout");
    case 0x8E: return MqttClient::tr("another connection took over the session");
    case 0x8F: return MqttClient::tr("topic filter not valid");
    case 0x90: return MqttClient::tr("topic name not valid");
    case 0x93: return MqttClient::tr("receive maximum exceeded");
    case 0x95: return MqttClient::tr("packet too large");
    case 0x97: return MqttClient::tr("quota exceeded");
    case 0x99: return MqttClient::tr("payload format not valid");
    case 0x9A: return MqttClient::tr("retain not supported");
    case 0x9B: return MqttClient::tr("QoS not supported");
    case 0x9C: return MqttClient::tr("use another server");
    case 0x9D: return MqttClient::tr("server moved");
    case 0x9E: return MqttClient::tr("shared subscriptions not supported");
    case 0x9F: return MqttClient::tr("connection rate exceeded");
    case 0xA0: return MqttClient::tr("maximum connect time");
    case 0xA1: return MqttClient::tr("subscription identifiers not supported");
    case 0xA2: return MqttClient::tr("wildcard subscriptions not supported");
    default: return MqttClient::tr("unknown reason");
    }
}

// "MQTT return code 5" (3.1.1 CONNACK), "MQTT return code 0x80" (3.1.1 SUBACK), "MQTT reason code 0x87" (5).
QString codeText(int code, bool mqtt5)
{
    if (mqtt5 || code >= 0x80) // 0x80: a 3.1.1 SUBACK's failure
        return MqttClient::tr("MQTT %1 code 0x%2")
            .arg(mqtt5 ? MqttClient::tr("reason") : MqttClient::tr("return"))
            .arg(code, 2, 16, QLatin1Char('0'));
    return MqttClient::tr("MQTT return code %1").arg(code);
}

// The broker's reason phrase, with its own words (an MQTT 5 reason string) when it gave some.
QString why(int code, bool mqtt5, const QString &reasonString)
{
    QString text = reasonText(code, mqtt5);
    if (!reasonString.isEmpty())
        text += QStringLiteral(", \"") + reasonString.left(200) + u'"';
    return text;
}

bool isCredentialRefusal(int code, bool mqtt5)
{
    if (!mqtt5)
        return code == 4 || code == 5;
    return code == 0x86 || code == 0x87 || code == 0x8A || code == 0x8C;
}

// Whether a refusal may go away by itself soon (worth another attempt at the usual interval).
bool isTransientRefusal(int code, bool mqtt5)
{
    if (!mqtt5)
        return code == 3;
    return code == 0x88 || code == 0x89 || code == 0x8B || code == 0x9F;
}

QString capitalised(QString text)
{
    if (!text.isEmpty())
        text[0] = text.at(0).toUpper();
    return text;
}

Result<void> validateTopic(const QString &topic)
{
    if (topic.isEmpty() || topic.contains(u'+') || topic.contains(u'#') || topic.contains(QChar(0))
        || topic.toUtf8().size() > maxStringSize)
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidTopic"),
            MqttClient::tr("\"%1\" is not a topic one can publish to: a topic is 1 to 65535 bytes and has no "
                           "wildcards (+, #).")
                .arg(topic));
    return {};
}

Result<void> validateFilter(const QString &filter)
{
    bool valid = !filter.isEmpty() && !filter.contains(QChar(0)) && filter.toUtf8().size() <= maxStringSize;
    const QStringList levels = filter.split(u'/');
    for (qsizetype i = 0; valid && i < levels.size(); ++i) {
        const QString &level = levels.at(i);
        if (level.contains(u'#') && (level.size() != 1 || i != levels.size() - 1))
            valid = false;
        if (level.contains(u'+') && level.size() != 1)
            valid = false;
    }
    if (!valid)
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidTopicFilter"),
            MqttClient::tr("\"%1\" is not a valid topic filter: + must stand for a whole level, and # for the "
                           "last level only.")
                .arg(filter));
    return {};
}

Result<void> validateQos(int qos)
{
    if (qos < 0 || qos > 1)
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidQos"),
            MqttClient::tr("QoS %1 is not supported; use 0 or 1.").arg(qos));
    return {};
}

} // namespace

MqttClient::MqttClient(QObject *parent)
    : QObject(parent)
    , m_reconnectTimer(this)
    , m_pingTimer(this)
    , m_connectTimer(this)
{
    m_reconnectTimer.setSingleShot(true);
    m_connectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &MqttClient::startAttempt);
    connect(&m_pingTimer, &QTimer::timeout, this, &MqttClient::onPingTimer);
    connect(&m_connectTimer, &QTimer::timeout, this, [this] {
        endConnection({ErrorKind::Network, QStringLiteral("ConnectTimeout"),
                          tr("No answer from %1 within %2 seconds.").arg(peerName()).arg(connectTimeoutSeconds)},
            true);
    });
}

MqttClient::~MqttClient()
{
    if (!m_socket)
        return;
    m_socket->disconnect(this);
    if (m_state == State::Connected) {
        send(MqttPacket::encode(MqttPacket::Disconnect << 4, {}));
        m_socket->flush();
    }
    m_socket->abort();
}

Result<void> MqttClient::setClientCertificate(const QByteArray &certificatePem, const SecretBytes &privateKeyPem)
{
    if (certificatePem.isEmpty() && privateKeyPem.isEmpty()) {
        m_certificate.clear();
        m_chain.clear();
        m_key.clear();
        return {};
    }
    const auto chain = Certificate::listFromPem(certificatePem);
    if (!chain)
        return std::unexpected(chain.error());
    if (chain->isEmpty())
        return Onboarder::fail(ErrorKind::InvalidInput, QStringLiteral("NotPemCertificate"),
            tr("The client certificate is not a PEM certificate."));
    const auto key = KeyPair::fromPem(privateKeyPem.view());
    if (!key)
        return std::unexpected(key.error());
    if (!chain->first().matches(*key))
        return Onboarder::fail(ErrorKind::InvalidInput, QStringLiteral("CertificateKeyMismatch"),
            tr("The client certificate \"%1\" does not belong to the private key given with it.")
                .arg(chain->first().subjectCommonName()));
    QList<QSslCertificate> certificates = QSslCertificate::fromData(certificatePem, QSsl::Pem);
    const bool rsa = key->type() == KeyPair::Type::Rsa2048 || key->type() == KeyPair::Type::Rsa3072;
    // QSslKey reads a QByteArray only: a copy made for it and dropped at once.
    QSslKey sslKey(privateKeyPem.exposeForWire(), rsa ? QSsl::Rsa : QSsl::Ec, QSsl::Pem);
    if (sslKey.isNull())
        sslKey = QSslKey(privateKeyPem.exposeForWire(), rsa ? QSsl::Ec : QSsl::Rsa, QSsl::Pem);
    if (certificates.isEmpty() || sslKey.isNull())
        return Onboarder::fail(ErrorKind::InvalidInput, QStringLiteral("UnsupportedClientKey"),
            tr("The client certificate \"%1\" or its key cannot be used for TLS.")
                .arg(chain->first().subjectCommonName()));
    m_certificate = certificates.takeFirst();
    m_chain = certificates;
    m_key = sslKey;
    return {};
}

void MqttClient::setReconnectInterval(int minSeconds, int maxSeconds)
{
    m_reconnectMinSeconds = std::max(1, minSeconds);
    m_reconnectMaxSeconds = std::max(m_reconnectMinSeconds, maxSeconds);
}

int MqttClient::effectivePort() const
{
    if (m_port > 0)
        return m_port;
    if (!m_webSocketPath.isEmpty())
        return m_tlsEnabled ? 443 : 80;
    return m_tlsEnabled ? 8883 : 1883;
}

QString MqttClient::peerName() const
{
    if (!m_peerName.isEmpty())
        return m_peerName;
    const QString host = m_active.hostname.contains(u':') ? u'[' + m_active.hostname + u']' : m_active.hostname;
    return tr("the broker at %1:%2").arg(host).arg(m_active.port);
}

void MqttClient::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void MqttClient::connectToHost()
{
    m_wanted = true;
    if (m_state == State::Connected || (m_state == State::Connecting && !m_reconnectTimer.isActive()))
        return;
    m_reconnectTimer.stop();
    startAttempt();
}

void MqttClient::disconnectFromHost()
{
    m_wanted = false;
    m_reconnectTimer.stop();
    m_pingTimer.stop();
    m_connectTimer.stop();
    const bool wasConnected = m_state == State::Connected;
    if (m_socket) {
        m_socket->disconnect(this);
        if (wasConnected) {
            send(MqttPacket::encode(MqttPacket::Disconnect << 4, {}));
            m_socket->flush();
        }
        QTcpSocket *socket = std::exchange(m_socket, nullptr);
        // Closed once what is written has gone out; gone with this object at the latest.
        connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
        socket->disconnectFromHost();
        if (socket->state() == QAbstractSocket::UnconnectedState)
            socket->deleteLater();
        else
            QTimer::singleShot(5000, socket, &QObject::deleteLater);
    }
    forgetExchanges();
    setState(State::Disconnected);
    if (wasConnected)
        Q_EMIT disconnected();
}

void MqttClient::forgetExchanges()
{
    m_unacknowledged.clear();
    m_publishes.clear();
    m_pendingRequests.clear();
}

void MqttClient::closeSocket()
{
    if (!m_socket)
        return;
    m_socket->disconnect(this);
    m_socket->abort();
    m_socket->deleteLater();
    m_socket = nullptr;
}

void MqttClient::startAttempt()
{
    closeSocket();
    m_active = {m_hostname, effectivePort(), m_tlsEnabled, int(m_protocolVersion), m_webSocketPath, m_httpProxy};
    ++m_connection;
    m_buffer.clear();
    m_framing = m_active.webSocketPath.isEmpty() ? Framing::Raw : Framing::Upgrading;
    m_webSocketHead.clear();
    m_webSocketDecoder = {};
    forgetExchanges();
    m_sslErrors.clear();
    m_handshakeDone = false;
    m_maximumPacketSize = 0;
    setState(State::Connecting);

    // Settings errors come as errorOccurred, never from inside connectToHost().
    std::optional<Error> invalid;
    if (m_active.hostname.isEmpty())
        invalid
            = Error{ErrorKind::InvalidInput, QStringLiteral("MissingHostName"), tr("No MQTT broker host name is set.")};
    else if (hasClientCertificate() && !m_active.tls)
        invalid = Error{ErrorKind::InvalidInput, QStringLiteral("ClientCertificateNeedsTls"),
            tr("A client certificate can only be used with TLS; turn TLS on.")};
    else if (!m_active.webSocketPath.isEmpty() && !m_active.webSocketPath.startsWith(u'/'))
        invalid = Error{ErrorKind::InvalidInput, QStringLiteral("InvalidWebSocketPath"),
            tr("The WebSocket path must start with \"/\" (IoT Hub's is %1).")
                .arg(QLatin1String(WebSocket::iotHubPath))};
    else if (!m_active.httpProxy.isEmpty()
        && (m_active.httpProxy.scheme() != QStringLiteral("http") || m_active.httpProxy.host().isEmpty()))
        invalid = Error{ErrorKind::InvalidInput, QStringLiteral("InvalidProxy"),
            tr("The proxy must be given as http://host:port.")};
    else if (m_active.tls && !m_caFile.isEmpty() && !QFileInfo(m_caFile).isReadable())
        invalid = Error{ErrorKind::NotFound, QStringLiteral("CaFileNotFound"),
            tr("The CA file %1 does not exist or cannot be read.").arg(QDir::toNativeSeparators(m_caFile))};
    QList<QSslCertificate> extraCas;
    if (!invalid && m_active.tls && !m_caFile.isEmpty()) {
        extraCas = QSslCertificate::fromPath(m_caFile, QSsl::Pem);
        if (extraCas.isEmpty())
            invalid = Error{ErrorKind::InvalidInput, QStringLiteral("CaFileUnreadable"),
                tr("The CA file %1 holds no PEM certificate.").arg(QDir::toNativeSeparators(m_caFile))};
    }
    if (invalid) {
        const quint64 attempt = m_connection;
        QMetaObject::invokeMethod(
            this,
            [this, attempt, error = *invalid] {
                if (attempt == m_connection && m_state == State::Connecting && !m_socket)
                    endConnection(error, false);
            },
            Qt::QueuedConnection);
        return;
    }

    if (m_active.tls) {
        auto *socket = new QSslSocket(this);
        QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
        configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
        if (!extraCas.isEmpty())
            configuration.setCaCertificates(configuration.caCertificates() + extraCas);
        if (!m_certificate.isNull()) {
            configuration.setLocalCertificateChain(QList{m_certificate} + m_chain);
            configuration.setPrivateKey(m_key);
        }
        socket->setSslConfiguration(configuration);
        connect(socket, &QSslSocket::encrypted, this, &MqttClient::onSocketConnected);
        connect(socket, &QSslSocket::sslErrors, this, &MqttClient::onSslErrors);
        m_socket = socket;
    } else {
        m_socket = new QTcpSocket(this);
        connect(m_socket, &QTcpSocket::connected, this, &MqttClient::onSocketConnected);
    }
    m_socket->setProxy(m_active.httpProxy.isEmpty()
            ? QNetworkProxy(QNetworkProxy::NoProxy)
            : QNetworkProxy(QNetworkProxy::HttpProxy, m_active.httpProxy.host(), quint16(m_active.httpProxy.port(80))));
    connect(m_socket, &QTcpSocket::readyRead, this, &MqttClient::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, &MqttClient::onSocketError);
    connect(m_socket, &QTcpSocket::errorOccurred, this, &MqttClient::onSocketError);
    m_connectTimer.start(connectTimeoutSeconds * 1000);
    if (auto *socket = qobject_cast<QSslSocket *>(m_socket))
        socket->connectToHostEncrypted(m_active.hostname, quint16(m_active.port));
    else
        m_socket->connectToHost(m_active.hostname, quint16(m_active.port));
}

void MqttClient::onSocketConnected()
{
    m_handshakeDone = true;
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1); // small packets out at once
    if (m_framing == Framing::Upgrading) {
        m_webSocketKey = WebSocket::newKey();
        m_socket->write(WebSocket::clientHandshake(
            m_active.hostname, m_active.port, m_active.webSocketPath.toUtf8(), m_webSocketKey));
        return; // CONNECT once upgraded
    }
    sendConnect();
}

void MqttClient::sendConnect()
{
    m_lastReceived.start();
    send(MqttPacket::connect(
        {m_clientId, m_username, m_password.view(), m_cleanSession, m_keepAlive, int(m_active.level)}));
}

void MqttClient::onSslErrors(const QList<QSslError> &errors)
{
    m_sslErrors = errors; // not ignored: the handshake fails, and onSocketError() says why
}

void MqttClient::onSocketError()
{
    if (!m_socket)
        return;
    const QAbstractSocket::SocketError socketError = m_socket->error();
    const QString reason = m_socket->errorString();
    if (m_state == State::Connected) {
        endConnection({ErrorKind::Network, QStringLiteral("ConnectionLost"),
                          tr("Lost the connection to %1: %2.").arg(peerName(), reason)},
            true);
        return;
    }
    if (!m_sslErrors.isEmpty()) {
        const auto hostName = std::find_if(m_sslErrors.cbegin(), m_sslErrors.cend(),
            [](const QSslError &error) { return error.error() == QSslError::HostNameMismatch; });
        if (hostName != m_sslErrors.cend()) {
            endConnection({ErrorKind::Network, QStringLiteral("CertificateHostNameMismatch"),
                              tr("The certificate of %1 failed verification: it is not valid for the host name "
                                 "\"%2\".")
                                  .arg(peerName(), m_active.hostname)},
                false, true);
            return;
        }
        endConnection({ErrorKind::Network, QStringLiteral("CertificateVerificationFailed"),
                          tr("The certificate of %1 failed verification (%2): it is not issued by a trusted CA, or "
                             "it has expired. Check the CA file.")
                              .arg(peerName(), m_sslErrors.constFirst().errorString())},
            false, true);
        return;
    }
    switch (socketError) {
    case QAbstractSocket::ProxyConnectionRefusedError:
    case QAbstractSocket::ProxyConnectionClosedError:
    case QAbstractSocket::ProxyConnectionTimeoutError:
    case QAbstractSocket::ProxyNotFoundError:
    case QAbstractSocket::ProxyProtocolError:
    case QAbstractSocket::ProxyAuthenticationRequiredError:
        endConnection({ErrorKind::Network, QStringLiteral("ProxyFailed"),
                          tr("The proxy %1 did not connect to %2: %3.")
                              .arg(m_active.httpProxy.toDisplayString(), peerName(), reason)},
            true);
        return;
    default: break;
    }
    if (!m_handshakeDone && socketError == QAbstractSocket::SslHandshakeFailedError) {
        // The broker's certificate was fine (no sslErrors): the broker ended the handshake, e.g. with an alert for a
        // missing or refused client certificate.
        endConnection({ErrorKind::Network, QStringLiteral("TlsHandshakeFailed"),
                          hasClientCertificate()
                              ? tr("The TLS handshake with %1 failed: %2. Did it accept the client certificate?")
                                    .arg(peerName(), reason)
                              : tr("The TLS handshake with %1 failed: %2. It may require a client certificate.")
                                    .arg(peerName(), reason)},
            false, true);
        return;
    }
    if (!m_handshakeDone) {
        endConnection({ErrorKind::Network, QStringLiteral("BrokerUnreachable"),
                          tr("Cannot reach %1: %2.").arg(peerName(), reason)},
            true);
        return;
    }
    if (m_active.tls) {
        // TLS 1.3: the client's handshake is done before the broker looks at its certificate; a broker that wants
        // one (or does not like it) closes the connection right after.
        endConnection(
            {ErrorKind::Network, QStringLiteral("TlsHandshakeFailed"),
                hasClientCertificate() ? tr("%1 closed the TLS connection: it did not accept the client certificate.")
                                             .arg(capitalised(peerName()))
                                       : tr("%1 closed the TLS connection: it may require a client certificate.")
                                             .arg(capitalised(peerName()))},
            false, true);
        return;
    }
    endConnection(
        {ErrorKind::Network, QStringLiteral("ConnectionClosed"),
            tr("%1 closed the connection without answering. Does it expect TLS?").arg(capitalised(peerName()))},
        true);
}

void MqttClient::endConnection(const Error &error, bool retryable, bool refusal)
{
    const bool wasConnected = m_state == State::Connected;
    closeSocket();
    m_pingTimer.stop();
    m_connectTimer.stop();
    forgetExchanges();
    if (m_wanted && m_autoReconnect && (retryable || refusal)) {
        const int wait = retryable ? (wasConnected ? m_reconnectMinSeconds : m_backoffSeconds) : m_reconnectMaxSeconds;
        m_backoffSeconds = std::min(m_reconnectMaxSeconds, std::max(m_reconnectMinSeconds, wait) * 2);
        setState(State::Connecting);
        m_reconnectTimer.start(wait * 1000);
    } else {
        m_wanted = false;
        setState(State::Disconnected);
    }
    if (wasConnected)
        Q_EMIT disconnected();
    if (!error.code.isEmpty()) {
        qCInfo(lcMqtt).noquote() << error.code << error.message;
        Q_EMIT errorOccurred(error); // last: a slot may connect or disconnect
    }
}

void MqttClient::send(const QByteArray &packet)
{
    if (!m_socket)
        return;
    if (m_framing == Framing::Framed)
        m_socket->write(WebSocket::frame(WebSocket::Binary, packet, true));
    else
        m_socket->write(packet);
}

bool MqttClient::takeWebSocketData(const QByteArray &data)
{
    QByteArray framed = data;
    if (m_framing == Framing::Upgrading) {
        m_webSocketHead += data;
        const auto head = WebSocket::parseHead(m_webSocketHead);
        if (!head) {
            if (m_webSocketHead.size() > 16384)
                endConnection({ErrorKind::Network, QStringLiteral("WebSocketRefused"),
                                  tr("No WebSocket upgrade from %1.").arg(peerName())},
                    false, true);
            return false;
        }
        if (const QString why = WebSocket::checkServerHandshake(*head, m_webSocketKey); !why.isEmpty()) {
            // Refused by the server (a wrong path or port, a proxy's error page): not worth retrying soon.
            endConnection({ErrorKind::Network, QStringLiteral("WebSocketRefused"),
                              tr("Cannot use MQTT over WebSockets with %1: %2.").arg(peerName(), why)},
                false, true);
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
        case WebSocket::Close:
            endConnection(
                {ErrorKind::Network,
                    m_state == State::Connected ? QStringLiteral("ConnectionLost") : QStringLiteral("ConnectionClosed"),
                    tr("%1 closed the WebSocket.").arg(capitalised(peerName()))},
                true);
            return false;
        default: ok = false; break;
        }
    }
    if (!ok)
        return protocolError(tr("a malformed WebSocket frame"));
    return true;
}

void MqttClient::onReadyRead()
{
    const QByteArray data = m_socket->readAll();
    m_lastReceived.start();
    if (m_framing == Framing::Raw)
        m_buffer += data;
    else if (!takeWebSocketData(data))
        return;
    const quint64 connection = m_connection;
    while (m_socket && connection == m_connection) {
        MqttPacket::Frame frame;
        const MqttPacket::Framing framing = MqttPacket::take(m_buffer, &frame);
        if (framing == MqttPacket::Framing::Incomplete)
            return;
        if (framing == MqttPacket::Framing::Malformed) {
            protocolError(tr("a packet of a malformed length"));
            return;
        }
        if (!handlePacket(frame))
            return;
    }
}

bool MqttClient::protocolError(const QString &what)
{
    endConnection(
        {ErrorKind::Network, QStringLiteral("ProtocolError"),
            tr("%1 broke the MQTT protocol (%2); the connection was closed.").arg(capitalised(peerName()), what)},
        true);
    return false;
}

bool MqttClient::handlePacket(const MqttPacket::Frame &frame)
{
    if (m_state != State::Connected && frame.type() != MqttPacket::Connack)
        return protocolError(tr("packet type %1 before CONNACK").arg(frame.type()));
    switch (frame.type()) {
    case MqttPacket::Connack: return onConnack(frame);
    case MqttPacket::Publish: return onPublish(frame);
    case MqttPacket::Puback: return onPuback(frame);
    case MqttPacket::Suback: return onSuback(frame, false);
    case MqttPacket::Unsuback: return onSuback(frame, true);
    case MqttPacket::Pingresp: return true;
    case MqttPacket::Disconnect: {
        const auto disconnect = MqttPacket::readDisconnect(frame.body, m_active.level);
        if (!disconnect)
            return protocolError(tr("a malformed DISCONNECT"));
        const int code = disconnect->reasonCode;
        const bool refused = isCredentialRefusal(code, true);
        endConnection(
            {refused ? ErrorKind::AuthRefused : ErrorKind::Network, QStringLiteral("ClosedByBroker"),
                tr("%1 closed the connection: %2 (%3).")
                    .arg(capitalised(peerName()), why(code, true, disconnect->reasonString), codeText(code, true))},
            !refused && code != 0x8E, refused);
        return false;
    }
    default: return protocolError(tr("unexpected packet type %1").arg(frame.type()));
    }
}

bool MqttClient::onConnack(const MqttPacket::Frame &frame)
{
    if (m_state == State::Connected)
        return protocolError(tr("a second CONNACK"));
    const auto connack = MqttPacket::readConnack(frame.body, m_active.level);
    if (!connack)
        return protocolError(tr("a malformed CONNACK"));
    const bool v5 = mqtt5();
    if (const int code = connack->returnCode; code != 0) {
        const QString text
            = tr("%1 refused the connection: %2 (%3).")
                  .arg(capitalised(peerName()), why(code, v5, connack->properties.reasonString), codeText(code, v5));
        Error error{ErrorKind::Network, QStringLiteral("ConnectionRefused"), text};
        if ((!v5 && code == 4) || (v5 && code == 0x86))
            error = {ErrorKind::AuthRefused, QStringLiteral("BadUserNameOrPassword"), text};
        else if (isCredentialRefusal(code, v5))
            error = {ErrorKind::AuthRefused, QStringLiteral("NotAuthorized"), text};
        else if ((!v5 && code == 2) || (v5 && code == 0x85))
            error = {ErrorKind::InvalidInput, QStringLiteral("ClientIdRejected"), text};
        const bool transient = isTransientRefusal(code, v5);
        endConnection(error, transient, !transient);
        return false;
    }
    m_connectTimer.stop();
    m_backoffSeconds = m_reconnectMinSeconds;
    m_maximumPacketSize = connack->properties.maximumPacketSize;
    const int keepAlive = connack->properties.serverKeepAlive >= 0 ? connack->properties.serverKeepAlive : m_keepAlive;
    if (keepAlive > 0)
        m_pingTimer.start(std::max(1, keepAlive / 2) * 1000);
    m_effectiveKeepAlive = keepAlive;
    setState(State::Connected);
    for (auto it = m_subscriptions.cbegin(); it != m_subscriptions.cend(); ++it)
        sendSubscribe(it.key(), it.value());
    const quint64 connection = m_connection;
    Q_EMIT connected(connack->sessionPresent);
    return m_socket && connection == m_connection;
}

bool MqttClient::onPublish(const MqttPacket::Frame &frame)
{
    auto message = MqttPacket::readPublish(frame.header, frame.body, m_active.level);
    if (!message)
        return protocolError(tr("a malformed PUBLISH"));
    if (message->qos == 2)
        return protocolError(tr("a QoS 2 message, which no subscription asked for"));
    message->connection = m_connection;
    if (message->qos == 1)
        m_unacknowledged.insert(quint16(message->packetId));
    const quint64 connection = m_connection;
    Q_EMIT messageReceived(*message);
    if (!m_socket || connection != m_connection)
        return false; // the owner ended the connection in its slot
    if (message->qos == 1 && !m_manualAcknowledgement)
        acknowledge(*message);
    return true;
}

bool MqttClient::onPuback(const MqttPacket::Frame &frame)
{
    const auto ack = MqttPacket::readPuback(frame.body, m_active.level);
    if (!ack)
        return protocolError(tr("a malformed PUBACK"));
    const auto it = m_publishes.find(ack->packetId);
    if (it == m_publishes.end())
        return true; // not ours (any more)
    const int token = it.value();
    m_publishes.erase(it);
    const quint64 connection = m_connection;
    if (ack->reasonCode >= 0x80) {
        Q_EMIT errorOccurred({isCredentialRefusal(ack->reasonCode, true) ? ErrorKind::AuthRefused : ErrorKind::Conflict,
            QStringLiteral("PublishRefused"),
            tr("%1 refused message %2: %3 (%4).")
                .arg(capitalised(peerName()))
                .arg(token)
                .arg(why(ack->reasonCode, true, ack->reasonString), codeText(ack->reasonCode, true))});
    } else {
        Q_EMIT messageDelivered(token);
    }
    return m_socket && connection == m_connection;
}

bool MqttClient::onSuback(const MqttPacket::Frame &frame, bool unsubscribe)
{
    const bool v5 = mqtt5();
    const auto ack = unsubscribe ? MqttPacket::readUnsuback(frame.body, m_active.level)
                                 : MqttPacket::readSuback(frame.body, m_active.level);
    if (!ack)
        return protocolError(unsubscribe ? tr("a malformed UNSUBACK") : tr("a malformed SUBACK"));
    const auto it = m_pendingRequests.find(ack->packetId);
    if (it == m_pendingRequests.end())
        return true;
    const Pending request = std::move(it.value());
    m_pendingRequests.erase(it);
    if ((request.kind == Pending::Unsubscribe) != unsubscribe)
        return protocolError(tr("an acknowledgement of another kind than the request %1").arg(ack->packetId));
    const int code = ack->grantedQos.value(0, 0);
    const quint64 connection = m_connection;
    if (unsubscribe) {
        if (code >= 0x80)
            Q_EMIT errorOccurred({ErrorKind::Network, QStringLiteral("UnsubscribeFailed"),
                tr("Unsubscribing from %1 failed: %2 (%3).")
                    .arg(request.filter, why(code, v5, ack->reasonString), codeText(code, v5))});
        else
            Q_EMIT unsubscribed(request.filter);
    } else if (code >= 0x80) {
        m_subscriptions.remove(request.filter);
        const Error error{ErrorKind::AuthRefused, QStringLiteral("SubscriptionRefused"),
            tr("%1 refused the subscription to %2: %3 (%4).")
                .arg(capitalised(peerName()), request.filter, why(code, v5, ack->reasonString), codeText(code, v5))};
        qCWarning(lcMqtt).noquote() << error.message;
        Q_EMIT subscriptionFailed(request.filter, error);
        Q_EMIT errorOccurred(error);
    } else {
        Q_EMIT subscribed(request.filter, code);
    }
    return m_socket && connection == m_connection;
}

void MqttClient::onPingTimer()
{
    if (m_state != State::Connected)
        return;
    if (m_lastReceived.isValid() && m_lastReceived.elapsed() > qint64(m_effectiveKeepAlive) * 1500) {
        endConnection({ErrorKind::Network, QStringLiteral("KeepAliveTimeout"),
                          tr("No answer from %1 for %2 seconds: the connection is taken as lost.")
                              .arg(peerName())
                              .arg(m_lastReceived.elapsed() / 1000)},
            true);
        return;
    }
    send(MqttPacket::encode(MqttPacket::Pingreq << 4, {}));
}

quint16 MqttClient::nextPacketId()
{
    // Ids in use are few (a window of publishes, a few subscriptions): the next free one is near.
    do {
        if (++m_lastPacketId == 0)
            m_lastPacketId = 1;
    } while (m_publishes.contains(m_lastPacketId) || m_pendingRequests.contains(m_lastPacketId));
    return m_lastPacketId;
}

Result<int> MqttClient::publish(
    const QString &topic, const QByteArray &payload, int qos, bool retain, const MqttUserProperties &userProperties)
{
    if (auto ok = validateTopic(topic); !ok)
        return std::unexpected(ok.error());
    if (auto ok = validateQos(qos); !ok)
        return std::unexpected(ok.error());
    if (m_state != State::Connected || !m_socket)
        return Onboarder::fail(ErrorKind::Conflict, QStringLiteral("NotConnected"),
            tr("Not connected to %1: the message to %2 was not sent.").arg(peerName(), topic));
    if (!userProperties.isEmpty() && !mqtt5())
        return Onboarder::fail(ErrorKind::InvalidInput, QStringLiteral("UserPropertiesNeedMqtt5"),
            tr("User properties need MQTT 5; this connection uses MQTT 3.1.1."));
    if (payload.size() + topic.size() * 3 + 16 > MqttPacket::maxRemainingLength)
        return Onboarder::fail(ErrorKind::InvalidInput, QStringLiteral("PayloadTooLarge"),
            tr("The message is too large for MQTT (%1 bytes).").arg(payload.size()));
    if (qos > 0 && m_publishes.size() >= 65535)
        return Onboarder::fail(ErrorKind::Conflict, QStringLiteral("TooManyInFlight"),
            tr("Too many messages to %1 wait for an acknowledgement.").arg(peerName()));
    const quint16 id = qos > 0 ? nextPacketId() : 0;
    const QByteArray packet
        = MqttPacket::publish(topic, payload, qos, id, retain, false, m_active.level, userProperties);
    if (m_maximumPacketSize > 0 && quint64(packet.size()) > m_maximumPacketSize)
        return Onboarder::fail(ErrorKind::InvalidInput, QStringLiteral("PacketTooLarge"),
            tr("The message to %1 is %2 bytes as a packet; %3 takes at most %4.")
                .arg(topic)
                .arg(packet.size())
                .arg(peerName())
                .arg(m_maximumPacketSize));
    m_lastToken = m_lastToken == std::numeric_limits<int>::max() ? 1 : m_lastToken + 1;
    if (qos > 0)
        m_publishes.insert(id, m_lastToken);
    send(packet);
    return m_lastToken;
}

Result<void> MqttClient::subscribe(const QString &filter, int qos)
{
    if (auto ok = validateFilter(filter); !ok)
        return ok;
    if (auto ok = validateQos(qos); !ok)
        return ok;
    if (m_state == State::Disconnected)
        return Onboarder::fail(ErrorKind::Conflict, QStringLiteral("NotConnected"),
            tr("Not connected to %1: cannot subscribe to %2.").arg(peerName(), filter));
    m_subscriptions.insert(filter, qos);
    if (m_state == State::Connected)
        sendSubscribe(filter, qos);
    return {}; // else sent once connected
}

void MqttClient::sendSubscribe(const QString &filter, int qos)
{
    const quint16 id = nextPacketId();
    m_pendingRequests.insert(id, {Pending::Subscribe, filter});
    send(MqttPacket::subscribe(id, filter, qos, m_active.level));
}

Result<void> MqttClient::unsubscribe(const QString &filter)
{
    if (auto ok = validateFilter(filter); !ok)
        return ok;
    if (m_state != State::Connected)
        return Onboarder::fail(ErrorKind::Conflict, QStringLiteral("NotConnected"),
            tr("Not connected to %1: cannot unsubscribe from %2.").arg(peerName(), filter));
    m_subscriptions.remove(filter);
    const quint16 id = nextPacketId();
    m_pendingRequests.insert(id, {Pending::Unsubscribe, filter});
    send(MqttPacket::unsubscribe(id, filter, m_active.level));
    return {};
}

bool MqttClient::acknowledge(const MqttMessage &message)
{
    if (message.qos != 1 || message.connection != m_connection || m_state != State::Connected
        || !m_unacknowledged.remove(quint16(message.packetId)))
        return false;
    send(MqttPacket::acknowledgement(MqttPacket::Puback, quint16(message.packetId)));
    return true;
}

} // namespace Onboarder
