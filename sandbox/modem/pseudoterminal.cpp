#include "pseudoterminal.h"

#include <QSocketNotifier>
#include <QTimer>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

namespace Onboarder::Sandbox {

PseudoTerminal::PseudoTerminal(const Options &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_pump(new QTimer(this))
    , m_hostPoll(new QTimer(this))
{
    m_pump->setTimerType(Qt::PreciseTimer);
    m_pump->setInterval(1);
    connect(m_pump, &QTimer::timeout, this, &PseudoTerminal::pump);
    m_hostPoll->setInterval(20);
    connect(m_hostPoll, &QTimer::timeout, this, &PseudoTerminal::checkHostBack);
    m_clock.start();
}

PseudoTerminal::~PseudoTerminal()
{
    hangUp();
}

bool PseudoTerminal::open(QString *error)
{
    m_master = ::posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (m_master < 0 || ::grantpt(m_master) != 0 || ::unlockpt(m_master) != 0) {
        *error
            = QStringLiteral("cannot create a pseudo-terminal: %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    m_slavePath = QString::fromLocal8Bit(::ptsname(m_master));
    // Raw: no echo, no line editing, no CR/LF translation, 8 bits. A host's QSerialPort sets the same.
    termios mode = {};
    if (::tcgetattr(m_master, &mode) == 0) {
        ::cfmakeraw(&mode);
        ::cfsetspeed(&mode, B115200);
        ::tcsetattr(m_master, TCSANOW, &mode);
    }
    m_notifier = new QSocketNotifier(m_master, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &PseudoTerminal::onReadable);
    // Until a host opens the slave side, reading the master fails; poll for the host instead.
    m_notifier->setEnabled(false);
    m_hostPoll->start();
    return true;
}

void PseudoTerminal::hangUp()
{
    if (m_master < 0)
        return;
    delete m_notifier;
    m_notifier = nullptr;
    m_pump->stop();
    m_hostPoll->stop();
    ::close(m_master);
    m_master = -1;
}

void PseudoTerminal::checkHostBack()
{
    pollfd fd{m_master, POLLIN, 0};
    if (m_master < 0 || ::poll(&fd, 1, 0) < 0 || (fd.revents & POLLHUP))
        return;
    m_hostAway = false;
    m_hostPoll->stop();
    m_notifier->setEnabled(true);
}

void PseudoTerminal::onReadable()
{
    char chunk[4096];
    const ssize_t count = ::read(m_master, chunk, sizeof chunk);
    if (count < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (count <= 0) {
        // EIO: the host closed its side. What was queued for it is lost, as on a real line.
        m_hostAway = true;
        m_out.queue.clear();
        m_notifier->setEnabled(false);
        m_hostPoll->start();
        return;
    }
    const QByteArray bytes(chunk, qsizetype(count));
    if (m_options.baud <= 0) {
        deliver(bytes);
        return;
    }
    if (m_in.queue.isEmpty())
        m_in = {{}, m_clock.nsecsElapsed(), 0};
    m_in.queue += bytes;
    m_pump->start();
}

void PseudoTerminal::write(const QByteArray &bytes)
{
    if (m_master < 0 || m_hostAway)
        return;
    if (m_options.baud <= 0) {
        m_out.queue += bytes;
        flushOut(m_out.queue.size());
        return;
    }
    if (m_out.queue.isEmpty())
        m_out = {{}, m_clock.nsecsElapsed(), 0};
    m_out.queue += bytes;
    m_pump->start();
}

// Bytes of a direction whose time on the wire has come: 10 bits each at the baud rate since the burst began.
qint64 PseudoTerminal::due(Direction &direction, qint64 nowNs) const
{
    if (m_options.baud <= 0)
        return direction.queue.size();
    const qint64 total = (nowNs - direction.startNs) * m_options.baud / 10 / 1000000000;
    return std::min<qint64>(total - direction.moved, direction.queue.size());
}

void PseudoTerminal::pump()
{
    const qint64 now = m_clock.nsecsElapsed();
    if (const qint64 count = due(m_in, now); count > 0) {
        m_in.moved += count;
        const QByteArray bytes = m_in.queue.left(count);
        m_in.queue.remove(0, count);
        deliver(bytes);
    }
    if (m_master < 0)
        return;
    if (const qint64 count = due(m_out, now); count > 0)
        flushOut(count);
    if (m_in.queue.isEmpty() && m_out.queue.isEmpty())
        m_pump->stop();
}

void PseudoTerminal::flushOut(qint64 count)
{
    const ssize_t written = ::write(m_master, m_out.queue.constData(), size_t(count));
    if (written <= 0)
        return; // the pty's buffer is full: the rest goes on the next tick
    m_out.moved += written;
    m_sent += written;
    m_out.queue.remove(0, written);
    if (m_options.baud <= 0 && !m_out.queue.isEmpty())
        m_pump->start();
}

void PseudoTerminal::deliver(const QByteArray &bytes)
{
    QByteArray accepted = bytes;
    const bool drop = m_options.dropAfterBytes > 0 && m_received + bytes.size() >= m_options.dropAfterBytes;
    if (drop)
        accepted.truncate(m_options.dropAfterBytes - m_received);
    m_received += accepted.size();
    if (!accepted.isEmpty())
        Q_EMIT received(accepted);
    if (drop) {
        hangUp();
        Q_EMIT droppedLine();
    }
}

} // namespace Onboarder::Sandbox
