#pragma once

#include "testsupport.h"

#include <QDeadlineTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStringList>

#include <unistd.h>

namespace TestSupport {

// The built onboarder-sandbox as a process of its own (a real peer: HTTPS registry, MQTT over TLS), started
// with --ready-json and its ready line read: connection string, CA file, host name, ports. Its standard
// error goes to the test's. Stopped (SIGTERM, then SIGKILL) when it goes out of scope.
class SandboxProcess final
{
public:
    SandboxProcess() { m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel); }
    SandboxProcess(const SandboxProcess &) = delete;
    SandboxProcess &operator=(const SandboxProcess &) = delete;
    ~SandboxProcess() { stop(); }

    // Returns an empty string when ready, else what went wrong. arguments come after --data and
    // --ready-json (e.g. --seed-devices N); seeding many devices takes a while: give timeoutMs.
    QString start(const QString &dataDir, const QStringList &arguments = {}, int timeoutMs = 20000)
    {
        stop();
        m_process.start(buildPath(QStringLiteral("sandbox/hub/onboarder-sandbox")),
            QStringList{QStringLiteral("--data"), dataDir, QStringLiteral("--ready-json")} + arguments);
        if (!m_process.waitForStarted(10000))
            return QStringLiteral("the sandbox did not start: ") + m_process.errorString();
        const QDeadlineTimer deadline(timeoutMs);
        while (!m_process.canReadLine() && !deadline.hasExpired() && m_process.state() == QProcess::Running)
            m_process.waitForReadyRead(100);
        if (!m_process.canReadLine())
            return QStringLiteral("the sandbox printed no ready line within %1 ms").arg(timeoutMs);
        m_ready = QJsonDocument::fromJson(m_process.readLine()).object();
        return connectionString().isEmpty() ? QStringLiteral("no connection string in the ready line") : QString();
    }

    // The arguments that make the sandbox a Device Provisioning Service too, on its own address (127.0.0.2) and free
    // ports, as the tests run it; the ready line's "dps" then says where.
    static QStringList dpsArguments()
    {
        return {QStringLiteral("--dps"), QStringLiteral("--dps-address"), QStringLiteral("127.0.0.2"),
            QStringLiteral("--dps-rest-port"), QStringLiteral("0"), QStringLiteral("--dps-mqtt-port"),
            QStringLiteral("0")};
    }

    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.terminate();
        if (!m_process.waitForFinished(10000))
            m_process.kill();
        m_process.waitForFinished(5000);
    }

    // The next start() runs the sandbox (and the brokers it starts) at this niceness: a bench's hub stands for a
    // remote one, so it should not take the CPU from the app being measured.
    void setNiceness(int niceness)
    {
        m_process.setChildProcessModifier([niceness] { [[maybe_unused]] const int result = ::nice(niceness); });
    }

    QJsonObject ready() const { return m_ready; }
    QString connectionString() const { return m_ready.value(QStringLiteral("connectionString")).toString(); }
    QString caFile() const { return m_ready.value(QStringLiteral("caFile")).toString(); }
    QString hostName() const { return m_ready.value(QStringLiteral("hostName")).toString(); }
    int restPort() const { return m_ready.value(QStringLiteral("restPort")).toInt(); }
    int mqttPort() const { return m_ready.value(QStringLiteral("mqttPort")).toInt(); }
    int amqpPort() const { return m_ready.value(QStringLiteral("amqpPort")).toInt(); }
    qint64 processId() const { return m_process.processId(); }
    bool running() const { return m_process.state() == QProcess::Running; }

    // `onboarder-cli hub add NAME …` for this sandbox (the connection string goes on standard input).
    QStringList hubAddArguments(const QString &name) const
    {
        return {QStringLiteral("hub"), QStringLiteral("add"), name, QStringLiteral("--ca"), caFile(),
            QStringLiteral("--rest-port"), QString::number(restPort()), QStringLiteral("--mqtt-port"),
            QString::number(mqttPort()), QStringLiteral("--amqp-port"), QString::number(amqpPort())};
    }

private:
    QProcess m_process;
    QJsonObject m_ready;
};

} // namespace TestSupport
