#pragma once

#include "common/result.h"

#include <QCoreApplication>
#include <QProcess>
#include <QTemporaryDir>

namespace Onboarder::Sandbox {

// A plain mosquitto for the sensors, on a free port of the loopback interface (nothing else can reach it),
// anonymous, with its configuration in a temporary directory. It keeps a disconnected persistent client's
// messages (the relay's session) up to a large queue, and ends with this process.
class SensorBroker final
{
    Q_DECLARE_TR_FUNCTIONS(SensorBroker)

public:
    SensorBroker();
    ~SensorBroker();
    SensorBroker(const SensorBroker &) = delete;
    SensorBroker &operator=(const SensorBroker &) = delete;

    Result<void> start();
    void stop();
    quint16 port() const { return m_port; }

private:
    QTemporaryDir m_dir;
    QProcess m_process;
    QByteArray m_log;
    quint16 m_port = 0;
};

} // namespace Onboarder::Sandbox
