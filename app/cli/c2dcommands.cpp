// c2d send|feedback|purge: cloud-to-device messages, their feedback and a device's queue.
#include "amqp/cloudtodeviceclient.h"
#include "command.h"
#include "common/stopsignals.h"
#include "hub/hubclient.h"
#include "hub/hubstore.h"
#include "hub/identifiers.h"

#include <QFile>
#include <QJsonObject>
#include <QPromise>
#include <QTimer>

#include <cstdio>
#include <memory>
#include <utility>

namespace Onboarder::Cli {

namespace {

// The payload comes on standard input (not argv: a payload may be large, and may be sensitive).
Result<QByteArray> readPayload()
{
    QFile in;
    if (!in.open(stdin, QIODevice::ReadOnly))
        return fail(ErrorKind::InvalidInput, QStringLiteral("NoPayload"),
            CliText::tr("Cannot read the payload from standard input."));
    // A pipe hands its bytes over in pieces: read until the end (or one byte past the limit).
    QByteArray payload;
    while (payload.size() <= C2dMessageDraft::maxBytes) {
        const QByteArray chunk = in.read(C2dMessageDraft::maxBytes + 1 - payload.size());
        if (chunk.isEmpty())
            break;
        payload += chunk;
    }
    if (payload.size() > C2dMessageDraft::maxBytes)
        return fail(ErrorKind::InvalidInput, QStringLiteral("MessageTooLarge"),
            CliText::tr(
                "The payload is more than %1 bytes (64 KB), the most IoT Hub takes for a cloud-to-device message; "
                "nothing was sent.")
                .arg(C2dMessageDraft::maxBytes));
    return payload;
}

QFuture<int> send(Context &ctx, const QStringList &args)
{
    VerbParser p(
        CliText::tr("Sends a cloud-to-device message to a device; the payload is read from standard input. Prints its "
                    "message id. The device gets it at once if connected, else when it connects (IoT Hub keeps up "
                    "to 50 per device)."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    p.addOption({QStringLiteral("property"), CliText::tr("An application property; repeatable."), CliText::tr("K=V")});
    p.addOption({QStringLiteral("ack"), CliText::tr("Feedback wanted: none (default), positive, negative or full."),
        CliText::tr("MODE"), QStringLiteral("none")});
    p.addOption({QStringLiteral("expiry"),
        CliText::tr("Seconds the hub keeps the message for an offline device (default: the hub's, 1 hour)."),
        CliText::tr("SECONDS"), QStringLiteral("0")});
    p.addOption(
        {QStringLiteral("message-id"), CliText::tr("The message id (default: a new UUID)."), CliText::tr("ID")});
    p.addOption({QStringLiteral("correlation-id"), CliText::tr("The correlation id."), CliText::tr("ID")});
    p.addOption({QStringLiteral("content-type"), CliText::tr("The payload's content type, e.g. application/json."),
        CliText::tr("TYPE")});
    p.addOption({QStringLiteral("content-encoding"), CliText::tr("The payload's content encoding, e.g. utf-8."),
        CliText::tr("ENCODING")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    int exitCode = ExitOk;
    const auto expiry = p.intValue(ctx.out, QStringLiteral("expiry"), 0, 48 * 3600, &exitCode);
    if (!expiry)
        return finished(exitCode);
    const QString id = p.positional().at(0);
    if (const auto valid = Identifiers::validateDeviceId(id); !valid)
        return finished(ctx.out.error(valid.error()));

    C2dMessageDraft draft;
    draft.ack = p.value(QStringLiteral("ack"));
    draft.expirySeconds = int(*expiry);
    draft.messageId = p.value(QStringLiteral("message-id"));
    draft.correlationId = p.value(QStringLiteral("correlation-id"));
    draft.contentType = p.value(QStringLiteral("content-type"));
    draft.contentEncoding = p.value(QStringLiteral("content-encoding"));
    for (const QString &property : p.parser().values(QStringLiteral("property"))) {
        const qsizetype eq = property.indexOf(u'=');
        if (eq <= 0)
            return finished(ctx.out.error({ErrorKind::InvalidInput, QStringLiteral("InvalidProperty"),
                CliText::tr("--property takes NAME=VALUE, not \"%1\".").arg(property)}));
        draft.properties.append({property.left(eq), property.mid(eq + 1)});
    }
    // Everything IoT Hub would refuse is said before anything is read from the network.
    if (const auto valid = draft.validate(); !valid)
        return finished(ctx.out.error(valid.error()));
    auto payload = readPayload();
    if (!payload)
        return finished(ctx.out.error(payload.error()));
    draft.payload = *payload;
    if (const auto valid = draft.validate(); !valid)
        return finished(ctx.out.error(valid.error()));

    return withService(ctx, [&ctx, id, draft](const HubProfile &profile, const ConnectionString &service) {
        // Deleted later, never inside one of its own signals (the last continuation may drop it there).
        auto client = std::shared_ptr<CloudToDeviceClient>(
            new CloudToDeviceClient, [](CloudToDeviceClient *c) { c->deleteLater(); });
        return client->open(profile, service)
            .then(client.get(),
                [&ctx, client, id, draft](Result<void> opened) -> QFuture<int> {
                    if (!opened)
                        return finished(ctx.out.error(opened.error()));
                    return client->send(id, draft).then(client.get(), [&ctx, client, id](Result<QString> sent) {
                        client->close();
                        if (!sent)
                            return ctx.out.error(sent.error());
                        ctx.out.line(
                            QJsonObject{{QStringLiteral("deviceId"), id}, {QStringLiteral("messageId"), *sent}});
                        ctx.out.text(*sent);
                        return int(ExitOk);
                    });
                })
            .unwrap();
    });
}

QFuture<int> feedback(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Prints the feedback records of cloud-to-device messages sent with --ack, as the hub hands them out "
        "(each record once, to whoever reads it)."));
    p.addOption({QStringLiteral("wait"), CliText::tr("Seconds to wait for records (default 10; 0: until interrupted)."),
        CliText::tr("SECONDS"), QStringLiteral("10")});
    p.addOption({QStringLiteral("count"), CliText::tr("End after N records (default 0: no limit)."), CliText::tr("N"),
        QStringLiteral("0")});
    p.addOption(
        {QStringLiteral("message-id"), CliText::tr("End once the record of this message arrived."), CliText::tr("ID")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    int exitCode = ExitOk;
    const auto wait = p.intValue(ctx.out, QStringLiteral("wait"), 0, 31'536'000, &exitCode);
    if (!wait)
        return finished(exitCode);
    const auto count = p.intValue(ctx.out, QStringLiteral("count"), 0, 1'000'000'000, &exitCode);
    if (!count)
        return finished(exitCode);
    const QString awaited = p.value(QStringLiteral("message-id"));

    return withService(
        ctx, [&ctx, wait = *wait, count = *count, awaited](const HubProfile &profile, const ConnectionString &service) {
            struct Watch
            {
                std::unique_ptr<CloudToDeviceClient> client;
                std::unique_ptr<StopSignals> signals;
                QTimer deadline;
                qint64 received = 0;
                bool ending = false;
                QPromise<int> done;
            };
            auto watch = std::make_shared<Watch>();
            watch->done.start();
            const auto end = [watch](int code) {
                if (std::exchange(watch->ending, true))
                    return;
                QMetaObject::invokeMethod(
                    qApp,
                    [watch, code] {
                        watch->client.reset();
                        watch->signals.reset();
                        watch->deadline.disconnect();
                        watch->done.addResult(code);
                        watch->done.finish();
                    },
                    Qt::QueuedConnection);
            };
            watch->client = std::make_unique<CloudToDeviceClient>();
            CloudToDeviceClient *client = watch->client.get();
            QObject::connect(client, &CloudToDeviceClient::feedbackReceived, client,
                [&ctx, watch, end, count, awaited](const C2dFeedback &record) {
                    if (watch->ending)
                        return;
                    const QString time = record.enqueuedTime.toUTC().toString(Qt::ISODateWithMs);
                    ctx.out.line(record.toJson());
                    ctx.out.text(QStringLiteral("%1  %2  %3  %4")
                                     .arg(time, record.deviceId, record.originalMessageId, record.statusCode));
                    if ((count > 0 && ++watch->received >= count)
                        || (!awaited.isEmpty() && record.originalMessageId == awaited))
                        end(ExitOk);
                });
            QObject::connect(client, &CloudToDeviceClient::errorOccurred, client,
                [&ctx, end](const Error &error) { end(ctx.out.error(error)); });
            watch->signals = std::make_unique<StopSignals>();
            QObject::connect(
                watch->signals.get(), &StopSignals::stopRequested, watch->signals.get(), [end] { end(ExitOk); });
            if (wait > 0) {
                watch->deadline.setSingleShot(true);
                QObject::connect(&watch->deadline, &QTimer::timeout, [end, awaited, &ctx] {
                    // Waiting for one message's record and not getting it is worth an exit code of its own.
                    if (!awaited.isEmpty())
                        return end(ctx.out.error({ErrorKind::NotFound, QStringLiteral("FeedbackNotReceived"),
                            CliText::tr("No feedback for message %1 arrived in time.").arg(awaited)}));
                    end(ExitOk);
                });
                watch->deadline.start(std::chrono::seconds(wait));
            }
            client->open(profile, service).then(client, [&ctx, client, end](Result<void> opened) {
                if (!opened)
                    return end(ctx.out.error(opened.error()));
                client->listenForFeedback();
            });
            return watch->done.future();
        });
}

QFuture<int> purge(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Drops every cloud-to-device message still waiting for a device."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    p.addOption({QStringLiteral("yes"), CliText::tr("Confirm: the messages are gone for good.")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString id = p.positional().at(0);
    if (!p.isSet(QStringLiteral("yes")))
        return finished(ctx.out.error({ErrorKind::InvalidInput, QStringLiteral("ConfirmationNeeded"),
            CliText::tr("Purging drops the messages waiting for %1 for good: add --yes to confirm.").arg(id)}));
    return withService(ctx, [&ctx, id](const HubProfile &profile, const ConnectionString &service) {
        auto client = std::make_shared<HubClient>(profile, service);
        return client->purgeCloudToDeviceQueue(id).then([&ctx, client, id](Result<int> purged) {
            if (!purged)
                return ctx.out.error(purged.error());
            ctx.out.line(CloudToDevicePurge{id, *purged}.toJson());
            ctx.out.text(CliText::tr("%n message(s) for %1 purged.", nullptr, *purged).arg(id));
            return int(ExitOk);
        });
    });
}

} // namespace

QList<Noun> c2dNouns()
{
    return {Noun{QStringLiteral("c2d"),
        CliText::tr("Cloud-to-device messages of the hub (--hub NAME, or the current hub), over AMQP."),
        {
            {QStringLiteral("send"), CliText::tr("Send a message to a device (payload on stdin)."), send},
            {QStringLiteral("feedback"), CliText::tr("Print feedback records (delivered, expired, rejected)."),
                feedback},
            {QStringLiteral("purge"), CliText::tr("Drop the messages waiting for a device (--yes)."), purge},
        }}};
}

} // namespace Onboarder::Cli
