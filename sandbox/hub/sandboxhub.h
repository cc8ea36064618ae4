#pragma once

#include "registry.h"

#include <QJsonObject>
#include <QObject>

#include <memory>

namespace Onboarder::Sandbox {

class Broker;
class DeviceGateway;
class Mediator;
class RegistryServer;

// The local IoT Hub: owns the data dir (CA, server certificate, registry) and the service endpoints.
class SandboxHub final : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        QString dataDir;
        QString hostName = QStringLiteral("127.0.0.1"); // what connection strings and certificates name
        quint16 restPort = 0;                           // 0: any free port
        quint16 mqttPort = 0;
        int seedDevices = 0;
        int throttlePerMinute = 0;
        QStringList trustedCaFiles; // CAs for certificateAuthority devices
    };

    explicit SandboxHub(Options options, QObject *parent = nullptr);
    ~SandboxHub() override;

    Result<void> start();

    // What --ready-json prints: connectionString, caFile, restPort, mqttPort, hostName, dataDir.
    QJsonObject readyInfo() const;
    QString ownerConnectionString() const;

    Registry &registry() { return m_registry; }

Q_SIGNALS:
    void failed(const QString &message); // a part of the hub stopped working (the broker ended)

private:
    Result<void> ensureCertificates();

    Options m_options;
    Registry m_registry;
    std::unique_ptr<RegistryServer> m_server;
    std::unique_ptr<Broker> m_broker;
    std::unique_ptr<Mediator> m_mediator;
    std::unique_ptr<DeviceGateway> m_gateway;
    quint16 m_mqttPort = 0;
    quint16 m_restPort = 0;
};

} // namespace Onboarder::Sandbox
