#include "hubclient.h"

#include "common/logging.h"
#include "common/promise.h"
#include "hub/identityauth.h"
#include "hub/sastoken.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QUrl>
#include <QUrlQuery>

#include <algorithm>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(HubClient)
};

using IdentityAuth::parseTime;

// Azure's error name from a response: the iothub-errorcode header, else the body's
// "ErrorCode:<Name>;…" (legacy) or the nested JSON {"errorCode":404103,…} (newer).
QString azureErrorName(QNetworkReply *reply, const QByteArray &body, QString *detail)
{
    QString name = QString::fromLatin1(reply->rawHeader("iothub-errorcode"));
    const QString message = QJsonDocument::fromJson(body).object().value(QStringLiteral("Message")).toString();
    if (message.startsWith(QStringLiteral("ErrorCode:"))) {
        const qsizetype semicolon = message.indexOf(u';');
        if (name.isEmpty())
            name = message.mid(10, semicolon < 0 ? -1 : semicolon - 10);
        *detail = semicolon < 0 ? QString() : message.mid(semicolon + 1).section(u'\n', 0, 0).trimmed();
    } else if (message.startsWith(u'{')) {
        const QJsonObject nested = QJsonDocument::fromJson(message.toUtf8()).object();
        *detail = nested.value(QStringLiteral("message")).toString();
        if (name.isEmpty()) {
            static const QHash<int, QString> numbers{{404001, QStringLiteral("DeviceNotFound")},
                {404002, QStringLiteral("JobNotFound")}, {404103, QStringLiteral("DeviceNotOnline")},
                {504101, QStringLiteral("GatewayTimeout")}, {409001, QStringLiteral("DeviceAlreadyExists")},
                {412001, QStringLiteral("PreconditionFailed")}};
            name = numbers.value(nested.value(QStringLiteral("errorCode")).toInt());
        }
    }
    return name;
}

// what: the device of the request's path, quoted; module: its module, quoted, or empty.
Error httpError(QNetworkReply *reply, const QByteArray &body, const QString &what, const QString &module)
{
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    QString detail;
    QString name = azureErrorName(reply, body, &detail);
    ErrorKind kind = ErrorKind::Internal;
    QString sentence;
    switch (status) {
    case 400:
        kind = ErrorKind::InvalidInput;
        sentence = Text::tr("The hub refused the request as invalid (%1).").arg(detail.isEmpty() ? name : detail);
        break;
    case 401:
    case 403:
        kind = ErrorKind::AuthRefused;
        sentence
            = Text::tr("The hub refused the credentials: check that the hub's connection string is current and its "
                       "policy has the rights this needs.");
        break;
    case 404:
        kind = name == QStringLiteral("DeviceNotOnline") ? ErrorKind::Network : ErrorKind::NotFound;
        if (name == QStringLiteral("DeviceNotOnline"))
            sentence = module.isEmpty()
                ? Text::tr("The device %1 is not connected, so it cannot answer.").arg(what)
                : Text::tr("The module %1 of device %2 is not connected, so it cannot answer.").arg(module, what);
        else if (name == QStringLiteral("ModuleNotFound"))
            sentence = Text::tr("The device %1 has no module %2.").arg(what, module);
        else
            sentence = Text::tr("The hub has no device %1.").arg(what);
        break;
    case 409:
        kind = ErrorKind::Conflict;
        sentence = module.isEmpty() ? Text::tr("The device %1 exists already.").arg(what)
                                    : Text::tr("The device %1 has a module %2 already.").arg(what, module);
        break;
    case 412:
        kind = ErrorKind::Conflict;
        sentence = Text::tr("%1 was changed by someone else since it was read. Reload it and try again.").arg(what);
        break;
    case 429:
        kind = ErrorKind::Network;
        sentence = Text::tr("The hub is throttling requests and still was after several tries; wait a minute.");
        break;
    case 504:
        kind = ErrorKind::Network;
        sentence = module.isEmpty() ? Text::tr("The device %1 did not answer in time.").arg(what)
                                    : Text::tr("The module %1 of device %2 did not answer in time.").arg(module, what);
        break;
    default:
        kind = status >= 500 ? ErrorKind::Network : ErrorKind::Internal;
        sentence = Text::tr("The hub answered HTTP %1 (%2).").arg(status).arg(detail.isEmpty() ? name : detail);
        break;
    }
    if (name.isEmpty())
        name = QStringLiteral("Http%1").arg(status);
    return Error{kind, name, sentence};
}

// A job's or a configuration's error (what: its id, quoted): their own sentences for what is missing or taken, the
// common ones otherwise.
Error jobOrConfigurationError(QNetworkReply *reply, const QByteArray &body, const QString &what, bool job)
{
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    Error error = httpError(reply, body, what, QString());
    if (status == 404)
        error.message = job ? Text::tr("The hub has no job %1.").arg(what)
                            : Text::tr("The hub has no configuration %1.").arg(what);
    else if (status == 409)
        error.message = job ? Text::tr("The hub has a job %1 already; choose another id.").arg(what)
                            : Text::tr("The hub has a configuration %1 already.").arg(what);
    return error;
}

QJsonObject parseObject(const QByteArray &body)
{
    return QJsonDocument::fromJson(body).object();
}

} // namespace

bool DeviceIdentity::holdsThumbprint(const QString &sha1, const QString &sha256) const
{
    for (const QString &registered : {primaryThumbprint, secondaryThumbprint}) {
        if (!registered.isEmpty()
            && (registered.compare(sha1, Qt::CaseInsensitive) == 0
                || registered.compare(sha256, Qt::CaseInsensitive) == 0))
            return true;
    }
    return false;
}

DeviceIdentity DeviceIdentity::fromJson(const QJsonObject &json)
{
    DeviceIdentity d;
    d.id = json.value(QStringLiteral("deviceId")).toString();
    d.generationId = json.value(QStringLiteral("generationId")).toString();
    d.etag = json.value(QStringLiteral("etag")).toString();
    d.status = json.value(QStringLiteral("status")).toString();
    d.statusReason = json.value(QStringLiteral("statusReason")).toString();
    d.connectionState = json.value(QStringLiteral("connectionState")).toString();
    d.connectionStateUpdated = parseTime(json.value(QStringLiteral("connectionStateUpdatedTime")).toString());
    d.statusUpdated = parseTime(json.value(QStringLiteral("statusUpdatedTime")).toString());
    d.lastActivity = parseTime(json.value(QStringLiteral("lastActivityTime")).toString());
    d.cloudToDeviceMessageCount = json.value(QStringLiteral("cloudToDeviceMessageCount")).toInt();
    IdentityAuth::read(json, d);
    d.iotEdge = json.value(QStringLiteral("capabilities")).toObject().value(QStringLiteral("iotEdge")).toBool();
    return d;
}

DeviceSummary DeviceSummary::fromTwin(const QJsonObject &twin)
{
    DeviceSummary d;
    d.id = twin.value(QStringLiteral("deviceId")).toString();
    d.enabled = twin.value(QStringLiteral("status")).toString() != QStringLiteral("disabled");
    d.connected = twin.value(QStringLiteral("connectionState")).toString() == QStringLiteral("Connected");
    const QString auth = twin.value(QStringLiteral("authenticationType")).toString();
    d.auth = auth == QStringLiteral("selfSigned")        ? Auth::SelfSigned
        : auth == QStringLiteral("certificateAuthority") ? Auth::CertificateAuthority
        : auth == QStringLiteral("none")                 ? Auth::None
                                                         : Auth::Sas;
    d.cloudToDeviceMessageCount = twin.value(QStringLiteral("cloudToDeviceMessageCount")).toInt();
    const QDateTime last = parseTime(twin.value(QStringLiteral("lastActivityTime")).toString());
    d.lastActivityMs = last.isValid() ? last.toMSecsSinceEpoch() : 0;
    return d;
}

QJsonObject DeviceIdentity::toJson() const
{
    QJsonObject json{{QStringLiteral("deviceId"), id}, {QStringLiteral("status"), status},
        {QStringLiteral("authentication"), IdentityAuth::write(*this)},
        {QStringLiteral("capabilities"), QJsonObject{{QStringLiteral("iotEdge"), iotEdge}}}};
    if (!statusReason.isEmpty())
        json.insert(QStringLiteral("statusReason"), statusReason);
    if (!etag.isEmpty())
        json.insert(QStringLiteral("etag"), etag);
    return json;
}

QJsonObject DeviceIdentity::toRecordJson(bool revealKeys) const
{
    QJsonObject json = toJson();
    json.insert(QStringLiteral("generationId"), generationId);
    json.insert(QStringLiteral("etag"), etag);
    json.insert(QStringLiteral("connectionState"), connectionState);
    json.insert(QStringLiteral("lastActivityTime"),
        lastActivity.isValid() ? lastActivity.toString(Qt::ISODateWithMs) : QString());
    json.insert(QStringLiteral("cloudToDeviceMessageCount"), cloudToDeviceMessageCount);
    IdentityAuth::maskKeys(json, authType, revealKeys);
    return json;
}

DeviceQueryRow DeviceQueryRow::fromTwin(const QJsonObject &twin)
{
    DeviceQueryRow row;
    row.deviceId = twin.value(QStringLiteral("deviceId")).toString();
    row.status = twin.value(QStringLiteral("status")).toString();
    row.connectionState = twin.value(QStringLiteral("connectionState")).toString();
    row.lastActivityTime = twin.value(QStringLiteral("lastActivityTime")).toString();
    row.authenticationType = twin.value(QStringLiteral("authenticationType")).toString();
    row.cloudToDeviceMessageCount = twin.value(QStringLiteral("cloudToDeviceMessageCount")).toInt();
    return row;
}

bool DeviceQueryRow::neverActive() const
{
    return lastActivityTime.startsWith(QStringLiteral("0001"));
}

QStringList DeviceQueryRow::fieldNames()
{
    return {QStringLiteral("deviceId"), QStringLiteral("status"), QStringLiteral("connectionState"),
        QStringLiteral("lastActivityTime"), QStringLiteral("authenticationType"),
        QStringLiteral("cloudToDeviceMessageCount")};
}

QJsonObject MethodResult::toJson() const
{
    return {{QStringLiteral("status"), status}, {QStringLiteral("payload"), payload}};
}

QJsonObject CloudToDevicePurge::toJson() const
{
    return {{QStringLiteral("deviceId"), deviceId}, {QStringLiteral("totalMessagesPurged"), totalMessagesPurged}};
}

HubClient::HubClient(const HubProfile &profile, const ConnectionString &serviceConnection, QObject *parent)
    : QObject(parent)
    , m_profile(profile)
    , m_service(serviceConnection)
{
    // REST goes through the hub's proxy, if it has one, as MQTT and AMQP do.
    m_rest = std::make_unique<RestClient>(
        RestClient::Endpoint{
            m_profile.restBaseUrl(), QLatin1String(apiVersion), m_profile.caFile, m_profile.networkProxy()},
        [this] { return authorization(); },
        [](int, QNetworkReply *reply, const QByteArray &body, const QString &path) {
            // The "what" of a sentence: the device id of the path, quoted, and its module's
            // (/devices|twins/{id}/modules/{moduleId}…).
            const QStringList parts = path.section(u'?', 0, 0).split(u'/', Qt::SkipEmptyParts);
            const auto quotedPart = [&parts](int index) {
                return parts.size() > index ? u'"' + QUrl::fromPercentEncoding(parts.at(index).toUtf8()) + u'"'
                                            : QString();
            };
            // A bulk request's refusal of some of its devices (400 with the hub's BulkRegistryOperationResult): the
            // refused devices travel to createDevices() in the message, which turns them into BulkFailures.
            if (const QJsonObject result = QJsonDocument::fromJson(body).object();
                result.contains(QLatin1String("isSuccessful")) && result.contains(QLatin1String("errors")))
                return Error{ErrorKind::InvalidInput, QStringLiteral("BulkRegistryOperationFailure"),
                    QString::fromUtf8(
                        QJsonDocument(result.value(QLatin1String("errors")).toArray()).toJson(QJsonDocument::Compact))};
            if (parts.value(0) == QLatin1String("jobs")) // /jobs/v2/{id}…
                return jobOrConfigurationError(reply, body, quotedPart(2), true);
            if (parts.value(0) == QLatin1String("configurations"))
                return jobOrConfigurationError(reply, body, quotedPart(1), false);
            const bool module = parts.size() >= 4 && parts.at(2) == QLatin1String("modules");
            return httpError(reply, body, quotedPart(1), module ? quotedPart(3) : QString());
        });
}

HubClient::~HubClient()
{
    m_rest->cancelAll();
}

void HubClient::cancelAll()
{
    m_rest->cancelAll();
}

QString HubClient::authorization()
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    // Renew well before expiry, so a request never travels with a token about to lapse.
    if (m_token.isEmpty() || m_tokenExpiry - now < std::min(300, m_tokenLifetime / 4)) {
        m_tokenExpiry = now + m_tokenLifetime;
        const auto token = SasToken::create(
            m_service.hostName(), m_service.sharedAccessKey(), m_tokenExpiry, m_service.sharedAccessKeyName());
        m_token = token ? token->toString() : QString();
    }
    return m_token;
}

QString HubClient::encodedDevicePath(const QString &prefix, const QString &id, const QString &suffix) const
{
    return prefix + QString::fromLatin1(QUrl::toPercentEncoding(id)) + suffix;
}

namespace {

QByteArray compact(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QByteArray quoted(const QString &etag)
{
    return '"' + etag.toLatin1() + '"';
}

const auto identity
    = [](const QByteArray &body, QNetworkReply *) { return DeviceIdentity::fromJson(parseObject(body)); };
const auto moduleIdentity
    = [](const QByteArray &body, QNetworkReply *) { return ModuleIdentity::fromJson(parseObject(body)); };
const auto twinDocument
    = [](const QByteArray &body, QNetworkReply *) { return DeviceTwin::fromJson(parseObject(body)); };
const auto nothing = [](const QByteArray &, QNetworkReply *) {};

} // namespace

QFuture<Result<DeviceIdentity>> HubClient::createDevice(const DeviceIdentity &device)
{
    QJsonObject body = device.toJson();
    body.remove(QStringLiteral("etag"));
    return m_rest->request<DeviceIdentity>(
        "PUT", encodedDevicePath(QStringLiteral("/devices/"), device.id), compact(body), {}, 0, identity);
}

QFuture<Result<DeviceIdentity>> HubClient::updateDevice(const DeviceIdentity &device, bool force)
{
    const QByteArray ifMatch = force || device.etag.isEmpty() ? QByteArrayLiteral("\"*\"") : quoted(device.etag);
    return m_rest->request<DeviceIdentity>("PUT", encodedDevicePath(QStringLiteral("/devices/"), device.id),
        compact(device.toJson()), {{"If-Match", ifMatch}}, 0, identity);
}

QFuture<Result<DeviceIdentity>> HubClient::device(const QString &id)
{
    return m_rest->request<DeviceIdentity>(
        "GET", encodedDevicePath(QStringLiteral("/devices/"), id), {}, {}, 0, identity);
}

QFuture<Result<void>> HubClient::deleteDevice(const QString &id, const QString &etag)
{
    return m_rest->request<void>(
        "DELETE", encodedDevicePath(QStringLiteral("/devices/"), id), {}, {{"If-Match", quoted(etag)}}, 0, nothing);
}

QFuture<Result<int>> HubClient::purgeCloudToDeviceQueue(const QString &id)
{
    return m_rest->request<int>("DELETE",
        encodedDevicePath(QStringLiteral("/devices/"), id, QStringLiteral("/commands")), {}, {}, 0,
        [](const QByteArray &body, QNetworkReply *) {
            return QJsonDocument::fromJson(body).object().value(QStringLiteral("totalMessagesPurged")).toInt();
        });
}

QString HubClient::modulePath(const QString &deviceId, const QString &moduleId) const
{
    return encodedDevicePath(QStringLiteral("/devices/"), deviceId,
        QStringLiteral("/modules/") + QString::fromLatin1(QUrl::toPercentEncoding(moduleId)));
}

QFuture<Result<ModuleIdentity>> HubClient::createModule(const ModuleIdentity &module)
{
    QJsonObject body = module.toJson();
    body.remove(QStringLiteral("etag"));
    return m_rest->request<ModuleIdentity>(
        "PUT", modulePath(module.deviceId, module.moduleId), compact(body), {}, 0, moduleIdentity);
}

QFuture<Result<ModuleIdentity>> HubClient::updateModule(const ModuleIdentity &module, bool force)
{
    const QByteArray ifMatch = force || module.etag.isEmpty() ? QByteArrayLiteral("\"*\"") : quoted(module.etag);
    return m_rest->request<ModuleIdentity>("PUT", modulePath(module.deviceId, module.moduleId),
        compact(module.toJson()), {{"If-Match", ifMatch}}, 0, moduleIdentity);
}

QFuture<Result<ModuleIdentity>> HubClient::module(const QString &deviceId, const QString &moduleId)
{
    return m_rest->request<ModuleIdentity>("GET", modulePath(deviceId, moduleId), {}, {}, 0, moduleIdentity);
}

QFuture<Result<QList<ModuleIdentity>>> HubClient::modules(const QString &deviceId)
{
    return m_rest->request<QList<ModuleIdentity>>("GET",
        encodedDevicePath(QStringLiteral("/devices/"), deviceId, QStringLiteral("/modules")), {}, {}, 0,
        [](const QByteArray &body, QNetworkReply *) {
            QList<ModuleIdentity> list;
            for (const auto &item : QJsonDocument::fromJson(body).array())
                list.append(ModuleIdentity::fromJson(item.toObject()));
            return list;
        });
}

QFuture<Result<void>> HubClient::deleteModule(const QString &deviceId, const QString &moduleId, const QString &etag)
{
    return m_rest->request<void>(
        "DELETE", modulePath(deviceId, moduleId), {}, {{"If-Match", quoted(etag)}}, 0, nothing);
}

QFuture<Result<QList<BulkFailure>>> HubClient::createDevices(const QJsonArray &devices)
{
    const auto failures = [](const QJsonArray &errors) {
        QList<BulkFailure> list;
        for (const auto &item : errors) {
            const QJsonObject error = item.toObject();
            list.append(
                {error.value(QLatin1String("deviceId")).toString(), error.value(QLatin1String("errorCode")).toString(),
                    error.value(QLatin1String("errorStatus")).toString()});
        }
        return list;
    };
    return m_rest
        ->request<QList<BulkFailure>>("POST", QStringLiteral("/devices"),
            QJsonDocument(devices).toJson(QJsonDocument::Compact), {}, 0,
            [failures](const QByteArray &body, QNetworkReply *) {
                return failures(QJsonDocument::fromJson(body).object().value(QLatin1String("errors")).toArray());
            })
        .then([failures](Result<QList<BulkFailure>> result) -> Result<QList<BulkFailure>> {
            if (!result && result.error().code == QLatin1String("BulkRegistryOperationFailure"))
                return failures(QJsonDocument::fromJson(result.error().message.toUtf8()).array());
            return result;
        });
}

QFuture<Result<QueryPage>> HubClient::query(const QString &query, int pageSize, const QString &continuation)
{
    QList<std::pair<QByteArray, QByteArray>> headers{{"x-ms-max-item-count", QByteArray::number(pageSize)}};
    if (!continuation.isEmpty())
        headers.append({"x-ms-continuation", continuation.toUtf8()});
    return m_rest->request<QueryPage>("POST", QStringLiteral("/devices/query"),
        compact({{QStringLiteral("query"), query}}), headers, 0, [](const QByteArray &body, QNetworkReply *reply) {
            return QueryPage{
                QJsonDocument::fromJson(body).array(), QString::fromUtf8(reply->rawHeader("x-ms-continuation"))};
        });
}

QFuture<Result<qint64>> HubClient::countDevices(const QString &countQuery)
{
    return query(countQuery, 1).then([](Result<QueryPage> page) -> Result<qint64> {
        if (!page)
            return std::unexpected(page.error());
        if (page->items.isEmpty())
            return 0;
        return page->items.first().toObject().value(QStringLiteral("numberOfDevices")).toInteger(-1);
    });
}

QString HubClient::twinPath(const QString &id, const QString &moduleId, const QString &suffix) const
{
    if (moduleId.isEmpty())
        return encodedDevicePath(QStringLiteral("/twins/"), id, suffix);
    return encodedDevicePath(QStringLiteral("/twins/"), id,
        QStringLiteral("/modules/") + QString::fromLatin1(QUrl::toPercentEncoding(moduleId)) + suffix);
}

QFuture<Result<DeviceTwin>> HubClient::twin(const QString &id)
{
    return moduleTwin(id, {});
}

QFuture<Result<DeviceTwin>> HubClient::moduleTwin(const QString &id, const QString &moduleId)
{
    return m_rest->request<DeviceTwin>("GET", twinPath(id, moduleId), {}, {}, 0, twinDocument);
}

QFuture<Result<DeviceTwin>> HubClient::updateTwin(
    const QString &id, const QJsonObject &patch, const QString &etag, bool replace)
{
    return updateModuleTwin(id, {}, patch, etag, replace);
}

QFuture<Result<DeviceTwin>> HubClient::updateModuleTwin(
    const QString &id, const QString &moduleId, const QJsonObject &patch, const QString &etag, bool replace)
{
    QList<std::pair<QByteArray, QByteArray>> headers;
    if (!etag.isEmpty())
        headers.append({"If-Match", quoted(etag)});
    return m_rest->request<DeviceTwin>(
        replace ? "PUT" : "PATCH", twinPath(id, moduleId), compact(patch), headers, 0, twinDocument);
}

QFuture<Result<MethodResult>> HubClient::invokeMethod(const QString &id, const QString &method,
    const QJsonValue &payload, int responseTimeoutSeconds, int connectTimeoutSeconds)
{
    return invokeModuleMethod(id, {}, method, payload, responseTimeoutSeconds, connectTimeoutSeconds);
}

QFuture<Result<MethodResult>> HubClient::invokeModuleMethod(const QString &id, const QString &moduleId,
    const QString &method, const QJsonValue &payload, int responseTimeoutSeconds, int connectTimeoutSeconds)
{
    const QJsonObject body{{QStringLiteral("methodName"), method}, {QStringLiteral("payload"), payload},
        {QStringLiteral("responseTimeoutInSeconds"), responseTimeoutSeconds},
        {QStringLiteral("connectTimeoutInSeconds"), connectTimeoutSeconds}};
    // The hub holds the request until the device answers: wait a little longer than it does.
    const int timeoutMs = (responseTimeoutSeconds + connectTimeoutSeconds + 10) * 1000;
    return m_rest->request<MethodResult>("POST", twinPath(id, moduleId, QStringLiteral("/methods")), compact(body), {},
        timeoutMs, [](const QByteArray &answer, QNetworkReply *) {
            const QJsonObject json = parseObject(answer);
            return MethodResult{json.value(QStringLiteral("status")).toInt(), json.value(QStringLiteral("payload"))};
        });
}

namespace {

const auto hubJob = [](const QByteArray &body, QNetworkReply *) { return HubJob::fromJson(parseObject(body)); };

QString jobPath(const QString &id, const QString &suffix = {})
{
    return QStringLiteral("/jobs/v2/") + QString::fromLatin1(QUrl::toPercentEncoding(id)) + suffix;
}

} // namespace

QFuture<Result<HubJob>> HubClient::scheduleJob(const QJsonObject &request)
{
    const QString id = request.value(QStringLiteral("jobId")).toString();
    return m_rest->request<HubJob>("PUT", jobPath(id), compact(request), {}, 0, hubJob);
}

QFuture<Result<HubJob>> HubClient::job(const QString &id)
{
    return m_rest->request<HubJob>("GET", jobPath(id), {}, {}, 0, hubJob);
}

QFuture<Result<HubJob>> HubClient::cancelJob(const QString &id)
{
    return m_rest->request<HubJob>("POST", jobPath(id, QStringLiteral("/cancel")), {}, {}, 0, hubJob);
}

QFuture<Result<HubJobPage>> HubClient::jobs(
    const QString &type, const QString &status, int pageSize, const QString &continuation)
{
    QUrlQuery filter;
    if (!type.isEmpty())
        filter.addQueryItem(QStringLiteral("jobType"), type);
    if (!status.isEmpty())
        filter.addQueryItem(QStringLiteral("jobStatus"), status);
    QList<std::pair<QByteArray, QByteArray>> headers{{"x-ms-max-item-count", QByteArray::number(pageSize)}};
    if (!continuation.isEmpty())
        headers.append({"x-ms-continuation", continuation.toUtf8()});
    const QString query = filter.isEmpty() ? QString() : u'?' + filter.toString(QUrl::FullyEncoded);
    return m_rest->request<HubJobPage>("GET", QStringLiteral("/jobs/v2/query") + query, {}, headers, 0,
        [](const QByteArray &body, QNetworkReply *reply) {
            HubJobPage page;
            const QJsonArray jobs = QJsonDocument::fromJson(body).array();
            for (const auto &job : jobs)
                page.jobs.append(HubJob::fromJson(job.toObject()));
            page.continuation = QString::fromUtf8(reply->rawHeader("x-ms-continuation"));
            return page;
        });
}

QFuture<Result<QList<HubConfiguration>>> HubClient::configurations(int top)
{
    return m_rest->request<QList<HubConfiguration>>("GET",
        QStringLiteral("/configurations?top=%1").arg(std::clamp(top, 1, 100)), {}, {}, 0,
        [](const QByteArray &body, QNetworkReply *) {
            QList<HubConfiguration> list;
            const QJsonArray configurations = QJsonDocument::fromJson(body).array();
            for (const auto &configuration : configurations)
                list.append(HubConfiguration::fromJson(configuration.toObject()));
            return list;
        });
}

QFuture<Result<HubConfiguration>> HubClient::configuration(const QString &id)
{
    return m_rest->request<HubConfiguration>("GET",
        QStringLiteral("/configurations/") + QString::fromLatin1(QUrl::toPercentEncoding(id)), {}, {}, 0,
        [](const QByteArray &body, QNetworkReply *) { return HubConfiguration::fromJson(parseObject(body)); });
}

QFuture<Result<DeviceStatistics>> HubClient::statistics()
{
    return m_rest->request<DeviceStatistics>(
        "GET", QStringLiteral("/statistics/devices"), {}, {}, 0, [](const QByteArray &body, QNetworkReply *) {
            const QJsonObject json = parseObject(body);
            return DeviceStatistics{json.value(QStringLiteral("totalDeviceCount")).toInteger(),
                json.value(QStringLiteral("enabledDeviceCount")).toInteger(),
                json.value(QStringLiteral("disabledDeviceCount")).toInteger()};
        });
}

} // namespace Onboarder
