#include "cliio.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <termios.h>
#include <unistd.h>

namespace Onboarder::Cli {

namespace {

void writeTo(FILE *stream, const QByteArray &bytes)
{
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stream);
    std::fflush(stream);
}

QByteArray chomp(QByteArray data)
{
    while (data.endsWith('\n') || data.endsWith('\r'))
        data.chop(1);
    return data;
}

} // namespace

int exitCodeFor(ErrorKind kind)
{
    switch (kind) {
    case ErrorKind::InvalidInput: return ExitInvalidInput;
    case ErrorKind::NotFound: return ExitNotFound;
    case ErrorKind::Conflict: return ExitConflict;
    case ErrorKind::AuthRefused: return ExitAuthRefused;
    case ErrorKind::Network: return ExitNetwork;
    case ErrorKind::Device: return ExitDevice;
    case ErrorKind::Keychain: return ExitKeychain;
    case ErrorKind::Cancelled: return ExitCancelled;
    case ErrorKind::Internal: return ExitInternal;
    }
    return ExitInternal;
}

void Output::text(const QString &line) const
{
    if (!m_json)
        writeTo(stdout, line.toUtf8() + '\n');
}

void Output::document(const QJsonValue &value) const
{
    if (!m_json)
        return;
    const QJsonDocument doc = value.isArray() ? QJsonDocument(value.toArray()) : QJsonDocument(value.toObject());
    writeTo(stdout, doc.toJson(QJsonDocument::Indented));
}

void Output::line(const QJsonObject &object) const
{
    if (m_json)
        writeTo(stdout, QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n');
}

int Output::error(const Error &error) const
{
    return report(error, exitCodeFor(error.kind));
}

int Output::report(const Error &error, int code) const
{
    if (m_json) {
        const QJsonObject object{{QStringLiteral("error"),
            QJsonObject{{QStringLiteral("code"), error.code}, {QStringLiteral("exitCode"), code},
                {QStringLiteral("message"), error.message}}}};
        writeTo(stdout, QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n');
    }
    writeTo(stderr, QByteArrayLiteral("error: ") + error.message.toUtf8() + '\n');
    return code;
}

int Output::usage(const QString &message) const
{
    return report(Error{ErrorKind::InvalidInput, QStringLiteral("Usage"), message}, ExitUsage);
}

Result<QByteArray> readInput(const QString &path)
{
    QFile file;
    const bool ok = path.isEmpty() || path == QStringLiteral("-")
        ? file.open(stdin, QIODevice::ReadOnly)
        : (file.setFileName(path), file.open(QIODevice::ReadOnly));
    if (!ok)
        return fail(ErrorKind::InvalidInput, QStringLiteral("InputUnreadable"),
            CliText::tr("Cannot read %1: %2")
                .arg(path.isEmpty() ? CliText::tr("standard input") : path, file.errorString()));
    return file.readAll();
}

Result<SecretBytes> readSecret(const QString &prompt, const QString &path)
{
    if (path.isEmpty() && ::isatty(STDIN_FILENO)) {
        writeTo(stderr, prompt.toUtf8() + ": ");
        termios saved{};
        const bool haveTerminal = ::tcgetattr(STDIN_FILENO, &saved) == 0;
        if (haveTerminal) {
            termios silent = saved;
            silent.c_lflag &= ~tcflag_t(ECHO);
            ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent);
        }
        QByteArray line;
        line.reserve(4096); // a typed line fits: no reallocation leaves a copy behind
        for (int c = std::getchar(); c != EOF && c != '\n'; c = std::getchar())
            line.append(char(c));
        if (haveTerminal)
            ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        writeTo(stderr, "\n");
        return SecretBytes::fromQByteArray(chomp(std::move(line)));
    }
    auto data = readInput(path);
    if (!data)
        return std::unexpected(data.error());
    // chomp() shortens the same buffer, which fromQByteArray() wipes whole.
    SecretBytes secret = SecretBytes::fromQByteArray(chomp(std::move(*data)));
    if (secret.isEmpty())
        return fail(ErrorKind::InvalidInput, QStringLiteral("EmptySecret"),
            CliText::tr("%1 is empty: give it on standard input or with --secret-file.").arg(prompt));
    return secret;
}

std::optional<int> confirmDeletion(const Output &out, bool yes, const QString &question, const QString &what)
{
    return confirmChange(out, yes, question,
        CliText::tr("Deleting %1 needs --yes when there is no terminal to ask on.").arg(what),
        CliText::tr("Nothing was deleted."));
}

std::optional<int> confirmChange(
    const Output &out, bool yes, const QString &question, const QString &noTerminal, const QString &unchanged)
{
    if (yes)
        return std::nullopt;
    if (!::isatty(STDIN_FILENO))
        return out.usage(noTerminal);
    writeTo(stderr, question.toUtf8() + " [y/N] ");
    char answer[8] = {};
    if (!std::fgets(answer, sizeof answer, stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
        return out.error({ErrorKind::Cancelled, QStringLiteral("Cancelled"), unchanged});
    return std::nullopt;
}

QString localTimeText(const QDateTime &time, const QString &unset)
{
    return time.isValid() ? time.toLocalTime().toString(Qt::ISODate) : unset;
}

QString formatTable(const QStringList &header, const QList<QStringList> &rows)
{
    QList<qsizetype> widths;
    for (const QString &title : header)
        widths.append(title.size());
    for (const QStringList &row : rows) {
        for (qsizetype i = 0; i < row.size() && i < widths.size(); ++i)
            widths[i] = std::max(widths[i], row[i].size());
    }
    auto line = [&](const QStringList &cells) {
        QString out;
        for (qsizetype i = 0; i < cells.size(); ++i) {
            out += i + 1 < cells.size() ? cells[i].leftJustified(widths[i] + 2) : cells[i];
        }
        return out;
    };
    QStringList lines{line(header)};
    for (const QStringList &row : rows)
        lines.append(line(row));
    return lines.join(u'\n');
}

} // namespace Onboarder::Cli
