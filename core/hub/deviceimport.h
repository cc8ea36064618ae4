#pragma once

#include "common/result.h"
#include "hub/hubclient.h"

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>

namespace Onboarder {

// One device to register, as a row of an import file gives it.
struct ImportRow
{
    int line = 0; // in the file, 1-based
    QString id;
    QString authType = QStringLiteral("sas"); // sas | selfSigned | certificateAuthority
    QString status = QStringLiteral("enabled"); // enabled | disabled
    QString thumbprint; // selfSigned: SHA-1 or SHA-256, hex
    QJsonObject tags;
    QString primaryKey; // sas: empty lets the hub make them (device export --with-keys writes them)
    QString secondaryKey;

    // A row of what the hub holds: the twin of a SELECT * query (no keys; those are the identity's).
    static ImportRow fromTwin(const QJsonObject &twin);

    // The device as the bulk registry API takes it (importMode "create"; SAS keys made by the hub).
    QJsonObject toBulkJson() const;
};

// A row that was not imported, and why.
struct ImportProblem
{
    int line = 0; // 0: not from a line (the hub named the device)
    QString deviceId;
    QString code;
    QString message;
};

// What an import file holds: the rows to register, and the rows refused before anything is sent.
struct ImportFile
{
    QList<ImportRow> rows;
    QList<ImportProblem> problems;
};

// Reads the files `device import` takes, CSV or JSON Lines, one device a row:
//   - CSV: a header naming the columns, then one row a device. Columns: id (required), auth (sas, x509-self-signed,
//     x509-ca; default sas), status (enabled, disabled; default enabled), thumbprint (for x509-self-signed), tags (a
//     JSON object), primaryKey and secondaryKey (base64, for sas; both or neither). An unknown column refuses the
//     whole file.
//   - JSON Lines: one JSON object a line with the same names ("tags" an object).
// A bad row (an invalid id, an unknown auth, a missing thumbprint, tags that are not an object, an id that appears
// twice) becomes a problem with its line and reason; the others are imported.
namespace DeviceImport {

enum class Format { Csv, JsonLines };

// .jsonl or .ndjson, or a first non-blank byte '{': JSON Lines; else CSV.
Format formatFor(const QString &path, QByteArrayView content);
// Fails only for a file that cannot be read as a whole (not CSV, no id column, an unknown column, too many rows).
Result<ImportFile> read(QByteArrayView content, Format format, int maxRows = 1000000);
// The report of what was not imported: CSV with the columns line, deviceId, code, message.
QByteArray reportCsv(const QList<ImportProblem> &problems);
// Rows as an import file that read() takes back (device export): the key columns only when withKeys.
QByteArray write(const QList<ImportRow> &rows, Format format, bool withKeys);

} // namespace DeviceImport

// Registers the rows of an import file in batches of 100 through the bulk registry API, one batch at a time, with
// progress. A device that exists already is counted as such, not changed and not a problem: running an import again
// after a failure or a cancel picks up where it stopped, and duplicates nothing. Cancel lets the batch in flight
// finish; the rows after it are left for the next run.
class DeviceImporter final : public QObject
{
    Q_OBJECT

public:
    static constexpr int batchSize = 100; // what the bulk registry API takes at most

    DeviceImporter(HubClient &client, QList<ImportRow> rows, QObject *parent = nullptr);

    void start();
    void cancel();

    int total() const { return int(m_rows.size()); }
    int processed() const { return m_next; } // rows sent and answered
    int created() const { return m_created; }
    int existing() const { return m_existing; }
    QList<ImportProblem> problems() const { return m_problems; } // the hub's refusals
    bool wasCancelled() const { return m_cancelled; }
    std::optional<Error> failure() const { return m_failure; } // a batch the hub did not answer: the import stopped

Q_SIGNALS:
    void progress(int processed, int total);
    void finished();

private:
    void sendNext();

    QPointer<HubClient> m_client;
    QList<ImportRow> m_rows;
    int m_next = 0;
    int m_created = 0;
    int m_existing = 0;
    QList<ImportProblem> m_problems;
    bool m_cancelled = false;
    bool m_running = false;
    std::optional<Error> m_failure;
};

} // namespace Onboarder
