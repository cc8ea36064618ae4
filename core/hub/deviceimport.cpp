#include "deviceimport.h"

#include "common/csv.h"
#include "hub/identifiers.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(DeviceImport)
};

const QStringList knownColumns{QStringLiteral("id"), QStringLiteral("auth"), QStringLiteral("status"),
    QStringLiteral("thumbprint"), QStringLiteral("tags"), QStringLiteral("primaryKey"), QStringLiteral("secondaryKey")};

QString authName(const QString &authType)
{
    return authType == QLatin1String("selfSigned")          ? QStringLiteral("x509-self-signed")
        : authType == QLatin1String("certificateAuthority") ? QStringLiteral("x509-ca")
                                                            : QStringLiteral("sas");
}

bool isKey(const QString &text)
{
    const auto decoded = QByteArray::fromBase64Encoding(text.toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
    return decoded && decoded.decoded.size() >= 16 && decoded.decoded.size() <= 64;
}

// A row from its named values; a problem when a value is not what the column takes.
// A CSV field as it was before Csv::field() defused it for a spreadsheet: without the apostrophe it put before a
// leading = + - @ tab or carriage return (an id exported by device list --csv imports as itself).
QString undefused(const QString &text)
{
    return text.size() >= 2 && text.front() == u'\'' && QStringView(u"=+-@\t\r").contains(text.at(1)) ? text.mid(1)
                                                                                                      : text;
}

Result<ImportRow> rowFrom(int line, const QHash<QString, QJsonValue> &values)
{
    const auto refuse = [line, &values](const QString &code, const QString &message) {
        return std::unexpected(Error{ErrorKind::InvalidInput, code,
            Text::tr("Line %1 (%2): %3").arg(line).arg(values.value(QStringLiteral("id")).toString(), message)});
    };
    ImportRow row;
    row.line = line;
    for (const QString &name : {QStringLiteral("auth"), QStringLiteral("status"), QStringLiteral("thumbprint"),
             QStringLiteral("primaryKey"), QStringLiteral("secondaryKey")}) {
        const QJsonValue value = values.value(name);
        if (!value.isUndefined() && !value.isNull() && !value.isString())
            return refuse(QStringLiteral("InvalidField"), Text::tr("%1 must be text.").arg(name));
    }
    const QJsonValue id = values.value(QStringLiteral("id"));
    if (!id.isString())
        return refuse(QStringLiteral("InvalidDeviceId"), Text::tr("the id must be text."));
    row.id = id.toString().trimmed();
    if (auto ok = Identifiers::validateDeviceId(row.id); !ok)
        return refuse(ok.error().code, ok.error().message);

    const QString auth = values.value(QStringLiteral("auth")).toString().trimmed();
    if (auth.isEmpty() || auth == QLatin1String("sas"))
        row.authType = QStringLiteral("sas");
    else if (auth == QLatin1String("x509-self-signed") || auth == QLatin1String("selfSigned"))
        row.authType = QStringLiteral("selfSigned");
    else if (auth == QLatin1String("x509-ca") || auth == QLatin1String("certificateAuthority"))
        row.authType = QStringLiteral("certificateAuthority");
    else
        return refuse(
            QStringLiteral("InvalidAuth"), Text::tr("auth is sas, x509-self-signed or x509-ca, not \"%1\".").arg(auth));

    const QString status = values.value(QStringLiteral("status")).toString().trimmed();
    if (!status.isEmpty() && status != QLatin1String("enabled") && status != QLatin1String("disabled"))
        return refuse(
            QStringLiteral("InvalidStatus"), Text::tr("status is enabled or disabled, not \"%1\".").arg(status));
    row.status = status.isEmpty() ? QStringLiteral("enabled") : status;

    row.thumbprint = values.value(QStringLiteral("thumbprint")).toString().trimmed().toUpper();
    if (row.authType == QLatin1String("selfSigned") && !Identifiers::isThumbprint(row.thumbprint))
        return refuse(QStringLiteral("InvalidThumbprint"),
            Text::tr("an x509-self-signed device needs a thumbprint of 40 (SHA-1) or 64 (SHA-256) hex digits."));
    if (row.authType != QLatin1String("selfSigned") && !row.thumbprint.isEmpty())
        return refuse(
            QStringLiteral("InvalidThumbprint"), Text::tr("only an x509-self-signed device has a thumbprint."));

    row.primaryKey = values.value(QStringLiteral("primaryKey")).toString().trimmed();
    row.secondaryKey = values.value(QStringLiteral("secondaryKey")).toString().trimmed();
    if (!row.primaryKey.isEmpty() || !row.secondaryKey.isEmpty()) {
        if (row.authType != QLatin1String("sas"))
            return refuse(QStringLiteral("InvalidKey"), Text::tr("only a sas device has keys."));
        if (!isKey(row.primaryKey) || !isKey(row.secondaryKey))
            return refuse(QStringLiteral("InvalidKey"),
                Text::tr("primaryKey and secondaryKey go together, each base64 of 16 to 64 bytes."));
    }

    const QJsonValue tags = values.value(QStringLiteral("tags"));
    if (tags.isObject()) {
        row.tags = tags.toObject();
    } else if (tags.isString() && !tags.toString().trimmed().isEmpty()) {
        const QJsonDocument parsed = QJsonDocument::fromJson(tags.toString().toUtf8());
        if (!parsed.isObject())
            return refuse(
                QStringLiteral("InvalidTags"), Text::tr("tags must be a JSON object, e.g. {\"site\":\"north\"}."));
        row.tags = parsed.object();
    } else if (!tags.isUndefined() && !tags.isNull() && !(tags.isString() && tags.toString().trimmed().isEmpty())) {
        return refuse(
            QStringLiteral("InvalidTags"), Text::tr("tags must be a JSON object, e.g. {\"site\":\"north\"}."));
    }
    return row;
}

ImportProblem problemOf(int line, const QString &id, const Error &error)
{
    return {line, id, error.code, error.message};
}

} // namespace

QJsonObject ImportRow::toBulkJson() const
{
    QJsonObject auth{{QStringLiteral("type"), authType}};
    if (!primaryKey.isEmpty())
        auth.insert(QStringLiteral("symmetricKey"),
            QJsonObject{{QStringLiteral("primaryKey"), primaryKey}, {QStringLiteral("secondaryKey"), secondaryKey}});
    if (authType == QLatin1String("selfSigned"))
        auth.insert(QStringLiteral("x509Thumbprint"),
            QJsonObject{{QStringLiteral("primaryThumbprint"), thumbprint},
                {QStringLiteral("secondaryThumbprint"), QJsonValue()}});
    QJsonObject json{{QStringLiteral("id"), id}, {QStringLiteral("importMode"), QStringLiteral("create")},
        {QStringLiteral("status"), status}, {QStringLiteral("authentication"), auth}};
    if (!tags.isEmpty())
        json.insert(QStringLiteral("tags"), tags);
    return json;
}

ImportRow ImportRow::fromTwin(const QJsonObject &twin)
{
    ImportRow row;
    row.id = twin.value(QStringLiteral("deviceId")).toString();
    row.status = twin.value(QStringLiteral("status")).toString(QStringLiteral("enabled"));
    row.authType = twin.value(QStringLiteral("authenticationType")).toString(QStringLiteral("sas"));
    if (row.authType == QLatin1String("selfSigned"))
        row.thumbprint = twin.value(QStringLiteral("x509Thumbprint"))
                             .toObject()
                             .value(QStringLiteral("primaryThumbprint"))
                             .toString();
    row.tags = twin.value(QStringLiteral("tags")).toObject();
    return row;
}

namespace DeviceImport {

QByteArray write(const QList<ImportRow> &rows, Format format, bool withKeys)
{
    QByteArray out;
    if (format == Format::JsonLines) {
        for (const ImportRow &row : rows) {
            QJsonObject json{{QStringLiteral("id"), row.id}, {QStringLiteral("auth"), authName(row.authType)},
                {QStringLiteral("status"), row.status}};
            if (!row.thumbprint.isEmpty())
                json.insert(QStringLiteral("thumbprint"), row.thumbprint);
            if (!row.tags.isEmpty())
                json.insert(QStringLiteral("tags"), row.tags);
            if (withKeys && !row.primaryKey.isEmpty()) {
                json.insert(QStringLiteral("primaryKey"), row.primaryKey);
                json.insert(QStringLiteral("secondaryKey"), row.secondaryKey);
            }
            out += QJsonDocument(json).toJson(QJsonDocument::Compact) + '\n';
        }
        return out;
    }
    // Fields as written, quoted where they must be: an id may start with '+' or '=', and field()'s apostrophe
    // against spreadsheet formulas would change it.
    const auto quoted = [](const QString &text) -> QString {
        if (!text.contains(u',') && !text.contains(u'"') && !text.contains(u'\n') && !text.contains(u'\r'))
            return text;
        return u'"' + QString(text).replace(QStringLiteral("\""), QStringLiteral("\"\"")) + u'"';
    };
    out = withKeys ? "id,auth,status,thumbprint,tags,primaryKey,secondaryKey\n" : "id,auth,status,thumbprint,tags\n";
    for (const ImportRow &row : rows) {
        QStringList fields{quoted(row.id), authName(row.authType), row.status, row.thumbprint,
            row.tags.isEmpty() ? QString()
                               : quoted(QString::fromUtf8(QJsonDocument(row.tags).toJson(QJsonDocument::Compact)))};
        if (withKeys)
            fields << row.primaryKey << row.secondaryKey;
        out += fields.join(u',').toUtf8() + '\n';
    }
    return out;
}

Format formatFor(const QString &path, QByteArrayView content)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("jsonl") || suffix == QLatin1String("ndjson"))
        return Format::JsonLines;
    if (suffix == QLatin1String("csv"))
        return Format::Csv;
    const QByteArray start = content.first(std::min<qsizetype>(64, content.size())).toByteArray().trimmed();
    return start.startsWith('{') ? Format::JsonLines : Format::Csv;
}

Result<ImportFile> read(QByteArrayView content, Format format, int maxRows)
{
    ImportFile file;
    QHash<QString, int> seen; // id → line
    const auto add = [&file, &seen](int line, const QHash<QString, QJsonValue> &values) {
        auto row = rowFrom(line, values);
        if (!row) {
            file.problems.append(problemOf(line, values.value(QStringLiteral("id")).toString(), row.error()));
            return;
        }
        if (const int first = seen.value(row->id); first > 0) {
            file.problems.append({line, row->id, QStringLiteral("DeviceDefinedMultipleTimes"),
                Text::tr("Line %1 (%2): the device appears on line %3 already.").arg(line).arg(row->id).arg(first)});
            return;
        }
        seen.insert(row->id, line);
        file.rows.append(*row);
    };

    if (format == Format::Csv) {
        auto records = Csv::parse(content, maxRows + 1);
        if (!records)
            return std::unexpected(records.error());
        if (records->isEmpty())
            return fail(ErrorKind::InvalidInput, QStringLiteral("EmptyImport"), Text::tr("The file holds no devices."));
        QStringList header;
        for (const QString &name : records->first().fields) { // names in any case, as a spreadsheet may write them
            QString column = name.trimmed();
            if (column.compare(QLatin1String("deviceId"), Qt::CaseInsensitive) == 0)
                column = QStringLiteral("id");
            for (const QString &known : knownColumns) {
                if (column.compare(known, Qt::CaseInsensitive) == 0)
                    column = known;
            }
            header.append(column);
        }
        for (const QString &name : std::as_const(header)) {
            if (!knownColumns.contains(name))
                return fail(ErrorKind::InvalidInput, QStringLiteral("UnknownColumn"),
                    Text::tr("The header names a column \"%1\"; the columns are %2.")
                        .arg(name, knownColumns.join(QStringLiteral(", "))));
        }
        if (!header.contains(QLatin1String("id")))
            return fail(ErrorKind::InvalidInput, QStringLiteral("NoIdColumn"),
                Text::tr("The header has no id column: the first line names the columns, e.g. id,auth,status,tags."));
        if (records->size() == 1)
            return fail(ErrorKind::InvalidInput, QStringLiteral("EmptyImport"), Text::tr("The file holds no devices."));
        for (qsizetype r = 1; r < records->size(); ++r) {
            const Csv::Record &record = records->at(r);
            QHash<QString, QJsonValue> values;
            if (record.fields.size() != header.size()) {
                file.problems.append({record.line, record.fields.value(int(header.indexOf(QLatin1String("id")))),
                    QStringLiteral("WrongColumnCount"),
                    Text::tr("Line %1: %2 fields where the header names %3.")
                        .arg(record.line)
                        .arg(record.fields.size())
                        .arg(header.size())});
                continue;
            }
            for (qsizetype c = 0; c < header.size(); ++c)
                values.insert(header.at(c), undefused(record.fields.at(c)));
            add(record.line, values);
        }
        return file;
    }

    int line = 0;
    int rows = 0;
    for (QByteArrayView rest = content; !rest.isEmpty();) {
        const qsizetype end = rest.indexOf('\n');
        const QByteArrayView text = end < 0 ? rest : rest.first(end);
        rest = end < 0 ? QByteArrayView() : rest.sliced(end + 1);
        ++line;
        if (text.trimmed().isEmpty())
            continue;
        if (++rows > maxRows)
            return fail(ErrorKind::InvalidInput, QStringLiteral("TooManyRows"),
                Text::tr("The file holds more than %1 devices.").arg(maxRows));
        QJsonParseError error;
        const QJsonDocument document = QJsonDocument::fromJson(text.toByteArray(), &error);
        if (!document.isObject()) {
            file.problems.append({line, QString(), QStringLiteral("InvalidJson"),
                Text::tr("Line %1 is not a JSON object: %2.")
                    .arg(line)
                    .arg(error.error == QJsonParseError::NoError ? Text::tr("another JSON value")
                                                                 : error.errorString())});
            continue;
        }
        QHash<QString, QJsonValue> values;
        const QJsonObject object = document.object();
        QString unknown;
        for (auto it = object.begin(); it != object.end(); ++it) {
            const QString name = it.key() == QLatin1String("deviceId") ? QStringLiteral("id") : it.key();
            if (!knownColumns.contains(name))
                unknown = it.key();
            values.insert(name, *it);
        }
        if (!unknown.isEmpty()) {
            file.problems.append({line, values.value(QStringLiteral("id")).toString(), QStringLiteral("UnknownField"),
                Text::tr("Line %1: unknown field \"%2\"; the fields are %3.")
                    .arg(line)
                    .arg(unknown, knownColumns.join(QStringLiteral(", ")))});
            continue;
        }
        add(line, values);
    }
    if (file.rows.isEmpty() && file.problems.isEmpty())
        return fail(ErrorKind::InvalidInput, QStringLiteral("EmptyImport"), Text::tr("The file holds no devices."));
    return file;
}

QByteArray reportCsv(const QList<ImportProblem> &problems)
{
    QStringList lines{QStringLiteral("line,deviceId,code,message")};
    for (const ImportProblem &p : problems)
        lines.append(QStringList{p.line > 0 ? QString::number(p.line) : QString(), Csv::field(p.deviceId),
            Csv::field(p.code), Csv::field(p.message)}
                         .join(u','));
    return lines.join(u'\n').toUtf8() + '\n';
}

} // namespace DeviceImport

DeviceImporter::DeviceImporter(HubClient &client, QList<ImportRow> rows, QObject *parent)
    : QObject(parent)
    , m_client(&client)
    , m_rows(std::move(rows))
{ }

void DeviceImporter::start()
{
    if (m_running)
        return;
    m_running = true;
    sendNext();
}

void DeviceImporter::cancel()
{
    m_cancelled = true;
}

void DeviceImporter::sendNext()
{
    if (!m_client && !m_failure && m_next < m_rows.size())
        m_failure = Error{ErrorKind::Cancelled, QStringLiteral("Cancelled"), Text::tr("The hub's client went away.")};
    if (m_cancelled || m_failure || m_next >= m_rows.size() || !m_client) {
        m_running = false;
        Q_EMIT finished();
        return;
    }
    const int first = m_next;
    const int count = std::min<int>(batchSize, int(m_rows.size()) - first);
    QJsonArray batch;
    QHash<QString, int> lines;
    for (int i = first; i < first + count; ++i) {
        batch.append(m_rows.at(i).toBulkJson());
        lines.insert(m_rows.at(i).id, m_rows.at(i).line);
    }
    m_client->createDevices(batch).then(this, [this, count, lines](Result<QList<BulkFailure>> answer) {
        if (!answer) {
            m_failure = answer.error(); // the rows from m_next on are left for the next run
            sendNext();
            return;
        }
        for (const BulkFailure &failure : std::as_const(*answer)) {
            if (failure.code == QLatin1String("DeviceAlreadyExists")) {
                ++m_existing;
                continue;
            }
            m_problems.append({lines.value(failure.deviceId), failure.deviceId, failure.code,
                Text::tr("Line %1 (%2): the hub refused it: %3")
                    .arg(lines.value(failure.deviceId))
                    .arg(failure.deviceId, failure.message)});
        }
        m_created += count - int(answer->size()); // the rest were refused or existed already
        m_next += count;
        Q_EMIT progress(m_next, int(m_rows.size()));
        sendNext();
    });
}

} // namespace Onboarder
