#include "settings.h"

#include "appinfo.h"
#include "dps/dpsprofile.h"
#include "hub/hubprofile.h"

#include <QFileInfo>
#include <QTemporaryFile>

namespace Onboarder {

namespace Key {
const QString hubs = QStringLiteral("hubs");
const QString currentHub = QStringLiteral("hubs/current");
const QString dps = QStringLiteral("dps");
const QString currentDps = QStringLiteral("dps/current");
const QString mainWindowGeometry = QStringLiteral("ui/mainWindowGeometry");
const QString clipboardClearSeconds = QStringLiteral("security/clipboardClearSeconds");
const QString language = QStringLiteral("ui/language");
} // namespace Key

namespace Default {
constexpr int clipboardClearSeconds = 30;
}

namespace {

// Why the settings file cannot be written, in the system's words where it has them ("No space left on device",
// "Permission denied"): QSettings only says that it could not. Found by writing a file of the same size beside it
// (removed again); empty when that works.
QString whyUnwritable(const QString &filePath)
{
    const QFileInfo file(filePath);
    if (file.exists() && !file.isWritable())
        return Settings::tr("the file is read-only");
    QTemporaryFile probe(file.absoluteFilePath() + QStringLiteral(".XXXXXX"));
    if (!probe.open())
        return probe.errorString();
    const QByteArray filler(qMax<qint64>(file.size(), 1), '\n');
    if (probe.write(filler) != filler.size() || !probe.flush())
        return probe.errorString();
    return {};
}

} // namespace

Settings::Settings(QObject *parent)
    : Settings(AppInfo::configDir() + QStringLiteral("/onboarder.conf"), parent)
{ }

Settings::Settings(const QString &filePath, QObject *parent)
    : QObject(parent)
    , m_settings(std::make_unique<QSettings>(filePath, QSettings::IniFormat))
{ }

Settings::~Settings() = default;

QHash<QString, QVariant> Settings::startChange()
{
    // A QSettings reports the first error it ever met, whatever came after: a change starts on one that has met none.
    // (The new one on the same file also writes what an earlier failure left pending: what the file held then.)
    if (m_settings->status() != QSettings::NoError) {
        const QString path = filePath();
        m_settings.reset(); // first: the new one then reads what this one leaves
        m_settings = std::make_unique<QSettings>(path, QSettings::IniFormat);
    }
    QHash<QString, QVariant> values;
    for (const QString &key : m_settings->allKeys())
        values.insert(key, m_settings->value(key));
    return values;
}

Result<void> Settings::save(const QHash<QString, QVariant> &before, const QString &key)
{
    m_settings->sync();
    // Written unless access failed (a FormatError is about reading a damaged file: QSettings writes it anew. It also
    // hides a later AccessError, which QSettings does not report after a first error).
    if (m_settings->status() != QSettings::AccessError) {
        Q_EMIT changed(key);
        return {};
    }
    // Not written: back to what the file holds, so that nothing unsaved is read back as if it were saved (QSettings
    // keeps the change pending, and would write it with the next change of anything).
    m_settings->clear();
    for (auto it = before.constBegin(); it != before.constEnd(); ++it)
        m_settings->setValue(it.key(), it.value());
    const QString path = filePath();
    const QString why = whyUnwritable(path);
    return fail(ErrorKind::Internal, QStringLiteral("SettingsNotWritable"),
        why.isEmpty() ? tr("The settings file %1 cannot be written. The change was not saved.").arg(path)
                      : tr("The settings file %1 cannot be written: %2. The change was not saved.").arg(path, why));
}

QString Settings::filePath() const
{
    return m_settings->fileName();
}

QList<HubProfile> Settings::hubs() const
{
    QList<HubProfile> list;
    const int count = m_settings->beginReadArray(Key::hubs);
    for (int i = 0; i < count; ++i) {
        m_settings->setArrayIndex(i);
        HubProfile hub;
        hub.name = m_settings->value(QStringLiteral("name")).toString();
        hub.hostName = m_settings->value(QStringLiteral("hostName")).toString();
        hub.policyName = m_settings->value(QStringLiteral("policyName")).toString();
        hub.restPort = m_settings->value(QStringLiteral("restPort"), 0).toInt();
        hub.mqttPort = m_settings->value(QStringLiteral("mqttPort"), 0).toInt();
        hub.amqpPort = m_settings->value(QStringLiteral("amqpPort"), 0).toInt();
        hub.caFile = m_settings->value(QStringLiteral("caFile")).toString();
        hub.webSockets = m_settings->value(QStringLiteral("webSockets"), false).toBool();
        hub.proxy = QUrl(m_settings->value(QStringLiteral("proxy")).toString(), QUrl::StrictMode);
        hub.eventHub = m_settings->value(QStringLiteral("eventHub"), false).toBool();
        if (!hub.name.isEmpty())
            list.append(hub);
    }
    m_settings->endArray();
    return list;
}

Result<void> Settings::setHubs(const QList<HubProfile> &hubs)
{
    const auto before = startChange();
    m_settings->remove(Key::hubs + QStringLiteral("/size"));
    m_settings->beginWriteArray(Key::hubs, int(hubs.size()));
    for (int i = 0; i < hubs.size(); ++i) {
        const HubProfile &hub = hubs.at(i);
        m_settings->setArrayIndex(i);
        m_settings->setValue(QStringLiteral("name"), hub.name);
        m_settings->setValue(QStringLiteral("hostName"), hub.hostName);
        m_settings->setValue(QStringLiteral("policyName"), hub.policyName);
        m_settings->setValue(QStringLiteral("restPort"), hub.restPort);
        m_settings->setValue(QStringLiteral("mqttPort"), hub.mqttPort);
        m_settings->setValue(QStringLiteral("amqpPort"), hub.amqpPort);
        if (hub.caFile.isEmpty())
            m_settings->remove(QStringLiteral("caFile"));
        else
            m_settings->setValue(QStringLiteral("caFile"), hub.caFile);
        if (hub.webSockets)
            m_settings->setValue(QStringLiteral("webSockets"), true);
        else
            m_settings->remove(QStringLiteral("webSockets"));
        if (hub.proxy.isEmpty())
            m_settings->remove(QStringLiteral("proxy"));
        else
            m_settings->setValue(QStringLiteral("proxy"), hub.proxy.toString());
        if (hub.eventHub)
            m_settings->setValue(QStringLiteral("eventHub"), true);
        else
            m_settings->remove(QStringLiteral("eventHub"));
    }
    m_settings->endArray();
    // Drop entries left over from a longer list.
    for (int i = int(hubs.size()) + 1;
         m_settings->contains(Key::hubs + u'/' + QString::number(i) + QStringLiteral("/name")); ++i)
        m_settings->remove(Key::hubs + u'/' + QString::number(i));
    return save(before, Key::hubs);
}

QList<DpsProfile> Settings::dpsInstances() const
{
    QList<DpsProfile> list;
    const int count = m_settings->beginReadArray(Key::dps);
    for (int i = 0; i < count; ++i) {
        m_settings->setArrayIndex(i);
        DpsProfile dps;
        dps.name = m_settings->value(QStringLiteral("name")).toString();
        dps.hostName = m_settings->value(QStringLiteral("hostName")).toString();
        dps.policyName = m_settings->value(QStringLiteral("policyName")).toString();
        dps.idScope = m_settings->value(QStringLiteral("idScope")).toString();
        dps.restPort = m_settings->value(QStringLiteral("restPort"), 0).toInt();
        dps.mqttPort = m_settings->value(QStringLiteral("mqttPort"), 0).toInt();
        dps.address = m_settings->value(QStringLiteral("address")).toString();
        dps.caFile = m_settings->value(QStringLiteral("caFile")).toString();
        if (!dps.name.isEmpty())
            list.append(dps);
    }
    m_settings->endArray();
    return list;
}

Result<void> Settings::setDpsInstances(const QList<DpsProfile> &instances)
{
    const auto before = startChange();
    m_settings->remove(Key::dps + QStringLiteral("/size"));
    m_settings->beginWriteArray(Key::dps, int(instances.size()));
    for (int i = 0; i < instances.size(); ++i) {
        const DpsProfile &dps = instances.at(i);
        m_settings->setArrayIndex(i);
        m_settings->setValue(QStringLiteral("name"), dps.name);
        m_settings->setValue(QStringLiteral("hostName"), dps.hostName);
        m_settings->setValue(QStringLiteral("policyName"), dps.policyName);
        m_settings->setValue(QStringLiteral("idScope"), dps.idScope);
        m_settings->setValue(QStringLiteral("restPort"), dps.restPort);
        m_settings->setValue(QStringLiteral("mqttPort"), dps.mqttPort);
        for (const auto &[key, value] :
            {std::pair{QStringLiteral("address"), dps.address}, std::pair{QStringLiteral("caFile"), dps.caFile}}) {
            if (value.isEmpty())
                m_settings->remove(key);
            else
                m_settings->setValue(key, value);
        }
    }
    m_settings->endArray();
    for (int i = int(instances.size()) + 1;
         m_settings->contains(Key::dps + u'/' + QString::number(i) + QStringLiteral("/name")); ++i)
        m_settings->remove(Key::dps + u'/' + QString::number(i));
    return save(before, Key::dps);
}

QString Settings::currentDps() const
{
    return m_settings->value(Key::currentDps).toString();
}

Result<void> Settings::setCurrentDps(const QString &name)
{
    return setValue(Key::currentDps, name, QString());
}

QString Settings::currentHub() const
{
    return m_settings->value(Key::currentHub).toString();
}

Result<void> Settings::setCurrentHub(const QString &name)
{
    return setValue(Key::currentHub, name, QString());
}

QByteArray Settings::mainWindowGeometry() const
{
    return m_settings->value(Key::mainWindowGeometry).toByteArray();
}

Result<void> Settings::setMainWindowGeometry(const QByteArray &geometry)
{
    return setValue(Key::mainWindowGeometry, geometry, QByteArray());
}

int Settings::clipboardClearSeconds() const
{
    return m_settings->value(Key::clipboardClearSeconds, Default::clipboardClearSeconds).toInt();
}

Result<void> Settings::setClipboardClearSeconds(int seconds)
{
    return setValue(Key::clipboardClearSeconds, seconds, Default::clipboardClearSeconds);
}

QString Settings::language() const
{
    return m_settings->value(Key::language).toString();
}

Result<void> Settings::setLanguage(const QString &language)
{
    return setValue(Key::language, language, QString());
}

void Settings::sync()
{
    m_settings->sync();
}

Result<void> Settings::setValue(const QString &key, const QVariant &value, const QVariant &defaultValue)
{
    if (m_settings->value(key, defaultValue) == value)
        return {};
    const auto before = startChange();
    if (value == defaultValue)
        m_settings->remove(key);
    else
        m_settings->setValue(key, value);
    return save(before, key);
}

} // namespace Onboarder
