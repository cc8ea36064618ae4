#include "registryserver.h"

#include "cloudtodevice.h"
#include "configurations.h"
#include "devicequery.h"
#include "hub/sastoken.h"
#include "jobrunner.h"

#include <QHttpServerRequest>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QUrl>
#include <QUrlQuery>

#include <cmath>

namespace Onboarder::Sandbox {

namespace {

using Status = QHttpServerResponder::StatusCode;

const QByteArray jsonType = QByteArrayLiteral("application/json; charset=utf-8");

struct AzureCode
{
    Status status;
    int number;
};

AzureCode codeInfo(const QString &code)
{
    static const QHash<QString, AzureCode> table{
        {QStringLiteral("InvalidProtocolVersion"), {Status::BadRequest, 400001}},
        {QStringLiteral("ArgumentInvalid"), {Status::BadRequest, 400004}},
        {QStringLiteral("ArgumentNull"), {Status::BadRequest, 400005}},
        {QStringLiteral("IotHubFormatError"), {Status::BadRequest, 400006}},
        {QStringLiteral("DeviceDefinedMultipleTimes"), {Status::BadRequest, 400011}},
        {QStringLiteral("BulkRegistryOperationFailure"), {Status::BadRequest, 400013}},
        {QStringLiteral("IotHubUnauthorizedAccess"), {Status::Unauthorized, 401002}},
        {QStringLiteral("DeviceNotFound"), {Status::NotFound, 404001}},
        {QStringLiteral("JobNotFound"), {Status::NotFound, 404002}},
        // The sandbox's names for these two; IoT Hub's numbers for them are not published.
        {QStringLiteral("ConfigurationNotFound"), {Status::NotFound, 404000}},
        {QStringLiteral("ConfigurationAlreadyExists"), {Status::Conflict, 409000}},
        {QStringLiteral("ModuleNotFound"), {Status::NotFound, 404010}},
        {QStringLiteral("DeviceNotOnline"), {Status::NotFound, 404103}},
        {QStringLiteral("DeviceAlreadyExists"), {Status::Conflict, 409001}},
        {QStringLiteral("JobAlreadyExists"), {Status::Conflict, 409007}},
        {QStringLiteral("ModuleAlreadyExistsOnDevice"), {Status::Conflict, 409301}},
        {QStringLiteral("PreconditionFailed"), {Status::PreconditionFailed, 412001}},
        {QStringLiteral("MessageTooLarge"), {Status::PayloadTooLarge, 413001}},
        {QStringLiteral("RequestEntityTooLarge"), {Status::PayloadTooLarge, 413002}},
        {QStringLiteral("ThrottlingException"), {Status::TooManyRequests, 429001}},
        {QStringLiteral("ServerError"), {Status::InternalServerError, 500001}},
        {QStringLiteral("GatewayTimeout"), {Status::GatewayTimeout, 504101}},
    };
    return table.value(code, {Status::InternalServerError, 500001});
}

QString trackingId()
{
    QByteArray bytes(16, Qt::Uninitialized);
    QRandomGenerator::global()->fillRange(reinterpret_cast<quint32 *>(bytes.data()), 4);
    return QString::fromLatin1(bytes.toHex()) + QStringLiteral("-G:0-TimeStamp:")
        + QDateTime::currentDateTimeUtc().toString(QStringLiteral("MM/dd/yyyy HH:mm:ss"));
}

using Headers = QList<std::pair<QByteArray, QByteArray>>;

void writeJson(
    QHttpServerResponder &responder, const QJsonValue &value, Status status = Status::Ok, const Headers &extra = {})
{
    const QByteArray body = value.isArray() ? QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact)
                                            : QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
    responder.writeStatusLine(status);
    responder.writeHeader("Content-Type", jsonType);
    responder.writeHeader("Content-Length", QByteArray::number(body.size()));
    for (const auto &[name, headerValue] : extra)
        responder.writeHeader(name, headerValue);
    responder.writeBody(body);
}

// The page size a list or query request asks for (x-ms-max-item-count): 100 by default, at most 1000.
int pageSizeOf(const QHttpServerRequest &request)
{
    bool ok = false;
    const int asked = request.value("x-ms-max-item-count").toInt(&ok);
    return ok && asked > 0 ? std::min(asked, 1000) : 100;
}

QByteArray quotedEtag(const QString &etag)
{
    return '"' + etag.toLatin1() + '"';
}

// JSON member names and enum values are matched case-insensitively by the hub (SDKs differ in casing).
const auto member = jsonMember;

const QStringList knownApiVersions{QStringLiteral("2018-06-30"), QStringLiteral("2019-03-30"),
    QStringLiteral("2020-03-13"), QStringLiteral("2020-05-31-preview"), QStringLiteral("2020-06-30"),
    QStringLiteral("2020-09-30"), QStringLiteral("2021-04-12"), QStringLiteral("2021-06-30"),
    QStringLiteral("2021-07-02"), QStringLiteral("2023-06-30"), QStringLiteral("2024-03-31")};

} // namespace

RegistryServer::RegistryServer(Registry &registry, const QString &hostName, QObject *parent)
    : QAbstractHttpServer(parent)
    , m_registry(registry)
    , m_hostName(hostName)
{ }

void RegistryServer::setThrottle(int requestsPerMinute)
{
    m_throttlePerMinute = requestsPerMinute;
    m_throttleTokens = requestsPerMinute;
    m_throttleClock.start();
    m_throttleLastMs = 0;
}

int RegistryServer::throttleDelay()
{
    if (m_throttlePerMinute <= 0)
        return 0;
    const qint64 now = m_throttleClock.elapsed();
    const double perMs = m_throttlePerMinute / 60000.0;
    m_throttleTokens = std::min<double>(m_throttlePerMinute, m_throttleTokens + double(now - m_throttleLastMs) * perMs);
    m_throttleLastMs = now;
    if (m_throttleTokens >= 1.0) {
        m_throttleTokens -= 1.0;
        return 0;
    }
    return std::max(1, int(std::ceil((1.0 - m_throttleTokens) / perMs / 1000.0)));
}

void RegistryServer::writeError(QHttpServerResponder &responder, const QString &code, const QString &message)
{
    const AzureCode info = codeInfo(code);
    const QJsonObject body{{QStringLiteral("Message"), QStringLiteral("ErrorCode:%1;%2").arg(code, message)},
        {QStringLiteral("ExceptionMessage"), QString(QStringLiteral("Tracking ID:") + trackingId())}};
    writeJson(responder, body, info.status, {{"iothub-errorcode", code.toLatin1()}});
}

void RegistryServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QHttpServerResponder responder = makeResponder(request, socket);
    writeError(
        responder, QStringLiteral("ArgumentInvalid"), QStringLiteral("No such resource: %1").arg(request.url().path()));
}

std::optional<RegistryServer::Caller> RegistryServer::authorize(
    const QHttpServerRequest &request, QHttpServerResponder &responder) const
{
    auto caller = authorizeHeader(request.value("Authorization"));
    if (auto *why = std::get_if<QString>(&caller)) {
        writeError(responder, QStringLiteral("IotHubUnauthorizedAccess"), QStringLiteral("Unauthorized: ") + *why);
        return std::nullopt;
    }
    return std::get<Caller>(caller);
}

std::variant<RegistryServer::Caller, QString> RegistryServer::authorizeHeader(const QByteArray &authorization) const
{
    const QString header = QString::fromUtf8(authorization);
    if (header.isEmpty())
        return QStringLiteral("no Authorization header");
    const auto token = SasToken::parse(header);
    if (!token)
        return token.error().message;
    if (token->keyName().isEmpty())
        return QStringLiteral("the token names no shared access policy (skn)");
    const auto policy = m_registry.policy(token->keyName());
    if (!policy)
        return QStringLiteral("no shared access policy named '%1'").arg(token->keyName());
    if (!token->verify(policy->primaryKey) && !token->verify(policy->secondaryKey))
        return QStringLiteral("the signature does not match the policy's keys");
    if (token->isExpired())
        return QStringLiteral("the token expired at %1").arg(token->expiryTime().toString(Qt::ISODate));
    // The resource must be this hub (host case-insensitive; a trailing '/' is tolerated).
    QString resource = token->resource();
    while (resource.endsWith(u'/'))
        resource.chop(1);
    if (resource.compare(m_hostName, Qt::CaseInsensitive) != 0)
        return QStringLiteral("the token is for '%1', not this hub").arg(resource);
    return Caller{policy->rights};
}

std::optional<RestFrontDoor::Refusal> RegistryServer::judgeHead(
    const HttpRequestFraming::Head &head, bool tooLarge) const
{
    // As handleRequest will, but before the body is read: whoever may not call learns nothing more.
    const auto refusal = [](const QString &code, const QString &message) {
        const AzureCode info = codeInfo(code);
        const QJsonObject body{{QStringLiteral("Message"), QStringLiteral("ErrorCode:%1;%2").arg(code, message)},
            {QStringLiteral("ExceptionMessage"), QString(QStringLiteral("Tracking ID:") + trackingId())}};
        return RestFrontDoor::Refusal{int(info.status), jsonType, QJsonDocument(body).toJson(QJsonDocument::Compact),
            {{"iothub-errorcode", code.toLatin1()}}};
    };
    const auto caller = authorizeHeader(head.value("Authorization"));
    if (const auto *why = std::get_if<QString>(&caller))
        return refusal(QStringLiteral("IotHubUnauthorizedAccess"), QStringLiteral("Unauthorized: ") + *why);
    if (tooLarge)
        return refusal(QStringLiteral("RequestEntityTooLarge"),
            QStringLiteral("The request body of %1 bytes is larger than the hub takes.").arg(head.contentLength));
    return std::nullopt;
}

bool RegistryServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QHttpServerResponder responder = makeResponder(request, socket);

    // Percent-decode each path segment on its own, so that ids with '/', '%', '#', '?' survive.
    const QString rawPath = request.url().path(QUrl::FullyEncoded);
    QStringList path;
    for (const QString &segment : rawPath.split(u'/', Qt::SkipEmptyParts))
        path.append(QUrl::fromPercentEncoding(segment.toUtf8()));

    const QString apiVersion = request.query().queryItemValue(QStringLiteral("api-version"));
    if (apiVersion.isEmpty() || !knownApiVersions.contains(apiVersion)) {
        writeError(responder, QStringLiteral("InvalidProtocolVersion"), QStringLiteral("BadRequest"));
        return true;
    }
    if (const int wait = throttleDelay(); wait > 0) {
        const AzureCode info = codeInfo(QStringLiteral("ThrottlingException"));
        const QJsonObject body{
            {QStringLiteral("Message"),
                QStringLiteral(
                    "ErrorCode:ThrottlingException;The hub's throttle of %1 requests per minute was exceeded.")
                    .arg(m_throttlePerMinute)},
            {QStringLiteral("ExceptionMessage"), QString(QStringLiteral("Tracking ID:") + trackingId())}};
        writeJson(responder, body, info.status,
            {{"iothub-errorcode", "ThrottlingException"}, {"Retry-After", QByteArray::number(wait)}});
        return true;
    }
    const auto caller = authorize(request, responder);
    if (!caller)
        return true;
    route(request, path, responder, *caller);
    return true;
}

void RegistryServer::route(
    const QHttpServerRequest &request, const QStringList &path, QHttpServerResponder &responder, const Caller &caller)
{
    using Method = QHttpServerRequest::Method;
    const Method method = request.method();
    const auto allowed = [&](std::initializer_list<const char *> rights) {
        for (const char *right : rights) {
            if (caller.rights.contains(QLatin1String(right)))
                return true;
        }
        writeError(responder, QStringLiteral("IotHubUnauthorizedAccess"),
            QStringLiteral("Unauthorized: the policy lacks the right this call needs."));
        return false;
    };
    const QString first = path.value(0);
    // No device or module id holds '/' (one percent-encoded into a segment names nothing): the sandbox keys a
    // module by {deviceId}/{moduleId}.
    for (qsizetype i = 1; i < path.size(); ++i) {
        if (path[i].contains(u'/'))
            return writeError(responder, i >= 3 ? QStringLiteral("ModuleNotFound") : QStringLiteral("DeviceNotFound"),
                QStringLiteral("No device or module id contains '/': %1").arg(path[i]));
    }

    if (first == QStringLiteral("devices") && path.size() == 2 && path[1] == QStringLiteral("query")
        && method == Method::Post) {
        if (allowed({"RegistryRead"}))
            queryDevices(request, responder);
        return;
    }
    if (first == QStringLiteral("devices") && path.size() == 2) {
        const QString &id = path[1];
        if (method == Method::Put) {
            if (allowed({"RegistryWrite"}))
                putDevice(request, id, responder);
        } else if (method == Method::Get) {
            if (!allowed({"RegistryRead"}))
                return;
            const auto device = m_registry.device(id);
            if (!device)
                return writeError(responder, device.error().code, device.error().message);
            writeJson(responder, device->identityJson(), Status::Ok, {{"ETag", quotedEtag(device->etag())}});
        } else if (method == Method::Delete) {
            if (!allowed({"RegistryWrite"}))
                return;
            const auto deleted = m_registry.deleteDevice(id, QString::fromUtf8(request.value("If-Match")));
            if (!deleted)
                return writeError(responder, deleted.error().code, deleted.error().message);
            responder.write(Status::NoContent);
        } else {
            writeError(responder, QStringLiteral("ArgumentInvalid"), QStringLiteral("Method not allowed on a device."));
        }
        return;
    }
    if (first == QStringLiteral("devices") && path.size() == 1) {
        if (method == Method::Post) {
            if (allowed({"RegistryWrite"}))
                bulk(request, responder);
        } else if (method == Method::Get) {
            if (!allowed({"RegistryRead"}))
                return;
            const int top = std::clamp(request.query().queryItemValue(QStringLiteral("top")).toInt(), 0, 1000);
            auto all = DeviceQuery::parse(QStringLiteral("SELECT * FROM devices"));
            const auto page = m_registry.query(*all, top > 0 ? top : 1000, QString());
            QJsonArray identities;
            if (page) {
                for (const auto &twin : page->items) {
                    if (auto device = m_registry.device(twin[QStringLiteral("deviceId")].toString()))
                        identities.append(device->identityJson());
                }
            }
            writeJson(responder, identities);
        }
        return;
    }
    if (first == QStringLiteral("devices") && path.size() >= 3 && path[2] == QStringLiteral("modules")) {
        routeModule(request, path, responder, allowed);
        return;
    }
    const bool moduleTwin = path.size() >= 4 && path[2] == QStringLiteral("modules");
    if (first == QStringLiteral("twins") && (path.size() == 2 || (moduleTwin && path.size() == 4))) {
        const QString id = moduleTwin ? path[1] + u'/' + path[3] : path[1];
        if (method == Method::Get) {
            if (!allowed({"RegistryRead", "ServiceConnect"}))
                return;
            const auto device = m_registry.identity(id);
            if (!device)
                return writeError(responder, device.error().code, device.error().message);
            writeJson(responder, device->twinJson(), Status::Ok, {{"ETag", quotedEtag(device->twinEtag())}});
        } else if (method == Method::Patch || method == Method::Put) {
            if (allowed({"ServiceConnect", "RegistryWrite"}))
                updateTwin(request, id, method == Method::Put, responder);
        }
        return;
    }
    if (first == QStringLiteral("devices") && path.size() == 3 && path[2] == QStringLiteral("commands")
        && method == Method::Delete) {
        // Purges the device's cloud-to-device queue, as IoT Hub's purgeCommandQueue does.
        if (!allowed({"ServiceConnect"}))
            return;
        const auto device = m_registry.device(path[1]);
        if (!device)
            return writeError(responder, device.error().code, device.error().message);
        const int purged = m_cloudToDevice ? m_cloudToDevice->purge(path[1]) : 0;
        return writeJson(responder,
            QJsonObject{{QStringLiteral("deviceId"), path[1]}, {QStringLiteral("totalMessagesPurged"), purged}});
    }
    if (first == QStringLiteral("twins") && method == Method::Post
        && ((path.size() == 3 && path[2] == QStringLiteral("methods"))
            || (moduleTwin && path.size() == 5 && path[4] == QStringLiteral("methods")))) {
        if (allowed({"ServiceConnect"}))
            invokeMethod(request, moduleTwin ? path[1] + u'/' + path[3] : path[1], responder);
        return;
    }
    if (first == QStringLiteral("jobs") && path.value(1) == QStringLiteral("v2") && m_jobs) {
        routeJob(request, path, responder, allowed);
        return;
    }
    if (first == QStringLiteral("configurations") && path.size() <= 2 && m_configurations) {
        routeConfiguration(request, path, responder, allowed);
        return;
    }
    if (first == QStringLiteral("statistics") && path.size() == 2 && method == Method::Get) {
        if (!allowed({"RegistryRead", "ServiceConnect"}))
            return;
        const RegistryStatistics stats = m_registry.statistics();
        if (path[1] == QStringLiteral("devices"))
            return writeJson(responder,
                QJsonObject{{QStringLiteral("totalDeviceCount"), stats.total},
                    {QStringLiteral("enabledDeviceCount"), stats.enabled},
                    {QStringLiteral("disabledDeviceCount"), stats.disabled}});
        if (path[1] == QStringLiteral("service"))
            // connectedDeviceCount is Azure's; telemetryMessageCount is the sandbox's own addition.
            return writeJson(responder,
                QJsonObject{{QStringLiteral("connectedDeviceCount"), stats.connected},
                    {QStringLiteral("telemetryMessageCount"), stats.telemetryMessages}});
    }
    writeError(
        responder, QStringLiteral("ArgumentInvalid"), QStringLiteral("No such resource: %1").arg(path.join(u'/')));
}

void RegistryServer::routeModule(const QHttpServerRequest &request, const QStringList &path,
    QHttpServerResponder &responder, const std::function<bool(std::initializer_list<const char *>)> &allowed)
{
    using Method = QHttpServerRequest::Method;
    const Method method = request.method();
    const QString &deviceId = path[1];
    if (path.size() == 3 && method == Method::Get) { // the device's modules
        if (!allowed({"RegistryRead"}))
            return;
        const auto modules = m_registry.modules(deviceId);
        if (!modules)
            return writeError(responder, modules.error().code, modules.error().message);
        QJsonArray list;
        for (const Device &module : *modules)
            list.append(module.identityJson());
        return writeJson(responder, list);
    }
    if (path.size() != 4)
        return writeError(
            responder, QStringLiteral("ArgumentInvalid"), QStringLiteral("No such resource: %1").arg(path.join(u'/')));
    const QString &moduleId = path[3];
    const QString ifMatch = QString::fromUtf8(request.value("If-Match"));
    if (method == Method::Put) {
        if (!allowed({"RegistryWrite"}))
            return;
        QJsonParseError parseError;
        const QJsonDocument body = QJsonDocument::fromJson(request.body(), &parseError);
        if (!body.isObject())
            return writeError(responder, QStringLiteral("IotHubFormatError"),
                QStringLiteral("The body is not a JSON object: %1").arg(parseError.errorString()));
        const auto module = m_registry.putModule(deviceId, moduleId, body.object(), ifMatch);
        if (!module)
            return writeError(responder, module.error().code, module.error().message);
        return writeJson(responder, module->identityJson(), Status::Ok, {{"ETag", quotedEtag(module->etag())}});
    }
    if (method == Method::Get) {
        if (!allowed({"RegistryRead"}))
            return;
        const auto module = m_registry.module(deviceId, moduleId);
        if (!module)
            return writeError(responder, module.error().code, module.error().message);
        return writeJson(responder, module->identityJson(), Status::Ok, {{"ETag", quotedEtag(module->etag())}});
    }
    if (method == Method::Delete) {
        if (!allowed({"RegistryWrite"}))
            return;
        const auto deleted = m_registry.deleteModule(deviceId, moduleId, ifMatch);
        if (!deleted)
            return writeError(responder, deleted.error().code, deleted.error().message);
        return responder.write(Status::NoContent);
    }
    writeError(responder, QStringLiteral("ArgumentInvalid"), QStringLiteral("Method not allowed on a module."));
}

namespace {

// The offset a continuation token of the job lists holds (the sandbox's own: base64 of the decimal offset).
qsizetype offsetOf(const QByteArray &continuation)
{
    return continuation.isEmpty() ? 0 : std::max(0LL, QByteArray::fromBase64(continuation).toLongLong());
}

// A page of a list whose pages the caller asks for with x-ms-max-item-count and x-ms-continuation.
void writePage(QHttpServerResponder &responder, const QHttpServerRequest &request, const QJsonArray &all,
    const QByteArray &itemType)
{
    const int pageSize = pageSizeOf(request);
    const qsizetype offset = offsetOf(request.value("x-ms-continuation"));
    QJsonArray page;
    for (qsizetype i = offset; i < all.size() && page.size() < pageSize; ++i)
        page.append(all.at(i));
    Headers headers{{"x-ms-item-type", itemType}};
    if (offset + page.size() < all.size())
        headers.append(
            std::pair(QByteArrayLiteral("x-ms-continuation"), QByteArray::number(offset + page.size()).toBase64()));
    writeJson(responder, page, Status::Ok, headers);
}

} // namespace

void RegistryServer::routeJob(const QHttpServerRequest &request, const QStringList &path,
    QHttpServerResponder &responder, const std::function<bool(std::initializer_list<const char *>)> &allowed)
{
    using Method = QHttpServerRequest::Method;
    const Method method = request.method();
    if (path.size() == 3 && path[2] == QStringLiteral("query") && method == Method::Get) {
        if (!allowed({"RegistryRead", "ServiceConnect"}))
            return;
        const QUrlQuery query = request.query();
        QJsonArray all;
        for (const QJsonObject &job : m_jobs->jobs(
                 query.queryItemValue(QStringLiteral("jobType")), query.queryItemValue(QStringLiteral("jobStatus"))))
            all.append(job);
        return writePage(responder, request, all, "JobResponse");
    }
    if (path.size() == 3 && method == Method::Put) {
        const QJsonDocument body = QJsonDocument::fromJson(request.body());
        if (!body.isObject())
            return writeError(
                responder, QStringLiteral("IotHubFormatError"), QStringLiteral("The body is not a JSON object."));
        // A twin update writes twins (as PATCH /twins does); a direct method connects to devices.
        const bool twinJob = member(body.object(), QStringLiteral("type"))
                                 .toString()
                                 .compare(QStringLiteral("scheduleUpdateTwin"), Qt::CaseInsensitive)
            == 0;
        if (!(twinJob ? allowed({"ServiceConnect", "RegistryWrite"}) : allowed({"ServiceConnect"})))
            return;
        const auto job = m_jobs->schedule(path[2], body.object());
        if (!job)
            return writeError(responder, job.error().code, job.error().message);
        return writeJson(responder, *job);
    }
    if (path.size() == 3 && method == Method::Get) {
        if (!allowed({"RegistryRead", "ServiceConnect"}))
            return;
        const auto job = m_jobs->job(path[2]);
        if (!job)
            return writeError(responder, job.error().code, job.error().message);
        return writeJson(responder, *job);
    }
    if (path.size() == 4 && path[3] == QStringLiteral("cancel") && method == Method::Post) {
        if (!allowed({"RegistryWrite", "ServiceConnect"}))
            return;
        const auto job = m_jobs->cancel(path[2]);
        if (!job)
            return writeError(responder, job.error().code, job.error().message);
        return writeJson(responder, *job);
    }
    writeError(
        responder, QStringLiteral("ArgumentInvalid"), QStringLiteral("No such resource: %1").arg(path.join(u'/')));
}

void RegistryServer::routeConfiguration(const QHttpServerRequest &request, const QStringList &path,
    QHttpServerResponder &responder, const std::function<bool(std::initializer_list<const char *>)> &allowed)
{
    using Method = QHttpServerRequest::Method;
    const Method method = request.method();
    const QString ifMatch = QString::fromUtf8(request.value("If-Match"));
    if (path.size() == 1 && method == Method::Get) {
        if (!allowed({"RegistryRead"}))
            return;
        const int top = request.query().queryItemValue(QStringLiteral("top")).toInt();
        QJsonArray list;
        for (const QJsonObject &configuration : m_configurations->list(top > 0 ? std::min(top, 100) : 20))
            list.append(configuration);
        return writeJson(responder, list);
    }
    if (path.size() == 2 && method == Method::Put) {
        if (!allowed({"RegistryWrite"}))
            return;
        const QJsonDocument body = QJsonDocument::fromJson(request.body());
        if (!body.isObject())
            return writeError(
                responder, QStringLiteral("IotHubFormatError"), QStringLiteral("The body is not a JSON object."));
        const auto configuration = m_configurations->put(path[1], body.object(), ifMatch);
        if (!configuration)
            return writeError(responder, configuration.error().code, configuration.error().message);
        return writeJson(responder, *configuration, Status::Ok,
            {{"ETag", quotedEtag(configuration->value(QStringLiteral("etag")).toString())}});
    }
    if (path.size() == 2 && method == Method::Get) {
        if (!allowed({"RegistryRead"}))
            return;
        const auto configuration = m_configurations->get(path[1]);
        if (!configuration)
            return writeError(responder, configuration.error().code, configuration.error().message);
        return writeJson(responder, *configuration, Status::Ok,
            {{"ETag", quotedEtag(configuration->value(QStringLiteral("etag")).toString())}});
    }
    if (path.size() == 2 && method == Method::Delete) {
        if (!allowed({"RegistryWrite"}))
            return;
        const auto removed = m_configurations->remove(path[1], ifMatch);
        if (!removed)
            return writeError(responder, removed.error().code, removed.error().message);
        return responder.write(Status::NoContent);
    }
    writeError(
        responder, QStringLiteral("ArgumentInvalid"), QStringLiteral("No such resource: %1").arg(path.join(u'/')));
}

bool RegistryServer::queryDeviceJobs(
    const QString &text, const QHttpServerRequest &request, QHttpServerResponder &responder)
{
    // The one form of a devices.jobs query the sandbox answers: every record, or one job's.
    static const QRegularExpression from(
        QStringLiteral(R"(^\s*SELECT\s+[^']*?\sFROM\s+devices\.jobs\b)"), QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression form(
        QStringLiteral(
            R"(^\s*SELECT\s+\*\s+FROM\s+devices\.jobs(?:\s+WHERE\s+devices\.jobs\.jobId\s*=\s*'([^']*)')?\s*$)"),
        QRegularExpression::CaseInsensitiveOption);
    if (!from.match(text).hasMatch())
        return false;
    const QRegularExpressionMatch match = form.match(text);
    if (!match.hasMatch()) {
        writeError(responder, QStringLiteral("ArgumentInvalid"),
            QStringLiteral("The sandbox answers devices.jobs queries of one form only: SELECT * FROM devices.jobs "
                           "[WHERE devices.jobs.jobId = '…']."));
        return true;
    }
    const std::optional<QString> jobId
        = match.capturedStart(1) >= 0 ? std::optional<QString>(match.captured(1)) : std::nullopt;
    writePage(responder, request, m_jobs ? m_jobs->deviceJobs(jobId) : QJsonArray(), "DeviceJob");
    return true;
}

void RegistryServer::putDevice(const QHttpServerRequest &request, const QString &id, QHttpServerResponder &responder)
{
    QJsonParseError parseError;
    const QJsonDocument body = QJsonDocument::fromJson(request.body(), &parseError);
    if (!body.isObject())
        return writeError(responder, QStringLiteral("IotHubFormatError"),
            QStringLiteral("The body is not a JSON object: %1").arg(parseError.errorString()));
    const auto device = m_registry.putDevice(id, body.object(), QString::fromUtf8(request.value("If-Match")));
    if (!device)
        return writeError(responder, device.error().code, device.error().message);
    writeJson(responder, device->identityJson(), Status::Ok, {{"ETag", quotedEtag(device->etag())}});
}

void RegistryServer::bulk(const QHttpServerRequest &request, QHttpServerResponder &responder)
{
    const QJsonDocument body = QJsonDocument::fromJson(request.body());
    if (!body.isArray())
        return writeError(
            responder, QStringLiteral("IotHubFormatError"), QStringLiteral("The body must be a JSON array."));
    const QJsonArray items = body.array();
    if (items.size() > 100)
        return writeError(responder, QStringLiteral("ArgumentInvalid"),
            QStringLiteral("A bulk operation takes at most 100 devices."));
    QSet<QString> seen;
    for (const auto &item : items) {
        const QString id = member(item.toObject(), QStringLiteral("id")).toString();
        if (seen.contains(id))
            return writeError(responder, QStringLiteral("DeviceDefinedMultipleTimes"),
                QStringLiteral("The device '%1' appears more than once.").arg(id));
        seen.insert(id);
    }
    QJsonArray errors;
    for (const auto &item : items) {
        const QJsonObject object = item.toObject();
        const QString id = member(object, QStringLiteral("id")).toString();
        const QString mode = member(object, QStringLiteral("importMode")).toString().toLower();
        const QString etag = member(object, QStringLiteral("eTag")).toString();
        Result<void> outcome;
        if (mode == QStringLiteral("create") || mode == QStringLiteral("update")
            || mode == QStringLiteral("updateifmatchetag")) {
            QJsonObject identity;
            identity.insert(
                QStringLiteral("status"), member(object, QStringLiteral("status")).toString(QStringLiteral("enabled")));
            identity.insert(QStringLiteral("authentication"), member(object, QStringLiteral("authentication")));
            const bool exists = m_registry.device(id).has_value();
            const QString ifMatch = mode == QStringLiteral("create") ? QString()
                : mode == QStringLiteral("update")                   ? (exists ? QStringLiteral("*") : QString())
                                                                     : etag;
            const auto put = m_registry.putDevice(id, identity, ifMatch);
            outcome = put ? Result<void>() : std::unexpected(put.error());
            // The twin's tags come with the identity, as IoT Hub's import takes them.
            if (const QJsonObject tags = member(object, QStringLiteral("tags")).toObject(); put && !tags.isEmpty()) {
                const auto tagged
                    = m_registry.updateTwin(id, QJsonObject{{QStringLiteral("tags"), tags}}, QString(), false);
                if (!tagged) { // not half imported: the device goes again, and the row fails with the tags' reason
                    Error error = tagged.error();
                    if (mode == QStringLiteral("create") && !exists) {
                        if (const auto removed = m_registry.deleteDevice(id, QString()); !removed)
                            error.message += QStringLiteral(" The device was created without its tags: %1")
                                                 .arg(removed.error().message);
                    }
                    outcome = std::unexpected(error);
                }
            }
        } else if (mode == QStringLiteral("delete") || mode == QStringLiteral("deleteifmatchetag")) {
            outcome = m_registry.deleteDevice(id, mode == QStringLiteral("delete") ? QString() : etag);
        } else {
            outcome = std::unexpected(
                azureError(QStringLiteral("ArgumentInvalid"), QStringLiteral("Unknown importMode '%1'.").arg(mode)));
        }
        if (!outcome)
            errors.append(
                QJsonObject{{QStringLiteral("deviceId"), id}, {QStringLiteral("errorCode"), outcome.error().code},
                    {QStringLiteral("errorStatus"), outcome.error().message}, {QStringLiteral("operation"), mode}});
    }
    const QJsonObject result{{QStringLiteral("isSuccessful"), errors.isEmpty()}, {QStringLiteral("errors"), errors},
        {QStringLiteral("warnings"), QJsonArray()}};
    writeJson(responder, result, errors.isEmpty() ? Status::Ok : Status::BadRequest);
}

void RegistryServer::queryDevices(const QHttpServerRequest &request, QHttpServerResponder &responder)
{
    const QJsonObject body = QJsonDocument::fromJson(request.body()).object();
    const QString text = body.value(QStringLiteral("query")).toString();
    if (text.isEmpty())
        return writeError(responder, QStringLiteral("ArgumentInvalid"), QStringLiteral("The body needs a \"query\"."));
    if (queryDeviceJobs(text, request, responder))
        return;
    const auto query = DeviceQuery::parse(text);
    if (!query)
        return writeError(responder, QStringLiteral("ArgumentInvalid"), query.error().message);
    const auto page
        = m_registry.query(*query, pageSizeOf(request), QString::fromUtf8(request.value("x-ms-continuation")));
    if (!page)
        return writeError(responder, page.error().code, page.error().message);
    Headers headers{{"x-ms-item-type", page->raw ? "Raw" : "Twin"}};
    if (!page->continuation.isEmpty())
        headers.append(std::pair(QByteArrayLiteral("x-ms-continuation"), page->continuation.toLatin1()));
    writeJson(responder, page->items, Status::Ok, headers);
}

void RegistryServer::updateTwin(
    const QHttpServerRequest &request, const QString &id, bool replace, QHttpServerResponder &responder)
{
    const QJsonDocument body = QJsonDocument::fromJson(request.body());
    if (!body.isObject())
        return writeError(
            responder, QStringLiteral("IotHubFormatError"), QStringLiteral("The body is not a JSON object."));
    const auto previous = m_registry.identity(id);
    const qint64 before = previous ? previous->desiredVersion : 0;
    const auto device = m_registry.updateTwin(id, body.object(), QString::fromUtf8(request.value("If-Match")), replace);
    if (!device)
        return writeError(responder, device.error().code, device.error().message);
    writeJson(responder, device->twinJson(), Status::Ok, {{"ETag", quotedEtag(device->twinEtag())}});
    if (device->desiredVersion != before) {
        QJsonObject patch = replace
            ? device->desired
            : body.object().value(QStringLiteral("properties")).toObject().value(QStringLiteral("desired")).toObject();
        patch.remove(QStringLiteral("$metadata"));
        patch.remove(QStringLiteral("$version"));
        Q_EMIT desiredPropertiesChanged(id, patch, device->desiredVersion);
    }
}

void RegistryServer::invokeMethod(const QHttpServerRequest &request, const QString &id, QHttpServerResponder &responder)
{
    const QJsonObject body = QJsonDocument::fromJson(request.body()).object();
    if (body.value(QStringLiteral("methodName")).toString().isEmpty())
        return writeError(responder, QStringLiteral("ArgumentInvalid"), QStringLiteral("The body needs a methodName."));
    const int responseTimeout = body.value(QStringLiteral("responseTimeoutInSeconds")).toInt(30);
    if (responseTimeout < 5 || responseTimeout > 300)
        return writeError(responder, QStringLiteral("ArgumentInvalid"),
            QStringLiteral("responseTimeoutInSeconds must be between 5 and 300."));
    const auto device = m_registry.identity(id);
    if (!device)
        return writeError(responder, device.error().code, device.error().message);
    if (!m_invokeMethod || device->connectionState != QStringLiteral("Connected"))
        return writeError(
            responder, QStringLiteral("DeviceNotOnline"), QStringLiteral("Timed out waiting for device to connect."));
    m_invokeMethod(id, body, std::move(responder));
}

} // namespace Onboarder::Sandbox
