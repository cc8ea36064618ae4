#pragma once

// A device played by mosquitto_sub or mosquitto_pub (clients the project did not write) on a hub's MQTT endpoint,
// with a SAS token of its own key. The token goes through the tool's own options file ($XDG_CONFIG_HOME/<tool>,
// owner-only), never argv.

#include "clirun.h"
#include "hub/sastoken.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStringList>

namespace TestSupport {

// The device's primary key, as `onboarder-cli device show --reveal` gives it.
inline QString revealedDeviceKey(const QProcessEnvironment &env, const QString &id)
{
    const CliRun shown = runCli(env,
        {QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("show"), id, QStringLiteral("--reveal")});
    return shown.json()[QStringLiteral("authentication")][QStringLiteral("symmetricKey")][QStringLiteral("primaryKey")]
        .toString();
}

struct MosquittoDevice
{
    QString host; // where to connect
    int port = 0; // the hub's MQTT port
    QString caFile; // the hub's CA
    QString hubName; // the hub's host name, in the user name and the token
    QString id;
    QString key; // the device's primary key
    QString workDir; // where the tool's options file is written
};

// Starts tool ("mosquitto_sub" or "mosquitto_pub") as the device at QoS 1, with more arguments after the common ones;
// false (and why in *error) when it could not be started.
inline bool startMosquittoDevice(
    QProcess &process, const QString &tool, const MosquittoDevice &device, const QStringList &more, QString *error)
{
    const auto token = Onboarder::SasToken::create(
        device.hubName + QStringLiteral("/devices/") + device.id, device.key, QDateTime::currentSecsSinceEpoch() + 600);
    if (!token) {
        *error = token.error().message;
        return false;
    }
    const QString configHome = QDir(device.workDir).filePath(tool + QStringLiteral("-") + device.id);
    QFile options(configHome + QStringLiteral("/") + tool);
    if (!QDir().mkpath(configHome) || !options.open(QIODevice::WriteOnly)) {
        *error = QStringLiteral("cannot write %1").arg(options.fileName());
        return false;
    }
    options.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    options.write(QStringLiteral("-P %1\n").arg(token->toString()).toUtf8());
    options.close();
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("XDG_CONFIG_HOME"), configHome);
    process.setProcessEnvironment(environment);
    process.start(tool,
        QStringList{QStringLiteral("-h"), device.host, QStringLiteral("-p"), QString::number(device.port),
            QStringLiteral("--cafile"), device.caFile, QStringLiteral("-i"), device.id, QStringLiteral("-u"),
            QStringLiteral("%1/%2/?api-version=2021-04-12").arg(device.hubName, device.id), QStringLiteral("-q"),
            QStringLiteral("1")}
            + more);
    if (!process.waitForStarted(5000)) {
        *error = tool + QStringLiteral(" did not start: ") + process.errorString();
        return false;
    }
    return true;
}

} // namespace TestSupport
