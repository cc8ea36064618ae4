#pragma once

#include "common/promise.h"
#include "common/result.h"

#include <QByteArray>
#include <QFuture>
#include <QList>
#include <QNetworkProxy>
#include <QObject>
#include <QSslConfiguration>
#include <QString>
#include <QUrl>

#include <functional>
#include <memory>
#include <optional>
#include <utility>

class QNetworkAccessManager;
class QNetworkReply;

namespace Onboarder {

// HTTPS requests to one of Azure's REST services (IoT Hub's registry, the Device Provisioning Service), as their
// clients need them: a SAS token in Authorization from the token source, api-version on every URL, JSON bodies,
// 429 and 503 retried (Retry-After wins, else exponential backoff with jitter), a transfer timeout, the service's
// error answers turned into Errors by the service's own mapper. TLS is always verified: the system's CAs plus the
// profile's own CA file, never fewer checks.
//
// Threads: one thread, the one it was created in (its QNetworkAccessManager is a member, not a child: it cannot be
// moved), where its replies and retries are handled and its futures finish.
class RestClient final : public QObject
{
    Q_OBJECT

public:
    struct Endpoint
    {
        QUrl baseUrl{}; // https://HOST[:PORT]/
        QString apiVersion;
        QString caFile; // an extra CA to trust (a sandbox's); empty: system CAs only
        std::optional<QNetworkProxy> proxy{}; // nullopt: connect directly
    };
    struct RetryPolicy
    {
        int maxAttempts = 4; // first try included
        int initialDelayMs = 500; // doubled after each try
        int maxDelayMs = 8000;
    };
    using Headers = QList<std::pair<QByteArray, QByteArray>>;
    using TokenSource = std::function<QString()>;
    // An HTTP status of 400 or more, with the reply and its body, as an Error; path: the request's.
    using ErrorMapper
        = std::function<Error(int status, QNetworkReply *reply, const QByteArray &body, const QString &path)>;

    RestClient(const Endpoint &endpoint, TokenSource token, ErrorMapper errors, QObject *parent = nullptr);
    ~RestClient() override;

    void setRetryPolicy(const RetryPolicy &policy) { m_retry = policy; }
    void setRequestTimeout(int milliseconds) { m_timeoutMs = milliseconds; }
    QString host() const { return m_endpoint.baseUrl.host(); }

    // Aborts every request in flight; their futures end with ErrorKind::Cancelled.
    void cancelAll();

    // A request whose answer, when there is one, becomes a T through parse(body, reply). timeoutMs 0: the default.
    template<typename T, typename Parse>
    QFuture<Result<T>> request(const QByteArray &verb, const QString &path, const QByteArray &body, Headers headers,
        int timeoutMs, Parse parse)
    {
        auto promise = startedPromise<T>();
        send(verb, path, body, std::move(headers), timeoutMs,
            [promise, parse](Result<std::pair<QByteArray, QNetworkReply *>> result) {
                if (!result)
                    return deliver<T>(promise, std::unexpected(result.error()));
                if constexpr (std::is_void_v<T>) {
                    (void)parse; // a body to ignore
                    deliver<T>(promise, {});
                } else
                    deliver<T>(promise, parse(result->first, result->second));
            });
        return promise->future();
    }

    // A failure to reach host at all (DNS, refused, TLS, timeout) as a sentence for a person.
    static Error networkError(QNetworkReply *reply, const QString &host);

private:
    struct Call;
    using Completion = std::function<void(Result<std::pair<QByteArray, QNetworkReply *>>)>;

    void send(const QByteArray &verb, const QString &path, const QByteArray &body, Headers headers, int timeoutMs,
        Completion completion);
    void attempt(const std::shared_ptr<Call> &call);

    Endpoint m_endpoint;
    TokenSource m_token;
    ErrorMapper m_errors;
    QSslConfiguration m_tls;
    std::unique_ptr<QNetworkAccessManager> m_network;
    RetryPolicy m_retry;
    int m_timeoutMs = 30000;
};

} // namespace Onboarder
