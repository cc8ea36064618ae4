#pragma once

// The relay in the test's own process (tst_relay, tst_relayx509): started and waited for until its subscriptions
// hold, its metrics as they come, and a stop that waits for it.
#include "hub/connectionstring.h"
#include "relay/relay.h"

#include <QDeadlineTimer>
#include <QSignalSpy>
#include <QTest>

#include <memory>

namespace TestSupport {

// The relay's metrics after its next report (or now, when none comes within 2 s).
inline Onboarder::RelayMetrics lastMetrics(Onboarder::Relay &relay)
{
    QSignalSpy metrics(&relay, &Onboarder::Relay::metricsUpdated);
    metrics.wait(2000);
    return relay.metrics();
}

// Started, and subscribed at the local broker (what is published before that goes to nobody).
inline std::unique_ptr<Onboarder::Relay> startRelay(const Onboarder::RelayConfig &config,
    const Onboarder::HubProfile &profile, const QString &ownerConnectionString,
    Onboarder::CredentialStore *store = nullptr)
{
    auto relay = std::make_unique<Onboarder::Relay>(
        config, profile, *Onboarder::ConnectionString::parse(ownerConnectionString), store);
    const auto started = relay->start({});
    if (!started)
        qFatal("%s", qPrintable(started.error().message));
    QDeadlineTimer deadline(10000);
    while (lastMetrics(*relay).sourceState != QStringLiteral("subscribed") && !deadline.hasExpired()) { }
    return relay;
}

inline void stopRelay(Onboarder::Relay &relay)
{
    QSignalSpy stopped(&relay, &Onboarder::Relay::stopped);
    relay.stop();
    QVERIFY(stopped.wait(10000));
}

} // namespace TestSupport
