#include "quitonsignals.h"

#include "common/stopsignals.h"

#include <QCoreApplication>

#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

namespace Onboarder::Sandbox {

void quitOnSignals(QCoreApplication &app)
{
    // The self-pipe and the handlers are core's StopSignals (also what onboarder-cli relay run uses).
    auto *signals = new StopSignals(&app);
    QObject::connect(signals, &StopSignals::stopRequested, &app, [] { QCoreApplication::quit(); });
}

void endWithParent()
{
    const pid_t parent = ::getppid();
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    // The parent may have ended before the call: then nobody would send the signal.
    if (::getppid() != parent)
        ::raise(SIGTERM);
}

} // namespace Onboarder::Sandbox
