#include "csv.h"

#include <QCoreApplication>
#include <QStringDecoder>

namespace Onboarder::Csv {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(Csv)
};

Error invalid(int line, const QString &why)
{
    return {ErrorKind::InvalidInput, QStringLiteral("InvalidCsv"),
        Text::tr("Line %1 is not valid CSV: %2").arg(line).arg(why)};
}

} // namespace

QString field(const QString &text)
{
    QString cell = text;
    if (!cell.isEmpty() && QStringView(u"=+-@\t\r").contains(cell.front()))
        cell.prepend(u'\'');
    if (cell.contains(u',') || cell.contains(u'"') || cell.contains(u'\n') || cell.contains(u'\r')) {
        cell.replace(QStringLiteral("\""), QStringLiteral("\"\""));
        cell = u'"' + cell + u'"';
    }
    return cell;
}

Result<QList<Record>> parse(QByteArrayView bytes, int maxRecords)
{
    if (bytes.startsWith("\xEF\xBB\xBF"))
        bytes = bytes.sliced(3);
    QStringDecoder decoder(QStringDecoder::Utf8);
    const QString text = decoder(bytes);
    if (decoder.hasError())
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidCsv"), Text::tr("The file is not UTF-8 text."));

    QList<Record> records;
    Record record;
    QString field;
    bool quoted = false; // inside a quoted field
    bool closed = false; // after a quoted field's closing quote
    bool recordStarted = false;
    int line = 1;
    const auto endField = [&] {
        record.fields.append(field);
        field.clear();
        closed = false;
    };
    const auto endRecord = [&]() -> Result<void> {
        const bool wasQuoted = closed;
        endField();
        if (record.fields.size() > 1 || !record.fields.first().isEmpty() || wasQuoted) {
            if (records.size() >= maxRecords)
                return std::unexpected(invalid(record.line, Text::tr("more than %1 records").arg(maxRecords)));
            records.append(std::move(record));
        }
        record = Record();
        recordStarted = false;
        return {};
    };
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (!recordStarted) {
            record.line = line;
            recordStarted = true;
        }
        if (quoted) {
            if (c == u'"') {
                if (i + 1 < text.size() && text.at(i + 1) == u'"') {
                    field += u'"';
                    ++i;
                } else {
                    quoted = false;
                    closed = true;
                }
            } else {
                if (c == u'\n')
                    ++line;
                field += c;
            }
            continue;
        }
        if (c == u',') {
            endField();
        } else if (c == u'\n' || (c == u'\r' && i + 1 < text.size() && text.at(i + 1) == u'\n')) {
            if (c == u'\r')
                ++i;
            if (auto ok = endRecord(); !ok)
                return std::unexpected(ok.error());
            ++line;
        } else if (closed) {
            return std::unexpected(invalid(line, Text::tr("text after a closing quote")));
        } else if (c == u'"') {
            if (!field.isEmpty())
                return std::unexpected(invalid(line, Text::tr("a quote inside a field that does not start with one")));
            quoted = true;
        } else {
            field += c;
        }
    }
    if (quoted)
        return std::unexpected(invalid(record.line, Text::tr("a quoted field is never closed")));
    if (recordStarted) {
        if (auto ok = endRecord(); !ok)
            return std::unexpected(ok.error());
    }
    return records;
}

} // namespace Onboarder::Csv
