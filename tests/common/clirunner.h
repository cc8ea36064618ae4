#pragma once

// Runs onboarder-cli of this build as a process with a given environment (XDG dirs of the test) and
// standard input; returns its exit code and outputs.

#include "testsupport.h"

#include <QJsonDocument>
#include <QProcess>

namespace TestSupport {

struct CliRun
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QJsonDocument json() const { return QJsonDocument::fromJson(out); }
};

inline CliRun runCli(const QProcessEnvironment &env, const QStringList &args, const QByteArray &input = {})
{
    QProcess process;
    process.setProcessEnvironment(env);
    process.start(buildPath(QStringLiteral("app/onboarder-cli")), args);
    process.waitForStarted(10000);
    process.write(input);
    process.closeWriteChannel();
    if (!process.waitForFinished(60000))
        qFatal("onboarder-cli did not finish");
    return { process.exitCode(), process.readAllStandardOutput(), process.readAllStandardError() };
}

} // namespace TestSupport
