#pragma once

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>

#include <optional>

namespace Onboarder::WebSocket {

// The part of RFC 6455 that MQTT over WebSockets needs (IoT Hub: wss://{host}:443/$iothub/websocket,
// sub-protocol "mqtt"): the HTTP/1.1 upgrade, binary frames carrying the MQTT byte stream (a packet may
// span frames), ping/pong and close. MqttClient speaks the client side; the sandbox hub's device port
// the server side.

inline constexpr char iotHubPath[] = "/$iothub/websocket";
inline constexpr char subProtocol[] = "mqtt";

enum Opcode : quint8 { Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA };

// The Sec-WebSocket-Accept value for a Sec-WebSocket-Key.
QByteArray acceptKey(const QByteArray &key);
// A random Sec-WebSocket-Key (16 bytes, Base64).
QByteArray newKey();

// The client's upgrade request.
QByteArray clientHandshake(const QString &host, int port, const QByteArray &path, const QByteArray &key);

// An HTTP/1.1 message head: the start line and the header fields (names in lower case).
struct HttpHead
{
    QByteArray startLine;
    QMap<QByteArray, QByteArray> fields;
    qsizetype length = 0; // bytes up to and including the empty line
};
// The head at the start of buffer once it is complete (std::nullopt until then).
std::optional<HttpHead> parseHead(const QByteArray &buffer);

// Checks the server's answer to clientHandshake(key): an empty string, or why it is not an upgrade.
QString checkServerHandshake(const HttpHead &head, const QByteArray &key);

// One frame (FIN set); clients mask what they send (RFC 6455 §5.3), servers do not.
QByteArray frame(Opcode opcode, const QByteArray &payload, bool masked);

struct Frame
{
    Opcode opcode = Binary;
    QByteArray payload; // unmasked
};

// Cuts frames out of a byte stream.
class Decoder
{
public:
    static constexpr qsizetype maxPayload = 1 << 20; // IoT Hub's messages are at most 256 KiB

    // Appends data and returns the frames completed by it; false in *ok when the stream is not
    // WebSocket framing or a frame is larger than maxPayload.
    QList<Frame> feed(const QByteArray &data, bool *ok);

private:
    QByteArray m_buffer;
};

} // namespace Onboarder::WebSocket
