#include "hub/hubtelemetrymonitor.h"

#include "common/logging.h"

#include <QDateTime>

#include <algorithm>

namespace Onboarder {

namespace {
constexpr int defaultUpdateIntervalMs = 250;
} // namespace

HubTelemetryMonitor::HubTelemetryMonitor(QObject *parent)
    : QObject(parent)
    , m_updateTimer(this) // a child: it follows the monitor to its thread (moveToThread)
{
    qRegisterMetaType<HubTelemetry>();
    m_updateTimer.setSingleShot(true);
    m_updateTimer.setInterval(defaultUpdateIntervalMs);
    connect(&m_updateTimer, &QTimer::timeout, this, &HubTelemetryMonitor::flush);
}

HubTelemetryMonitor::~HubTelemetryMonitor() = default; // the reader's destructor closes the connection

void HubTelemetryMonitor::setReconnectInterval(int minSeconds, int maxSeconds)
{
    m_retryMinSeconds = std::max(1, minSeconds);
    m_retryMaxSeconds = std::max(m_retryMinSeconds, maxSeconds);
}

void HubTelemetryMonitor::setReaderOptions(const EventHubReader::Options &options)
{
    const QString device = m_options.deviceId;
    m_options = options;
    if (m_options.deviceId.isEmpty())
        m_options.deviceId = device;
}

QString HubTelemetryMonitor::stateText(State state)
{
    switch (state) {
    case State::Stopped: return tr("Not reading what the hub receives.");
    case State::Connecting: return tr("Connecting to the hub to read what it receives…");
    case State::Listening: return tr("Reading what the hub receives.");
    case State::Failed: return tr("Reading what the hub receives failed.");
    }
    return {};
}

void HubTelemetryMonitor::start(const HubProfile &profile, const ConnectionString &service, const QString &eventHub)
{
    stop();
    m_devices.clear();
    m_changed.clear();
    m_total = 0;
    m_lastError = {};
    m_profile = profile;
    m_reader = std::make_unique<EventHubReader>();
    m_reader->setReconnectInterval(m_retryMinSeconds, m_retryMaxSeconds);
    connect(m_reader.get(), &EventHubReader::eventReceived, this, &HubTelemetryMonitor::onEvent);
    connect(m_reader.get(), &EventHubReader::stateChanged, this, &HubTelemetryMonitor::onReaderState);
    connect(m_reader.get(), &EventHubReader::errorOccurred, this, [this](const Error &error) {
        Error reported = error;
        if (error.kind == ErrorKind::AuthRefused)
            reported.message = tr("Hub %1 refused to let Onboarder read what it receives with the key of its policy "
                                  "\"%2\": %3")
                                   .arg(m_profile.name, m_profile.policyName, error.message);
        else
            reported.message = tr("Reading what hub %1 receives: %2").arg(m_profile.name, error.message);
        m_lastError = reported;
        qCInfo(lcHub) << reported.message;
        Q_EMIT errorOccurred(reported);
    });
    qCDebug(lcHub) << "reading the telemetry of" << profile.name << "at" << profile.hostName
                   << profile.effectiveAmqpPort();
    setState(State::Connecting);
    m_reader->start(profile, service, eventHub, m_options);
}

void HubTelemetryMonitor::stop()
{
    if (m_reader) {
        m_reader->disconnect(this);
        m_reader->stop();
        // Not deleted here: stop() may run inside one of the reader's signals.
        m_reader.release()->deleteLater();
    }
    flush();
    setState(State::Stopped);
}

void HubTelemetryMonitor::onReaderState(EventHubReader::State state)
{
    switch (state) {
    case EventHubReader::State::Stopped: break;
    case EventHubReader::State::Connecting: setState(State::Connecting); break;
    case EventHubReader::State::Listening: setState(State::Listening); break;
    case EventHubReader::State::Failed: setState(State::Failed); break;
    }
}

void HubTelemetryMonitor::onEvent(const TelemetryEvent &event)
{
    HubTelemetry::Device &device = m_devices[event.deviceId];
    if (device.id.isEmpty())
        device.id = event.deviceId;
    ++device.received;
    device.last.truncated = event.body.size() > HubTelemetry::maxPayloadBytes;
    device.last.payload = device.last.truncated ? event.body.left(HubTelemetry::maxPayloadBytes) : event.body;
    device.last.properties = event.properties;
    for (const auto &property : event.systemProperties) {
        if (property.first.startsWith(QLatin1String("iothub-")))
            device.last.properties.append(property);
    }
    device.last.receivedMs = QDateTime::currentMSecsSinceEpoch();
    ++m_total;
    Q_EMIT messageReceived(event.deviceId, device.last);
    Q_EMIT eventReceived(event);
    m_changed.insert(event.deviceId);
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

void HubTelemetryMonitor::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

} // namespace Onboarder
