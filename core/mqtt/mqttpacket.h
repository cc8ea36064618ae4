#pragma once

#include "mqtt/mqttmessage.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

// MQTT's wire format as a client reads and writes it: version 3.1.1 (OASIS MQTT 3.1.1, §2 and §3) and the parts
// of version 5.0 (OASIS MQTT 5.0, §2 and §3) that MqttClient uses: reason codes, user properties, the session
// expiry and the broker's packet size limit. The fixed header with its variable-length "remaining length" is the
// same in both. The bytes read are a broker's, so every reader checks bounds and refuses what the standard
// forbids; none keeps state. `level` is the protocol level of the connection: 4 (3.1.1) or 5.
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
    Auth = 15, // MQTT 5 only; MqttClient uses no enhanced authentication
};

inline constexpr int level311 = 4;
inline constexpr int level5 = 5;

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
void appendField(QByteArray &out, QByteArrayView bytes);
// A variable-length integer (§1.5.5 of 5.0, the remaining length's encoding), at most maxRemainingLength.
void appendVariableInteger(QByteArray &out, quint32 value);

struct ConnectOptions
{
    QString clientId;
    QString username; // empty: none
    QByteArrayView password; // empty: none; a secret, read in place
    bool cleanSession = true; // 5: Clean Start; when false the session never expires (3.1.1's meaning)
    int keepAliveSeconds = 60;
    int level = level311;
};
QByteArray connect(const ConnectOptions &options);
// SUBSCRIBE of one filter at the QoS asked for; UNSUBSCRIBE of one filter.
QByteArray subscribe(quint16 packetId, const QString &filter, int qos, int level = level311);
QByteArray unsubscribe(quint16 packetId, const QString &filter, int level = level311);
// PUBLISH; packetId only for QoS 1 and 2. The topic is not checked here. User properties only with level 5.
QByteArray publish(const QString &topic, const QByteArray &payload, int qos, quint16 packetId, bool retain = false,
    bool duplicate = false, int level = level311, const MqttUserProperties &userProperties = {});
// PUBACK (and any other packet that is a packet id only; with 5 that means reason code 0, "success").
QByteArray acknowledgement(Type type, quint16 packetId);

// What a broker may say in its MQTT 5 properties that the client acts on.
struct BrokerProperties
{
    quint32 maximumPacketSize = 0; // 0: no limit beyond the protocol's
    int receiveMaximum = 65535; // QoS 1 publishes it takes in flight at once
    int serverKeepAlive = -1; // -1: the client's keep-alive stands
    QString reasonString; // a human-readable reason, for errors
    bool topicAlias = false; // a PUBLISH used a topic alias (the client allows none)
};

struct ConnackBody
{
    bool sessionPresent = false;
    // 0: accepted. 3.1.1: 1–5 refused (4: bad user name or password, 5: not authorised). 5: ≥ 0x80 refused.
    int returnCode = 0;
    BrokerProperties properties;
};
std::optional<ConnackBody> readConnack(const QByteArray &body, int level = level311);

struct SubackBody
{
    quint16 packetId = 0;
    // One per filter of the SUBSCRIBE: 0, 1 or 2 granted; 0x80 refused (3.1.1), a reason code ≥ 0x80 (5).
    QList<int> grantedQos;
    QString reasonString; // 5 only
};
std::optional<SubackBody> readSuback(const QByteArray &body, int level = level311);
// UNSUBACK: 3.1.1 is a packet id only (grantedQos empty); 5 has a reason code per filter (0, 0x11, ≥ 0x80).
std::optional<SubackBody> readUnsuback(const QByteArray &body, int level = level311);

// PUBACK: the packet id (never 0) and, with 5, the reason code (0 when the packet has none; ≥ 0x80: refused).
struct AckBody
{
    quint16 packetId = 0;
    int reasonCode = 0;
    QString reasonString;
};
std::optional<AckBody> readPuback(const QByteArray &body, int level = level311);
// A packet id only (3.1.1's PUBACK and UNSUBACK).
std::optional<quint16> readPacketId(const QByteArray &body);

// DISCONNECT from the broker (5 only; a 3.1.1 broker never sends one): its reason code (0 when absent).
struct DisconnectBody
{
    int reasonCode = 0;
    QString reasonString;
};
std::optional<DisconnectBody> readDisconnect(const QByteArray &body, int level = level5);

// PUBLISH: QoS 0–2, a topic of at least one character, valid UTF-8 and without wildcards, a packet id other than
// 0 when QoS > 0; with 5, well-formed properties and no topic alias (the client allows none). packetId, qos,
// retain, duplicate, topic, payload and userProperties of the message are set.
std::optional<MqttMessage> readPublish(quint8 header, const QByteArray &body, int level = level311);

} // namespace Onboarder::MqttPacket
