#include "mediator.h"

#include "mqtt/mqttclient.h"
#include "mqtt/mqttmessage.h"
#include "registry.h"
#include "registryserver.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTimer>
#include <QUrlQuery>

namespace Onboarder::Sandbox {

struct Mediator::PendingMethod
{
    QString deviceId;
    std::function<void(Result<QJsonObject>)> done;
    QTimer timeout;
};

namespace {

// "$iothub/twin/GET/?$rid=7" → the path and the query's values.
std::pair<QString, QUrlQuery> split(const QString &topic)
{
    const qsizetype question = topic.indexOf(u'?');
    return {question < 0 ? topic : topic.left(question), QUrlQuery(question < 0 ? QString() : topic.mid(question + 1))};
}

// How a device or module (Device::key()) is named in the topics between the sandbox and its broker's plugin:
// {deviceId} or {deviceId}/modules/{moduleId}.
QString topicPath(const QString &key)
{
    const qsizetype slash = key.indexOf(u'/');
    return slash < 0 ? key : key.left(slash) + QStringLiteral("/modules/") + key.mid(slash + 1);
}

QJsonObject versioned(QJsonObject properties, qint64 version)
{
    properties.insert(QStringLiteral("$version"), version);
    return properties;
}

} // namespace

Mediator::Mediator(Registry &registry, QObject *parent)
    : QObject(parent)
    , m_registry(registry)
    , m_client(std::make_unique<MqttClient>())
{
    connect(m_client.get(), &MqttClient::messageReceived, this, &Mediator::onMessage);
}

Mediator::~Mediator()
{
    // Methods still waiting end as the hub would end them.
    const auto pending = std::exchange(m_methods, {});
    for (const auto &method : pending)
        method->done(
            std::unexpected(azureError(QStringLiteral("ServerError"), QStringLiteral("The hub is shutting down."))));
}

bool Mediator::start(quint16 port, const QByteArray &secret)
{
    m_client->setHostname(QStringLiteral("127.0.0.1"));
    m_client->setPort(port);
    // Not a valid device id (devices cannot use '/'), so no device can take over this link.
    m_client->setClientId(QStringLiteral("$sandbox/mediator"));
    m_client->setUsername(QStringLiteral("$sandbox/internal"));
    m_client->setPassword(SecretBytes::fromView(secret));
    m_client->setAutoReconnect(true);
    bool subscribed = false;
    const auto connection
        = connect(m_client.get(), &MqttClient::subscribed, this, [&subscribed] { subscribed = true; });
    m_client->connectToHost();
    // Sent on every connection; refused at once only for an invalid filter or QoS, which this is not.
    const bool valid = m_client->subscribe(QStringLiteral("$sandbox/in/#"), 0).has_value();
    const QDeadlineTimer deadline(10000);
    while (valid && !subscribed && !deadline.hasExpired())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    disconnect(connection);
    return subscribed;
}

void Mediator::send(const QString &deviceId, const QString &topic, const QByteArray &payload)
{
    if (const auto sent
        = m_client->publish(QStringLiteral("$sandbox/out/") + topicPath(deviceId) + u'/' + topic, payload, 0);
        !sent)
        qWarning("sandbox: could not send to %s: %s", qPrintable(deviceId), qPrintable(sent.error().message));
}

void Mediator::closeSessions(const QString &deviceId)
{
    // The id goes in the payload: a device id may hold '+' or '#', which no topic may.
    if (const auto sent = m_client->publish(QStringLiteral("$sandbox/close"), deviceId.toUtf8(), 0); !sent)
        qWarning(
            "sandbox: could not close the sessions of %s: %s", qPrintable(deviceId), qPrintable(sent.error().message));
}

void Mediator::notifyDesired(const QString &deviceId, const QJsonObject &patch, qint64 version)
{
    send(deviceId, QStringLiteral("$iothub/twin/PATCH/properties/desired/?$version=%1").arg(version),
        QJsonDocument(versioned(patch, version)).toJson(QJsonDocument::Compact));
}

void Mediator::invokeMethod(const QString &deviceId, const QJsonObject &request, QHttpServerResponder &&responder)
{
    auto shared = std::make_shared<QHttpServerResponder>(std::move(responder));
    callMethod(deviceId, request, [shared](Result<QJsonObject> answer) {
        if (!answer)
            return RegistryServer::writeError(*shared, answer.error().code, answer.error().message);
        shared->write(QJsonDocument(*answer).toJson(QJsonDocument::Compact),
            QByteArrayLiteral("application/json; charset=utf-8"));
    });
}

void Mediator::callMethod(
    const QString &deviceId, const QJsonObject &request, std::function<void(Result<QJsonObject>)> done)
{
    const QString rid = QString::number(m_nextRid++, 16);
    auto pending = std::make_shared<PendingMethod>();
    pending->deviceId = deviceId;
    pending->done = std::move(done);
    pending->timeout.setSingleShot(true);
    connect(&pending->timeout, &QTimer::timeout, this, [this, rid] {
        if (auto pending = m_methods.take(rid))
            pending->done(std::unexpected(azureError(
                QStringLiteral("GatewayTimeout"), QStringLiteral("Timed out waiting for the response from device."))));
    });
    pending->timeout.start(request.value(QStringLiteral("responseTimeoutInSeconds")).toInt(30) * 1000);
    m_methods.insert(rid, pending);

    const QJsonValue payload = request.value(QStringLiteral("payload"));
    const QByteArray body = payload.isUndefined() || payload.isNull()
        ? QByteArrayLiteral("null")
        : QJsonDocument(QJsonArray{payload}).toJson(QJsonDocument::Compact).mid(1).chopped(1);
    send(deviceId,
        QStringLiteral("$iothub/methods/POST/%1/?$rid=%2")
            .arg(request.value(QStringLiteral("methodName")).toString(), rid),
        body);
}

void Mediator::onMessage(const MqttMessage &message)
{
    // $sandbox/in/{deviceId}[/modules/{moduleId}]/$iothub/…
    const QString prefix = QStringLiteral("$sandbox/in/");
    const QString topic = message.topic;
    if (!topic.startsWith(prefix))
        return;
    qsizetype slash = topic.indexOf(u'/', prefix.size());
    if (slash < 0)
        return;
    QString deviceId = topic.mid(prefix.size(), slash - prefix.size()); // a module's key: {deviceId}/{moduleId}
    if (QStringView(topic).mid(slash + 1).startsWith(u"modules/")) {
        const qsizetype moduleStart = slash + 9;
        slash = topic.indexOf(u'/', moduleStart);
        if (slash < 0)
            return;
        deviceId += u'/' + topic.mid(moduleStart, slash - moduleStart);
    }
    const auto [path, query] = split(topic.mid(slash + 1));
    const QString rid = query.queryItemValue(QStringLiteral("$rid"));

    if (path == QLatin1String("$sandbox/devicebound"))
        return Q_EMIT deviceboundSubscribed(deviceId);
    if (path == QLatin1String("$sandbox/disconnected"))
        return Q_EMIT deviceDisconnected(deviceId);
    if (path == QStringLiteral("$iothub/twin/GET/")) {
        const auto device = m_registry.identity(deviceId);
        if (!device)
            return send(deviceId, QStringLiteral("$iothub/twin/res/404/?$rid=%1").arg(rid), {});
        const QJsonObject twin{{QStringLiteral("desired"), versioned(device->desired, device->desiredVersion)},
            {QStringLiteral("reported"), versioned(device->reported, device->reportedVersion)}};
        return send(deviceId, QStringLiteral("$iothub/twin/res/200/?$rid=%1").arg(rid),
            QJsonDocument(twin).toJson(QJsonDocument::Compact));
    }
    if (path == QStringLiteral("$iothub/twin/PATCH/properties/reported/")) {
        const QJsonDocument patch = QJsonDocument::fromJson(message.payload);
        if (!patch.isObject())
            return send(deviceId, QStringLiteral("$iothub/twin/res/400/?$rid=%1").arg(rid), {});
        const auto updated = m_registry.updateReported(deviceId, patch.object());
        if (!updated)
            return send(deviceId, QStringLiteral("$iothub/twin/res/400/?$rid=%1").arg(rid), {});
        return send(deviceId,
            QStringLiteral("$iothub/twin/res/204/?$rid=%1&$version=%2").arg(rid).arg(updated->reportedVersion), {});
    }
    if (path.startsWith(QStringLiteral("$iothub/methods/res/"))) {
        const auto pending = m_methods.value(rid);
        if (!pending || pending->deviceId != deviceId)
            return; // late, or not this device's call
        m_methods.remove(rid);
        pending->timeout.stop();
        bool ok = false;
        const int status = path.section(u'/', 3, 3).toInt(&ok);
        QJsonValue payload;
        if (!message.payload.trimmed().isEmpty()) {
            const QJsonDocument wrapped = QJsonDocument::fromJson("[" + message.payload + "]");
            payload = wrapped.isArray() ? wrapped.array().at(0) : QJsonValue(QString::fromUtf8(message.payload));
        }
        pending->done(QJsonObject{{QStringLiteral("status"), ok ? status : 500}, {QStringLiteral("payload"), payload}});
    }
}

} // namespace Onboarder::Sandbox
