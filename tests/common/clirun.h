#pragma once

#include "testsupport.h"

#include <QJsonDocument>
#include <QProcess>
#include <QProcessEnvironment>

namespace TestSupport {

// One run of the built onboarder-cli: its exit code and what it printed.
struct CliRun
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QJsonDocument json() const { return QJsonDocument::fromJson(out); }
};

// Runs onboarder-cli with args in env, input on its standard input.
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
    return {process.exitCode(), process.readAllStandardOutput(), process.readAllStandardError()};
}

} // namespace TestSupport
