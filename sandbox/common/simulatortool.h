#pragma once

#include <QtGlobal>

class QCommandLineParser;
class QJsonObject;
class QString;

namespace Onboarder::Sandbox {

// What the simulators' main()s share (onboarder-modem-sim, onboarder-sensor-sim): set-up, option checks and
// the ready line a test or the demo waits for.

// Application name and version, and the redacting message handler. Call right after QCoreApplication.
void setUpSimulator(const QString &name);

// "error: MESSAGE" on standard error, exit code 1.
[[noreturn]] void usageError(const QString &message);

// The option's value as a whole number from min to max, or a usage error that says so.
qint64 wholeNumberOption(const QCommandLineParser &parser, const QString &name, qint64 min, qint64 max);

// The ready line: one compact JSON object on standard output, flushed.
void printReadyJson(const QJsonObject &ready);

} // namespace Onboarder::Sandbox
