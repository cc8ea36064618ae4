#include "dpsenrollment.h"

#include <QRegularExpression>

namespace Onboarder::DpsEnrollment {

namespace {

QJsonObject common(const QString &idKey, const QString &id, const Options &options)
{
    QJsonObject body{{idKey, id},
        {QStringLiteral("provisioningStatus"),
            options.enabled ? QStringLiteral("enabled") : QStringLiteral("disabled")}};
    if (!options.initialTwin.isEmpty())
        body.insert(QStringLiteral("initialTwin"), options.initialTwin);
    return body;
}

QJsonObject x509Attestation(const QString &which, const QByteArray &pem)
{
    const QJsonObject primary{{QStringLiteral("certificate"), QString::fromLatin1(pem)}};
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("x509")},
        {QStringLiteral("x509"), QJsonObject{{which, QJsonObject{{QStringLiteral("primary"), primary}}}}}};
}

QJsonObject symmetricKeyAttestation()
{
    return QJsonObject{
        {QStringLiteral("type"), QStringLiteral("symmetricKey")}, {QStringLiteral("symmetricKey"), QJsonObject{}}};
}

QJsonObject x509(const QJsonObject &item)
{
    return item.value(QStringLiteral("attestation")).toObject().value(QStringLiteral("x509")).toObject();
}

} // namespace

QJsonObject individualX509(const QString &registrationId, const QByteArray &certificatePem, const Options &options)
{
    QJsonObject body = common(QStringLiteral("registrationId"), registrationId, options);
    body.insert(QStringLiteral("deviceId"), registrationId);
    body.insert(QStringLiteral("attestation"), x509Attestation(QStringLiteral("clientCertificates"), certificatePem));
    return body;
}

QJsonObject individualSymmetricKey(const QString &registrationId, const Options &options)
{
    QJsonObject body = common(QStringLiteral("registrationId"), registrationId, options);
    body.insert(QStringLiteral("deviceId"), registrationId);
    body.insert(QStringLiteral("attestation"), symmetricKeyAttestation());
    return body;
}

QJsonObject groupX509(const QString &groupId, const QByteArray &caCertificatePem, const Options &options)
{
    QJsonObject body = common(QStringLiteral("enrollmentGroupId"), groupId, options);
    body.insert(
        QStringLiteral("attestation"), x509Attestation(QStringLiteral("signingCertificates"), caCertificatePem));
    return body;
}

QJsonObject groupSymmetricKey(const QString &groupId, const Options &options)
{
    QJsonObject body = common(QStringLiteral("enrollmentGroupId"), groupId, options);
    body.insert(QStringLiteral("attestation"), symmetricKeyAttestation());
    return body;
}

QJsonObject withDeviceId(QJsonObject body, const QString &deviceId)
{
    body.insert(QStringLiteral("deviceId"), deviceId);
    return body;
}

QJsonObject initialTwinFrom(QJsonObject twin)
{
    if (twin.contains(QStringLiteral("desired")) && !twin.contains(QStringLiteral("properties")))
        twin.insert(QStringLiteral("properties"),
            QJsonObject{{QStringLiteral("desired"), twin.take(QStringLiteral("desired"))}});
    return twin;
}

QString attestationType(const QJsonObject &item)
{
    return item.value(QStringLiteral("attestation")).toObject().value(QStringLiteral("type")).toString();
}

bool isSymmetricKey(const QJsonObject &item)
{
    return attestationType(item) == QLatin1String("symmetricKey");
}

bool isX509(const QJsonObject &item)
{
    return attestationType(item) == QLatin1String("x509");
}

QString primarySymmetricKey(const QJsonObject &item)
{
    return item.value(QStringLiteral("attestation"))
        .toObject()
        .value(QStringLiteral("symmetricKey"))
        .toObject()
        .value(QStringLiteral("primaryKey"))
        .toString();
}

bool hasSigningCertificates(const QJsonObject &item)
{
    return x509(item).contains(QStringLiteral("signingCertificates"));
}

QStringList sha256Thumbprints(const QJsonObject &item)
{
    const QJsonObject certificates = x509(item)
                                         .value(hasSigningCertificates(item) ? QStringLiteral("signingCertificates")
                                                                             : QStringLiteral("clientCertificates"))
                                         .toObject();
    QStringList thumbprints;
    for (const char *slot : {"primary", "secondary"}) {
        const QString thumbprint = certificates.value(QLatin1String(slot))
                                       .toObject()
                                       .value(QStringLiteral("info"))
                                       .toObject()
                                       .value(QStringLiteral("sha256Thumbprint"))
                                       .toString()
                                       .toUpper();
        if (!thumbprint.isEmpty())
            thumbprints.append(thumbprint);
    }
    return thumbprints;
}

bool isRegistrationId(const QString &id)
{
    static const QRegularExpression pattern(QStringLiteral("^[a-z0-9\\-._:]{1,128}$"));
    return pattern.match(id).hasMatch();
}

bool isGroupId(const QString &id)
{
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9\\-._:]{1,128}$"));
    return pattern.match(id).hasMatch();
}

bool isEnabled(const QJsonObject &item)
{
    return item.value(QStringLiteral("provisioningStatus")).toString(QStringLiteral("enabled"))
        == QLatin1String("enabled");
}

QString registrationId(const QJsonObject &item)
{
    return item.value(QStringLiteral("registrationId")).toString();
}

QString groupId(const QJsonObject &item)
{
    return item.value(QStringLiteral("enrollmentGroupId")).toString();
}

QString provisioningStatus(const QJsonObject &item)
{
    return item.value(QStringLiteral("provisioningStatus")).toString();
}

QString assignedHub(const QJsonObject &item)
{
    return item.value(QStringLiteral("registrationState")).toObject().value(QStringLiteral("assignedHub")).toString();
}

QString primarySha1Thumbprint(const QJsonObject &item)
{
    return x509(item)
        .value(
            hasSigningCertificates(item) ? QStringLiteral("signingCertificates") : QStringLiteral("clientCertificates"))
        .toObject()
        .value(QStringLiteral("primary"))
        .toObject()
        .value(QStringLiteral("info"))
        .toObject()
        .value(QStringLiteral("sha1Thumbprint"))
        .toString();
}

QJsonObject masked(QJsonObject item)
{
    QJsonObject attestation = item.value(QStringLiteral("attestation")).toObject();
    QJsonObject keys = attestation.value(QStringLiteral("symmetricKey")).toObject();
    if (keys.isEmpty())
        return item;
    const QString mask = QStringLiteral("********");
    for (const QString &name : {QStringLiteral("primaryKey"), QStringLiteral("secondaryKey")}) {
        if (keys.contains(name))
            keys.insert(name, mask);
    }
    attestation.insert(QStringLiteral("symmetricKey"), keys);
    item.insert(QStringLiteral("attestation"), attestation);
    return item;
}

QJsonObject deviceKeyJson(const QString &group, const QString &registration, const QString &deviceKey)
{
    return {{QStringLiteral("group"), group}, {QStringLiteral("registrationId"), registration},
        {QStringLiteral("deviceKey"), deviceKey}};
}

} // namespace Onboarder::DpsEnrollment
