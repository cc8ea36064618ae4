#pragma once

// onboarder-cli runs (runCli) that also keep what the CLI printed, for the secret-leak scans.

#include "clirun.h"

namespace TestSupport {

class CliRunner final
{
public:
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    QByteArray log; // stdout and stderr of every logged run

    enum class Logging { Logged, NotLogged }; // NotLogged: a run that reveals a secret on purpose (--reveal)

    CliRun operator()(const QStringList &args, const QByteArray &input = {}, Logging logging = Logging::Logged)
    {
        CliRun run = runCli(environment, args, input);
        if (logging == Logging::Logged)
            log += "$ onboarder-cli " + args.join(u' ').toUtf8() + '\n' + run.out + run.err;
        return run;
    }
};

} // namespace TestSupport
