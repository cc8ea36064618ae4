#include "hubclient.h"

#include "common/logging.h"
#include "common/promise.h"
#include "hub/sastoken.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QSslCertificate>
#include <QTimer>
#include <QUrl>
#include <QUuid>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(HubClient)
};

QDateTime parseTime(const QString &text)
{
    if (text.isEmpty() || text.startsWith(QStringLiteral("0001-01-01")))
        return {};
    return QDateTime::fromString(text, Qt::ISODateWithMs);
}

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
                                                      {404103, QStringLiteral("DeviceNotOnline")},
                                                      {504101, QStringLiteral("GatewayTimeout")},
                                                      {409001, QStringLiteral("DeviceAlreadyExists")},
                                                      {412001, QStringLiteral("PreconditionFailed")}};
            name = numbers.value(nested.value(QStringLiteral("errorCode")).toInt());
        }
    }
    return name;
}

Error httpError(QNetworkReply *reply, const QByteArray &body, const QString &what)
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
        sentence = Text::tr("The hub refused the credentials: check that the hub's connection string is current and its "
                            "policy has the rights this needs.");
        break;
    case 404:
        kind = name == QStringLiteral("DeviceNotOnline") ? ErrorKind::Network : ErrorKind::NotFound;
        sentence = name == QStringLiteral("DeviceNotOnline")
            ? Text::tr("The device %1 is not connected, so it cannot answer.").arg(what)
            : Text::tr("The hub has no device %1.").arg(what);
        break;
    case 409:
        kind = ErrorKind::Conflict;
        sentence = Text::tr("The device %1 exists already.").arg(what);
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
        sentence = Text::tr("The device %1 did not answer in time.").arg(what);
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

Error networkError(QNetworkReply *reply, const QString &host)
{
    switch (reply->error()) {
    case QNetworkReply::HostNotFoundError:
        return {ErrorKind::Network, QStringLiteral("HostNotFound"), Text::tr("The host %1 is unknown (DNS).").arg(host)};
    case QNetworkReply::ConnectionRefusedError:
        return {ErrorKind::Network, QStringLiteral("ConnectionRefused"), Text::tr("%1 refused the connection.").arg(host)};
    case QNetworkReply::SslHandshakeFailedError:
        return {ErrorKind::Network, QStringLiteral("TlsFailed"),
                Text::tr("The TLS connection to %1 failed: %2. Onboarder always verifies the hub's certificate; for a "
                         "sandbox or private hub, add its CA to the hub profile.")
                    .arg(host, reply->errorString())};
    case QNetworkReply::OperationCanceledError:
        return {ErrorKind::Cancelled, QStringLiteral("Cancelled"), Text::tr("Cancelled.")};
    case QNetworkReply::TimeoutError:
        return {ErrorKind::Network, QStringLiteral("Timeout"), Text::tr("%1 did not answer in time.").arg(host)};
    default:
        return {ErrorKind::Network, QStringLiteral("NetworkError"), Text::tr("Could not reach %1: %2").arg(host, reply->errorString())};
    }
}

QJsonObject parseObject(const QByteArray &body)
{
    return QJsonDocument::fromJson(body).object();
}

} // namespace

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
    const QJsonObject auth = json.value(QStringLiteral("authentication")).toObject();
    d.authType = auth.value(QStringLiteral("type")).toString(QStringLiteral("sas"));
    const QJsonObject keys = auth.value(QStringLiteral("symmetricKey")).toObject();
    d.primaryKey = keys.value(QStringLiteral("primaryKey")).toString();
    d.secondaryKey = keys.value(QStringLiteral("secondaryKey")).toString();
    const QJsonObject thumbprints = auth.value(QStringLiteral("x509Thumbprint")).toObject();
    d.primaryThumbprint = thumbprints.value(QStringLiteral("primaryThumbprint")).toString();
    d.secondaryThumbprint = thumbprints.value(QStringLiteral("secondaryThumbprint")).toString();
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
    d.auth = auth == QStringLiteral("selfSigned")             ? Auth::SelfSigned
        : auth == QStringLiteral("certificateAuthority")      ? Auth::CertificateAuthority
        : auth == QStringLiteral("none")                      ? Auth::None
                                                              : Auth::Sas;
    d.cloudToDeviceMessageCount = twin.value(QStringLiteral("cloudToDeviceMessageCount")).toInt();
    const QDateTime last = parseTime(twin.value(QStringLiteral("lastActivityTime")).toString());
    d.lastActivityMs = last.isValid() ? last.toMSecsSinceEpoch() : 0;
    return d;
}

QJsonObject DeviceIdentity::toJson() const
{
    const auto nullable = [](const QString &text) { return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text); };
    QJsonObject auth{{QStringLiteral("type"), authType}};
    if (authType == QStringLiteral("sas"))
        auth.insert(QStringLiteral("symmetricKey"), QJsonObject{{QStringLiteral("primaryKey"), nullable(primaryKey)},
                                                                {QStringLiteral("secondaryKey"), nullable(secondaryKey)}});
    if (authType == QStringLiteral("selfSigned"))
        auth.insert(QStringLiteral("x509Thumbprint"), QJsonObject{{QStringLiteral("primaryThumbprint"), nullable(primaryThumbprint)},
                                                                  {QStringLiteral("secondaryThumbprint"), nullable(secondaryThumbprint)}});
    QJsonObject json{{QStringLiteral("deviceId"), id},
                     {QStringLiteral("status"), status},
                     {QStringLiteral("authentication"), auth},
                     {QStringLiteral("capabilities"), QJsonObject{{QStringLiteral("iotEdge"), iotEdge}}}};
    if (!statusReason.isEmpty())
        json.insert(QStringLiteral("statusReason"), statusReason);
    if (!etag.isEmpty())
        json.insert(QStringLiteral("etag"), etag);
    return json;
}

struct HubClient::Call
{
    QByteArray verb;
    QString path;
    QByteArray body;
    QList<std::pair<QByteArray, QByteArray>> headers;
    int timeoutMs = 0;
    int attempt = 0;
    Completion completion;
};

HubClient::HubClient(const HubProfile &profile, const ConnectionString &serviceConnection, QObject *parent)
    : QObject(parent)
    , m_profile(profile)
    , m_service(serviceConnection)
    , m_tls(QSslConfiguration::defaultConfiguration())
    , m_network(std::make_unique<QNetworkAccessManager>())
{
    // The system's CAs, plus this hub's own (the sandbox's) if the profile names one. Never fewer checks.
    if (!m_profile.caFile.isEmpty())
        m_tls.addCaCertificates(QSslCertificate::fromPath(m_profile.caFile, QSsl::Pem));
    // The hub's proxy, if it has one: REST goes through it as MQTT and AMQP do.
    if (const auto proxy = m_profile.networkProxy())
        m_network->setProxy(*proxy);
}

HubClient::~HubClient()
{
    cancelAll();
}

void HubClient::cancelAll()
{
    const auto replies = m_network->findChildren<QNetworkReply *>();
    for (QNetworkReply *reply : replies)
        reply->abort();
}

QString HubClient::authorization()
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    // Renew well before expiry, so a request never travels with a token about to lapse.
    if (m_token.isEmpty() || m_tokenExpiry - now < std::min(300, m_tokenLifetime / 4)) {
        m_tokenExpiry = now + m_tokenLifetime;
        const auto token = SasToken::create(m_service.hostName(), m_service.sharedAccessKey(), m_tokenExpiry,
                                            m_service.sharedAccessKeyName());
        m_token = token ? token->toString() : QString();
    }
    return m_token;
}

QString HubClient::encodedDevicePath(const QString &prefix, const QString &id, const QString &suffix) const
{
    return prefix + QString::fromLatin1(QUrl::toPercentEncoding(id)) + suffix;
}

void HubClient::send(const QByteArray &verb, const QString &path, const QByteArray &body,
                     QList<std::pair<QByteArray, QByteArray>> headers, int timeoutMs, Completion completion)
{
    auto call = std::make_shared<Call>();
    call->verb = verb;
    call->path = path;
    call->body = body;
    call->headers = std::move(headers);
    call->timeoutMs = timeoutMs > 0 ? timeoutMs : m_timeoutMs;
    call->completion = std::move(completion);
    attempt(call);
}

void HubClient::attempt(const std::shared_ptr<Call> &call)
{
    ++call->attempt;
    QUrl url = QUrl::fromEncoded(m_profile.restBaseUrl().toEncoded(QUrl::RemovePath) + call->path.toUtf8());
    url.setQuery(QStringLiteral("api-version=") + QLatin1String(apiVersion));
    QNetworkRequest request(url);
    request.setSslConfiguration(m_tls);
    request.setTransferTimeout(call->timeoutMs);
    request.setRawHeader("Authorization", authorization().toUtf8());
    request.setRawHeader("Accept", "application/json");
    request.setRawHeader("Request-Id", QUuid::createUuid().toByteArray(QUuid::WithoutBraces));
    request.setRawHeader("User-Agent", "onboarder/" ONBOARDER_VERSION);
    if (!call->body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json; charset=utf-8"));
    for (const auto &[name, value] : call->headers)
        request.setRawHeader(name, value);

    QNetworkReply *reply = m_network->sendCustomRequest(request, call->verb, call->body);
    reply->setParent(m_network.get());
    connect(reply, &QNetworkReply::finished, this, [this, call, reply] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray body = reply->readAll();
        const bool retryable = status == 429 || status == 503;
        if (retryable && call->attempt < m_retry.maxAttempts) {
            // Retry-After (seconds) wins; else exponential backoff with a little jitter.
            bool ok = false;
            const int retryAfter = reply->rawHeader("Retry-After").toInt(&ok);
            int delay = ok ? retryAfter * 1000
                           : std::min(m_retry.maxDelayMs, m_retry.initialDelayMs << (call->attempt - 1));
            delay += int(QRandomGenerator::global()->bounded(std::max(1, delay / 10)));
            qCInfo(lcHub) << "HTTP" << status << "on" << call->verb << call->path << "- retry" << call->attempt << "in" << delay << "ms";
            QTimer::singleShot(delay, this, [this, call] { attempt(call); });
            return;
        }
        if (status == 0 || (reply->error() != QNetworkReply::NoError && status < 400)) {
            call->completion(std::unexpected(networkError(reply, m_profile.hostName)));
            return;
        }
        if (status >= 400) {
            // The "what" of a sentence: the device id of the path, quoted.
            const QStringList parts = call->path.split(u'/', Qt::SkipEmptyParts);
            const QString what = parts.size() >= 2 ? u'"' + QUrl::fromPercentEncoding(parts.at(1).toUtf8()) + u'"' : QString();
            call->completion(std::unexpected(httpError(reply, body, what)));
            return;
        }
        call->completion(std::pair{body, reply});
    });
}

template<typename T, typename Parse>
QFuture<Result<T>> HubClient::request(const QByteArray &verb, const QString &path, const QByteArray &body,
                                      QList<std::pair<QByteArray, QByteArray>> headers, int timeoutMs, Parse parse)
{
    auto promise = startedPromise<T>();
    send(verb, path, body, std::move(headers), timeoutMs, [promise, parse](auto result) {
        if (!result)
            return deliver<T>(promise, std::unexpected(result.error()));
        if constexpr (std::is_void_v<T>)
            deliver<T>(promise, {});
        else
            deliver<T>(promise, parse(result->first, result->second));
    });
    return promise->future();
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

const auto identity = [](const QByteArray &body, QNetworkReply *) { return DeviceIdentity::fromJson(parseObject(body)); };
const auto object = [](const QByteArray &body, QNetworkReply *) { return parseObject(body); };
const auto nothing = [](const QByteArray &, QNetworkReply *) {};

} // namespace

QFuture<Result<DeviceIdentity>> HubClient::createDevice(const DeviceIdentity &device)
{
    QJsonObject body = device.toJson();
    body.remove(QStringLiteral("etag"));
    return request<DeviceIdentity>("PUT", encodedDevicePath(QStringLiteral("/devices/"), device.id), compact(body), {}, 0, identity);
}

QFuture<Result<DeviceIdentity>> HubClient::updateDevice(const DeviceIdentity &device, bool force)
{
    const QByteArray ifMatch = force || device.etag.isEmpty() ? QByteArrayLiteral("\"*\"") : quoted(device.etag);
    return request<DeviceIdentity>("PUT", encodedDevicePath(QStringLiteral("/devices/"), device.id), compact(device.toJson()),
                                   {{"If-Match", ifMatch}}, 0, identity);
}

QFuture<Result<DeviceIdentity>> HubClient::device(const QString &id)
{
    return request<DeviceIdentity>("GET", encodedDevicePath(QStringLiteral("/devices/"), id), {}, {}, 0, identity);
}

QFuture<Result<void>> HubClient::deleteDevice(const QString &id, const QString &etag)
{
    return request<void>("DELETE", encodedDevicePath(QStringLiteral("/devices/"), id), {}, {{"If-Match", quoted(etag)}}, 0, nothing);
}

QFuture<Result<int>> HubClient::purgeCloudToDeviceQueue(const QString &id)
{
    return request<int>("DELETE", encodedDevicePath(QStringLiteral("/devices/"), id, QStringLiteral("/commands")), {}, {}, 0,
                        [](const QByteArray &body, QNetworkReply *) {
                            return QJsonDocument::fromJson(body).object().value(QStringLiteral("totalMessagesPurged")).toInt();
                        });
}

QFuture<Result<QueryPage>> HubClient::query(const QString &query, int pageSize, const QString &continuation)
{
    QList<std::pair<QByteArray, QByteArray>> headers{{"x-ms-max-item-count", QByteArray::number(pageSize)}};
    if (!continuation.isEmpty())
        headers.append({"x-ms-continuation", continuation.toUtf8()});
    return request<QueryPage>("POST", QStringLiteral("/devices/query"), compact({{QStringLiteral("query"), query}}), headers, 0,
                              [](const QByteArray &body, QNetworkReply *reply) {
                                  return QueryPage{QJsonDocument::fromJson(body).array(),
                                                   QString::fromUtf8(reply->rawHeader("x-ms-continuation"))};
                              });
}

QFuture<Result<QJsonObject>> HubClient::twin(const QString &id)
{
    return request<QJsonObject>("GET", encodedDevicePath(QStringLiteral("/twins/"), id), {}, {}, 0, object);
}

QFuture<Result<QJsonObject>> HubClient::updateTwin(const QString &id, const QJsonObject &patch, const QString &etag, bool replace)
{
    QList<std::pair<QByteArray, QByteArray>> headers;
    if (!etag.isEmpty())
        headers.append({"If-Match", quoted(etag)});
    return request<QJsonObject>(replace ? "PUT" : "PATCH", encodedDevicePath(QStringLiteral("/twins/"), id), compact(patch), headers, 0,
                                object);
}

QFuture<Result<MethodResult>> HubClient::invokeMethod(const QString &id, const QString &method, const QJsonValue &payload,
                                                      int responseTimeoutSeconds, int connectTimeoutSeconds)
{
    const QJsonObject body{{QStringLiteral("methodName"), method},
                           {QStringLiteral("payload"), payload},
                           {QStringLiteral("responseTimeoutInSeconds"), responseTimeoutSeconds},
                           {QStringLiteral("connectTimeoutInSeconds"), connectTimeoutSeconds}};
    // The hub holds the request until the device answers: wait a little longer than it does.
    const int timeoutMs = (responseTimeoutSeconds + connectTimeoutSeconds + 10) * 1000;
    return request<MethodResult>("POST", encodedDevicePath(QStringLiteral("/twins/"), id, QStringLiteral("/methods")), compact(body), {},
                                 timeoutMs, [](const QByteArray &answer, QNetworkReply *) {
                                     const QJsonObject json = parseObject(answer);
                                     return MethodResult{json.value(QStringLiteral("status")).toInt(), json.value(QStringLiteral("payload"))};
                                 });
}

QFuture<Result<DeviceStatistics>> HubClient::statistics()
{
    return request<DeviceStatistics>("GET", QStringLiteral("/statistics/devices"), {}, {}, 0, [](const QByteArray &body, QNetworkReply *) {
        const QJsonObject json = parseObject(body);
        return DeviceStatistics{json.value(QStringLiteral("totalDeviceCount")).toInteger(),
                                json.value(QStringLiteral("enabledDeviceCount")).toInteger(),
                                json.value(QStringLiteral("disabledDeviceCount")).toInteger()};
    });
}

} // namespace Onboarder
