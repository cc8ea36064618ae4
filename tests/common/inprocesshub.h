#pragma once

// The sandbox hub in the test's own process (the test, the hub and the app's code on one event loop),
// started in a data directory of the test's, with the hub profile and endpoint that reach it.

#include "hub/hubprofile.h"
#include "hub/hubstore.h"
#include "sandboxhub.h"

#include <QJsonObject>

#include <memory>

namespace TestSupport {

class InProcessHub final
{
public:
    // Empty when the hub runs, else why it does not. trustedCaFiles: CAs (PEM files) that certificateAuthority devices
    // may chain to, as if uploaded and verified in the hub. maxMessageBytes: the largest device message it takes.
    QString start(const QString &dataDir, int seedDevices = 0, const QStringList &trustedCaFiles = {},
        int maxMessageBytes = 256 * 1024)
    {
        Onboarder::Sandbox::SandboxHub::Options options;
        options.dataDir = dataDir;
        options.seedDevices = seedDevices;
        options.trustedCaFiles = trustedCaFiles;
        options.maxMessageBytes = maxMessageBytes;
        m_hub = std::make_unique<Onboarder::Sandbox::SandboxHub>(options);
        const auto started = m_hub->start();
        return started ? QString() : started.error().message;
    }
    void stop() { m_hub.reset(); }

    Onboarder::Sandbox::SandboxHub *operator->() const { return m_hub.get(); }

    // How the app reaches it: a profile under this name with the iothubowner policy.
    Onboarder::HubProfile profile(const QString &name = QStringLiteral("sandbox")) const
    {
        const QJsonObject info = m_hub->readyInfo();
        Onboarder::HubProfile profile;
        profile.name = name;
        profile.hostName = info.value(QStringLiteral("hostName")).toString();
        profile.policyName = QStringLiteral("iothubowner");
        profile.restPort = info.value(QStringLiteral("restPort")).toInt();
        profile.mqttPort = info.value(QStringLiteral("mqttPort")).toInt();
        profile.amqpPort = info.value(QStringLiteral("amqpPort")).toInt();
        profile.caFile = info.value(QStringLiteral("caFile")).toString();
        return profile;
    }
    Onboarder::Sandbox::SandboxHub *hub() const { return m_hub.get(); }
    Onboarder::HubEndpoint endpoint() const
    {
        const Onboarder::HubProfile p = profile();
        return {p.restPort, p.mqttPort, p.caFile, p.amqpPort};
    }

private:
    std::unique_ptr<Onboarder::Sandbox::SandboxHub> m_hub;
};

} // namespace TestSupport
