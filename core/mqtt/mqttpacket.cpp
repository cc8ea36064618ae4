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

quint32 readUint32(const QByteArray &data, qsizetype at)
{
    return (quint32(quint8(data.at(at))) << 24) | (quint32(quint8(data.at(at + 1))) << 16)
        | (quint32(quint8(data.at(at + 2))) << 8) | quint32(quint8(data.at(at + 3)));
}

bool readVariableInteger(const QByteArray &data, qsizetype &at, quint32 *value)
{
    quint32 result = 0;
    for (int i = 0; i < 4; ++i) {
        if (at >= data.size())
            return false;
        const quint8 byte = quint8(data.at(at++));
        result |= quint32(byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) {
            *value = result;
            return true;
        }
    }
    return false;
}

// A UTF-8 string field (§1.5.4 of 5.0): well-formed UTF-8 without U+0000. A U+FEFF at the start is kept.
bool readString(const QByteArray &data, qsizetype &at, QString *out)
{
    if (data.size() - at < 2)
        return false;
    const quint16 length = readUint16(data, at);
    if (data.size() - at - 2 < length)
        return false;
    QStringDecoder utf8(
        QStringDecoder::Utf8, QStringDecoder::Flag::Stateless | QStringDecoder::Flag::ConvertInitialBom);
    const QString text = utf8.decode(QByteArrayView(data).sliced(at + 2, length));
    if (utf8.hasError() || text.contains(QChar(0)))
        return false;
    at += 2 + length;
    *out = text;
    return true;
}

// The properties of an MQTT 5 packet (§2.2.2): their length, then identifier and value pairs. Every identifier the
// standard defines is read by its type; any other makes the packet malformed.
bool readProperties(const QByteArray &body, qsizetype &at, BrokerProperties *broker, MqttUserProperties *user)
{
    quint32 length = 0;
    if (!readVariableInteger(body, at, &length) || body.size() - at < qsizetype(length))
        return false;
    const qsizetype end = at + qsizetype(length);
    const QByteArray data = body.left(end); // the reads below cannot run past the properties
    while (at < end) {
        quint32 id = 0;
        if (!readVariableInteger(data, at, &id))
            return false;
        switch (id) {
        case 0x01: // payload format indicator
        case 0x17: // request problem information
        case 0x19: // request response information
        case 0x24: // maximum QoS
        case 0x25: // retain available
        case 0x28: // wildcard subscription available
        case 0x29: // subscription identifiers available
        case 0x2A: // shared subscription available
            if (end - at < 1)
                return false;
            at += 1;
            break;
        case 0x13: // server keep alive
        case 0x21: // receive maximum
        case 0x22: // topic alias maximum
        case 0x23: { // topic alias
            if (end - at < 2)
                return false;
            const quint16 value = readUint16(data, at);
            at += 2;
            if (id == 0x13)
                broker->serverKeepAlive = value;
            else if (id == 0x21 && value == 0)
                return false;
            else if (id == 0x21)
                broker->receiveMaximum = value;
            else if (id == 0x23)
                broker->topicAlias = true;
            break;
        }
        case 0x02: // message expiry interval
        case 0x11: // session expiry interval
        case 0x18: // will delay interval
        case 0x27: { // maximum packet size
            if (end - at < 4)
                return false;
            const quint32 value = readUint32(data, at);
            at += 4;
            if (id == 0x27 && value == 0)
                return false;
            if (id == 0x27)
                broker->maximumPacketSize = value;
            break;
        }
        case 0x0B: { // subscription identifier
            quint32 value = 0;
            if (!readVariableInteger(data, at, &value) || value == 0)
                return false;
            break;
        }
        case 0x03: // content type
        case 0x08: // response topic
        case 0x12: // assigned client identifier
        case 0x15: // authentication method
        case 0x1A: // response information
        case 0x1C: // server reference
        case 0x1F: { // reason string
            QString text;
            if (!readString(data, at, &text))
                return false;
            if (id == 0x1F)
                broker->reasonString = text;
            break;
        }
        case 0x09: // correlation data
        case 0x16: { // authentication data
            if (end - at < 2 || end - at - 2 < readUint16(data, at))
                return false;
            at += 2 + readUint16(data, at);
            break;
        }
        case 0x26: { // user property
            QString name;
            QString value;
            if (!readString(data, at, &name) || !readString(data, at, &value))
                return false;
            if (user)
                user->append({name, value});
            break;
        }
        default: return false;
        }
    }
    return at == end;
}

bool isReasonCode(int code)
{
    return code >= 0x80 && code <= 0xA2;
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

void appendField(QByteArray &out, QByteArrayView bytes)
{
    appendUint16(out, quint16(bytes.size()));
    out.append(bytes);
}

void appendVariableInteger(QByteArray &out, quint32 value)
{
    do {
        quint8 byte = value % 128;
        value /= 128;
        if (value > 0)
            byte |= 0x80;
        out.append(char(byte));
    } while (value > 0);
}

QByteArray connect(const ConnectOptions &options)
{
    QByteArray body;
    appendField(body, "MQTT");
    body.append(char(options.level));
    quint8 flags = options.cleanSession ? 0x02 : 0x00;
    if (!options.username.isEmpty())
        flags |= 0x80;
    if (!options.password.isEmpty())
        flags |= 0x40;
    body.append(char(flags));
    appendUint16(body, quint16(options.keepAliveSeconds));
    if (options.level >= level5) {
        if (options.cleanSession) {
            body.append(char(0)); // no properties: the session ends with the connection
        } else {
            body.append(char(5)).append(char(0x11)); // session expiry interval: never
            body.append(QByteArray(4, char(0xff)));
        }
    }
    appendField(body, options.clientId.toUtf8());
    if (!options.username.isEmpty())
        appendField(body, options.username.toUtf8());
    if (!options.password.isEmpty())
        appendField(body, options.password);
    return encode(Connect << 4, body);
}

QByteArray subscribe(quint16 packetId, const QString &filter, int qos, int level)
{
    QByteArray body;
    appendUint16(body, packetId);
    if (level >= level5)
        body.append(char(0)); // no properties
    appendField(body, filter.toUtf8());
    body.append(char(qos));
    return encode((Subscribe << 4) | 0x02, body);
}

QByteArray unsubscribe(quint16 packetId, const QString &filter, int level)
{
    QByteArray body;
    appendUint16(body, packetId);
    if (level >= level5)
        body.append(char(0)); // no properties
    appendField(body, filter.toUtf8());
    return encode((Unsubscribe << 4) | 0x02, body);
}

QByteArray publish(const QString &topic, const QByteArray &payload, int qos, quint16 packetId, bool retain,
    bool duplicate, int level, const MqttUserProperties &userProperties)
{
    const QByteArray topicUtf8 = topic.toUtf8();
    QByteArray body;
    body.reserve(topicUtf8.size() + payload.size() + 5);
    appendField(body, topicUtf8);
    if (qos > 0)
        appendUint16(body, packetId);
    if (level >= level5) {
        QByteArray properties;
        for (const auto &[name, value] : userProperties) {
            properties.append(char(0x26));
            appendField(properties, name.toUtf8());
            appendField(properties, value.toUtf8());
        }
        appendVariableInteger(body, quint32(properties.size()));
        body.append(properties);
    }
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

std::optional<ConnackBody> readConnack(const QByteArray &body, int level)
{
    if (body.size() < 2 || (quint8(body.at(0)) & 0xfe))
        return std::nullopt;
    ConnackBody connack{bool(quint8(body.at(0)) & 0x01), quint8(body.at(1)), {}};
    if (level < level5)
        return body.size() == 2 && connack.returnCode <= 5 ? std::optional(connack) : std::nullopt;
    if (connack.returnCode != 0 && !isReasonCode(connack.returnCode))
        return std::nullopt;
    qsizetype at = 2;
    if (body.size() > 2 && (!readProperties(body, at, &connack.properties, nullptr) || at != body.size()))
        return std::nullopt;
    return connack;
}

std::optional<SubackBody> readSuback(const QByteArray &body, int level)
{
    if (body.size() < 3)
        return std::nullopt;
    SubackBody suback;
    suback.packetId = readUint16(body, 0);
    qsizetype at = 2;
    if (level >= level5) {
        BrokerProperties properties;
        if (!readProperties(body, at, &properties, nullptr))
            return std::nullopt;
        suback.reasonString = properties.reasonString;
    }
    if (suback.packetId == 0 || at >= body.size())
        return std::nullopt;
    for (; at < body.size(); ++at) {
        const int code = quint8(body.at(at));
        if (code > 2 && (level < level5 ? code != 0x80 : !isReasonCode(code)))
            return std::nullopt;
        suback.grantedQos.append(code);
    }
    return suback;
}

std::optional<SubackBody> readUnsuback(const QByteArray &body, int level)
{
    if (level < level5) {
        const auto id = readPacketId(body);
        return id ? std::optional(SubackBody{*id, {}, {}}) : std::nullopt;
    }
    if (body.size() < 4)
        return std::nullopt;
    SubackBody unsuback;
    unsuback.packetId = readUint16(body, 0);
    qsizetype at = 2;
    BrokerProperties properties;
    if (unsuback.packetId == 0 || !readProperties(body, at, &properties, nullptr) || at >= body.size())
        return std::nullopt;
    unsuback.reasonString = properties.reasonString;
    for (; at < body.size(); ++at) {
        const int code = quint8(body.at(at));
        if (code != 0 && code != 0x11 && !isReasonCode(code))
            return std::nullopt;
        unsuback.grantedQos.append(code);
    }
    return unsuback;
}

std::optional<AckBody> readPuback(const QByteArray &body, int level)
{
    if (level < level5 || body.size() == 2) {
        const auto id = readPacketId(body);
        return id ? std::optional(AckBody{*id, 0, {}}) : std::nullopt;
    }
    if (body.size() < 3 || readUint16(body, 0) == 0)
        return std::nullopt;
    AckBody ack{readUint16(body, 0), quint8(body.at(2)), {}};
    if (ack.reasonCode != 0 && ack.reasonCode != 0x10 && !isReasonCode(ack.reasonCode))
        return std::nullopt;
    qsizetype at = 3;
    BrokerProperties properties;
    if (body.size() > 3 && (!readProperties(body, at, &properties, nullptr) || at != body.size()))
        return std::nullopt;
    ack.reasonString = properties.reasonString;
    return ack;
}

std::optional<quint16> readPacketId(const QByteArray &body)
{
    if (body.size() != 2 || readUint16(body, 0) == 0)
        return std::nullopt;
    return readUint16(body, 0);
}

std::optional<DisconnectBody> readDisconnect(const QByteArray &body, int level)
{
    if (level < level5)
        return std::nullopt; // a 3.1.1 broker closes the connection; it never sends DISCONNECT
    DisconnectBody disconnect;
    if (body.isEmpty())
        return disconnect;
    disconnect.reasonCode = quint8(body.at(0));
    if (disconnect.reasonCode != 0 && !isReasonCode(disconnect.reasonCode))
        return std::nullopt;
    qsizetype at = 1;
    BrokerProperties properties;
    if (body.size() > 1 && (!readProperties(body, at, &properties, nullptr) || at != body.size()))
        return std::nullopt;
    disconnect.reasonString = properties.reasonString;
    return disconnect;
}

std::optional<MqttMessage> readPublish(quint8 header, const QByteArray &body, int level)
{
    const int qos = (header >> 1) & 0x03;
    if (qos == 3 || body.size() < 2)
        return std::nullopt;
    qsizetype at = 0;
    MqttMessage message;
    if (!readString(body, at, &message.topic) || message.topic.isEmpty() || message.topic.contains(u'+')
        || message.topic.contains(u'#'))
        return std::nullopt;
    message.qos = qos;
    message.retain = header & 0x01;
    message.duplicate = header & 0x08;
    if (qos > 0) {
        if (body.size() - at < 2)
            return std::nullopt;
        message.packetId = readUint16(body, at);
        if (message.packetId == 0)
            return std::nullopt;
        at += 2;
    }
    if (level >= level5) {
        BrokerProperties properties;
        if (!readProperties(body, at, &properties, &message.userProperties) || properties.topicAlias)
            return std::nullopt;
    }
    message.payload = body.mid(at);
    return message;
}

} // namespace Onboarder::MqttPacket
