#pragma once

#include <QNetworkProxy>
#include <QString>
#include <QUrl>

#include <optional>

namespace Onboarder {

// What the app remembers about a hub, outside the keychain. The connection string itself (with its
// key) lives in the keychain under secretName(); nothing here is secret.
struct HubProfile
{
    QString name; // the user's local name for it
    QString hostName; // e.g. contoso.azure-devices.net
    QString policyName; // e.g. iothubowner
    int restPort = 0; // 0: Azure's 443
    int mqttPort = 0; // 0: Azure's 8883
    int amqpPort
        = 0; // 0: Azure's 5671 (cloud-to-device, feedback, telemetry through the Event Hub-compatible endpoint)
    QString caFile; // an extra CA to trust for this hub only (the sandbox's); empty: system CAs
    // How every connection to this hub travels (REST, MQTT, AMQP), for networks that let only HTTPS out:
    bool webSockets = false; // MQTT and AMQP over WebSockets on the REST port (Azure: 443, /$iothub/websocket)
    QUrl proxy; // an HTTP proxy (http://HOST:PORT) tunnelled through with CONNECT; empty: none
    // The keychain also holds the hub's Event Hub-compatible connection string (eventHubSecretName()), which
    // telemetry is read with instead of following the hub's redirect.
    bool eventHub = false;

    static constexpr int defaultRestPort = 443;
    static constexpr int defaultMqttPort = 8883;
    static constexpr int defaultAmqpPort = 5671;

    QString secretName() const;
    QString eventHubSecretName() const;
    int effectiveRestPort() const { return restPort > 0 ? restPort : defaultRestPort; }
    int effectiveMqttPort() const { return mqttPort > 0 ? mqttPort : defaultMqttPort; }
    int effectiveAmqpPort() const { return amqpPort > 0 ? amqpPort : defaultAmqpPort; }
    QUrl restBaseUrl() const; // https://host[:port]/
    bool isDefaultEndpoint() const { return restPort == 0 && mqttPort == 0 && amqpPort == 0 && caFile.isEmpty(); }
    // The proxy as Qt's sockets take it; nullopt: connect directly (never the system's proxy by accident).
    std::optional<QNetworkProxy> networkProxy() const;
    // A proxy URL as a hub profile takes it (http://HOST:PORT, no user or path); an empty string if it is one,
    // else why not.
    static QString checkProxy(const QUrl &proxy);

    friend bool operator==(const HubProfile &, const HubProfile &) = default;
};

} // namespace Onboarder
