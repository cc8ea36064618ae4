#include "jobrunner.h"

#include "devicequery.h"
#include "registry.h"

#include <QPointer>
#include <QTimer>

#include <algorithm>
#include <limits>

namespace Onboarder::Sandbox {

namespace {

const QString twinType = QStringLiteral("scheduleUpdateTwin");
const QString methodType = QStringLiteral("scheduleDeviceMethod");
constexpr int methodsAtOnce = 16;
constexpr int twinsPerPass = 100; // between passes the event loop serves everyone else
constexpr int defaultMaxExecutionSeconds = 3600;

QString timeText(const QDateTime &time)
{
    return time.toUTC().toString(Qt::ISODateWithMs);
}

bool isFinal(const QString &status)
{
    return status == QLatin1String("completed") || status == QLatin1String("failed")
        || status == QLatin1String("cancelled");
}

std::unexpected<Error> invalid(const QString &message)
{
    return std::unexpected(azureError(QStringLiteral("ArgumentInvalid"), message));
}

// An integer member in [low, high], fallback when absent or null.
Result<int> boundedSeconds(const QJsonObject &object, const QString &name, int fallback, int low, int high)
{
    const QJsonValue value = jsonMember(object, name);
    if (value.isUndefined() || value.isNull())
        return fallback;
    if (!value.isDouble() || value.toDouble() != double(value.toInteger()) || value.toInteger() < low
        || value.toInteger() > high)
        return invalid(
            QStringLiteral("%1 must be a whole number of seconds from %2 to %3.").arg(name).arg(low).arg(high));
    return int(value.toInteger());
}

} // namespace

struct JobRunner::Job
{
    struct DeviceRun
    {
        QString deviceId;
        QString status = QStringLiteral("pending"); // pending, running, completed, failed, cancelled
        QDateTime started{};
        QDateTime ended{};
        QJsonObject outcome{}; // {"deviceMethodResponse": {"status", "payload"}}
        QJsonObject error{}; // {"code", "description"}
    };

    QString id;
    QString type;
    QString queryCondition;
    QJsonObject twinPatch; // {"tags", "properties": {"desired"}}, as PATCH /twins/{id} takes it
    QJsonObject updateTwin; // as the request gave it, for the job's own JSON
    QJsonObject method; // cloudToDeviceMethod: methodName, payload, responseTimeoutInSeconds, connectTimeoutInSeconds
    QDateTime created;
    QDateTime startTime;
    QDateTime ended;
    int maxExecutionSeconds = defaultMaxExecutionSeconds;
    QString status; // scheduled, queued, running, completed, failed, cancelled
    QString failureReason;
    QList<DeviceRun> devices;
    qsizetype next = 0; // the first device not yet begun
    int running = 0; // method calls in flight
    qsizetype finished = 0;
    QTimer startTimer;
    QTimer deadline;
};

JobRunner::JobRunner(Registry &registry, QObject *parent)
    : QObject(parent)
    , m_registry(registry)
{ }

JobRunner::~JobRunner() = default;

Result<QJsonObject> JobRunner::schedule(const QString &id, const QJsonObject &request)
{
    if (id.isEmpty())
        return invalid(QStringLiteral("A job needs an id."));
    if (m_jobs.contains(id))
        return std::unexpected(azureError(
            QStringLiteral("JobAlreadyExists"), QStringLiteral("A job with id '%1' exists already.").arg(id)));
    if (const QString named = jsonMember(request, QStringLiteral("jobId")).toString(); !named.isEmpty() && named != id)
        return invalid(QStringLiteral("The body's jobId '%1' is not the path's '%2'.").arg(named, id));

    auto job = std::make_shared<Job>();
    job->id = id;
    const QString type = jsonMember(request, QStringLiteral("type")).toString();
    if (type.compare(twinType, Qt::CaseInsensitive) == 0)
        job->type = twinType;
    else if (type.compare(methodType, Qt::CaseInsensitive) == 0)
        job->type = methodType;
    else
        return invalid(
            QStringLiteral("The sandbox runs jobs of type scheduleUpdateTwin and scheduleDeviceMethod, not '%1'.")
                .arg(type));

    job->queryCondition = jsonMember(request, QStringLiteral("queryCondition")).toString().trimmed();
    if (job->queryCondition.isEmpty())
        return invalid(QStringLiteral("A job needs a queryCondition (a WHERE clause on the devices' twins)."));
    if (const auto query
        = DeviceQuery::parse(QStringLiteral("SELECT deviceId FROM devices WHERE ") + job->queryCondition);
        !query)
        return invalid(QStringLiteral("The queryCondition is not a valid condition: %1").arg(query.error().message));

    if (job->type == twinType) {
        job->updateTwin = jsonMember(request, QStringLiteral("updateTwin")).toObject();
        const QJsonObject tags = jsonMember(job->updateTwin, QStringLiteral("tags")).toObject();
        const QJsonObject properties = jsonMember(job->updateTwin, QStringLiteral("properties")).toObject();
        if (!jsonMember(properties, QStringLiteral("reported")).isUndefined())
            return invalid(QStringLiteral("A job cannot change reported properties: only the device writes them."));
        const QJsonObject desired = jsonMember(properties, QStringLiteral("desired")).toObject();
        if (tags.isEmpty() && desired.isEmpty())
            return invalid(QStringLiteral("A twin update job needs updateTwin with tags or properties.desired."));
        if (!tags.isEmpty())
            job->twinPatch.insert(QStringLiteral("tags"), tags);
        if (!desired.isEmpty())
            job->twinPatch.insert(QStringLiteral("properties"), QJsonObject{{QStringLiteral("desired"), desired}});
    } else {
        const QJsonObject method = jsonMember(request, QStringLiteral("cloudToDeviceMethod")).toObject();
        const QString name = jsonMember(method, QStringLiteral("methodName")).toString();
        if (name.isEmpty())
            return invalid(QStringLiteral("A direct method job needs cloudToDeviceMethod with a methodName."));
        const auto response = boundedSeconds(method, QStringLiteral("responseTimeoutInSeconds"), 30, 5, 300);
        if (!response)
            return std::unexpected(response.error());
        const auto connect = boundedSeconds(method, QStringLiteral("connectTimeoutInSeconds"), 0, 0, 300);
        if (!connect)
            return std::unexpected(connect.error());
        job->method = QJsonObject{{QStringLiteral("methodName"), name},
            {QStringLiteral("payload"), jsonMember(method, QStringLiteral("payload"))},
            {QStringLiteral("responseTimeoutInSeconds"), *response},
            {QStringLiteral("connectTimeoutInSeconds"), *connect}};
    }

    const auto maxSeconds
        = boundedSeconds(request, QStringLiteral("maxExecutionTimeInSeconds"), defaultMaxExecutionSeconds, 1, 172800);
    if (!maxSeconds)
        return std::unexpected(maxSeconds.error());
    job->maxExecutionSeconds = *maxSeconds;

    job->created = QDateTime::currentDateTimeUtc();
    job->startTime = job->created;
    const QJsonValue startTime = jsonMember(request, QStringLiteral("startTime"));
    if (startTime.isString()) {
        job->startTime = QDateTime::fromString(startTime.toString(), Qt::ISODateWithMs);
        if (!job->startTime.isValid())
            return invalid(QStringLiteral("startTime '%1' is not an ISO 8601 time.").arg(startTime.toString()));
    } else if (!startTime.isUndefined() && !startTime.isNull()) {
        return invalid(QStringLiteral("startTime must be an ISO 8601 time."));
    }
    const qint64 wait = std::max<qint64>(0, job->created.msecsTo(job->startTime));
    job->status = wait > 0 ? QStringLiteral("scheduled") : QStringLiteral("queued");

    job->startTimer.setSingleShot(true);
    connect(&job->startTimer, &QTimer::timeout, this, [this, id] { start(id); });
    job->startTimer.start(int(std::min<qint64>(wait, std::numeric_limits<int>::max())));
    job->deadline.setSingleShot(true);
    connect(&job->deadline, &QTimer::timeout, this, [this, id] {
        if (const auto job = m_jobs.value(id))
            end(*job, QStringLiteral("failed"),
                QStringLiteral("The job ran longer than its maxExecutionTimeInSeconds (%1).")
                    .arg(job->maxExecutionSeconds),
                QStringLiteral("JobTimedOut"));
    });
    m_jobs.insert(id, job);
    m_order.append(id);
    return toJson(*job);
}

Result<QJsonObject> JobRunner::job(const QString &id) const
{
    const auto job = m_jobs.value(id);
    if (!job)
        return std::unexpected(
            azureError(QStringLiteral("JobNotFound"), QStringLiteral("The hub has no job '%1'.").arg(id)));
    return toJson(*job);
}

Result<QJsonObject> JobRunner::cancel(const QString &id)
{
    const auto job = m_jobs.value(id);
    if (!job)
        return std::unexpected(
            azureError(QStringLiteral("JobNotFound"), QStringLiteral("The hub has no job '%1'.").arg(id)));
    if (!isFinal(job->status))
        end(*job, QStringLiteral("cancelled"));
    return toJson(*job);
}

QList<QJsonObject> JobRunner::jobs(const QString &type, const QString &status) const
{
    QList<QJsonObject> list;
    for (auto it = m_order.crbegin(); it != m_order.crend(); ++it) {
        const auto job = m_jobs.value(*it);
        if ((type.isEmpty() || job->type.compare(type, Qt::CaseInsensitive) == 0)
            && (status.isEmpty() || job->status.compare(status, Qt::CaseInsensitive) == 0))
            list.append(toJson(*job));
    }
    return list;
}

QJsonArray JobRunner::deviceJobs(const std::optional<QString> &jobId) const
{
    QJsonArray records;
    for (const QString &id : m_order) {
        if (jobId && id != *jobId)
            continue;
        const auto job = m_jobs.value(id);
        for (const Job::DeviceRun &run : std::as_const(job->devices)) {
            QJsonObject record{{QStringLiteral("deviceId"), run.deviceId}, {QStringLiteral("jobId"), job->id},
                {QStringLiteral("jobType"), job->type}, {QStringLiteral("status"), run.status},
                {QStringLiteral("createdDateTimeUtc"), timeText(job->created)},
                {QStringLiteral("lastUpdatedDateTimeUtc"),
                    timeText(run.ended.isValid()    ? run.ended
                            : run.started.isValid() ? run.started
                                                    : job->created)}};
            if (run.started.isValid())
                record.insert(QStringLiteral("startTimeUtc"), timeText(run.started));
            if (run.ended.isValid())
                record.insert(QStringLiteral("endTimeUtc"), timeText(run.ended));
            if (!run.outcome.isEmpty())
                record.insert(QStringLiteral("outcome"), run.outcome);
            if (!run.error.isEmpty())
                record.insert(QStringLiteral("error"), run.error);
            records.append(record);
        }
    }
    return records;
}

void JobRunner::start(const QString &id)
{
    const auto job = m_jobs.value(id);
    if (!job || isFinal(job->status))
        return;
    // A start further ahead than a timer reaches (about 24 days) is waited for in steps.
    if (const qint64 wait = QDateTime::currentDateTimeUtc().msecsTo(job->startTime); wait > 0) {
        job->startTimer.start(int(std::min<qint64>(wait, std::numeric_limits<int>::max())));
        return;
    }
    // The devices are those the condition selects now, in device id order.
    const auto query = DeviceQuery::parse(QStringLiteral("SELECT deviceId FROM devices WHERE ") + job->queryCondition);
    QString continuation;
    do {
        const auto page
            = query ? m_registry.query(*query, 1000, continuation) : Result<QueryPage>(std::unexpected(query.error()));
        if (!page)
            return end(*job, QStringLiteral("failed"),
                QStringLiteral("The devices of the job could not be found: %1").arg(page.error().message),
                page.error().code);
        for (const auto &row : page->items)
            job->devices.append(Job::DeviceRun{row.toObject().value(QStringLiteral("deviceId")).toString()});
        continuation = page->continuation;
    } while (!continuation.isEmpty());
    job->status = QStringLiteral("running");
    job->deadline.start(job->maxExecutionSeconds * 1000);
    pump(id);
}

void JobRunner::pump(const QString &id)
{
    const auto job = m_jobs.value(id);
    if (!job || job->status != QLatin1String("running"))
        return;
    if (job->type == twinType) {
        for (int done = 0; done < twinsPerPass && job->next < job->devices.size(); ++done)
            runTwinUpdate(*job, int(job->next++));
        if (job->next < job->devices.size())
            QTimer::singleShot(0, this, [this, id] { pump(id); });
    } else {
        while (
            job->status == QLatin1String("running") && job->running < methodsAtOnce && job->next < job->devices.size())
            runMethod(id, int(job->next++));
    }
    endIfDone(*job);
}

void JobRunner::runTwinUpdate(Job &job, int index)
{
    Job::DeviceRun &run = job.devices[index];
    run.status = QStringLiteral("running");
    run.started = QDateTime::currentDateTimeUtc();
    const auto before = m_registry.device(run.deviceId);
    const auto updated = before ? m_registry.updateTwin(run.deviceId, job.twinPatch, QString(), false)
                                : Result<Device>(std::unexpected(before.error()));
    if (!updated)
        return finishDevice(job, index, QStringLiteral("failed"), {},
            {{QStringLiteral("code"), updated.error().code}, {QStringLiteral("description"), updated.error().message}});
    finishDevice(job, index, QStringLiteral("completed"), {}, {});
    if (updated->desiredVersion != before->desiredVersion) {
        QJsonObject patch
            = job.twinPatch.value(QStringLiteral("properties")).toObject().value(QStringLiteral("desired")).toObject();
        patch.remove(QStringLiteral("$metadata"));
        patch.remove(QStringLiteral("$version"));
        Q_EMIT desiredPropertiesChanged(run.deviceId, patch, updated->desiredVersion);
    }
}

void JobRunner::runMethod(const QString &jobId, int index)
{
    const auto job = m_jobs.value(jobId);
    if (!job || job->status != QLatin1String("running"))
        return;
    Job::DeviceRun &run = job->devices[index];
    if (run.status == QLatin1String("pending")) {
        run.status = QStringLiteral("running");
        run.started = QDateTime::currentDateTimeUtc();
        ++job->running;
    }
    const auto device = m_registry.device(run.deviceId);
    if (!device)
        return finishDevice(*job, index, QStringLiteral("failed"), {},
            {{QStringLiteral("code"), device.error().code}, {QStringLiteral("description"), device.error().message}});
    if (device->connectionState != QLatin1String("Connected") || !m_callMethod) {
        const int connectTimeout = job->method.value(QStringLiteral("connectTimeoutInSeconds")).toInt();
        if (m_callMethod && run.started.msecsTo(QDateTime::currentDateTimeUtc()) < qint64(connectTimeout) * 1000) {
            // IoT Hub waits connectTimeoutInSeconds for the device to connect: look again in a second.
            QTimer::singleShot(1000, this, [this, jobId, index] {
                runMethod(jobId, index);
                pump(jobId);
            });
            return;
        }
        return finishDevice(*job, index, QStringLiteral("failed"), {},
            {{QStringLiteral("code"), QStringLiteral("DeviceNotOnline")},
                {QStringLiteral("description"), QStringLiteral("The device is not connected.")}});
    }
    QJsonObject request = job->method;
    request.remove(QStringLiteral("connectTimeoutInSeconds"));
    m_callMethod(device->key(), request, [self = QPointer<JobRunner>(this), jobId, index](Result<QJsonObject> answer) {
        if (!self)
            return;
        const auto job = self->m_jobs.value(jobId);
        if (!job)
            return;
        if (answer)
            self->finishDevice(
                *job, index, QStringLiteral("completed"), {{QStringLiteral("deviceMethodResponse"), *answer}}, {});
        else
            self->finishDevice(*job, index, QStringLiteral("failed"), {},
                {{QStringLiteral("code"), answer.error().code},
                    {QStringLiteral("description"), answer.error().message}});
        self->pump(jobId);
    });
}

void JobRunner::finishDevice(
    Job &job, int index, const QString &status, const QJsonObject &outcome, const QJsonObject &error)
{
    Job::DeviceRun &run = job.devices[index];
    if (isFinal(run.status))
        return; // the job ended (cancelled, or past its time) while this device's call was out
    if (run.status == QLatin1String("running") && job.type == methodType)
        --job.running;
    run.status = status;
    run.ended = QDateTime::currentDateTimeUtc();
    run.outcome = outcome;
    run.error = error;
    ++job.finished;
}

void JobRunner::endIfDone(Job &job)
{
    if (job.status == QLatin1String("running") && job.finished == job.devices.size())
        end(job, QStringLiteral("completed"));
}

void JobRunner::end(Job &job, const QString &status, const QString &failureReason, const QString &errorCode)
{
    job.startTimer.stop();
    job.deadline.stop();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (Job::DeviceRun &run : job.devices) {
        if (isFinal(run.status))
            continue;
        if (status == QLatin1String("cancelled")) {
            run.status = QStringLiteral("cancelled");
        } else {
            run.status = QStringLiteral("failed");
            run.error = {{QStringLiteral("code"), errorCode}, {QStringLiteral("description"), failureReason}};
        }
        run.ended = now;
    }
    job.running = 0;
    job.status = status;
    job.failureReason = failureReason;
    job.ended = now;
}

QJsonObject JobRunner::toJson(const Job &job) const
{
    int succeeded = 0;
    int failed = 0;
    int running = 0;
    int pending = 0;
    for (const Job::DeviceRun &run : job.devices) {
        if (run.status == QLatin1String("completed"))
            ++succeeded;
        else if (run.status == QLatin1String("failed"))
            ++failed;
        else if (run.status == QLatin1String("running"))
            ++running;
        else if (run.status == QLatin1String("pending"))
            ++pending;
    }
    QJsonObject json{{QStringLiteral("jobId"), job.id}, {QStringLiteral("type"), job.type},
        {QStringLiteral("queryCondition"), job.queryCondition}, {QStringLiteral("status"), job.status},
        {QStringLiteral("createdTime"), timeText(job.created)}, {QStringLiteral("startTime"), timeText(job.startTime)},
        {QStringLiteral("maxExecutionTimeInSeconds"), job.maxExecutionSeconds},
        {QStringLiteral("deviceJobStatistics"),
            QJsonObject{{QStringLiteral("deviceCount"), int(job.devices.size())},
                {QStringLiteral("succeededCount"), succeeded}, {QStringLiteral("failedCount"), failed},
                {QStringLiteral("runningCount"), running}, {QStringLiteral("pendingCount"), pending}}}};
    if (job.ended.isValid())
        json.insert(QStringLiteral("endTime"), timeText(job.ended));
    if (!job.failureReason.isEmpty())
        json.insert(QStringLiteral("failureReason"), job.failureReason);
    if (job.type == twinType)
        json.insert(QStringLiteral("updateTwin"), job.updateTwin);
    else
        json.insert(QStringLiteral("cloudToDeviceMethod"), job.method);
    return json;
}

} // namespace Onboarder::Sandbox
