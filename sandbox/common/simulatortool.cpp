#include "simulatortool.h"

#include "common/logging.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <cstdlib>

namespace Onboarder::Sandbox {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(SimulatorTool)
};

} // namespace

void setUpSimulator(const QString &name)
{
    QCoreApplication::setApplicationName(name);
    QCoreApplication::setApplicationVersion(QStringLiteral(ONBOARDER_VERSION));
    installRedactingMessageHandler();
}

void usageError(const QString &message)
{
    std::fprintf(stderr, "error: %s\n", qPrintable(message));
    std::exit(1);
}

qint64 wholeNumberOption(const QCommandLineParser &parser, const QString &name, qint64 min, qint64 max)
{
    bool ok = false;
    const qint64 value = parser.value(name).toLongLong(&ok);
    if (!ok || value < min || value > max)
        usageError(Text::tr("--%1 takes a whole number from %2 to %3.").arg(name).arg(min).arg(max));
    return value;
}

void printReadyJson(const QJsonObject &ready)
{
    std::printf("%s\n", QJsonDocument(ready).toJson(QJsonDocument::Compact).constData());
    std::fflush(stdout);
}

} // namespace Onboarder::Sandbox
