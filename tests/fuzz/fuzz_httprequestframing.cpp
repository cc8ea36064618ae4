// The sandbox's HTTP request framing (sandbox/hub/httprequestframing.h: what its REST ports judge each request by
// before the body is read), fed a client's byte stream: the first input byte chooses the size of the pieces the rest
// comes in. The input also describes a stream of one to five well-formed requests, as the service SDKs send them
// (wellFormed(): its bytes choose methods, devices, headers and body sizes). Promises: nothing crashes; fed whole or
// in pieces the framing finds the same heads and the same error; after an error it finds nothing more, not even in
// well-formed requests; no head is over the limit; a head's Content-Length is what the head says, and never
// negative; a stream of well-formed requests is found request by request, without error and with no body left over.
#include "fuzzcheck.h"
#include "httprequestframing.h"

#include <cstddef>
#include <cstdint>

using namespace Onboarder::Sandbox;

namespace {

using Head = HttpRequestFraming::Head;

bool sameHeads(const QList<Head> &a, const QList<Head> &b)
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (a[i].method != b[i].method || a[i].target != b[i].target || a[i].headers != b[i].headers
            || a[i].contentLength != b[i].contentLength)
            return false;
    }
    return true;
}

// One to five requests a REST client sends, each chosen by four bytes of the recipe (method, device, headers, body
// size), taken round the recipe when it is short.
QByteArray wellFormed(const QByteArray &recipe, qsizetype *count)
{
    static const QList<QByteArray> methods{"GET", "PUT", "POST", "DELETE", "PATCH"};
    const auto byte
        = [&recipe](qsizetype i) { return recipe.isEmpty() ? 0 : int(quint8(recipe.at(i % recipe.size()))); };
    *count = 1 + byte(0) % 5;
    QByteArray stream;
    for (qsizetype i = 0; i < *count; ++i) {
        const int flags = byte(4 * i + 3);
        const QByteArray body((flags & 4) ? byte(4 * i + 4) + (flags >> 3) : 0, 'b');
        stream += methods.at(byte(4 * i + 1) % methods.size()) + " /devices/d-"
            + QByteArray::number(byte(4 * i + 2) % 100) + "?api-version=2021-04-12 HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        if (flags & 1)
            stream += "Authorization: SharedAccessSignature sr=127.0.0.1&sig=abc%3D&se=1900000000&skn=iothubowner\r\n";
        if (!body.isEmpty() || (flags & 2))
            stream += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
        stream += "\r\n" + body;
    }
    return stream;
}

// The promises that hold for any stream; `whole` is left as the stream fed at once has left it.
QList<Head> check(const QByteArray &stream, qsizetype pieceSize, HttpRequestFraming &whole)
{
    const QList<Head> heads = whole.feed(stream);
    HttpRequestFraming pieces;
    QList<Head> pieceHeads;
    for (qsizetype at = 0; at < stream.size(); at += pieceSize)
        pieceHeads += pieces.feed(stream.mid(at, pieceSize));
    FUZZ_CHECK(sameHeads(heads, pieceHeads));
    FUZZ_CHECK(whole.error() == pieces.error());
    for (const Head &head : heads) {
        FUZZ_CHECK(head.contentLength >= 0);
        const QByteArray length = head.value("content-length");
        FUZZ_CHECK(!length.isEmpty() || head.contentLength == 0);
        FUZZ_CHECK(length.isEmpty() || length.toLongLong() == head.contentLength);
        qsizetype size = head.method.size() + head.target.size();
        for (const auto &[name, value] : head.headers)
            size += name.size() + value.size();
        FUZZ_CHECK(size <= HttpRequestFraming::headLimit);
    }
    return heads;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const qsizetype pieceSize = 1 + data[0] % 80;
    const QByteArray stream(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    qsizetype count = 0;
    const QByteArray requests = wellFormed(stream, &count);

    HttpRequestFraming framing;
    (void)check(stream, pieceSize, framing);
    if (framing.error() != HttpRequestFraming::Error::None)
        FUZZ_CHECK(framing.feed(requests).isEmpty());

    HttpRequestFraming wellFormedFraming;
    const QList<Head> heads = check(requests, pieceSize, wellFormedFraming);
    FUZZ_CHECK(heads.size() == count);
    FUZZ_CHECK(wellFormedFraming.error() == HttpRequestFraming::Error::None);
    FUZZ_CHECK(wellFormedFraming.bodyRemaining() == 0);
    return 0;
}
