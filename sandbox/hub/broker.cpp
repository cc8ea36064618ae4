#include "broker.h"

#include "common/logging.h"
#include "mosquittoprocess.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QSaveFile>

#include <algorithm>

namespace Onboarder::Sandbox {

Broker::Broker(
    const QString &dataDir, const QString &hostName, int maxMessageBytes, int clockSkewSeconds, QObject *parent)
    : QObject(parent)
    , m_dataDir(dataDir)
    , m_hostName(hostName)
    , m_maxMessageBytes(maxMessageBytes)
    , m_clockSkewSeconds(clockSkewSeconds)
{
    // mosquitto ends with the sandbox even when the sandbox cannot stop it (killed, crashed, a test
    // that aborted): the kernel sends it SIGTERM when its parent dies.
    setUpMosquittoProcess(m_process);
    connect(&m_process, &QProcess::finished, this, [this](int code) {
        if (m_stopping)
            return;
        const QString log = QString::fromLocal8Bit(m_process.readAll()).right(2000);
        Q_EMIT failed(QStringLiteral("mosquitto ended (exit code %1): %2").arg(code).arg(log));
    });
}

Broker::~Broker()
{
    stop();
}

QString Broker::pluginPath()
{
    if (const QString overridden = qEnvironmentVariable("ONBOARDER_SANDBOX_PLUGIN"); !overridden.isEmpty())
        return overridden;
    QString installed = QStringLiteral(ONBOARDER_PLUGIN_INSTALL_PATH);
    if (QFile::exists(installed)
        && !QCoreApplication::applicationDirPath().startsWith(QStringLiteral(ONBOARDER_BUILD_DIR)))
        return installed;
    return QStringLiteral(ONBOARDER_PLUGIN_BUILD_PATH);
}

Result<void> Broker::start(quint16 port)
{
    const QDir dir(m_dataDir);
    const QString plugin = pluginPath();
    if (!QFile::exists(plugin))
        return fail(ErrorKind::Internal, QStringLiteral("PluginMissing"),
            QStringLiteral("The sandbox's mosquitto plugin is missing: %1").arg(plugin));

    // A secret for the sandbox's own links to the broker (the TLS front's X.509 assertions).
    const QString secretFile = dir.filePath(QStringLiteral("broker-secret"));
    if (!QFile::exists(secretFile)) {
        QByteArray secret(32, Qt::Uninitialized);
        QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(secret.data()), 8);
        QSaveFile file(secretFile);
        file.open(QIODevice::WriteOnly);
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        file.write(secret.toBase64() + '\n');
        file.commit();
    }

    m_port = port ? port : freeLoopbackPort();
    // Run as the user the sandbox runs as (mosquitto drops root to "mosquitto" otherwise and could
    // not read the private files of the data dir).
    const QString config = QStringLiteral("user %1\n"
                                          "allow_anonymous false\n"
                                          "persistence false\n"
                                          "log_dest stderr\n"
                                          "log_type error\nlog_type warning\nlog_type notice\n"
                                          "max_packet_size %8\n"
                                          // A consumer ($sandbox/telemetry/#) is the hub's Event Hubs endpoint,
                                          // which keeps messages: none dropped for a slow one (mosquitto's
                                          // default queue of 1000 per client dropped a relay's bursts).
                                          "max_queued_messages 0\n"
                                          // As many unacknowledged QoS 1 messages in flight to a consumer as
                                          // it takes (mosquitto's default of 20 throttles it to 20 per round trip).
                                          "max_inflight_messages 0\n"
                                          "set_tcp_nodelay true\n"
                                          "listener %2 127.0.0.1\n"
                                          "plugin %3\n"
                                          "plugin_opt_registry %4\n"
                                          "plugin_opt_host_name %5\n"
                                          "plugin_opt_secret_file %6\n"
                                          "plugin_opt_max_message_bytes %7\n"
                                          "plugin_opt_clock_skew_seconds %9\n")
                               .arg(mosquittoUser())
                               .arg(m_port)
                               .arg(plugin, dir.filePath(QStringLiteral("registry.db")), m_hostName, secretFile)
                               .arg(m_maxMessageBytes)
                               .arg(std::max(270000, m_maxMessageBytes + 8192))
                               .arg(m_clockSkewSeconds);
    const QString configFile = dir.filePath(QStringLiteral("mosquitto.conf"));
    QSaveFile file(configFile);
    if (!file.open(QIODevice::WriteOnly))
        return fail(ErrorKind::Internal, QStringLiteral("DataDirNotWritable"),
            QStringLiteral("Cannot write %1").arg(configFile));
    file.write(config.toUtf8());
    file.commit();

    m_stopping = false;
    if (!startMosquitto(m_process, configFile))
        return fail(ErrorKind::Internal, QStringLiteral("BrokerNotStarted"),
            QStringLiteral("mosquitto could not be started: %1 (is the mosquitto package installed?)")
                .arg(m_process.errorString()));
    if (!waitUntilAccepting(m_process, m_port)) {
        const QString log = QString::fromLocal8Bit(m_process.readAll()).right(2000);
        stop();
        return fail(ErrorKind::Network, QStringLiteral("BrokerNotReady"),
            QStringLiteral("mosquitto did not accept connections on 127.0.0.1:%1: %2").arg(m_port).arg(log));
    }
    return {};
}

void Broker::stop()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_stopping = true;
    stopMosquitto(m_process);
}

} // namespace Onboarder::Sandbox
