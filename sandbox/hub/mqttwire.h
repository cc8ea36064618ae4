#pragma once

#include <QByteArray>

#include <optional>

// The few pieces of MQTT 3.1.1's wire format the sandbox reads and writes itself (the device gateway's CONNECT,
// the DPS's own small MQTT server). Everything is bounds-checked: the bytes are a peer's.
namespace Onboarder::Sandbox::MqttWire {

// The variable-length integer at pos (at most four bytes), pos moved past it; nullopt when incomplete or malformed.
inline std::optional<qsizetype> readVarint(const QByteArray &data, qsizetype &pos)
{
    qsizetype value = 0;
    for (int shift = 0; shift < 28; shift += 7) {
        if (pos >= data.size())
            return std::nullopt;
        const auto byte = quint8(data.at(pos++));
        value |= qsizetype(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return value;
    }
    return std::nullopt;
}

inline QByteArray varint(qsizetype value)
{
    QByteArray out;
    do {
        quint8 byte = value & 0x7f;
        value >>= 7;
        if (value)
            byte |= 0x80;
        out.append(char(byte));
    } while (value);
    return out;
}

// A length-prefixed (two bytes, big-endian) field at pos, pos moved past it; nullopt when it does not fit.
inline std::optional<QByteArray> readField(const QByteArray &data, qsizetype &pos)
{
    if (pos + 2 > data.size())
        return std::nullopt;
    const int length = (quint8(data.at(pos)) << 8) | quint8(data.at(pos + 1));
    if (pos + 2 + length > data.size())
        return std::nullopt;
    QByteArray field = data.mid(pos + 2, length);
    pos += 2 + length;
    return field;
}

inline QByteArray field(const QByteArray &bytes)
{
    return QByteArray(1, char((bytes.size() >> 8) & 0xff)) + char(bytes.size() & 0xff) + bytes;
}

// The length of the first complete packet in data, or 0 while it is incomplete.
inline qsizetype completePacket(const QByteArray &data)
{
    qsizetype pos = 1;
    const auto remaining = readVarint(data, pos);
    if (!remaining || pos + *remaining > data.size())
        return 0;
    return pos + *remaining;
}

} // namespace Onboarder::Sandbox::MqttWire
