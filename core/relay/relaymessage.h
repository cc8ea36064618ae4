#pragma once

#include "mqtt/mqttmessage.h"

#include <QByteArray>
#include <QString>
#include <QUrl>

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

    // The hub topic it goes on: devices/{id}/messages/events/{property bag}, names and values percent-encoded.
    QString hubTopic() const
    {
        QString bag;
        for (const auto &[name, value] : properties) {
            if (!bag.isEmpty())
                bag += u'&';
            bag += QString::fromLatin1(QUrl::toPercentEncoding(name)) + u'='
                + QString::fromLatin1(QUrl::toPercentEncoding(value));
        }
        return QStringLiteral("devices/%1/messages/events/%2").arg(deviceId, bag);
    }

    // What IoT Hub counts against its limit for a device-to-cloud message: the body and the application
    // properties (names and values).
    qsizetype hubSize() const
    {
        qsizetype size = payload.size();
        for (const auto &[name, value] : properties)
            size += name.toUtf8().size() + value.toUtf8().size();
        return size;
    }
};

// The largest device-to-cloud message IoT Hub takes (256 KB); over MQTT it closes the connection of a device
// that sends a larger one, so such a message is never sent (docs/iothub-protocols.md).
inline constexpr qsizetype maxHubMessageBytes = 256 * 1024;

// A message the hub can never take, set aside in the outbox's dead-letter table with the reason, so that
// its device's later messages go on and nothing is dropped unseen (`onboarder-cli relay dead-letters`).
struct DeadLetter
{
    qint64 id = 0; // given by the outbox
    QString deviceId; // empty when the message names none
    QString topic; // on the local broker; for a message the hub refused after it was sent, the hub topic it went on
    QByteArray payload;
    qint64 receivedMs = 0;
    QString reasonCode; // TooLarge | Unroutable | RefusedByHub
    QString reason; // a sentence
};

} // namespace Onboarder
