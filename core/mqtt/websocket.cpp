#include "mqtt/websocket.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QRandomGenerator>
#include <QtEndian>

namespace Onboarder::WebSocket {

namespace {

constexpr char handshakeGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"; // RFC 6455 §1.3

} // namespace

QByteArray acceptKey(const QByteArray &key)
{
    return QCryptographicHash::hash(QByteArray(key.trimmed() + handshakeGuid), QCryptographicHash::Sha1).toBase64();
}

QByteArray newKey()
{
    QByteArray nonce(16, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(nonce.data()), 4);
    return nonce.toBase64();
}

QByteArray clientHandshake(const QString &host, int port, const QByteArray &path, const QByteArray &key)
{
    const QByteArray authority
        = (host.contains(u':') ? u'[' + host + u']' : host).toUtf8() + ':' + QByteArray::number(port);
    return "GET " + path + " HTTP/1.1\r\nHost: " + authority
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key
        + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: " + subProtocol + "\r\n\r\n";
}

std::optional<HttpHead> parseHead(const QByteArray &buffer)
{
    const qsizetype end = buffer.indexOf("\r\n\r\n");
    if (end < 0)
        return std::nullopt;
    HttpHead head;
    head.length = end + 4;
    const QList<QByteArray> lines = buffer.left(end).split('\n');
    head.startLine = lines.value(0).trimmed();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines.at(i);
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            head.fields.insert(line.left(colon).trimmed().toLower(), line.mid(colon + 1).trimmed());
    }
    return head;
}

QString checkServerHandshake(const HttpHead &head, const QByteArray &key)
{
    const QList<QByteArray> status = head.startLine.split(' ');
    if (status.size() < 2 || !status.at(0).startsWith("HTTP/1."))
        return QCoreApplication::translate("WebSocket", "it did not answer in HTTP");
    if (status.at(1) != "101")
        return QCoreApplication::translate("WebSocket", "it refused the WebSocket upgrade (%1)")
            .arg(QString::fromUtf8(head.startLine.mid(status.at(0).size() + 1)));
    if (head.fields.value("upgrade").toLower() != "websocket"
        || head.fields.value("sec-websocket-accept") != acceptKey(key))
        return QCoreApplication::translate("WebSocket", "its WebSocket upgrade answer is not valid");
    return {};
}

QByteArray frame(Opcode opcode, const QByteArray &payload, bool masked)
{
    QByteArray out;
    out.reserve(payload.size() + 14);
    out += char(0x80 | opcode);
    const quint8 maskBit = masked ? 0x80 : 0x00;
    if (payload.size() < 126) {
        out += char(maskBit | quint8(payload.size()));
    } else if (payload.size() <= 0xFFFF) {
        out += char(maskBit | 126);
        out += char((payload.size() >> 8) & 0xFF);
        out += char(payload.size() & 0xFF);
    } else {
        out += char(maskBit | 127);
        for (int shift = 56; shift >= 0; shift -= 8)
            out += char((quint64(payload.size()) >> shift) & 0xFF);
    }
    if (!masked)
        return out + payload;
    const quint32 mask = QRandomGenerator::global()->generate();
    char key[4];
    qToBigEndian(mask, key);
    out.append(key, 4);
    const qsizetype start = out.size();
    out += payload;
    char *data = out.data() + start;
    for (qsizetype i = 0; i < payload.size(); ++i)
        data[i] = char(data[i] ^ key[i & 3]);
    return out;
}

QList<Frame> Decoder::feed(const QByteArray &data, bool *ok)
{
    *ok = true;
    m_buffer += data;
    QList<Frame> frames;
    qsizetype pos = 0;
    while (m_buffer.size() - pos >= 2) {
        const auto *bytes = reinterpret_cast<const quint8 *>(m_buffer.constData()) + pos;
        const qsizetype available = m_buffer.size() - pos;
        if (bytes[0] & 0x70) { // reserved bits: no extension was negotiated
            *ok = false;
            return frames;
        }
        const bool masked = bytes[1] & 0x80;
        quint64 length = bytes[1] & 0x7F;
        // RFC 6455 §5.2, §5.5: no opcode that is not defined; control frames are never fragmented and carry at most
        // 125 bytes.
        const quint8 opcode = bytes[0] & 0x0F;
        const bool control = opcode & 0x08;
        if ((opcode > Binary && !control) || opcode > Pong || (control && (!(bytes[0] & 0x80) || length > 125))) {
            *ok = false;
            return frames;
        }
        qsizetype header = 2;
        if (length == 126) {
            if (available < 4)
                break;
            length = qFromBigEndian<quint16>(bytes + 2);
            header = 4;
        } else if (length == 127) {
            if (available < 10)
                break;
            length = qFromBigEndian<quint64>(bytes + 2);
            header = 10;
        }
        if (length > quint64(maxPayload)) {
            *ok = false;
            return frames;
        }
        const qsizetype maskAt = header;
        if (masked)
            header += 4;
        if (available < header + qsizetype(length))
            break;
        Frame frame;
        frame.opcode = Opcode(bytes[0] & 0x0F);
        frame.payload = m_buffer.mid(pos + header, qsizetype(length));
        if (masked) {
            char *payload = frame.payload.data();
            for (qsizetype i = 0; i < frame.payload.size(); ++i)
                payload[i] = char(payload[i] ^ bytes[maskAt + (i & 3)]);
        }
        frames.append(std::move(frame));
        pos += header + qsizetype(length);
    }
    m_buffer.remove(0, pos);
    return frames;
}

} // namespace Onboarder::WebSocket
