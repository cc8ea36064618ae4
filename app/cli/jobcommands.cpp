// onboarder-cli job … — the hub's jobs: a twin update or a direct method on the devices a query condition selects.
#include "command.h"
#include "hub/hubclient.h"
#include "hub/identifiers.h"
#include "hub/querypager.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QPromise>
#include <QTimer>

#include <cstdio>
#include <memory>

namespace Onboarder::Cli {

namespace {

constexpr int pollMs = 1000;

QString timeText(const QDateTime &time)
{
    return localTimeText(time, QStringLiteral("-"));
}

QString progressText(const HubJob &job)
{
    return CliText::tr("job %1: %2, %3 of %4 devices done, %5 failed")
        .arg(job.id, job.status)
        .arg(job.statistics.done())
        .arg(job.statistics.deviceCount)
        .arg(job.statistics.failed);
}

void printJob(const Output &out, const HubJob &job)
{
    QList<QStringList> rows{{CliText::tr("Job"), job.id}, {CliText::tr("Type"), job.type},
        {CliText::tr("Status"), job.status}, {CliText::tr("Devices"), job.queryCondition},
        {CliText::tr("Created"), timeText(job.created)}, {CliText::tr("Start"), timeText(job.start)},
        {CliText::tr("End"), timeText(job.end)},
        {CliText::tr("Progress"),
            CliText::tr("%1 devices: %2 succeeded, %3 failed, %4 running, %5 pending")
                .arg(job.statistics.deviceCount)
                .arg(job.statistics.succeeded)
                .arg(job.statistics.failed)
                .arg(job.statistics.running)
                .arg(job.statistics.pending)}};
    if (!job.methodName.isEmpty())
        rows.insert(2, {CliText::tr("Method"), job.methodName});
    if (!job.failureReason.isEmpty())
        rows.append({CliText::tr("Failure"), job.failureReason});
    out.text(formatTable({CliText::tr("FIELD"), CliText::tr("VALUE")}, rows));
}

QString compactJson(const QJsonValue &value)
{
    return QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact)).mid(1).chopped(1);
}

// The exit code a job that ended gives: 0 when it completed (devices that failed are reported, not an error of the
// command), else its failure.
int endOf(const Output &out, const HubJob &job)
{
    if (job.status == QLatin1String("completed")) {
        if (job.statistics.failed > 0)
            out.text(CliText::tr("%1 of %2 devices failed; job show %3 --devices says why.")
                         .arg(job.statistics.failed)
                         .arg(job.statistics.deviceCount)
                         .arg(job.id));
        return ExitOk;
    }
    if (job.status == QLatin1String("cancelled"))
        return out.error({ErrorKind::Cancelled, QStringLiteral("JobCancelled"),
            CliText::tr("The job %1 was cancelled before it finished.").arg(job.id)});
    return out.error({ErrorKind::Conflict, QStringLiteral("JobFailed"),
        CliText::tr("The job %1 failed: %2")
            .arg(job.id, job.failureReason.isEmpty() ? job.status : job.failureReason)});
}

// Where following a job stands: the last line of progress written, the failed reads in a row.
struct Following
{
    QString lastLine;
    int failures = 0;
};

constexpr int readsToFail = 3; // a failure of the network this many times in a row ends the waiting

// Reads the job until it ends, a line of progress on standard error whenever it moved; then prints it. A read that
// fails on the network is tried again; the job goes on in the hub meanwhile.
void follow(
    Context &ctx, HubClient &client, const QString &id, const std::shared_ptr<QPromise<int>> &promise, Following state)
{
    client.job(id).then(&client, [&ctx, &client, id, promise, state](Result<HubJob> job) mutable {
        if (!job) {
            if (job.error().kind != ErrorKind::Network || ++state.failures >= readsToFail) {
                promise->addResult(ctx.out.error(job.error()));
                return promise->finish();
            }
            if (!ctx.out.json())
                std::fprintf(stderr, "%s\n", qPrintable(CliText::tr("%1 Trying again.").arg(job.error().message)));
        } else {
            state.failures = 0;
            const QString line = progressText(*job);
            if (line != state.lastLine && !ctx.out.json())
                std::fprintf(stderr, "%s\n", qPrintable(line));
            state.lastLine = line;
            if (job->finished()) {
                // With --json, one document: the job when it completed, else the error alone.
                if (job->status == QLatin1String("completed"))
                    ctx.out.document(job->document);
                printJob(ctx.out, *job);
                promise->addResult(endOf(ctx.out, *job));
                return promise->finish();
            }
        }
        QTimer::singleShot(
            pollMs, &client, [&ctx, &client, id, promise, state] { follow(ctx, client, id, promise, state); });
    });
}

QFuture<int> create(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Schedules a job on the devices a query condition selects: a twin update (--twin JSON, tags and desired "
        "properties merged into each twin) or a direct method (--method NAME). With --wait it follows the job "
        "until it ends, with progress on standard error; Ctrl+C stops the waiting, not the job (job cancel does)."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The new job's id."));
    p.addOption({QStringLiteral("query"),
        CliText::tr("The devices: a condition on their twins, e.g. \"tags.site = 'bench-1'\" or \"deviceId IN "
                    "['a', 'b']\"."),
        CliText::tr("CONDITION")});
    p.addOption({QStringLiteral("twin"),
        CliText::tr("Update each twin with this patch, e.g. {\"tags\":{\"fw\":\"2.1\"},\"properties\":{\"desired\":"
                    "{\"interval\":30}}}."),
        CliText::tr("JSON")});
    p.addOption(
        {QStringLiteral("method"), CliText::tr("Invoke this direct method on each device."), CliText::tr("NAME")});
    p.addOption({QStringLiteral("payload"), CliText::tr("The method's JSON payload (default null)."),
        CliText::tr("JSON"), QStringLiteral("null")});
    p.addOption(
        {QStringLiteral("timeout"), CliText::tr("Seconds each device has to answer the method (5–300, default 30)."),
            CliText::tr("S"), QStringLiteral("30")});
    p.addOption({QStringLiteral("connect-timeout"),
        CliText::tr("Seconds the hub waits for a device that is not connected (0–300, default 0)."), CliText::tr("S"),
        QStringLiteral("0")});
    p.addOption({QStringLiteral("start"),
        CliText::tr("When the job starts: an ISO 8601 time such as 2026-12-24T06:00:00Z (default: now)."),
        CliText::tr("TIME")});
    p.addOption({QStringLiteral("max-time"),
        CliText::tr("Seconds the job may run before the hub stops it (1–172800, default 3600)."), CliText::tr("S"),
        QStringLiteral("3600")});
    p.addOption({QStringLiteral("wait"), CliText::tr("Follow the job until it ends.")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString id = p.positional().at(0);
    if (auto ok = Identifiers::validateJobId(id); !ok)
        return finished(ctx.out.error(ok.error()));
    const QString condition = p.value(QStringLiteral("query")).trimmed();
    if (condition.isEmpty())
        return finished(ctx.out.usage(CliText::tr("--query CONDITION says which devices the job is for.")));
    const bool twin = p.isSet(QStringLiteral("twin"));
    const bool method = p.isSet(QStringLiteral("method"));
    if (twin == method)
        return finished(ctx.out.usage(CliText::tr("Give either --twin JSON or --method NAME.")));
    int exitCode = ExitOk;
    const auto timeout = p.intValue(ctx.out, QStringLiteral("timeout"), 5, 300, &exitCode);
    const auto connectTimeout
        = timeout ? p.intValue(ctx.out, QStringLiteral("connect-timeout"), 0, 300, &exitCode) : std::nullopt;
    const auto maxTime
        = connectTimeout ? p.intValue(ctx.out, QStringLiteral("max-time"), 1, 172800, &exitCode) : std::nullopt;
    if (!maxTime)
        return finished(exitCode);
    QDateTime start;
    if (p.isSet(QStringLiteral("start"))) {
        start = QDateTime::fromString(p.value(QStringLiteral("start")), Qt::ISODateWithMs);
        if (!start.isValid())
            return finished(ctx.out.usage(CliText::tr("--start takes an ISO 8601 time such as 2026-12-24T06:00:00Z.")));
    }
    QJsonObject request;
    if (twin) {
        const auto patch = jsonObjectFrom(p.value(QStringLiteral("twin")).toUtf8(), QStringLiteral("--twin"));
        if (!patch)
            return finished(ctx.out.error(patch.error()));
        request = HubJob::twinUpdateRequest(id, condition, *patch, start, int(*maxTime));
    } else {
        const auto payload = jsonValueFrom(p.value(QStringLiteral("payload")).toUtf8(), QStringLiteral("--payload"));
        if (!payload)
            return finished(ctx.out.error(payload.error()));
        request = HubJob::directMethodRequest(id, condition, p.value(QStringLiteral("method")), *payload, int(*timeout),
            int(*connectTimeout), start, int(*maxTime));
    }
    const bool wait = p.isSet(QStringLiteral("wait"));
    return withHub(ctx, [&ctx, request, wait](HubClient &client, const HubProfile &) {
        return client.scheduleJob(request)
            .then(&client,
                [&ctx, &client, wait](Result<HubJob> job) -> QFuture<int> {
                    if (!job)
                        return finished(ctx.out.error(job.error()));
                    if (!wait) {
                        ctx.out.document(job->document);
                        ctx.out.text(
                            CliText::tr("Scheduled job %1 (%2); job show %1 follows it.").arg(job->id, job->status));
                        return finished(ExitOk);
                    }
                    if (!ctx.out.json())
                        std::fprintf(stderr, "%s\n",
                            qPrintable(CliText::tr("Scheduled job %1; following it (Ctrl+C stops the waiting, not "
                                                   "the job).")
                                           .arg(job->id)));
                    auto promise = std::make_shared<QPromise<int>>();
                    promise->start();
                    follow(ctx, client, job->id, promise, Following{});
                    return promise->future();
                })
            .unwrap();
    });
}

// The device records of a job, every page.
QFuture<Result<QList<DeviceJobRecord>>> deviceRecords(HubClient &client, const QString &id)
{
    return QueryPager(&client, HubJob::deviceRecordsQuery(id))
        .collect(std::numeric_limits<int>::max())
        .then(&client, [](Result<QueryPage> page) -> Result<QList<DeviceJobRecord>> {
            if (!page)
                return std::unexpected(page.error());
            QList<DeviceJobRecord> records;
            for (const auto &row : page->items)
                records.append(DeviceJobRecord::fromJson(row.toObject()));
            return records;
        });
}

void printRecords(const Output &out, const QList<DeviceJobRecord> &records)
{
    QList<QStringList> rows;
    for (const DeviceJobRecord &record : records) {
        QString result;
        if (record.methodAnswered)
            result = CliText::tr("answered %1: %2").arg(record.methodStatus).arg(compactJson(record.methodPayload));
        else if (!record.errorCode.isEmpty())
            result = record.errorCode + QStringLiteral(": ") + record.errorDescription;
        rows.append({record.deviceId, record.status, result});
    }
    out.text(formatTable({CliText::tr("DEVICE"), CliText::tr("STATUS"), CliText::tr("RESULT")}, rows));
}

QFuture<int> show(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Shows a job: its status and how many of its devices succeeded, failed, run or wait; with "
                             "--devices, what it did on each device."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The job's id."));
    p.addOption({QStringLiteral("devices"), CliText::tr("List each device with its status and result.")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString id = p.positional().at(0);
    if (auto ok = Identifiers::validateJobId(id); !ok)
        return finished(ctx.out.error(ok.error()));
    const bool devices = p.isSet(QStringLiteral("devices"));
    return withHub(ctx, [&ctx, id, devices](HubClient &client, const HubProfile &) {
        return client.job(id)
            .then(&client,
                [&ctx, &client, id, devices](Result<HubJob> job) -> QFuture<int> {
                    if (!job)
                        return finished(ctx.out.error(job.error()));
                    if (!devices) {
                        ctx.out.document(job->document);
                        printJob(ctx.out, *job);
                        return finished(ExitOk);
                    }
                    return deviceRecords(client, id)
                        .then(&client, [&ctx, job = *job](Result<QList<DeviceJobRecord>> records) {
                            if (!records)
                                return ctx.out.error(records.error());
                            QJsonArray list;
                            for (const DeviceJobRecord &record : *records)
                                list.append(record.document);
                            ctx.out.document(
                                QJsonObject{{QStringLiteral("job"), job.document}, {QStringLiteral("devices"), list}});
                            printJob(ctx.out, job);
                            ctx.out.text(QString());
                            printRecords(ctx.out, *records);
                            return int(ExitOk);
                        });
                })
            .unwrap();
    });
}

QFuture<int> list(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Lists the hub's jobs, newest first."));
    p.addOption({QStringLiteral("type"),
        CliText::tr("Only jobs of this type (scheduleUpdateTwin, scheduleDeviceMethod)."), CliText::tr("TYPE")});
    p.addOption({QStringLiteral("status"),
        CliText::tr("Only jobs in this status (queued, scheduled, running, completed, failed, cancelled)."),
        CliText::tr("STATUS")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    const QString type = p.value(QStringLiteral("type"));
    const QString status = p.value(QStringLiteral("status"));
    return withHub(ctx, [&ctx, type, status](HubClient &client, const HubProfile &) {
        // The hub pages the list; a page of 1000 holds the sandbox's and a typical hub's whole history.
        return client.jobs(type, status, 1000).then(&client, [&ctx](Result<HubJobPage> page) {
            if (!page)
                return ctx.out.error(page.error());
            QJsonArray json;
            QList<QStringList> rows;
            for (const HubJob &job : page->jobs) {
                json.append(job.document);
                rows.append({job.id, job.type, job.status, timeText(job.created),
                    CliText::tr("%1/%2").arg(job.statistics.done()).arg(job.statistics.deviceCount)});
            }
            ctx.out.document(json);
            if (!page->continuation.isEmpty() && !ctx.out.json())
                std::fprintf(stderr, "%s\n",
                    qPrintable(CliText::tr("The hub has more jobs than these %1, the newest.").arg(page->jobs.size())));
            ctx.out.text(formatTable({CliText::tr("JOB"), CliText::tr("TYPE"), CliText::tr("STATUS"),
                                         CliText::tr("CREATED"), CliText::tr("DONE")},
                rows));
            return int(ExitOk);
        });
    });
}

QFuture<int> cancel(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Cancels a job that has not ended: the devices it has not reached yet are left alone."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The job's id."));
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString id = p.positional().at(0);
    if (auto ok = Identifiers::validateJobId(id); !ok)
        return finished(ctx.out.error(ok.error()));
    return withHub(ctx, [&ctx, id](HubClient &client, const HubProfile &) {
        return client.cancelJob(id).then(&client, [&ctx](Result<HubJob> job) {
            if (!job)
                return ctx.out.error(job.error());
            ctx.out.document(job->document);
            ctx.out.text(job->status == QLatin1String("cancelled")
                    ? CliText::tr("Cancelled job %1: %2 of %3 devices were done.")
                          .arg(job->id)
                          .arg(job->statistics.done())
                          .arg(job->statistics.deviceCount)
                    : CliText::tr("The job %1 had ended already (%2).").arg(job->id, job->status));
            return int(ExitOk);
        });
    });
}

} // namespace

QList<Noun> jobNouns()
{
    return {
        Noun{QStringLiteral("job"),
            CliText::tr("The hub's jobs: a twin update or a direct method on many devices at once."),
            {
                {QStringLiteral("create"), CliText::tr("Schedule a twin update or a direct method."), create},
                {QStringLiteral("show"), CliText::tr("Show a job and, with --devices, each device's result."), show},
                {QStringLiteral("list"), CliText::tr("List the hub's jobs."), list},
                {QStringLiteral("cancel"), CliText::tr("Cancel a job."), cancel},
            }},
    };
}

} // namespace Onboarder::Cli
