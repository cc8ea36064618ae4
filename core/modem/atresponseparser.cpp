#include "atresponseparser.h"

#include <cctype>
#include <utility>

namespace Onboarder {

void AtResponseParser::expect(const AtExpectation &expectation)
{
    m_expectation = expectation;
    m_expecting = true;
}

void AtResponseParser::expectNothing()
{
    m_expectation = {};
    m_expecting = false;
}

void AtResponseParser::reset()
{
    m_line.clear();
    m_segmentStart = 0;
    m_inQuotes = false;
}

AtFinal AtResponseParser::finalOf(const QByteArray &line, int *code)
{
    if (code)
        *code = -1;
    if (line == "OK")
        return AtFinal::Ok;
    if (line == "ERROR")
        return AtFinal::Error;
    const bool cme = line.startsWith("+CME ERROR:");
    if (!cme && !line.startsWith("+CMS ERROR:"))
        return AtFinal::None;
    if (code) {
        bool ok = false;
        const int number = line.mid(11).trimmed().toInt(&ok);
        *code = ok && number >= 0 ? number : -1;
    }
    return cme ? AtFinal::CmeError : AtFinal::CmsError;
}

bool AtResponseParser::looksPrefixed(const QByteArray &line)
{
    if (line.size() < 3 || (line.at(0) != '+' && line.at(0) != '%'))
        return false;
    qsizetype i = 1;
    while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line.at(i))) || line.at(i) == '_'))
        ++i;
    return i > 1 && i < line.size() && line.at(i) == ':';
}

bool AtResponseParser::looksLikeBanner(const QByteArray &line)
{
    const QByteArray text = line.trimmed();
    return text == "Ready" || text == "The AT host sample started" || text.startsWith("*** Booting ");
}

QList<AtResponseParser::Event> AtResponseParser::feed(const QByteArray &bytes)
{
    QList<Event> events;
    for (const char c : bytes) {
        if (c == '"') {
            m_inQuotes = !m_inQuotes;
            m_line.append(c);
            continue;
        }
        if (c != '\r' && c != '\n') {
            m_line.append(c);
            if (m_line.size() > maxLineBytes()) {
                if (m_inQuotes)
                    giveUpQuotes(events);
                else
                    reset(); // a line this long outside quotes is noise
            }
            continue;
        }
        if (!m_inQuotes) {
            completeLine(events, std::exchange(m_line, {}));
            m_segmentStart = 0;
            continue;
        }
        // A line break inside quotes is data, unless the physical line before it is a final result:
        // then the quote was never closed (noise), and the final result must not be lost.
        const QByteArray segment = m_line.mid(m_segmentStart);
        if (finalOf(segment) != AtFinal::None) {
            QByteArray before = m_line.left(m_segmentStart);
            while (before.endsWith('\r') || before.endsWith('\n'))
                before.chop(1);
            reset();
            completeLine(events, before);
            completeLine(events, segment);
            continue;
        }
        m_line.append(c);
        m_segmentStart = m_line.size();
    }
    return events;
}

// The quoted line grew beyond any answer: read its physical lines again, without quote tracking.
void AtResponseParser::giveUpQuotes(QList<Event> &events)
{
    const QByteArray text = std::exchange(m_line, {});
    reset();
    qsizetype start = 0;
    for (qsizetype i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text.at(i) == '\r' || text.at(i) == '\n') {
            completeLine(events, text.mid(start, i - start));
            start = i + 1;
        }
    }
    // The last piece may be the start of a physical line still coming: it was emitted, and the rest of
    // it will be a line of its own; both are noise anyway.
}

void AtResponseParser::completeLine(QList<Event> &events, QByteArray line)
{
    if (line.trimmed().isEmpty())
        return;
    Event event;
    event.final = finalOf(line, &event.code);
    if (event.final != AtFinal::None) {
        event.kind = Event::Kind::Final;
        expectNothing(); // what follows belongs to no command until the next one is sent
    } else if (!m_expecting) { // NOLINT(bugprone-branch-clone): before the echo test, which only an answer may be
        event.kind = Event::Kind::Unsolicited;
    } else if (line == m_expectation.command) {
        return; // echo
    } else if ((!m_expectation.prefix.isEmpty() && line.startsWith(m_expectation.prefix))
        || (m_expectation.textAnswer && !looksPrefixed(line) && !looksLikeBanner(line))) {
        event.kind = Event::Kind::Information; // the answer's prefix, or an unprefixed answer (not a banner)
    } else {
        event.kind = Event::Kind::Unsolicited;
    }
    event.line = std::move(line);
    events.append(std::move(event));
}

} // namespace Onboarder
