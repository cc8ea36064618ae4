#include "dpsclient.h"

#include "hub/sastoken.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QUrl>

namespace Onboarder {

namespace {

// The DPS's error answers: {"errorCode":404201,"trackingId":…,"message":…,"timestampUtc":…}.
Error dpsError(int status, const QByteArray &body, const QString &what, const QString &dpsName)
{
    const QJsonObject json = QJsonDocument::fromJson(body).object();
    const int code = json.value(QStringLiteral("errorCode")).toInt();
    const QString message
        = json.value(QStringLiteral("message")).toString(json.value(QStringLiteral("Message")).toString());
    const QString name = code > 0 ? QStringLiteral("Dps%1").arg(code) : QStringLiteral("Http%1").arg(status);
    switch (status) {
    case 400:
        return {ErrorKind::InvalidInput, name,
            DpsClient::tr("DPS %1 refused the request as invalid: %2").arg(dpsName, message)};
    case 401:
    case 403:
        return {ErrorKind::AuthRefused, name,
            DpsClient::tr(
                "DPS %1 refused the credentials: check that its connection string is current and that its policy "
                "has the rights this needs (enrollment read/write). %2")
                .arg(dpsName, message)};
    case 404: return {ErrorKind::NotFound, name, DpsClient::tr("DPS %1 has no %2.").arg(dpsName, what)};
    case 409:
        return {ErrorKind::Conflict, name,
            DpsClient::tr("DPS %1: %2 conflicts with what it has: %3").arg(dpsName, what, message)};
    case 412:
        return {ErrorKind::Conflict, QStringLiteral("PreconditionFailed"),
            DpsClient::tr("%1 was changed by someone else since it was read. Read it again and retry.").arg(what)};
    case 429:
        return {ErrorKind::Network, name,
            DpsClient::tr("DPS %1 is throttling requests and still was after several tries; wait a minute.")
                .arg(dpsName)};
    default:
        return {status >= 500 ? ErrorKind::Network : ErrorKind::Internal, name,
            DpsClient::tr("DPS %1 answered HTTP %2: %3").arg(dpsName).arg(status).arg(message)};
    }
}

QByteArray quoted(const QString &etag)
{
    return etag.startsWith(u'"') ? etag.toLatin1() : '"' + etag.toLatin1() + '"';
}

const auto object = [](const QByteArray &body, QNetworkReply *) { return QJsonDocument::fromJson(body).object(); };

} // namespace

DpsClient::DpsClient(const DpsProfile &profile, const ConnectionString &service, QObject *parent)
    : QObject(parent)
    , m_profile(profile)
    , m_service(service)
{
    m_rest = std::make_unique<RestClient>(
        RestClient::Endpoint{m_profile.serviceBaseUrl(), QLatin1String(apiVersion), m_profile.caFile, std::nullopt},
        [this] { return authorization(); },
        [name = m_profile.name](int status, QNetworkReply *, const QByteArray &body, const QString &path) {
            // The "what" of a sentence, from the path: /enrollments/ID, /enrollmentGroups/ID, /registrations/ID.
            const QStringList parts = path.split(u'/', Qt::SkipEmptyParts);
            const QString id = parts.size() >= 2 ? QUrl::fromPercentEncoding(parts.at(1).toUtf8()) : QString();
            const Kind kind = path.startsWith(QLatin1String("/enrollmentGroups")) ? Kind::Group
                : path.startsWith(QLatin1String("/registrations"))                ? Kind::Registration
                                                                                  : Kind::Enrollment;
            const QString what = id.isEmpty() || id == QLatin1String("query")
                ? kindName(kind)
                : kindName(kind) + QStringLiteral(" \"") + id + u'"';
            return dpsError(status, body, what, name);
        });
}

DpsClient::~DpsClient()
{
    m_rest->cancelAll();
}

void DpsClient::cancelAll()
{
    m_rest->cancelAll();
}

QString DpsClient::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Enrollment: return tr("enrollment");
    case Kind::Group: return tr("enrollment group");
    case Kind::Registration: return tr("registration");
    }
    return {};
}

QString DpsClient::authorization()
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    if (m_token.isEmpty() || m_tokenExpiry - now < 300) {
        m_tokenExpiry = now + 3600;
        const auto token = SasToken::create(
            m_service.hostName(), m_service.sharedAccessKey(), m_tokenExpiry, m_service.sharedAccessKeyName());
        m_token = token ? token->toString() : QString();
    }
    return m_token;
}

QString DpsClient::path(Kind kind, const QString &id) const
{
    const QString prefix = kind == Kind::Enrollment ? QStringLiteral("/enrollments/")
        : kind == Kind::Group                       ? QStringLiteral("/enrollmentGroups/")
                                                    : QStringLiteral("/registrations/");
    return prefix + QString::fromLatin1(QUrl::toPercentEncoding(id));
}

QFuture<Result<QJsonObject>> DpsClient::get(Kind kind, const QString &id)
{
    return m_rest->request<QJsonObject>("GET", path(kind, id), {}, {}, 0, object);
}

QFuture<Result<QJsonObject>> DpsClient::put(Kind kind, const QString &id, const QJsonObject &body, const QString &etag)
{
    RestClient::Headers headers;
    if (!etag.isEmpty())
        headers.append({"If-Match", quoted(etag)});
    return m_rest->request<QJsonObject>(
        "PUT", path(kind, id), QJsonDocument(body).toJson(QJsonDocument::Compact), headers, 0, object);
}

QFuture<Result<void>> DpsClient::remove(Kind kind, const QString &id, const QString &etag)
{
    RestClient::Headers headers;
    if (!etag.isEmpty())
        headers.append({"If-Match", quoted(etag)});
    return m_rest->request<void>("DELETE", path(kind, id), {}, headers, 0, [](const QByteArray &, QNetworkReply *) {});
}

QFuture<Result<DpsQueryPage>> DpsClient::query(
    Kind kind, const QString &groupId, int pageSize, const QString &continuation)
{
    RestClient::Headers headers{{"x-ms-max-item-count", QByteArray::number(pageSize)}};
    if (!continuation.isEmpty())
        headers.append({"x-ms-continuation", continuation.toUtf8()});
    const QString where = kind == Kind::Enrollment ? QStringLiteral("/enrollments/query")
        : kind == Kind::Group                      ? QStringLiteral("/enrollmentGroups/query")
                                                   : path(Kind::Registration, groupId) + QStringLiteral("/query");
    const QByteArray body = kind == Kind::Registration ? QByteArray() : QByteArrayLiteral("{\"query\":\"*\"}");
    return m_rest->request<DpsQueryPage>(
        "POST", where, body, headers, 0, [](const QByteArray &answer, QNetworkReply *reply) {
            return DpsQueryPage{
                QJsonDocument::fromJson(answer).array(), QString::fromUtf8(reply->rawHeader("x-ms-continuation"))};
        });
}

} // namespace Onboarder
