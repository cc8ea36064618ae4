#pragma once

#include "common/result.h"

#include <QDateTime>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>

namespace Onboarder {

// How far a job has come over its devices, in the hub's counts.
struct HubJobStatistics
{
    int deviceCount = 0;
    int succeeded = 0;
    int failed = 0;
    int running = 0;
    int pending = 0;

    int done() const { return succeeded + failed; }
};

// A job of IoT Hub (the jobs v2 service API): a twin update or a direct method the hub runs on the devices a query
// condition selects, from a start time, for at most maxExecutionSeconds. What HubClient's job calls give and take;
// the only place that reads or writes a job's JSON.
struct HubJob
{
    static constexpr const char *twinUpdateType = "scheduleUpdateTwin";
    static constexpr const char *directMethodType = "scheduleDeviceMethod";

    QString id;
    QString type; // the hub's word: scheduleUpdateTwin, scheduleDeviceMethod, …
    QString status; // queued, scheduled, running, completed, failed, cancelled, …
    QString queryCondition;
    QString methodName; // a direct method job's
    QDateTime created;
    QDateTime start;
    QDateTime end; // invalid: not ended
    int maxExecutionSeconds = 0;
    QString failureReason;
    HubJobStatistics statistics;
    QJsonObject document; // as the hub answered: what onboarder-cli prints with --json

    static HubJob fromJson(const QJsonObject &json);
    bool finished() const; // completed, failed or cancelled: it will not change again

    // The requests that create a job (PUT /jobs/v2/{id}). start invalid: now. patch: a twin patch in the hub's shape
    // ({"tags": …, "properties": {"desired": …}}).
    static QJsonObject twinUpdateRequest(const QString &id, const QString &queryCondition, const QJsonObject &patch,
        const QDateTime &start, int maxExecutionSeconds);
    static QJsonObject directMethodRequest(const QString &id, const QString &queryCondition, const QString &methodName,
        const QJsonValue &payload, int responseTimeoutSeconds, int connectTimeoutSeconds, const QDateTime &start,
        int maxExecutionSeconds);

    // The device query that lists a job's device records (DeviceJobRecord); the id must have passed
    // Identifiers::validateJobId.
    static QString deviceRecordsQuery(const QString &jobId);
};

// What a job did on one device (a row of SELECT * FROM devices.jobs).
struct DeviceJobRecord
{
    QString deviceId;
    QString status; // pending, scheduled, running, completed, failed, cancelled
    QString errorCode; // failed: the hub's reason (DeviceNotOnline, GatewayTimeout, …)
    QString errorDescription;
    bool methodAnswered = false; // a direct method job's device answered: methodStatus and methodPayload are its
    int methodStatus = 0;
    QJsonValue methodPayload;
    QJsonObject document; // as the hub answered

    static DeviceJobRecord fromJson(const QJsonObject &json);
};

struct HubJobPage
{
    QList<HubJob> jobs;
    QString continuation; // empty: no more pages
};

} // namespace Onboarder
