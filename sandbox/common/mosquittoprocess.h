#pragma once

#include <QString>

class QProcess;

namespace Onboarder::Sandbox {

// What the sandbox's two mosquittos (the hub's broker, sandbox/hub/broker.cpp, and the sensor simulator's,
// sandbox/sensors/sensorbroker.cpp) share: a loopback port, the child process's set-up, its start, the wait
// until it accepts connections, and its stop. Each keeps its own configuration and messages.

// A port of 127.0.0.1 that is free now (another program may take it before mosquitto binds it).
quint16 freeLoopbackPort();

// Whether something accepts TCP connections on 127.0.0.1:port (within 200 ms).
bool acceptingOnLoopback(quint16 port);

// mosquitto's output merged into one channel, and SIGTERM to it when this process ends (PR_SET_PDEATHSIG), so
// it never outlives the sandbox tool, even one that is killed or crashes.
void setUpMosquittoProcess(QProcess &process);

// The user mosquitto.conf's "user" line names: the one this process runs as (mosquitto started as root drops
// to "mosquitto", which could not read the private files it is given).
QString mosquittoUser();

// Starts "mosquitto -c configFile"; false when it could not be started (process.errorString() says why).
bool startMosquitto(QProcess &process, const QString &configFile);

// Waits until mosquitto accepts connections on 127.0.0.1:port; false when it ended or timeoutMs passed first.
bool waitUntilAccepting(const QProcess &process, quint16 port, int timeoutMs = 10000);

// SIGTERM, then SIGKILL after 5 s.
void stopMosquitto(QProcess &process);

} // namespace Onboarder::Sandbox
