#pragma once

#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <cstdio>

namespace TestSupport {

// Starts a simulator and reads the first line it prints once ready (its terminal's path, or a JSON ready line).
// Empty when ready, else what went wrong.
inline QString startAndReadLine(
    QProcess &process, const QString &program, const QStringList &arguments, QByteArray *line)
{
    process.setProcessChannelMode(QProcess::SeparateChannels);
    process.start(program, arguments);
    if (!process.waitForStarted(10000))
        return QStringLiteral("%1 did not start: %2").arg(program, process.errorString());
    QDeadlineTimer deadline(10000);
    while (!process.canReadLine() && !deadline.hasExpired() && process.state() == QProcess::Running)
        process.waitForReadyRead(100);
    if (!process.canReadLine())
        return QStringLiteral("%1 was not ready: %2")
            .arg(program, QString::fromLocal8Bit(process.readAllStandardError()));
    *line = process.readLine().trimmed();
    return {};
}

// Ends a simulator started with startAndReadLine(): terminated, killed when it does not go.
inline void stopProcess(QProcess &process)
{
    if (process.state() == QProcess::NotRunning)
        return;
    process.terminate();
    if (!process.waitForFinished(5000))
        process.kill();
    process.waitForFinished(2000);
}

// The built onboarder-modem-sim as a real peer: started with --ready-json, its pseudo-terminal's path read
// from the ready line. Unpaced unless the arguments say --baud.
class ModemSim final
{
public:
    ModemSim() = default;
    ModemSim(const ModemSim &) = delete;
    ModemSim &operator=(const ModemSim &) = delete;
    ~ModemSim() { stop(); }

    // Returns an empty string when ready, else what went wrong. Every start has a new, empty modem unless
    // it is given the state file of an earlier one.
    QString start(QStringList arguments = {}, const QString &stateFile = {})
    {
        stop();
        m_stateFile
            = stateFile.isEmpty() ? m_dir.filePath(QStringLiteral("modem-state-%1.json").arg(++m_starts)) : stateFile;
        if (!arguments.contains(QStringLiteral("--baud")))
            arguments << QStringLiteral("--baud") << QStringLiteral("0");
        arguments << QStringLiteral("--ready-json") << QStringLiteral("--state") << m_stateFile;
        QByteArray line;
        if (const QString problem = startAndReadLine(
                m_process, buildPath(QStringLiteral("sandbox/modem/onboarder-modem-sim")), arguments, &line);
            !problem.isEmpty())
            return problem;
        m_ready = QJsonDocument::fromJson(line).object();
        return m_ready.value(QStringLiteral("port")).toString().isEmpty() ? QStringLiteral("no port in the ready line")
                                                                          : QString();
    }

    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        stopProcess(m_process);
        // What it said on standard error reaches the test's output (under the sanitizers: a report on its way
        // out, which fails the test there).
        const QByteArray said = m_process.readAllStandardError();
        if (!said.isEmpty())
            std::fwrite(said.constData(), 1, size_t(said.size()), stderr);
    }

    QString port() const { return m_ready.value(QStringLiteral("port")).toString(); }
    QString stateFile() const { return m_stateFile; }
    QJsonObject ready() const { return m_ready; }
    QProcess &process() { return m_process; }
    bool running() const { return m_process.state() == QProcess::Running; }

    // The credential entries of the state file: "tag/type" → SHA-256.
    QMap<QString, QString> storedHashes() const
    {
        QFile file(m_stateFile);
        QMap<QString, QString> hashes;
        if (!file.open(QIODevice::ReadOnly))
            return hashes;
        const auto entries
            = QJsonDocument::fromJson(file.readAll()).object().value(QStringLiteral("credentials")).toArray();
        for (const auto &entry : entries) {
            const QJsonObject e = entry.toObject();
            hashes.insert(QStringLiteral("%1/%2")
                              .arg(e.value(QStringLiteral("tag")).toInteger())
                              .arg(e.value(QStringLiteral("type")).toInt()),
                e.value(QStringLiteral("sha256")).toString());
        }
        return hashes;
    }

private:
    QTemporaryDir m_dir;
    QProcess m_process;
    QJsonObject m_ready;
    QString m_stateFile;
    int m_starts = 0;
};

} // namespace TestSupport
