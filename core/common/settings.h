#pragma once

#include "common/result.h"

#include <QHash>
#include <QObject>
#include <QSettings>

#include <memory>

namespace Onboarder {

struct DpsProfile;
struct HubProfile;

// The one typed front to persistent settings. Keys and defaults live here only; defaults are not
// written to disk; secrets are never stored here (only keychain entry names).
//
// Every change is written to the file at once. A change that cannot be written (a full disk, no permission) returns
// the error (SettingsNotWritable), leaves the settings as the file holds them (nothing is read back that was not
// saved) and emits no changed(); made again once the file can be written, it is saved.
class Settings final : public QObject
{
    Q_OBJECT

public:
    // The user's settings file (configDir()/onboarder.conf).
    explicit Settings(QObject *parent = nullptr);
    // A settings file at the given path (tests use a temporary one).
    explicit Settings(const QString &filePath, QObject *parent = nullptr);
    ~Settings() override;

    QString filePath() const;

    QList<HubProfile> hubs() const;
    Result<void> setHubs(const QList<HubProfile> &hubs);

    QString currentHub() const;
    Result<void> setCurrentHub(const QString &name);

    QList<DpsProfile> dpsInstances() const;
    Result<void> setDpsInstances(const QList<DpsProfile> &instances);

    QString currentDps() const;
    Result<void> setCurrentDps(const QString &name);

    QByteArray mainWindowGeometry() const;
    Result<void> setMainWindowGeometry(const QByteArray &geometry);

    int clipboardClearSeconds() const; // default 30
    Result<void> setClipboardClearSeconds(int seconds);

    QString language() const; // empty: follow the system locale
    Result<void> setLanguage(const QString &language);

    void sync();

Q_SIGNALS:
    void changed(const QString &key);

private:
    Result<void> setValue(const QString &key, const QVariant &value, const QVariant &defaultValue);
    // Before a change: the settings, key by key, as the file holds them.
    QHash<QString, QVariant> startChange();
    // Writes the change made since startChange() returned `before`, and emits changed(key); when it cannot be
    // written, puts `before` back and says why.
    Result<void> save(const QHash<QString, QVariant> &before, const QString &key);

    std::unique_ptr<QSettings> m_settings;
};

} // namespace Onboarder
