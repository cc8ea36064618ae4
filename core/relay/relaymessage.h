#pragma once

#include "mqtt/mqttmessage.h"

#include <QByteArray>
#include <QString>

namespace Onboarder {

// A message on its way from the local broker to the hub, as its device's.
struct RelayMessage
{
    qint64 id = 0; // the outbox's sequence number (0: not stored yet)
    QString deviceId;
    QByteArray payload;
    MqttUserProperties properties; // application properties, sent in the hub topic's property bag
    qint64 receivedMs = 0; // when the relay took it from the local broker (ms since the epoch, UTC)

    friend bool operator==(const RelayMessage &, const RelayMessage &) = default;
};

} // namespace Onboarder
