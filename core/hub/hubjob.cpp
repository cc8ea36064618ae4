#include "hubjob.h"

#include "hub/identityauth.h"

namespace Onboarder {

namespace {

QJsonValue startValue(const QDateTime &start)
{
    return start.isValid() ? QJsonValue(start.toUTC().toString(Qt::ISODateWithMs)) : QJsonValue(QJsonValue::Null);
}

} // namespace

HubJob HubJob::fromJson(const QJsonObject &json)
{
    HubJob job;
    job.id = json.value(QStringLiteral("jobId")).toString();
    job.type = json.value(QStringLiteral("type")).toString();
    job.status = json.value(QStringLiteral("status")).toString();
    job.queryCondition = json.value(QStringLiteral("queryCondition")).toString();
    job.methodName
        = json.value(QStringLiteral("cloudToDeviceMethod")).toObject().value(QStringLiteral("methodName")).toString();
    job.created = IdentityAuth::parseTime(json.value(QStringLiteral("createdTime")).toString());
    job.start = IdentityAuth::parseTime(json.value(QStringLiteral("startTime")).toString());
    job.end = IdentityAuth::parseTime(json.value(QStringLiteral("endTime")).toString());
    job.maxExecutionSeconds = json.value(QStringLiteral("maxExecutionTimeInSeconds")).toInt();
    job.failureReason = json.value(QStringLiteral("failureReason")).toString();
    const QJsonObject stats = json.value(QStringLiteral("deviceJobStatistics")).toObject();
    job.statistics.deviceCount = stats.value(QStringLiteral("deviceCount")).toInt();
    job.statistics.succeeded = stats.value(QStringLiteral("succeededCount")).toInt();
    job.statistics.failed = stats.value(QStringLiteral("failedCount")).toInt();
    job.statistics.running = stats.value(QStringLiteral("runningCount")).toInt();
    job.statistics.pending = stats.value(QStringLiteral("pendingCount")).toInt();
    job.document = json;
    return job;
}

bool HubJob::finished() const
{
    return status == QLatin1String("completed") || status == QLatin1String("failed")
        || status == QLatin1String("cancelled");
}

QJsonObject HubJob::twinUpdateRequest(const QString &id, const QString &queryCondition, const QJsonObject &patch,
    const QDateTime &start, int maxExecutionSeconds)
{
    return {{QStringLiteral("jobId"), id}, {QStringLiteral("type"), QLatin1String(twinUpdateType)},
        {QStringLiteral("queryCondition"), queryCondition}, {QStringLiteral("updateTwin"), patch},
        {QStringLiteral("startTime"), startValue(start)},
        {QStringLiteral("maxExecutionTimeInSeconds"), maxExecutionSeconds}};
}

QJsonObject HubJob::directMethodRequest(const QString &id, const QString &queryCondition, const QString &methodName,
    const QJsonValue &payload, int responseTimeoutSeconds, int connectTimeoutSeconds, const QDateTime &start,
    int maxExecutionSeconds)
{
    const QJsonObject method{{QStringLiteral("methodName"), methodName},
        {QStringLiteral("payload"), payload.isUndefined() ? QJsonValue(QJsonValue::Null) : payload},
        {QStringLiteral("responseTimeoutInSeconds"), responseTimeoutSeconds},
        {QStringLiteral("connectTimeoutInSeconds"), connectTimeoutSeconds}};
    return {{QStringLiteral("jobId"), id}, {QStringLiteral("type"), QLatin1String(directMethodType)},
        {QStringLiteral("queryCondition"), queryCondition}, {QStringLiteral("cloudToDeviceMethod"), method},
        {QStringLiteral("startTime"), startValue(start)},
        {QStringLiteral("maxExecutionTimeInSeconds"), maxExecutionSeconds}};
}

QString HubJob::deviceRecordsQuery(const QString &jobId)
{
    return QStringLiteral("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '%1'").arg(jobId);
}

DeviceJobRecord DeviceJobRecord::fromJson(const QJsonObject &json)
{
    DeviceJobRecord record;
    record.deviceId = json.value(QStringLiteral("deviceId")).toString();
    record.status = json.value(QStringLiteral("status")).toString();
    const QJsonObject error = json.value(QStringLiteral("error")).toObject();
    record.errorCode = error.value(QStringLiteral("code")).toString();
    record.errorDescription = error.value(QStringLiteral("description")).toString();
    const QJsonObject response
        = json.value(QStringLiteral("outcome")).toObject().value(QStringLiteral("deviceMethodResponse")).toObject();
    record.methodAnswered = response.contains(QLatin1String("status"));
    record.methodStatus = response.value(QStringLiteral("status")).toInt();
    record.methodPayload = response.value(QStringLiteral("payload"));
    record.document = json;
    return record;
}

} // namespace Onboarder
