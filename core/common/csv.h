#pragma once

#include "common/result.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace Onboarder::Csv {

// One field of a CSV row (RFC 4180) that is safe to open in a spreadsheet: a text a spreadsheet would run
// as a formula (it starts with = + - @, a tab or a carriage return) gets a leading apostrophe (CSV
// injection), and a field with a comma, a double quote or a line break is quoted, its quotes doubled.
// Every CSV export (the audit log, device lists) writes its fields through this.
QString field(const QString &text);

// One record of a CSV text read by parse(): its fields, and the line it starts on (1-based; a quoted field may span
// lines).
struct Record
{
    int line = 0;
    QStringList fields;
};

// Reads CSV (RFC 4180): records end at CRLF or LF; a field in double quotes may hold commas, line breaks and
// doubled quotes; a UTF-8 byte order mark at the start is skipped; empty lines are skipped. Refuses what is not CSV
// (text that is not UTF-8, a quote inside an unquoted field, text after a closing quote, a quote left open), with
// the line where it is, and more than maxRecords records. A field is returned as written: a leading apostrophe
// that field() adds against spreadsheet formulas stays.
Result<QList<Record>> parse(QByteArrayView text, int maxRecords = 1000000);

} // namespace Onboarder::Csv
