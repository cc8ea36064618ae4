// The modem's AT response parser (core/modem/atresponseparser.h) fed a modem's byte stream: the first input byte
// chooses the command in flight (or none), the second the size of the pieces the bytes come in, the rest is what
// the modem sends. The %KEYGEN answers among the lines go to ModemCsr, every line to the modem check's status
// parsers (ModemStatus). Promises: nothing crashes; the events are the same however the bytes are split into
// pieces; a Final event is a whole final-result line; Information only while a command is expected; no line is
// longer than the parser's limit; what the status parsers give back holds together.
// scripts/fuzz runs it under libFuzzer; the seed corpus holds real answers (docs/nrf91-at.md).
#include "fuzzcheck.h"
#include "modem/atresponseparser.h"
#include "modem/modemcsr.h"
#include "modem/modemstatus.h"

#include <cstddef>
#include <cstdint>
#include <iterator>

using namespace Onboarder;

namespace {

// Every status parser on one line: nothing may crash, and what they give back must hold together.
void statusLine(const QByteArray &line)
{
    using namespace ModemStatus;
    (void)parseCpin(line);
    if (const auto iccid = parseIccid(line))
        FUZZ_CHECK(iccid->size() >= 18 && !iccid->contains(u'F'));
    (void)parseSystemMode(line);
    for (const bool hasMode : {true, false})
        if (const auto r = parseCereg(line, hasMode))
            FUZZ_CHECK(r->tac.size() <= 4 && r->cellId.size() <= 8);
    if (const auto s = parseCesq(line); s && s->rsrpDbm)
        FUZZ_CHECK(*s->rsrpDbm >= -141 && *s->rsrpDbm <= -44);
    if (const auto c = parseXmonitor(line))
        (void)c->hasCell();
    if (const auto t = parseCclk(line))
        FUZZ_CHECK(t->isValid());
    if (const auto a = parseAttestationToken(line))
        FUZZ_CHECK(a->deviceUuid.size() == 36 && a->firmwareUuid.size() == 36);
}

const AtExpectation expectations[] = {{"AT%CMNG=1", "%CMNG:", false}, {"AT+CGMM", {}, true}, {"AT+CFUN=4", {}, false},
    {"AT%KEYGEN=1,2,0", "%KEYGEN:", false}};

bool sameEvents(const QList<AtResponseParser::Event> &a, const QList<AtResponseParser::Event> &b)
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (a[i].kind != b[i].kind || a[i].line != b[i].line || a[i].final != b[i].final || a[i].code != b[i].code)
            return false;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const size_t choice = data[0] % (std::size(expectations) + 1); // the last: nothing expected
    const qsizetype pieceSize = 1 + data[1] % 64;
    const QByteArray stream(reinterpret_cast<const char *>(data) + 2, qsizetype(size - 2));

    for (const QByteArray &line : stream.split('\n'))
        statusLine(line.endsWith('\r') ? line.chopped(1) : line);

    AtResponseParser whole;
    AtResponseParser pieces;
    const bool expecting = choice < std::size(expectations);
    if (expecting) {
        whole.expect(expectations[choice]);
        pieces.expect(expectations[choice]);
    }
    const QList<AtResponseParser::Event> all = whole.feed(stream);
    QList<AtResponseParser::Event> pieceEvents;
    for (qsizetype at = 0; at < stream.size(); at += pieceSize)
        pieceEvents += pieces.feed(stream.mid(at, pieceSize));
    FUZZ_CHECK(sameEvents(all, pieceEvents));

    bool expectingNow = expecting;
    for (const AtResponseParser::Event &event : all) {
        FUZZ_CHECK(event.line.size() <= AtResponseParser::maxLineBytes());
        switch (event.kind) {
        case AtResponseParser::Event::Kind::Final:
            FUZZ_CHECK(event.final != AtFinal::None && AtResponseParser::finalOf(event.line) == event.final);
            expectingNow = false;
            break;
        case AtResponseParser::Event::Kind::Information:
            FUZZ_CHECK(expectingNow);
            if (event.line.startsWith("%KEYGEN:")) {
                if (const auto csr = ModemCsr::fromKeygenAnswer(event.line)) {
                    (void)csr->subjectCommonName();
                    (void)csr->toPem();
                    (void)csr->check(QStringLiteral("fuzz-device"));
                }
            }
            break;
        case AtResponseParser::Event::Kind::Unsolicited: break;
        }
    }
    return 0;
}
