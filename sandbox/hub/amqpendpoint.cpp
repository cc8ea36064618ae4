#include "amqpendpoint.h"

#include "amqp/amqpconnection.h"
#include "amqp/amqpmessage.h"
#include "cloudtodevice.h"
#include "eventlog.h"
#include "hub/sastoken.h"
#include "registry.h"
#include "tlsserver.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QPointer>
#include <QRegularExpression>
#include <QSslSocket>
#include <QTimeZone>
#include <QUrl>
#include <QUuid>

#include <proton/codec.h>
#include <proton/condition.h>
#include <proton/connection.h>
#include <proton/delivery.h>
#include <proton/disposition.h>
#include <proton/event.h>
#include <proton/link.h>
#include <proton/session.h>
#include <proton/terminus.h>

namespace Onboarder::Sandbox {

namespace {

constexpr int receiverCredit = 100;
constexpr size_t maxMessageBytes = 262144; // what IoT Hub takes in one AMQP message
const QString feedbackContentType = QStringLiteral("application/vnd.microsoft.iothub.feedback.json");

// "amqps://host:5671/a/b/" or "sb://host/a" → "a/b"; "/messages/devicebound" → "messages/devicebound".
QString pathOf(const char *address)
{
    QString text = QString::fromUtf8(address ? address : "");
    const qsizetype scheme = text.indexOf(QLatin1String("://"));
    if (scheme >= 0) {
        const qsizetype slash = text.indexOf(u'/', scheme + 3);
        text = slash < 0 ? QString() : text.mid(slash);
    }
    while (text.startsWith(u'/'))
        text.remove(0, 1);
    while (text.endsWith(u'/'))
        text.chop(1);
    return text;
}

// An audience or token resource as a comparable resource: host/path, lower case, without scheme or port.
QString normalised(QString text)
{
    text = text.trimmed().toLower();
    const qsizetype scheme = text.indexOf(QLatin1String("://"));
    if (scheme >= 0)
        text = text.mid(scheme + 3);
    const qsizetype slash = text.indexOf(u'/');
    QString host = slash < 0 ? text : text.left(slash);
    const QString rest = slash < 0 ? QString() : text.mid(slash);
    const qsizetype colon = host.lastIndexOf(u':');
    if (colon > 0 && !host.endsWith(u']'))
        host = host.left(colon);
    text = host + rest;
    while (text.endsWith(u'/'))
        text.chop(1);
    return text;
}

QString idText(const QVariant &id)
{
    if (id.metaType() == QMetaType::fromType<QUuid>())
        return id.toUuid().toString(QUuid::WithoutBraces);
    if (id.metaType() == QMetaType::fromType<QByteArray>())
        return QString::fromUtf8(id.toByteArray());
    return Amqp::text(id).isEmpty() ? id.toString() : Amqp::text(id);
}

void setCondition(pn_condition_t *condition, const char *name, const QString &description)
{
    pn_condition_set_name(condition, name);
    pn_condition_set_description(condition, description.toUtf8().constData());
}

void settle(pn_delivery_t *delivery, uint64_t outcome, const char *condition = nullptr, const QString &description = {})
{
    if (condition)
        setCondition(pn_disposition_condition(pn_delivery_local(delivery)), condition, description);
    pn_delivery_update(delivery, outcome);
    pn_delivery_settle(delivery);
}

void copyTermini(pn_link_t *link)
{
    pn_terminus_copy(pn_link_source(link), pn_link_remote_source(link));
    pn_terminus_copy(pn_link_target(link), pn_link_remote_target(link));
    pn_link_set_snd_settle_mode(link, pn_link_remote_snd_settle_mode(link));
    pn_link_set_rcv_settle_mode(link, pn_link_remote_rcv_settle_mode(link));
}

// The selector an Event Hubs receiver puts on its source ("apache.org:selector-filter:string").
QString selectorOf(pn_link_t *link)
{
    const QVariant filters = Amqp::read(pn_terminus_filter(pn_link_remote_source(link)));
    if (filters.metaType() != QMetaType::fromType<AmqpMap>())
        return {};
    for (const auto &[key, value] : filters.value<AmqpMap>().entries) {
        if (value.metaType() == QMetaType::fromType<AmqpDescribed>()) {
            const auto described = value.value<AmqpDescribed>();
            if (Amqp::text(described.descriptor) == QLatin1String("apache.org:selector-filter:string")
                || described.descriptor.toULongLong() == 0x0000468C00000004ULL)
                return Amqp::text(described.value);
        }
        Q_UNUSED(key)
    }
    return {};
}

} // namespace

struct AmqpEndpoint::Peer
{
    AmqpConnection *connection = nullptr;
    QList<Token> tokens;
    QHash<pn_link_t *, Link> links;
};

AmqpEndpoint::AmqpEndpoint(Registry &registry, EventLog &events, CloudToDevice &cloudToDevice,
    const QSslConfiguration &tls, const QString &hostName, const QString &eventHubName, QObject *parent)
    : QObject(parent)
    , m_registry(registry)
    , m_events(events)
    , m_cloudToDevice(cloudToDevice)
    , m_hostName(hostName)
    , m_eventHubName(eventHubName)
{
    QSslConfiguration configuration = tls;
    configuration.setPeerVerifyMode(QSslSocket::VerifyNone); // services authenticate with tokens, not certificates
    m_server.setSslConfiguration(configuration);
    m_server.setHandshakeTimeout(10000);
    connect(&m_server, &QSslServer::pendingConnectionAvailable, this, &AmqpEndpoint::accept);
    keepAccepting(m_server);
    connect(&m_events, &EventLog::appended, this, [this] {
        if (m_pumpScheduled)
            return;
        m_pumpScheduled = true;
        QMetaObject::invokeMethod(this, &AmqpEndpoint::pumpAll, Qt::QueuedConnection);
    });
    connect(&m_cloudToDevice, &CloudToDevice::feedbackAvailable, this, [this] {
        if (m_pumpScheduled)
            return;
        m_pumpScheduled = true;
        QMetaObject::invokeMethod(this, &AmqpEndpoint::pumpAll, Qt::QueuedConnection);
    });
    m_sweep = new QTimer(this);
    m_sweep->setInterval(1000);
    connect(m_sweep, &QTimer::timeout, this, &AmqpEndpoint::sweepTokens);
    m_sweep->start();
}

AmqpEndpoint::~AmqpEndpoint()
{
    for (auto &[connection, peer] : m_peers) {
        connection->disconnect(this);
        connection->setHandler(nullptr);
        delete connection;
    }
    m_peers.clear();
}

Result<quint16> AmqpEndpoint::listen(quint16 port)
{
    if (!m_server.listen(QHostAddress::LocalHost, port))
        return fail(ErrorKind::Network, QStringLiteral("PortInUse"),
            QStringLiteral("Cannot listen for AMQP on 127.0.0.1:%1: %2").arg(port).arg(m_server.errorString()));
    m_port = m_server.serverPort();
    return m_port;
}

void AmqpEndpoint::accept()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection())
        adopt(socket);
}

void AmqpEndpoint::adopt(QIODevice *stream)
{
    auto *connection = new AmqpConnection(AmqpConnection::Role::Server, stream);
    auto peer = std::make_unique<Peer>();
    peer->connection = connection;
    Peer *raw = peer.get();
    m_peers.emplace(connection, std::move(peer));
    connection->setServerSasl(true, [this, raw](const QString &user, const SecretBytes &password) {
        // IoT Hub's PLAIN: "{policy}@sas.root.{hub}" with a SAS token of that policy as the password.
        QString why;
        const QString policy = user.section(u'@', 0, 0);
        auto token = checkToken(password.exposeAsString(), &why);
        if (!token || !token->rights.contains(QLatin1String("ServiceConnect")))
            return false;
        const auto named = SasToken::parse(password.exposeAsString());
        if (!named || (!named->keyName().isEmpty() && named->keyName() != policy))
            return false;
        raw->tokens.append(*token);
        return true;
    });
    connection->setHandler([this, raw](pn_event_t *event) { handle(*raw, event); });
    connect(connection, &AmqpConnection::finished, this, [this, connection](const QString &) {
        const auto found = m_peers.find(connection);
        if (found == m_peers.end())
            return;
        // Feedback handed to a receiver that never accepted it goes back to the queue.
        for (auto link = found->second->links.begin(); link != found->second->links.end(); ++link) {
            for (const auto &records : std::as_const(link->feedbackInFlight))
                m_cloudToDevice.returnFeedback(records);
        }
        connection->setHandler(nullptr);
        connection->deleteLater();
        m_peers.erase(found);
    });
    connection->start();
}

void AmqpEndpoint::handle(Peer &peer, pn_event_t *event)
{
    switch (pn_event_type(event)) {
    case PN_CONNECTION_REMOTE_OPEN: {
        pn_connection_t *connection = pn_event_connection(event);
        pn_connection_set_container(connection, "onboarder-sandbox");
        pn_connection_open(connection);
        break;
    }
    case PN_CONNECTION_REMOTE_CLOSE: pn_connection_close(pn_event_connection(event)); break;
    case PN_SESSION_REMOTE_OPEN:
        pn_session_set_incoming_capacity(pn_event_session(event), 4 * 1024 * 1024);
        pn_session_open(pn_event_session(event));
        break;
    case PN_SESSION_REMOTE_CLOSE: pn_session_close(pn_event_session(event)); break;
    case PN_LINK_REMOTE_OPEN: linkOpened(peer, pn_event_link(event)); break;
    case PN_LINK_REMOTE_CLOSE:
    case PN_LINK_REMOTE_DETACH:
        linkClosed(peer, pn_event_link(event));
        pn_link_close(pn_event_link(event));
        break;
    case PN_LINK_FINAL: linkClosed(peer, pn_event_link(event)); break;
    case PN_LINK_FLOW: {
        pn_link_t *link = pn_event_link(event);
        auto found = peer.links.find(link);
        if (found == peer.links.end())
            break;
        if (found->kind == LinkKind::Events)
            pumpEvents(peer, link, *found);
        else if (found->kind == LinkKind::Feedback)
            pumpFeedback(peer, link, *found);
        break;
    }
    case PN_DELIVERY: delivery(peer, pn_event_delivery(event)); break;
    default: break;
    }
}

QString AmqpEndpoint::resourceFor(const QString &path) const
{
    return normalised(m_hostName + u'/' + path);
}

void AmqpEndpoint::refuseLink(pn_link_t *link, const char *condition, const QString &description)
{
    // A refused attach: the answering attach has no terminus, the detach that follows says why.
    pn_terminus_set_type(pn_link_is_sender(link) ? pn_link_source(link) : pn_link_target(link), PN_UNSPECIFIED);
    pn_link_open(link);
    setCondition(pn_link_condition(link), condition, description);
    pn_link_close(link);
}

void AmqpEndpoint::redirect(Peer &peer, pn_link_t *link, const QString &path)
{
    // IoT Hub answers a receiver on its own telemetry address with the Event Hub-compatible entity's address,
    // e.g. messages/events/$management → amqps://host:port/{entity}/$management.
    const QString rest = path.section(u'/', 2);
    const QString address = QStringLiteral("amqps://%1:%2/%3%4")
                                .arg(m_hostName)
                                .arg(m_port)
                                .arg(m_eventHubName, rest.isEmpty() ? QString() : u'/' + rest);
    pn_terminus_set_type(pn_link_source(link), PN_UNSPECIFIED);
    pn_link_open(link);
    // The detach follows a moment later: clients that listen for the link's error only once the attach
    // completed (IoT Explorer's redirect helper) would miss it in the same read.
    QPointer<AmqpConnection> connection(peer.connection);
    QTimer::singleShot(50, this, [this, connection, link, address] {
        if (!connection || connection->isFinished())
            return;
        pn_condition_t *condition = pn_link_condition(link);
        setCondition(condition, "amqp:link:redirect",
            QStringLiteral("The messages of this hub are read from its Event Hub-compatible endpoint."));
        AmqpMap info;
        info.insertSymbol("hostname", m_hostName);
        info.insertSymbol("network-host", m_hostName);
        info.insertSymbol("port", int(m_port));
        info.insertSymbol("address", address);
        Amqp::write(pn_condition_info(condition), QVariant::fromValue(info));
        pn_link_close(link);
        connection->process();
    });
}

void AmqpEndpoint::linkOpened(Peer &peer, pn_link_t *link)
{
    if (pn_link_state(link) & PN_LOCAL_ACTIVE)
        return;
    const bool weSend = pn_link_is_sender(link);
    const QString path
        = pathOf(pn_terminus_get_address(weSend ? pn_link_remote_source(link) : pn_link_remote_target(link)));
    const QString lower = path.toLower();
    Link state;
    QString why;

    if (lower == QLatin1String("$cbs") || lower == QLatin1String("$management")) {
        const bool cbs = lower == QLatin1String("$cbs");
        state.kind = weSend ? (cbs ? LinkKind::CbsReplies : LinkKind::ManagementReplies)
                            : (cbs ? LinkKind::CbsRequests : LinkKind::ManagementRequests);
    } else if (!weSend && lower == QLatin1String("messages/devicebound")) {
        state.kind = LinkKind::CloudToDevice;
        state.resource = resourceFor(path);
    } else if (weSend && lower == QLatin1String("messages/servicebound/feedback")) {
        state.kind = LinkKind::Feedback;
        state.resource = resourceFor(path);
    } else if (weSend
        && (lower == QLatin1String("messages/events") || lower.startsWith(QLatin1String("messages/events/")))) {
        if (!authorised(peer, resourceFor(QStringLiteral("messages/events")), &why))
            return refuseLink(link, "amqp:unauthorized-access", why);
        return redirect(peer, link, path);
    } else if (weSend && lower.startsWith(m_eventHubName.toLower() + u'/')) {
        static const QRegularExpression partitionPath(
            QStringLiteral(R"(^[^/]+/consumergroups/([^/]+)/partitions/([0-9]+)$)"),
            QRegularExpression::CaseInsensitiveOption);
        const auto match = partitionPath.match(path);
        if (!match.hasMatch())
            return refuseLink(
                link, "amqp:not-found", QStringLiteral("The messaging entity '%1' could not be found.").arg(path));
        const QString group = match.captured(1);
        const int partition = match.captured(2).toInt();
        if (!m_events.consumerGroups().contains(group, Qt::CaseInsensitive))
            return refuseLink(link, "amqp:not-found",
                QStringLiteral("The messaging entity '%1' could not be found (no consumer group '%2').")
                    .arg(path, group));
        if (partition < 0 || partition >= m_events.partitionCount())
            return refuseLink(link, "com.microsoft:argument-out-of-range",
                QStringLiteral("The specified partition is invalid for an EventHub partition sender or receiver. "
                               "It should be between 0 and %1.")
                    .arg(m_events.partitionCount() - 1));
        state.kind = LinkKind::Events;
        state.partition = partition;
        state.resource = resourceFor(path);
        const QString selector = selectorOf(link);
        EventPosition position; // no filter: from the end, as a new reader
        if (!selector.isEmpty()) {
            const auto parsed = EventPosition::fromSelector(selector);
            if (!parsed)
                return refuseLink(
                    link, "amqp:invalid-field", QStringLiteral("The selector '%1' is not understood.").arg(selector));
            position = *parsed;
        }
        state.next = m_events.startSequence(partition, position);
    } else {
        return refuseLink(
            link, "amqp:not-found", QStringLiteral("The messaging entity '%1' could not be found.").arg(path));
    }

    if (!state.resource.isEmpty() && !authorised(peer, state.resource, &why))
        return refuseLink(link, "amqp:unauthorized-access", why);

    copyTermini(link);
    if (state.kind == LinkKind::Events) {
        // The link's source says where it starts; Event Hubs answers with the same filter.
        pn_terminus_copy(pn_link_source(link), pn_link_remote_source(link));
    }
    pn_link_set_max_message_size(link, maxMessageBytes);
    pn_link_open(link);
    if (pn_link_is_receiver(link))
        pn_link_flow(link, receiverCredit);
    const LinkKind kind = state.kind;
    peer.links.emplace(link, std::move(state));
    if (kind == LinkKind::Events)
        pumpEvents(peer, link, peer.links[link]);
    else if (kind == LinkKind::Feedback)
        pumpFeedback(peer, link, peer.links[link]);
}

void AmqpEndpoint::linkClosed(Peer &peer, pn_link_t *link)
{
    const auto found = peer.links.find(link);
    if (found == peer.links.end())
        return;
    for (const auto &records : std::as_const(found->feedbackInFlight))
        m_cloudToDevice.returnFeedback(records);
    peer.links.erase(found);
}

std::optional<AmqpEndpoint::Token> AmqpEndpoint::checkToken(const QString &text, QString *why) const
{
    const auto token = SasToken::parse(text);
    if (!token) {
        *why = token.error().message;
        return std::nullopt;
    }
    const auto policy = m_registry.policy(token->keyName());
    if (token->keyName().isEmpty() || !policy) {
        *why = QStringLiteral("The token names no shared access policy of this hub.");
        return std::nullopt;
    }
    // IoT Hub's SDKs sign with the base64-decoded key, Event Hubs' with the key's text: both are accepted.
    if (!token->verify(policy->primaryKey) && !token->verify(policy->secondaryKey)
        && !token->verifyWithKeyText(policy->primaryKey) && !token->verifyWithKeyText(policy->secondaryKey)) {
        *why = QStringLiteral("The token's signature does not match the keys of policy '%1'.").arg(policy->name);
        return std::nullopt;
    }
    if (token->isExpired(QDateTime::currentDateTimeUtc(), 0)) {
        *why = QStringLiteral("The token expired at %1.").arg(token->expiryTime().toString(Qt::ISODate));
        return std::nullopt;
    }
    const QString audience = normalised(token->resource());
    if (audience.section(u'/', 0, 0) != normalised(m_hostName)) {
        *why = QStringLiteral("The token is for '%1', not this hub.").arg(token->resource());
        return std::nullopt;
    }
    return Token{audience, policy->rights, token->expiryTime()};
}

bool AmqpEndpoint::authorised(const Peer &peer, const QString &resource, QString *why) const
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    bool covered = false;
    for (const Token &token : peer.tokens) {
        if (resource != token.audience && !resource.startsWith(token.audience + u'/'))
            continue;
        covered = true;
        if (token.expiry <= now)
            continue;
        if (!token.rights.contains(QLatin1String("ServiceConnect"))) {
            *why = QStringLiteral("Unauthorized: the policy lacks ServiceConnect, which '%1' needs.").arg(resource);
            continue;
        }
        return true;
    }
    if (why->isEmpty())
        *why = covered ? QStringLiteral("Unauthorized: the token for '%1' expired.").arg(resource)
                       : QStringLiteral("Unauthorized: no token covers '%1' (put one on $cbs first).").arg(resource);
    return false;
}

void AmqpEndpoint::reply(
    Peer &peer, LinkKind kind, const AmqpMessage &request, int status, const QString &description, const QVariant &body)
{
    pn_link_t *target = nullptr;
    for (auto it = peer.links.begin(); it != peer.links.end(); ++it) {
        if (it->kind != kind)
            continue;
        const QString address = QString::fromUtf8(pn_terminus_get_address(pn_link_remote_target(it.key())));
        if (!target || address == request.replyTo)
            target = it.key();
        if (address == request.replyTo)
            break;
    }
    if (!target)
        return; // nobody listens for the answer
    AmqpMessage response;
    response.messageId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    response.correlationId = request.messageId;
    response.to = request.replyTo;
    response.applicationProperties.insertString(QStringLiteral("status-code"), status);
    response.applicationProperties.insertString(QStringLiteral("status-description"), description);
    if (status >= 300) {
        // Event Hubs clients take the condition from here; IoT Hub's only look at the status.
        const char *condition = status == 401 ? "amqp:unauthorized-access"
            : status == 404                   ? "amqp:not-found"
                                              : "amqp:not-allowed";
        response.applicationProperties.insertString(QStringLiteral("error-condition"), QString::fromLatin1(condition));
    }
    response.body = body;
    response.bodyIsValue = true;
    Amqp::send(target, response);
}

void AmqpEndpoint::putToken(Peer &peer, const AmqpMessage &request)
{
    const QString operation = Amqp::text(request.applicationProperties.value(QStringLiteral("operation")));
    const QString type = Amqp::text(request.applicationProperties.value(QStringLiteral("type")));
    const QString name = Amqp::text(request.applicationProperties.value(QStringLiteral("name")));
    if (operation != QLatin1String("put-token"))
        return reply(
            peer, LinkKind::CbsReplies, request, 400, QStringLiteral("Unsupported operation '%1'.").arg(operation));
    if (!type.endsWith(QLatin1String(":sastoken")))
        return reply(
            peer, LinkKind::CbsReplies, request, 400, QStringLiteral("Unsupported token type '%1'.").arg(type));
    QString why;
    auto token = checkToken(Amqp::text(request.body), &why);
    if (!token)
        return reply(peer, LinkKind::CbsReplies, request, 401, why);
    // The token must be for the node it is put for (its sr covers the audience named).
    const QString audience = normalised(name);
    if (audience != token->audience && !audience.startsWith(token->audience + u'/'))
        return reply(peer, LinkKind::CbsReplies, request, 401,
            QStringLiteral("The token's resource '%1' does not cover '%2'.").arg(token->audience, name));
    token->audience = audience;
    // A token put again for the same audience replaces the old one (renewal).
    peer.tokens.removeIf([&audience](const Token &existing) { return existing.audience == audience; });
    peer.tokens.append(*token);
    reply(peer, LinkKind::CbsReplies, request, 200, QStringLiteral("OK"));
}

void AmqpEndpoint::management(Peer &peer, const AmqpMessage &request)
{
    const QString operation = Amqp::text(request.applicationProperties.value(QStringLiteral("operation")));
    const QString type = Amqp::text(request.applicationProperties.value(QStringLiteral("type")));
    const QString name = Amqp::text(request.applicationProperties.value(QStringLiteral("name")));
    if (operation != QLatin1String("READ"))
        return reply(peer, LinkKind::ManagementReplies, request, 400,
            QStringLiteral("Unsupported operation '%1'.").arg(operation));
    if (name.compare(m_eventHubName, Qt::CaseInsensitive) != 0)
        return reply(peer, LinkKind::ManagementReplies, request, 404,
            QStringLiteral("The messaging entity '%1' could not be found.").arg(name));
    // A token may come with the request (security_token) instead of through $cbs.
    QString why;
    bool allowed = authorised(peer, resourceFor(m_eventHubName + QStringLiteral("/$management")), &why);
    const QString inline_ = Amqp::text(request.applicationProperties.value(QStringLiteral("security_token")));
    if (!allowed && !inline_.isEmpty()) {
        if (const auto token = checkToken(inline_, &why);
            token && token->rights.contains(QLatin1String("ServiceConnect")))
            allowed = true;
    }
    if (!allowed)
        return reply(peer, LinkKind::ManagementReplies, request, 401, why);

    if (type == QLatin1String("com.microsoft:eventhub")) {
        QVariantList ids;
        for (int p = 0; p < m_events.partitionCount(); ++p)
            ids.append(QString::number(p));
        AmqpMap body;
        body.insertString(QStringLiteral("name"), m_eventHubName);
        body.insertString(QStringLiteral("type"), QStringLiteral("com.microsoft:eventhub"));
        body.insertString(QStringLiteral("created_at"), QDateTime::fromSecsSinceEpoch(1700000000, Qt::UTC));
        body.insertString(QStringLiteral("partition_count"), m_events.partitionCount());
        body.insertString(QStringLiteral("partition_ids"), ids);
        return reply(peer, LinkKind::ManagementReplies, request, 200, QStringLiteral("OK"), QVariant::fromValue(body));
    }
    if (type == QLatin1String("com.microsoft:partition")) {
        bool ok = false;
        const int partition = Amqp::text(request.applicationProperties.value(QStringLiteral("partition"))).toInt(&ok);
        if (!ok || partition < 0 || partition >= m_events.partitionCount())
            return reply(peer, LinkKind::ManagementReplies, request, 400,
                QStringLiteral("The specified partition is invalid. It should be between 0 and %1.")
                    .arg(m_events.partitionCount() - 1));
        const PartitionInfo info = m_events.info(partition);
        AmqpMap body;
        body.insertString(QStringLiteral("name"), m_eventHubName);
        body.insertString(QStringLiteral("type"), QStringLiteral("com.microsoft:partition"));
        body.insertString(QStringLiteral("partition"), QString::number(partition));
        body.insertString(QStringLiteral("begin_sequence_number"), qint64(info.beginSequenceNumber));
        body.insertString(QStringLiteral("last_enqueued_sequence_number"), qint64(info.lastSequenceNumber));
        body.insertString(QStringLiteral("last_enqueued_offset"), QString::number(info.lastOffset));
        body.insertString(QStringLiteral("last_enqueued_time_utc"),
            info.lastEnqueuedTime.isValid() ? info.lastEnqueuedTime : QDateTime::fromMSecsSinceEpoch(0, Qt::UTC));
        body.insertString(QStringLiteral("is_partition_empty"), info.empty);
        return reply(peer, LinkKind::ManagementReplies, request, 200, QStringLiteral("OK"), QVariant::fromValue(body));
    }
    reply(peer, LinkKind::ManagementReplies, request, 400, QStringLiteral("Unsupported type '%1'.").arg(type));
}

void AmqpEndpoint::cloudToDevice(Peer &peer, pn_delivery_t *delivery, const AmqpMessage &message)
{
    Q_UNUSED(peer)
    static const QRegularExpression to(
        QStringLiteral(R"(^/devices/([^/]+)/messages/devicebound$)"), QRegularExpression::CaseInsensitiveOption);
    const auto match = to.match(message.to);
    if (!match.hasMatch())
        return settle(delivery, PN_REJECTED, "amqp:invalid-field",
            QStringLiteral(
                "ArgumentInvalid: the message's 'to' must be /devices/{deviceId}/messages/devicebound, not '%1'.")
                .arg(message.to));
    C2dMessage c2d;
    c2d.deviceId = QUrl::fromPercentEncoding(match.captured(1).toUtf8());
    c2d.messageId = idText(message.messageId);
    c2d.correlationId = idText(message.correlationId);
    c2d.userId = QString::fromUtf8(message.userId);
    c2d.contentType = message.contentType;
    c2d.contentEncoding = message.contentEncoding;
    c2d.body = message.bodyBytes();
    if (message.absoluteExpiryTime.isValid())
        c2d.expiryTime = message.absoluteExpiryTime;
    else if (message.ttlMs > 0)
        c2d.expiryTime = QDateTime::currentDateTimeUtc().addMSecs(message.ttlMs);
    for (const auto &[key, value] : message.applicationProperties.entries) {
        const QString name = Amqp::text(key);
        if (name == QLatin1String("iothub-ack"))
            c2d.ack = Amqp::text(value);
        else
            c2d.properties.append({name, Amqp::text(value).isEmpty() ? value.toString() : Amqp::text(value)});
    }
    const auto queued = m_cloudToDevice.enqueue(std::move(c2d));
    if (queued)
        return settle(delivery, PN_ACCEPTED);
    const QString code = queued.error().code;
    const char *condition = code == QLatin1String("DeviceNotFound") ? "amqp:not-found"
        : code == QLatin1String("DeviceMaximumQueueDepthExceeded")  ? "amqp:resource-limit-exceeded"
        : code == QLatin1String("MessageTooLarge")                  ? "amqp:link:message-size-exceeded"
                                                                    : "amqp:invalid-field";
    settle(delivery, PN_REJECTED, condition, code + QStringLiteral(": ") + queued.error().message);
}

void AmqpEndpoint::delivery(Peer &peer, pn_delivery_t *delivery)
{
    pn_link_t *link = pn_delivery_link(delivery);
    const auto found = peer.links.find(link);
    if (found == peer.links.end())
        return;
    Link &state = *found;

    if (pn_link_is_sender(link)) {
        // The receiver settled or answered a delivery we sent.
        if (!pn_delivery_updated(delivery) && !pn_delivery_settled(delivery))
            return;
        if (state.kind == LinkKind::Feedback) {
            const uint64_t outcome = pn_delivery_remote_state(delivery);
            const QList<QJsonObject> records = state.feedbackInFlight.take(delivery);
            if (outcome != PN_ACCEPTED && !(outcome == 0 && pn_delivery_settled(delivery)))
                m_cloudToDevice.returnFeedback(records);
        }
        pn_delivery_settle(delivery);
        return;
    }

    if (pn_delivery_pending(delivery) > maxMessageBytes) {
        // Larger than IoT Hub takes, whole or still arriving: the link ends, the connection stays.
        setCondition(pn_link_condition(link), "amqp:link:message-size-exceeded",
            QStringLiteral("A message may have at most %1 bytes.").arg(maxMessageBytes));
        pn_delivery_update(delivery, PN_REJECTED);
        pn_delivery_settle(delivery);
        peer.links.remove(link);
        pn_link_close(link);
        return;
    }
    if (pn_delivery_partial(delivery))
        return;
    const auto bytes = Amqp::receive(delivery);
    if (!bytes)
        return;
    if (pn_link_credit(link) < receiverCredit / 2)
        pn_link_flow(link, receiverCredit - pn_link_credit(link));
    const auto message = AmqpMessage::decode(*bytes);
    if (!message)
        return settle(delivery, PN_REJECTED, "amqp:decode-error", QStringLiteral("The message could not be decoded."));
    switch (state.kind) {
    case LinkKind::CbsRequests:
        settle(delivery, PN_ACCEPTED);
        putToken(peer, *message);
        break;
    case LinkKind::ManagementRequests:
        settle(delivery, PN_ACCEPTED);
        management(peer, *message);
        break;
    case LinkKind::CloudToDevice: {
        QString why;
        if (!authorised(peer, state.resource, &why))
            return settle(delivery, PN_REJECTED, "amqp:unauthorized-access", why);
        cloudToDevice(peer, delivery, *message);
        break;
    }
    default:
        settle(delivery, PN_REJECTED, "amqp:not-allowed", QStringLiteral("This link does not take messages."));
        break;
    }
}

void AmqpEndpoint::pumpEvents(Peer &peer, pn_link_t *link, Link &state)
{
    Q_UNUSED(peer)
    while (pn_link_credit(link) > 0) {
        const QList<HubEvent> events = m_events.read(state.partition, state.next, qMin(pn_link_credit(link), 512));
        if (events.isEmpty())
            return;
        for (const HubEvent &event : events) {
            AmqpMessage message;
            message.body = event.body;
            if (!event.messageId.isEmpty())
                message.messageId = event.messageId;
            if (!event.correlationId.isEmpty())
                message.correlationId = event.correlationId;
            message.contentType = event.contentType;
            message.contentEncoding = event.contentEncoding;
            for (const auto &[name, value] : event.applicationProperties)
                message.applicationProperties.insertString(name, value);
            AmqpMap &annotations = message.messageAnnotations;
            annotations.insertSymbol("iothub-connection-device-id", event.deviceId);
            if (!event.moduleId.isEmpty())
                annotations.insertSymbol("iothub-connection-module-id", event.moduleId);
            annotations.insertSymbol("iothub-connection-auth-method",
                event.moduleId.isEmpty()
                    ? QStringLiteral(
                        R"({"scope":"device","type":"sas","issuer":"iothub","acceptingIpFilterRule":null})")
                    : QStringLiteral(
                        R"({"scope":"module","type":"sas","issuer":"iothub","acceptingIpFilterRule":null})"));
            annotations.insertSymbol("iothub-enqueuedtime", event.enqueuedTime);
            annotations.insertSymbol("iothub-message-source", QStringLiteral("Telemetry"));
            annotations.insertSymbol("x-opt-sequence-number", qint64(event.sequenceNumber));
            annotations.insertSymbol("x-opt-offset", QString::number(event.offset));
            annotations.insertSymbol("x-opt-enqueued-time", event.enqueuedTime);
            Amqp::send(link, message);
            state.next = event.sequenceNumber + 1;
        }
    }
}

void AmqpEndpoint::pumpFeedback(Peer &peer, pn_link_t *link, Link &state)
{
    Q_UNUSED(peer)
    while (pn_link_credit(link) > 0 && m_cloudToDevice.feedbackWaiting() > 0) {
        const QList<QJsonObject> records = m_cloudToDevice.takeFeedback(100);
        QJsonArray array;
        for (const QJsonObject &record : records)
            array.append(record);
        AmqpMessage message;
        message.messageId = QUuid::createUuid().toString(QUuid::WithoutBraces);
        message.to = QStringLiteral("/messages/servicebound/feedback");
        message.contentType = feedbackContentType;
        message.contentEncoding = QStringLiteral("utf-8");
        message.body = QJsonDocument(array).toJson(QJsonDocument::Compact);
        pn_delivery_t *sent = Amqp::send(link, message);
        if (pn_link_snd_settle_mode(link) != PN_SND_SETTLED)
            state.feedbackInFlight.insert(sent, records);
    }
}

void AmqpEndpoint::pumpAll()
{
    m_pumpScheduled = false;
    for (auto &[connection, peer] : m_peers) {
        bool touched = false;
        for (auto it = peer->links.begin(); it != peer->links.end(); ++it) {
            if (it->kind == LinkKind::Events) {
                pumpEvents(*peer, it.key(), *it);
                touched = true;
            } else if (it->kind == LinkKind::Feedback) {
                pumpFeedback(*peer, it.key(), *it);
                touched = true;
            }
        }
        if (touched)
            connection->process();
    }
}

void AmqpEndpoint::sweepTokens()
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (auto &[connection, peer] : m_peers) {
        bool closed = false;
        for (auto it = peer->links.begin(); it != peer->links.end();) {
            QString why;
            if (it->resource.isEmpty() || authorised(*peer, it->resource, &why)) {
                ++it;
                continue;
            }
            for (const auto &records : std::as_const(it->feedbackInFlight))
                m_cloudToDevice.returnFeedback(records);
            setCondition(pn_link_condition(it.key()), "amqp:unauthorized-access", why);
            pn_link_close(it.key());
            it = peer->links.erase(it);
            closed = true;
        }
        peer->tokens.removeIf([&now](const Token &token) { return token.expiry <= now.addSecs(-3600); });
        if (closed)
            connection->process();
    }
}

} // namespace Onboarder::Sandbox
