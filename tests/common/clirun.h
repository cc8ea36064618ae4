#pragma once

// Runs onboarder-cli of this build as a user would: its own process, arguments, an environment (the
// test's XDG dirs), standard input; returns its exit code and what it printed.

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

// The environment of a CLI under test: its settings and data (the hubs it knows) in dir, C locale.
inline QProcessEnvironment cliEnvironment(const QString &dir)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir + QStringLiteral("/config"));
    env.insert(QStringLiteral("XDG_DATA_HOME"), dir + QStringLiteral("/data"));
    env.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
    return env;
}

// Runs onboarder-cli with args in env, input on its standard input.
inline CliRun runCli(const QProcessEnvironment &env, const QStringList &args, const QByteArray &input = {})
{
    QProcess process;
    process.setProcessEnvironment(env);
    process.start(buildPath(QStringLiteral("app/onboarder-cli")), args);
    process.waitForStarted(10000);
    process.write(input);
    process.closeWriteChannel();
    if (!process.waitForFinished(120000))
        qFatal("onboarder-cli did not finish");
    QByteArray err = process.readAllStandardError();
    if (process.exitStatus() == QProcess::CrashExit) // said, so that a failing test shows it crashed and how
        err += "\n[onboarder-cli " + args.join(u' ').toUtf8() + " crashed: " + process.errorString().toUtf8() + "]\n";
    return {process.exitCode(), process.readAllStandardOutput(), err};
}

} // namespace TestSupport
