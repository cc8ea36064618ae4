#pragma once

#include <QString>
#include <QUrl>

namespace Onboarder {

// What the app remembers about a Device Provisioning Service instance, outside the keychain. Its service
// connection string (a shared access policy such as provisioningserviceowner, with its key) lives in the keychain
// under secretName(); nothing here is secret.
struct DpsProfile
{
    QString name; // the user's local name for it
    QString hostName; // the service endpoint, e.g. contoso-dps.azure-devices-provisioning.net
    QString policyName; // e.g. provisioningserviceowner
    QString idScope; // e.g. 0ne00ABCDEF: what devices register with
    int restPort = 0; // 0: Azure's 443 (service API and device registration over HTTPS)
    int mqttPort = 0; // 0: Azure's 8883 (device registration over MQTT)
    QString address; // where both are reached instead of Azure's hosts (a sandbox); empty: Azure's
    QString caFile; // an extra CA to trust for this DPS only (the sandbox's); empty: system CAs

    static constexpr int defaultRestPort = 443;
    static constexpr int defaultMqttPort = 8883;
    static constexpr const char *globalDeviceEndpoint = "global.azure-devices-provisioning.net";

    QString secretName() const;
    int effectiveRestPort() const { return restPort > 0 ? restPort : defaultRestPort; }
    int effectiveMqttPort() const { return mqttPort > 0 ? mqttPort : defaultMqttPort; }
    // https://host[:port]/ of the service API: the address when one is set, else the host name.
    QUrl serviceBaseUrl() const;
    // Where devices register: the address when one is set, else Azure's global device endpoint.
    QString deviceEndpoint() const;

    friend bool operator==(const DpsProfile &, const DpsProfile &) = default;
};

} // namespace Onboarder
