#include "dps.h"

#include "certificatepath.h"
#include "credentials/certificate.h"
#include "hub/connectionstring.h"
#include "hub/identifiers.h"
#include "hub/sastoken.h"
#include "registry.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMessageAuthenticationCode>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSslCertificate>
#include <QUuid>

#include <algorithm>

namespace Onboarder::Sandbox {

namespace {

// Error codes as DPS sends them in "errorCode" (the HTTP status followed by three digits).
constexpr int badRequestCode = 400004;
constexpr int unauthorizedCode = 401002;
constexpr int notFoundCode = 404201;
constexpr int operationNotFoundCode = 404202;
constexpr int methodNotAllowedCode = 405001;
constexpr int preconditionFailedCode = 412002;
constexpr int internalErrorCode = 500001;

const QStringList &apiVersions()
{
    static const QStringList versions{QStringLiteral("2018-09-01-preview"), QStringLiteral("2019-03-31"),
        QStringLiteral("2021-06-01"), QStringLiteral("2021-10-01")};
    return versions;
}

QString nowText()
{
    return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
}

QString randomKey()
{
    QByteArray bytes(64, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()), bytes.size() / 4);
    return QString::fromLatin1(bytes.toBase64());
}

QString randomHex(int bytes)
{
    QByteArray data(bytes, Qt::Uninitialized);
    for (char &c : data)
        c = char(QRandomGenerator::global()->bounded(256));
    return QString::fromLatin1(data.toHex());
}

Dps::Answer json(int status, const QJsonValue &value)
{
    Dps::Answer answer;
    answer.status = status;
    answer.body = value.isArray() ? QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact)
                                  : QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
    return answer;
}

// DPS's registration ids: up to 128 of alphanumerics, '-', '.', '_', ':', ending in an alphanumeric or '-'.
bool validRegistrationId(const QString &id)
{
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9._:-]{0,127}[A-Za-z0-9-]$"));
    return pattern.match(id).hasMatch();
}

QString unquoted(const QByteArray &etag)
{
    QString text = QString::fromUtf8(etag).trimmed();
    if (text.size() >= 2 && text.startsWith(u'"') && text.endsWith(u'"'))
        text = text.mid(1, text.size() - 2);
    return text;
}

Result<QJsonObject> invalid(const QString &message)
{
    return fail(ErrorKind::InvalidInput, QStringLiteral("ArgumentInvalid"), message);
}

QJsonObject certificateInfo(const Certificate &certificate)
{
    return {{QStringLiteral("subjectName"), certificate.subject()},
        {QStringLiteral("sha1Thumbprint"), certificate.thumbprintSha1()},
        {QStringLiteral("sha256Thumbprint"), certificate.thumbprintSha256()},
        {QStringLiteral("issuerName"), certificate.issuer()},
        {QStringLiteral("notBeforeUtc"), certificate.notBefore().toUTC().toString(Qt::ISODate)},
        {QStringLiteral("notAfterUtc"), certificate.notAfter().toUTC().toString(Qt::ISODate)},
        {QStringLiteral("serialNumber"),
            QString::fromLatin1(QSslCertificate(certificate.toDer(), QSsl::Der).serialNumber()).remove(u':').toUpper()},
        {QStringLiteral("version"), 3}};
}

// A certificate as a service gives it: PEM, or base64 of DER.
Result<Certificate> readCertificate(const QJsonValue &value)
{
    const QByteArray text = value.toString().toLatin1();
    if (text.contains("-----BEGIN"))
        return Certificate::fromPem(text);
    const auto der = QByteArray::fromBase64Encoding(text.trimmed(), QByteArray::AbortOnBase64DecodingErrors);
    if (!der || der.decoded.isEmpty())
        return fail(ErrorKind::InvalidInput, QStringLiteral("ArgumentInvalid"), QStringLiteral("not PEM or base64"));
    return Certificate::fromDer(der.decoded);
}

// The certificates of an X.509 attestation ("clientCertificates" or "signingCertificates"): primary required.
Result<QJsonObject> parseCertificates(const QJsonObject &x509, const QString &member, bool requireCa)
{
    const QJsonValue value = x509.value(member);
    if (!value.isObject())
        return invalid(QStringLiteral("attestation.x509.%1 is missing: it needs a primary certificate.").arg(member));
    QJsonObject out;
    for (const QString &slot : {QStringLiteral("primary"), QStringLiteral("secondary")}) {
        const QJsonValue entry = value.toObject().value(slot);
        if (entry.isNull() || entry.isUndefined()) {
            if (slot == QStringLiteral("primary"))
                return invalid(QStringLiteral("attestation.x509.%1.primary is missing.").arg(member));
            continue;
        }
        const QString where = QStringLiteral("attestation.x509.%1.%2.certificate").arg(member, slot);
        if (!entry.isObject() || !entry.toObject().value(QStringLiteral("certificate")).isString())
            return invalid(QStringLiteral("%1 is missing (a PEM or base64 DER certificate).").arg(where));
        const auto certificate = readCertificate(entry.toObject().value(QStringLiteral("certificate")));
        if (!certificate)
            return invalid(QStringLiteral("%1 is not a PEM or base64 DER certificate.").arg(where));
        if (requireCa && !CertificatePath::isCa(*certificate))
            return invalid(
                QStringLiteral("%1 is not a CA certificate (an enrollment group's signing certificate is a root or "
                               "intermediate CA: X.509 version 3 with basicConstraints CA:TRUE).")
                    .arg(where));
        out.insert(slot,
            QJsonObject{{QStringLiteral("certificate"), QString::fromLatin1(certificate->toPem())},
                {QStringLiteral("info"), certificateInfo(*certificate)}});
    }
    return out;
}

Result<QString> parseKey(const QJsonObject &symmetric, const QString &name)
{
    const QJsonValue value = symmetric.value(name);
    if (value.isNull() || value.isUndefined() || value.toString().isEmpty())
        return randomKey();
    if (!value.isString())
        return fail(ErrorKind::InvalidInput, QStringLiteral("ArgumentInvalid"),
            QStringLiteral("attestation.symmetricKey.%1 must be a string.").arg(name));
    const auto decoded
        = QByteArray::fromBase64Encoding(value.toString().toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || decoded.decoded.size() < 16 || decoded.decoded.size() > 64)
        return fail(ErrorKind::InvalidInput, QStringLiteral("ArgumentInvalid"),
            QStringLiteral("attestation.symmetricKey.%1 must be base64 of 16 to 64 bytes.").arg(name));
    return value.toString();
}

QList<Certificate> storedCertificates(const QJsonObject &enrollment, const QString &member)
{
    QList<Certificate> out;
    const QJsonObject certificates = enrollment.value(QStringLiteral("attestation"))
                                         .toObject()
                                         .value(QStringLiteral("x509"))
                                         .toObject()
                                         .value(member)
                                         .toObject();
    for (const QString &slot : {QStringLiteral("primary"), QStringLiteral("secondary")}) {
        const QString pem = certificates.value(slot).toObject().value(QStringLiteral("certificate")).toString();
        if (auto certificate = Certificate::fromPem(pem.toLatin1()))
            out.append(*certificate);
    }
    return out;
}

QString attestationType(const QJsonObject &enrollment)
{
    return enrollment.value(QStringLiteral("attestation")).toObject().value(QStringLiteral("type")).toString();
}

bool disabled(const QJsonObject &enrollment)
{
    return enrollment.value(QStringLiteral("provisioningStatus")).toString() == QStringLiteral("disabled");
}

QJsonArray values(const QHash<QString, QJsonObject> &hash)
{
    QJsonArray out;
    for (const QJsonObject &item : hash)
        out.append(item);
    return out;
}

} // namespace

QByteArray Dps::Answer::header(const QByteArray &name) const
{
    for (const auto &[key, value] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

QJsonObject Dps::Answer::object() const
{
    return QJsonDocument::fromJson(body).object();
}

Dps::Answer Dps::error(int status, int errorCode, const QString &message)
{
    const QString trackingId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    return json(status,
        QJsonObject{{QStringLiteral("errorCode"), errorCode}, {QStringLiteral("trackingId"), trackingId},
            {QStringLiteral("message"), message}, {QStringLiteral("timestampUtc"), nowText()}});
}

Dps::Dps(Registry &hub, const QString &hubHostName)
    : m_hub(hub)
    , m_hubHostName(hubHostName)
{ }

Result<void> Dps::open(const QString &path, const QString &dpsHost)
{
    m_path = path;
    m_host = dpsHost;
    QFile file(path);
    if (!file.exists()) {
        m_idScope = QStringLiteral("0ne") + randomHex(4).toUpper();
        m_primaryKey = randomKey();
        m_secondaryKey = randomKey();
        if (!save())
            return fail(
                ErrorKind::Internal, QStringLiteral("DataDirNotWritable"), QStringLiteral("Cannot write %1").arg(path));
        return {};
    }
    if (!file.open(QIODevice::ReadOnly))
        return fail(
            ErrorKind::Internal, QStringLiteral("DpsStateUnreadable"), QStringLiteral("Cannot read %1").arg(path));
    const QJsonObject state = QJsonDocument::fromJson(file.readAll()).object();
    m_idScope = state.value(QStringLiteral("idScope")).toString();
    const QJsonObject policy = state.value(QStringLiteral("policy")).toObject();
    m_primaryKey = policy.value(QStringLiteral("primaryKey")).toString();
    m_secondaryKey = policy.value(QStringLiteral("secondaryKey")).toString();
    if (m_idScope.isEmpty() || m_primaryKey.isEmpty() || m_secondaryKey.isEmpty())
        return fail(ErrorKind::Internal, QStringLiteral("DpsStateDamaged"),
            QStringLiteral("%1 is damaged (no ID scope or policy keys); delete it to start the DPS afresh.").arg(path));
    m_etagCounter = state.value(QStringLiteral("etagCounter")).toInteger();
    const auto load = [&state](const QString &name, const QString &idKey, QHash<QString, QJsonObject> &into) {
        for (const auto &value : state.value(name).toArray())
            into.insert(value.toObject().value(idKey).toString().toLower(), value.toObject());
    };
    load(QStringLiteral("enrollments"), QStringLiteral("registrationId"), m_enrollments);
    load(QStringLiteral("enrollmentGroups"), QStringLiteral("enrollmentGroupId"), m_groups);
    load(QStringLiteral("registrations"), QStringLiteral("registrationId"), m_registrations);
    return {};
}

bool Dps::save()
{
    const QJsonObject state{{QStringLiteral("idScope"), m_idScope},
        {QStringLiteral("policy"),
            QJsonObject{{QStringLiteral("name"), QLatin1String(OwnerPolicy)},
                {QStringLiteral("primaryKey"), m_primaryKey}, {QStringLiteral("secondaryKey"), m_secondaryKey}}},
        {QStringLiteral("etagCounter"), m_etagCounter}, {QStringLiteral("enrollments"), values(m_enrollments)},
        {QStringLiteral("enrollmentGroups"), values(m_groups)},
        {QStringLiteral("registrations"), values(m_registrations)}};
    QSaveFile file(m_path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    file.write(QJsonDocument(state).toJson(QJsonDocument::Compact));
    return file.commit();
}

QString Dps::connectionString() const
{
    return ConnectionString::service(m_host, QLatin1String(OwnerPolicy), m_primaryKey).toString();
}

QString Dps::policyKey(const QString &policyName) const
{
    return policyName == QLatin1String(OwnerPolicy) ? m_primaryKey : QString();
}

QString Dps::nextEtag()
{
    ++m_etagCounter;
    return QString::fromLatin1(
        QByteArray('"' + QByteArray::number(m_etagCounter) + '-' + randomHex(4).toLatin1() + '"').toBase64());
}

QString Dps::deriveDeviceKey(const QString &groupKey, const QString &registrationId)
{
    const auto key = QByteArray::fromBase64Encoding(groupKey.toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
    if (!key || key.decoded.isEmpty())
        return {};
    return QString::fromLatin1(
        QMessageAuthenticationCode::hash(registrationId.toUtf8(), key.decoded, QCryptographicHash::Sha256).toBase64());
}

Result<QJsonObject> Dps::parseEnrollment(const QByteArray &body, const QString &id, bool group)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError || !document.isObject())
        return invalid(parseError.error != QJsonParseError::NoError
                ? QStringLiteral("The body is not JSON: %1 at offset %2.")
                      .arg(parseError.errorString())
                      .arg(parseError.offset)
                : QStringLiteral("The body is not a JSON object."));
    const QJsonObject in = document.object();
    const QString idKey = group ? QStringLiteral("enrollmentGroupId") : QStringLiteral("registrationId");
    if (!validRegistrationId(id))
        return invalid(QStringLiteral(
            "'%1' is not a valid %2: up to 128 letters, digits and '-', '.', '_', ':', ending in a letter, "
            "digit or '-'.")
                           .arg(id, idKey));
    if (in.contains(idKey)
        && (!in.value(idKey).isString() || in.value(idKey).toString().compare(id, Qt::CaseInsensitive) != 0))
        return invalid(QStringLiteral("%1 in the body (%2) is not the one in the URL (%3).")
                           .arg(idKey, in.value(idKey).toVariant().toString(), id));

    QJsonObject out{{idKey, id}};
    if (!group && in.contains(QStringLiteral("deviceId")) && !in.value(QStringLiteral("deviceId")).isNull()) {
        const QString deviceId = in.value(QStringLiteral("deviceId")).toString();
        if (auto ok = Identifiers::validateDeviceId(deviceId); !ok)
            return invalid(QStringLiteral("deviceId: %1").arg(ok.error().message));
        out.insert(QStringLiteral("deviceId"), deviceId);
    }

    // Attestation.
    const QJsonValue attestationValue = in.value(QStringLiteral("attestation"));
    if (!attestationValue.isObject())
        return invalid(
            QStringLiteral("attestation is missing: an enrollment needs {\"type\": \"x509\" or \"symmetricKey\", …}."));
    const QJsonObject attestation = attestationValue.toObject();
    const QString type = attestation.value(QStringLiteral("type")).toString();
    QJsonObject attestationOut{{QStringLiteral("type"), type}};
    if (type == QStringLiteral("tpm")) {
        return invalid(
            QStringLiteral("TPM attestation is not supported by the sandbox DPS; use x509 or symmetricKey."));
    } else if (type == QStringLiteral("symmetricKey")) {
        const QJsonValue symmetricValue = attestation.value(QStringLiteral("symmetricKey"));
        if (!symmetricValue.isNull() && !symmetricValue.isUndefined() && !symmetricValue.isObject())
            return invalid(QStringLiteral("attestation.symmetricKey must be an object."));
        const auto primary = parseKey(symmetricValue.toObject(), QStringLiteral("primaryKey"));
        if (!primary)
            return invalid(primary.error().message);
        const auto secondary = parseKey(symmetricValue.toObject(), QStringLiteral("secondaryKey"));
        if (!secondary)
            return invalid(secondary.error().message);
        attestationOut.insert(QStringLiteral("symmetricKey"),
            QJsonObject{{QStringLiteral("primaryKey"), *primary}, {QStringLiteral("secondaryKey"), *secondary}});
    } else if (type == QStringLiteral("x509")) {
        const QJsonValue x509Value = attestation.value(QStringLiteral("x509"));
        if (!x509Value.isObject())
            return invalid(QStringLiteral("attestation.x509 is missing."));
        const QJsonObject x509 = x509Value.toObject();
        if (x509.contains(QStringLiteral("caReferences")) && !x509.value(QStringLiteral("caReferences")).isNull())
            return invalid(QStringLiteral(
                "attestation.x509.caReferences is not supported by the sandbox DPS (it keeps no uploaded "
                "CA certificates): give the CA in signingCertificates."));
        const QString member = group ? QStringLiteral("signingCertificates") : QStringLiteral("clientCertificates");
        const QString other = group ? QStringLiteral("clientCertificates") : QStringLiteral("signingCertificates");
        if (x509.contains(other) && !x509.value(other).isNull())
            return invalid(group
                    ? QStringLiteral("An enrollment group takes attestation.x509.signingCertificates (its CA), not "
                                     "clientCertificates.")
                    : QStringLiteral("An individual enrollment takes attestation.x509.clientCertificates (the device's "
                                     "own certificate), not signingCertificates."));
        const auto certificates = parseCertificates(x509, member, group);
        if (!certificates)
            return certificates;
        attestationOut.insert(QStringLiteral("x509"), QJsonObject{{member, *certificates}});
    } else {
        return invalid(
            QStringLiteral("attestation.type '%1' is not one the sandbox DPS knows: use x509 or symmetricKey.")
                .arg(type));
    }
    out.insert(QStringLiteral("attestation"), attestationOut);

    // Provisioning status, reprovision policy, capabilities, initial twin.
    const QJsonValue status = in.value(QStringLiteral("provisioningStatus"));
    if (status.isNull() || status.isUndefined())
        out.insert(QStringLiteral("provisioningStatus"), QStringLiteral("enabled"));
    else if (status.toString().compare(QStringLiteral("enabled"), Qt::CaseInsensitive) == 0
        || status.toString().compare(QStringLiteral("disabled"), Qt::CaseInsensitive) == 0)
        out.insert(QStringLiteral("provisioningStatus"), status.toString().toLower());
    else
        return invalid(QStringLiteral("provisioningStatus must be 'enabled' or 'disabled', not %1.")
                           .arg(QString::fromUtf8(QJsonDocument(QJsonArray{status}).toJson(QJsonDocument::Compact))));

    const QJsonValue reprovision = in.value(QStringLiteral("reprovisionPolicy"));
    if (reprovision.isNull() || reprovision.isUndefined()) {
        out.insert(QStringLiteral("reprovisionPolicy"),
            QJsonObject{{QStringLiteral("updateHubAssignment"), true}, {QStringLiteral("migrateDeviceData"), true}});
    } else {
        const QJsonObject policy = reprovision.toObject();
        if (!reprovision.isObject() || !policy.value(QStringLiteral("updateHubAssignment")).isBool()
            || !policy.value(QStringLiteral("migrateDeviceData")).isBool())
            return invalid(QStringLiteral(
                "reprovisionPolicy needs both updateHubAssignment and migrateDeviceData, true or false."));
        out.insert(QStringLiteral("reprovisionPolicy"),
            QJsonObject{{QStringLiteral("updateHubAssignment"), policy.value(QStringLiteral("updateHubAssignment"))},
                {QStringLiteral("migrateDeviceData"), policy.value(QStringLiteral("migrateDeviceData"))}});
    }

    const QJsonValue capabilities = in.value(QStringLiteral("capabilities"));
    if (!capabilities.isNull() && !capabilities.isUndefined() && !capabilities.isObject())
        return invalid(QStringLiteral("capabilities must be an object ({\"iotEdge\": false})."));
    out.insert(QStringLiteral("capabilities"),
        QJsonObject{{QStringLiteral("iotEdge"), capabilities.toObject().value(QStringLiteral("iotEdge")).toBool()}});

    const QJsonValue twin = in.value(QStringLiteral("initialTwin"));
    if (!twin.isNull() && !twin.isUndefined()) {
        if (!twin.isObject())
            return invalid(
                QStringLiteral("initialTwin must be an object ({\"tags\": {…}, \"properties\": {\"desired\": {…}}})."));
        const QJsonValue tags = twin.toObject().value(QStringLiteral("tags"));
        const QJsonValue properties = twin.toObject().value(QStringLiteral("properties"));
        const QJsonValue desired = properties.toObject().value(QStringLiteral("desired"));
        if ((!tags.isUndefined() && !tags.isNull() && !tags.isObject())
            || (!properties.isUndefined() && !properties.isNull() && !properties.isObject())
            || (!desired.isUndefined() && !desired.isNull() && !desired.isObject()))
            return invalid(QStringLiteral("initialTwin: tags and properties.desired must be objects."));
        out.insert(QStringLiteral("initialTwin"),
            QJsonObject{{QStringLiteral("tags"), tags.toObject()},
                {QStringLiteral("properties"), QJsonObject{{QStringLiteral("desired"), desired.toObject()}}}});
    }
    for (const QString &key : {QStringLiteral("allocationPolicy"), QStringLiteral("optionalDeviceInformation")}) {
        if (in.contains(key) && !in.value(key).isNull())
            out.insert(key, in.value(key));
    }
    return out;
}

Result<QJsonObject> Dps::parseRegistrationRequest(const QByteArray &body, const QString &registrationId)
{
    if (body.trimmed().isEmpty())
        return QJsonObject();
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError || !document.isObject())
        return invalid(QStringLiteral("The registration request is not a JSON object ({\"registrationId\": \"…\"})."));
    const QJsonObject in = document.object();
    const QJsonValue id = in.value(QStringLiteral("registrationId"));
    if (!id.isUndefined() && (!id.isString() || id.toString().compare(registrationId, Qt::CaseInsensitive) != 0))
        return invalid(QStringLiteral("registrationId in the body is not %1, the one the device connected as.")
                           .arg(registrationId));
    if (in.contains(QStringLiteral("tpm")))
        return invalid(QStringLiteral("TPM attestation is not supported by the sandbox DPS."));
    QJsonObject out;
    if (in.contains(QStringLiteral("payload")))
        out.insert(QStringLiteral("payload"), in.value(QStringLiteral("payload")));
    return out;
}

std::optional<Dps::Answer> Dps::authorizeService(const ServiceRequest &request) const
{
    const auto refuse
        = [](const QString &why) { return error(401, unauthorizedCode, QStringLiteral("unauthorizedCode: ") + why); };
    if (request.authorization.isEmpty())
        return refuse(QStringLiteral("no Authorization header (a SAS token of the DPS's shared access policy)."));
    const auto token = SasToken::parse(QString::fromUtf8(request.authorization));
    if (!token)
        return refuse(token.error().message);
    QString resource = token->resource();
    while (resource.endsWith(u'/'))
        resource.chop(1);
    if (resource.compare(m_host, Qt::CaseInsensitive) != 0) {
        if (resource.compare(m_hubHostName, Qt::CaseInsensitive) == 0)
            return refuse(
                QStringLiteral("the token is for the IoT hub %1, not for this DPS (%2): a hub connection string was "
                               "given where the DPS's belongs.")
                    .arg(resource, m_host));
        return refuse(QStringLiteral("the token is for '%1', not for this DPS (%2).").arg(resource, m_host));
    }
    if (token->keyName() != QLatin1String(OwnerPolicy))
        return refuse(QStringLiteral("this DPS has no shared access policy named '%1' (its policy is %2)%3.")
                          .arg(token->keyName(), QLatin1String(OwnerPolicy),
                              token->keyName().startsWith(QStringLiteral("iothub"))
                                      || token->keyName() == QStringLiteral("service")
                                  ? QStringLiteral(": that is an IoT hub policy, so this is a hub connection string")
                                  : QString()));
    if (!token->verify(m_primaryKey) && !token->verify(m_secondaryKey))
        return refuse(
            QStringLiteral("the signature does not match the keys of policy %1.").arg(QLatin1String(OwnerPolicy)));
    if (token->isExpired())
        return refuse(QStringLiteral("the token expired at %1.").arg(token->expiryTime().toString(Qt::ISODate)));
    return std::nullopt;
}

QJsonObject Dps::present(const QJsonObject &stored) const
{
    QJsonObject out;
    for (auto it = stored.begin(); it != stored.end(); ++it) {
        if (!it.key().startsWith(u'_'))
            out.insert(it.key(), it.value());
    }
    // An individual enrollment shows its device's registration state, as DPS does.
    if (stored.contains(QStringLiteral("attestation")) && stored.contains(QStringLiteral("registrationId"))) {
        const auto state
            = m_registrations.constFind(stored.value(QStringLiteral("registrationId")).toString().toLower());
        if (state != m_registrations.constEnd())
            out.insert(QStringLiteral("registrationState"), present(*state));
    }
    QJsonObject attestation = out.value(QStringLiteral("attestation")).toObject();
    if (attestation.contains(QStringLiteral("x509"))) {
        QJsonObject x509 = attestation.value(QStringLiteral("x509")).toObject();
        for (const QString &member : {QStringLiteral("clientCertificates"), QStringLiteral("signingCertificates")}) {
            if (!x509.contains(member))
                continue;
            QJsonObject certificates = x509.value(member).toObject();
            for (auto it = certificates.begin(); it != certificates.end(); ++it)
                it.value() = QJsonObject{{QStringLiteral("info"), it.value().toObject().value(QStringLiteral("info"))}};
            x509.insert(member, certificates);
        }
        attestation.insert(QStringLiteral("x509"), x509);
        out.insert(QStringLiteral("attestation"), attestation);
    }
    return out;
}

Dps::Answer Dps::service(const ServiceRequest &request)
{
    if (!apiVersions().contains(request.apiVersion))
        return error(400, badRequestCode,
            QStringLiteral("api-version '%1' is not one this DPS serves (use %2).")
                .arg(request.apiVersion, QLatin1String(ServiceApiVersion)));
    if (auto refused = authorizeService(request))
        return *refused;

    const QStringList &path = request.path;
    const QString first = path.value(0).toLower();
    const bool post = request.method == "POST";
    if (first == QStringLiteral("enrollments") && path.size() == 1 && post)
        return bulk(request);
    if ((first == QStringLiteral("enrollments") || first == QStringLiteral("enrollmentgroups")) && path.size() >= 2) {
        const bool group = first == QStringLiteral("enrollmentgroups");
        auto &collection = group ? m_groups : m_enrollments;
        const QString id = path.at(1);
        if (path.size() == 2 && post && id.compare(QStringLiteral("query"), Qt::CaseInsensitive) == 0) {
            QList<QJsonObject> items = collection.values();
            return query(request, items, group ? "enrollmentGroup" : "enrollment");
        }
        if (path.size() == 3 && post
            && path.at(2).compare(QStringLiteral("attestationmechanism"), Qt::CaseInsensitive) == 0) {
            const auto it = collection.constFind(id.toLower());
            if (it == collection.constEnd())
                return error(404, notFoundCode,
                    QStringLiteral("No enrollment%1 '%2'.").arg(group ? QStringLiteral(" group") : QString(), id));
            return json(200, present(*it).value(QStringLiteral("attestation")));
        }
        if (path.size() != 2)
            return error(404, notFoundCode, QStringLiteral("No such resource: /%1").arg(path.join(u'/')));
        if (request.method == "PUT")
            return putEnrollment(request, id, group);
        return getOrDelete(
            request, collection, id, group ? QStringLiteral("enrollment group") : QStringLiteral("enrollment"));
    }
    if (first == QStringLiteral("registrations") && path.size() == 3 && post
        && path.at(2).compare(QStringLiteral("query"), Qt::CaseInsensitive) == 0) {
        const QString groupId = path.at(1).toLower();
        QList<QJsonObject> items;
        for (const QJsonObject &state : std::as_const(m_registrations)) {
            if (state.value(QStringLiteral("_group")).toString() == groupId)
                items.append(state);
        }
        return query(request, items, "deviceRegistration");
    }
    if (first == QStringLiteral("registrations") && path.size() == 2)
        return getOrDelete(request, m_registrations, path.at(1), QStringLiteral("registration"));
    return error(404, notFoundCode, QStringLiteral("No such resource: /%1").arg(path.join(u'/')));
}

// An update may give back an X.509 enrollment as GET shows it: certificates by their info only. Such an entry
// keeps the certificate stored in that slot, when its thumbprint (if given) is that certificate's.
static QByteArray withStoredCertificates(const QByteArray &body, const QJsonObject &stored)
{
    QJsonObject in = QJsonDocument::fromJson(body).object();
    QJsonObject attestation = in.value(QStringLiteral("attestation")).toObject();
    QJsonObject x509 = attestation.value(QStringLiteral("x509")).toObject();
    const QJsonObject storedX509
        = stored.value(QStringLiteral("attestation")).toObject().value(QStringLiteral("x509")).toObject();
    bool changed = false;
    for (const QString &member : {QStringLiteral("clientCertificates"), QStringLiteral("signingCertificates")}) {
        QJsonObject certificates = x509.value(member).toObject();
        for (const QString &slot : {QStringLiteral("primary"), QStringLiteral("secondary")}) {
            const QJsonObject entry = certificates.value(slot).toObject();
            const QJsonObject kept = storedX509.value(member).toObject().value(slot).toObject();
            if (!certificates.value(slot).isObject() || entry.contains(QStringLiteral("certificate")) || kept.isEmpty())
                continue;
            const QString thumbprint
                = entry.value(QStringLiteral("info")).toObject().value(QStringLiteral("sha256Thumbprint")).toString();
            if (!thumbprint.isEmpty()
                && thumbprint.compare(kept.value(QStringLiteral("info"))
                                          .toObject()
                                          .value(QStringLiteral("sha256Thumbprint"))
                                          .toString(),
                       Qt::CaseInsensitive)
                    != 0)
                continue;
            certificates.insert(
                slot, QJsonObject{{QStringLiteral("certificate"), kept.value(QStringLiteral("certificate"))}});
            changed = true;
        }
        if (!certificates.isEmpty())
            x509.insert(member, certificates);
    }
    if (!changed)
        return body;
    attestation.insert(QStringLiteral("x509"), x509);
    in.insert(QStringLiteral("attestation"), attestation);
    return QJsonDocument(in).toJson(QJsonDocument::Compact);
}

Dps::Answer Dps::putEnrollment(const ServiceRequest &request, const QString &id, bool group)
{
    const auto &stored = group ? m_groups : m_enrollments;
    const QByteArray body = stored.contains(id.toLower())
        ? withStoredCertificates(request.body, stored.value(id.toLower()))
        : request.body;
    auto parsed = parseEnrollment(body, id, group);
    if (!parsed)
        return error(400, badRequestCode, parsed.error().message);
    auto &collection = group ? m_groups : m_enrollments;
    const auto existing = collection.constFind(id.toLower());
    const QString ifMatch = unquoted(request.ifMatch);
    if (!ifMatch.isEmpty() && ifMatch != QStringLiteral("*")) {
        if (existing == collection.constEnd())
            return error(412, preconditionFailedCode,
                QStringLiteral("Precondition failed: '%1' does not exist, and If-Match names an ETag.").arg(id));
        const QString current = existing->value(QStringLiteral("etag")).toString();
        if (ifMatch != current)
            return error(412, preconditionFailedCode,
                QStringLiteral("Precondition failed: the ETag in If-Match (%1) is not the current one (%2).")
                    .arg(ifMatch, current));
    }
    QJsonObject enrollment = *parsed;
    const QString now = nowText();
    enrollment.insert(QStringLiteral("iotHubHostName"), m_hubHostName);
    enrollment.insert(QStringLiteral("iotHubs"), QJsonArray{m_hubHostName});
    enrollment.insert(QStringLiteral("createdDateTimeUtc"),
        existing != collection.constEnd() ? existing->value(QStringLiteral("createdDateTimeUtc")).toString() : now);
    enrollment.insert(QStringLiteral("lastUpdatedDateTimeUtc"), now);
    enrollment.insert(QStringLiteral("etag"), nextEtag());
    collection.insert(id.toLower(), enrollment);
    if (!save())
        return error(500, internalErrorCode, QStringLiteral("The sandbox could not write its DPS state."));
    Answer answer = json(200, present(enrollment));
    answer.headers.append(std::pair<QByteArray, QByteArray>(
        "ETag", QByteArray('"' + enrollment.value(QStringLiteral("etag")).toString().toLatin1() + '"')));
    return answer;
}

Dps::Answer Dps::bulk(const ServiceRequest &request)
{
    const QJsonObject in = QJsonDocument::fromJson(request.body).object();
    const QString mode = in.value(QStringLiteral("mode")).toString();
    static const QStringList modes{QStringLiteral("create"), QStringLiteral("update"),
        QStringLiteral("updateIfMatchETag"), QStringLiteral("delete")};
    if (!modes.contains(mode) || !in.value(QStringLiteral("enrollments")).isArray())
        return error(400, badRequestCode,
            QStringLiteral(
                "A bulk operation is {\"mode\": \"create\", \"update\", \"updateIfMatchETag\" or \"delete\", "
                "\"enrollments\": [...]}."));
    const QJsonArray enrollments = in.value(QStringLiteral("enrollments")).toArray();
    if (enrollments.size() > 10000)
        return error(400, badRequestCode, QStringLiteral("A bulk operation takes at most 10,000 enrollments."));
    QJsonArray errors;
    for (const auto &value : enrollments) {
        const QJsonObject enrollment = value.toObject();
        const QString id = enrollment.value(QStringLiteral("registrationId")).toString();
        ServiceRequest single;
        single.method = mode == QStringLiteral("delete") ? QByteArrayLiteral("DELETE") : QByteArrayLiteral("PUT");
        single.body = QJsonDocument(enrollment).toJson(QJsonDocument::Compact);
        if (mode == QStringLiteral("updateIfMatchETag") || mode == QStringLiteral("delete"))
            single.ifMatch = enrollment.value(QStringLiteral("etag")).toString().toUtf8();
        Answer answer;
        if (id.isEmpty())
            answer = error(400, badRequestCode, QStringLiteral("An enrollment without a registrationId."));
        else if (mode == QStringLiteral("create") && m_enrollments.contains(id.toLower()))
            answer = error(409, 409201, QStringLiteral("The enrollment %1 exists already.").arg(id));
        else if (mode == QStringLiteral("delete"))
            answer = getOrDelete(single, m_enrollments, id, QStringLiteral("enrollment"));
        else
            answer = putEnrollment(single, id, false);
        if (answer.status >= 300)
            errors.append(QJsonObject{{QStringLiteral("registrationId"), id},
                {QStringLiteral("errorCode"), answer.object().value(QStringLiteral("errorCode"))},
                {QStringLiteral("errorStatus"), answer.object().value(QStringLiteral("message"))}});
    }
    return json(
        200, QJsonObject{{QStringLiteral("isSuccessful"), errors.isEmpty()}, {QStringLiteral("errors"), errors}});
}

Dps::Answer Dps::getOrDelete(
    const ServiceRequest &request, QHash<QString, QJsonObject> &collection, const QString &id, const QString &what)
{
    const auto it = collection.find(id.toLower());
    if (request.method == "GET") {
        if (it == collection.end())
            return error(404, notFoundCode, QStringLiteral("No %1 '%2'.").arg(what, id));
        Answer answer = json(200, present(*it));
        answer.headers.append(std::pair<QByteArray, QByteArray>(
            "ETag", QByteArray('"' + it->value(QStringLiteral("etag")).toString().toLatin1() + '"')));
        return answer;
    }
    if (request.method != "DELETE")
        return error(405, methodNotAllowedCode,
            QStringLiteral("%1 is not allowed on an %2.").arg(QString::fromLatin1(request.method), what));
    if (it == collection.end())
        return error(404, notFoundCode, QStringLiteral("No %1 '%2'.").arg(what, id));
    const QString ifMatch = unquoted(request.ifMatch);
    if (!ifMatch.isEmpty() && ifMatch != QStringLiteral("*") && ifMatch != it->value(QStringLiteral("etag")).toString())
        return error(412, preconditionFailedCode,
            QStringLiteral("Precondition failed: the ETag in If-Match (%1) is not the current one (%2).")
                .arg(ifMatch, it->value(QStringLiteral("etag")).toString()));
    collection.erase(it);
    // An enrollment takes its devices' registration records with it.
    if (&collection == &m_enrollments) {
        m_registrations.remove(id.toLower());
    } else if (&collection == &m_groups) {
        m_registrations.removeIf([group = id.toLower()](const auto &entry) {
            return entry.value().value(QStringLiteral("_group")).toString() == group;
        });
    }
    if (!save())
        return error(500, internalErrorCode, QStringLiteral("The sandbox could not write its DPS state."));
    Answer answer;
    answer.status = 204;
    return answer;
}

Dps::Answer Dps::query(const ServiceRequest &request, const QList<QJsonObject> &unsorted, const char *itemType) const
{
    // The query: "*" (DPS's own SDKs and CLI send it) or SELECT * FROM …; nothing else is supported.
    if (!request.body.trimmed().isEmpty()) {
        const QJsonDocument document = QJsonDocument::fromJson(request.body);
        const QString text = document.object().value(QStringLiteral("query")).toString().trimmed();
        static const QRegularExpression selectAll(
            QStringLiteral("^(\\*|select\\s+\\*\\s+from\\s+\\w+)$"), QRegularExpression::CaseInsensitiveOption);
        if (!document.isObject() || !selectAll.match(text).hasMatch())
            return error(400, badRequestCode,
                QStringLiteral(
                    "The query specification must be {\"query\": \"*\"} (the sandbox DPS supports no other query)."));
    }
    int pageSize = 100;
    if (!request.maxItemCount.isEmpty()) {
        bool ok = false;
        pageSize = request.maxItemCount.toInt(&ok);
        if (!ok || pageSize < 1 || pageSize > 1000)
            return error(
                400, badRequestCode, QStringLiteral("x-ms-max-item-count must be a whole number from 1 to 1000."));
    }
    int offset = 0;
    if (!request.continuation.isEmpty()) {
        const auto decoded
            = QByteArray::fromBase64Encoding(request.continuation, QByteArray::AbortOnBase64DecodingErrors);
        bool ok = false;
        if (decoded && decoded.decoded.startsWith("offset:"))
            offset = decoded.decoded.mid(7).toInt(&ok);
        if (!ok || offset < 0)
            return error(400, badRequestCode, QStringLiteral("x-ms-continuation is not a token this DPS gave."));
    }
    QList<QJsonObject> items = unsorted;
    const QString idKey = QLatin1String(itemType) == QLatin1String("enrollmentGroup")
        ? QStringLiteral("enrollmentGroupId")
        : QStringLiteral("registrationId");
    std::sort(items.begin(), items.end(), [&idKey](const QJsonObject &a, const QJsonObject &b) {
        return a.value(idKey).toString().toLower() < b.value(idKey).toString().toLower();
    });
    QJsonArray page;
    for (qsizetype i = offset; i < items.size() && page.size() < pageSize; ++i)
        page.append(present(items.at(i)));
    Answer answer = json(200, page);
    answer.headers.append(std::pair<QByteArray, QByteArray>("x-ms-item-type", itemType));
    if (offset + pageSize < items.size())
        answer.headers.append(std::pair<QByteArray, QByteArray>(
            "x-ms-continuation", QByteArray("offset:" + QByteArray::number(offset + pageSize)).toBase64()));
    return answer;
}

std::variant<Dps::Authenticated, Dps::Answer> Dps::authenticateDevice(
    const QString &idScope, const QString &registrationId, const Credentials &credentials) const
{
    const auto refuse
        = [](const QString &why) { return error(401, unauthorizedCode, QStringLiteral("unauthorizedCode: ") + why); };
    if (idScope.compare(m_idScope, Qt::CaseInsensitive) != 0)
        return refuse(QStringLiteral("ID scope '%1' is not this DPS's.").arg(idScope));
    if (!validRegistrationId(registrationId))
        return error(400, badRequestCode, QStringLiteral("'%1' is not a valid registration id.").arg(registrationId));
    const auto individual = m_enrollments.constFind(registrationId.toLower());
    const bool hasIndividual = individual != m_enrollments.constEnd();

    if (!credentials.sasToken.isEmpty()) {
        const auto token = SasToken::parse(credentials.sasToken);
        if (!token)
            return refuse(token.error().message);
        const QString expected = idScope + QStringLiteral("/registrations/") + registrationId;
        if (token->resource().compare(expected, Qt::CaseInsensitive) != 0)
            return refuse(QStringLiteral("the token is for '%1', not '%2'.").arg(token->resource(), expected));
        if (token->keyName() != QStringLiteral("registration"))
            return refuse(
                QStringLiteral("a device's token names the key 'registration' (skn), not '%1'.").arg(token->keyName()));
        if (token->isExpired())
            return refuse(QStringLiteral("the token expired at %1.").arg(token->expiryTime().toString(Qt::ISODate)));
        if (hasIndividual) {
            const QJsonObject keys = individual->value(QStringLiteral("attestation"))
                                         .toObject()
                                         .value(QStringLiteral("symmetricKey"))
                                         .toObject();
            const QString primary = keys.value(QStringLiteral("primaryKey")).toString();
            const QString secondary = keys.value(QStringLiteral("secondaryKey")).toString();
            if (attestationType(*individual) == QStringLiteral("symmetricKey")
                && (token->verify(primary) || token->verify(secondary)))
                return Authenticated{QStringLiteral("individual"),
                    individual->value(QStringLiteral("registrationId")).toString(), QStringLiteral("sas"), primary,
                    secondary, {}};
            return refuse(QStringLiteral("the registration is not enrolled with this key."));
        }
        for (const QJsonObject &group : m_groups) {
            if (attestationType(group) != QStringLiteral("symmetricKey"))
                continue;
            const QJsonObject keys = group.value(QStringLiteral("attestation"))
                                         .toObject()
                                         .value(QStringLiteral("symmetricKey"))
                                         .toObject();
            const QString primary
                = deriveDeviceKey(keys.value(QStringLiteral("primaryKey")).toString(), registrationId);
            const QString secondary
                = deriveDeviceKey(keys.value(QStringLiteral("secondaryKey")).toString(), registrationId);
            if (token->verify(primary) || token->verify(secondary))
                return Authenticated{QStringLiteral("group"),
                    group.value(QStringLiteral("enrollmentGroupId")).toString(), QStringLiteral("sas"), primary,
                    secondary, {}};
        }
        return refuse(QStringLiteral("the registration is not enrolled with this key."));
    }

    if (!credentials.chainDer.isEmpty()) {
        QList<Certificate> chain;
        for (const QByteArray &der : credentials.chainDer) {
            auto certificate = Certificate::fromDer(der);
            if (!certificate)
                return refuse(QStringLiteral("the client certificate cannot be read."));
            chain.append(*certificate);
        }
        const Certificate &leaf = chain.first();
        if (auto valid = leaf.checkValidity(); !valid)
            return refuse(valid.error().message);
        if (leaf.subjectCommonName().compare(registrationId, Qt::CaseInsensitive) != 0)
            return refuse(QStringLiteral("the certificate's CN (%1) is not the registration id (%2).")
                              .arg(leaf.subjectCommonName(), registrationId));
        if (hasIndividual) {
            for (const Certificate &enrolled : storedCertificates(*individual, QStringLiteral("clientCertificates"))) {
                if (enrolled.toDer() == leaf.toDer())
                    return Authenticated{QStringLiteral("individual"),
                        individual->value(QStringLiteral("registrationId")).toString(), QStringLiteral("selfSigned"),
                        {}, {}, leaf.thumbprintSha1()};
            }
            return refuse(QStringLiteral("the registration is not enrolled with this certificate."));
        }
        for (const QJsonObject &group : m_groups) {
            if (attestationType(group) == QStringLiteral("x509")
                && CertificatePath::verify(chain, storedCertificates(group, QStringLiteral("signingCertificates"))))
                return Authenticated{QStringLiteral("group"),
                    group.value(QStringLiteral("enrollmentGroupId")).toString(), QStringLiteral("selfSigned"), {}, {},
                    leaf.thumbprintSha1()};
        }
        return refuse(
            QStringLiteral("the registration is not enrolled, and no enrollment group's CA signed its certificate."));
    }
    return refuse(QStringLiteral("no credentials: neither a SAS token nor a client certificate."));
}

QJsonObject Dps::assign(const QString &registrationId, const Authenticated &who, const QJsonObject &payload)
{
    const bool individual = who.enrollmentKind == QStringLiteral("individual");
    const QJsonObject enrollment
        = individual ? m_enrollments.value(who.enrollmentId.toLower()) : m_groups.value(who.enrollmentId.toLower());
    const QString deviceId = enrollment.value(QStringLiteral("deviceId")).toString(registrationId);
    const QString now = nowText();
    const QJsonObject previous = m_registrations.value(registrationId.toLower());

    QJsonObject state{{QStringLiteral("registrationId"), registrationId},
        {QStringLiteral("createdDateTimeUtc"), previous.value(QStringLiteral("createdDateTimeUtc")).toString(now)},
        {QStringLiteral("lastUpdatedDateTimeUtc"), now}, {QStringLiteral("etag"), nextEtag()}};
    const QJsonObject marker
        = individual ? QJsonObject() : QJsonObject{{QStringLiteral("enrollmentGroupId"), who.enrollmentId}};
    state.insert(
        who.hubAuthType == QStringLiteral("sas") ? QStringLiteral("symmetricKey") : QStringLiteral("x509"), marker);
    if (!individual)
        state.insert(QStringLiteral("_group"), who.enrollmentId.toLower());
    if (payload.contains(QStringLiteral("payload")))
        state.insert(QStringLiteral("payload"), payload.value(QStringLiteral("payload")));

    if (disabled(enrollment)) {
        state.insert(QStringLiteral("status"), QStringLiteral("disabled"));
        state.insert(QStringLiteral("errorMessage"),
            individual ? QStringLiteral("The individual enrollment %1 is disabled.").arg(who.enrollmentId)
                       : QStringLiteral("The enrollment group %1 is disabled.").arg(who.enrollmentId));
        return state;
    }

    // The hub device: created, or updated with this credential. Its twin gets the initial twin on first
    // assignment, and again when the reprovision policy says the device's data is not migrated.
    QJsonObject authentication;
    if (who.hubAuthType == QStringLiteral("sas"))
        authentication = {{QStringLiteral("type"), QStringLiteral("sas")},
            {QStringLiteral("symmetricKey"),
                QJsonObject{{QStringLiteral("primaryKey"), who.primaryKey},
                    {QStringLiteral("secondaryKey"), who.secondaryKey}}}};
    else
        authentication = {{QStringLiteral("type"), QStringLiteral("selfSigned")},
            {QStringLiteral("x509Thumbprint"), QJsonObject{{QStringLiteral("primaryThumbprint"), who.thumbprint}}}};
    const bool existed = m_hub.device(deviceId).has_value();
    const auto device = m_hub.putDevice(deviceId,
        {{QStringLiteral("deviceId"), deviceId}, {QStringLiteral("authentication"), authentication}},
        existed ? QStringLiteral("*") : QString());
    const bool migrate = enrollment.value(QStringLiteral("reprovisionPolicy"))
                             .toObject()
                             .value(QStringLiteral("migrateDeviceData"))
                             .toBool(true);
    QString substatus = QStringLiteral("initialAssignment");
    if (previous.value(QStringLiteral("status")).toString() == QStringLiteral("assigned") && existed)
        substatus = migrate ? QStringLiteral("deviceDataMigrated") : QStringLiteral("deviceDataReset");
    Result<Device> twin = device;
    const QJsonObject initialTwin = enrollment.value(QStringLiteral("initialTwin")).toObject();
    if (device && substatus != QStringLiteral("deviceDataMigrated")
        && (!initialTwin.isEmpty() || substatus == QStringLiteral("deviceDataReset")))
        twin = m_hub.updateTwin(deviceId,
            {{QStringLiteral("tags"), initialTwin.value(QStringLiteral("tags")).toObject()},
                {QStringLiteral("properties"),
                    QJsonObject{{QStringLiteral("desired"),
                        initialTwin.value(QStringLiteral("properties"))
                            .toObject()
                            .value(QStringLiteral("desired"))
                            .toObject()}}}},
            QStringLiteral("*"), substatus == QStringLiteral("deviceDataReset"));
    if (!device || !twin) {
        state.insert(QStringLiteral("status"), QStringLiteral("failed"));
        state.insert(QStringLiteral("errorCode"), internalErrorCode);
        state.insert(QStringLiteral("errorMessage"), (device ? twin.error() : device.error()).message);
        return state;
    }
    state.insert(QStringLiteral("assignedHub"), m_hubHostName);
    state.insert(QStringLiteral("deviceId"), deviceId);
    state.insert(QStringLiteral("status"), QStringLiteral("assigned"));
    state.insert(QStringLiteral("substatus"), substatus);
    return state;
}

Dps::Answer Dps::registerDevice(
    const QString &idScope, const QString &registrationId, const Credentials &credentials, const QByteArray &body)
{
    auto who = authenticateDevice(idScope, registrationId, credentials);
    if (auto *refused = std::get_if<Answer>(&who))
        return *refused;
    const auto request = parseRegistrationRequest(body, registrationId);
    if (!request)
        return error(400, badRequestCode, request.error().message);

    const QJsonObject state = assign(registrationId, std::get<Authenticated>(who), *request);
    m_registrations.insert(registrationId.toLower(), state);
    save();

    const QString operationId
        = QStringLiteral("5.") + randomHex(8) + u'.' + QUuid::createUuid().toString(QUuid::WithoutBraces);
    if (m_operations.size() > 10000)
        m_operations.clear(); // DPS keeps operations for a while only
    m_operations.insert(operationId,
        {registrationId.toLower(),
            QJsonObject{{QStringLiteral("operationId"), operationId},
                {QStringLiteral("status"), state.value(QStringLiteral("status"))},
                {QStringLiteral("registrationState"), present(state)}}});
    Answer answer = json(202,
        QJsonObject{
            {QStringLiteral("operationId"), operationId}, {QStringLiteral("status"), QStringLiteral("assigning")}});
    answer.headers.append(std::pair<QByteArray, QByteArray>("Retry-After", "1"));
    return answer;
}

Dps::Answer Dps::operationStatus(
    const QString &idScope, const QString &registrationId, const QString &operationId, const Credentials &credentials)
{
    auto who = authenticateDevice(idScope, registrationId, credentials);
    if (auto *refused = std::get_if<Answer>(&who))
        return *refused;
    const auto it = m_operations.constFind(operationId);
    if (it == m_operations.constEnd() || it->registrationId != registrationId.toLower())
        return error(404, operationNotFoundCode,
            QStringLiteral("No operation '%1' for registration %2.").arg(operationId, registrationId));
    return json(200, it->result);
}

} // namespace Onboarder::Sandbox
