#pragma once

#include "amqpvalue.h"

#include <QDateTime>
#include <QString>
#include <QVariant>

#include <optional>

struct pn_link_t;
struct pn_delivery_t;

namespace Onboarder {

// One AMQP 1.0 message (header, properties, annotations, application properties, body), as IoT Hub and
// Event Hubs use them. The body is a data section when it is a QByteArray and bodyIsValue is false;
// otherwise an amqp-value section holding any value (CBS and $management use maps and strings there).
struct AmqpMessage
{
    QVariant messageId; // QString, QUuid, quint64 or QByteArray
    QVariant correlationId; // likewise
    QByteArray userId;
    QString to;
    QString subject;
    QString replyTo;
    QString contentType;
    QString contentEncoding;
    QString groupId;
    QDateTime absoluteExpiryTime; // invalid: none
    QDateTime creationTime; // invalid: none
    quint32 ttlMs = 0; // header ttl; 0: none
    bool durable = false;
    quint32 deliveryCount = 0;
    AmqpMap messageAnnotations;
    AmqpMap applicationProperties;
    QVariant body;
    bool bodyIsValue = false;

    // Encodes for the wire; decodes what a peer sent (nullopt: not a message Proton can decode, or one whose
    // identifiers, annotations, application properties or body Proton decodes wrongly: see Amqp::decodedAsSent).
    QByteArray encode() const;
    static std::optional<AmqpMessage> decode(const char *bytes, size_t size);
    static std::optional<AmqpMessage> decode(const QByteArray &bytes)
    {
        return decode(bytes.constData(), size_t(bytes.size()));
    }

    // The body as bytes: a data section as is, a string value as UTF-8, else empty.
    QByteArray bodyBytes() const;
};

namespace Amqp {

// Sends a message on a sender link as one new delivery (tag from a counter); pre-settled when the link's
// sender settle mode is settled. Returns the delivery (owned by Proton), or nullptr if nothing was sent.
pn_delivery_t *send(pn_link_t *sender, const AmqpMessage &message);

// Reads a complete delivery's bytes (nullopt while it is partial) and advances the link; the caller settles.
std::optional<QByteArray> receive(pn_delivery_t *delivery);

} // namespace Amqp

} // namespace Onboarder
