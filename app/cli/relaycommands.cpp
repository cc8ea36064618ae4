// onboarder-cli relay run · relay check — the headless gateway (core/relay).
#include "command.h"
#include "common/appinfo.h"
#include "common/logging.h"
#include "common/stopsignals.h"
#include "credentials/credentialstore.h"
#include "credentials/secretstore.h"
#include "credentials/securefile.h"
#include "hub/hubstore.h"
#include "relay/outbox.h"
#include "relay/relay.h"
#include "relay/relayconfig.h"
#include "relay/relaythread.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPromise>

#include <cstdio>

namespace Onboarder::Cli {

namespace {

void writeLine(const QByteArray &line)
{
    std::fwrite(line.constData(), 1, size_t(line.size()), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

QString summary(const RelayMetrics &m)
{
    return CliText::tr("in %1/s  out %2/s  latency p50 %3 ms p99 %4 ms  outbox %5%6  sessions %7  local broker %8")
        .arg(m.inPerSecond, 0, 'f', 1)
        .arg(m.outPerSecond, 0, 'f', 1)
        .arg(m.latencyP50Ms, 0, 'f', 0)
        .arg(m.latencyP99Ms, 0, 'f', 0)
        .arg(m.outboxDepth)
        .arg(m.outboxFull ? CliText::tr(" (full: %1 held at the local broker)").arg(m.held) : QString())
        .arg(m.sessions)
        .arg(m.sourceState);
}

std::optional<int> loadConfig(Context &ctx, const QStringList &args, const QString &description, RelayConfig &config)
{
    VerbParser p(description);
    p.addOption({QStringLiteral("config"), CliText::tr("The relay configuration (JSON)."), CliText::tr("FILE")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return done;
    if (!p.isSet(QStringLiteral("config")))
        return ctx.out.usage(CliText::tr("--config FILE is required."));
    auto loaded = RelayConfig::load(p.value(QStringLiteral("config")));
    if (!loaded)
        return ctx.out.error(loaded.error());
    config = *loaded;
    if (!ctx.hubs.find(config.hub))
        return ctx.out.error({ErrorKind::NotFound, QStringLiteral("HubNotFound"),
            CliText::tr("The relay configuration names the hub \"%1\", which was not added (onboarder-cli hub add).")
                .arg(config.hub)});
    return std::nullopt;
}

QFuture<int> check(Context &ctx, const QStringList &args)
{
    RelayConfig config;
    if (auto done
        = loadConfig(ctx, args, CliText::tr("Checks a relay configuration without starting the relay."), config))
        return finished(*done);
    if (ctx.out.json())
        ctx.out.document(QJsonObject{{QStringLiteral("valid"), true}, {QStringLiteral("hub"), config.hub},
            {QStringLiteral("source"), config.sourceUrl.toString()}, {QStringLiteral("outbox"), config.outboxPath}});
    else
        ctx.out.text(CliText::tr("The relay configuration is valid: %1 → hub %2, outbox %3.")
                         .arg(config.sourceUrl.toString(), config.hub, config.outboxPath));
    return finished(ExitOk);
}

QFuture<int> run(Context &ctx, const QStringList &args)
{
    auto config = std::make_shared<RelayConfig>();
    if (auto done = loadConfig(ctx, args,
            CliText::tr("Runs the relay: the local broker's messages go to the hub as their devices' "
                        "messages, through a durable outbox. Metrics every interval on standard "
                        "output (JSON Lines with --json). SIGTERM or SIGINT stop it cleanly."),
            *config))
        return finished(*done);
    auto found = ctx.hubs.find(config->hub);
    if (!found) // checked with the configuration
        return finished(ctx.out.error({ErrorKind::NotFound, QStringLiteral("HubNotFound"),
            CliText::tr("There is no hub named \"%1\".").arg(config->hub)}));
    const HubProfile profile = std::move(*found);

    auto password = std::make_shared<SecretBytes>();
    return Relay::sourcePassword(*config, ctx.secrets)
        .then([&ctx, config, password](Result<SecretBytes> loaded) -> QFuture<Result<ConnectionString>> {
            if (!loaded)
                return QtFuture::makeReadyFuture<Result<ConnectionString>>(std::unexpected(loaded.error()));
            *password = std::move(*loaded);
            return ctx.hubs.connectionString(config->hub);
        })
        .unwrap()
        .then([&ctx, config, profile, password](Result<ConnectionString> service) -> QFuture<int> {
            if (!service)
                return finished(ctx.out.error(service.error()));
            // The relay runs on a worker thread with an epoll event loop (RelayThread: a thousand device
            // sessions cost what their traffic costs); the keychain, which needs this thread's GLib loop,
            // stays here, and so do the outputs.
            struct Running
            {
                std::unique_ptr<CredentialStore> credentials;
                std::unique_ptr<RelayThread> relay;
                std::unique_ptr<StopSignals> signals;
                bool stopRequested = false;
                QPromise<int> done;
            };
            auto state = std::make_shared<Running>();
            state->credentials = std::make_unique<CredentialStore>(ctx.secrets, AppInfo::dataDir());
            state->relay = std::make_unique<RelayThread>();
            state->done.start();
            RelayThread *relay = state->relay.get();
            const bool json = ctx.out.json();
            QObject::connect(relay, &RelayThread::metricsUpdated, relay, [json](const RelayMetrics &metrics) {
                if (json)
                    writeLine(QJsonDocument(metrics.toJson()).toJson(QJsonDocument::Compact));
                else
                    writeLine(summary(metrics).toUtf8());
            });
            QObject::connect(relay, &RelayThread::errorOccurred, relay, [](const Error &error) {
                const QByteArray line = "warning: " + error.message.toUtf8() + '\n';
                std::fputs(line.constData(), stderr);
            });
            const auto finish = [state](int code) {
                // Ends the command once the relay's own signal handlers have returned.
                QMetaObject::invokeMethod(
                    qApp,
                    [state, code] {
                        state->done.addResult(code);
                        state->done.finish();
                        state->signals.reset();
                        state->relay.reset();
                    },
                    Qt::QueuedConnection);
            };
            QObject::connect(relay, &RelayThread::stopped, relay, [finish] { finish(ExitOk); });
            QObject::connect(relay, &RelayThread::startFailed, relay,
                [&ctx, finish](const Error &error) { finish(ctx.out.error(error)); });
            QObject::connect(relay, &RelayThread::started, relay, [state] {
                if (state->stopRequested)
                    state->relay->stop();
            });

            state->signals = std::make_unique<StopSignals>();
            QObject::connect(state->signals.get(), &StopSignals::stopRequested, relay, [state] {
                qCInfo(lcCli) << "stopping the relay";
                state->stopRequested = true; // while starting: once it has started
                state->relay->stop();
            });
            relay->start(*config, profile, *service, state->credentials.get(), std::move(*password));
            return state->done.future();
        })
        .unwrap();
}

QFuture<int> sourcePassword(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Stores the local broker's password (read from standard input or --secret-file) in the "
                             "keychain, for a relay configuration's \"source\": {\"passwordKeychain\": \"NAME\"}."),
        CliText::tr("NAME"));
    p.addPositional(QStringLiteral("NAME"), CliText::tr("The name the configuration gives."));
    p.addOption({QStringLiteral("secret-file"), CliText::tr("Read the password from FILE."), CliText::tr("FILE")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString name = p.positional().at(0);
    if (name.isEmpty() || name.contains(u'/'))
        return finished(ctx.out.usage(CliText::tr("NAME must not be empty nor hold '/'.")));
    auto secret = readSecret(CliText::tr("Local broker password"), p.value(QStringLiteral("secret-file")));
    if (!secret)
        return finished(ctx.out.error(secret.error()));
    return ctx.secrets.save(Relay::sourcePasswordEntry(name), std::move(*secret))
        .then([&ctx, name](Result<void> saved) {
            if (!saved)
                return ctx.out.error(saved.error());
            ctx.out.text(CliText::tr("The local broker's password \"%1\" is in the system keychain.").arg(name));
            ctx.out.document(QJsonObject{{QStringLiteral("passwordKeychain"), name}});
            return int(ExitOk);
        });
}

QJsonObject deadLetterJson(const DeadLetter &letter)
{
    return {{QStringLiteral("id"), letter.id}, {QStringLiteral("deviceId"), letter.deviceId},
        {QStringLiteral("topic"), letter.topic},
        {QStringLiteral("received"),
            QDateTime::fromMSecsSinceEpoch(letter.receivedMs, Qt::UTC).toString(Qt::ISODateWithMs)},
        {QStringLiteral("bytes"), letter.payload.size()}, {QStringLiteral("reasonCode"), letter.reasonCode},
        {QStringLiteral("reason"), letter.reason}};
}

// relay dead-letters --config FILE [--export FILE] [--purge --yes]: the messages the relay set aside because the
// hub can never take them. Works while the relay runs (it reads the outbox without the relay's lock).
QFuture<int> deadLetters(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Lists the messages the relay set aside because the hub can never take them (larger "
                             "than 256 KB, or without a valid device id), with the reason. --export writes them, "
                             "payloads included, to a new file (JSON Lines, owner-only); --purge deletes them."));
    p.addOption({QStringLiteral("config"), CliText::tr("The relay configuration (JSON)."), CliText::tr("FILE")});
    p.addOption(
        {QStringLiteral("export"), CliText::tr("Write them to FILE, which must not exist."), CliText::tr("FILE")});
    p.addOption({QStringLiteral("purge"), CliText::tr("Delete them (after --export, when both are given).")});
    p.addOption({QStringLiteral("yes"), CliText::tr("Confirm --purge.")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    if (!p.isSet(QStringLiteral("config")))
        return finished(ctx.out.usage(CliText::tr("--config FILE is required.")));
    const auto config = RelayConfig::load(p.value(QStringLiteral("config")));
    if (!config)
        return finished(ctx.out.error(config.error()));
    auto outbox = Outbox::inspect(config->outboxPath);
    if (!outbox)
        return finished(ctx.out.error(outbox.error()));
    const auto letters = (*outbox)->deadLetters();
    if (!letters)
        return finished(ctx.out.error(letters.error()));

    const QString exportPath = p.value(QStringLiteral("export"));
    if (!exportPath.isEmpty()) {
        QByteArray lines;
        for (const DeadLetter &letter : *letters) {
            QJsonObject json = deadLetterJson(letter);
            json.insert(QStringLiteral("payloadBase64"), QString::fromLatin1(letter.payload.toBase64()));
            lines += QJsonDocument(json).toJson(QJsonDocument::Compact) + '\n';
        }
        if (const auto written = SecureFile::writeNew(exportPath, lines); !written)
            return finished(ctx.out.error(written.error()));
    }
    qint64 purged = 0;
    if (p.isSet(QStringLiteral("purge"))) {
        if (auto stop = confirmDeletion(ctx.out, p.isSet(QStringLiteral("yes")),
                CliText::tr("Delete the %1 dead letters of %2 for good?").arg(letters->size()).arg(config->outboxPath),
                CliText::tr("the dead letters")))
            return finished(*stop);
        const auto done = (*outbox)->purgeDeadLetters();
        if (!done)
            return finished(ctx.out.error(done.error()));
        purged = *done;
    }

    if (ctx.out.json()) {
        QJsonArray array;
        for (const DeadLetter &letter : *letters)
            array.append(deadLetterJson(letter));
        QJsonObject document{{QStringLiteral("outbox"), config->outboxPath}, {QStringLiteral("deadLetters"), array}};
        if (!exportPath.isEmpty())
            document.insert(QStringLiteral("exported"), exportPath);
        if (p.isSet(QStringLiteral("purge")))
            document.insert(QStringLiteral("purged"), purged);
        ctx.out.document(document);
        return finished(ExitOk);
    }
    QList<QStringList> rows;
    for (const DeadLetter &letter : *letters) {
        rows.append(
            {QString::number(letter.id), QDateTime::fromMSecsSinceEpoch(letter.receivedMs).toString(Qt::ISODate),
                letter.deviceId.isEmpty() ? CliText::tr("(none)") : letter.deviceId,
                QString::number(letter.payload.size()), letter.reason});
    }
    if (rows.isEmpty())
        ctx.out.text(CliText::tr("No dead letters in %1.").arg(config->outboxPath));
    else
        ctx.out.text(formatTable({CliText::tr("ID"), CliText::tr("RECEIVED"), CliText::tr("DEVICE"),
                                     CliText::tr("BYTES"), CliText::tr("REASON")},
            rows));
    if (!exportPath.isEmpty())
        ctx.out.text(CliText::tr("Wrote %1 dead letters to %2.").arg(letters->size()).arg(exportPath));
    if (p.isSet(QStringLiteral("purge")))
        ctx.out.text(CliText::tr("Deleted %1 dead letters.").arg(purged));
    return finished(ExitOk);
}

} // namespace

QList<Noun> relayNouns()
{
    return {Noun{QStringLiteral("relay"),
        CliText::tr("The relay: a local MQTT broker's messages to the hub, one session per device."),
        {{QStringLiteral("run"), CliText::tr("Run the relay (headless gateway); --config FILE."), run},
            {QStringLiteral("check"), CliText::tr("Check a relay configuration; --config FILE."), check},
            {QStringLiteral("source-password"), CliText::tr("Keep the local broker's password in the keychain."),
                sourcePassword},
            {QStringLiteral("dead-letters"),
                CliText::tr("Messages set aside that the hub can never take; --export, --purge."), deadLetters}}}};
}

} // namespace Onboarder::Cli
