// onboarder-cli device telemetry · hub telemetry · hub event-hub — what a hub receives, read over AMQP from its
// Event Hub-compatible endpoint (found through the hub's redirect, or the connection string kept with hub event-hub).
#include "cliio.h"
#include "command.h"
#include "common/logging.h"
#include "common/stopsignals.h"
#include "hub/hubstore.h"
#include "hub/hubtelemetrymonitor.h"
#include "hub/identifiers.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonObject>
#include <QPromise>
#include <QTimer>

#include <cstdio>
#include <memory>
#include <utility>

namespace Onboarder::Cli {

namespace {

struct WatchOptions
{
    QString deviceId; // empty: every device
    qint64 count = 0;
    qint64 seconds = 0;
    EventHubReader::Options reader;
};

void addWatchOptions(VerbParser &p)
{
    p.addOption({QStringLiteral("count"), CliText::tr("End after N messages (default 0: no limit)."), CliText::tr("N"),
        QStringLiteral("0")});
    p.addOption({QStringLiteral("seconds"), CliText::tr("End after S seconds (default 0: no limit)."), CliText::tr("S"),
        QStringLiteral("0")});
    p.addOption({QStringLiteral("consumer-group"),
        CliText::tr("Consumer group of the Event Hub-compatible endpoint (default $Default)."), CliText::tr("G"),
        QStringLiteral("$Default")});
    p.addOption({QStringLiteral("from"),
        CliText::tr("Where to start: now (default), oldest (all that the hub keeps), or an ISO 8601 time."),
        CliText::tr("WHEN"), QStringLiteral("now")});
}

// The options shared by device telemetry and hub telemetry; nullopt after the error was reported (exitCode set).
std::optional<WatchOptions> watchOptions(Context &ctx, VerbParser &p, int *exitCode)
{
    WatchOptions options;
    options.reader.consumerGroup = p.value(QStringLiteral("consumer-group"));
    const QString from = p.value(QStringLiteral("from"));
    if (from == QLatin1String("oldest")) {
        options.reader.start = EventHubReader::Start::Oldest;
    } else if (from != QLatin1String("now")) {
        options.reader.start = EventHubReader::Start::Time;
        options.reader.from = QDateTime::fromString(from, Qt::ISODateWithMs);
        if (!options.reader.from.isValid()) {
            *exitCode = ctx.out.error(Error{ErrorKind::InvalidInput, QStringLiteral("InvalidStart"),
                CliText::tr("--from takes now, oldest or an ISO 8601 time such as 2026-12-06T10:00:00Z, not \"%1\".")
                    .arg(from)});
            return std::nullopt;
        }
    }
    const auto count = p.intValue(ctx.out, QStringLiteral("count"), 0, 1'000'000'000, exitCode);
    if (!count)
        return std::nullopt;
    const auto seconds = p.intValue(ctx.out, QStringLiteral("seconds"), 0, 31'536'000, exitCode);
    if (!seconds)
        return std::nullopt;
    options.count = *count;
    options.seconds = *seconds;
    return options;
}

void printEvent(Context &ctx, const TelemetryEvent &event, bool withDevice)
{
    const QString time = event.enqueuedTime.toUTC().toString(Qt::ISODateWithMs);
    QStringList bag;
    for (const auto &[name, value] : event.properties)
        bag.append(name + u'=' + value);
    const QString text = QString::fromUtf8(event.body);
    const bool utf8 = text.toUtf8() == event.body;
    ctx.out.line(event.toJson());
    const QString payload = utf8 ? text : QStringLiteral("base64:") + QString::fromLatin1(event.body.toBase64());
    if (withDevice)
        ctx.out.text(QStringLiteral("%1  %2  %3  %4").arg(time, event.deviceId, bag.join(u'&'), payload));
    else
        ctx.out.text(QStringLiteral("%1  %2  %3").arg(time, bag.join(u'&'), payload));
}

// Prints what the hub receives (one device's or all) until the count, the deadline or a stop signal.
QFuture<int> watch(Context &ctx, const WatchOptions &options)
{
    return withService(ctx, [&ctx, options](const HubProfile &profile, const ConnectionString &service) {
        return ctx.hubs.eventHubConnectionString(profile.name)
            .then([&ctx, options, profile, service](Result<QString> eventHub) -> QFuture<int> {
                if (!eventHub)
                    return finished(ctx.out.error(eventHub.error()));
                struct Watch
                {
                    std::unique_ptr<HubTelemetryMonitor> monitor;
                    std::unique_ptr<StopSignals> signals;
                    QTimer deadline;
                    qint64 received = 0;
                    bool ending = false;
                    bool listened = false;
                    QPromise<int> done;
                };
                auto watch = std::make_shared<Watch>();
                watch->done.start();
                // Ends once the signal handler that decided it has returned; the connections hold the watch until then.
                const auto end = [watch](int code) {
                    if (std::exchange(watch->ending, true))
                        return;
                    QMetaObject::invokeMethod(
                        qApp,
                        [watch, code] {
                            watch->monitor.reset();
                            watch->signals.reset();
                            watch->deadline.disconnect();
                            watch->done.addResult(code);
                            watch->done.finish();
                        },
                        Qt::QueuedConnection);
                };
                watch->monitor = std::make_unique<HubTelemetryMonitor>();
                HubTelemetryMonitor *monitor = watch->monitor.get();
                monitor->setReaderOptions(options.reader);
                monitor->setDevice(options.deviceId);
                const bool withDevice = options.deviceId.isEmpty();
                QObject::connect(monitor, &HubTelemetryMonitor::eventReceived, monitor,
                    [&ctx, watch, end, count = options.count, withDevice](const TelemetryEvent &event) {
                        if (watch->ending)
                            return;
                        printEvent(ctx, event, withDevice);
                        if (count > 0 && ++watch->received >= count)
                            end(ExitOk);
                    });
                QObject::connect(monitor, &HubTelemetryMonitor::stateChanged, monitor,
                    [&ctx, watch, monitor, end, options, profile](HubTelemetryMonitor::State state) {
                        if (state == HubTelemetryMonitor::State::Listening) {
                            watch->listened = true;
                            if (options.deviceId.isEmpty())
                                qCInfo(lcCli).noquote() << "listening to what hub" << profile.name << "receives";
                            else
                                qCInfo(lcCli).noquote()
                                    << "listening to what the hub receives from" << options.deviceId;
                        } else if (state == HubTelemetryMonitor::State::Failed) {
                            end(ctx.out.error(monitor->lastError()));
                        }
                    });
                QObject::connect(monitor, &HubTelemetryMonitor::errorOccurred, monitor,
                    [&ctx, watch, monitor, end](const Error &error) {
                        if (!watch->listened) // the first connection failed: say why and where, rather than wait
                            return end(ctx.out.error(error));
                        if (monitor->state() == HubTelemetryMonitor::State::Connecting) // dropped: it reconnects
                            std::fputs(QByteArray("warning: " + error.message.toUtf8() + '\n').constData(), stderr);
                    });
                watch->signals = std::make_unique<StopSignals>();
                QObject::connect(
                    watch->signals.get(), &StopSignals::stopRequested, watch->signals.get(), [end] { end(ExitOk); });
                if (options.seconds > 0) {
                    watch->deadline.setSingleShot(true);
                    QObject::connect(&watch->deadline, &QTimer::timeout, [end] { end(ExitOk); });
                    watch->deadline.start(std::chrono::seconds(options.seconds));
                }
                monitor->start(profile, service, *eventHub);
                return watch->done.future();
            })
            .unwrap();
    });
}

} // namespace

QFuture<int> deviceTelemetry(Context &ctx, const QStringList &args)
{
    VerbParser p(
        CliText::tr("Prints what the hub receives from a device, message by message as it arrives: time, "
                    "properties and payload (JSON Lines with --json). It is read over AMQP from the hub's Event "
                    "Hub-compatible endpoint: the one kept with hub event-hub, else the one the hub redirects to. "
                    "Ends after --count messages, after --seconds, or on SIGINT or SIGTERM."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    addWatchOptions(p);
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    int exitCode = ExitOk;
    auto options = watchOptions(ctx, p, &exitCode);
    if (!options)
        return finished(exitCode);
    options->deviceId = p.positional().at(0);
    if (const auto valid = Identifiers::validateDeviceId(options->deviceId); !valid)
        return finished(ctx.out.error(valid.error()));
    return watch(ctx, *options);
}

QFuture<int> hubTelemetry(Context &ctx, const QStringList &args)
{
    VerbParser p(
        CliText::tr("Prints what the hub receives from all its devices (or one, with --device), message by message "
                    "as it arrives: time, device, properties and payload (JSON Lines with --json). It is read over "
                    "AMQP from the hub's Event Hub-compatible endpoint: the one kept with hub event-hub, else the one "
                    "the hub redirects to. Ends after --count messages, after --seconds, or on SIGINT or SIGTERM."));
    p.addOption({QStringLiteral("device"), CliText::tr("Only this device's messages."), CliText::tr("ID")});
    addWatchOptions(p);
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    int exitCode = ExitOk;
    auto options = watchOptions(ctx, p, &exitCode);
    if (!options)
        return finished(exitCode);
    if (p.isSet(QStringLiteral("device"))) {
        options->deviceId = p.value(QStringLiteral("device"));
        if (const auto valid = Identifiers::validateDeviceId(options->deviceId); !valid)
            return finished(ctx.out.error(valid.error()));
    }
    return watch(ctx, *options);
}

QFuture<int> hubEventHub(Context &ctx, const QStringList &args)
{
    VerbParser p(
        CliText::tr("Keeps a hub's Event Hub-compatible connection string (Azure portal: the hub's Built-in "
                    "endpoints) in the system keychain, beside the hub's own; telemetry is then read there instead of "
                    "through the hub's redirect. The string is read from standard input or --secret-file; --clear "
                    "forgets it."));
    p.addPositional(QStringLiteral("NAME"), CliText::tr("The hub's local name."));
    p.addOption(
        {QStringLiteral("clear"), CliText::tr("Forget the Event Hub-compatible connection string kept for the hub.")});
    p.addOption({QStringLiteral("secret-file"),
        CliText::tr("Read the connection string from FILE instead of standard input."), CliText::tr("FILE")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString name = p.positional().at(0);
    if (!ctx.hubs.find(name))
        return finished(ctx.out.error({ErrorKind::NotFound, QStringLiteral("HubNotFound"),
            CliText::tr("There is no hub named \"%1\".").arg(name)}));
    const bool clear = p.isSet(QStringLiteral("clear"));
    if (clear && p.isSet(QStringLiteral("secret-file")))
        return finished(ctx.out.error(
            {ErrorKind::InvalidInput, QStringLiteral("Usage"), CliText::tr("--clear takes no connection string.")}));
    QString text;
    if (!clear) {
        const auto secret
            = readSecret(CliText::tr("Event Hub-compatible connection string"), p.value(QStringLiteral("secret-file")));
        if (!secret)
            return finished(ctx.out.error(secret.error()));
        text = secret->exposeAsString().trimmed(); // HubStore::setEventHub() checks the text
        if (text.isEmpty())
            return finished(ctx.out.error({ErrorKind::InvalidInput, QStringLiteral("NoConnectionString"),
                CliText::tr("No connection string was given. To forget the one kept, use --clear.")}));
    }
    return ctx.hubs.setEventHub(name, text).then([&ctx, name, clear](Result<void> done) {
        if (!done)
            return ctx.out.error(done.error());
        ctx.out.text(clear
                ? CliText::tr("Hub \"%1\": telemetry is read through the hub's redirect again.").arg(name)
                : CliText::tr("Hub \"%1\": telemetry is read with the Event Hub-compatible connection string, which "
                              "is in the system keychain.")
                      .arg(name));
        ctx.out.document(QJsonObject{{QStringLiteral("name"), name}, {QStringLiteral("eventHub"), !clear}});
        return int(ExitOk);
    });
}

} // namespace Onboarder::Cli
