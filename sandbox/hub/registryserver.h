#pragma once

#include "registry.h"
#include "restfrontdoor.h"

#include <QAbstractHttpServer>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QHttpServerResponder>

#include <functional>
#include <initializer_list>
#include <utility>
#include <variant>

namespace Onboarder::Sandbox {

// The IoT Hub service REST API of the sandbox (HTTPS): registry, twins, direct methods, statistics.
// Every call needs api-version and a SAS token of one of the hub's shared access policies with the
// right the call requires; errors have Azure's statuses, bodies and iothub-errorcode headers.
// Threads: the sandbox's main thread.
class CloudToDevice;
class Configurations;
class JobRunner;

class RegistryServer final : public QAbstractHttpServer
{
    Q_OBJECT

public:
    // Delivers a direct method to a connected device or module (deviceId: Device::key()); answers through the responder
    // when the device replies or the timeout passes. Not set: every device is offline for methods.
    using MethodInvoker
        = std::function<void(const QString &deviceId, const QJsonObject &request, QHttpServerResponder &&responder)>;

    RegistryServer(Registry &registry, const QString &hostName, QObject *parent = nullptr);

    void setThrottle(int requestsPerMinute); // 0: none
    void setMethodInvoker(MethodInvoker invoker) { m_invokeMethod = std::move(invoker); }
    void setCloudToDevice(CloudToDevice *queues) { m_cloudToDevice = queues; } // for DELETE /devices/{id}/commands
    void setJobRunner(JobRunner *jobs) { m_jobs = jobs; } // for /jobs/v2/…; not set: no jobs
    void setConfigurations(Configurations *store) { m_configurations = store; } // /configurations…; not set: none

    // Writes an Azure-style error response (legacy "ErrorCode:<Name>;<text>" body plus iothub-errorcode).
    static void writeError(QHttpServerResponder &responder, const QString &code, const QString &message);

    // The front door's gate (RestFrontDoor::Gate): a request without a valid SAS token gets its 401, and one
    // whose body is too large its 413, from the head alone.
    std::optional<RestFrontDoor::Refusal> judgeHead(const HttpRequestFraming::Head &head, bool tooLarge) const;

Q_SIGNALS:
    // deviceId: Device::key(), a device's id or a module's {deviceId}/{moduleId}.
    void desiredPropertiesChanged(const QString &deviceId, const QJsonObject &patch, qint64 version);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    struct Caller
    {
        QStringList rights;
    };

    std::optional<Caller> authorize(const QHttpServerRequest &request, QHttpServerResponder &responder) const;
    // The caller a request's Authorization header (a SAS token of a policy) makes, or why there is none.
    std::variant<Caller, QString> authorizeHeader(const QByteArray &authorization) const;
    // Token bucket: up to N requests at once, refilled at N per minute. Returns 0 when the request may
    // pass, else the whole seconds until it would.
    int throttleDelay();
    void route(const QHttpServerRequest &request, const QStringList &path, QHttpServerResponder &responder,
        const Caller &caller);

    // /devices/{id}/modules[/{moduleId}]: list, PUT, GET, DELETE.
    void routeModule(const QHttpServerRequest &request, const QStringList &path, QHttpServerResponder &responder,
        const std::function<bool(std::initializer_list<const char *>)> &allowed);
    // /jobs/v2/{id}[/cancel] and /jobs/v2/query.
    void routeJob(const QHttpServerRequest &request, const QStringList &path, QHttpServerResponder &responder,
        const std::function<bool(std::initializer_list<const char *>)> &allowed);
    // /configurations[/{id}].
    void routeConfiguration(const QHttpServerRequest &request, const QStringList &path, QHttpServerResponder &responder,
        const std::function<bool(std::initializer_list<const char *>)> &allowed);
    // SELECT * FROM devices.jobs [WHERE devices.jobs.jobId = '…']: true when the query is one (and was answered).
    bool queryDeviceJobs(const QString &text, const QHttpServerRequest &request, QHttpServerResponder &responder);
    void putDevice(const QHttpServerRequest &request, const QString &id, QHttpServerResponder &responder);
    void bulk(const QHttpServerRequest &request, QHttpServerResponder &responder);
    void queryDevices(const QHttpServerRequest &request, QHttpServerResponder &responder);
    void updateTwin(
        const QHttpServerRequest &request, const QString &id, bool replace, QHttpServerResponder &responder);
    void invokeMethod(const QHttpServerRequest &request, const QString &id, QHttpServerResponder &responder);

    Registry &m_registry;
    QString m_hostName;
    int m_throttlePerMinute = 0;
    QElapsedTimer m_throttleClock;
    double m_throttleTokens = 0;
    qint64 m_throttleLastMs = 0;
    MethodInvoker m_invokeMethod;
    CloudToDevice *m_cloudToDevice = nullptr;
    JobRunner *m_jobs = nullptr;
    Configurations *m_configurations = nullptr;
};

} // namespace Onboarder::Sandbox
