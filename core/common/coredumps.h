#pragma once

namespace Onboarder::CoreDumps {

// Keeps the process's memory (hub and device keys, connection strings, passwords) out of core dumps: no
// core file (RLIMIT_CORE 0, soft and hard, which the programs it starts inherit) and not dumpable
// (PR_SET_DUMPABLE 0: no core even where the limit is raised again, no ptrace by other processes of the
// same user, /proc/PID/mem and environ readable by root only). The first thing every main() of a program
// that holds secrets does: the app, the CLI and so the relay ("onboarder-cli relay run"). Returns false,
// with a warning logged, when the kernel refused either.
bool disable();

} // namespace Onboarder::CoreDumps
