#include "sensorbroker.h"

#include "mosquittoprocess.h"

#include <QSaveFile>

namespace Onboarder::Sandbox {

SensorBroker::SensorBroker()
{
    setUpMosquittoProcess(m_process);
    // Read what it logs as it comes (a full pipe would stall it); the end is kept for error messages.
    QObject::connect(&m_process, &QProcess::readyRead, &m_process, [this] {
        m_log += m_process.readAll();
        m_log = m_log.right(4000);
    });
}

SensorBroker::~SensorBroker()
{
    stop();
}

Result<void> SensorBroker::start()
{
    if (!m_dir.isValid())
        return fail(
            ErrorKind::Internal, QStringLiteral("NoTempDir"), tr("Cannot make a temporary directory for mosquitto."));
    // Another program may take the free port between the probe and mosquitto's bind: try a few.
    QString log;
    for (int attempt = 0; attempt < 5; ++attempt) {
        m_port = freeLoopbackPort();
        // Run as this user (mosquitto started as root drops to "mosquitto", which cannot read the directory).
        const QString config = QStringLiteral("user %1\n"
                                              "listener %2 127.0.0.1\n"
                                              "allow_anonymous true\n"
                                              "persistence false\n"
                                              "max_queued_messages 100000\n"
                                              "log_dest stderr\n"
                                              "log_type error\nlog_type warning\n")
                                   .arg(mosquittoUser())
                                   .arg(m_port);
        const QString configFile = m_dir.filePath(QStringLiteral("mosquitto.conf"));
        QSaveFile file(configFile);
        if (!file.open(QIODevice::WriteOnly) || file.write(config.toUtf8()) < 0 || !file.commit())
            return fail(
                ErrorKind::Internal, QStringLiteral("ConfigNotWritten"), tr("Cannot write %1.").arg(configFile));
        if (!startMosquitto(m_process, configFile))
            return fail(ErrorKind::Internal, QStringLiteral("BrokerNotStarted"),
                tr("mosquitto could not be started: %1 (is the mosquitto package installed?)")
                    .arg(m_process.errorString()));
        if (waitUntilAccepting(m_process, m_port))
            return {};
        m_log += m_process.readAll();
        log = QString::fromLocal8Bit(m_log).right(2000);
        stop();
    }
    return fail(ErrorKind::Network, QStringLiteral("BrokerNotReady"),
        tr("mosquitto did not accept connections on 127.0.0.1:%1: %2").arg(m_port).arg(log));
}

void SensorBroker::stop()
{
    stopMosquitto(m_process);
}

} // namespace Onboarder::Sandbox
