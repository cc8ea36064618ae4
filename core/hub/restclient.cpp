#include "restclient.h"

#include "common/logging.h"

#include <QCoreApplication>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QSslCertificate>
#include <QTimer>
#include <QUuid>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(HubClient)
};

} // namespace

struct RestClient::Call
{
    QByteArray verb;
    QString path;
    QByteArray body;
    Headers headers;
    int timeoutMs = 0;
    int attempt = 0;
    Completion completion;
};

RestClient::RestClient(const Endpoint &endpoint, TokenSource token, ErrorMapper errors, QObject *parent)
    : QObject(parent)
    , m_endpoint(endpoint)
    , m_token(std::move(token))
    , m_errors(std::move(errors))
    , m_tls(QSslConfiguration::defaultConfiguration())
    , m_network(std::make_unique<QNetworkAccessManager>())
{
    // The system's CAs, plus the profile's own (the sandbox's) if it names one. Never fewer checks.
    if (!m_endpoint.caFile.isEmpty())
        m_tls.addCaCertificates(QSslCertificate::fromPath(m_endpoint.caFile, QSsl::Pem));
    // The profile's proxy, if it has one; never the system's by accident.
    m_network->setProxy(m_endpoint.proxy.value_or(QNetworkProxy(QNetworkProxy::NoProxy)));
}

RestClient::~RestClient()
{
    cancelAll();
}

void RestClient::cancelAll()
{
    const auto replies = m_network->findChildren<QNetworkReply *>();
    for (QNetworkReply *reply : replies)
        reply->abort();
}

Error RestClient::networkError(QNetworkReply *reply, const QString &host)
{
    switch (reply->error()) {
    case QNetworkReply::HostNotFoundError:
        return {
            ErrorKind::Network, QStringLiteral("HostNotFound"), Text::tr("The host %1 is unknown (DNS).").arg(host)};
    case QNetworkReply::ConnectionRefusedError:
        return {
            ErrorKind::Network, QStringLiteral("ConnectionRefused"), Text::tr("%1 refused the connection.").arg(host)};
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
        return {ErrorKind::Network, QStringLiteral("NetworkError"),
            Text::tr("Could not reach %1: %2").arg(host, reply->errorString())};
    }
}

void RestClient::send(const QByteArray &verb, const QString &path, const QByteArray &body, Headers headers,
    int timeoutMs, Completion completion)
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

void RestClient::attempt(const std::shared_ptr<Call> &call)
{
    ++call->attempt;
    QUrl url = QUrl::fromEncoded(m_endpoint.baseUrl.toEncoded(QUrl::RemovePath) + call->path.toUtf8());
    // A path may carry a query of its own (already encoded); api-version goes first.
    const QString ownQuery = url.query(QUrl::FullyEncoded);
    url.setQuery(
        QStringLiteral("api-version=") + m_endpoint.apiVersion + (ownQuery.isEmpty() ? QString() : u'&' + ownQuery),
        QUrl::StrictMode);
    QNetworkRequest request(url);
    request.setSslConfiguration(m_tls);
    request.setTransferTimeout(call->timeoutMs);
    request.setRawHeader("Authorization", m_token().toUtf8());
    request.setRawHeader("Accept", "application/json");
    request.setRawHeader("Request-Id", QUuid::createUuid().toByteArray(QUuid::WithoutBraces));
    request.setRawHeader("User-Agent", "onboarder/" ONBOARDER_VERSION);
    if (!call->body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json; charset=utf-8"));
    for (const auto &[name, value] : call->headers)
        request.setRawHeader(name, value);

    QNetworkReply *reply = m_network->sendCustomRequest(request, call->verb, call->body);
    reply->setParent(m_network.get());
    // Once: an aborted reply (cancelAll()) can say finished() twice in Qt 6.4, and a second answer would finish the
    // promise again and run its continuations a second time.
    connect(
        reply, &QNetworkReply::finished, this,
        [this, call, reply] {
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
                qCInfo(lcHub) << "HTTP" << status << "on" << call->verb << call->path << "- retry" << call->attempt
                              << "in" << delay << "ms";
                QTimer::singleShot(delay, this, [this, call] { attempt(call); });
                return;
            }
            if (status == 0 || (reply->error() != QNetworkReply::NoError && status < 400)) {
                call->completion(std::unexpected(networkError(reply, m_endpoint.baseUrl.host())));
                return;
            }
            if (status >= 400) {
                call->completion(std::unexpected(m_errors(status, reply, body, call->path)));
                return;
            }
            call->completion(std::pair{body, reply});
        },
        Qt::SingleShotConnection);
}

} // namespace Onboarder
