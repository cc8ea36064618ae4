#pragma once

#include "common/promise.h"
#include "common/result.h"
#include "modem/atresponseparser.h"

#include <QByteArray>
#include <QFuture>
#include <QObject>
#include <QPointer>

#include <deque>

class QIODevice;
class QTimer;

namespace Onboarder {

// One AT command for AtChannel::send():
//   AtCommand("AT%CMNG=1,10").expecting("%CMNG:").timeout(5000)
struct AtCommand
{
    AtCommand(QByteArray command)
        : text(std::move(command))
    { }
    AtCommand &expecting(const QByteArray &linePrefix)
    {
        prefix = linePrefix;
        return *this;
    }
    AtCommand &answeringText()
    {
        textAnswer = true;
        return *this;
    }
    AtCommand &timeout(int ms)
    {
        timeoutMs = ms;
        return *this;
    }
    AtCommand &carryingSecret(bool yes = true)
    {
        secret = yes;
        return *this;
    }

    QByteArray text; // without the terminator, e.g. "AT%CMNG=1,10"
    QByteArray prefix; // its information lines start with this ("%CMNG:"); empty: none expected
    bool textAnswer = false; // unprefixed text answer (AT+CGMI, AT+CGSN, …)
    int timeoutMs = 5000; // from the moment it is sent, plus its time on the wire
    bool secret = false; // carries a private key: never logged beyond its head
};

// The AT command channel over a serial port (or any QIODevice): one command in flight at a time, the
// others queued; a per-command time-out; cancel; unsolicited lines published on their own signal;
// the port vanishing fails what is in flight and queued at once instead of leaving it hanging.
//
// After a time-out or a cancel the modem may still answer the old command. Before the next command is
// sent, that late answer is awaited (up to lateAnswerGraceMs) and dropped, so that it is never taken
// for the next command's answer.
//
// Threads: the thread its device lives on (it reads and writes the device directly); call it from there only. Its
// futures finish and its signals are emitted there.
class AtChannel final : public QObject
{
    Q_OBJECT

public:
    explicit AtChannel(QIODevice *device, QObject *parent = nullptr);
    ~AtChannel() override;

    void setTerminator(const QByteArray &terminator) { m_terminator = terminator; } // default CR LF
    // The modem's command buffer (CONFIG_AT_HOST_CMD_MAX_LEN, NUL included): longer commands are refused
    // before they are sent, because an AT host wedges on an overflow inside quotes.
    void setMaxCommandBytes(int bytes) { m_maxCommandBytes = bytes; }
    int maxCommandBytes() const { return m_maxCommandBytes; }
    // Line speed in bytes a second (baud / 10): time-outs grow by twice a command's time on the wire.
    void setBytesPerSecond(int bytesPerSecond) { m_bytesPerSecond = bytesPerSecond; }
    void setLateAnswerGraceMs(int ms) { m_graceMs = ms; }

    QFuture<Result<AtResponse>> send(const AtCommand &command);

    // Fails every queued command and the one in flight with ErrorKind::Cancelled.
    void cancelAll();
    // The port is gone or broken: everything pending fails with error, and so does every later send().
    void fail(const Error &error);
    bool isFailed() const { return m_failure.has_value(); }
    // Drops everything received and not yet parsed (after opening a port).
    void discardInput();

    bool isBusy() const { return m_current != nullptr || !m_queue.empty(); }
    qint64 bytesSent() const { return m_sent; }
    qint64 bytesReceived() const { return m_received; }
    // The last bytes received, parsed or not: what answered on a port that is no AT host.
    QByteArray recentInput() const { return m_recent; }

Q_SIGNALS:
    void unsolicited(const QByteArray &line);

private:
    struct Pending
    {
        AtCommand command;
        SharedPromise<AtResponse> promise;
        AtResponse response;
    };

    void onReadyRead();
    void startNext();
    void finishCurrent(Result<AtResponse> result);
    void onTimeout();
    void beginDraining();
    void endDraining();
    static QByteArray loggable(const AtCommand &command);

    QPointer<QIODevice> m_device;
    AtResponseParser m_parser;
    std::deque<std::unique_ptr<Pending>> m_queue;
    std::unique_ptr<Pending> m_current;
    QTimer *m_timer = nullptr;
    QTimer *m_grace = nullptr;
    bool m_draining = false;
    std::optional<Error> m_failure;
    QByteArray m_terminator = QByteArrayLiteral("\r\n");
    int m_maxCommandBytes = 4096;
    int m_bytesPerSecond = 11520;
    int m_graceMs = 1000;
    qint64 m_sent = 0;
    qint64 m_received = 0;
    QByteArray m_recent;
};

} // namespace Onboarder
