#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QObject>
#include <QString>

class QSocketNotifier;
class QTimer;

namespace Onboarder::Sandbox {

// The simulator's serial line: a pseudo-terminal (raw mode) whose slave side a host opens like a USB
// serial port. Both directions are paced at the configured baud rate (10 bits a byte, as 8N1 on a
// UART), so that a host sees the timing of a real 115200-baud line. The line can be made to drop after
// a number of received bytes (the cable pulled mid-command).
// Threads: the simulator's main thread.
class PseudoTerminal final : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        int baud = 115200; // 0: as fast as the pty goes
        qint64 dropAfterBytes = 0; // > 0: hang up once this many bytes have come in
    };

    explicit PseudoTerminal(const Options &options, QObject *parent = nullptr);
    ~PseudoTerminal() override;

    bool open(QString *error);
    QString slavePath() const { return m_slavePath; }

    void write(const QByteArray &bytes); // queued, paced
    void hangUp(); // closes the master side: the host's port is gone

    qint64 bytesReceived() const { return m_received; }
    qint64 bytesSent() const { return m_sent; }

Q_SIGNALS:
    void received(const QByteArray &bytes); // paced
    void droppedLine(); // after Options::dropAfterBytes

private:
    struct Direction
    {
        QByteArray queue;
        qint64 startNs = 0; // when the current burst started
        qint64 moved = 0; // bytes moved since then
    };

    void onReadable();
    void pump();
    qint64 due(Direction &direction, qint64 nowNs) const;
    void deliver(const QByteArray &bytes);
    void flushOut(qint64 count);
    void checkHostBack();

    Options m_options;
    int m_master = -1;
    QString m_slavePath;
    QSocketNotifier *m_notifier = nullptr;
    QTimer *m_pump = nullptr;
    QTimer *m_hostPoll = nullptr;
    QElapsedTimer m_clock;
    Direction m_in;
    Direction m_out;
    bool m_hostAway = true; // nobody has the slave side open
    qint64 m_received = 0;
    qint64 m_sent = 0;
};

} // namespace Onboarder::Sandbox
