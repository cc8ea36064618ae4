#include "registry.h"

#include "devicequery.h"
#include "hub/identifiers.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QUuid>

namespace Onboarder::Sandbox {

namespace {

const QString neverSet = QStringLiteral("0001-01-01T00:00:00");

const char *deviceColumns
    = "id, generation_id, etag, status, status_reason, status_updated, auth_type, primary_key, secondary_key, "
      "primary_thumbprint, secondary_thumbprint, connection_state, connection_state_updated, last_activity, c2d_count, "
      "iot_edge, twin_etag, twin_version, tags, desired, desired_version, desired_meta, reported, reported_version, "
      "reported_meta";
// A module's row: the device's columns (its id is the module's key, {deviceId}/{moduleId}), then these.
const char *moduleColumns = "device_id, module_id, managed_by";

bool isModuleKey(const QString &key)
{
    return key.contains(u'/');
}

QString timeText(const QDateTime &time)
{
    return time.isValid() ? time.toUTC().toString(Qt::ISODateWithMs) : neverSet;
}

QDateTime timeFrom(const QString &text)
{
    return text == neverSet ? QDateTime() : QDateTime::fromString(text, Qt::ISODateWithMs);
}

QString jsonText(const QJsonObject &object)
{
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

QJsonObject jsonFrom(const QString &text)
{
    return QJsonDocument::fromJson(text.toUtf8()).object();
}

QString randomKey()
{
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()), bytes.size() / 4);
    return QString::fromLatin1(bytes.toBase64());
}

QString randomGenerationId()
{
    return QString::number(
        QRandomGenerator::global()->bounded(Q_INT64_C(100000000000000000), Q_INT64_C(999999999999999999)));
}

Error sqlError(const QSqlError &error)
{
    return azureError(QStringLiteral("ServerError"), QStringLiteral("Registry storage failed: %1").arg(error.text()));
}

bool isThumbprint(const QString &text)
{
    if (text.size() != 40 && text.size() != 64)
        return false;
    return std::all_of(text.cbegin(), text.cend(),
        [](QChar c) { return c.isDigit() || (c.toUpper() >= u'A' && c.toUpper() <= u'F'); });
}

// Twin keys: no '.', '$', space or control characters; values nest at most 10 deep.
Result<void> validateTwinObject(const QJsonObject &object, int depth, bool allowNull)
{
    if (depth > 10)
        return fail(ErrorKind::InvalidInput, QStringLiteral("ArgumentInvalid"),
            QStringLiteral("Twin properties nest deeper than 10 levels."));
    for (auto it = object.begin(); it != object.end(); ++it) {
        const QString &key = it.key();
        const bool badKey = key.isEmpty() || key.size() > 1024 || std::any_of(key.cbegin(), key.cend(), [](QChar c) {
            return c == u'.' || c == u'$' || c == u' ' || c.category() == QChar::Other_Control;
        });
        if (badKey)
            return fail(ErrorKind::InvalidInput, QStringLiteral("ArgumentInvalid"),
                QStringLiteral("Twin key '%1' is invalid: keys cannot contain '.', '$', spaces or control characters.")
                    .arg(key));
        if (it->isNull() && !allowNull)
            return fail(ErrorKind::InvalidInput, QStringLiteral("ArgumentInvalid"),
                QStringLiteral("Twin key '%1' is null; null only deletes a key in a patch.").arg(key));
        if (it->isObject()) {
            if (auto ok = validateTwinObject(it->toObject(), depth + 1, allowNull); !ok)
                return ok;
        }
    }
    return {};
}

// JSON merge patch (null deletes), recording $lastUpdated (and $lastUpdatedVersion) for what it touches.
void mergePatch(QJsonObject &target, QJsonObject &metadata, const QJsonObject &patch, const QString &now,
    qint64 version, bool withVersion)
{
    for (auto it = patch.begin(); it != patch.end(); ++it) {
        if (it->isNull()) {
            target.remove(it.key());
            metadata.remove(it.key());
            continue;
        }
        if (it->isObject()) {
            QJsonObject child = target.value(it.key()).toObject();
            QJsonObject childMeta = metadata.value(it.key()).toObject();
            mergePatch(child, childMeta, it->toObject(), now, version, withVersion);
            childMeta.insert(QStringLiteral("$lastUpdated"), now);
            if (withVersion)
                childMeta.insert(QStringLiteral("$lastUpdatedVersion"), version);
            target.insert(it.key(), child);
            metadata.insert(it.key(), childMeta);
        } else {
            target.insert(it.key(), *it);
            QJsonObject leafMeta{{QStringLiteral("$lastUpdated"), now}};
            if (withVersion)
                leafMeta.insert(QStringLiteral("$lastUpdatedVersion"), version);
            metadata.insert(it.key(), leafMeta);
        }
    }
}

QJsonObject withMetadata(
    const QJsonObject &properties, QJsonObject metadata, qint64 version, bool withVersion, const QDateTime &updated)
{
    QJsonObject out = properties;
    metadata.insert(
        QStringLiteral("$lastUpdated"), timeText(updated.isValid() ? updated : QDateTime::currentDateTimeUtc()));
    if (withVersion)
        metadata.insert(QStringLiteral("$lastUpdatedVersion"), version);
    out.insert(QStringLiteral("$metadata"), metadata);
    out.insert(QStringLiteral("$version"), version);
    return out;
}

} // namespace

Error azureError(const QString &code, const QString &message)
{
    static const QHash<QString, ErrorKind> kinds{
        {QStringLiteral("DeviceNotFound"), ErrorKind::NotFound},
        {QStringLiteral("DeviceAlreadyExists"), ErrorKind::Conflict},
        {QStringLiteral("ModuleNotFound"), ErrorKind::NotFound},
        {QStringLiteral("ModuleAlreadyExistsOnDevice"), ErrorKind::Conflict},
        {QStringLiteral("PreconditionFailed"), ErrorKind::Conflict},
        {QStringLiteral("ArgumentInvalid"), ErrorKind::InvalidInput},
        {QStringLiteral("IotHubUnauthorizedAccess"), ErrorKind::AuthRefused},
        {QStringLiteral("DeviceNotOnline"), ErrorKind::Network},
        {QStringLiteral("JobNotFound"), ErrorKind::NotFound},
        {QStringLiteral("JobAlreadyExists"), ErrorKind::Conflict},
        {QStringLiteral("ConfigurationNotFound"), ErrorKind::NotFound},
        {QStringLiteral("ConfigurationAlreadyExists"), ErrorKind::Conflict},
    };
    return Error{kinds.value(code, ErrorKind::Internal), code, message};
}

QJsonValue jsonMember(const QJsonObject &object, const QString &name)
{
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (it.key().compare(name, Qt::CaseInsensitive) == 0)
            return *it;
    }
    return QJsonValue(QJsonValue::Undefined);
}

QString Device::etag() const
{
    return QString::fromLatin1(QByteArray::number(etagCounter).toBase64());
}

QString Device::twinEtag() const
{
    QByteArray bytes(8, '\0');
    for (int i = 0; i < 8; ++i)
        bytes[7 - i] = char((twinEtagCounter >> (8 * i)) & 0xff);
    return QString::fromLatin1(bytes.toBase64());
}

QJsonObject Device::identityJson() const
{
    const auto nullable
        = [](const QString &text) { return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text); };
    QJsonObject json{
        {QStringLiteral("deviceId"), id},
        {QStringLiteral("generationId"), generationId},
        {QStringLiteral("etag"), etag()},
        {QStringLiteral("connectionState"), connectionState},
        {QStringLiteral("status"), status},
        {QStringLiteral("statusReason"), nullable(statusReason)},
        {QStringLiteral("connectionStateUpdatedTime"), timeText(connectionStateUpdated)},
        {QStringLiteral("statusUpdatedTime"), timeText(statusUpdated)},
        {QStringLiteral("lastActivityTime"), timeText(lastActivity)},
        {QStringLiteral("cloudToDeviceMessageCount"), cloudToDeviceMessageCount},
        {QStringLiteral("authentication"),
            QJsonObject{{QStringLiteral("symmetricKey"),
                            QJsonObject{{QStringLiteral("primaryKey"), nullable(primaryKey)},
                                {QStringLiteral("secondaryKey"), nullable(secondaryKey)}}},
                {QStringLiteral("x509Thumbprint"),
                    QJsonObject{{QStringLiteral("primaryThumbprint"), nullable(primaryThumbprint)},
                        {QStringLiteral("secondaryThumbprint"), nullable(secondaryThumbprint)}}},
                {QStringLiteral("type"), authType}}},
        {QStringLiteral("capabilities"), QJsonObject{{QStringLiteral("iotEdge"), iotEdge}}},
    };
    if (isModule()) { // a module has no status or capabilities of its own
        for (const char *name : {"status", "statusReason", "statusUpdatedTime", "capabilities"})
            json.remove(QLatin1String(name));
        json.insert(QStringLiteral("moduleId"), moduleId);
        json.insert(QStringLiteral("managedBy"), nullable(managedBy));
    }
    return json;
}

QJsonObject Device::twinJson() const
{
    const auto nullable
        = [](const QString &text) { return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text); };
    QJsonObject twin{
        {QStringLiteral("deviceId"), id},
        {QStringLiteral("etag"), twinEtag()},
        {QStringLiteral("deviceEtag"), etag()},
        {QStringLiteral("status"), status},
        {QStringLiteral("statusUpdateTime"), timeText(statusUpdated)},
        {QStringLiteral("connectionState"), connectionState},
        {QStringLiteral("lastActivityTime"), timeText(lastActivity)},
        {QStringLiteral("cloudToDeviceMessageCount"), cloudToDeviceMessageCount},
        {QStringLiteral("authenticationType"), authType},
        {QStringLiteral("x509Thumbprint"),
            QJsonObject{{QStringLiteral("primaryThumbprint"), nullable(primaryThumbprint)},
                {QStringLiteral("secondaryThumbprint"), nullable(secondaryThumbprint)}}},
        {QStringLiteral("modelId"), QString()},
        {QStringLiteral("version"), twinVersion},
        {QStringLiteral("capabilities"), QJsonObject{{QStringLiteral("iotEdge"), iotEdge}}},
        {QStringLiteral("tags"), tags},
        {QStringLiteral("properties"),
            QJsonObject{{QStringLiteral("desired"), withMetadata(desired, desiredMetadata, desiredVersion, true, {})},
                {QStringLiteral("reported"), withMetadata(reported, reportedMetadata, reportedVersion, false, {})}}},
    };
    if (!statusReason.isEmpty())
        twin.insert(QStringLiteral("statusReason"), statusReason);
    if (isModule()) {
        twin.insert(QStringLiteral("moduleId"), moduleId);
        twin.remove(QStringLiteral("capabilities"));
    }
    return twin;
}

Registry::Registry()
    : m_connectionName(QStringLiteral("sandbox-registry-") + QUuid::createUuid().toString(QUuid::Id128))
{ }

Registry::~Registry()
{
    m_db.close();
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(m_connectionName);
}

Result<void> Registry::open(const QString &path)
{
    m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
    m_db.setDatabaseName(path);
    if (!m_db.open())
        return std::unexpected(sqlError(m_db.lastError()));
    QSqlQuery q(m_db);
    const QLatin1String identityTable(
        "id TEXT PRIMARY KEY, generation_id TEXT NOT NULL, etag TEXT NOT NULL, status TEXT NOT NULL, status_reason "
        "TEXT, status_updated TEXT NOT NULL, auth_type TEXT NOT NULL, primary_key TEXT, secondary_key TEXT, "
        "primary_thumbprint TEXT, secondary_thumbprint TEXT, connection_state TEXT NOT NULL, connection_state_updated "
        "TEXT NOT NULL, last_activity TEXT NOT NULL, c2d_count INTEGER NOT NULL, iot_edge INTEGER NOT NULL, twin_etag "
        "INTEGER NOT NULL, twin_version INTEGER NOT NULL, tags TEXT NOT NULL, desired TEXT NOT NULL, desired_version "
        "INTEGER NOT NULL, desired_meta TEXT NOT NULL, reported TEXT NOT NULL, reported_version INTEGER NOT NULL, "
        "reported_meta TEXT NOT NULL");
    const QStringList statements{
        QStringLiteral("PRAGMA journal_mode=WAL"),
        QStringLiteral("PRAGMA synchronous=NORMAL"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS devices (%1)").arg(identityTable),
        // Modules: the same columns (id is {deviceId}/{moduleId}), and whose they are.
        QStringLiteral("CREATE TABLE IF NOT EXISTS modules (%1, device_id TEXT NOT NULL, module_id TEXT NOT NULL, "
                       "managed_by TEXT)")
            .arg(identityTable),
        QStringLiteral("CREATE INDEX IF NOT EXISTS modules_by_device ON modules (device_id)"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS policies (name TEXT PRIMARY KEY, primary_key TEXT NOT NULL, "
                       "secondary_key TEXT NOT NULL, rights TEXT NOT NULL)"),
        // Counters the broker's plugin keeps (telemetryMessages), read by GET /statistics/service.
        QStringLiteral("CREATE TABLE IF NOT EXISTS statistics (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"),
        QStringLiteral("DELETE FROM statistics"),
    };
    for (const QString &statement : statements) {
        if (!q.exec(statement))
            return std::unexpected(sqlError(q.lastError()));
    }
    if (policies().isEmpty()) {
        const QList<std::pair<QString, QString>> defaults{
            {QStringLiteral("iothubowner"), QStringLiteral("RegistryRead,RegistryWrite,ServiceConnect,DeviceConnect")},
            {QStringLiteral("service"), QStringLiteral("ServiceConnect")},
            {QStringLiteral("device"), QStringLiteral("DeviceConnect")},
            {QStringLiteral("registryRead"), QStringLiteral("RegistryRead")},
            {QStringLiteral("registryReadWrite"), QStringLiteral("RegistryRead,RegistryWrite")},
        };
        for (const auto &[name, rights] : defaults) {
            q.prepare(QStringLiteral("INSERT INTO policies VALUES (?, ?, ?, ?)"));
            q.addBindValue(name);
            q.addBindValue(randomKey());
            q.addBindValue(randomKey());
            q.addBindValue(rights);
            if (!q.exec())
                return std::unexpected(sqlError(q.lastError()));
        }
    }
    return {};
}

QList<SharedAccessPolicy> Registry::policies() const
{
    QList<SharedAccessPolicy> list;
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("SELECT name, primary_key, secondary_key, rights FROM policies ORDER BY name")))
        return list;
    while (q.next())
        list.append(
            {q.value(0).toString(), q.value(1).toString(), q.value(2).toString(), q.value(3).toString().split(u',')});
    return list;
}

std::optional<SharedAccessPolicy> Registry::policy(const QString &name) const
{
    for (const SharedAccessPolicy &p : policies()) {
        if (p.name == name)
            return p;
    }
    return std::nullopt;
}

namespace {

// A device from the columns of deviceColumns, starting at column first of the current row.
Device deviceFromRow(const QSqlQuery &q, int first)
{
    Device d;
    int i = first;
    d.id = q.value(i++).toString();
    d.generationId = q.value(i++).toString();
    d.etagCounter = q.value(i++).toLongLong();
    d.status = q.value(i++).toString();
    d.statusReason = q.value(i++).toString();
    d.statusUpdated = timeFrom(q.value(i++).toString());
    d.authType = q.value(i++).toString();
    d.primaryKey = q.value(i++).toString();
    d.secondaryKey = q.value(i++).toString();
    d.primaryThumbprint = q.value(i++).toString();
    d.secondaryThumbprint = q.value(i++).toString();
    d.connectionState = q.value(i++).toString();
    d.connectionStateUpdated = timeFrom(q.value(i++).toString());
    d.lastActivity = timeFrom(q.value(i++).toString());
    d.cloudToDeviceMessageCount = q.value(i++).toInt();
    d.iotEdge = q.value(i++).toBool();
    d.twinEtagCounter = q.value(i++).toLongLong();
    d.twinVersion = q.value(i++).toLongLong();
    d.tags = jsonFrom(q.value(i++).toString());
    d.desired = jsonFrom(q.value(i++).toString());
    d.desiredVersion = q.value(i++).toLongLong();
    d.desiredMetadata = jsonFrom(q.value(i++).toString());
    d.reported = jsonFrom(q.value(i++).toString());
    d.reportedVersion = q.value(i++).toLongLong();
    d.reportedMetadata = jsonFrom(q.value(i++).toString());
    return d;
}

} // namespace

Result<Device> Registry::load(const QString &key) const
{
    QSqlQuery q(m_db);
    const bool isModule = isModuleKey(key);
    q.prepare(isModule ? QStringLiteral("SELECT %1, %2 FROM modules WHERE id = ?")
                             .arg(QLatin1String(deviceColumns), QLatin1String(moduleColumns))
                       : QStringLiteral("SELECT %1 FROM devices WHERE id = ?").arg(QLatin1String(deviceColumns)));
    q.addBindValue(key);
    if (!q.exec())
        return std::unexpected(sqlError(q.lastError()));
    if (!q.next()) {
        if (!isModule)
            return std::unexpected(azureError(QStringLiteral("DeviceNotFound"), key));
        return std::unexpected(azureError(QStringLiteral("ModuleNotFound"),
            QStringLiteral("The module '%1' does not exist on device '%2'.")
                .arg(key.section(u'/', 1), key.section(u'/', 0, 0))));
    }
    Device d = deviceFromRow(q, 0);
    if (isModule) {
        const int first = int(QString::fromLatin1(deviceColumns).count(u',')) + 1;
        d.id = q.value(first).toString();
        d.moduleId = q.value(first + 1).toString();
        d.managedBy = q.value(first + 2).toString();
    }
    return d;
}

Result<void> Registry::store(const Device &d, bool insert)
{
    QSqlQuery q(m_db);
    const QString columns = d.isModule()
        ? QStringLiteral("%1, %2").arg(QLatin1String(deviceColumns), QLatin1String(moduleColumns))
        : QLatin1String(deviceColumns);
    QStringList marks(int(columns.count(u',')) + 1, QStringLiteral("?"));
    q.prepare(QStringLiteral("%1 INTO %2 (%3) VALUES (%4)")
                  .arg(insert ? QStringLiteral("INSERT") : QStringLiteral("REPLACE"),
                      d.isModule() ? QStringLiteral("modules") : QStringLiteral("devices"), columns, marks.join(u',')));
    for (const QVariant &value : {QVariant(d.key()), QVariant(d.generationId), QVariant(d.etagCounter),
             QVariant(d.status), QVariant(d.statusReason), QVariant(timeText(d.statusUpdated)), QVariant(d.authType),
             QVariant(d.primaryKey), QVariant(d.secondaryKey), QVariant(d.primaryThumbprint),
             QVariant(d.secondaryThumbprint), QVariant(d.connectionState), QVariant(timeText(d.connectionStateUpdated)),
             QVariant(timeText(d.lastActivity)), QVariant(d.cloudToDeviceMessageCount), QVariant(int(d.iotEdge)),
             QVariant(d.twinEtagCounter), QVariant(d.twinVersion), QVariant(jsonText(d.tags)),
             QVariant(jsonText(d.desired)), QVariant(d.desiredVersion), QVariant(jsonText(d.desiredMetadata)),
             QVariant(jsonText(d.reported)), QVariant(d.reportedVersion), QVariant(jsonText(d.reportedMetadata))})
        q.addBindValue(value);
    if (d.isModule()) {
        q.addBindValue(d.id);
        q.addBindValue(d.moduleId);
        q.addBindValue(d.managedBy);
    }
    if (!q.exec())
        return std::unexpected(sqlError(q.lastError()));
    return {};
}

Result<void> Registry::checkEtag(const QString &ifMatch, const QString &etag) const
{
    QString given = ifMatch.trimmed();
    if (given.size() >= 2 && given.startsWith(u'"') && given.endsWith(u'"'))
        given = given.mid(1, given.size() - 2);
    if (given.isEmpty() || given == QStringLiteral("*") || given == etag)
        return {};
    return fail(ErrorKind::Conflict, QStringLiteral("PreconditionFailed"),
        QStringLiteral("Precondition failed: the ETag given in If-Match (%1) is not the current one (%2).")
            .arg(given, etag));
}

Result<Device> Registry::putDevice(const QString &id, const QJsonObject &body, const QString &ifMatch)
{
    if (auto ok = Identifiers::validateDeviceId(id); !ok)
        return std::unexpected(azureError(QStringLiteral("ArgumentInvalid"), ok.error().message));
    return put(id, QString(), body, ifMatch);
}

Result<Device> Registry::putModule(
    const QString &deviceId, const QString &moduleId, const QJsonObject &body, const QString &ifMatch)
{
    if (auto ok = Identifiers::validateModuleId(moduleId); !ok)
        return std::unexpected(azureError(QStringLiteral("ArgumentInvalid"), ok.error().message));
    if (auto parent = device(deviceId); !parent)
        return std::unexpected(parent.error());
    if (body.contains(QStringLiteral("moduleId")) && body.value(QStringLiteral("moduleId")).toString() != moduleId)
        return std::unexpected(azureError(QStringLiteral("ArgumentInvalid"),
            QStringLiteral("The moduleId in the body does not match the module id in the URL.")));
    return put(deviceId, moduleId, body, ifMatch);
}

Result<Device> Registry::put(
    const QString &id, const QString &moduleId, const QJsonObject &body, const QString &ifMatch)
{
    if (body.contains(QStringLiteral("deviceId")) && body.value(QStringLiteral("deviceId")).toString() != id)
        return std::unexpected(azureError(QStringLiteral("ArgumentInvalid"),
            QStringLiteral("The deviceId in the body does not match the device id in the URL.")));

    const bool isModule = !moduleId.isEmpty();
    const QString key = isModule ? id + u'/' + moduleId : id;
    auto existing = load(key);
    const bool exists = existing.has_value();
    const QString notFound = isModule ? QStringLiteral("ModuleNotFound") : QStringLiteral("DeviceNotFound");
    if (!exists && existing.error().code != notFound)
        return existing;
    if (ifMatch.isEmpty() && exists)
        return std::unexpected(isModule
                ? azureError(QStringLiteral("ModuleAlreadyExistsOnDevice"),
                    QStringLiteral("A module with ID '%1' already exists on device '%2'.").arg(moduleId, id))
                : azureError(QStringLiteral("DeviceAlreadyExists"),
                    QStringLiteral("A device with ID '%1' is already registered.").arg(id)));
    if (!ifMatch.isEmpty() && !exists)
        return existing;

    Device d = exists ? *existing : Device();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (exists) {
        if (auto ok = checkEtag(ifMatch, d.etag()); !ok)
            return std::unexpected(ok.error());
        ++d.etagCounter;
    } else {
        d.id = id;
        d.moduleId = moduleId;
        d.generationId = randomGenerationId();
    }

    if (isModule) {
        d.managedBy = body.value(QStringLiteral("managedBy")).toString();
    } else {
        const QString status = body.value(QStringLiteral("status")).toString(QStringLiteral("enabled"));
        if (status != QStringLiteral("enabled") && status != QStringLiteral("disabled"))
            return std::unexpected(azureError(QStringLiteral("ArgumentInvalid"),
                QStringLiteral("status must be 'enabled' or 'disabled', not '%1'.").arg(status)));
        if (exists && status != d.status)
            d.statusUpdated = now;
        d.status = status;
        d.statusReason = body.value(QStringLiteral("statusReason")).toString();
        d.iotEdge = body.value(QStringLiteral("capabilities")).toObject().value(QStringLiteral("iotEdge")).toBool();
    }

    const QJsonObject auth = body.value(QStringLiteral("authentication")).toObject();
    const QJsonObject symmetric = auth.value(QStringLiteral("symmetricKey")).toObject();
    const QJsonObject thumbprints = auth.value(QStringLiteral("x509Thumbprint")).toObject();
    QString type = auth.value(QStringLiteral("type")).toString();
    if (type.isEmpty()) // older API versions leave the type out
        type = thumbprints.value(QStringLiteral("primaryThumbprint")).toString().isEmpty()
            ? QStringLiteral("sas")
            : QStringLiteral("selfSigned");
    d.primaryKey.clear();
    d.secondaryKey.clear();
    d.primaryThumbprint.clear();
    d.secondaryThumbprint.clear();
    if (type == QStringLiteral("sas")) {
        d.primaryKey = symmetric.value(QStringLiteral("primaryKey")).toString();
        d.secondaryKey = symmetric.value(QStringLiteral("secondaryKey")).toString();
        for (QString *key : {&d.primaryKey, &d.secondaryKey}) {
            if (key->isEmpty()) {
                *key = randomKey();
                continue;
            }
            const auto decoded
                = QByteArray::fromBase64Encoding(key->toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
            if (!decoded || decoded.decoded.size() < 16 || decoded.decoded.size() > 64)
                return std::unexpected(azureError(QStringLiteral("ArgumentInvalid"),
                    QStringLiteral("A symmetric key must be base64 of 16 to 64 bytes.")));
        }
    } else if (type == QStringLiteral("selfSigned")) {
        d.primaryThumbprint = thumbprints.value(QStringLiteral("primaryThumbprint")).toString().toUpper();
        d.secondaryThumbprint = thumbprints.value(QStringLiteral("secondaryThumbprint")).toString().toUpper();
        if (!isThumbprint(d.primaryThumbprint)
            || (!d.secondaryThumbprint.isEmpty() && !isThumbprint(d.secondaryThumbprint)))
            return std::unexpected(azureError(QStringLiteral("ArgumentInvalid"),
                QStringLiteral("A selfSigned device needs a primary thumbprint of 40 (SHA-1) or 64 "
                               "(SHA-256) hex digits.")));
    } else if (type != QStringLiteral("certificateAuthority") && type != QStringLiteral("none")) {
        return std::unexpected(azureError(
            QStringLiteral("ArgumentInvalid"), QStringLiteral("Unknown authentication type '%1'.").arg(type)));
    }
    d.authType = type;

    if (auto ok = store(d, !exists); !ok)
        return std::unexpected(ok.error());
    if (exists && m_closeSessions) {
        const Device &before = *existing;
        const bool disabled = before.status == QStringLiteral("enabled") && d.status != QStringLiteral("enabled");
        const bool newCredentials = before.authType != d.authType || before.primaryKey != d.primaryKey
            || before.secondaryKey != d.secondaryKey || before.primaryThumbprint != d.primaryThumbprint
            || before.secondaryThumbprint != d.secondaryThumbprint;
        if (disabled || newCredentials) {
            m_closeSessions(key);
            if (disabled) { // its modules connect only while the device is enabled
                for (const Device &module : modules(id).value_or(QList<Device>()))
                    m_closeSessions(module.key());
            }
        }
    }
    return d;
}

Result<Device> Registry::device(const QString &id) const
{
    if (isModuleKey(id)) // no device id holds '/'
        return std::unexpected(azureError(QStringLiteral("DeviceNotFound"), id));
    return load(id);
}

Result<Device> Registry::module(const QString &deviceId, const QString &moduleId) const
{
    if (isModuleKey(deviceId) || isModuleKey(moduleId) || moduleId.isEmpty())
        return std::unexpected(azureError(QStringLiteral("ModuleNotFound"), deviceId + u'/' + moduleId));
    return load(deviceId + u'/' + moduleId);
}

Result<Device> Registry::identity(const QString &key) const
{
    return load(key);
}

Result<QList<Device>> Registry::modules(const QString &deviceId) const
{
    if (auto parent = device(deviceId); !parent)
        return std::unexpected(parent.error());
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("SELECT %1, %2 FROM modules WHERE device_id = ? ORDER BY module_id")
                  .arg(QLatin1String(deviceColumns), QLatin1String(moduleColumns)));
    q.addBindValue(deviceId);
    if (!q.exec())
        return std::unexpected(sqlError(q.lastError()));
    QList<Device> list;
    const int first = int(QString::fromLatin1(deviceColumns).count(u',')) + 1;
    while (q.next()) {
        Device d = deviceFromRow(q, 0);
        d.id = q.value(first).toString();
        d.moduleId = q.value(first + 1).toString();
        d.managedBy = q.value(first + 2).toString();
        list.append(d);
    }
    return list;
}

Result<void> Registry::deleteDevice(const QString &id, const QString &ifMatch)
{
    auto existing = device(id);
    if (!existing)
        return std::unexpected(existing.error());
    if (auto ok = checkEtag(ifMatch, existing->etag()); !ok)
        return ok;
    const QList<Device> gone = modules(id).value_or(QList<Device>());
    if (!m_db.transaction())
        return std::unexpected(sqlError(m_db.lastError()));
    QSqlQuery q(m_db);
    for (const char *statement : {"DELETE FROM modules WHERE device_id = ?", "DELETE FROM devices WHERE id = ?"}) {
        q.prepare(QLatin1String(statement));
        q.addBindValue(id);
        if (!q.exec()) {
            const QSqlError error = q.lastError();
            m_db.rollback();
            return std::unexpected(sqlError(error));
        }
    }
    if (!m_db.commit())
        return std::unexpected(sqlError(m_db.lastError()));
    if (m_closeSessions) {
        m_closeSessions(id);
        for (const Device &module : gone)
            m_closeSessions(module.key());
    }
    return {};
}

Result<void> Registry::deleteModule(const QString &deviceId, const QString &moduleId, const QString &ifMatch)
{
    auto existing = module(deviceId, moduleId);
    if (!existing)
        return std::unexpected(existing.error());
    if (auto ok = checkEtag(ifMatch, existing->etag()); !ok)
        return ok;
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("DELETE FROM modules WHERE id = ?"));
    q.addBindValue(existing->key());
    if (!q.exec())
        return std::unexpected(sqlError(q.lastError()));
    if (m_closeSessions)
        m_closeSessions(existing->key());
    return {};
}

Result<Device> Registry::updateTwin(const QString &id, const QJsonObject &body, const QString &ifMatch, bool replace)
{
    auto existing = load(id);
    if (!existing)
        return existing;
    Device d = *existing;
    if (auto ok = checkEtag(ifMatch, d.twinEtag()); !ok)
        return std::unexpected(ok.error());

    const QJsonObject tags = body.value(QStringLiteral("tags")).toObject();
    const QJsonObject desired
        = body.value(QStringLiteral("properties")).toObject().value(QStringLiteral("desired")).toObject();
    for (const QJsonObject *part : {&tags, &desired}) {
        QJsonObject plain = *part;
        plain.remove(QStringLiteral("$metadata"));
        plain.remove(QStringLiteral("$version"));
        if (auto ok = validateTwinObject(plain, 1, !replace); !ok)
            return std::unexpected(azureError(QStringLiteral("ArgumentInvalid"), ok.error().message));
    }
    QJsonObject plainDesired = desired;
    plainDesired.remove(QStringLiteral("$metadata"));
    plainDesired.remove(QStringLiteral("$version"));

    const QString now = timeText(QDateTime::currentDateTimeUtc());
    const bool desiredChanges = replace || !plainDesired.isEmpty();
    if (replace) {
        d.tags = QJsonObject();
        d.desired = QJsonObject();
        d.desiredMetadata = QJsonObject();
    }
    QJsonObject tagsMeta; // tags carry no metadata
    mergePatch(d.tags, tagsMeta, tags, now, 0, false);
    if (desiredChanges) {
        ++d.desiredVersion;
        mergePatch(d.desired, d.desiredMetadata, plainDesired, now, d.desiredVersion, true);
    }
    ++d.twinVersion;
    ++d.twinEtagCounter;
    if (auto ok = store(d, false); !ok)
        return std::unexpected(ok.error());
    return d;
}

Result<Device> Registry::updateReported(const QString &id, const QJsonObject &patch)
{
    auto existing = load(id);
    if (!existing)
        return existing;
    if (auto ok = validateTwinObject(patch, 1, true); !ok)
        return std::unexpected(azureError(QStringLiteral("ArgumentInvalid"), ok.error().message));
    Device d = *existing;
    ++d.reportedVersion;
    mergePatch(
        d.reported, d.reportedMetadata, patch, timeText(QDateTime::currentDateTimeUtc()), d.reportedVersion, false);
    ++d.twinEtagCounter;
    d.lastActivity = QDateTime::currentDateTimeUtc();
    if (auto ok = store(d, false); !ok)
        return std::unexpected(ok.error());
    return d;
}

Result<void> Registry::setConnectionState(const QString &id, bool connected)
{
    QSqlQuery q(m_db);
    const QString now = timeText(QDateTime::currentDateTimeUtc());
    q.prepare(QStringLiteral(
        "UPDATE devices SET connection_state = ?, connection_state_updated = ?, last_activity = ? WHERE id = ?"));
    q.addBindValue(connected ? QStringLiteral("Connected") : QStringLiteral("Disconnected"));
    q.addBindValue(now);
    q.addBindValue(now);
    q.addBindValue(id);
    if (!q.exec())
        return std::unexpected(sqlError(q.lastError()));
    return {};
}

Result<void> Registry::setCloudToDeviceCount(const QString &id, int count)
{
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("UPDATE devices SET c2d_count = ? WHERE id = ?"));
    q.addBindValue(count);
    q.addBindValue(id);
    if (!q.exec())
        return std::unexpected(sqlError(q.lastError()));
    return {};
}

Result<void> Registry::touch(const QString &id)
{
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("UPDATE devices SET last_activity = ? WHERE id = ?"));
    q.addBindValue(timeText(QDateTime::currentDateTimeUtc()));
    q.addBindValue(id);
    if (!q.exec())
        return std::unexpected(sqlError(q.lastError()));
    return {};
}

Result<QueryPage> Registry::query(const DeviceQuery &query, int pageSize, const QString &continuation) const
{
    QueryPage page;
    QSqlQuery q(m_db);
    const QString where = query.whereSql.isEmpty() ? QString() : QStringLiteral("(%1)").arg(query.whereSql);

    if (query.kind == DeviceQuery::Kind::Count) {
        q.prepare(QStringLiteral("SELECT COUNT(*) FROM devices")
            + (where.isEmpty() ? QString() : QStringLiteral(" WHERE ") + where));
        for (const QVariant &value : query.parameters)
            q.addBindValue(value);
        if (!q.exec() || !q.next())
            return std::unexpected(sqlError(q.lastError()));
        page.items.append(QJsonObject{{query.countAlias, q.value(0).toLongLong()}});
        page.raw = true;
        return page;
    }

    // Keyset paging on the device id: the continuation token is the last id of the previous page.
    const QString after = continuation.isEmpty()
        ? QString()
        : QString::fromUtf8(QByteArray::fromBase64(continuation.toLatin1(), QByteArray::Base64UrlEncoding));
    QStringList conditions;
    if (!where.isEmpty())
        conditions.append(where);
    if (!after.isEmpty())
        conditions.append(QStringLiteral("id > ?"));

    QStringList columns{QStringLiteral("id")};
    if (query.selectAll) {
        columns.append(QLatin1String(deviceColumns)); // whole twins, read in this one query
    } else {
        for (const auto &[path, alias] : query.projection) {
            auto column = DeviceQuery::columnFor(path);
            if (!column)
                return std::unexpected(column.error());
            columns.append(*column);
            columns.append(column->startsWith(QStringLiteral("json_extract("))
                    ? QStringLiteral("json_type(") + column->mid(13)
                    : QStringLiteral("NULL"));
        }
    }
    q.prepare(
        QStringLiteral("SELECT %1 FROM devices%2 ORDER BY id LIMIT %3")
            .arg(columns.join(QStringLiteral(", ")),
                conditions.isEmpty() ? QString() : QStringLiteral(" WHERE ") + conditions.join(QStringLiteral(" AND ")))
            .arg(pageSize + 1));
    for (const QVariant &value : query.parameters)
        q.addBindValue(value);
    if (!after.isEmpty())
        q.addBindValue(after);
    if (!q.exec())
        return std::unexpected(sqlError(q.lastError()));

    const auto column = [&columns](int projectionIndex) { return columns.at(1 + 2 * projectionIndex); };
    QString lastId;
    int count = 0;
    bool more = false;
    while (q.next()) {
        if (count == pageSize) {
            more = true;
            break;
        }
        ++count;
        lastId = q.value(0).toString();
        if (query.selectAll) {
            page.items.append(deviceFromRow(q, 1).twinJson());
            continue;
        }
        QJsonObject row;
        for (int i = 0; i < query.projection.size(); ++i) {
            const QVariant value = q.value(1 + 2 * i);
            const QString jsonType = q.value(2 + 2 * i).toString();
            const bool wholeColumn
                = !column(i).startsWith(QStringLiteral("json_extract(")) && column(i) != QStringLiteral("id");
            QJsonValue json;
            if (jsonType == QStringLiteral("object") || jsonType == QStringLiteral("array")
                || (wholeColumn && value.toString().startsWith(u'{'))) {
                const QJsonDocument doc = QJsonDocument::fromJson(value.toString().toUtf8());
                json = doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array());
            } else if (jsonType == QStringLiteral("true") || jsonType == QStringLiteral("false")) {
                json = value.toBool();
            } else {
                json = QJsonValue::fromVariant(value);
            }
            row.insert(query.projection.at(i).second, json);
        }
        page.items.append(row);
    }
    page.raw = !query.selectAll;
    if (more)
        page.continuation = QString::fromLatin1(lastId.toUtf8().toBase64(QByteArray::Base64UrlEncoding));
    return page;
}

RegistryStatistics Registry::statistics() const
{
    RegistryStatistics stats;
    QSqlQuery q(m_db);
    if (q.exec(QStringLiteral("SELECT COUNT(*), SUM(status = 'enabled'), SUM(status = 'disabled'), "
                              "SUM(connection_state = 'Connected') FROM devices"))
        && q.next()) {
        stats.total = q.value(0).toLongLong();
        stats.enabled = q.value(1).toLongLong();
        stats.disabled = q.value(2).toLongLong();
        stats.connected = q.value(3).toLongLong();
    }
    if (q.exec(QStringLiteral("SELECT value FROM statistics WHERE name = 'telemetryMessages'")) && q.next())
        stats.telemetryMessages = q.value(0).toLongLong();
    return stats;
}

Result<int> Registry::seed(int count)
{
    if (!m_db.transaction())
        return std::unexpected(sqlError(m_db.lastError()));
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral(
        "INSERT OR IGNORE INTO devices (%1) VALUES (?, ?, 0, 'enabled', NULL, ?, 'sas', ?, ?, NULL, NULL, "
        "'Disconnected', ?, ?, 0, 0, 1, 1, '{}', '{}', 1, '{}', '{}', 1, '{}')")
                  .arg(QLatin1String(deviceColumns)));
    int added = 0;
    for (int i = 1; i <= count; ++i) {
        q.addBindValue(QStringLiteral("sandbox-device-%1").arg(i, 6, 10, QLatin1Char('0')));
        q.addBindValue(randomGenerationId());
        q.addBindValue(neverSet);
        q.addBindValue(randomKey());
        q.addBindValue(randomKey());
        q.addBindValue(neverSet);
        q.addBindValue(neverSet);
        if (!q.exec()) {
            m_db.rollback();
            return std::unexpected(sqlError(q.lastError()));
        }
        added += q.numRowsAffected();
    }
    if (!m_db.commit())
        return std::unexpected(sqlError(m_db.lastError()));
    return added;
}

} // namespace Onboarder::Sandbox
