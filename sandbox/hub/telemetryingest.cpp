#include "telemetryingest.h"

#include "eventlog.h"
#include "mqtt/mqttclient.h"
#include "mqtt/mqttmessage.h"

#include <QCoreApplication>
#include <QDeadlineTimer>

namespace Onboarder::Sandbox {

namespace {
const QString telemetryPrefix = QStringLiteral("$sandbox/telemetry/");
}

TelemetryIngest::TelemetryIngest(EventLog &log, QObject *parent)
    : QObject(parent)
    , m_log(log)
    , m_client(std::make_unique<MqttClient>())
{
    connect(m_client.get(), &MqttClient::messageReceived, this, &TelemetryIngest::onMessage);
}

TelemetryIngest::~TelemetryIngest() = default;

bool TelemetryIngest::start(quint16 port, const QByteArray &secret)
{
    m_client->setHostname(QStringLiteral("127.0.0.1"));
    m_client->setPort(port);
    m_client->setProtocolVersion(MqttClient::ProtocolVersion::Mqtt5); // the properties come as user properties
    // Not a valid device id (devices cannot use '/'), so no device can take over this link.
    m_client->setClientId(QStringLiteral("$sandbox/eventlog"));
    m_client->setUsername(QStringLiteral("$sandbox/internal"));
    m_client->setPassword(SecretBytes::fromView(secret));
    m_client->setCleanSession(false);
    m_client->setAutoReconnect(true);
    bool subscribed = false;
    const auto connection
        = connect(m_client.get(), &MqttClient::subscribed, this, [&subscribed] { subscribed = true; });
    m_client->connectToHost();
    // Sent on every connection; refused at once only for an invalid filter or QoS, which this is not.
    const bool valid = m_client->subscribe(telemetryPrefix + u'#', 1).has_value();
    const QDeadlineTimer deadline(10000);
    while (valid && !subscribed && !deadline.hasExpired())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    disconnect(connection);
    return subscribed;
}

void TelemetryIngest::onMessage(const MqttMessage &message)
{
    if (!message.topic.startsWith(telemetryPrefix))
        return;
    HubEvent event;
    event.deviceId = message.topic.mid(telemetryPrefix.size());
    event.body = message.payload;
    for (const auto &[name, value] : message.userProperties) {
        // The property bag's system properties ($.mid, $.cid, $.ct, $.ce, …) are the message's own fields on
        // the Event Hubs side; the hub's marks (iothub-…) become annotations there; the rest are the sender's.
        if (name == QLatin1String("$.mid"))
            event.messageId = value;
        else if (name == QLatin1String("$.cid"))
            event.correlationId = value;
        else if (name == QLatin1String("$.ct"))
            event.contentType = value;
        else if (name == QLatin1String("$.ce"))
            event.contentEncoding = value;
        else if (name == QLatin1String("iothub-connection-module-id"))
            event.moduleId = value;
        else if (!name.startsWith(QLatin1String("$.")) && !name.startsWith(QLatin1String("iothub-")))
            event.applicationProperties.append({name, value});
    }
    m_log.append(std::move(event));
}

} // namespace Onboarder::Sandbox
