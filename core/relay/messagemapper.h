#pragma once

#include "common/result.h"
#include "mqtt/mqttmessage.h"
#include "relay/relayconfig.h"
#include "relay/relaymessage.h"

#include <QCoreApplication>

namespace Onboarder {

// Turns a message from the local broker into a device's message: the device id from a topic level
// ("sensors/{deviceId}/telemetry") or a payload JSON field, and the configured properties.
class MessageMapper final
{
    Q_DECLARE_TR_FUNCTIONS(MessageMapper)

public:
    explicit MessageMapper(const RelayConfig &config);

    // Unroutable (kind InvalidInput) when the topic does not fit the pattern, the payload has no such
    // field, the id is not a valid IoT Hub device id, or it holds "+" or "#" (MQTT topic wildcards).
    Result<RelayMessage> map(const MqttMessage &message, qint64 receivedMs) const;

private:
    QStringList m_pattern; // levels of deviceIdFromTopic
    QString m_payloadField;
    QList<RelayConfig::Property> m_properties;
};

} // namespace Onboarder
