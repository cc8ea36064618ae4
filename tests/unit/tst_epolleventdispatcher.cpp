// EpollEventDispatcher: the whole test runs on it (the main thread's dispatcher is set before the
// application exists), so QTRY_*, QSignalSpy::wait and QEventLoop below are its passes; one case also
// runs it on a worker thread woken from this one.
#include "common/epolleventdispatcher.h"

#include <QAbstractEventDispatcher>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QPointer>
#include <QSemaphore>
#include <QSignalSpy>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <memory>
#include <unistd.h>

using namespace Onboarder;

class tst_EpollEventDispatcher : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void isTheMainThreadsDispatcher();
    void timersFireInDeadlineOrder();
    void repeatingTimerKeepsFiringUntilKilled();
    void timerKilledByAnEarlierHandlerDoesNotFire();
    void timerDoesNotFireInsideItsOwnHandler();
    void remainingTimeAndRegisteredTimers();
    void deleteLaterRuns();
    void pipeNotifierFollowsEnableAndDisable();
    void manySocketsEchoEverything();
    void workerThreadIsWokenByPostedEvents();
};

void tst_EpollEventDispatcher::isTheMainThreadsDispatcher()
{
    QVERIFY(qobject_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance()));
}

void tst_EpollEventDispatcher::timersFireInDeadlineOrder()
{
    QStringList fired;
    QElapsedTimer clock;
    clock.start();
    qint64 lateMs = 0;
    QTimer::singleShot(60, this, [&] {
        fired << QStringLiteral("60");
        lateMs = clock.elapsed();
    });
    QTimer::singleShot(20, this, [&] { fired << QStringLiteral("20"); });
    QTimer::singleShot(40, this, [&] { fired << QStringLiteral("40"); });
    QTRY_COMPARE(fired.size(), 3);
    QCOMPARE(fired, (QStringList{QStringLiteral("20"), QStringLiteral("40"), QStringLiteral("60")}));
    QVERIFY2(lateMs >= 60, qPrintable(QString::number(lateMs))); // never early
}

void tst_EpollEventDispatcher::repeatingTimerKeepsFiringUntilKilled()
{
    QTimer timer;
    timer.setInterval(5);
    int count = 0;
    connect(&timer, &QTimer::timeout, this, [&] {
        if (++count == 5)
            timer.stop();
    });
    timer.start();
    QTRY_COMPARE(count, 5);
    QTest::qWait(50);
    QCOMPARE(count, 5);
    QVERIFY(!timer.isActive());
}

void tst_EpollEventDispatcher::timerKilledByAnEarlierHandlerDoesNotFire()
{
    // Both are due in the same pass; the first stops the second.
    QTimer first;
    QTimer second;
    first.setSingleShot(true);
    second.setSingleShot(true);
    bool secondFired = false;
    connect(&first, &QTimer::timeout, this, [&] { second.stop(); });
    connect(&second, &QTimer::timeout, this, [&] { secondFired = true; });
    first.start(10);
    second.start(10);
    QThread::msleep(30); // both overdue when the next pass runs
    QTRY_VERIFY(!first.isActive());
    QTest::qWait(30);
    QVERIFY(!secondFired);
}

void tst_EpollEventDispatcher::timerDoesNotFireInsideItsOwnHandler()
{
    QTimer timer;
    timer.setInterval(2);
    int depth = 0;
    int deepest = 0;
    int count = 0;
    connect(&timer, &QTimer::timeout, this, [&] {
        ++count;
        ++depth;
        deepest = std::max(deepest, depth);
        if (count == 1) {
            QEventLoop nested; // a nested loop runs passes while this handler is active
            QTimer::singleShot(30, &nested, &QEventLoop::quit);
            nested.exec();
        }
        --depth;
    });
    timer.start();
    QTRY_VERIFY(count >= 3);
    timer.stop();
    QCOMPARE(deepest, 1);
}

void tst_EpollEventDispatcher::remainingTimeAndRegisteredTimers()
{
    QObject owner;
    QTimer timer(&owner);
    timer.start(10'000);
    const int left = timer.remainingTime();
    QVERIFY2(left > 9'000 && left <= 10'000, qPrintable(QString::number(left)));
    const auto timers = QAbstractEventDispatcher::instance()->registeredTimers(&timer);
    QCOMPARE(timers.size(), 1);
    QCOMPARE(timers.constFirst().interval, 10'000);
    timer.stop();
    QVERIFY(QAbstractEventDispatcher::instance()->registeredTimers(&timer).isEmpty());
}

void tst_EpollEventDispatcher::deleteLaterRuns()
{
    QPointer<QObject> object = new QObject;
    object->deleteLater();
    QTRY_VERIFY(object.isNull());
}

void tst_EpollEventDispatcher::pipeNotifierFollowsEnableAndDisable()
{
    int fds[2];
    QCOMPARE(::pipe(fds), 0);
    QSocketNotifier notifier(fds[0], QSocketNotifier::Read);
    int activations = 0;
    connect(&notifier, &QSocketNotifier::activated, this, [&] {
        ++activations;
        char byte;
        QCOMPARE(::read(fds[0], &byte, 1), 1);
    });
    QCOMPARE(::write(fds[1], "a", 1), 1);
    QTRY_COMPARE(activations, 1);

    notifier.setEnabled(false);
    QCOMPARE(::write(fds[1], "b", 1), 1);
    QTest::qWait(30);
    QCOMPARE(activations, 1); // disabled: not reported

    notifier.setEnabled(true);
    QTRY_COMPARE(activations, 2); // level-triggered: what waited is reported once enabled
    ::close(fds[0]);
    ::close(fds[1]);
}

void tst_EpollEventDispatcher::manySocketsEchoEverything()
{
    // 300 connections (600 sockets) on one thread, each echoing 50 lines: write notifiers are turned on
    // and off by QAbstractSocket with every write.
    constexpr int connections = 300;
    constexpr int lines = 50;
    QTcpServer server;
    server.setMaxPendingConnections(connections);
    server.setListenBacklogSize(connections); // all connect at once
    QVERIFY(server.listen(QHostAddress::LocalHost));
    std::vector<std::unique_ptr<QTcpSocket>> accepted;
    connect(&server, &QTcpServer::newConnection, this, [&] {
        while (QTcpSocket *socket = server.nextPendingConnection()) {
            connect(socket, &QTcpSocket::readyRead, socket, [socket] { socket->write(socket->readAll()); });
            accepted.emplace_back(socket);
        }
    });
    std::vector<std::unique_ptr<QTcpSocket>> clients;
    qint64 echoed = 0;
    for (int i = 0; i < connections; ++i) {
        auto client = std::make_unique<QTcpSocket>();
        QTcpSocket *socket = client.get();
        connect(socket, &QTcpSocket::connected, socket, [socket, i] {
            for (int line = 0; line < lines; ++line)
                socket->write(QByteArray::number(i) + ':' + QByteArray::number(line) + '\n');
        });
        connect(socket, &QTcpSocket::readyRead, socket, [socket, &echoed] {
            while (socket->canReadLine()) {
                socket->readLine();
                ++echoed;
            }
        });
        socket->connectToHost(server.serverAddress(), server.serverPort());
        clients.push_back(std::move(client));
    }
    QTRY_COMPARE_WITH_TIMEOUT(echoed, qint64(connections) * lines, 20'000);
    QCOMPARE(qsizetype(accepted.size()), qsizetype(connections));
}

void tst_EpollEventDispatcher::workerThreadIsWokenByPostedEvents()
{
    QThread thread;
    thread.setEventDispatcher(new EpollEventDispatcher);
    thread.start();
    QObject onWorker;
    onWorker.moveToThread(&thread);
    QSemaphore ran;
    std::atomic<bool> onEpoll{false};
    for (int i = 0; i < 1000; ++i) {
        // The worker sleeps in epoll_wait with nothing registered: only the posted event's wake-up ends it.
        QMetaObject::invokeMethod(&onWorker, [&ran, &onEpoll] {
            onEpoll = qobject_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance()) != nullptr;
            ran.release();
        });
        QVERIFY2(ran.tryAcquire(1, 2000), qPrintable(QString::number(i)));
    }
    QVERIFY(onEpoll);
    thread.quit(); // interrupt() ends the pass it is waiting in
    QVERIFY(thread.wait(5000));
}

int main(int argc, char **argv)
{
    QCoreApplication::setEventDispatcher(new EpollEventDispatcher);
    QCoreApplication app(argc, argv);
    tst_EpollEventDispatcher test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_epolleventdispatcher.moc"
