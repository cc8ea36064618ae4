#include "appinfo.h"

#include <QCoreApplication>
#include <QDir>
#include <QStandardPaths>

namespace Onboarder::AppInfo {

void setUp(const QString &displayName)
{
    QCoreApplication::setOrganizationName(QString());
    QCoreApplication::setOrganizationDomain(QString());
    QCoreApplication::setApplicationName(QStringLiteral("onboarder"));
    QCoreApplication::setApplicationVersion(version());
    Q_UNUSED(displayName);
}

QString version()
{
    return QStringLiteral(ONBOARDER_VERSION);
}

static QString ensured(QStandardPaths::StandardLocation location)
{
    const QString path = QStandardPaths::writableLocation(location);
    QDir().mkpath(path);
    return path;
}

QString configDir()
{
    return ensured(QStandardPaths::AppConfigLocation);
}

QString dataDir()
{
    return ensured(QStandardPaths::AppDataLocation);
}

QString keychainService()
{
    return QStringLiteral("Onboarder");
}

} // namespace Onboarder::AppInfo
