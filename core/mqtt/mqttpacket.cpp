#include "mqtt/mqttpacket.h"

#include <QStringDecoder>

namespace Onboarder::MqttPacket {

namespace {

quint16 readUint16(const QByteArray &data, qsizetype at)
{
    return quint16((quint8(data.at(at)) << 8) | quint8(data.at(at + 1)));
}

void appendUint16(QByteArray &out, quint16 value)
{
    out.append(char(value >> 8)).append(char(value & 0xff));
}

} // namespace

Framing take(QByteArray &buffer, Frame *frame)
{
    qsizetype length = 0;
    qsizetype at = 1;
    for (int shift = 0;; shift += 7) {
        if (at >= buffer.size())
            return Framing::Incomplete;
        const quint8 byte = quint8(buffer.at(at++));
        length |= qsizetype(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            break;
        if (shift == 21) // a fifth length byte: not a variable-length integer (§2.2.3)
            return Framing::Malformed;
    }
    if (buffer.size() - at < length)
        return Framing::Incomplete;
    frame->header = quint8(buffer.at(0));
    frame->body = buffer.mid(at, length);
    buffer.remove(0, at + length);
    return Framing::Complete;
}

QByteArray encode(quint8 header, const QByteArray &body)
{
    QByteArray out;
    out.reserve(body.size() + 5);
    out.append(char(header));
    qsizetype length = body.size();
    do {
        quint8 byte = length % 128;
        length /= 128;
        if (length > 0)
            byte |= 0x80;
        out.append(char(byte));
    } while (length > 0);
    return out + body;
}

void appendField(QByteArray &out, const QByteArray &bytes)
{
    appendUint16(out, quint16(bytes.size()));
    out.append(bytes);
}

QByteArray connect(const ConnectOptions &options)
{
    QByteArray body;
    appendField(body, "MQTT");
    body.append(char(4)); // 3.1.1
    quint8 flags = options.cleanSession ? 0x02 : 0x00;
    if (!options.username.isEmpty())
        flags |= 0x80;
    if (!options.password.isEmpty())
        flags |= 0x40;
    body.append(char(flags));
    appendUint16(body, quint16(options.keepAliveSeconds));
    appendField(body, options.clientId.toUtf8());
    if (!options.username.isEmpty())
        appendField(body, options.username.toUtf8());
    if (!options.password.isEmpty())
        appendField(body, options.password);
    return encode(Connect << 4, body);
}

QByteArray subscribe(quint16 packetId, const QString &filter, int qos)
{
    QByteArray body;
    appendUint16(body, packetId);
    appendField(body, filter.toUtf8());
    body.append(char(qos));
    return encode((Subscribe << 4) | 0x02, body);
}

QByteArray unsubscribe(quint16 packetId, const QString &filter)
{
    QByteArray body;
    appendUint16(body, packetId);
    appendField(body, filter.toUtf8());
    return encode((Unsubscribe << 4) | 0x02, body);
}

QByteArray publish(
    const QString &topic, const QByteArray &payload, int qos, quint16 packetId, bool retain, bool duplicate)
{
    const QByteArray topicUtf8 = topic.toUtf8();
    QByteArray body;
    body.reserve(topicUtf8.size() + payload.size() + 4);
    appendField(body, topicUtf8);
    if (qos > 0)
        appendUint16(body, packetId);
    body.append(payload);
    const quint8 flags = (duplicate ? 0x08 : 0x00) | quint8(qos << 1) | (retain ? 0x01 : 0x00);
    return encode((Publish << 4) | flags, body);
}

QByteArray acknowledgement(Type type, quint16 packetId)
{
    QByteArray body;
    appendUint16(body, packetId);
    return encode(quint8(type << 4), body);
}

std::optional<ConnackBody> readConnack(const QByteArray &body)
{
    if (body.size() != 2 || (quint8(body.at(0)) & 0xfe))
        return std::nullopt;
    return ConnackBody{bool(quint8(body.at(0)) & 0x01), quint8(body.at(1))};
}

std::optional<SubackBody> readSuback(const QByteArray &body)
{
    if (body.size() < 3)
        return std::nullopt;
    SubackBody suback;
    suback.packetId = readUint16(body, 0);
    for (qsizetype at = 2; at < body.size(); ++at) {
        const int code = quint8(body.at(at));
        if (code > 2 && code != 0x80)
            return std::nullopt;
        suback.grantedQos.append(code);
    }
    return suback;
}

std::optional<quint16> readPacketId(const QByteArray &body)
{
    if (body.size() != 2 || readUint16(body, 0) == 0)
        return std::nullopt;
    return readUint16(body, 0);
}

std::optional<MqttMessage> readPublish(quint8 header, const QByteArray &body)
{
    const int qos = (header >> 1) & 0x03;
    if (qos == 3 || body.size() < 2)
        return std::nullopt;
    const quint16 topicLength = readUint16(body, 0);
    qsizetype at = 2 + topicLength;
    if (topicLength == 0 || body.size() < at + (qos > 0 ? 2 : 0))
        return std::nullopt;
    // A U+FEFF at the start is part of the topic (§1.5.3), not a byte order mark to drop.
    QStringDecoder utf8(
        QStringDecoder::Utf8, QStringDecoder::Flag::Stateless | QStringDecoder::Flag::ConvertInitialBom);
    MqttMessage message;
    message.topic = utf8.decode(QByteArrayView(body).sliced(2, topicLength));
    if (utf8.hasError() || message.topic.contains(u'+') || message.topic.contains(u'#')
        || message.topic.contains(QChar(0)))
        return std::nullopt;
    message.qos = qos;
    message.retain = header & 0x01;
    message.duplicate = header & 0x08;
    if (qos > 0) {
        message.packetId = readUint16(body, at);
        if (message.packetId == 0)
            return std::nullopt;
        at += 2;
    }
    message.payload = body.mid(at);
    return message;
}

} // namespace Onboarder::MqttPacket
