#include "amqp/eventhubreader.h"

#include "amqp/amqpclient.h"
#include "amqp/amqpmessage.h"
#include "common/logging.h"
#include "hub/sastoken.h"

#include <QCoreApplication>
#include <QRegularExpression>
#include <QUrl>
#include <QUuid>

#include <algorithm>
#include <proton/connection.h>
#include <proton/link.h>

namespace Onboarder {

QJsonObject TelemetryEvent::toJson() const
{
    QJsonObject application;
    for (const auto &[name, value] : properties)
        application.insert(name, value);
    QJsonObject system;
    for (const auto &[name, value] : systemProperties)
        system.insert(name, value);
    QJsonObject line{{QStringLiteral("deviceId"), deviceId},
        {QStringLiteral("time"), enqueuedTime.toUTC().toString(Qt::ISODateWithMs)},
        {QStringLiteral("partition"), partition}, {QStringLiteral("sequenceNumber"), sequenceNumber},
        {QStringLiteral("properties"), application}, {QStringLiteral("systemProperties"), system}};
    if (!contentType.isEmpty())
        line.insert(QStringLiteral("contentType"), contentType);
    if (!messageId.isEmpty())
        line.insert(QStringLiteral("messageId"), messageId);
    const QString text = QString::fromUtf8(body);
    if (text.toUtf8() == body)
        line.insert(QStringLiteral("payload"), text);
    else
        line.insert(QStringLiteral("payloadBase64"), QString::fromLatin1(body.toBase64()));
    return line;
}

namespace {

constexpr qint64 tokenLifetimeSeconds = 3600;
constexpr int renewEveryMs = 45 * 60 * 1000; // as the Azure SDKs: well before the hour is up
constexpr int partitionCredit = 300;

QString text(const QVariant &value)
{
    if (value.metaType() == QMetaType::fromType<QDateTime>())
        return value.toDateTime().toUTC().toString(Qt::ISODateWithMs);
    const QString symbolOrString = Amqp::text(value);
    return symbolOrString.isEmpty() ? value.toString() : symbolOrString;
}

QString idText(const QVariant &id)
{
    if (id.metaType() == QMetaType::fromType<QUuid>())
        return id.toUuid().toString(QUuid::WithoutBraces);
    return text(id);
}

} // namespace

Result<EventHubEndpoint> EventHubEndpoint::parse(const QString &connectionString)
{
    EventHubEndpoint endpoint;
    QString endpointUrl;
    for (const QString &part : connectionString.trimmed().split(u';', Qt::SkipEmptyParts)) {
        const qsizetype eq = part.indexOf(u'=');
        if (eq <= 0)
            continue;
        const QString key = part.left(eq).trimmed();
        const QString value = part.mid(eq + 1).trimmed();
        if (key.compare(QLatin1String("Endpoint"), Qt::CaseInsensitive) == 0)
            endpointUrl = value;
        else if (key.compare(QLatin1String("SharedAccessKeyName"), Qt::CaseInsensitive) == 0)
            endpoint.keyName = value;
        else if (key.compare(QLatin1String("SharedAccessKey"), Qt::CaseInsensitive) == 0)
            endpoint.key = value;
        else if (key.compare(QLatin1String("EntityPath"), Qt::CaseInsensitive) == 0)
            endpoint.entity = value;
    }
    const auto invalid = [](const QString &why) {
        return Onboarder::fail(ErrorKind::InvalidInput, QStringLiteral("NotAnEventHubConnectionString"),
            QCoreApplication::translate("EventHubReader", "This is not an Event Hub-compatible connection string: %1")
                .arg(why));
    };
    if (connectionString.contains(QLatin1String("HostName="), Qt::CaseInsensitive))
        return invalid(QCoreApplication::translate("EventHubReader",
            "it names a HostName, so it is an IoT Hub connection string. The Event Hub-compatible one "
            "starts with \"Endpoint=sb://\" (Azure portal: the hub's Built-in endpoints)."));
    const QUrl url(endpointUrl);
    if (endpointUrl.isEmpty() || url.scheme() != QLatin1String("sb") || url.host().isEmpty())
        return invalid(QCoreApplication::translate("EventHubReader", "Endpoint must be sb://HOST/."));
    if (endpoint.keyName.isEmpty() || endpoint.key.isEmpty())
        return invalid(
            QCoreApplication::translate("EventHubReader", "SharedAccessKeyName and SharedAccessKey are needed."));
    if (endpoint.entity.isEmpty())
        return invalid(
            QCoreApplication::translate("EventHubReader", "EntityPath (the Event Hub-compatible name) is missing."));
    endpoint.host = url.host();
    endpoint.port = quint16(url.port(5671));
    return endpoint;
}

EventHubReader::EventHubReader(QObject *parent)
    : QObject(parent)
    , m_retryTimer(this)
    , m_renewTimer(this)
{
    qRegisterMetaType<TelemetryEvent>();
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, [this] {
        if (m_eventHubConnectionString.isEmpty() && m_endpoint.entity.isEmpty())
            connectToHub();
        else
            connectToEventHub();
    });
    m_renewTimer.setInterval(renewEveryMs);
    connect(&m_renewTimer, &QTimer::timeout, this, &EventHubReader::renewTokens);
}

EventHubReader::~EventHubReader() = default;

void EventHubReader::setReconnectInterval(int minSeconds, int maxSeconds)
{
    m_retryMinSeconds = std::max(1, minSeconds);
    m_retryMaxSeconds = std::max(m_retryMinSeconds, maxSeconds);
}

void EventHubReader::start(
    const HubProfile &hub, const ConnectionString &service, const QString &eventHub, const Options &options)
{
    stop();
    m_hub = hub;
    m_service = service;
    m_eventHubConnectionString = eventHub;
    m_options = options;
    m_endpoint = {};
    m_partitions.clear();
    m_lastError = {};
    m_retrySeconds = 0;
    m_startedMs = QDateTime::currentMSecsSinceEpoch();
    if (!eventHub.isEmpty()) {
        auto endpoint = EventHubEndpoint::parse(eventHub);
        if (!endpoint)
            return fail(endpoint.error());
        m_endpoint = *endpoint;
        setState(State::Connecting);
        return connectToEventHub();
    }
    if (service.kind() != ConnectionString::Kind::Service || service.sharedAccessKey().isEmpty())
        return fail(Error{ErrorKind::InvalidInput, QStringLiteral("NotAServiceConnectionString"),
            tr("Reading what hub %1 receives needs the connection string of one of its shared access policies, "
               "not a device's.")
                .arg(hub.name)});
    setState(State::Connecting);
    connectToHub();
}

void EventHubReader::stop()
{
    m_retryTimer.stop();
    m_renewTimer.stop();
    if (m_client) {
        m_client->disconnect(this);
        m_client->close();
        m_client.release()->deleteLater(); // not here: stop() may run inside one of its signals
    }
    setState(State::Stopped);
}

void EventHubReader::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void EventHubReader::fail(const Error &given)
{
    Error error = given;
    if (error.kind == ErrorKind::AuthRefused) {
        // Say which key, in the words the user knows it by; the hub's own text follows.
        const QString key = m_eventHubConnectionString.isEmpty()
            ? tr("shared access policy %1").arg(m_service.sharedAccessKeyName())
            : tr("Event Hub-compatible connection string");
        error.message = tr("Hub %1 refused the key (%2): %3").arg(m_hub.name, key, given.message);
    }
    m_lastError = error;
    stop();
    m_lastError = error;
    // The error first: whoever reacts to the state finds it in lastError().
    Q_EMIT errorOccurred(error);
    setState(State::Failed);
}

void EventHubReader::retry(const Error &error)
{
    m_lastError = error;
    if (m_client) {
        m_client->disconnect(this);
        m_client.release()->deleteLater();
    }
    for (Partition &partition : m_partitions)
        partition.link = nullptr;
    m_renewTimer.stop();
    m_retrySeconds = m_retrySeconds == 0 ? m_retryMinSeconds : std::min(m_retrySeconds * 2, m_retryMaxSeconds);
    qCInfo(lcHub) << "reading the telemetry of" << m_hub.name << "again in" << m_retrySeconds << "s:" << error.message;
    setState(State::Connecting);
    Q_EMIT errorOccurred(error);
    m_retryTimer.start(m_retrySeconds * 1000);
}

void EventHubReader::onClosed(const Error &error)
{
    if (m_state == State::Stopped || m_state == State::Failed)
        return;
    if (error.kind == ErrorKind::AuthRefused || error.kind == ErrorKind::InvalidInput
        || error.code == QLatin1String("CertificateVerificationFailed"))
        return fail(error);
    retry(error.code.isEmpty()
            ? Error{ErrorKind::Network, QStringLiteral("AmqpConnectionLost"), tr("The connection ended.")}
            : error);
}

void EventHubReader::connectToHub()
{
    // IoT Hub redirects a receiver on its telemetry address to the Event Hub-compatible entity; SASL PLAIN with
    // "{policy}@sas.root.{hub}" and a token for {host}/messages/events, as IoT Explorer does.
    m_redirecting = true;
    m_client = std::make_unique<AmqpClient>();
    connect(m_client.get(), &AmqpClient::closed, this, &EventHubReader::onClosed);
    connect(m_client.get(), &AmqpClient::linkClosed, this, &EventHubReader::onLinkClosed);
    AmqpClient *client = m_client.get();
    connect(client, &AmqpClient::linkOpened, this, [this, client](pn_link_t *link) {
        // A receiver that opens and stays open was not redirected: the hub is not one that redirects.
        QTimer::singleShot(5000, client, [this, client, link] {
            if (m_redirecting && m_client.get() == client
                && pn_link_state(link) == (PN_LOCAL_ACTIVE | PN_REMOTE_ACTIVE))
                fail(Error{ErrorKind::Conflict, QStringLiteral("HubDidNotRedirect"),
                    tr("Hub %1 did not point to its Event Hub-compatible endpoint. Give its Event Hub-compatible "
                       "connection string instead (Azure portal: the hub's Built-in endpoints).")
                        .arg(m_hub.name)});
        });
    });
    const auto token = SasToken::create(m_hub.hostName + QStringLiteral("/messages/events"),
        m_service.sharedAccessKey(), QDateTime::currentSecsSinceEpoch() + 300, m_service.sharedAccessKeyName());
    if (!token)
        return fail(token.error());
    AmqpClient::Endpoint endpoint = AmqpClient::forHub(
        m_hub, m_hub.hostName, quint16(m_hub.effectiveAmqpPort()), AmqpClient::iotHubWebSocketPath);
    endpoint.plainUser = m_service.sharedAccessKeyName() + QStringLiteral("@sas.root.") + m_service.hubName();
    endpoint.plainPassword = SecretBytes::fromString(token->toString());
    connect(m_client.get(), &AmqpClient::opened, this, [this] {
        m_client->openReceiver(QStringLiteral("amqps://%1/messages/events/$management").arg(m_hub.hostName));
    });
    m_client->open(std::move(endpoint));
}

void EventHubReader::connectToEventHub()
{
    m_redirecting = false;
    m_client = std::make_unique<AmqpClient>();
    connect(m_client.get(), &AmqpClient::closed, this, &EventHubReader::onClosed);
    connect(m_client.get(), &AmqpClient::linkClosed, this, &EventHubReader::onLinkClosed);
    connect(m_client.get(), &AmqpClient::messageReceived, this, &EventHubReader::onMessage);
    connect(m_client.get(), &AmqpClient::opened, this, [this] {
        const QString management = audience(QStringLiteral("$management"));
        m_client->putToken(management, token(management), [this](Result<void> put) {
            if (!put)
                return put.error().kind == ErrorKind::AuthRefused ? fail(put.error()) : retry(put.error());
            if (m_partitions.isEmpty())
                readPartitions();
            else
                for (Partition &partition : m_partitions)
                    openPartition(partition);
        });
    });
    // The sandbox's endpoint is the sandbox hub's own host: its CA signs both (forHub trusts it there only).
    m_client->open(AmqpClient::forHub(m_hub, m_endpoint.host, m_endpoint.port, AmqpClient::eventHubsWebSocketPath));
}

QString EventHubReader::audience(const QString &path) const
{
    // As the Event Hubs SDKs name it: sb://HOST[:PORT]/ENTITY/path.
    const QString host
        = m_endpoint.port == 5671 ? m_endpoint.host : QStringLiteral("%1:%2").arg(m_endpoint.host).arg(m_endpoint.port);
    return QStringLiteral("sb://%1/%2/%3").arg(host, m_endpoint.entity, path);
}

QString EventHubReader::token(const QString &audienceText) const
{
    const auto made = SasToken::createWithKeyText(
        audienceText, m_endpoint.key, QDateTime::currentSecsSinceEpoch() + tokenLifetimeSeconds, m_endpoint.keyName);
    return made ? made->toString() : QString();
}

void EventHubReader::readPartitions()
{
    AmqpMessage request;
    request.applicationProperties.insertString(QStringLiteral("operation"), QStringLiteral("READ"));
    request.applicationProperties.insertString(QStringLiteral("name"), m_endpoint.entity);
    request.applicationProperties.insertString(QStringLiteral("type"), QStringLiteral("com.microsoft:eventhub"));
    m_client->request(QStringLiteral("$management"), request, [this](Result<AmqpMessage> response) {
        if (!response)
            return retry(response.error());
        const int status = response->applicationProperties.value(QStringLiteral("status-code")).toInt();
        if (status != 200) {
            const QString why = Amqp::text(response->applicationProperties.value(QStringLiteral("status-description")));
            return fail(Error{status == 401 ? ErrorKind::AuthRefused : ErrorKind::NotFound,
                QStringLiteral("EventHubNotReadable"),
                tr("The Event Hub-compatible endpoint %1 answered %2: %3")
                    .arg(m_endpoint.entity)
                    .arg(status)
                    .arg(why)});
        }
        const AmqpMap body = response->body.value<AmqpMap>();
        for (const QVariant &id : body.value(QStringLiteral("partition_ids")).toList())
            m_partitions.append(Partition{text(id), nullptr, -1});
        if (m_partitions.isEmpty())
            return fail(Error{ErrorKind::NotFound, QStringLiteral("EventHubHasNoPartitions"),
                tr("The Event Hub-compatible endpoint %1 lists no partitions.").arg(m_endpoint.entity)});
        qCDebug(lcHub) << "reading" << m_partitions.size() << "partitions of" << m_endpoint.entity;
        for (Partition &partition : m_partitions)
            openPartition(partition);
        m_renewTimer.start();
    });
}

QString EventHubReader::selector(const Partition &partition) const
{
    if (partition.lastSequence >= 0)
        return QStringLiteral("amqp.annotation.x-opt-sequence-number > '%1'").arg(partition.lastSequence);
    switch (m_options.start) {
    case Start::Oldest: return QStringLiteral("amqp.annotation.x-opt-offset > '-1'");
    case Start::Time:
        return QStringLiteral("amqp.annotation.x-opt-enqueued-time > '%1'").arg(m_options.from.toMSecsSinceEpoch());
    case Start::Now: break;
    }
    // "Now" is when start() was called: what arrived since, even while connecting, is included.
    return QStringLiteral("amqp.annotation.x-opt-enqueued-time > '%1'").arg(m_startedMs - 1);
}

void EventHubReader::openPartition(Partition &partition)
{
    const QString path = QStringLiteral("ConsumerGroups/%1/Partitions/%2").arg(m_options.consumerGroup, partition.id);
    const QString partitionAudience = audience(path);
    m_client->putToken(partitionAudience, token(partitionAudience), [this, id = partition.id, path](Result<void> put) {
        if (!put)
            return put.error().kind == ErrorKind::AuthRefused ? fail(put.error()) : retry(put.error());
        for (Partition &p : m_partitions) {
            if (p.id != id)
                continue;
            p.link = m_client->openReceiver(m_endpoint.entity + u'/' + path, selector(p));
            if (p.link)
                pn_link_flow(p.link, partitionCredit);
        }
        const bool all
            = std::all_of(m_partitions.begin(), m_partitions.end(), [](const Partition &p) { return p.link; });
        if (all) {
            m_retrySeconds = 0;
            setState(State::Listening);
        }
    });
}

void EventHubReader::renewTokens()
{
    if (!m_client || !m_client->isOpen())
        return;
    QStringList audiences{audience(QStringLiteral("$management"))};
    for (const Partition &partition : std::as_const(m_partitions))
        audiences.append(
            audience(QStringLiteral("ConsumerGroups/%1/Partitions/%2").arg(m_options.consumerGroup, partition.id)));
    for (const QString &name : std::as_const(audiences)) {
        m_client->putToken(name, token(name), [this](Result<void> put) {
            if (!put)
                retry(put.error());
        });
    }
}

void EventHubReader::onLinkClosed(
    pn_link_t *link, const QString &condition, const QString &description, const QVariant &info)
{
    if (m_redirecting) {
        if (condition != QLatin1String("amqp:link:redirect")) {
            const Error error{
                condition.contains(QLatin1String("unauthorized")) ? ErrorKind::AuthRefused : ErrorKind::Network,
                QStringLiteral("HubRefusedTelemetryReader"),
                tr("Hub %1 refused to hand out its telemetry: %2 %3").arg(m_hub.name, condition, description)};
            return error.kind == ErrorKind::AuthRefused ? fail(error) : retry(error);
        }
        const AmqpMap map = info.value<AmqpMap>();
        const QString address = Amqp::text(map.value(QStringLiteral("address")));
        QString host = Amqp::text(map.value(QStringLiteral("network-host")));
        if (host.isEmpty())
            host = Amqp::text(map.value(QStringLiteral("hostname")));
        static const QRegularExpression entityPattern(QStringLiteral(R"(^amqps://[^/]+/([^/]+))"));
        const auto match = entityPattern.match(address);
        if (host.isEmpty() || !match.hasMatch())
            return fail(Error{ErrorKind::Internal, QStringLiteral("RedirectNotUnderstood"),
                tr("Hub %1 redirected to an address Onboarder does not understand: %2").arg(m_hub.name, address)});
        m_endpoint.host = host;
        const int port = map.value(QStringLiteral("port")).toInt();
        m_endpoint.port = quint16(port > 0 ? port : 5671);
        m_endpoint.entity = match.captured(1);
        m_endpoint.keyName = m_service.sharedAccessKeyName();
        m_endpoint.key = m_service.sharedAccessKey().exposeAsString(); // EventHubEndpoint keeps text
        qCDebug(lcHub) << "hub" << m_hub.name << "redirects its telemetry to" << m_endpoint.host << m_endpoint.port
                       << m_endpoint.entity;
        m_client->disconnect(this);
        m_client->close();
        m_client.release()->deleteLater();
        return connectToEventHub();
    }
    for (Partition &partition : m_partitions) {
        if (partition.link != link)
            continue;
        partition.link = nullptr;
        if (condition == QLatin1String("amqp:not-found"))
            return fail(Error{ErrorKind::NotFound, QStringLiteral("ConsumerGroupNotFound"),
                tr("The Event Hub-compatible endpoint has no consumer group \"%1\" (%2). Create it in the "
                   "hub's Built-in endpoints, or use $Default.")
                    .arg(m_options.consumerGroup, description)});
        if (condition.contains(QLatin1String("unauthorized")))
            return fail(Error{ErrorKind::AuthRefused, QStringLiteral("AmqpUnauthorized"), description});
        return retry(Error{ErrorKind::Network, QStringLiteral("PartitionClosed"),
            tr("Partition %1 was closed: %2 %3").arg(partition.id, condition, description)});
    }
}

void EventHubReader::onMessage(pn_link_t *link, const AmqpMessage &message)
{
    Partition *partition = nullptr;
    for (Partition &p : m_partitions) {
        if (p.link == link)
            partition = &p;
    }
    if (!partition)
        return;
    if (pn_link_credit(link) < partitionCredit / 2)
        pn_link_flow(link, partitionCredit - pn_link_credit(link));

    TelemetryEvent event;
    event.partition = partition->id.toInt();
    for (const auto &[key, value] : message.messageAnnotations.entries) {
        const QString name = Amqp::text(key);
        if (name == QLatin1String("x-opt-sequence-number"))
            event.sequenceNumber = value.toLongLong();
        else if (name == QLatin1String("x-opt-offset"))
            event.offset = text(value);
        else if (name == QLatin1String("x-opt-enqueued-time"))
            event.enqueuedTime = value.toDateTime();
        else if (name == QLatin1String("iothub-connection-device-id"))
            event.deviceId = text(value);
        event.systemProperties.append({name, text(value)});
    }
    if (event.sequenceNumber >= 0)
        partition->lastSequence = event.sequenceNumber;
    if (!m_options.deviceId.isEmpty() && event.deviceId != m_options.deviceId)
        return;
    event.body = message.bodyBytes();
    event.contentType = message.contentType;
    event.contentEncoding = message.contentEncoding;
    event.messageId = idText(message.messageId);
    event.correlationId = idText(message.correlationId);
    for (const auto &[key, value] : message.applicationProperties.entries)
        event.properties.append({Amqp::text(key), text(value)});
    Q_EMIT eventReceived(event);
}

} // namespace Onboarder
