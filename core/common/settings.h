#pragma once

#include <QObject>
#include <QSettings>

#include <memory>

namespace Onboarder {

struct DpsProfile;
struct HubProfile;

// The one typed front to persistent settings. Keys and defaults live here only; defaults are not
// written to disk; secrets are never stored here (only keychain entry names).
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
    bool setHubs(const QList<HubProfile> &hubs); // false when the file could not be written

    QString currentHub() const;
    void setCurrentHub(const QString &name);

    QList<DpsProfile> dpsInstances() const;
    bool setDpsInstances(const QList<DpsProfile> &instances); // false when the file could not be written

    QString currentDps() const;
    void setCurrentDps(const QString &name);

    QByteArray mainWindowGeometry() const;
    void setMainWindowGeometry(const QByteArray &geometry);

    int clipboardClearSeconds() const; // default 30
    void setClipboardClearSeconds(int seconds);

    QString language() const; // empty: follow the system locale
    void setLanguage(const QString &language);

    void sync();

Q_SIGNALS:
    void changed(const QString &key);

private:
    void setValue(const QString &key, const QVariant &value, const QVariant &defaultValue);

    std::unique_ptr<QSettings> m_settings;
};

} // namespace Onboarder
