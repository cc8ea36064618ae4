#include "amqp/cloudtodeviceclient.h"

#include "amqp/amqpclient.h"
#include "amqp/amqpmessage.h"
#include "hub/identifiers.h"
#include "hub/sastoken.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUrl>
#include <QUuid>

#include <proton/delivery.h>
#include <proton/disposition.h>
#include <proton/link.h>

namespace Onboarder {

namespace {

constexpr qint64 tokenLifetimeSeconds = 3600;
constexpr int feedbackCredit = 100;

template<typename T> QFuture<T> finished(T value)
{
    QPromise<T> promise;
    promise.start();
    promise.addResult(std::move(value));
    promise.finish();
    return promise.future();
}

// By value: a continuation run by finish() may drop the last other owner (the client itself).
// NOLINTNEXTLINE(performance-unnecessary-value-param): the copy is what keeps it alive
template<typename T> void resolve(std::shared_ptr<QPromise<T>> promise, T value)
{
    if (!promise || promise->future().isFinished())
        return;
    promise->addResult(std::move(value));
    promise->finish();
}

} // namespace

Result<void> C2dMessageDraft::validate() const
{
    static const QStringList acks{
        QStringLiteral("none"), QStringLiteral("positive"), QStringLiteral("negative"), QStringLiteral("full")};
    const auto invalid
        = [](const QString &code, const QString &message) { return fail(ErrorKind::InvalidInput, code, message); };
    if (!acks.contains(ack))
        return invalid(QStringLiteral("InvalidAck"),
            CloudToDeviceClient::tr("The acknowledgement must be none, positive, negative or full, not \"%1\".")
                .arg(ack));
    if (expirySeconds < 0 || expirySeconds > 48 * 3600)
        return invalid(QStringLiteral("InvalidExpiry"),
            CloudToDeviceClient::tr(
                "The expiry must be between 1 second and 48 hours (IoT Hub keeps a message at most that long)."));
    qsizetype size = payload.size();
    for (const auto &[name, value] : properties) {
        if (name.isEmpty())
            return invalid(QStringLiteral("InvalidProperty"), CloudToDeviceClient::tr("A property needs a name."));
        if (name.startsWith(QLatin1String("iothub-"), Qt::CaseInsensitive) || name.startsWith(u'$'))
            return invalid(QStringLiteral("ReservedProperty"),
                CloudToDeviceClient::tr("\"%1\" is a name IoT Hub keeps for itself (iothub-…, $…); choose another.")
                    .arg(name));
        for (const QChar c : QString(name + value)) {
            if (c.unicode() < 0x20 || c.unicode() == 0x7f)
                return invalid(QStringLiteral("InvalidProperty"),
                    CloudToDeviceClient::tr("The property \"%1\" holds a control character, which IoT Hub refuses.")
                        .arg(name));
        }
        size += name.toUtf8().size() + value.toUtf8().size();
    }
    if (size > maxBytes)
        return invalid(QStringLiteral("MessageTooLarge"),
            CloudToDeviceClient::tr(
                "The message is %1 bytes with its properties; IoT Hub takes at most %2 (64 KB) for a "
                "cloud-to-device message.")
                .arg(size)
                .arg(maxBytes));
    if (messageId.size() > 128)
        return invalid(
            QStringLiteral("InvalidMessageId"), CloudToDeviceClient::tr("A message id has at most 128 characters."));
    return {};
}

QJsonObject C2dFeedback::toJson() const
{
    return {{QStringLiteral("originalMessageId"), originalMessageId}, {QStringLiteral("deviceId"), deviceId},
        {QStringLiteral("statusCode"), statusCode}, {QStringLiteral("description"), description},
        {QStringLiteral("enqueuedTimeUtc"), enqueuedTime.toUTC().toString(Qt::ISODateWithMs)}};
}

CloudToDeviceClient::CloudToDeviceClient(QObject *parent)
    : QObject(parent)
{
    qRegisterMetaType<C2dFeedback>();
}

CloudToDeviceClient::~CloudToDeviceClient()
{
    close();
}

QFuture<Result<void>> CloudToDeviceClient::open(const HubProfile &hub, const ConnectionString &service)
{
    close();
    m_hub = hub;
    if (service.kind() != ConnectionString::Kind::Service || service.sharedAccessKey().isEmpty())
        return finished<Result<void>>(fail(ErrorKind::InvalidInput, QStringLiteral("NotAServiceConnectionString"),
            tr("Sending to devices needs the connection string of one of the hub's shared access "
               "policies (with ServiceConnect).")));
    const auto token = SasToken::create(hub.hostName, service.sharedAccessKey(),
        QDateTime::currentSecsSinceEpoch() + tokenLifetimeSeconds, service.sharedAccessKeyName());
    if (!token)
        return finished<Result<void>>(std::unexpected(token.error()));
    m_opening = std::make_shared<QPromise<Result<void>>>();
    m_opening->start();
    m_client = std::make_unique<AmqpClient>();
    AmqpClient *client = m_client.get();
    connect(client, &AmqpClient::closed, this, [this](const Error &error) {
        const Error why = error.code.isEmpty()
            ? Error{ErrorKind::Network, QStringLiteral("AmqpConnectionLost"), tr("The connection was closed.")}
            : error;
        m_ready = false;
        m_sender = nullptr;
        m_feedback = nullptr;
        // What waits is answered last, from copies: an answer's continuation may end this client's owner.
        const auto opening = m_opening;
        const auto queue = std::exchange(m_queue, {});
        const auto inFlight = std::exchange(m_inFlight, {});
        Q_EMIT errorOccurred(why);
        resolve<Result<void>>(opening, std::unexpected(why));
        for (const Pending &pending : queue)
            resolve<Result<QString>>(pending.promise, std::unexpected(why));
        for (const Pending &pending : inFlight)
            resolve<Result<QString>>(pending.promise, std::unexpected(why));
    });
    connect(client, &AmqpClient::opened, this, [this, token = token->toString()] {
        m_client->putToken(m_hub.hostName, token, [this](Result<void> put) {
            if (!put) {
                resolve<Result<void>>(m_opening, std::unexpected(put.error()));
                return;
            }
            m_ready = true;
            m_sender = m_client->openSender(QStringLiteral("/messages/devicebound"));
            resolve<Result<void>>(m_opening, {});
            flush();
        });
    });
    connect(client, &AmqpClient::creditAvailable, this, [this](pn_link_t *link) {
        if (link == m_sender)
            flush();
    });
    connect(client, &AmqpClient::deliveryUpdated, this, &CloudToDeviceClient::onDeliveryUpdated);
    connect(client, &AmqpClient::linkClosed, this,
        [this](pn_link_t *link, const QString &condition, const QString &description) {
            const bool unauthorized = condition.contains(QLatin1String("unauthorized"));
            const Error error{unauthorized ? ErrorKind::AuthRefused : ErrorKind::Network,
                unauthorized ? QStringLiteral("Unauthorized") : QStringLiteral("AmqpLinkClosed"),
                unauthorized ? tr("Hub %1 refused: %2").arg(m_hub.name, description)
                             : tr("Hub %1 closed the link: %2 %3").arg(m_hub.name, condition, description)};
            if (link == m_sender) {
                m_sender = nullptr;
                for (const Pending &pending : std::as_const(m_queue))
                    resolve<Result<QString>>(pending.promise, std::unexpected(error));
                m_queue.clear();
            } else if (link == m_feedback) {
                m_feedback = nullptr;
            }
            Q_EMIT errorOccurred(error);
        });
    connect(client, &AmqpClient::messageReceived, this, [this](pn_link_t *link, const AmqpMessage &message) {
        if (link != m_feedback)
            return;
        if (pn_link_credit(link) < feedbackCredit / 2)
            pn_link_flow(link, feedbackCredit - pn_link_credit(link));
        const QJsonArray records = QJsonDocument::fromJson(message.bodyBytes()).array();
        for (const auto &value : records) {
            const QJsonObject record = value.toObject();
            C2dFeedback feedback;
            feedback.originalMessageId = record.value(QStringLiteral("originalMessageId")).toString();
            feedback.deviceId = record.value(QStringLiteral("deviceId")).toString();
            feedback.statusCode = record.value(QStringLiteral("statusCode")).toString();
            feedback.description = record.value(QStringLiteral("description")).toString();
            feedback.enqueuedTime
                = QDateTime::fromString(record.value(QStringLiteral("enqueuedTimeUtc")).toString(), Qt::ISODateWithMs);
            Q_EMIT feedbackReceived(feedback);
        }
    });
    m_client->open(
        AmqpClient::forHub(hub, hub.hostName, quint16(hub.effectiveAmqpPort()), AmqpClient::iotHubWebSocketPath));
    return m_opening->future();
}

void CloudToDeviceClient::close()
{
    if (!m_client)
        return;
    m_client->disconnect(this);
    m_client->close();
    m_client.release()->deleteLater();
    const Error closed{ErrorKind::Cancelled, QStringLiteral("Closed"), tr("The connection to the hub was closed.")};
    resolve<Result<void>>(m_opening, std::unexpected(closed));
    for (const Pending &pending : std::as_const(m_queue))
        resolve<Result<QString>>(pending.promise, std::unexpected(closed));
    for (const Pending &pending : std::as_const(m_inFlight))
        resolve<Result<QString>>(pending.promise, std::unexpected(closed));
    m_queue.clear();
    m_inFlight.clear();
    m_sender = nullptr;
    m_feedback = nullptr;
    m_ready = false;
}

QFuture<Result<QString>> CloudToDeviceClient::send(const QString &deviceId, const C2dMessageDraft &draft)
{
    if (const auto valid = Identifiers::validateDeviceId(deviceId); !valid)
        return finished<Result<QString>>(std::unexpected(valid.error()));
    if (const auto valid = draft.validate(); !valid)
        return finished<Result<QString>>(std::unexpected(valid.error()));
    if (!m_client)
        return finished<Result<QString>>(
            fail(ErrorKind::Internal, QStringLiteral("NotOpen"), tr("Not connected to a hub.")));
    AmqpMessage message;
    const QString id = draft.messageId.isEmpty() ? QUuid::createUuid().toString(QUuid::WithoutBraces) : draft.messageId;
    message.messageId = id;
    if (!draft.correlationId.isEmpty())
        message.correlationId = draft.correlationId;
    message.to = QStringLiteral("/devices/%1/messages/devicebound")
                     .arg(QString::fromLatin1(QUrl::toPercentEncoding(deviceId)));
    message.contentType = draft.contentType;
    message.contentEncoding = draft.contentEncoding;
    if (draft.expirySeconds > 0)
        message.absoluteExpiryTime = QDateTime::currentDateTimeUtc().addSecs(draft.expirySeconds);
    message.applicationProperties.insertString(QStringLiteral("iothub-ack"), draft.ack);
    for (const auto &[name, value] : draft.properties)
        message.applicationProperties.insertString(name, value);
    message.body = draft.payload;
    Pending pending{deviceId, id, message.encode(), std::make_shared<QPromise<Result<QString>>>()};
    pending.promise->start();
    auto future = pending.promise->future();
    m_queue.append(std::move(pending));
    flush();
    return future;
}

void CloudToDeviceClient::flush()
{
    if (!m_ready || !m_sender)
        return;
    while (!m_queue.isEmpty() && pn_link_credit(m_sender) > 0) {
        Pending pending = m_queue.takeFirst();
        static quint64 tag = 1;
        const quint64 current = tag++;
        pn_delivery_t *delivery
            = pn_delivery(m_sender, pn_dtag(reinterpret_cast<const char *>(&current), sizeof current));
        pn_link_send(m_sender, pending.encoded.constData(), size_t(pending.encoded.size()));
        pn_link_advance(m_sender);
        m_inFlight.emplace(delivery, std::move(pending));
    }
    m_client->schedule();
}

void CloudToDeviceClient::onDeliveryUpdated(
    pn_delivery_t *delivery, quint64 outcome, const QString &condition, const QString &description)
{
    const auto found = m_inFlight.find(delivery);
    if (found == m_inFlight.end())
        return;
    const Pending pending = std::move(*found);
    m_inFlight.erase(found);
    if (outcome == PN_ACCEPTED)
        return resolve<Result<QString>>(pending.promise, pending.messageId);
    Error error{ErrorKind::Network, QStringLiteral("MessageRejected"),
        tr("Hub %1 did not take the message for %2: %3 %4").arg(m_hub.name, pending.deviceId, condition, description)};
    if (condition == QLatin1String("amqp:not-found"))
        error = {ErrorKind::NotFound, QStringLiteral("DeviceNotFound"),
            tr("Device %1 is not registered in hub %2.").arg(pending.deviceId, m_hub.name)};
    else if (condition == QLatin1String("amqp:resource-limit-exceeded"))
        error = {ErrorKind::Conflict, QStringLiteral("DeviceMaximumQueueDepthExceeded"),
            tr("Device %1 already has 50 messages waiting, the most IoT Hub keeps for a device. Wait until it takes "
               "them, or purge "
               "its queue.")
                .arg(pending.deviceId)};
    else if (condition == QLatin1String("amqp:link:message-size-exceeded"))
        error = {ErrorKind::InvalidInput, QStringLiteral("MessageTooLarge"),
            tr("Hub %1 refused the message as too large: %2").arg(m_hub.name, description)};
    else if (condition.contains(QLatin1String("unauthorized")))
        error = {ErrorKind::AuthRefused, QStringLiteral("Unauthorized"),
            tr("Hub %1 refused: %2").arg(m_hub.name, description)};
    resolve<Result<QString>>(pending.promise, std::unexpected(error));
}

void CloudToDeviceClient::listenForFeedback()
{
    if (!m_client || m_feedback)
        return;
    m_feedback = m_client->openReceiver(QStringLiteral("/messages/serviceBound/feedback"));
    if (m_feedback)
        pn_link_flow(m_feedback, feedbackCredit);
}

} // namespace Onboarder
