// Feeds the sandbox's HTTP request framing (HttpRequestFraming: what its REST ports judge each request by
// before the body is read) with mutated copies of real request streams and checks that nothing crashes and
// that it keeps its promises: fed whole or in random chunks it finds the same heads and the same error;
// nothing after an error; no head over the limit; a Content-Length is what a head says and never negative;
// and an unmutated stream of well-formed requests is found request by request.
// Usage: fuzz_httprequestframing [--cases N] [--seed S]
#include "httprequestframing.h"

#include <QCoreApplication>
#include <QRandomGenerator>

#include <cstdio>
#include <cstdlib>

using namespace Onboarder::Sandbox;

namespace {

[[noreturn]] void failed(const char *what, quint64 seed, qint64 caseNumber)
{
    std::fprintf(stderr, "fuzz_httprequestframing: %s (seed %llu, case %lld)\n", what,
        static_cast<unsigned long long>(seed), static_cast<long long>(caseNumber));
    std::abort();
}

QByteArray request(QRandomGenerator &random)
{
    static const QList<QByteArray> methods{"GET", "PUT", "POST", "DELETE", "PATCH"};
    const QByteArray body(random.bounded(0, 300), 'b');
    QByteArray head = methods.at(random.bounded(methods.size())) + " /devices/d-"
        + QByteArray::number(random.bounded(100)) + "?api-version=2021-04-12 HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (random.bounded(2))
        head += "Authorization: SharedAccessSignature sr=127.0.0.1&sig=abc%3D&se=1900000000&skn=iothubowner\r\n";
    if (!body.isEmpty() || random.bounded(2))
        head += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    return head + "\r\n" + body;
}

QByteArray mutate(QByteArray data, QRandomGenerator &random)
{
    static const QList<QByteArray> pieces{"\r\n", "\r\n\r\n", ":",
        "Content-Length: ", "Content-Length: 99999999999999999999\r\n", "Transfer-Encoding: chunked\r\n", " ",
        "HTTP/1.1", "\n", "Content-Length: -1\r\n", "Content-Length: 5\r\nContent-Length: 6\r\n",
        QByteArray(17000, 'h')};
    const int edits = random.bounded(1, 6);
    for (int i = 0; i < edits; ++i) {
        const qsizetype at = data.isEmpty() ? 0 : random.bounded(data.size() + 1);
        switch (random.bounded(5)) {
        case 0: data.insert(at, char(random.bounded(256))); break;
        case 1:
            if (at < data.size())
                data.remove(at, random.bounded(1, 20));
            break;
        case 2: data.insert(at, pieces.at(random.bounded(pieces.size()))); break;
        case 3:
            if (at < data.size())
                data[at] = char(random.bounded(256));
            break;
        case 4: data.truncate(at); break;
        }
    }
    return data;
}

bool sameHeads(const QList<HttpRequestFraming::Head> &a, const QList<HttpRequestFraming::Head> &b)
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

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    qint64 cases = 100000;
    quint64 seed = QRandomGenerator::system()->generate64();
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == QStringLiteral("--cases"))
            cases = args[i + 1].toLongLong();
        else if (args[i] == QStringLiteral("--seed"))
            seed = args[i + 1].toULongLong();
    }
    QRandomGenerator random(seed);
    std::printf("fuzz_httprequestframing: %lld cases, seed %llu\n", static_cast<long long>(cases),
        static_cast<unsigned long long>(seed));

    qint64 heads = 0, errors = 0;
    for (qint64 n = 0; n < cases; ++n) {
        const int count = random.bounded(1, 6);
        QByteArray stream;
        for (int i = 0; i < count; ++i)
            stream += request(random);
        const bool mutated = random.bounded(4) != 0;
        if (mutated)
            stream = mutate(stream, random);

        HttpRequestFraming whole;
        const QList<HttpRequestFraming::Head> all = whole.feed(stream);
        HttpRequestFraming chunked;
        QList<HttpRequestFraming::Head> pieces;
        for (qsizetype at = 0; at < stream.size();) {
            const qsizetype size = random.bounded(1, 80);
            pieces += chunked.feed(stream.mid(at, size));
            at += size;
        }
        if (!sameHeads(all, pieces) || whole.error() != chunked.error())
            failed("chunking changed the heads", seed, n);
        if (whole.error() != HttpRequestFraming::Error::None) {
            ++errors;
            if (!whole.feed(request(random)).isEmpty())
                failed("a head after an error", seed, n);
        }
        for (const HttpRequestFraming::Head &head : all) {
            if (head.contentLength < 0)
                failed("a negative Content-Length", seed, n);
            const QByteArray length = head.value("content-length");
            if ((length.isEmpty() && head.contentLength != 0)
                || (!length.isEmpty() && length.toLongLong() != head.contentLength))
                failed("a Content-Length the head does not say", seed, n);
            qsizetype size = head.method.size() + head.target.size();
            for (const auto &[name, value] : head.headers)
                size += name.size() + value.size();
            if (size > HttpRequestFraming::headLimit)
                failed("a head over the limit", seed, n);
        }
        if (!mutated
            && (all.size() != count || whole.error() != HttpRequestFraming::Error::None || whole.bodyRemaining() != 0))
            failed("a well-formed stream was not followed request by request", seed, n);
        heads += all.size();
    }
    std::printf("fuzz_httprequestframing: ok: %lld cases, %lld heads, %lld errors\n", static_cast<long long>(cases),
        static_cast<long long>(heads), static_cast<long long>(errors));
    return 0;
}
