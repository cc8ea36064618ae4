#pragma once

#include <QString>

namespace Onboarder::Csv {

// One field of a CSV row (RFC 4180) that is safe to open in a spreadsheet: a text a spreadsheet would run
// as a formula (it starts with = + - @, a tab or a carriage return) gets a leading apostrophe (CSV
// injection), and a field with a comma, a double quote or a line break is quoted, its quotes doubled.
// Every CSV export (the audit log, device lists) writes its fields through this.
QString field(const QString &text);

} // namespace Onboarder::Csv
