#pragma once

#include "common/result.h"

#include <QHash>
#include <QHttpServerResponder>
#include <QJsonObject>
#include <QObject>

#include <functional>
#include <memory>

namespace Onboarder {
class MqttClient;
struct MqttMessage;
} // namespace Onboarder

namespace Onboarder::Sandbox {

class Registry;

// The hub side of twins and direct methods over MQTT. It holds the sandbox's own link to its broker:
// devices' $iothub/… requests arrive as $sandbox/in/{id}/…, answers leave as $sandbox/out/{id}/… and
// the broker's plugin delivers them to that device alone; a module's id there is {deviceId}/modules/{moduleId}.
// A deviceId below is Device::key(): a device's id, or a module's {deviceId}/{moduleId}.
// Threads: the sandbox's main thread (where its MqttClient's socket lives).
class Mediator final : public QObject
{
    Q_OBJECT

public:
    Mediator(Registry &registry, QObject *parent = nullptr);
    ~Mediator() override;

    // Connects to the broker (loopback) with the internal secret; true once subscribed.
    bool start(quint16 port, const QByteArray &secret);

    void notifyDesired(const QString &deviceId, const QJsonObject &patch, qint64 version);
    // A message to one device's session, on any of its topics (cloud-to-device messages go at QoS 1).
    void sendToDevice(const QString &deviceId, const QString &topic, const QByteArray &payload)
    {
        send(deviceId, topic, payload);
    }
    // Has the broker's plugin close every session of the device (Registry::setSessionCloser).
    void closeSessions(const QString &deviceId);

Q_SIGNALS:
    // The device subscribed to its cloud-to-device topic, or its session ended (from the broker's plugin).
    void deviceboundSubscribed(const QString &deviceId);
    void deviceDisconnected(const QString &deviceId);

public:
    // Calls a direct method on a connected device or module; done gets {"status", "payload"} as the device answered,
    // or the hub's error (GatewayTimeout when it did not answer within responseTimeoutInSeconds).
    void callMethod(const QString &deviceId, const QJsonObject &request, std::function<void(Result<QJsonObject>)> done);
    // The same for POST /twins/{id}/methods: answers through the responder.
    void invokeMethod(const QString &deviceId, const QJsonObject &request, QHttpServerResponder &&responder);

private:
    struct PendingMethod;

    void onMessage(const MqttMessage &message);
    void send(const QString &deviceId, const QString &topic, const QByteArray &payload);

    Registry &m_registry;
    std::unique_ptr<MqttClient> m_client;
    QHash<QString, std::shared_ptr<PendingMethod>> m_methods; // by $rid
    quint64 m_nextRid = 1;
};

} // namespace Onboarder::Sandbox
