#include "modemkeyledger.h"

#include "common/appinfo.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLockFile>
#include <QSaveFile>

namespace Onboarder {

namespace {

QJsonArray readEntries(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object().value(QStringLiteral("entries")).toArray();
}

bool sameDevice(const QJsonObject &json, const QString &hub, const QString &deviceId)
{
    return json.value(QStringLiteral("hub")).toString() == hub
        && json.value(QStringLiteral("deviceId")).toString() == deviceId;
}

} // namespace

ModemKeyLedger::ModemKeyLedger(const QString &filePath)
    : m_filePath(filePath)
{ }

QString ModemKeyLedger::defaultPath()
{
    return QDir(AppInfo::dataDir()).filePath(QStringLiteral("provisioning/modem-keys.json"));
}

std::optional<ModemKeyLedger::Entry> ModemKeyLedger::find(const QString &hub, const QString &deviceId) const
{
    for (const auto &value : readEntries(m_filePath)) {
        const QJsonObject json = value.toObject();
        if (!sameDevice(json, hub, deviceId))
            continue;
        Entry entry;
        entry.hub = hub;
        entry.deviceId = deviceId;
        entry.imei = json.value(QStringLiteral("imei")).toString();
        entry.secTag = quint32(json.value(QStringLiteral("secTag")).toInteger());
        entry.keySha256 = json.value(QStringLiteral("keySha256")).toString();
        entry.certificateSha256 = json.value(QStringLiteral("certificateSha256")).toString();
        entry.recordedAt = QDateTime::fromString(json.value(QStringLiteral("recordedAt")).toString(), Qt::ISODate);
        return entry;
    }
    return std::nullopt;
}

Result<void> ModemKeyLedger::put(const Entry &entry)
{
    const auto unwritable = [this](const QString &why) {
        return fail(
            ErrorKind::Internal, QStringLiteral("LedgerUnwritable"), tr("Cannot write %1: %2").arg(m_filePath, why));
    };
    if (!QDir().mkpath(QFileInfo(m_filePath).absolutePath()))
        return unwritable(tr("the folder cannot be made"));
    QLockFile lock(m_filePath + QStringLiteral(".lock"));
    if (!lock.tryLock(5000))
        return unwritable(tr("another program holds its lock"));
    QJsonArray entries;
    for (const auto &value : readEntries(m_filePath)) {
        if (!sameDevice(value.toObject(), entry.hub, entry.deviceId))
            entries.append(value);
    }
    entries.append(QJsonObject{{QStringLiteral("hub"), entry.hub}, {QStringLiteral("deviceId"), entry.deviceId},
        {QStringLiteral("imei"), entry.imei}, {QStringLiteral("secTag"), qint64(entry.secTag)},
        {QStringLiteral("keySha256"), entry.keySha256}, {QStringLiteral("certificateSha256"), entry.certificateSha256},
        {QStringLiteral("recordedAt"), entry.recordedAt.toUTC().toString(Qt::ISODate)}});
    QSaveFile file(m_filePath);
    if (!file.open(QIODevice::WriteOnly)
        || file.write(QJsonDocument(QJsonObject{{QStringLiteral("entries"), entries}}).toJson(QJsonDocument::Indented))
            < 0
        || !file.commit())
        return unwritable(file.errorString());
    return {};
}

} // namespace Onboarder
