#pragma once

#include "common/result.h"

#include <QObject>
#include <QProcess>

namespace Onboarder::Sandbox {

// The sandbox hub's MQTT broker: a real mosquitto, started and supervised by the sandbox, with the
// project's plugin for IoT Hub's authentication, topic rules, connection state, telemetry and twin/
// method mediation. It listens on loopback only, behind the DeviceGateway that terminates TLS
// (mosquitto cannot ask for a client certificate without requiring one).
// Threads: the sandbox's main thread.
class Broker final : public QObject
{
    Q_OBJECT

public:
    // clockSkewSeconds: how long past its expiry a device's SAS token still opens a connection (IoT Hub: 300).
    Broker(const QString &dataDir, const QString &hostName, int maxMessageBytes, int clockSkewSeconds,
        QObject *parent = nullptr);
    ~Broker() override;

    Result<void> start(quint16 port = 0); // loopback, plain; 0: a free port
    void stop();
    quint16 port() const { return m_port; }

    static QString pluginPath();

Q_SIGNALS:
    void failed(const QString &message); // mosquitto ended without being asked to

private:
    QString m_dataDir;
    QString m_hostName;
    int m_maxMessageBytes = 0;
    int m_clockSkewSeconds = 300;
    quint16 m_port = 0;
    QProcess m_process;
    bool m_stopping = false;
};

} // namespace Onboarder::Sandbox
