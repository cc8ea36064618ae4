// The WebSocket codec (core/mqtt/websocket) against RFC 6455's own examples, not against the project's server:
// the handshake's accept key (§1.3, §4.2.2), the framing examples of §5.7 (unmasked and masked text, a fragmented
// message, ping and pong, 16- and 64-bit lengths), masking as the receiver undoes it (§5.3), close frames with
// their status codes (§5.5.1, §7.4), and the frames a receiver must refuse (reserved bits, undefined opcodes,
// fragmented or oversized control frames).
#include "mqtt/websocket.h"

#include <QTest>
#include <QtEndian>

using namespace Onboarder;
namespace WS = Onboarder::WebSocket;

namespace {

QByteArray bytes(std::initializer_list<int> values)
{
    QByteArray out;
    for (int value : values)
        out += char(value);
    return out;
}

} // namespace

class tst_WebSocket : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void acceptKeyOfTheRfcExample()
    {
        // §1.3: the key "dGhlIHNhbXBsZSBub25jZQ==" is answered with "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
        QCOMPARE(WS::acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        QCOMPARE(QByteArray::fromBase64(WS::newKey()).size(), 16); // §4.1: 16 random bytes, base64
        QVERIFY(WS::newKey() != WS::newKey());
    }

    void serverHandshakeOfTheRfcExample()
    {
        const QByteArray answer
            = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n";
        const auto head = WS::parseHead(answer + "\x82");
        QVERIFY(head.has_value());
        QCOMPARE(head->length, answer.size());
        QCOMPARE(WS::checkServerHandshake(*head, "dGhlIHNhbXBsZSBub25jZQ=="), QString());
        QVERIFY(!WS::checkServerHandshake(*head, WS::newKey()).isEmpty()); // another key's accept value
        const auto refused = WS::parseHead("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        QVERIFY(!WS::checkServerHandshake(*refused, "dGhlIHNhbXBsZSBub25jZQ==").isEmpty());
        QVERIFY(!WS::parseHead("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n")
                     .has_value()); // not complete yet
        // The client's request carries what §4.1 requires.
        const QByteArray request
            = WS::clientHandshake(QStringLiteral("server.example.com"), 443, "/chat", "dGhlIHNhbXBsZSBub25jZQ==");
        QVERIFY(request.startsWith("GET /chat HTTP/1.1\r\n"));
        for (const char *field : {"Upgrade: websocket", "Connection: Upgrade",
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
                 "Sec-WebSocket-Protocol: mqtt"})
            QVERIFY2(request.contains(field), field);
        QVERIFY(request.endsWith("\r\n\r\n"));
    }

    void framingExamplesOfSection57_data()
    {
        QTest::addColumn<QByteArray>("wire");
        QTest::addColumn<int>("opcode");
        QTest::addColumn<QByteArray>("payload");
        QTest::newRow("unmasked text") << bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}) << int(WS::Text)
                                       << QByteArray("Hello");
        QTest::newRow("masked text") << bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})
                                     << int(WS::Text) << QByteArray("Hello");
        QTest::newRow("unmasked ping") << bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}) << int(WS::Ping)
                                       << QByteArray("Hello");
        QTest::newRow("masked pong") << bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})
                                     << int(WS::Pong) << QByteArray("Hello");
        const QByteArray k256(256, 'x');
        QTest::newRow("256 bytes, 16-bit length") << bytes({0x82, 0x7E, 0x01, 0x00}) + k256 << int(WS::Binary) << k256;
        const QByteArray k64(65536, 'y');
        QTest::newRow("64 KiB, 64-bit length")
            << bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}) + k64 << int(WS::Binary) << k64;
    }

    void framingExamplesOfSection57()
    {
        QFETCH(QByteArray, wire);
        QFETCH(int, opcode);
        QFETCH(QByteArray, payload);
        // Whole, and one byte at a time: the same single frame.
        WS::Decoder whole;
        bool ok = false;
        const auto frames = whole.feed(wire, &ok);
        QVERIFY(ok);
        QCOMPARE(frames.size(), 1);
        QCOMPARE(int(frames.first().opcode), opcode);
        QCOMPARE(frames.first().payload, payload);
        WS::Decoder trickle;
        QList<WS::Frame> pieces;
        for (char byte : wire) {
            pieces += trickle.feed(QByteArray(1, byte), &ok);
            QVERIFY(ok);
        }
        QCOMPARE(pieces.size(), 1);
        QCOMPARE(pieces.first().payload, payload);
        // What frame() writes unmasked is the RFC's bytes exactly.
        if (!(wire.at(1) & 0x80))
            QCOMPARE(WS::frame(WS::Opcode(opcode), payload, false), wire);
    }

    void aFragmentedMessageArrivesAsItsFrames()
    {
        // §5.7: "Hel" (text, FIN clear) then "lo" (continuation, FIN set).
        WS::Decoder decoder;
        bool ok = false;
        const auto frames = decoder.feed(bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}), &ok);
        QVERIFY(ok);
        QCOMPARE(frames.size(), 2);
        QCOMPARE(frames.at(0).opcode, WS::Text);
        QCOMPARE(frames.at(0).payload, QByteArray("Hel"));
        QCOMPARE(frames.at(1).opcode, WS::Continuation);
        QCOMPARE(frames.at(1).payload, QByteArray("lo"));
    }

    void maskedFramesAsTheReceiverUndoesThem()
    {
        // §5.3: a client masks with a fresh 32-bit key; unmasking by hand (octet i XOR key[i mod 4]) gives the payload.
        const QByteArray payload = QByteArray("\x10\x20MQTT packet bytes \x00\xff", 22).repeated(20);
        const QByteArray first = WS::frame(WS::Binary, payload, true);
        const QByteArray second = WS::frame(WS::Binary, payload, true);
        QCOMPARE(quint8(first.at(0)), quint8(0x82));
        QVERIFY(quint8(first.at(1)) & 0x80);
        QCOMPARE(quint8(first.at(1)) & 0x7F, 126);
        QCOMPARE(qFromBigEndian<quint16>(first.constData() + 2), quint16(payload.size()));
        const QByteArray key = first.mid(4, 4);
        QByteArray unmasked = first.mid(8);
        for (qsizetype i = 0; i < unmasked.size(); ++i)
            unmasked[i] = char(unmasked.at(i) ^ key.at(i & 3));
        QCOMPARE(unmasked, payload);
        QVERIFY(first.mid(8) != payload);
        QVERIFY2(second.mid(4, 4) != key, "a new masking key for every frame");
    }

    void closeFramesCarryTheirStatusCode()
    {
        // §5.5.1: a close body starts with a 2-byte status code (§7.4.1: 1000 normal, 1002 protocol error), then a
        // reason.
        const QByteArray body = bytes({0x03, 0xE8}) + "bye";
        const QByteArray wire = WS::frame(WS::Close, body, false);
        QCOMPARE(wire, bytes({0x88, 0x05, 0x03, 0xE8}) + "bye");
        WS::Decoder decoder;
        bool ok = false;
        const auto frames = decoder.feed(bytes({0x88, 0x82, 0x11, 0x22, 0x33, 0x44, 0x03 ^ 0x11, 0xEA ^ 0x22}), &ok);
        QVERIFY(ok);
        QCOMPARE(frames.size(), 1);
        QCOMPARE(frames.first().opcode, WS::Close);
        QCOMPARE(qFromBigEndian<quint16>(frames.first().payload.constData()), quint16(1002));
    }

    void framesAReceiverMustRefuse_data()
    {
        QTest::addColumn<QByteArray>("wire");
        QTest::newRow("RSV1 without an extension") << bytes({0xC1, 0x00});
        QTest::newRow("RSV3") << bytes({0x92, 0x00});
        QTest::newRow("reserved data opcode 0x3") << bytes({0x83, 0x00});
        QTest::newRow("reserved control opcode 0xB") << bytes({0x8B, 0x00});
        QTest::newRow("fragmented ping") << bytes({0x09, 0x00});
        QTest::newRow("close of 126 bytes") << bytes({0x88, 0x7E, 0x00, 0x7E}) + QByteArray(126, 'c');
        QTest::newRow("longer than the limit") << bytes({0x82, 0x7F, 0, 0, 0, 0, 0x7F, 0, 0, 0});
    }

    void framesAReceiverMustRefuse()
    {
        QFETCH(QByteArray, wire);
        WS::Decoder decoder;
        bool ok = true;
        const auto frames = decoder.feed(wire, &ok);
        QVERIFY(!ok);
        QVERIFY(frames.isEmpty());
    }
};

QTEST_GUILESS_MAIN(tst_WebSocket)
#include "tst_websocket.moc"
