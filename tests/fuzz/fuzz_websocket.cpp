// The WebSocket framing of MQTT over WebSockets (core/mqtt/websocket.h), as the client reads a server's bytes: the
// upgrade answer's head and then the frame stream. Promises: nothing crashes; the frames are the same whether the
// bytes come at once or in pieces (the first byte of the input chooses the piece sizes), and so is the verdict on
// a malformed stream; no frame is longer than the decoder's limit; a frame written again by frame() decodes to
// itself.
#include "fuzzcheck.h"
#include "mqtt/websocket.h"

#include <cstddef>
#include <cstdint>

using namespace Onboarder;

namespace {

bool sameFrames(const QList<WebSocket::Frame> &a, const QList<WebSocket::Frame> &b)
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i)
        if (a[i].opcode != b[i].opcode || a[i].payload != b[i].payload)
            return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const int pieceSize = 1 + data[0] % 16;
    const QByteArray bytes(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));

    if (const auto head = WebSocket::parseHead(bytes)) {
        FUZZ_CHECK(head->length > 0 && head->length <= bytes.size());
        (void)WebSocket::checkServerHandshake(*head, "dGhlIHNhbXBsZSBub25jZQ==");
    }

    WebSocket::Decoder whole;
    bool wholeOk = true;
    const QList<WebSocket::Frame> frames = whole.feed(bytes, &wholeOk);

    WebSocket::Decoder pieces;
    bool piecesOk = true;
    QList<WebSocket::Frame> pieceFrames;
    for (qsizetype at = 0; at < bytes.size() && piecesOk; at += pieceSize)
        pieceFrames += pieces.feed(bytes.mid(at, pieceSize), &piecesOk);
    FUZZ_CHECK(wholeOk == piecesOk);
    FUZZ_CHECK(sameFrames(frames, pieceFrames));

    for (const WebSocket::Frame &frame : frames) {
        FUZZ_CHECK(frame.payload.size() <= WebSocket::Decoder::maxPayload);
        WebSocket::Decoder again;
        bool againOk = false;
        const QList<WebSocket::Frame> decoded
            = again.feed(WebSocket::frame(frame.opcode, frame.payload, frame.payload.size() % 2 == 0), &againOk);
        FUZZ_CHECK(againOk);
        FUZZ_CHECK(sameFrames(decoded, {frame}));
    }
    return 0;
}
