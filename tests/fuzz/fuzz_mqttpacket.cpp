// The MQTT packet reader of the project's client (core/mqtt/mqttpacket.h), fed a broker's byte stream: the relay
// reads a local broker through it, and so does every session to a hub. Each packet is read as MQTT 3.1.1 and as
// MQTT 5. Promises: nothing crashes; the
// packets are the same whether the bytes come at once or in pieces (the first byte of the input chooses the
// piece sizes), and so is the verdict on a malformed stream; once five bytes are buffered the reader never waits
// for more of a fixed header; a PUBLISH it accepts, written again, is the same bytes; a SUBACK has a code per
// filter, each 0, 1, 2 or 0x80 (3.1.1) or a reason code of at least 0x80 (5). An MQTT 5 PUBLISH it accepts, written
// again with what the client keeps of it (its user properties), reads back as the same message.
#include "fuzzcheck.h"
#include "mqtt/mqttpacket.h"

#include <cstddef>
#include <cstdint>

using namespace Onboarder;

namespace {

struct Reading
{
    QList<MqttPacket::Frame> frames;
    bool malformed = false;
};

Reading read(const QByteArray &bytes, qsizetype pieceSize)
{
    Reading reading;
    QByteArray buffer;
    for (qsizetype at = 0; at < bytes.size() && !reading.malformed; at += pieceSize) {
        buffer += bytes.mid(at, pieceSize);
        for (;;) {
            MqttPacket::Frame frame;
            const MqttPacket::Framing framing = MqttPacket::take(buffer, &frame);
            if (framing == MqttPacket::Framing::Malformed) {
                reading.malformed = true;
                break;
            }
            if (framing == MqttPacket::Framing::Incomplete) {
                if (buffer.size() >= 5) {
                    // The whole fixed header is there: what is missing must be body.
                    qsizetype length = 0;
                    qsizetype headerLength = 0;
                    for (int i = 1; i <= 4 && headerLength == 0; ++i) {
                        const quint8 byte = quint8(buffer.at(i));
                        length |= qsizetype(byte & 0x7f) << (7 * (i - 1));
                        if (!(byte & 0x80))
                            headerLength = i + 1;
                    }
                    FUZZ_CHECK(headerLength > 0);
                    FUZZ_CHECK(buffer.size() < headerLength + length);
                }
                break;
            }
            reading.frames.append(frame);
        }
    }
    return reading;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const qsizetype pieceSize = 1 + data[0] % 8;
    const QByteArray bytes(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));

    const Reading whole = read(bytes, qMax<qsizetype>(1, bytes.size()));
    const Reading pieces = read(bytes, pieceSize);
    FUZZ_CHECK(whole.malformed == pieces.malformed);
    FUZZ_CHECK(whole.frames.size() == pieces.frames.size());
    for (qsizetype i = 0; i < whole.frames.size(); ++i) {
        FUZZ_CHECK(whole.frames[i].header == pieces.frames[i].header);
        FUZZ_CHECK(whole.frames[i].body == pieces.frames[i].body);
    }

    for (const MqttPacket::Frame &frame : whole.frames) {
        FUZZ_CHECK(frame.body.size() <= MqttPacket::maxRemainingLength);
        switch (frame.type()) {
        case MqttPacket::Publish:
            if (const auto message = MqttPacket::readPublish(frame.header, frame.body)) {
                FUZZ_CHECK(message->qos >= 0 && message->qos <= 2);
                FUZZ_CHECK(!message->topic.isEmpty());
                FUZZ_CHECK(message->qos == 0 || message->packetId != 0);
                FUZZ_CHECK(MqttPacket::publish(message->topic, message->payload, message->qos,
                               quint16(message->packetId), message->retain, message->duplicate)
                    == MqttPacket::encode(frame.header, frame.body));
            }
            if (const auto message = MqttPacket::readPublish(frame.header, frame.body, MqttPacket::level5)) {
                const QByteArray again
                    = MqttPacket::publish(message->topic, message->payload, message->qos, quint16(message->packetId),
                        message->retain, message->duplicate, MqttPacket::level5, message->userProperties);
                QByteArray buffer = again;
                MqttPacket::Frame reread;
                FUZZ_CHECK(MqttPacket::take(buffer, &reread) == MqttPacket::Framing::Complete && buffer.isEmpty());
                const auto same = MqttPacket::readPublish(reread.header, reread.body, MqttPacket::level5);
                FUZZ_CHECK(same && *same == *message);
            }
            break;
        case MqttPacket::Suback:
            if (const auto suback = MqttPacket::readSuback(frame.body)) {
                FUZZ_CHECK(suback->grantedQos.size() == frame.body.size() - 2);
                for (const int code : suback->grantedQos)
                    FUZZ_CHECK(code <= 2 || code == 0x80);
            }
            if (const auto suback = MqttPacket::readSuback(frame.body, MqttPacket::level5)) {
                FUZZ_CHECK(suback->packetId != 0 && !suback->grantedQos.isEmpty());
                for (const int code : suback->grantedQos)
                    FUZZ_CHECK(code <= 2 || (code >= 0x80 && code <= 0xA2));
            }
            break;
        case MqttPacket::Unsuback:
            (void)MqttPacket::readUnsuback(frame.body);
            if (const auto unsuback = MqttPacket::readUnsuback(frame.body, MqttPacket::level5))
                FUZZ_CHECK(unsuback->packetId != 0 && !unsuback->grantedQos.isEmpty());
            break;
        case MqttPacket::Connack:
            if (const auto connack = MqttPacket::readConnack(frame.body))
                FUZZ_CHECK(connack->returnCode >= 0 && connack->returnCode <= 5);
            if (const auto connack = MqttPacket::readConnack(frame.body, MqttPacket::level5)) {
                FUZZ_CHECK(connack->returnCode == 0 || connack->returnCode >= 0x80);
                FUZZ_CHECK(connack->properties.receiveMaximum > 0);
            }
            break;
        case MqttPacket::Disconnect:
            FUZZ_CHECK(!MqttPacket::readDisconnect(frame.body, MqttPacket::level311));
            if (const auto disconnect = MqttPacket::readDisconnect(frame.body, MqttPacket::level5))
                FUZZ_CHECK(disconnect->reasonCode == 0 || disconnect->reasonCode >= 0x80);
            break;
        case MqttPacket::Puback:
            if (const auto ack = MqttPacket::readPuback(frame.body, MqttPacket::level5))
                FUZZ_CHECK(ack->packetId != 0 && (ack->reasonCode <= 0x10 || ack->reasonCode >= 0x80));
            if (const auto id = MqttPacket::readPacketId(frame.body))
                FUZZ_CHECK(*id != 0 && MqttPacket::acknowledgement(MqttPacket::Puback, *id).size() == 4);
            break;
        default:
            if (const auto id = MqttPacket::readPacketId(frame.body))
                FUZZ_CHECK(*id != 0 && MqttPacket::acknowledgement(MqttPacket::Puback, *id).size() == 4);
            break;
        }
    }
    return 0;
}
