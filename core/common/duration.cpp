#include "common/duration.h"

#include <QCoreApplication>
#include <QStringList>

#include <algorithm>

namespace Onboarder::Duration {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(Onboarder::Duration)
};

qint64 unitSeconds(QChar unit)
{
    switch (unit.toLower().unicode()) {
    case u's': return 1;
    case u'm': return 60;
    case u'h': return 3600;
    case u'd': return 86400;
    default: return 0;
    }
}

} // namespace

Result<qint64> parseSeconds(const QString &text, qint64 maxSeconds)
{
    Q_ASSERT(maxSeconds > 0 && maxSeconds <= MaxSeconds);
    maxSeconds = std::clamp<qint64>(maxSeconds, 1, MaxSeconds);
    const auto invalid = [&text] {
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidDuration"),
            Text::tr("\"%1\" is not a length of time: give a whole number with s, m, h or d, e.g. 90m, 12h, 7d or "
                     "1d12h.")
                .arg(text));
    };
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty())
        return invalid();
    qint64 total = 0;
    qsizetype at = 0;
    bool tooLong = false;
    while (at < trimmed.size()) {
        const qsizetype digits = at;
        qint64 number = 0;
        while (at < trimmed.size() && trimmed.at(at).isDigit() && trimmed.at(at).unicode() < 128) {
            number = number * 10 + (trimmed.at(at).unicode() - u'0');
            if (number > maxSeconds)
                tooLong = true; // keeps reading, to tell a long duration from a malformed one
            number = std::min(number, maxSeconds + 1);
            ++at;
        }
        if (at == digits)
            return invalid(); // a unit without a number, or another character
        qint64 unit = 1;
        if (at < trimmed.size()) {
            unit = unitSeconds(trimmed.at(at));
            if (unit == 0)
                return invalid();
            ++at;
        } else if (digits != 0) {
            return invalid(); // "1d5": the last number needs its unit
        }
        total += number * unit;
        if (total > maxSeconds)
            tooLong = true;
        total = std::min(total, maxSeconds + 1);
    }
    if (tooLong)
        return fail(ErrorKind::InvalidInput, QStringLiteral("DurationTooLong"),
            Text::tr("\"%1\" is longer than the %2 allowed.").arg(text, describe(maxSeconds)));
    if (total == 0)
        return invalid();
    return total;
}

QString describe(qint64 seconds)
{
    QStringList parts;
    const qint64 days = seconds / 86400;
    const qint64 hours = seconds % 86400 / 3600;
    const qint64 minutes = seconds % 3600 / 60;
    const qint64 rest = seconds % 60;
    if (days > 0)
        parts.append(Text::tr("%1 d").arg(days));
    if (hours > 0)
        parts.append(Text::tr("%1 h").arg(hours));
    if (minutes > 0)
        parts.append(Text::tr("%1 min").arg(minutes));
    if (rest > 0 || parts.isEmpty())
        parts.append(Text::tr("%1 s").arg(rest));
    return parts.join(u' ');
}

} // namespace Onboarder::Duration
