#pragma once

#include "common/result.h"

#include <QDateTime>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

namespace Onboarder::Sandbox {

class Registry;

// IoT Hub's jobs (v2) as the sandbox runs them: a twin update or a direct method scheduled on the devices a query
// condition selects, at a start time, within a maximum execution time; cancellable; with the hub's per-job device
// statistics and, for each device, a device job record (what `SELECT * FROM devices.jobs` answers).
//
// A job's devices are chosen when it starts. A twin update merges the job's tags and desired properties into each
// device's twin as PATCH /twins/{id} does; a direct method is called on each device that is connected (or that
// connects within the method's connectTimeoutInSeconds), up to 16 at once. A device whose method times out or that
// never connects fails; a device that answers succeeds whatever status it answers with (the job record keeps it).
// A job that runs past its maxExecutionTimeInSeconds fails, and the devices it did not reach with it.
//
// Jobs live in memory: the sandbox forgets them when it restarts (IoT Hub keeps them 30 days).
// Threads: the sandbox's main thread.
class JobRunner final : public QObject
{
    Q_OBJECT

public:
    // A direct method call to a connected device (the mediator's): done gets {"status", "payload"} or the hub's error.
    using MethodCall = std::function<void(
        const QString &deviceId, const QJsonObject &request, std::function<void(Result<QJsonObject>)> done)>;

    explicit JobRunner(Registry &registry, QObject *parent = nullptr);
    ~JobRunner() override;

    void setMethodCall(MethodCall call) { m_callMethod = std::move(call); }

    // PUT /jobs/v2/{id}: the job as the hub answers it (status queued or scheduled), or ArgumentInvalid,
    // JobAlreadyExists, IotHubQuerySyntaxError … for a request the hub would refuse.
    Result<QJsonObject> schedule(const QString &id, const QJsonObject &request);
    Result<QJsonObject> job(const QString &id) const; // JobNotFound
    // POST /jobs/v2/{id}/cancel: a job that has not ended ends as cancelled; its devices not yet reached are
    // cancelled. An ended job is answered as it is.
    Result<QJsonObject> cancel(const QString &id);
    // GET /jobs/v2/query: newest first, filtered by type and status when given (empty: any).
    QList<QJsonObject> jobs(const QString &type, const QString &status) const;
    // Device job records, of one job or (nullopt) of every job, by job then device.
    QJsonArray deviceJobs(const std::optional<QString> &jobId) const;

Q_SIGNALS:
    // A job changed a device's desired properties (as RegistryServer's signal of the same name).
    void desiredPropertiesChanged(const QString &deviceId, const QJsonObject &patch, qint64 version);

private:
    struct Job;

    void start(const QString &id);
    void pump(const QString &id);
    void runTwinUpdate(Job &job, int index);
    void runMethod(const QString &jobId, int index);
    void finishDevice(Job &job, int index, const QString &status, const QJsonObject &outcome, const QJsonObject &error);
    void endIfDone(Job &job);
    // Ends a job; the devices it did not finish are cancelled (status cancelled) or fail with errorCode.
    void end(Job &job, const QString &status, const QString &failureReason = {}, const QString &errorCode = {});
    QJsonObject toJson(const Job &job) const;

    Registry &m_registry;
    MethodCall m_callMethod;
    QHash<QString, std::shared_ptr<Job>> m_jobs;
    QStringList m_order; // job ids, oldest first
};

} // namespace Onboarder::Sandbox
