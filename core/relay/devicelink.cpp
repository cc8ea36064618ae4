#include "relay/devicelink.h"

#include "common/logging.h"
#include "hub/sastoken.h"
#include "mqtt/mqttclient.h"
#include "mqtt/websocket.h"
#include "relay/relaycredentials.h"

#include <QDateTime>
#include <QUrl>

#include <algorithm>

namespace Onboarder {

namespace {

constexpr int maxBackoffSeconds = 300;
constexpr int webSocketPort = 443;

} // namespace

DeviceLink::DeviceLink(const QString &deviceId, const HubProfile &profile, const Options &options,
    RelayCredentials &credentials, QObject *parent)
    : QObject(parent)
    , m_deviceId(deviceId)
    , m_profile(profile)
    , m_options(options)
    , m_credentials(credentials)
{
    m_lastActivity.start();
    m_clock.start();
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &DeviceLink::resolve);
    m_renewTimer.setSingleShot(true);
    connect(&m_renewTimer, &QTimer::timeout, this, [this] {
        m_renewing = true;
        if (m_inFlight.isEmpty())
            renew();
    });
}

DeviceLink::~DeviceLink() = default;

void DeviceLink::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(m_deviceId, state);
}

void DeviceLink::start()
{
    resolve();
}

void DeviceLink::resolve()
{
    setState(State::Resolving);
    m_credentials.secret(m_deviceId).then(this, [this](Result<DeviceSecret> secret) {
        if (!secret) {
            retryLater(secret.error());
            return;
        }
        connectWith(secret->sasKey, secret->certificatePem, secret->privateKeyPem);
    });
}

void DeviceLink::retryLater(const Error &error)
{
    m_lastError = error.message;
    qCWarning(lcRelay).noquote() << "device" << m_deviceId << ":" << error.message << "- retrying in"
                                 << m_backoffSeconds << "s";
    setState(State::Waiting);
    m_retryTimer.start(m_backoffSeconds * 1000);
    m_backoffSeconds = std::min(maxBackoffSeconds, m_backoffSeconds * 2);
}

void DeviceLink::connectWith(
    const SecretBytes &sasKey, const QByteArray &certificatePem, const SecretBytes &privateKeyPem)
{
    if (m_client) {
        // Possibly inside one of its signals (a renewal after the last acknowledgement): deleted later.
        m_client->disconnect(this);
        m_client->disconnectFromHost();
        m_client.release()->deleteLater();
    }
    m_renewing = false; // a session with a fresh token (or a certificate) from here
    m_client = std::make_unique<MqttClient>();
    m_client->setAutoReconnect(true);
    m_client->setReconnectInterval(1, 30);
    m_client->setHostname(m_profile.hostName);
    if (m_options.webSockets) {
        // IoT Hub serves MQTT over WebSockets on 443; a hub with a port of its own (the sandbox) on that port.
        m_client->setPort(m_profile.mqttPort > 0 ? m_profile.mqttPort : webSocketPort);
        m_client->setWebSocketPath(QString::fromLatin1(WebSocket::iotHubPath));
    } else {
        m_client->setPort(m_profile.effectiveMqttPort());
    }
    m_client->setHttpProxy(m_options.proxy);
    m_client->setTlsEnabled(true);
    m_client->setCaFile(m_profile.caFile);
    m_client->setClientId(m_deviceId);
    m_client->setUsername(QStringLiteral("%1/%2/?api-version=2021-04-12").arg(m_profile.hostName, m_deviceId));
    m_client->setCleanSession(true);
    m_client->setKeepAlive(m_options.keepAliveSeconds);
    m_client->setPeerName(tr("the hub %1 (as device %2)").arg(m_profile.hostName, m_deviceId));
    if (!sasKey.isEmpty()) {
        const auto token = SasToken::create(m_profile.hostName + QStringLiteral("/devices/") + m_deviceId, sasKey,
            QDateTime::currentSecsSinceEpoch() + m_options.tokenLifetimeSeconds);
        if (!token) {
            retryLater(token.error());
            return;
        }
        m_client->setPassword(SecretBytes::fromString(token->toString()));
        // Renewed at 80 % of its life; the hub would close the session when it expires.
        m_renewTimer.start(std::chrono::milliseconds(qint64(m_options.tokenLifetimeSeconds) * 800));
    } else {
        if (!m_client->setClientCertificate(certificatePem, privateKeyPem)) {
            retryLater({ErrorKind::InvalidInput, QStringLiteral("UnreadableCredential"),
                tr("The X.509 certificate or key kept for the device %1 cannot be read.").arg(m_deviceId)});
            return;
        }
    }
    connect(m_client.get(), &MqttClient::connected, this, [this] {
        if (!m_probing)
            m_backoffSeconds = 2; // a hub that refuses the device's messages keeps it backing off (holdOff())
        m_lastError.clear();
        setState(State::Connected);
        Q_EMIT readyToSend(m_deviceId);
    });
    connect(m_client.get(), &MqttClient::disconnected, this, [this] {
        const bool hadInFlight = !m_inFlight.isEmpty();
        Interruption interruption;
        if (hadInFlight) {
            // The hub refuses a message by closing the connection (MQTT 3.1.1 has no negative acknowledgement):
            // a close that came soon after the oldest message in flight was sent, on a session that was up and did
            // not merely go quiet, may be a refusal.
            const auto oldest = std::min_element(m_inFlight.cbegin(), m_inFlight.cend(),
                [](const InFlight &a, const InFlight &b) { return a.messageId < b.messageId; });
            interruption.oldestMessageId = oldest->messageId;
            interruption.inFlight = int(m_inFlight.size());
            interruption.closedWhileSending = m_state == State::Connected && m_lastDropCode != u"KeepAliveTimeout"
                && m_clock.elapsed() - oldest->sentMs <= refusalWindowMs;
        }
        m_inFlight.clear();
        m_lastDropCode.clear();
        if (m_state == State::Connected)
            setState(State::Connecting);
        if (hadInFlight)
            Q_EMIT interrupted(m_deviceId, interruption);
        // A renewal that waited for acknowledgements which the drop took away: renew now, with a new session,
        // instead of reconnecting with the old token and sending nothing until it expires.
        if (m_renewing)
            renew();
    });
    connect(m_client.get(), &MqttClient::messageDelivered, this, [this](int token) {
        const auto it = m_inFlight.constFind(token);
        if (it == m_inFlight.cend())
            return;
        const qint64 id = it->messageId;
        const qint64 received = it->receivedMs;
        m_inFlight.erase(it);
        m_lastActivity.start();
        Q_EMIT delivered(m_deviceId, id, received);
        if (m_renewing && m_inFlight.isEmpty())
            renew();
        else if (canSend())
            Q_EMIT readyToSend(m_deviceId);
    });
    connect(m_client.get(), &MqttClient::errorOccurred, this, [this](const Error &error) {
        m_lastError = error.message;
        m_lastDropCode = error.code;
        if (error.kind != ErrorKind::AuthRefused)
            return; // MqttClient reconnects by itself
        // Refused: the key may have been regenerated, or the device disabled or deleted: ask again.
        m_client->disconnectFromHost();
        m_credentials.forget(m_deviceId);
        retryLater(error);
    });
    setState(State::Connecting);
    m_client->connectToHost();
}

void DeviceLink::renew()
{
    m_renewing = false;
    qCInfo(lcRelay) << "device" << m_deviceId << "renews its SAS token";
    resolve();
}

Result<void> DeviceLink::send(const RelayMessage &message)
{
    if (!canSend() || !m_client)
        return fail(ErrorKind::Network, QStringLiteral("NotConnected"),
            tr("The device %1 is not connected to the hub.").arg(m_deviceId));
    const auto token = m_client->publish(message.hubTopic(), message.payload, 1);
    if (!token)
        return std::unexpected(token.error());
    m_inFlight.insert(*token, {message.id, message.receivedMs, m_clock.elapsed()});
    m_lastActivity.start();
    return {};
}

void DeviceLink::setProbing(bool probing)
{
    if (m_probing == probing)
        return;
    m_probing = probing;
    if (!probing && canSend())
        Q_EMIT readyToSend(m_deviceId);
}

void DeviceLink::holdOff(const Error &why)
{
    m_renewTimer.stop();
    m_renewing = false; // the next session has a fresh token anyway
    m_inFlight.clear();
    if (m_client) {
        m_client->disconnect(this);
        m_client->disconnectFromHost();
        m_client.release()->deleteLater(); // possibly inside one of its signals
    }
    retryLater(why);
}

void DeviceLink::close()
{
    m_retryTimer.stop();
    m_renewTimer.stop();
    m_inFlight.clear();
    if (m_client) {
        m_client->disconnect(this);
        m_client->disconnectFromHost();
    }
}

} // namespace Onboarder
