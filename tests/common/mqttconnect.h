#pragma once

// Connecting the core MQTT client in a test: accepted or refused, decided within 15 s.

#include "mqtt/mqttclient.h"

#include <QDeadlineTimer>
#include <QSignalSpy>
#include <QTest>

namespace TestSupport {

// Connects and reports whether the broker accepted the client.
inline bool connects(Onboarder::MqttClient &client)
{
    QSignalSpy connected(&client, &Onboarder::MqttClient::connected);
    QSignalSpy failed(&client, &Onboarder::MqttClient::errorOccurred);
    client.connectToHost();
    QDeadlineTimer deadline(15000);
    while (connected.count() + failed.count() == 0 && !deadline.hasExpired())
        QTest::qWait(20);
    if (connected.count() + failed.count() == 0)
        qFatal("neither connected nor failed within 15 s");
    return connected.count() > 0;
}

} // namespace TestSupport
