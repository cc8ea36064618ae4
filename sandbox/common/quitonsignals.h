#pragma once

class QCoreApplication;

namespace Onboarder::Sandbox {

// SIGINT and SIGTERM end the application's event loop (through core's StopSignals: a self-pipe, the only
// async-signal-safe way), so that a sandbox tool shuts down in order: files saved, links removed, children
// stopped.
void quitOnSignals(QCoreApplication &app);

// The process receives SIGTERM when its parent ends (PR_SET_PDEATHSIG), so that a tool started by a test
// or the demo does not outlive it even when the parent is killed.
void endWithParent();

} // namespace Onboarder::Sandbox
