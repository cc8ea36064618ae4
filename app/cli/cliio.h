#pragma once

#include "common/result.h"
#include "common/secretbytes.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonValue>
#include <QString>

#include <optional>

namespace Onboarder::Cli {

// Translation context of every CLI sentence.
class CliText
{
    Q_DECLARE_TR_FUNCTIONS(Cli)
};

// The documented exit codes (docs/cli.md, exit codes).
enum ExitCode : int {
    ExitOk = 0,
    ExitUsage = 1,
    ExitInvalidInput = 2,
    ExitNotFound = 3,
    ExitConflict = 4,
    ExitAuthRefused = 5,
    ExitNetwork = 6,
    ExitDevice = 7,
    ExitKeychain = 8,
    ExitInternal = 10,
    ExitCancelled = 130,
};

int exitCodeFor(ErrorKind kind);

// Standard output and error, in human or JSON form.
class Output final
{
public:
    explicit Output(bool json)
        : m_json(json)
    { }

    bool json() const { return m_json; }

    void text(const QString &line) const; // human mode only
    void document(const QJsonValue &value) const; // json mode only: one JSON document on stdout
    void line(const QJsonObject &object) const; // json mode only: one compact line of a JSON Lines stream

    // Reports an error on stderr ("error: <message>", or the JSON error object with --json) and
    // returns the exit code that goes with it.
    int error(const Error &error) const;
    int usage(const QString &message) const; // exit code 1 (also in the JSON error object)

private:
    int report(const Error &error, int code) const;

    bool m_json = false;
};

// Reads a secret from a file (when path is not empty) or standard input. From a terminal it prompts
// on stderr with echo off and reads one line; otherwise it reads everything. Trailing line ends are
// dropped. The secret never passes through argv; what was read is wiped once it is in the SecretBytes.
Result<SecretBytes> readSecret(const QString &prompt, const QString &path);

// Reads a whole non-secret document (JSON etc.) from a file or standard input.
Result<QByteArray> readInput(const QString &path);

// Before a deletion: nothing when --yes was given or the user answered yes on the terminal; else the exit
// code (usage when there is no terminal to ask on and no --yes, cancelled when the answer was no).
std::optional<int> confirmDeletion(const Output &out, bool yes, const QString &question, const QString &what);
// The same before another change that cannot be undone: noTerminal says what needs --yes, unchanged what stayed.
std::optional<int> confirmChange(
    const Output &out, bool yes, const QString &question, const QString &noTerminal, const QString &unchanged);

// A time for a table: local, ISO 8601; unset when the time is invalid (never, not yet).
QString localTimeText(const QDateTime &time, const QString &unset);

// A table for human output: columns padded to their widest cell.
QString formatTable(const QStringList &header, const QList<QStringList> &rows);

} // namespace Onboarder::Cli
