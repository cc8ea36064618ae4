#pragma once

#include "mqtt/mqttmessage.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

// MQTT 3.1.1's wire format as a client reads and writes it (OASIS MQTT 3.1.1, §2 and §3): the fixed header with
// its variable-length "remaining length", and the packets MqttSession sends and receives. The bytes read are a
// broker's, so every reader checks bounds and refuses what the standard forbids; none keeps state.
namespace Onboarder::MqttPacket {

enum Type : quint8 {
    Connect = 1,
    Connack = 2,
    Publish = 3,
    Puback = 4,
    Subscribe = 8,
    Suback = 9,
    Unsubscribe = 10,
    Unsuback = 11,
    Pingreq = 12,
    Pingresp = 13,
    Disconnect = 14,
};

inline constexpr qsizetype maxRemainingLength = 268435455; // four bytes of 7 bits

// One packet: its first byte (type and flags) and what follows the remaining length.
struct Frame
{
    quint8 header = 0;
    QByteArray body;
    int type() const { return header >> 4; }
};

enum class Framing {
    Incomplete, // more bytes are needed (at most 5 for the fixed header, then the body)
    Complete, // *frame holds the first packet, which was taken off the buffer
    Malformed, // the remaining length is not a valid variable-length integer: close the connection
};
// Takes the first whole packet off the front of buffer.
Framing take(QByteArray &buffer, Frame *frame);

// A packet: the header byte, the remaining length, the body.
QByteArray encode(quint8 header, const QByteArray &body);
// A UTF-8 string or binary field: two bytes of length (big-endian), then the bytes.
void appendField(QByteArray &out, const QByteArray &bytes);

struct ConnectOptions
{
    QString clientId;
    QString username; // empty: none
    QByteArray password; // empty: none
    bool cleanSession = true;
    int keepAliveSeconds = 60;
};
QByteArray connect(const ConnectOptions &options);
// SUBSCRIBE of one filter at the QoS asked for; UNSUBSCRIBE of one filter.
QByteArray subscribe(quint16 packetId, const QString &filter, int qos);
QByteArray unsubscribe(quint16 packetId, const QString &filter);
// PUBLISH; packetId only for QoS 1 and 2. The topic is not checked here.
QByteArray publish(const QString &topic, const QByteArray &payload, int qos, quint16 packetId, bool retain = false,
    bool duplicate = false);
// PUBACK (and any other packet that is a packet id only).
QByteArray acknowledgement(Type type, quint16 packetId);

struct ConnackBody
{
    bool sessionPresent = false;
    int returnCode = 0; // 0: accepted; 1–5: refused (4: bad user name or password, 5: not authorised)
};
std::optional<ConnackBody> readConnack(const QByteArray &body);

struct SubackBody
{
    quint16 packetId = 0;
    QList<int> grantedQos; // 0, 1, 2, or 0x80 for a refused filter; one per filter of the SUBSCRIBE
};
std::optional<SubackBody> readSuback(const QByteArray &body);

// PUBACK, UNSUBACK: the packet id (never 0).
std::optional<quint16> readPacketId(const QByteArray &body);

// PUBLISH: QoS 0–2, a topic of at least one character, valid UTF-8 and without wildcards, a packet id other than
// 0 when QoS > 0. packetId, qos, retain, duplicate, topic and payload of the message are set.
std::optional<MqttMessage> readPublish(quint8 header, const QByteArray &body);

} // namespace Onboarder::MqttPacket
