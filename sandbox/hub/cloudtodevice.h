#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <deque>
#include <functional>
#include <utility>

namespace Onboarder::Sandbox {

class Registry;

// A cloud-to-device message as the hub holds it until the device takes it.
struct C2dMessage
{
    QString deviceId;
    QString messageId;
    QString correlationId;
    QString userId;
    QString contentType;
    QString contentEncoding;
    QString ack = QStringLiteral("none"); // none | positive | negative | full
    QByteArray body;
    QList<std::pair<QString, QString>> properties;
    QDateTime enqueuedTime;
    QDateTime expiryTime;
};

// IoT Hub's cloud-to-device queues: one per device, at most 50 messages, each kept until it is delivered or
// it expires (at most 48 hours; 1 hour when the sender gives none), bodies up to 64 KB. A message goes to the
// device over MQTT (devices/{id}/messages/devicebound/{properties}) once the device subscribed to that topic;
// a message sent while it is offline waits. Delivery and expiry produce feedback records when the sender
// asked for them (iothub-ack), which the feedback endpoint hands out in batches.
// The sandbox counts a message delivered when the broker has it queued for the device's live session.
// Threads: the sandbox's main thread.
class CloudToDevice final : public QObject
{
    Q_OBJECT

public:
    static constexpr int maxQueueDepth = 50;
    static constexpr int maxBodyBytes = 65536;
    static constexpr int defaultTtlSeconds = 3600;
    static constexpr int maxTtlSeconds = 48 * 3600;

    // publish(deviceId, topic, payload): hands one message to the device's MQTT session.
    using Publisher = std::function<void(const QString &deviceId, const QString &topic, const QByteArray &payload)>;

    explicit CloudToDevice(Registry &registry, QObject *parent = nullptr);

    void setPublisher(Publisher publisher) { m_publish = std::move(publisher); }

    // Takes a message for a device. Error codes are IoT Hub's: DeviceNotFound, DeviceMaximumQueueDepthExceeded,
    // MessageTooLarge, ArgumentInvalid.
    Result<void> enqueue(C2dMessage message);
    int queueDepth(const QString &deviceId) const;
    int purge(const QString &deviceId); // DELETE /devices/{id}/commands: how many were dropped

    // The device subscribed to its devicebound topic (online), or its session ended.
    void deviceSubscribed(const QString &deviceId);
    void deviceGone(const QString &deviceId);

    // Feedback records waiting for a feedback receiver (oldest first), and taking/returning them.
    int feedbackWaiting() const { return int(m_feedback.size()); }
    QList<QJsonObject> takeFeedback(int max);
    void returnFeedback(const QList<QJsonObject> &records); // not accepted by the receiver: back to the front

    // The topic IoT Hub uses for a message (property bag URL-encoded after devicebound/).
    static QString topicFor(const C2dMessage &message);

Q_SIGNALS:
    void feedbackAvailable();

private:
    void deliver(const QString &deviceId);
    void expire();
    void addFeedback(const C2dMessage &message, const QString &status, const QString &description);

    Registry &m_registry;
    Publisher m_publish;
    QHash<QString, std::deque<C2dMessage>> m_queues;
    QSet<QString> m_online;
    std::deque<QJsonObject> m_feedback;
    QTimer m_expiry;
};

} // namespace Onboarder::Sandbox
