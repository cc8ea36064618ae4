#pragma once

#include "common/result.h"

#include <QCoreApplication>
#include <QJsonObject>
#include <QList>
#include <QString>

namespace Onboarder {

// What a provisioning station did, one JSON line per job, in the app data dir
// (~/.local/share/onboarder/audit/provisioning.jsonl). When the file passes maxBytes it is renamed to
// provisioning.1.jsonl (older ones shift up, the oldest beyond keepFiles is dropped). Lines are appended
// with O_APPEND in one write, so several processes (GUI and CLI) can log at once. The caller gives records
// without secrets; append() refuses a record that looks like one (a PEM private key, a SharedAccessKey or a
// SAS signature), so a mistake cannot reach the disk.
class AuditLog final
{
    Q_DECLARE_TR_FUNCTIONS(AuditLog)

public:
    explicit AuditLog(const QString &directory, qint64 maxBytes = 4 * 1024 * 1024, int keepFiles = 5);

    static QString defaultDirectory(); // <data dir>/audit
    QString filePath() const; // the current file
    QStringList files() const; // current first, then the rotated ones, newest first

    Result<void> append(const QJsonObject &record);
    // Every record, oldest first (rotated files included); damaged lines are skipped.
    Result<QList<QJsonObject>> records() const;

    // The records as CSV (RFC 4180), one row each: the columns below; steps as "name:state; …".
    static QByteArray toCsv(const QList<QJsonObject> &records);
    static QStringList csvColumns();

    static bool looksSecret(const QByteArray &text);

private:
    Result<void> rotateIfNeeded(qint64 adding);

    QString m_directory;
    qint64 m_maxBytes;
    int m_keepFiles;
};

} // namespace Onboarder
