#include "amqpmessage.h"

#include <QTimeZone>
#include <QUuid>

#include <cstring>
#include <memory>
#include <proton/codec.h>
#include <proton/delivery.h>
#include <proton/link.h>
#include <proton/message.h>

namespace Onboarder {

namespace {

using MessagePtr = std::unique_ptr<pn_message_t, decltype(&pn_message_free)>;

MessagePtr newMessage()
{
    return MessagePtr(pn_message(), &pn_message_free);
}

void setText(pn_message_t *message, int (*setter)(pn_message_t *, const char *), const QString &value)
{
    if (!value.isEmpty())
        setter(message, value.toUtf8().constData());
}

QString getText(const char *value)
{
    return value ? QString::fromUtf8(value) : QString();
}

QDateTime timestamp(pn_timestamp_t ms)
{
    return ms ? QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC) : QDateTime();
}

// An id field (message-id, correlation-id) is a ulong, uuid, binary or string: a symbol is not allowed.
void putId(pn_data_t *data, const QVariant &id)
{
    pn_data_clear(data);
    if (!id.isValid())
        return;
    if (id.metaType() == QMetaType::fromType<AmqpSymbol>())
        Amqp::put(data, QString::fromUtf8(id.value<AmqpSymbol>().name));
    else if (id.metaType() == QMetaType::fromType<int>() || id.metaType() == QMetaType::fromType<qint64>())
        pn_data_put_ulong(data, id.toULongLong());
    else
        Amqp::put(data, id);
}

} // namespace

QByteArray AmqpMessage::encode() const
{
    auto message = newMessage();
    pn_message_t *m = message.get();
    pn_message_set_inferred(m, !bodyIsValue && body.metaType() == QMetaType::fromType<QByteArray>());
    pn_message_set_durable(m, durable);
    pn_message_set_ttl(m, ttlMs);
    pn_message_set_delivery_count(m, deliveryCount);
    putId(pn_message_id(m), messageId);
    putId(pn_message_correlation_id(m), correlationId);
    if (!userId.isEmpty())
        pn_message_set_user_id(m, pn_bytes(size_t(userId.size()), userId.constData()));
    setText(m, pn_message_set_address, to);
    setText(m, pn_message_set_subject, subject);
    setText(m, pn_message_set_reply_to, replyTo);
    setText(m, pn_message_set_content_type, contentType);
    setText(m, pn_message_set_content_encoding, contentEncoding);
    setText(m, pn_message_set_group_id, groupId);
    if (absoluteExpiryTime.isValid())
        pn_message_set_expiry_time(m, absoluteExpiryTime.toMSecsSinceEpoch());
    if (creationTime.isValid())
        pn_message_set_creation_time(m, creationTime.toMSecsSinceEpoch());
    if (!messageAnnotations.entries.isEmpty())
        Amqp::write(pn_message_annotations(m), QVariant::fromValue(messageAnnotations));
    if (!applicationProperties.entries.isEmpty())
        Amqp::write(pn_message_properties(m), QVariant::fromValue(applicationProperties));
    if (body.isValid())
        Amqp::write(pn_message_body(m), body);

    pn_rwbytes_t buffer{0, nullptr};
    const ssize_t size = pn_message_encode2(m, &buffer);
    QByteArray out = size > 0 ? QByteArray(buffer.start, qsizetype(size)) : QByteArray();
    std::free(buffer.start);
    return out;
}

std::optional<AmqpMessage> AmqpMessage::decode(const char *bytes, size_t size)
{
    if (!bytes || size == 0) // a transfer with no payload: Proton asserts (and aborts the process) on it
        return std::nullopt;
    auto message = newMessage();
    pn_message_t *m = message.get();
    if (pn_message_decode(m, bytes, size) != 0)
        return std::nullopt;
    // Not what the peer sent (an application-properties map would lose an entry on every trip): refused alike.
    for (pn_data_t *part : {pn_message_id(m), pn_message_correlation_id(m), pn_message_annotations(m),
             pn_message_properties(m), pn_message_body(m)}) {
        if (!Amqp::decodedAsSent(part))
            return std::nullopt;
    }
    AmqpMessage out;
    out.messageId = Amqp::read(pn_message_id(m));
    out.correlationId = Amqp::read(pn_message_correlation_id(m));
    const pn_bytes_t user = pn_message_get_user_id(m);
    out.userId = QByteArray(user.start, qsizetype(user.size));
    out.to = getText(pn_message_get_address(m));
    out.subject = getText(pn_message_get_subject(m));
    out.replyTo = getText(pn_message_get_reply_to(m));
    out.contentType = getText(pn_message_get_content_type(m));
    out.contentEncoding = getText(pn_message_get_content_encoding(m));
    out.groupId = getText(pn_message_get_group_id(m));
    out.absoluteExpiryTime = timestamp(pn_message_get_expiry_time(m));
    out.creationTime = timestamp(pn_message_get_creation_time(m));
    out.ttlMs = pn_message_get_ttl(m);
    out.durable = pn_message_is_durable(m);
    out.deliveryCount = pn_message_get_delivery_count(m);
    const QVariant annotations = Amqp::read(pn_message_annotations(m));
    if (annotations.metaType() == QMetaType::fromType<AmqpMap>())
        out.messageAnnotations = annotations.value<AmqpMap>();
    const QVariant properties = Amqp::read(pn_message_properties(m));
    if (properties.metaType() == QMetaType::fromType<AmqpMap>())
        out.applicationProperties = properties.value<AmqpMap>();
    out.body = Amqp::read(pn_message_body(m));
    // A data section decodes as binary with the message marked inferred; anything else is an amqp-value
    // (or amqp-sequence, which IoT Hub does not use).
    out.bodyIsValue = !(pn_message_is_inferred(m) && out.body.metaType() == QMetaType::fromType<QByteArray>());
    return out;
}

QByteArray AmqpMessage::bodyBytes() const
{
    if (body.metaType() == QMetaType::fromType<QByteArray>())
        return body.toByteArray();
    if (body.metaType() == QMetaType::fromType<QString>())
        return body.toString().toUtf8();
    return {};
}

namespace Amqp {

pn_delivery_t *send(pn_link_t *sender, const AmqpMessage &message)
{
    static quint64 nextTag = 1;
    const quint64 tag = nextTag++;
    pn_delivery_t *delivery = pn_delivery(sender, pn_dtag(reinterpret_cast<const char *>(&tag), sizeof tag));
    const QByteArray bytes = message.encode();
    pn_link_send(sender, bytes.constData(), size_t(bytes.size()));
    pn_link_advance(sender);
    if (pn_link_snd_settle_mode(sender) == PN_SND_SETTLED)
        pn_delivery_settle(delivery);
    return delivery;
}

std::optional<QByteArray> receive(pn_delivery_t *delivery)
{
    if (!pn_delivery_readable(delivery) || pn_delivery_partial(delivery))
        return std::nullopt;
    pn_link_t *link = pn_delivery_link(delivery);
    QByteArray bytes(qsizetype(pn_delivery_pending(delivery)), Qt::Uninitialized);
    const ssize_t read = pn_link_recv(link, bytes.data(), size_t(bytes.size()));
    bytes.resize(read > 0 ? qsizetype(read) : 0);
    pn_link_advance(link);
    return bytes;
}

} // namespace Amqp

} // namespace Onboarder
