#include "dpsserver.h"

#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QSslCertificate>
#include <QSslSocket>
#include <QUrlQuery>

namespace Onboarder::Sandbox {

namespace {

void write(QHttpServerResponder &responder, const Dps::Answer &answer)
{
    responder.writeStatusLine(QHttpServerResponder::StatusCode(answer.status));
    if (!answer.body.isEmpty())
        responder.writeHeader("Content-Type", "application/json; charset=utf-8");
    responder.writeHeader("Content-Length", QByteArray::number(answer.body.size()));
    for (const auto &[name, value] : answer.headers)
        responder.writeHeader(name, value);
    responder.writeBody(answer.body);
}

} // namespace

DpsServer::DpsServer(Dps &dps, QObject *parent)
    : QAbstractHttpServer(parent)
    , m_dps(dps)
{ }

bool DpsServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QHttpServerResponder responder = makeResponder(request, socket);
    // Each path segment percent-decoded on its own, so that ids with '/' or '%' survive.
    QStringList path;
    for (const QString &segment : request.url().path(QUrl::FullyEncoded).split(u'/', Qt::SkipEmptyParts))
        path.append(QUrl::fromPercentEncoding(segment.toUtf8()));
    const QString apiVersion = request.query().queryItemValue(QStringLiteral("api-version"));
    const QByteArray method = request.method() == QHttpServerRequest::Method::Get ? QByteArrayLiteral("GET")
        : request.method() == QHttpServerRequest::Method::Put                     ? QByteArrayLiteral("PUT")
        : request.method() == QHttpServerRequest::Method::Post                    ? QByteArrayLiteral("POST")
        : request.method() == QHttpServerRequest::Method::Delete                  ? QByteArrayLiteral("DELETE")
                                                                                  : QByteArrayLiteral("OTHER");

    // The device API: /{idScope}/registrations/{registrationId}/register or …/operations/{operationId}.
    if (path.size() >= 4 && path.at(0).compare(m_dps.idScope(), Qt::CaseInsensitive) == 0
        && path.at(1) == QStringLiteral("registrations")) {
        Dps::Credentials credentials;
        credentials.sasToken = QString::fromUtf8(request.value("Authorization"));
        if (auto *tls = qobject_cast<QSslSocket *>(socket)) {
            for (const QSslCertificate &certificate : tls->peerCertificateChain())
                credentials.chainDer.append(certificate.toDer());
        }
        if (path.size() == 4 && path.at(3) == QStringLiteral("register") && method == "PUT") {
            write(responder, m_dps.registerDevice(path.at(0), path.at(2), credentials, request.body()));
            return true;
        }
        if (path.size() == 5 && path.at(3) == QStringLiteral("operations") && method == "GET") {
            write(responder, m_dps.operationStatus(path.at(0), path.at(2), path.at(4), credentials));
            return true;
        }
        write(responder, Dps::error(404, 404201, QStringLiteral("No such resource: %1").arg(request.url().path())));
        return true;
    }

    Dps::ServiceRequest call;
    call.method = method;
    call.path = path;
    call.apiVersion = apiVersion;
    call.authorization = request.value("Authorization");
    call.ifMatch = request.value("If-Match");
    call.maxItemCount = request.value("x-ms-max-item-count");
    call.continuation = request.value("x-ms-continuation");
    call.body = request.body();
    write(responder, m_dps.service(call));
    return true;
}

void DpsServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QHttpServerResponder responder = makeResponder(request, socket);
    write(responder, Dps::error(404, 404201, QStringLiteral("No such resource: %1").arg(request.url().path())));
}

} // namespace Onboarder::Sandbox
