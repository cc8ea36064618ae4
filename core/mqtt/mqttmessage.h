#pragma once

#include <QByteArray>
#include <QList>
#include <QMetaType>
#include <QString>

#include <utility>

namespace Onboarder {

// MQTT 5 user properties: name/value pairs in the order they were sent; a name may occur more than once.
using MqttUserProperties = QList<std::pair<QString, QString>>;

// A message as MqttClient delivers it (messageReceived) to its owner.
struct MqttMessage
{
    QString topic;
    QByteArray payload;
    int qos = 0;
    bool retain = false;
    MqttUserProperties userProperties; // MQTT 5 only; empty with 3.1.1
    // What MqttClient::acknowledge() needs (the packet id, the connection it came on), and
    // whether the broker marked it as sent before (DUP).
    int packetId = 0;
    quint64 connection = 0;
    bool duplicate = false;

    friend bool operator==(const MqttMessage &, const MqttMessage &) = default;
};

} // namespace Onboarder

Q_DECLARE_METATYPE(Onboarder::MqttMessage)
