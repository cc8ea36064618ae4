#pragma once

#include <QByteArray>
#include <QList>

namespace Onboarder {

// How a command's answer ended (docs/nrf91-at.md §2).
enum class AtFinal {
    None, // not finished
    Ok, // OK
    Error, // ERROR: refused without a reason (error codes are off, or the command is unknown)
    CmeError, // +CME ERROR: <n> (or verbose text with AT+CMEE=2)
    CmsError, // +CMS ERROR: <n> (SMS commands only)
};

// A command's complete answer: its information lines (without the line ends; a quoted value may span
// several physical lines) and the final result.
struct AtResponse
{
    QList<QByteArray> lines;
    AtFinal final = AtFinal::None;
    int code = -1; // the number of +CME/+CMS ERROR; -1 when there is none or it is not a number
    QByteArray finalLine; // the final line as it came

    bool ok() const { return final == AtFinal::Ok; }
};

// What the parser is to expect of the command in flight: which lines belong to its answer.
struct AtExpectation
{
    QByteArray command; // the command as sent (a line equal to it is an echo and dropped)
    QByteArray prefix; // information lines start with this ("%CMNG:"); empty: none expected
    bool textAnswer = false; // the answer is unprefixed text (AT+CGMI, AT+CGSN, …)
};

// The pure response side of an AT port, without I/O: bytes in, events out.
//
// Lines end at CR or LF outside double quotes; inside quotes CR and LF are data (a %CMNG read answers
// with the PEM's own line breaks). Empty lines are skipped. A line that is exactly OK, ERROR,
// "+CME ERROR: …" or "+CMS ERROR: …" is a final result — a whole line, never a substring, because
// base64 may contain "OK". With a command in flight, a line belongs to its answer if it starts with the
// expected prefix (or, for a text answer, if it does not look like "+NAME:"/"%NAME:" nor like a line of
// the AT host's start-up banner); every other line is unsolicited (+CEREG, %CESQ, %XSIM, a boot banner, …).
//
// Robustness (the input may be noise): an unbalanced quote would swallow everything after it, so a
// physical line inside quotes that is a final result ends the quoted line there; a line longer than
// maxLineBytes() is given up on and its physical lines are read again without quote tracking.
class AtResponseParser final
{
public:
    struct Event
    {
        enum class Kind {
            Information, // a line of the answer of the command in flight
            Unsolicited, // a URC or anything else not asked for
            Final, // the final result of the command in flight (or a late one, when idle)
        };
        Kind kind = Kind::Unsolicited;
        QByteArray line;
        AtFinal final = AtFinal::None;
        int code = -1;
    };

    void expect(const AtExpectation &expectation);
    void expectNothing(); // idle: every line is unsolicited, finals are reported as late ones
    bool isExpecting() const { return m_expecting; }

    // Parses the bytes; events come out in the order of the lines.
    QList<Event> feed(const QByteArray &bytes);
    void reset(); // forgets a partial line (after a time-out or a cancelled command)

    static int maxLineBytes() { return 64 * 1024; }

    // Whether a whole line is a final result, and which.
    static AtFinal finalOf(const QByteArray &line, int *code = nullptr);
    // "+NAME:" or "%NAME:" with NAME of letters and digits: the shape of URCs and prefixed answers.
    static bool looksPrefixed(const QByteArray &line);
    // A line the AT host prints when it starts ("Ready", the sample's greeting, the boot line): after a
    // reset it may come in the middle of an answer, and must not become a bare-text answer (an IMEI).
    static bool looksLikeBanner(const QByteArray &line);

private:
    void completeLine(QList<Event> &events, QByteArray line);
    void giveUpQuotes(QList<Event> &events);

    AtExpectation m_expectation;
    bool m_expecting = false;
    QByteArray m_line;
    qsizetype m_segmentStart = 0; // where the current physical line of m_line starts
    bool m_inQuotes = false;
};

} // namespace Onboarder
