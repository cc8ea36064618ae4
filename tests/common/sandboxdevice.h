#pragma once

// A device of the in-process sandbox hub, as a test drives one: registered, and connected over MQTT with a SAS
// token of its own key; and publishing one message, waiting for the hub to take it.

#include "hub/sastoken.h"
#include "inprocesshub.h"
#include "mqtt/mqttclient.h"
#include "mqttconnect.h"

#include <QDateTime>
#include <QSignalSpy>

#include <memory>

namespace TestSupport {

// Null when it could not be registered or did not connect; with connect false, registered only (and null).
inline std::unique_ptr<Onboarder::MqttClient> sandboxDevice(
    const InProcessHub &hub, const QString &id, bool connect = true)
{
    const Onboarder::HubProfile profile = hub.profile();
    const auto registered = hub->registry().putDevice(id, {}, {});
    if (!registered || !connect)
        return {};
    auto client = std::make_unique<Onboarder::MqttClient>();
    client->setHostname(profile.hostName);
    client->setPort(profile.mqttPort);
    client->setTlsEnabled(true);
    client->setCaFile(profile.caFile);
    client->setClientId(id);
    client->setUsername(profile.hostName + u'/' + id + QStringLiteral("/?api-version=2021-04-12"));
    client->setPassword(Onboarder::SecretBytes::fromQByteArray(
        Onboarder::SasToken::create(profile.hostName + QStringLiteral("/devices/") + id, registered->primaryKey,
            QDateTime::currentSecsSinceEpoch() + 600)
            ->toString()
            .toUtf8()));
    if (!connects(*client))
        return {};
    return client;
}

// QoS 1: true once the hub acknowledged it.
inline bool publishAndWait(Onboarder::MqttClient &client, const QString &topic, const QByteArray &payload)
{
    QSignalSpy delivered(&client, &Onboarder::MqttClient::messageDelivered);
    return client.publish(topic, payload, 1).has_value() && delivered.wait(10000);
}

} // namespace TestSupport
