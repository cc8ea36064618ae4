#include "mosquittoprocess.h"

#include <QDeadlineTimer>
#include <QProcess>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>

#include <csignal>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace Onboarder::Sandbox {

quint16 freeLoopbackPort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

bool acceptingOnLoopback(quint16 port)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    return socket.waitForConnected(200);
}

void setUpMosquittoProcess(QProcess &process)
{
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
}

QString mosquittoUser()
{
    const passwd *user = ::getpwuid(::getuid());
    return QString::fromLocal8Bit(user ? user->pw_name : "root");
}

bool startMosquitto(QProcess &process, const QString &configFile)
{
    process.start(QStringLiteral("mosquitto"), {QStringLiteral("-c"), configFile});
    return process.waitForStarted(5000);
}

bool waitUntilAccepting(const QProcess &process, quint16 port, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    while (!acceptingOnLoopback(port)) {
        if (process.state() != QProcess::Running || deadline.hasExpired())
            return false;
        QThread::msleep(50);
    }
    return true;
}

void stopMosquitto(QProcess &process)
{
    if (process.state() == QProcess::NotRunning)
        return;
    process.terminate();
    if (!process.waitForFinished(5000)) {
        process.kill();
        process.waitForFinished(2000);
    }
}

} // namespace Onboarder::Sandbox
