#pragma once

#include "common/result.h"

#include <QString>

namespace Onboarder::Duration {

// A length of time as a person types it on a command line: a whole number with a unit, s, m, h or d, or several
// such ("1d12h", "90m", "45s"); a bare number is seconds. Returns the seconds, from 1 up to maxSeconds; anything else
// is an InvalidDuration (not a duration, or zero) or DurationTooLong error that says what is accepted. maxSeconds is at
// most MaxSeconds (the arithmetic on the way stays far from qint64's limits).
inline constexpr qint64 MaxSeconds = 100LL * 365 * 86400; // a century
Result<qint64> parseSeconds(const QString &text, qint64 maxSeconds);

// "2 d 3 h", "90 min", "45 s": the largest units, for messages (translated units).
QString describe(qint64 seconds);

} // namespace Onboarder::Duration
