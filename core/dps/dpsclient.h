#pragma once

#include "common/result.h"
#include "dps/dpsprofile.h"
#include "hub/connectionstring.h"
#include "hub/restclient.h"

#include <QFuture>
#include <QJsonArray>
#include <QJsonObject>
#include <QObject>

#include <memory>

namespace Onboarder {

// One page of a DPS query: the items as the service gave them, and where the next page starts (empty: none).
struct DpsQueryPage
{
    QJsonArray items;
    QString continuation;
};

// The Device Provisioning Service's service API (api-version 2021-10-01) for one DPS instance: individual
// enrollments, enrollment groups and registration states, as JSON in the service's own shapes (enrollments are
// passed through, not re-modelled, so that what the service adds survives a read-modify-write). Every request is
// signed with a SAS token of the DPS's policy; TLS always verified; 429/503 retried. Threads: the owner's.
class DpsClient final : public QObject
{
    Q_OBJECT

public:
    DpsClient(const DpsProfile &profile, const ConnectionString &service, QObject *parent = nullptr);
    ~DpsClient() override;

    enum class Kind { Enrollment, Group, Registration };

    QFuture<Result<QJsonObject>> get(Kind kind, const QString &id);
    // PUT: creates it, or replaces it; with an ETag (the object's "etag") only that version (else PreconditionFailed).
    QFuture<Result<QJsonObject>> put(Kind kind, const QString &id, const QJsonObject &body, const QString &etag = {});
    QFuture<Result<void>> remove(Kind kind, const QString &id, const QString &etag = {});
    // Enrollments or groups: every one (query "*"), page by page. Registrations: those of one enrollment group.
    QFuture<Result<DpsQueryPage>> query(
        Kind kind, const QString &groupId = {}, int pageSize = 100, const QString &continuation = {});

    void cancelAll();

    static constexpr const char *apiVersion = "2021-10-01";
    // The name of what kind of thing, for sentences ("enrollment", "enrollment group", "registration").
    static QString kindName(Kind kind);

private:
    QString authorization();
    QString path(Kind kind, const QString &id) const;

    DpsProfile m_profile;
    ConnectionString m_service;
    std::unique_ptr<RestClient> m_rest;
    QString m_token;
    qint64 m_tokenExpiry = 0;
};

} // namespace Onboarder
