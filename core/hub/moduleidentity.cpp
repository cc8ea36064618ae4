#include "moduleidentity.h"

#include "hub/identityauth.h"

namespace Onboarder {

ModuleIdentity ModuleIdentity::fromJson(const QJsonObject &json)
{
    ModuleIdentity m;
    m.deviceId = json.value(QStringLiteral("deviceId")).toString();
    m.moduleId = json.value(QStringLiteral("moduleId")).toString();
    m.generationId = json.value(QStringLiteral("generationId")).toString();
    m.etag = json.value(QStringLiteral("etag")).toString();
    m.managedBy = json.value(QStringLiteral("managedBy")).toString();
    m.connectionState = json.value(QStringLiteral("connectionState")).toString();
    m.connectionStateUpdated
        = IdentityAuth::parseTime(json.value(QStringLiteral("connectionStateUpdatedTime")).toString());
    m.lastActivity = IdentityAuth::parseTime(json.value(QStringLiteral("lastActivityTime")).toString());
    IdentityAuth::read(json, m);
    return m;
}

QJsonObject ModuleIdentity::toJson() const
{
    QJsonObject json{{QStringLiteral("deviceId"), deviceId}, {QStringLiteral("moduleId"), moduleId},
        {QStringLiteral("authentication"), IdentityAuth::write(*this)}};
    if (!managedBy.isEmpty())
        json.insert(QStringLiteral("managedBy"), managedBy);
    if (!etag.isEmpty())
        json.insert(QStringLiteral("etag"), etag);
    return json;
}

QJsonObject ModuleIdentity::toRecordJson(bool revealKeys) const
{
    QJsonObject json = toJson();
    json.insert(QStringLiteral("generationId"), generationId);
    json.insert(QStringLiteral("etag"), etag);
    json.insert(QStringLiteral("managedBy"), managedBy);
    json.insert(QStringLiteral("connectionState"), connectionState);
    json.insert(QStringLiteral("lastActivityTime"),
        lastActivity.isValid() ? lastActivity.toString(Qt::ISODateWithMs) : QString());
    IdentityAuth::maskKeys(json, authType, revealKeys);
    return json;
}

} // namespace Onboarder
