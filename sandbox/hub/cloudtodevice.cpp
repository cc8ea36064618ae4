#include "cloudtodevice.h"

#include "registry.h"

#include <QUrl>

namespace Onboarder::Sandbox {

namespace {

QString encoded(const QString &text)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(text));
}

bool wantsFeedback(const QString &ack, bool success)
{
    return ack == QLatin1String("full") || ack == (success ? QLatin1String("positive") : QLatin1String("negative"));
}

} // namespace

CloudToDevice::CloudToDevice(Registry &registry, QObject *parent)
    : QObject(parent)
    , m_registry(registry)
{
    m_expiry.setInterval(1000);
    connect(&m_expiry, &QTimer::timeout, this, &CloudToDevice::expire);
    m_expiry.start();
}

Result<void> CloudToDevice::enqueue(C2dMessage message)
{
    const auto device = m_registry.device(message.deviceId);
    if (!device)
        return fail(ErrorKind::NotFound, QStringLiteral("DeviceNotFound"),
            QStringLiteral("Device %1 is not registered in this hub.").arg(message.deviceId));
    if (message.body.size() > maxBodyBytes)
        return fail(ErrorKind::InvalidInput, QStringLiteral("MessageTooLarge"),
            QStringLiteral("The message is %1 bytes; a cloud-to-device message may have at most %2.")
                .arg(message.body.size())
                .arg(maxBodyBytes));
    static const QStringList acks{
        QStringLiteral("none"), QStringLiteral("positive"), QStringLiteral("negative"), QStringLiteral("full")};
    if (message.ack.isEmpty())
        message.ack = QStringLiteral("none");
    if (!acks.contains(message.ack))
        return fail(ErrorKind::InvalidInput, QStringLiteral("ArgumentInvalid"),
            QStringLiteral("iothub-ack must be none, positive, negative or full, not '%1'.").arg(message.ack));
    auto &queue = m_queues[message.deviceId];
    if (int(queue.size()) >= maxQueueDepth)
        return fail(ErrorKind::Conflict, QStringLiteral("DeviceMaximumQueueDepthExceeded"),
            QStringLiteral(
                "Device %1 already has %2 cloud-to-device messages waiting, the most a device's queue holds.")
                .arg(message.deviceId)
                .arg(maxQueueDepth));
    const QDateTime now = QDateTime::currentDateTimeUtc();
    message.enqueuedTime = now;
    const QDateTime latest = now.addSecs(maxTtlSeconds);
    if (!message.expiryTime.isValid())
        message.expiryTime = now.addSecs(defaultTtlSeconds);
    else if (message.expiryTime > latest)
        message.expiryTime = latest;
    queue.push_back(std::move(message));
    const QString id = queue.back().deviceId;
    m_registry.setCloudToDeviceCount(id, int(queue.size()));
    if (m_online.contains(id))
        deliver(id);
    return {};
}

int CloudToDevice::queueDepth(const QString &deviceId) const
{
    const auto it = m_queues.find(deviceId);
    return it == m_queues.end() ? 0 : int(it->size());
}

int CloudToDevice::purge(const QString &deviceId)
{
    const int dropped = queueDepth(deviceId);
    m_queues.remove(deviceId);
    m_registry.setCloudToDeviceCount(deviceId, 0);
    return dropped;
}

void CloudToDevice::deviceSubscribed(const QString &deviceId)
{
    m_online.insert(deviceId);
    deliver(deviceId);
}

void CloudToDevice::deviceGone(const QString &deviceId)
{
    m_online.remove(deviceId);
}

QString CloudToDevice::topicFor(const C2dMessage &message)
{
    QStringList bag;
    const auto add = [&bag](const QString &key, const QString &value) {
        if (!value.isEmpty())
            bag.append(encoded(key) + u'=' + encoded(value));
    };
    add(QStringLiteral("$.mid"), message.messageId);
    add(QStringLiteral("$.to"), QStringLiteral("/devices/%1/messages/deviceBound").arg(message.deviceId));
    add(QStringLiteral("$.cid"), message.correlationId);
    add(QStringLiteral("$.uid"), message.userId);
    add(QStringLiteral("$.ct"), message.contentType);
    add(QStringLiteral("$.ce"), message.contentEncoding);
    add(QStringLiteral("$.exp"), message.expiryTime.toString(Qt::ISODateWithMs));
    if (message.ack != QLatin1String("none"))
        add(QStringLiteral("iothub-ack"), message.ack);
    for (const auto &[key, value] : message.properties)
        bag.append(encoded(key) + u'=' + encoded(value));
    return QStringLiteral("devices/%1/messages/devicebound/%2").arg(message.deviceId, bag.join(u'&'));
}

void CloudToDevice::deliver(const QString &deviceId)
{
    auto it = m_queues.find(deviceId);
    if (it == m_queues.end() || !m_publish)
        return;
    std::deque<C2dMessage> queue = std::move(*it);
    m_queues.erase(it);
    m_registry.setCloudToDeviceCount(deviceId, 0);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const C2dMessage &message : queue) {
        if (message.expiryTime <= now) {
            addFeedback(message, QStringLiteral("Expired"), QStringLiteral("Message expired"));
            continue;
        }
        m_publish(deviceId, topicFor(message), message.body);
        addFeedback(message, QStringLiteral("Success"), QStringLiteral("Success"));
    }
}

void CloudToDevice::expire()
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (auto it = m_queues.begin(); it != m_queues.end();) {
        auto &queue = it.value();
        const auto before = queue.size();
        for (auto message = queue.begin(); message != queue.end();) {
            if (message->expiryTime <= now) {
                addFeedback(*message, QStringLiteral("Expired"), QStringLiteral("Message expired"));
                message = queue.erase(message);
            } else {
                ++message;
            }
        }
        if (queue.size() != before)
            m_registry.setCloudToDeviceCount(it.key(), int(queue.size()));
        it = queue.empty() ? m_queues.erase(it) : std::next(it);
    }
}

void CloudToDevice::addFeedback(const C2dMessage &message, const QString &status, const QString &description)
{
    if (!wantsFeedback(message.ack, status == QLatin1String("Success")))
        return;
    const auto device = m_registry.device(message.deviceId);
    m_feedback.push_back({{QStringLiteral("originalMessageId"), message.messageId},
        {QStringLiteral("deviceGenerationId"), device ? device->generationId : QString()},
        {QStringLiteral("deviceId"), message.deviceId},
        {QStringLiteral("enqueuedTimeUtc"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)},
        {QStringLiteral("statusCode"), status}, {QStringLiteral("description"), description}});
    // IoT Hub keeps feedback for a while; the sandbox keeps the newest 10,000 records.
    while (m_feedback.size() > 10000)
        m_feedback.pop_front();
    Q_EMIT feedbackAvailable();
}

QList<QJsonObject> CloudToDevice::takeFeedback(int max)
{
    QList<QJsonObject> out;
    while (!m_feedback.empty() && out.size() < max) {
        out.append(m_feedback.front());
        m_feedback.pop_front();
    }
    return out;
}

void CloudToDevice::returnFeedback(const QList<QJsonObject> &records)
{
    for (auto it = records.rbegin(); it != records.rend(); ++it)
        m_feedback.push_front(*it);
    if (!records.isEmpty())
        Q_EMIT feedbackAvailable();
}

} // namespace Onboarder::Sandbox
