// AtResponseParser: framing, final results, URCs, quoted multi-line values, and noise.
#include "modem/atresponseparser.h"

#include <QTest>

using namespace Onboarder;
using Kind = AtResponseParser::Event::Kind;

namespace {

QList<AtResponseParser::Event> parse(const QByteArray &bytes, const AtExpectation &expectation, bool byteByByte = false)
{
    AtResponseParser parser;
    parser.expect(expectation);
    if (!byteByByte)
        return parser.feed(bytes);
    QList<AtResponseParser::Event> events;
    for (const char c : bytes)
        events += parser.feed(QByteArray(1, c));
    return events;
}

QString describe(const QList<AtResponseParser::Event> &events)
{
    QStringList parts;
    for (const auto &e : events) {
        const char *kind = e.kind == Kind::Information ? "I" : e.kind == Kind::Unsolicited ? "U" : "F";
        parts.append(QStringLiteral("%1:%2").arg(QLatin1String(kind), QString::fromLatin1(e.line)));
    }
    return parts.join(u'|');
}

const AtExpectation cmng{"AT%CMNG=1", "%CMNG:", false};
const AtExpectation text{"AT+CGMM", {}, true};
const AtExpectation none{"AT+CFUN=4", {}, false};

} // namespace

class tst_AtResponseParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void framing_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<int>("expectation"); // 0 cmng, 1 text, 2 none
        QTest::addColumn<QString>("events");
        QTest::newRow("ok") << QByteArray("OK\r\n") << 2 << QStringLiteral("F:OK");
        QTest::newRow("error") << QByteArray("ERROR\r\n") << 2 << QStringLiteral("F:ERROR");
        QTest::newRow("list") << QByteArray("%CMNG: 1,0,\"AB\"\r\n%CMNG: 2,1,\"CD\"\r\nOK\r\n") << 0
                              << QStringLiteral("I:%CMNG: 1,0,\"AB\"|I:%CMNG: 2,1,\"CD\"|F:OK");
        QTest::newRow("blank lines skipped")
            << QByteArray("\r\n\r\n%CMNG: 1,0\r\n\r\nOK\r\n") << 0 << QStringLiteral("I:%CMNG: 1,0|F:OK");
        QTest::newRow("LF only") << QByteArray("%CMNG: 1,0\nOK\n") << 0 << QStringLiteral("I:%CMNG: 1,0|F:OK");
        QTest::newRow("CR only") << QByteArray("%CMNG: 1,0\rOK\r") << 0 << QStringLiteral("I:%CMNG: 1,0|F:OK");
        QTest::newRow("urc between lines")
            << QByteArray("%CMNG: 1,0\r\n+CEREG: 1,\"002F\",\"0012BEEF\",7\r\n%CESQ: 62,3,12,1\r\n%CMNG: 2,0\r\nOK\r\n")
            << 0
            << QStringLiteral("I:%CMNG: 1,0|U:+CEREG: 1,\"002F\",\"0012BEEF\",7|U:%CESQ: 62,3,12,1|I:%CMNG: 2,0|F:OK");
        QTest::newRow("text answer with urcs") << QByteArray("%XSIM: 1\r\nnRF9160-SICA\r\n+CSCON: 0\r\nOK\r\n") << 1
                                               << QStringLiteral("U:%XSIM: 1|I:nRF9160-SICA|U:+CSCON: 0|F:OK");
        QTest::newRow("banner is unsolicited") << QByteArray("Ready\r\nOK\r\n") << 2 << QStringLiteral("U:Ready|F:OK");
        // A reset while a text answer comes: the AT host's start-up lines are no part of it, although
        // they are bare text too.
        QTest::newRow("banner inside a text answer")
            << QByteArray("352656100367872\r\n*** Booting nRF Connect SDK v2.6.1 ***\r\nThe AT host sample "
                          "started\r\nReady\r\nOK\r\n")
            << 1
            << QStringLiteral("I:352656100367872|U:*** Booting nRF Connect SDK v2.6.1 ***|U:The AT host sample "
                              "started|U:Ready|F:OK");
        QTest::newRow("echo dropped") << QByteArray("AT%CMNG=1\r\n%CMNG: 3,0\r\nOK\r\n") << 0
                                      << QStringLiteral("I:%CMNG: 3,0|F:OK");
        QTest::newRow("OK is a whole line") << QByteArray("%CMNG: 1,0,\"OK\"\r\nOKAY\r\n OK\r\nOK\r\n") << 0
                                            << QStringLiteral("I:%CMNG: 1,0,\"OK\"|U:OKAY|U: OK|F:OK");
        // A physical line that is a final result ends even a quoted value: the quote was noise (PEM
        // lines are base64 and never "OK"); losing the final would hang the command.
        QTest::newRow("a final line inside quotes wins")
            << QByteArray("%CMNG: 1,0,\"AB\",\"-----BEGIN CERTIFICATE-----\r\nMIIB\nOK\r\n-----END "
                          "CERTIFICATE-----\"\r\nOK\r\n")
            << 0
            << QStringLiteral(
                   "I:%CMNG: 1,0,\"AB\",\"-----BEGIN CERTIFICATE-----\r\nMIIB|F:OK|U:-----END CERTIFICATE-----\"|F:OK");
        QTest::newRow("lines after the final belong to nobody")
            << QByteArray("OK\r\n%CMNG: 1,0\r\n") << 0 << QStringLiteral("F:OK|U:%CMNG: 1,0");
        QTest::newRow("unbalanced quote in a urc") << QByteArray("+CEREG: 1,\"002F\r\n%CMNG: 1,0\r\nOK\r\n") << 0
                                                   << QStringLiteral("U:+CEREG: 1,\"002F\r\n%CMNG: 1,0|F:OK");
    }

    void framing()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(int, expectation);
        QFETCH(QString, events);
        const AtExpectation expectations[] = {cmng, text, none};
        QCOMPARE(describe(parse(bytes, expectations[expectation])), events);
        QCOMPARE(describe(parse(bytes, expectations[expectation], true)), events); // however the bytes are split
    }

    void quotedPemKeepsItsLineBreaks()
    {
        const QByteArray pem = "-----BEGIN "
                               "CERTIFICATE-----\r\nMIIDQTCCAimgAwIBAgITBmyfz5m/"
                               "jAo54vB4ikPmljZbyjANBgkqhkiG9w0BAQsF\r\n-----END CERTIFICATE-----\r\n";
        const auto events = parse("%CMNG: 42,0,\"" + shaPlaceholder() + "\",\"" + pem + "\"\r\nOK\r\n", cmng);
        QCOMPARE(events.size(), 2);
        QCOMPARE(events.at(0).kind, Kind::Information);
        QVERIFY(events.at(0).line.endsWith(QByteArray("\"" + pem + "\"")));
        QCOMPARE(events.at(1).final, AtFinal::Ok);
    }

    void finalResults()
    {
        int code = 0;
        QCOMPARE(AtResponseParser::finalOf("+CME ERROR: 513", &code), AtFinal::CmeError);
        QCOMPARE(code, 513);
        QCOMPARE(AtResponseParser::finalOf("+CME ERROR:518", &code), AtFinal::CmeError);
        QCOMPARE(code, 518);
        QCOMPARE(AtResponseParser::finalOf("+CME ERROR: not found", &code), AtFinal::CmeError);
        QCOMPARE(code, -1); // verbose (AT+CMEE=2)
        QCOMPARE(AtResponseParser::finalOf("+CMS ERROR: 500", &code), AtFinal::CmsError);
        QCOMPARE(code, 500);
        QCOMPARE(AtResponseParser::finalOf("+CME ERROR: -5", &code), AtFinal::CmeError);
        QCOMPARE(code, -1);
        QCOMPARE(AtResponseParser::finalOf("ERROR "), AtFinal::None);
        QCOMPARE(AtResponseParser::finalOf("%CMNG: 1"), AtFinal::None);
        const auto events = parse("+CME ERROR: 518\r\n", none);
        QCOMPARE(events.size(), 1);
        QCOMPARE(events.at(0).code, 518);
    }

    void prefixShape()
    {
        QVERIFY(AtResponseParser::looksPrefixed("+CEREG: 1"));
        QVERIFY(AtResponseParser::looksPrefixed("%XSIM:1"));
        QVERIFY(!AtResponseParser::looksPrefixed("nRF9160-SICA"));
        QVERIFY(!AtResponseParser::looksPrefixed("+: x"));
        QVERIFY(!AtResponseParser::looksPrefixed("+CEREG 1"));
        QVERIFY(!AtResponseParser::looksPrefixed("%"));
    }

    void idleLinesAreUnsolicitedAndLateFinalsReported()
    {
        AtResponseParser parser;
        const auto events = parser.feed("+CEREG: 5\r\nnRF9160-SICA\r\nOK\r\n");
        QCOMPARE(describe(events), QStringLiteral("U:+CEREG: 5|U:nRF9160-SICA|F:OK"));
    }

    void endlessQuotedLineIsGivenUp()
    {
        AtResponseParser parser;
        parser.expect(cmng);
        QByteArray noise = "%CMNG: 1,0,\"";
        noise += QByteArray(AtResponseParser::maxLineBytes() + 10, 'A');
        auto events = parser.feed(noise);
        events += parser.feed("\r\n%CMNG: 2,0\r\nOK\r\n");
        QCOMPARE(events.constLast().final, AtFinal::Ok);
        QVERIFY(std::any_of(events.cbegin(), events.cend(), [](const auto &e) { return e.line == "%CMNG: 2,0"; }));
    }

    void resetForgetsAPartialLine()
    {
        AtResponseParser parser;
        parser.expect(text);
        QVERIFY(parser.feed("nRF91").isEmpty());
        parser.reset();
        parser.expect(text);
        QCOMPARE(describe(parser.feed("60-SICA\r\nOK\r\n")), QStringLiteral("I:60-SICA|F:OK"));
    }

private:
    static QByteArray shaPlaceholder() { return QByteArray(64, 'A'); }
};

QTEST_APPLESS_MAIN(tst_AtResponseParser)
#include "tst_atresponseparser.moc"
