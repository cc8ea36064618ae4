#include "hub/hubtelemetrymonitor.h"

#include "common/logging.h"
#include "hub/sastoken.h"
#include "mqtt/mqttclient.h"

#include <QDateTime>
#include <QUuid>

#include <algorithm>

namespace Onboarder {

namespace {

const QString telemetryFilter = QStringLiteral("$sandbox/telemetry/#");
const QString telemetryPrefix = QStringLiteral("$sandbox/telemetry/");
constexpr qint64 tokenLifetimeSeconds = 3600; // a fresh token for every (re)connection
constexpr int defaultUpdateIntervalMs = 250;

// Failures that do not go away by trying again: the hub said no, or its certificate is not the one expected.
bool isFinal(const Error &error)
{
    static const QStringList final { QStringLiteral("CertificateVerificationFailed"),
        QStringLiteral("CertificateHostNameMismatch"), QStringLiteral("TlsHandshakeFailed"),
        QStringLiteral("SubscriptionRefused") };
    return error.kind != ErrorKind::Network || final.contains(error.code);
}

} // namespace

HubTelemetryMonitor::HubTelemetryMonitor(QObject *parent)
    : QObject(parent)
    , m_updateTimer(this) // children: they follow the monitor to its thread (moveToThread)
    , m_retryTimer(this)
{
    qRegisterMetaType<HubTelemetry>();
    m_updateTimer.setSingleShot(true);
    m_updateTimer.setInterval(defaultUpdateIntervalMs);
    connect(&m_updateTimer, &QTimer::timeout, this, &HubTelemetryMonitor::flush);
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &HubTelemetryMonitor::connectClient);
}

HubTelemetryMonitor::~HubTelemetryMonitor() = default; // the client's destructor closes the connection

Result<void> HubTelemetryMonitor::checkSupported(const HubProfile &profile)
{
    const bool azure = profile.hostName.contains(QLatin1String(".azure-devices."), Qt::CaseInsensitive);
    if (azure || (profile.mqttPort == 0 && profile.caFile.isEmpty()))
        return fail(ErrorKind::Conflict, QStringLiteral("HubTelemetryUnsupported"),
            tr("%1 is not a sandbox hub. What an Azure IoT Hub receives can be read only through its Event "
               "Hub-compatible endpoint (AMQP), which Onboarder does not speak: see it in the Azure portal, in "
               "Azure IoT Explorer or with \"az iot hub monitor-events\".")
                .arg(profile.hostName));
    return {};
}

void HubTelemetryMonitor::setReconnectInterval(int minSeconds, int maxSeconds)
{
    m_retryMinSeconds = std::max(1, minSeconds);
    m_retryMaxSeconds = std::max(m_retryMinSeconds, maxSeconds);
}

QString HubTelemetryMonitor::stateText(State state)
{
    switch (state) {
    case State::Stopped: return tr("Not reading what the hub receives.");
    case State::Connecting: return tr("Connecting to the hub to read what it receives…");
    case State::Listening: return tr("Reading what the hub receives.");
    case State::Unsupported: return tr("What this hub receives cannot be read here.");
    case State::Failed: return tr("Reading what the hub receives failed.");
    }
    return {};
}

void HubTelemetryMonitor::start(const HubProfile &profile, const ConnectionString &service)
{
    stop();
    m_devices.clear();
    m_changed.clear();
    m_total = 0;
    m_lastError = {};
    m_profile = profile;
    m_service = service;

    Result<void> usable = checkSupported(profile);
    if (usable && (service.kind() != ConnectionString::Kind::Service || service.sharedAccessKey().isEmpty()))
        usable = fail(ErrorKind::InvalidInput, QStringLiteral("NotAServiceConnectionString"),
            tr("Reading what hub %1 receives needs the connection string of one of its shared access "
               "policies, not a device's.")
                .arg(profile.name));
    if (!usable) {
        m_lastError = usable.error();
        setState(usable.error().code == QLatin1String("HubTelemetryUnsupported") ? State::Unsupported : State::Failed);
        Q_EMIT errorOccurred(m_lastError);
        return;
    }

    m_client = std::make_unique<MqttClient>();
    m_client->setHostname(profile.hostName);
    m_client->setPort(profile.effectiveMqttPort());
    m_client->setTlsEnabled(true);
    m_client->setCaFile(profile.caFile);
    m_client->setProtocolVersion(MqttClient::ProtocolVersion::Mqtt5); // the properties come as user properties
    m_client->setClientId(QStringLiteral("onboarder-monitor-") + QUuid::createUuid().toString(QUuid::Id128).left(12));
    m_client->setUsername(profile.hostName + QStringLiteral("/$sandbox/consumer"));
    m_client->setCleanSession(true); // live counts: nothing is kept for a monitor that is away
    m_client->setAutoReconnect(true);
    m_client->setReconnectInterval(m_retryMinSeconds, m_retryMaxSeconds);
    connect(m_client.get(), &MqttClient::connected, this, &HubTelemetryMonitor::onConnected);
    connect(m_client.get(), &MqttClient::messageReceived, this, &HubTelemetryMonitor::onMessage);
    connect(m_client.get(), &MqttClient::errorOccurred, this, &HubTelemetryMonitor::onClientError);
    connect(m_client.get(), &MqttClient::subscribed, this, [this](const QString &filter) {
        if (filter == subscription()) {
            m_retrySeconds = 0;
            setState(State::Listening);
        }
    });
    connect(m_client.get(), &MqttClient::disconnected, this, [this] {
        // The client reconnects by itself (or onClientError decides): with a token that has not expired.
        m_client->setPassword(freshToken());
        if (m_state == State::Listening)
            setState(State::Connecting);
    });
    setState(State::Connecting);
    qCDebug(lcHub) << "reading the telemetry of" << profile.name << "at" << profile.hostName
                   << profile.effectiveMqttPort();
    connectClient();
}

void HubTelemetryMonitor::stop()
{
    m_retryTimer.stop();
    if (m_client) {
        m_client->disconnect(this);
        m_client->disconnectFromHost();
        // Not deleted here: stop() may run inside one of the client's signals.
        m_client.release()->deleteLater();
    }
    flush();
    m_service = {};
    setState(State::Stopped);
}

void HubTelemetryMonitor::connectClient()
{
    if (!m_client)
        return;
    m_client->setPassword(freshToken());
    m_client->connectToHost();
}

QByteArray HubTelemetryMonitor::freshToken() const
{
    const auto token = SasToken::create(m_profile.hostName, m_service.sharedAccessKey(),
        QDateTime::currentSecsSinceEpoch() + tokenLifetimeSeconds, m_service.sharedAccessKeyName());
    return token ? token->toString().toUtf8() : QByteArray();
}

void HubTelemetryMonitor::onConnected()
{
    // QoS 1, as a relay's consumer would: the hub's endpoint keeps messages for it rather than drop them.
    // After an automatic reconnect the client sends the subscription again itself; once more does no harm.
    if (auto sent = m_client->subscribe(subscription(), 1); !sent)
        onClientError(sent.error());
}

QString HubTelemetryMonitor::subscription() const
{
    return m_device.isEmpty() ? telemetryFilter : telemetryPrefix + m_device;
}

void HubTelemetryMonitor::onMessage(const MqttMessage &message)
{
    if (!message.topic.startsWith(telemetryPrefix))
        return;
    const QString id = message.topic.mid(telemetryPrefix.size());
    HubTelemetry::Device &device = m_devices[id];
    if (device.id.isEmpty())
        device.id = id;
    ++device.received;
    device.last.truncated = message.payload.size() > HubTelemetry::maxPayloadBytes;
    device.last.payload = device.last.truncated ? message.payload.left(HubTelemetry::maxPayloadBytes) : message.payload;
    device.last.properties = message.userProperties;
    device.last.receivedMs = QDateTime::currentMSecsSinceEpoch();
    ++m_total;
    Q_EMIT messageReceived(id, device.last);
    m_changed.insert(id);
    if (!m_updateTimer.isActive())
        m_updateTimer.start();
}

void HubTelemetryMonitor::flush()
{
    m_updateTimer.stop();
    if (m_changed.isEmpty())
        return;
    HubTelemetry update;
    update.timeMs = QDateTime::currentMSecsSinceEpoch();
    update.total = m_total;
    update.devices.reserve(m_changed.size());
    for (const QString &id : std::as_const(m_changed))
        update.devices.append(m_devices.value(id));
    m_changed.clear();
    Q_EMIT updated(update);
}

void HubTelemetryMonitor::onClientError(const Error &error)
{
    if (!m_client || m_state == State::Stopped)
        return;
    Error reported = error;
    if (error.kind == ErrorKind::AuthRefused)
        reported.message = tr("Hub %1 refused to let Onboarder read what it receives with the key of its policy "
                              "\"%2\": %3")
                               .arg(m_profile.name, m_service.sharedAccessKeyName(), error.message);
    else
        reported.message = tr("Reading what hub %1 receives: %2").arg(m_profile.name, error.message);
    m_lastError = reported;
    qCInfo(lcHub) << reported.message;

    switch (m_client->state()) {
    case MqttClient::State::Connecting: // lost, and the client reconnects with its own backoff
        setState(State::Connecting);
        break;
    case MqttClient::State::Connected:
        if (isFinal(error)) { // the subscription was refused
            m_client->disconnectFromHost();
            setState(State::Failed);
        }
        break;
    case MqttClient::State::Disconnected:
        if (isFinal(error))
            setState(State::Failed);
        else
            scheduleRetry();
        break;
    }
    Q_EMIT errorOccurred(reported);
}

void HubTelemetryMonitor::scheduleRetry()
{
    m_retrySeconds = m_retrySeconds == 0 ? m_retryMinSeconds : std::min(m_retrySeconds * 2, m_retryMaxSeconds);
    qCInfo(lcHub) << "reading the telemetry of" << m_profile.name << "again in" << m_retrySeconds << "s";
    m_retryTimer.start(m_retrySeconds * 1000);
    setState(State::Connecting);
}

void HubTelemetryMonitor::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

} // namespace Onboarder
