#include "sandboxhub.h"

#include "amqp/websocketstream.h"
#include "amqpendpoint.h"
#include "broker.h"
#include "certificatepath.h"
#include "cloudtodevice.h"
#include "configurations.h"
#include "credentials/certificate.h"
#include "credentials/keypair.h"
#include "devicegateway.h"
#include "dps.h"
#include "dpsmqtt.h"
#include "dpsserver.h"
#include "eventlog.h"
#include "hub/connectionstring.h"
#include "jobrunner.h"
#include "mediator.h"
#include "registryserver.h"
#include "restfrontdoor.h"
#include "telemetryingest.h"

#include <QDir>
#include <QFile>
#include <QHostAddress>
#include <QJsonArray>
#include <QSaveFile>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslSocket>

namespace Onboarder::Sandbox {

namespace {

Result<void> writeFile(const QString &path, const QByteArray &data, bool secret)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return fail(ErrorKind::Internal, QStringLiteral("DataDirNotWritable"),
            QStringLiteral("Cannot write %1: %2").arg(path, file.errorString()));
    if (secret)
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    file.write(data);
    if (!file.commit())
        return fail(ErrorKind::Internal, QStringLiteral("DataDirNotWritable"),
            QStringLiteral("Cannot write %1: %2").arg(path, file.errorString()));
    return {};
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace

SandboxHub::SandboxHub(Options options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
{ }

SandboxHub::~SandboxHub()
{
    m_dpsMqtt.reset();
    m_dpsServer.reset();
    m_dps.reset();
    // The broker first: its plugin marks every device disconnected in the registry as it unloads.
    m_amqp.reset();
    m_gateway.reset();
    m_ingest.reset();
    m_registry.setSessionCloser({});
    if (m_server)
        m_server->setJobRunner(nullptr);
    if (m_server)
        m_server->setConfigurations(nullptr);
    m_jobs.reset();
    m_configurations.reset();
    m_mediator.reset();
    m_broker.reset();
    m_server.reset();
}

Result<void> SandboxHub::ensureCertificates()
{
    const QDir dir(m_options.dataDir);
    const QString caFile = dir.filePath(QStringLiteral("ca.pem"));
    const QString caKeyFile = dir.filePath(QStringLiteral("ca-key.pem"));
    const QString serverFile = dir.filePath(QStringLiteral("server.pem"));
    const QString serverKeyFile = dir.filePath(QStringLiteral("server-key.pem"));

    // The CA is made once and kept: whoever trusts it (hub profiles, NODE_EXTRA_CA_CERTS) keeps working.
    if (!QFile::exists(caFile) || !QFile::exists(caKeyFile)) {
        auto key = KeyPair::generate(KeyPair::Type::EcP256);
        if (!key)
            return std::unexpected(key.error());
        auto ca = Certificate::selfSigned(
            *key, {QStringLiteral("Onboarder Sandbox CA"), {}, {}, 3650, Certificate::Usage::CertificateAuthority});
        if (!ca)
            return std::unexpected(ca.error());
        if (auto ok = writeFile(caKeyFile, key->privateKeyPem().exposeForWire(), true); !ok)
            return ok;
        if (auto ok = writeFile(caFile, ca->toPem(), false); !ok)
            return ok;
        QFile::remove(serverFile);
    }

    // The server certificate names localhost, the loopback addresses and the hub's host name; it is
    // issued again whenever the host name changes.
    QStringList dnsNames{QStringLiteral("localhost")};
    QStringList ips{QStringLiteral("127.0.0.1"), QStringLiteral("::1")};
    if (QHostAddress(m_options.hostName).isNull())
        dnsNames.append(m_options.hostName);
    else if (!ips.contains(m_options.hostName))
        ips.append(m_options.hostName);
    const auto existing = Certificate::fromPem(readFile(serverFile));
    const bool current = existing && existing->subjectCommonName() == m_options.hostName
        && existing->notAfter() > QDateTime::currentDateTimeUtc().addDays(7) && QFile::exists(serverKeyFile);
    if (!current) {
        auto caKey = KeyPair::fromPem(readFile(caKeyFile));
        auto ca = Certificate::fromPem(readFile(caFile));
        if (!caKey || !ca)
            return fail(ErrorKind::Internal, QStringLiteral("SandboxCaDamaged"),
                QStringLiteral("The sandbox CA in %1 cannot be read; delete ca.pem and ca-key.pem to make a new one.")
                    .arg(m_options.dataDir));
        auto key = KeyPair::generate(KeyPair::Type::EcP256);
        if (!key)
            return std::unexpected(key.error());
        auto server = Certificate::issue(
            *ca, *caKey, *key, {m_options.hostName, dnsNames, ips, 825, Certificate::Usage::Server});
        if (!server)
            return std::unexpected(server.error());
        if (auto ok = writeFile(serverKeyFile, key->privateKeyPem().exposeForWire(), true); !ok)
            return ok;
        if (auto ok = writeFile(serverFile, server->toPem() + ca->toPem(), false); !ok)
            return ok;
    }
    return {};
}

Result<void> SandboxHub::start()
{
    if (!QDir().mkpath(m_options.dataDir))
        return fail(ErrorKind::Internal, QStringLiteral("DataDirNotWritable"),
            QStringLiteral("Cannot create %1").arg(m_options.dataDir));
    QFile::setPermissions(m_options.dataDir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    if (auto ok = ensureCertificates(); !ok)
        return ok;
    if (auto ok = m_registry.open(QDir(m_options.dataDir).filePath(QStringLiteral("registry.db"))); !ok)
        return ok;
    if (m_options.seedDevices > 0) {
        if (auto seeded = m_registry.seed(m_options.seedDevices); !seeded)
            return std::unexpected(seeded.error());
    }

    const QDir dir(m_options.dataDir);
    const QList<QSslCertificate> chain
        = QSslCertificate::fromPath(dir.filePath(QStringLiteral("server.pem")), QSsl::Pem);
    const QSslKey key(readFile(dir.filePath(QStringLiteral("server-key.pem"))), QSsl::Ec, QSsl::Pem);
    if (chain.isEmpty() || key.isNull())
        return fail(ErrorKind::Internal, QStringLiteral("ServerCertificateDamaged"),
            QStringLiteral("The sandbox's server certificate in %1 cannot be loaded.").arg(m_options.dataDir));
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificateChain(chain);
    tls.setPrivateKey(key);

    // One HTTPS port for REST and for AMQP over WebSockets, as IoT Hub's 443.
    m_server = std::make_unique<RegistryServer>(m_registry, m_options.hostName);
    m_server->setThrottle(m_options.throttlePerMinute);
    m_frontDoor = new RestFrontDoor(tls, m_server.get());
    m_frontDoor->setGate([server = m_server.get()](const HttpRequestFraming::Head &head, bool tooLarge) {
        return server->judgeHead(head, tooLarge);
    });
    if (m_frontDoor->listen(QHostAddress::LocalHost, m_options.restPort)) {
        m_restPort = m_frontDoor->serverPort();
        m_server->bind(m_frontDoor);
    }
    if (m_restPort == 0)
        return fail(ErrorKind::Network, QStringLiteral("PortInUse"),
            QStringLiteral("Cannot listen on 127.0.0.1:%1 (in use, or a privileged port without the right to bind it).")
                .arg(m_options.restPort));

    m_broker = std::make_unique<Broker>(
        m_options.dataDir, m_options.hostName, m_options.maxMessageBytes, m_options.clockSkewSeconds);
    connect(m_broker.get(), &Broker::failed, this, &SandboxHub::failed);
    if (auto ok = m_broker->start(); !ok)
        return ok;

    // Twins and direct methods reach devices through the sandbox's own link to the broker.
    m_mediator = std::make_unique<Mediator>(m_registry);
    m_registry.setSessionCloser([this](const QString &deviceId) {
        if (m_mediator)
            m_mediator->closeSessions(deviceId);
    });
    const QByteArray secret = readFile(dir.filePath(QStringLiteral("broker-secret"))).trimmed();
    if (!m_mediator->start(m_broker->port(), secret))
        return fail(ErrorKind::Network, QStringLiteral("MediatorNotConnected"),
            QStringLiteral("The sandbox could not connect to its own broker on port %1.").arg(m_broker->port()));
    connect(m_server.get(), &RegistryServer::desiredPropertiesChanged, m_mediator.get(), &Mediator::notifyDesired);
    m_server->setMethodInvoker(
        [this](const QString &deviceId, const QJsonObject &request, QHttpServerResponder &&responder) {
            m_mediator->invokeMethod(deviceId, request, std::move(responder));
        });
    // Jobs: twin updates and direct methods on many devices, through the same mediator.
    m_jobs = std::make_unique<JobRunner>(m_registry);
    m_jobs->setMethodCall(
        [this](const QString &deviceId, const QJsonObject &request, std::function<void(Result<QJsonObject>)> done) {
            m_mediator->callMethod(deviceId, request, std::move(done));
        });
    connect(m_jobs.get(), &JobRunner::desiredPropertiesChanged, m_mediator.get(), &Mediator::notifyDesired);
    m_server->setJobRunner(m_jobs.get());
    m_configurations = std::make_unique<Configurations>(m_registry);
    connect(
        m_configurations.get(), &Configurations::desiredPropertiesChanged, m_mediator.get(), &Mediator::notifyDesired);
    m_server->setConfigurations(m_configurations.get());

    // Devices connect here: TLS, client certificates asked for, then the broker.
    m_gateway = std::make_unique<DeviceGateway>(m_registry, tls, secret, m_broker->port());
    QList<QSslCertificate> trusted;
    for (const QString &file : m_options.trustedCaFiles) {
        const auto cas = QSslCertificate::fromPath(file, QSsl::Pem);
        if (cas.isEmpty())
            return fail(ErrorKind::InvalidInput, QStringLiteral("CaFileNotPem"),
                QStringLiteral("%1 holds no PEM CA certificate.").arg(file));
        for (const QSslCertificate &ca : cas) {
            const auto ours = Certificate::fromDer(ca.toDer());
            if (!ours || !CertificatePath::isCa(*ours))
                return fail(ErrorKind::InvalidInput, QStringLiteral("NotACa"),
                    QStringLiteral(
                        "%1: \"%2\" is no CA certificate (a CA is X.509 version 3 with basicConstraints CA:TRUE).")
                        .arg(file, ca.subjectDisplayName()));
        }
        trusted += cas;
    }
    m_gateway->setTrustedCas(trusted);
    const auto port = m_gateway->listen(m_options.mqttPort);
    if (!port)
        return std::unexpected(port.error());
    m_mqttPort = *port;
    m_frontDoor->setMqttHook([this](QSslSocket *socket) { m_gateway->adopt(socket); });

    // The Event Hub-compatible endpoint: every device-to-cloud message, kept in partitions in the data dir.
    m_eventLog = std::make_unique<EventLog>();
    EventLog::Options logOptions;
    logOptions.partitions = m_options.eventHubPartitions;
    if (auto ok = m_eventLog->open(dir.filePath(QStringLiteral("eventhub.db")), logOptions); !ok)
        return ok;
    for (const QString &group : std::as_const(m_options.consumerGroups)) {
        if (auto ok = m_eventLog->addConsumerGroup(group); !ok)
            return ok;
    }
    m_ingest = std::make_unique<TelemetryIngest>(*m_eventLog);
    if (!m_ingest->start(m_broker->port(), secret))
        return fail(ErrorKind::Network, QStringLiteral("MediatorNotConnected"),
            QStringLiteral("The sandbox could not read telemetry from its own broker on port %1.")
                .arg(m_broker->port()));

    // Cloud-to-device queues, delivered over MQTT through the mediator's link.
    m_cloudToDevice = std::make_unique<CloudToDevice>(m_registry);
    m_cloudToDevice->setPublisher([this](const QString &deviceId, const QString &topic, const QByteArray &payload) {
        m_mediator->sendToDevice(deviceId, topic, payload);
    });
    connect(
        m_mediator.get(), &Mediator::deviceboundSubscribed, m_cloudToDevice.get(), &CloudToDevice::deviceSubscribed);
    connect(m_mediator.get(), &Mediator::deviceDisconnected, m_cloudToDevice.get(), &CloudToDevice::deviceGone);
    m_server->setCloudToDevice(m_cloudToDevice.get());

    m_amqp = std::make_unique<AmqpEndpoint>(
        m_registry, *m_eventLog, *m_cloudToDevice, tls, m_options.hostName, eventHubName());
    const auto amqpPort = m_amqp->listen(m_options.amqpPort);
    if (!amqpPort)
        return std::unexpected(amqpPort.error());
    m_amqpPort = *amqpPort;
    m_frontDoor->setAmqpHook([this](QWebSocket *webSocket) { m_amqp->adopt(new WebSocketStream(webSocket)); });
    if (m_options.dps)
        return startDps();
    return {};
}

Result<void> SandboxHub::startDps()
{
    const QDir dir(m_options.dataDir);
    const QHostAddress address(m_options.dpsAddress);
    if (address.isNull())
        return fail(ErrorKind::InvalidInput, QStringLiteral("DpsAddressInvalid"),
            QStringLiteral("--dps-address takes an IP address (such as 127.0.0.2), not '%1'.")
                .arg(m_options.dpsAddress));

    // The DPS's own server certificate, from the sandbox CA, for its address; issued at every start (cheap).
    auto caKey = KeyPair::fromPem(readFile(dir.filePath(QStringLiteral("ca-key.pem"))));
    auto ca = Certificate::fromPem(readFile(dir.filePath(QStringLiteral("ca.pem"))));
    if (!caKey || !ca)
        return fail(ErrorKind::Internal, QStringLiteral("SandboxCaDamaged"),
            QStringLiteral("The sandbox CA in %1 cannot be read.").arg(m_options.dataDir));
    auto key = KeyPair::generate(KeyPair::Type::EcP256);
    if (!key)
        return std::unexpected(key.error());
    auto certificate = Certificate::issue(*ca, *caKey, *key,
        {m_options.dpsAddress, {QStringLiteral("localhost")}, {m_options.dpsAddress}, 825, Certificate::Usage::Server});
    if (!certificate)
        return std::unexpected(certificate.error());
    if (auto ok = writeFile(dir.filePath(QStringLiteral("dps-key.pem")), key->privateKeyPem().exposeForWire(), true);
        !ok)
        return ok;
    if (auto ok = writeFile(dir.filePath(QStringLiteral("dps.pem")), certificate->toPem() + ca->toPem(), false); !ok)
        return ok;
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificateChain(QSslCertificate::fromData(certificate->toPem() + ca->toPem(), QSsl::Pem));
    tls.setPrivateKey(QSslKey(key->privateKeyPem().exposeForWire(), QSsl::Ec, QSsl::Pem));
    // Devices may attest with a client certificate on either port: asked for, not required, judged by enrollments.
    tls.setPeerVerifyMode(QSslSocket::QueryPeer);

    m_dps = std::make_unique<Dps>(m_registry, m_options.hostName);
    if (auto ok = m_dps->open(dir.filePath(QStringLiteral("dps.json")), m_options.dpsAddress); !ok)
        return ok;
    m_dpsServer = std::make_unique<DpsServer>(*m_dps);
    auto *frontDoor = new RestFrontDoor(tls, m_dpsServer.get());
    if (!frontDoor->listen(address, m_options.dpsRestPort))
        return fail(ErrorKind::Network, QStringLiteral("PortInUse"),
            QStringLiteral("Cannot listen on %1:%2 for the DPS (in use, an address this host does not have, or a "
                           "privileged port without the right to bind it).")
                .arg(m_options.dpsAddress)
                .arg(m_options.dpsRestPort));
    m_dpsRestPort = frontDoor->serverPort();
    m_dpsServer->bind(frontDoor);

    m_dpsMqtt = std::make_unique<DpsMqtt>(*m_dps, tls);
    const auto port = m_dpsMqtt->listen(address, m_options.dpsMqttPort);
    if (!port)
        return std::unexpected(port.error());
    m_dpsMqttPort = *port;
    frontDoor->setMqttHook([this](QSslSocket *socket) { m_dpsMqtt->adoptWebSocket(socket); });
    return {};
}

QString SandboxHub::ownerConnectionString() const
{
    const auto owner = m_registry.policy(QStringLiteral("iothubowner"));
    return owner ? ConnectionString::service(m_options.hostName, owner->name, owner->primaryKey).toString() : QString();
}

QJsonObject SandboxHub::policyConnectionStrings() const
{
    QJsonObject out;
    for (const SharedAccessPolicy &policy : m_registry.policies())
        out.insert(
            policy.name, ConnectionString::service(m_options.hostName, policy.name, policy.primaryKey).toString());
    return out;
}

QString SandboxHub::eventHubName() const
{
    // Azure names the Event Hub-compatible entity after the hub; the sandbox's hub has one name.
    return QStringLiteral("iothub-ehub-onboarder-sandbox");
}

QString SandboxHub::eventHubConnectionString() const
{
    const auto service = m_registry.policy(QStringLiteral("service"));
    if (!service)
        return {};
    return QStringLiteral("Endpoint=sb://%1:%2/;SharedAccessKeyName=%3;SharedAccessKey=%4;EntityPath=%5")
        .arg(m_options.hostName)
        .arg(m_amqpPort)
        .arg(service->name, service->primaryKey, eventHubName());
}

QJsonObject SandboxHub::readyInfo() const
{
    QJsonObject info{{QStringLiteral("connectionString"), ownerConnectionString()},
        {QStringLiteral("amqpPort"), m_amqpPort},
        {QStringLiteral("eventHubConnectionString"), eventHubConnectionString()},
        {QStringLiteral("eventHubName"), eventHubName()},
        {QStringLiteral("eventHubPartitions"), m_eventLog ? m_eventLog->partitionCount() : 0},
        {QStringLiteral("consumerGroups"),
            QJsonArray::fromStringList(m_eventLog ? m_eventLog->consumerGroups() : QStringList())},
        {QStringLiteral("policyConnectionStrings"), policyConnectionStrings()},
        {QStringLiteral("caFile"), QDir(m_options.dataDir).filePath(QStringLiteral("ca.pem"))},
        {QStringLiteral("restPort"), m_restPort}, {QStringLiteral("mqttPort"), m_mqttPort},
        {QStringLiteral("hostName"), m_options.hostName}, {QStringLiteral("dataDir"), m_options.dataDir}};
    if (m_dps)
        info.insert(QStringLiteral("dps"),
            QJsonObject{{QStringLiteral("connectionString"), m_dps->connectionString()},
                {QStringLiteral("idScope"), m_dps->idScope()}, {QStringLiteral("host"), m_dps->host()},
                {QStringLiteral("restPort"), m_dpsRestPort}, {QStringLiteral("mqttPort"), m_dpsMqttPort}});
    return info;
}

} // namespace Onboarder::Sandbox
