#include "credentialinventory.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLockFile>
#include <QSaveFile>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(CredentialInventory)
};

constexpr int formatVersion = 1;

QString keyLocationName(CredentialRecord::KeyLocation location)
{
    return location == CredentialRecord::KeyLocation::Device ? QStringLiteral("device") : QStringLiteral("keychain");
}

QString timeText(const QDateTime &time)
{
    return time.isValid() ? time.toUTC().toString(Qt::ISODate) : QString();
}

bool isX509Device(CredentialRecord::Kind kind)
{
    return kind == CredentialRecord::Kind::X509SelfSigned || kind == CredentialRecord::Kind::X509CaSigned;
}

} // namespace

QString CredentialRecord::kindName(Kind kind)
{
    switch (kind) {
    case Kind::X509SelfSigned: return QStringLiteral("x509-self-signed");
    case Kind::X509CaSigned: return QStringLiteral("x509-ca-signed");
    case Kind::SymmetricKey: return QStringLiteral("symmetric-key");
    case Kind::CertificateAuthority: return QStringLiteral("ca");
    }
    return {};
}

std::optional<CredentialRecord::Kind> CredentialRecord::kindFromName(const QString &name)
{
    for (Kind kind : {Kind::X509SelfSigned, Kind::X509CaSigned, Kind::SymmetricKey, Kind::CertificateAuthority}) {
        if (kindName(kind) == name)
            return kind;
    }
    return std::nullopt;
}

QJsonObject CredentialRecord::toJson() const
{
    QJsonObject json{{QStringLiteral("kind"), kindName(kind)},
        {QStringLiteral("keyLocation"), keyLocationName(keyLocation)},
        {QStringLiteral("createdAt"), timeText(createdAt)}};
    const auto add = [&json](const QString &key, const QString &value) {
        if (!value.isEmpty())
            json.insert(key, value);
    };
    add(QStringLiteral("hub"), hub);
    add(QStringLiteral("deviceId"), deviceId);
    add(QStringLiteral("keyType"), keyType);
    add(QStringLiteral("keychainEntry"), keychainEntry);
    add(QStringLiteral("certificateFile"), certificateFile);
    add(QStringLiteral("thumbprintSha1"), thumbprintSha1);
    add(QStringLiteral("thumbprintSha256"), thumbprintSha256);
    add(QStringLiteral("issuer"), issuer);
    add(QStringLiteral("notAfter"), timeText(notAfter));
    add(QStringLiteral("madeBy"), madeBy);
    return json;
}

std::optional<CredentialRecord> CredentialRecord::fromJson(const QJsonObject &json)
{
    const auto kind = kindFromName(json.value(QStringLiteral("kind")).toString());
    const QString deviceId = json.value(QStringLiteral("deviceId")).toString();
    if (!kind || deviceId.isEmpty())
        return std::nullopt;
    const auto text = [&json](const char16_t *key) { return json.value(QString::fromUtf16(key)).toString(); };
    const auto time = [&text](const char16_t *key) {
        QDateTime t = QDateTime::fromString(text(key), Qt::ISODate);
        return t.isValid() ? t.toUTC() : QDateTime();
    };
    CredentialRecord record;
    record.kind = *kind;
    record.deviceId = deviceId;
    record.hub = text(u"hub");
    record.keyLocation = text(u"keyLocation") == QStringLiteral("device") ? KeyLocation::Device : KeyLocation::Keychain;
    record.keyType = text(u"keyType");
    record.keychainEntry = text(u"keychainEntry");
    record.certificateFile = text(u"certificateFile");
    record.thumbprintSha1 = text(u"thumbprintSha1");
    record.thumbprintSha256 = text(u"thumbprintSha256");
    record.issuer = text(u"issuer");
    record.notAfter = time(u"notAfter");
    record.createdAt = time(u"createdAt");
    record.madeBy = text(u"madeBy");
    return record;
}

CredentialInventory::CredentialInventory(const QString &filePath)
    : m_filePath(filePath)
{ }

Result<void> CredentialInventory::load()
{
    m_records.clear();
    QFile file(m_filePath);
    if (!file.exists())
        return {};
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorKind::Internal, QStringLiteral("InventoryUnreadable"),
            Text::tr("The credential inventory %1 cannot be read: %2").arg(m_filePath, file.errorString()));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    if (!doc.isObject())
        return fail(ErrorKind::Internal, QStringLiteral("InventoryUnreadable"),
            Text::tr("The credential inventory %1 is damaged (%2). Move it aside to start a new one; the keys "
                     "in the keychain are not affected.")
                .arg(m_filePath, error.errorString()));
    if (doc.object().value(QStringLiteral("version")).toInt() > formatVersion)
        return fail(ErrorKind::Internal, QStringLiteral("InventoryTooNew"),
            Text::tr("The credential inventory %1 was written by a newer Onboarder.").arg(m_filePath));
    for (const auto &value : doc.object().value(QStringLiteral("credentials")).toArray()) {
        if (auto record = CredentialRecord::fromJson(value.toObject()))
            m_records.append(*record);
    }
    return {};
}

std::optional<CredentialRecord> CredentialInventory::x509(const QString &hub, const QString &deviceId) const
{
    for (const CredentialRecord &record : m_records) {
        if (isX509Device(record.kind) && record.hub == hub && record.deviceId == deviceId)
            return record;
    }
    return std::nullopt;
}

std::optional<CredentialRecord> CredentialInventory::symmetricKey(const QString &hub, const QString &deviceId) const
{
    for (const CredentialRecord &record : m_records) {
        if (record.kind == CredentialRecord::Kind::SymmetricKey && record.hub == hub && record.deviceId == deviceId)
            return record;
    }
    return std::nullopt;
}

std::optional<CredentialRecord> CredentialInventory::certificateAuthority(const QString &name) const
{
    for (const CredentialRecord &record : m_records) {
        if (record.kind == CredentialRecord::Kind::CertificateAuthority && record.deviceId == name)
            return record;
    }
    return std::nullopt;
}

bool CredentialInventory::sameSlot(const CredentialRecord &a, const CredentialRecord &b)
{
    const bool sameKindClass = a.kind == b.kind || (isX509Device(a.kind) && isX509Device(b.kind));
    return sameKindClass && a.hub == b.hub && a.deviceId == b.deviceId;
}

Result<bool> CredentialInventory::edit(const std::function<bool(QList<CredentialRecord> &)> &change)
{
    // The GUI and the CLI may edit at once: read, change and write under a lock file.
    QDir().mkpath(QFileInfo(m_filePath).absolutePath());
    QLockFile lock(m_filePath + QStringLiteral(".lock"));
    if (!lock.tryLock(10000))
        return fail(ErrorKind::Conflict, QStringLiteral("InventoryLocked"),
            Text::tr("The credential inventory %1 is locked by another Onboarder for more than 10 s.").arg(m_filePath));
    if (auto loaded = load(); !loaded)
        return std::unexpected(loaded.error());
    const QList<CredentialRecord> before = m_records;
    if (!change(m_records))
        return false;
    if (auto saved = save(); !saved) {
        m_records = before;
        return std::unexpected(saved.error());
    }
    return true;
}

Result<void> CredentialInventory::put(const CredentialRecord &record)
{
    auto edited = edit([&record](QList<CredentialRecord> &records) {
        records.removeIf([&record](const CredentialRecord &r) { return sameSlot(r, record); });
        records.append(record);
        return true;
    });
    if (!edited)
        return std::unexpected(edited.error());
    return {};
}

Result<bool> CredentialInventory::remove(const CredentialRecord &slot)
{
    return edit([&slot](QList<CredentialRecord> &records) {
        return records.removeIf([&slot](const CredentialRecord &r) { return sameSlot(r, slot); }) > 0;
    });
}

Result<void> CredentialInventory::save() const
{
    QJsonArray array;
    for (const CredentialRecord &record : m_records)
        array.append(record.toJson());
    const QByteArray data
        = QJsonDocument(QJsonObject{{QStringLiteral("version"), formatVersion}, {QStringLiteral("credentials"), array}})
              .toJson(QJsonDocument::Indented);
    QSaveFile file(m_filePath);
    // Flushed before the commit: Qt 6.4's commit() ignores a flush that falls short (a full disk) and puts
    // the truncated file in place of the inventory.
    if (!file.open(QIODevice::WriteOnly) || file.write(data) != data.size() || !file.flush() || !file.commit())
        return fail(ErrorKind::Internal, QStringLiteral("InventoryUnwritable"),
            Text::tr("The credential inventory %1 cannot be written: %2").arg(m_filePath, file.errorString()));
    return {};
}

} // namespace Onboarder
