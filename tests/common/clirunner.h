#pragma once

// Runs onboarder-cli as a user would (its own process, arguments, standard input), and keeps what it
// printed for the secret-leak scans.

#include "testsupport.h"

#include <QJsonDocument>
#include <QProcess>
#include <QProcessEnvironment>

namespace TestSupport {

struct CliRun
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QJsonDocument json() const { return QJsonDocument::fromJson(out); }
};

class CliRunner final
{
public:
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    QByteArray log; // stdout and stderr of every logged run

    enum class Logging { Logged, NotLogged }; // NotLogged: a run that reveals a secret on purpose (--reveal)

    CliRun operator()(const QStringList &args, const QByteArray &input = {}, Logging logging = Logging::Logged)
    {
        QProcess process;
        process.setProcessEnvironment(environment);
        process.start(buildPath(QStringLiteral("app/onboarder-cli")), args);
        process.waitForStarted(10000);
        process.write(input);
        process.closeWriteChannel();
        if (!process.waitForFinished(120000))
            qFatal("onboarder-cli did not finish");
        CliRun run{process.exitCode(), process.readAllStandardOutput(), process.readAllStandardError()};
        if (logging == Logging::Logged)
            log += "$ onboarder-cli " + args.join(u' ').toUtf8() + '\n' + run.out + run.err;
        return run;
    }
};

} // namespace TestSupport
