// Feeds random and mutated lines to AtResponseParser (the %KEYGEN answers among them to ModemCsr, and every line to
// the status parsers of the modem check, ModemStatus)
// and checks that nothing crashes and the parser keeps its promises:
//   - the events are the same however the bytes are split into chunks;
//   - a Final event is a whole final-result line; Information only while a command is expected;
//   - no line is longer than the parser's limit.
// Usage: fuzz_atresponseparser [--lines N] [--seed S]   (scripts/fuzz-modem runs 1M lines under ASan/UBSan)
#include "modem/atresponseparser.h"
#include "modem/modemcsr.h"
#include "modem/modemstatus.h"

#include <QByteArrayList>
#include <QCoreApplication>
#include <QRandomGenerator>
#include <QStringList>

#include <cstdio>
#include <cstdlib>

using namespace Onboarder;

namespace {

const QByteArrayList corpus{
    "OK",
    "ERROR",
    "+CME ERROR: 513",
    "+CME ERROR: 518",
    "+CME ERROR: not allowed",
    "+CMS ERROR: 500",
    "+CME ERROR:",
    "%CMNG: 16842753,0,\"2C43952EE9E000FF2ACC4E2ED0897C0A72AD5FA72C3D934E81741CBD54F05BD1\"",
    "%CMNG: 12345678, 0, \"978C0000000000000000000000000000000000000000000000000000000002C4\"",
    "%CMNG: 42,2",
    "%CMNG: 42,0,\"AD6F\",\"-----BEGIN "
    "CERTIFICATE-----\r\nMIIDQTCCAimgAwIBAgITBmyfz5m/jAo54vB4ikPmljZbyjANBgkqhkiG9w0BAQsF\r\n-----END "
    "CERTIFICATE-----\"",
    "%KEYGEN: "
    "\"MIHsMIGSAgEAMA8xDTALBgNVBAMMBGRldjEwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAT3BO_CQMqCBwToLaE9z1Om0lP9Ebo0Zm8x."
    "0oRDoQEmoQRBIVhM2dn3hQlQ\"",
    // A real answer of the simulator, so that mutations reach the CSR's DER parser.
    "%KEYGEN: "
    "\"MIHyMIGZAgEAMBYxFDASBgNVBAMMC2Z1enotZGV2aWNlMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEopblqpw36nn3d4AeUm6QCPA9eXZ0xQ6C"
    "IeuFIriJ4c8ROAkP6vBS0Ee9ZgjPSs9WKhvglaT11zoWur8u192cBaAhMB8GCSqGSIb3DQEJDjESMBAwDgYDVR0PAQH_"
    "BAQDAgPoMAoGCCqGSM49BAMCA0gAMEUCIQCfY2q4Xu2Iez-tCZ0aXBtwxj37VlJ8E84XQbwAP8eNiAIgRu5N64SsNjEIqd7O_"
    "DJGZPOM4ljB7nfZH9MwdqNRj6E.0oRDoQEmoQRBIVhP2dn3hQlQo46la8WVTF-l05-_Kkq5V0UaAQEAAVgg6B00xml4DMh84NaAxbLb4DXwgM0L-"
    "ishRGo4lOzEx9xQFGD2xqCWlvubXLv0g1tYrFhArTIyMfqpPbwkNwmX7f-j7OPUO301mlykuDVXnOFKY65Ao-YieuKwy6NWvPlxs1DOIj2-"
    "sLfruJwc8_4JFVfszw\"",
    "%KEYGEN: \"MIIB.\"",
    "%KEYGEN: \"..\"",
    "+CEREG: 1,\"002F\",\"0012BEEF\",7",
    "+CEREG: 2,\"002F",
    "%CESQ: 62,3,12,1",
    "%XSIM: 1",
    "+CFUN: 4",
    "+CGSN: \"352656100367872\"",
    "352656100367872",
    "Nordic Semiconductor ASA",
    "nRF9160-SICA",
    "mfw_nrf9160_1.3.5",
    "%XMODEMUUID: 25c95751-efa4-40d4-8b4a-1dcaab81fac9",
    "Ready",
    "The AT host sample started",
    "",
    " ",
    "\"",
    "\"\"\"",
    "OK\"",
    "AT%CMNG=1",
    "\x1b[1;32muart:~$ \x1b[m",
    // The modem check's answers (docs/nrf91-at.md §10).
    "+CPIN: READY",
    "+CPIN: \"SIM PIN\"",
    "%XICCID: 8901234567012345678F",
    "%XSYSTEMMODE: 1,1,1,0",
    "+CEREG: 5,3,\"002F\",\"0012BEEF\",7,0,15",
    "+CEREG: 0,90",
    "+CESQ: 99,99,255,255,24,62",
    "+CESQ: 99,99,255,255,255,255",
    "%XMONITOR: "
    "1,\"EDAV\",\"EDAV\",\"26295\",\"00B7\",7,4,\"00011B07\",7,2300,63,39,\"\",\"11100000\",\"11100000\",\"00001001\"",
    "%XMONITOR: 2",
    "+CCLK: \"26/12/06,17:41:43+04\"",
    "+CCLK: \"80/01/06,00:00:00-96\"",
    "%ATTESTTOKEN: \"2dn3hQFQUFZBTjQyRAqARAIf47w9GANQ9uO9e33zS4i0OqepdmoErVDTluTkTuSk5wSathm9GYCY.0oRDoQEmoQ\"",
};

// Every status parser on one line: nothing may crash, and what they give back must hold together.
qint64 statusLine(const QByteArray &line)
{
    using namespace ModemStatus;
    qint64 parsed = 0;
    parsed += parseCpin(line).has_value();
    if (const auto iccid = parseIccid(line); iccid && (iccid->size() < 18 || iccid->contains(u'F')))
        std::abort();
    parsed += parseSystemMode(line).has_value();
    for (const bool hasMode : {true, false})
        if (const auto r = parseCereg(line, hasMode); r && (r->tac.size() > 4 || r->cellId.size() > 8))
            std::abort();
    if (const auto s = parseCesq(line); s && s->rsrpDbm && (*s->rsrpDbm < -141 || *s->rsrpDbm > -44))
        std::abort();
    if (const auto c = parseXmonitor(line))
        parsed += c->hasCell();
    if (const auto t = parseCclk(line); t && !t->isValid())
        std::abort();
    if (const auto a = parseAttestationToken(line); a && (a->deviceUuid.size() != 36 || a->firmwareUuid.size() != 36))
        std::abort();
    return parsed;
}
const char *const separators[] = {"\r\n", "\n", "\r", "\r\r\n", "", "\r\n\r\n"};
const QList<AtExpectation> expectations{{"AT%CMNG=1", "%CMNG:", false}, {"AT+CGMM", {}, true}, {"AT+CFUN=4", {}, false},
    {"AT%KEYGEN=1,2,0", "%KEYGEN:", false}};

QByteArray mutate(QByteArray line, QRandomGenerator &random)
{
    const int edits = random.bounded(1, 6);
    for (int i = 0; i < edits; ++i) {
        const int kind = random.bounded(7);
        const qsizetype at = line.isEmpty() ? 0 : random.bounded(line.size() + 1);
        switch (kind) {
        case 0: line.insert(at, char(random.bounded(256))); break; // random byte
        case 1:
            if (!line.isEmpty() && at < line.size())
                line.remove(at, 1);
            break; // drop
        case 2:
            if (!line.isEmpty() && at < line.size())
                line[at] = char(random.bounded(256));
            break;
        case 3: line.insert(at, "\""); break; // unbalance quotes
        case 4: line.insert(at, random.bounded(2) ? "\r" : "\n"); break; // break it
        case 5: line.insert(at, corpus.at(random.bounded(corpus.size()))); break; // splice
        case 6: line.append(QByteArray(random.bounded(1, 3000), char(random.bounded(32, 127)))); break; // long
        }
    }
    return line;
}

QByteArray randomLine(QRandomGenerator &random)
{
    QByteArray line(random.bounded(0, 200), Qt::Uninitialized);
    for (char &c : line)
        c = char(random.bounded(256));
    return line;
}

[[noreturn]] void failure(const char *what, quint64 seed, int session)
{
    std::fprintf(stderr, "fuzz_atresponseparser: %s (seed %llu, session %d)\n", what,
        static_cast<unsigned long long>(seed), session);
    std::abort();
}

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

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    qint64 lines = 1000000;
    quint64 seed = QRandomGenerator::system()->generate64();
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == QStringLiteral("--lines"))
            lines = args[i + 1].toLongLong();
        else if (args[i] == QStringLiteral("--seed"))
            seed = args[i + 1].toULongLong();
    }
    QRandomGenerator random(seed);
    std::printf("fuzz_atresponseparser: %lld lines, seed %llu\n", static_cast<long long>(lines),
        static_cast<unsigned long long>(seed));

    qint64 fed = 0, finals = 0, infos = 0, urcs = 0, csrs = 0, statuses = 0;
    int session = 0;
    while (fed < lines) {
        // A session: one expectation, a few dozen lines, parsed whole and in random chunks.
        ++session;
        const AtExpectation expectation = expectations.at(random.bounded(expectations.size()));
        const bool expecting = random.bounded(4) != 0;
        QByteArray stream;
        const int count = random.bounded(1, 40);
        for (int i = 0; i < count; ++i, ++fed) {
            const int source = random.bounded(10);
            QByteArray line = source < 4 ? corpus.at(random.bounded(corpus.size()))
                : source < 8             ? mutate(corpus.at(random.bounded(corpus.size())), random)
                                         : randomLine(random);
            statuses += statusLine(line);
            stream += line + separators[random.bounded(int(std::size(separators)))];
        }
        AtResponseParser whole;
        AtResponseParser chunked;
        if (expecting) {
            whole.expect(expectation);
            chunked.expect(expectation);
        }
        const QList<AtResponseParser::Event> all = whole.feed(stream);
        QList<AtResponseParser::Event> pieces;
        for (qsizetype at = 0; at < stream.size();) {
            const qsizetype size = random.bounded(1, 64);
            pieces += chunked.feed(stream.mid(at, size));
            at += size;
        }
        if (!sameEvents(all, pieces))
            failure("chunking changed the events", seed, session);
        bool expectingNow = expecting;
        for (const AtResponseParser::Event &event : all) {
            if (event.line.size() > AtResponseParser::maxLineBytes())
                failure("a line beyond the limit", seed, session);
            switch (event.kind) {
            case AtResponseParser::Event::Kind::Final:
                ++finals;
                if (AtResponseParser::finalOf(event.line) != event.final || event.final == AtFinal::None)
                    failure("a final that is not a final line", seed, session);
                expectingNow = false;
                break;
            case AtResponseParser::Event::Kind::Information:
                ++infos;
                if (!expectingNow)
                    failure("information while nothing is expected", seed, session);
                if (event.line.startsWith("%KEYGEN:")) {
                    ++csrs;
                    if (const auto csr = ModemCsr::fromKeygenAnswer(event.line)) {
                        csr->subjectCommonName();
                        csr->toPem();
                        (void)csr->check(QStringLiteral("fuzz-device"));
                    }
                }
                break;
            case AtResponseParser::Event::Kind::Unsolicited: ++urcs; break;
            }
        }
        whole.reset();
        if (session % 50000 == 0)
            std::printf("  %lld lines …\n", static_cast<long long>(fed));
    }
    std::printf(
        "fuzz_atresponseparser: ok: %lld lines in %d sessions; %lld finals, %lld information lines, %lld unsolicited, "
        "%lld %%KEYGEN answers, %lld status lines read\n",
        static_cast<long long>(fed), session, static_cast<long long>(finals), static_cast<long long>(infos),
        static_cast<long long>(urcs), static_cast<long long>(csrs), static_cast<long long>(statuses));
    return 0;
}
