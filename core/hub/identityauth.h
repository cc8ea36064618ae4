#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QString>

// The "authentication" member that device and module identities share in the registry's JSON, read and written
// for any identity type with the fields authType, primaryKey, secondaryKey, primaryThumbprint, secondaryThumbprint.
namespace Onboarder::IdentityAuth {

inline QJsonValue nullable(const QString &text)
{
    return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

// The registry's time, or an invalid one for its "never" (0001-01-01…).
inline QDateTime parseTime(const QString &text)
{
    if (text.isEmpty() || text.startsWith(QStringLiteral("0001-01-01")))
        return {};
    return QDateTime::fromString(text, Qt::ISODateWithMs);
}

template<typename Identity> void read(const QJsonObject &identityJson, Identity &identity)
{
    const QJsonObject auth = identityJson.value(QStringLiteral("authentication")).toObject();
    identity.authType = auth.value(QStringLiteral("type")).toString(QStringLiteral("sas"));
    const QJsonObject keys = auth.value(QStringLiteral("symmetricKey")).toObject();
    identity.primaryKey = keys.value(QStringLiteral("primaryKey")).toString();
    identity.secondaryKey = keys.value(QStringLiteral("secondaryKey")).toString();
    const QJsonObject thumbprints = auth.value(QStringLiteral("x509Thumbprint")).toObject();
    identity.primaryThumbprint = thumbprints.value(QStringLiteral("primaryThumbprint")).toString();
    identity.secondaryThumbprint = thumbprints.value(QStringLiteral("secondaryThumbprint")).toString();
}

template<typename Identity> QJsonObject write(const Identity &identity)
{
    QJsonObject auth{{QStringLiteral("type"), identity.authType}};
    if (identity.authType == QStringLiteral("sas"))
        auth.insert(QStringLiteral("symmetricKey"),
            QJsonObject{{QStringLiteral("primaryKey"), nullable(identity.primaryKey)},
                {QStringLiteral("secondaryKey"), nullable(identity.secondaryKey)}});
    if (identity.authType == QStringLiteral("selfSigned"))
        auth.insert(QStringLiteral("x509Thumbprint"),
            QJsonObject{{QStringLiteral("primaryThumbprint"), nullable(identity.primaryThumbprint)},
                {QStringLiteral("secondaryThumbprint"), nullable(identity.secondaryThumbprint)}});
    return auth;
}

// A record's "authentication" with a SAS identity's keys replaced by a mask, unless revealKeys.
inline void maskKeys(QJsonObject &record, const QString &authType, bool revealKeys)
{
    if (revealKeys || authType != QStringLiteral("sas"))
        return;
    const QString masked = QStringLiteral("********");
    QJsonObject auth = record.value(QStringLiteral("authentication")).toObject();
    auth.insert(QStringLiteral("symmetricKey"),
        QJsonObject{{QStringLiteral("primaryKey"), masked}, {QStringLiteral("secondaryKey"), masked}});
    record.insert(QStringLiteral("authentication"), auth);
}

} // namespace Onboarder::IdentityAuth
