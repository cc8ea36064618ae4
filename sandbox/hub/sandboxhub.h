#pragma once

#include "registry.h"

#include <QJsonObject>
#include <QObject>

#include <memory>

namespace Onboarder::Sandbox {

class AmqpEndpoint;
class Broker;
class CloudToDevice;
class Configurations;
class DeviceGateway;
class Dps;
class DpsMqtt;
class DpsServer;
class EventLog;
class JobRunner;
class TelemetryIngest;
class Mediator;
class RegistryServer;
class RestFrontDoor;

// The local IoT Hub: owns the data dir (CA, server certificate, registry) and the service endpoints.
// Threads: the sandbox's main thread, where it makes and runs all its endpoints.
class SandboxHub final : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        QString dataDir;
        QString hostName = QStringLiteral("127.0.0.1"); // what connection strings and certificates name
        quint16 restPort = 0; // 0: any free port
        quint16 mqttPort = 0;
        quint16 amqpPort = 0;
        int eventHubPartitions = 4; // of a new event log; an existing log keeps its count
        QStringList consumerGroups; // besides $Default, made if missing
        int seedDevices = 0;
        int throttlePerMinute = 0;
        // A device message larger than this (payload and property bag) closes the device's connection, as IoT Hub
        // closes it for a message above its 256 KB.
        int maxMessageBytes = 256 * 1024;
        // How long past its expiry a device's SAS token still opens an MQTT connection, and keeps one open (IoT
        // Hub: five minutes). Tests of expiring credentials shorten it.
        int clockSkewSeconds = 300;
        QStringList trustedCaFiles; // CAs for certificateAuthority devices
        // The Device Provisioning Service (--dps): its own address (so that its 443 and 8883 do not clash
        // with the hub's), REST (service and device HTTPS) and MQTT ports; 0: any free port.
        bool dps = false;
        QString dpsAddress = QStringLiteral("127.0.0.2");
        quint16 dpsRestPort = 0;
        quint16 dpsMqttPort = 0;
    };

    explicit SandboxHub(Options options, QObject *parent = nullptr);
    ~SandboxHub() override;

    Result<void> start();

    // What --ready-json prints: connectionString, caFile, restPort, mqttPort, amqpPort, hostName, dataDir,
    // eventHubConnectionString, eventHubName, eventHubPartitions; with the DPS, dps: {connectionString, idScope,
    // host, restPort, mqttPort}.
    QJsonObject readyInfo() const;
    QString ownerConnectionString() const;
    // The Event Hub-compatible endpoint's connection string (policy "service"), as the portal shows it.
    QString eventHubConnectionString() const;
    QString eventHubName() const;
    // Every shared access policy's connection string by name (iothubowner, service, device), for tests.
    QJsonObject policyConnectionStrings() const;

    Registry &registry() { return m_registry; }
    Dps *dps() { return m_dps.get(); } // null without Options::dps

Q_SIGNALS:
    void failed(const QString &message); // a part of the hub stopped working (the broker ended)

private:
    Result<void> ensureCertificates();
    Result<void> startDps();

    Options m_options;
    Registry m_registry;
    std::unique_ptr<RegistryServer> m_server;
    RestFrontDoor *m_frontDoor = nullptr; // owned by m_server
    std::unique_ptr<Broker> m_broker;
    std::unique_ptr<Mediator> m_mediator;
    std::unique_ptr<JobRunner> m_jobs;
    std::unique_ptr<Configurations> m_configurations;
    std::unique_ptr<DeviceGateway> m_gateway;
    std::unique_ptr<EventLog> m_eventLog;
    std::unique_ptr<TelemetryIngest> m_ingest;
    std::unique_ptr<CloudToDevice> m_cloudToDevice;
    std::unique_ptr<AmqpEndpoint> m_amqp;
    std::unique_ptr<Dps> m_dps;
    std::unique_ptr<DpsServer> m_dpsServer;
    std::unique_ptr<DpsMqtt> m_dpsMqtt;
    quint16 m_dpsRestPort = 0;
    quint16 m_dpsMqttPort = 0;
    quint16 m_mqttPort = 0;
    quint16 m_amqpPort = 0;
    quint16 m_restPort = 0;
};

} // namespace Onboarder::Sandbox
