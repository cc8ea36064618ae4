#include "common/epolleventdispatcher.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTimerEvent>
#include <QVarLengthArray>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace Onboarder {

namespace {

constexpr int maxEventsPerPass = 256;
constexpr qint64 nsPerMs = 1'000'000;

qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

EpollEventDispatcher::EpollEventDispatcher(QObject *parent)
    : QAbstractEventDispatcher(parent)
    , m_epoll(epoll_create1(EPOLL_CLOEXEC))
    , m_wakeFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
{
    if (!isValid()) {
        qWarning("EpollEventDispatcher: %s", std::strerror(errno));
        return;
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = m_wakeFd;
    if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wakeFd, &event) != 0) {
        qWarning("EpollEventDispatcher: %s", std::strerror(errno));
        ::close(m_wakeFd);
        m_wakeFd = -1;
    }
}

EpollEventDispatcher::~EpollEventDispatcher()
{
    if (m_wakeFd >= 0)
        ::close(m_wakeFd);
    if (m_epoll >= 0)
        ::close(m_epoll);
}

void EpollEventDispatcher::updateWatch(int fd, Watch &watch)
{
    epoll_event event{};
    event.data.fd = fd;
    if (watch.read)
        event.events |= EPOLLIN;
    if (watch.write)
        event.events |= EPOLLOUT;
    if (watch.exception)
        event.events |= EPOLLPRI;
    if (event.events == 0) {
        // Hang-ups and errors are reported whatever is asked: a socket nobody listens to leaves the set.
        if (watch.added)
            epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, &event); // fails harmlessly when the fd was closed first
        m_watches.remove(fd);
        return;
    }
    if (watch.added && epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &event) == 0)
        return;
    // New, or its descriptor was closed (which takes it out of the set) and the number reused.
    if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event) == 0) {
        watch.added = true;
        return;
    }
    qWarning("EpollEventDispatcher: cannot watch socket %d: %s", fd, std::strerror(errno));
    watch.added = false;
}

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = int(notifier->socket());
    if (fd < 0 || !isValid())
        return;
    Watch &watch = m_watches[fd];
    QSocketNotifier **slot = nullptr;
    switch (notifier->type()) {
    case QSocketNotifier::Read: slot = &watch.read; break;
    case QSocketNotifier::Write: slot = &watch.write; break;
    case QSocketNotifier::Exception: slot = &watch.exception; break;
    }
    if (*slot && *slot != notifier)
        qWarning("EpollEventDispatcher: a second notifier of the same type for socket %d replaces the first", fd);
    *slot = notifier;
    updateWatch(fd, watch);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    m_pending.removeAll(notifier);
    const int fd = int(notifier->socket());
    const auto found = m_watches.find(fd);
    if (found == m_watches.end())
        return;
    Watch &watch = *found;
    bool changed = false;
    for (QSocketNotifier **slot : {&watch.read, &watch.write, &watch.exception}) {
        if (*slot == notifier) {
            *slot = nullptr;
            changed = true;
        }
    }
    if (changed)
        updateWatch(fd, watch);
}

void EpollEventDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object)
{
    Timer timer;
    timer.interval = std::max<qint64>(0, interval);
    timer.type = timerType;
    timer.object = object;
    timer.deadline = nowNs() + timer.interval * nsPerMs;
    m_timers.insert(timerId, timer);
    m_timersOf.insert(object, timerId);
    m_schedule.emplace(timer.deadline, timerId);
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    const auto found = m_timers.find(timerId);
    if (found == m_timers.end())
        return false;
    m_schedule.erase({found->deadline, timerId});
    m_timersOf.remove(found->object, timerId);
    m_timers.erase(found);
    return true;
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    const QList<int> ids = m_timersOf.values(object);
    for (int id : ids)
        unregisterTimer(id);
    return !ids.isEmpty();
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(QObject *object) const
{
    QList<TimerInfo> timers;
    for (auto it = m_timersOf.constFind(object); it != m_timersOf.cend() && it.key() == object; ++it) {
        const Timer &timer = m_timers[it.value()];
        timers.append(TimerInfo(it.value(), int(timer.interval), timer.type));
    }
    return timers;
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    const auto found = m_timers.constFind(timerId);
    if (found == m_timers.cend())
        return -1;
    return int(std::max<qint64>(0, (found->deadline - nowNs() + nsPerMs - 1) / nsPerMs));
}

void EpollEventDispatcher::wakeUp()
{
    if (m_wakeFd < 0 || !m_wakeUps.testAndSetAcquire(0, 1))
        return; // written already, not read yet
    const quint64 one = 1;
    while (::write(m_wakeFd, &one, sizeof one) < 0 && errno == EINTR) { }
}

void EpollEventDispatcher::interrupt()
{
    m_interrupted.storeRelaxed(1);
    wakeUp();
}

void EpollEventDispatcher::drainWakeUps()
{
    quint64 count = 0;
    while (::read(m_wakeFd, &count, sizeof count) < 0 && errno == EINTR) { }
    m_wakeUps.storeRelease(0);
}

int EpollEventDispatcher::waitMs(bool mayWait) const
{
    if (!mayWait)
        return 0;
    // The first timer that is not inside its own handler (it cannot fire until that returns).
    for (const auto &[deadline, id] : m_schedule) {
        if (m_timers[id].firing)
            continue;
        const qint64 left = deadline - nowNs();
        if (left <= 0)
            return 0;
        return int(std::min<qint64>((left + nsPerMs - 1) / nsPerMs, std::numeric_limits<int>::max()));
    }
    return -1;
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_interrupted.storeRelaxed(0);
    Q_EMIT awake();
    QCoreApplication::sendPostedEvents();
    if (!isValid())
        return false;

    const bool mayWait = flags.testFlag(QEventLoop::WaitForMoreEvents) && !m_interrupted.loadRelaxed();
    if (mayWait)
        Q_EMIT aboutToBlock();
    if (m_interrupted.loadRelaxed())
        return false;

    const bool includeNotifiers = !flags.testFlag(QEventLoop::ExcludeSocketNotifiers);
    epoll_event events[maxEventsPerPass];
    int ready = epoll_wait(m_epoll, events, maxEventsPerPass, waitMs(mayWait));
    if (ready < 0) {
        if (errno != EINTR)
            qWarning("EpollEventDispatcher: epoll_wait: %s", std::strerror(errno));
        ready = 0;
    }
    int handled = 0;
    for (int i = 0; i < ready; ++i) {
        const int fd = events[i].data.fd;
        if (fd == m_wakeFd) {
            drainWakeUps();
            ++handled;
            continue;
        }
        if (!includeNotifiers)
            continue; // level-triggered: reported again on the next pass that takes them
        const auto found = m_watches.constFind(fd);
        if (found == m_watches.cend())
            continue;
        const quint32 got = events[i].events;
        const quint32 failed = EPOLLHUP | EPOLLERR;
        if (found->read && (got & (EPOLLIN | failed)))
            m_pending.append(found->read);
        if (found->write && (got & (EPOLLOUT | failed)))
            m_pending.append(found->write);
        if (found->exception && (got & (EPOLLPRI | failed)))
            m_pending.append(found->exception);
    }
    if (includeNotifiers)
        handled += activateSocketNotifiers();
    handled += activateTimers();
    return handled > 0;
}

int EpollEventDispatcher::activateSocketNotifiers()
{
    int activated = 0;
    // A handler may disable, delete or create notifiers: unregistering takes one out of m_pending.
    while (!m_pending.isEmpty()) {
        QSocketNotifier *notifier = m_pending.takeFirst();
        QEvent event(QEvent::SockAct);
        QCoreApplication::sendEvent(notifier, &event);
        ++activated;
    }
    return activated;
}

int EpollEventDispatcher::activateTimers()
{
    const qint64 now = nowNs();
    QVarLengthArray<std::pair<qint64, int>, 32> due;
    for (auto it = m_schedule.cbegin(); it != m_schedule.cend() && it->first <= now; ++it)
        due.append(*it);
    int activated = 0;
    for (const auto &[deadline, id] : due) {
        auto found = m_timers.find(id);
        // Killed by an earlier handler, or its id already reused by a new timer, or inside its own handler.
        if (found == m_timers.end() || found->deadline != deadline || found->firing)
            continue;
        // The next deadline is set before the event (a handler may kill or restart it); a timer that fell
        // behind skips what it missed instead of firing in a burst.
        qint64 next = deadline + found->interval * nsPerMs;
        if (next <= now)
            next = now + found->interval * nsPerMs;
        m_schedule.erase({deadline, id});
        m_schedule.emplace(next, id);
        found->deadline = next;
        found->firing = true;
        QObject *object = found->object;
        QTimerEvent event(id);
        QCoreApplication::sendEvent(object, &event);
        ++activated;
        found = m_timers.find(id); // the hash may have changed
        if (found != m_timers.end())
            found->firing = false;
    }
    return activated;
}

} // namespace Onboarder
