#pragma once

#include <QAbstractEventDispatcher>
#include <QAtomicInt>
#include <QHash>
#include <QList>
#include <QMultiHash>

#include <set>
#include <utility>

class QSocketNotifier;

namespace Onboarder {

// An event dispatcher for a worker thread with many sockets (Linux, epoll): a pass costs what is ready,
// not what is registered. Qt's own dispatchers (GLib's and the poll() one) hand every registered socket
// to the kernel and walk every notifier on every pass, and enabling or disabling a notifier walks the
// list too; with the relay's thousand device sessions on one thread that was most of its time. Here a
// notifier is registered once with epoll_ctl, epoll_wait returns only the sockets with something to do,
// and timers sit in a set ordered by deadline.
//
// Semantics follow QEventDispatcherUNIX: posted events first, then the ready socket notifiers (read on
// in/hang-up/error, write on out/hang-up/error, exception on priority data/hang-up/error), then each due
// timer once per pass (a timer never fires inside its own handler). All timer types are kept precisely
// (a coarse timer simply fires on time).
//
// Use: QThread::setEventDispatcher(new EpollEventDispatcher) before the thread starts. It has no GLib
// main context, so nothing on that thread may rely on one (QtKeychain's libsecret backend does: keychain
// calls stay on the thread that owns the store).
//
// Threads: given to its thread before that runs an event loop (RelayThread: the relay's worker thread; the sandbox
// hub: its main thread, through QCoreApplication::setEventDispatcher); from then on it is used on that thread only,
// except wakeUp() and interrupt(), which may be called from any thread (an eventfd and atomic flags).
class EpollEventDispatcher final : public QAbstractEventDispatcher
{
    Q_OBJECT

public:
    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    // False when the kernel refused an epoll or eventfd descriptor (the caller keeps Qt's dispatcher).
    bool isValid() const { return m_epoll >= 0 && m_wakeFd >= 0; }

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;

    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;

    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;

    void wakeUp() override;
    void interrupt() override;

private:
    struct Watch
    {
        QSocketNotifier *read = nullptr;
        QSocketNotifier *write = nullptr;
        QSocketNotifier *exception = nullptr;
        bool added = false; // in the epoll set
    };
    struct Timer
    {
        qint64 interval = 0; // ms
        Qt::TimerType type = Qt::CoarseTimer;
        QObject *object = nullptr;
        qint64 deadline = 0; // ns, steady clock
        bool firing = false; // inside its own timer event
    };

    void updateWatch(int fd, Watch &watch);
    int activateSocketNotifiers();
    int activateTimers();
    int waitMs(bool mayWait) const;
    void drainWakeUps();

    int m_epoll = -1;
    int m_wakeFd = -1;
    QAtomicInt m_wakeUps; // 1 while a wake-up is written and not read yet
    QAtomicInt m_interrupted;
    QHash<int, Watch> m_watches; // fd → notifiers
    QList<QSocketNotifier *> m_pending; // activated this pass, not delivered yet
    QHash<int, Timer> m_timers; // timer id → timer
    QMultiHash<QObject *, int> m_timersOf;
    std::set<std::pair<qint64, int>> m_schedule; // deadline, timer id
};

} // namespace Onboarder
