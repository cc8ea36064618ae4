#include "auditlog.h"

#include "common/appinfo.h"
#include "common/csv.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace Onboarder {

namespace {

QString rotatedName(int index)
{
    return index == 0 ? QStringLiteral("provisioning.jsonl") : QStringLiteral("provisioning.%1.jsonl").arg(index);
}

} // namespace

AuditLog::AuditLog(const QString &directory, qint64 maxBytes, int keepFiles)
    : m_directory(directory)
    , m_maxBytes(maxBytes)
    , m_keepFiles(qMax(1, keepFiles))
{ }

QString AuditLog::defaultDirectory()
{
    return QDir(AppInfo::dataDir()).filePath(QStringLiteral("audit"));
}

QString AuditLog::filePath() const
{
    return QDir(m_directory).filePath(rotatedName(0));
}

QStringList AuditLog::files() const
{
    QStringList found;
    for (int i = 0; i <= m_keepFiles; ++i) {
        const QString path = QDir(m_directory).filePath(rotatedName(i));
        if (QFileInfo::exists(path))
            found.append(path);
    }
    return found;
}

bool AuditLog::looksSecret(const QByteArray &text)
{
    // PEM private keys, connection strings with a key, SAS tokens, and the registry's key fields.
    static const QRegularExpression secret(
        QStringLiteral("-----BEGIN [A-Z ]*PRIVATE KEY-----|SharedAccessKey=|SharedAccessSignature "
                       "sr=|[?&]sig=|\"(primaryKey|secondaryKey|password)\"\\s*:"));
    return secret.match(QString::fromUtf8(text)).hasMatch();
}

Result<void> AuditLog::rotateIfNeeded(qint64 adding)
{
    const QFileInfo current(filePath());
    if (!current.exists() || current.size() + adding <= m_maxBytes)
        return {};
    QDir dir(m_directory);
    dir.remove(rotatedName(m_keepFiles));
    for (int i = m_keepFiles - 1; i >= 0; --i) {
        if (dir.exists(rotatedName(i)) && !dir.rename(rotatedName(i), rotatedName(i + 1)))
            return fail(ErrorKind::Internal, QStringLiteral("AuditLogRotateFailed"),
                tr("Cannot rotate the audit log in %1.").arg(m_directory));
    }
    return {};
}

Result<void> AuditLog::append(const QJsonObject &record)
{
    QByteArray line = QJsonDocument(record).toJson(QJsonDocument::Compact);
    if (looksSecret(line))
        return fail(ErrorKind::Internal, QStringLiteral("AuditRecordHasSecret"),
            tr("An audit record that looks like it holds a secret was not written."));
    line.append('\n');
    if (!QDir().mkpath(m_directory))
        return fail(ErrorKind::Internal, QStringLiteral("AuditLogUnwritable"),
            tr("Cannot create the audit log folder %1.").arg(m_directory));
    if (auto ok = rotateIfNeeded(line.size()); !ok)
        return ok;
    const QByteArray path = QFile::encodeName(filePath());
    const int fd = ::open(path.constData(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(ErrorKind::Internal, QStringLiteral("AuditLogUnwritable"),
            tr("Cannot open the audit log %1: %2").arg(filePath(), QString::fromLocal8Bit(strerror(errno))));
    // A record is a whole line or nothing: a write that fell short (a disk that filled in the middle of it) is cut
    // off again, or the next record would be glued to half of this one.
    const off_t before = ::lseek(fd, 0, SEEK_END);
    const ssize_t written = ::write(fd, line.constData(), size_t(line.size()));
    int error = written < 0 ? errno : written < line.size() ? ENOSPC : 0; // short: no room for the rest
    if (error == 0 && ::fsync(fd) != 0)
        error = errno;
    if (error != 0 && before >= 0)
        (void)::ftruncate(fd, before);
    ::close(fd);
    if (error != 0)
        return fail(ErrorKind::Internal, QStringLiteral("AuditLogUnwritable"),
            tr("Cannot write the audit log %1: %2").arg(filePath(), QString::fromLocal8Bit(strerror(error))));
    return {};
}

Result<QList<QJsonObject>> AuditLog::records() const
{
    QList<QJsonObject> all;
    QStringList paths = files();
    std::reverse(paths.begin(), paths.end()); // oldest first
    for (const QString &path : std::as_const(paths)) {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return fail(ErrorKind::Internal, QStringLiteral("AuditLogUnreadable"),
                tr("Cannot read the audit log %1: %2").arg(path, file.errorString()));
        while (!file.atEnd()) {
            const QJsonDocument line = QJsonDocument::fromJson(file.readLine());
            if (line.isObject())
                all.append(line.object());
        }
    }
    return all;
}

QStringList AuditLog::csvColumns()
{
    return {QStringLiteral("time"), QStringLiteral("operator"), QStringLiteral("station"), QStringLiteral("port"),
        QStringLiteral("imei"), QStringLiteral("model"), QStringLiteral("firmware"), QStringLiteral("deviceId"),
        QStringLiteral("hubHost"), QStringLiteral("hubDevice"), QStringLiteral("auth"), QStringLiteral("keyBirth"),
        QStringLiteral("thumbprint"), QStringLiteral("secTag"), QStringLiteral("result"), QStringLiteral("durationMs"),
        QStringLiteral("steps"), QStringLiteral("errorCode"), QStringLiteral("error")};
}

QByteArray AuditLog::toCsv(const QList<QJsonObject> &records)
{
    const QStringList columns = csvColumns();
    QByteArray csv = columns.join(u',').toUtf8() + "\r\n";
    for (const QJsonObject &record : records) {
        QByteArrayList cells;
        for (const QString &column : columns) {
            const QJsonValue value = record.value(column);
            QString text;
            if (column == QStringLiteral("steps")) {
                QStringList steps;
                for (const auto &step : value.toArray())
                    steps.append(step.toObject().value(QStringLiteral("step")).toString() + u':'
                        + step.toObject().value(QStringLiteral("state")).toString());
                text = steps.join(QStringLiteral("; "));
            } else if (column == QStringLiteral("errorCode") || column == QStringLiteral("error")) {
                const QJsonObject error = record.value(QStringLiteral("error")).toObject();
                text = error
                           .value(column == QStringLiteral("errorCode") ? QStringLiteral("code")
                                                                        : QStringLiteral("message"))
                           .toString();
            } else if (value.isDouble()) {
                text = QString::number(value.toInteger());
            } else {
                text = value.toVariant().toString();
            }
            cells.append(Csv::field(text).toUtf8()); // formulas defused (CSV injection)
        }
        csv += cells.join(',') + "\r\n";
    }
    return csv;
}

} // namespace Onboarder
