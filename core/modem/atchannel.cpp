#include "atchannel.h"

#include "common/logging.h"

#include <QIODevice>
#include <QTimer>

namespace Onboarder {

namespace {

// "AT%CMNG" of "AT%CMNG=0,10,0,…": what a message may name.
QByteArray commandName(const QByteArray &text)
{
    qsizetype end = 0;
    while (end < text.size() && end < 24 && text.at(end) != '=' && text.at(end) != '?')
        ++end;
    return text.left(end);
}

} // namespace

AtChannel::AtChannel(QIODevice *device, QObject *parent)
    : QObject(parent)
    , m_device(device)
    , m_timer(new QTimer(this))
    , m_grace(new QTimer(this))
{
    m_timer->setSingleShot(true);
    connect(m_timer, &QTimer::timeout, this, &AtChannel::onTimeout);
    m_grace->setSingleShot(true);
    connect(m_grace, &QTimer::timeout, this, &AtChannel::endDraining);
    connect(device, &QIODevice::readyRead, this, &AtChannel::onReadyRead);
    connect(device, &QIODevice::aboutToClose, this, [this] {
        fail({ErrorKind::Device, QStringLiteral("PortClosed"), tr("The serial port was closed.")});
    });
}

AtChannel::~AtChannel()
{
    if (!m_failure)
        fail({ErrorKind::Cancelled, QStringLiteral("Cancelled"), tr("The connection to the modem was closed.")});
}

QFuture<Result<AtResponse>> AtChannel::send(const AtCommand &command)
{
    auto pending = std::make_unique<Pending>(Pending{command, startedPromise<AtResponse>(), {}});
    QFuture<Result<AtResponse>> future = pending->promise->future();
    if (m_failure) {
        deliver<AtResponse>(pending->promise, std::unexpected(*m_failure));
        return future;
    }
    if (command.text.size() > m_maxCommandBytes - 1) {
        deliver<AtResponse>(pending->promise,
            Onboarder::fail(ErrorKind::InvalidInput, QStringLiteral("CommandTooLong"),
                tr("The command is %1 bytes long; the modem takes at most %2. The credential is too large for it.")
                    .arg(command.text.size())
                    .arg(m_maxCommandBytes - 1)));
        return future;
    }
    m_queue.push_back(std::move(pending));
    startNext();
    return future;
}

void AtChannel::startNext()
{
    if (m_current || m_draining || m_queue.empty() || m_failure || !m_device)
        return;
    m_current = std::move(m_queue.front());
    m_queue.pop_front();
    const AtCommand &command = m_current->command;
    m_parser.expect({command.text, command.prefix, command.textAnswer});
    const QByteArray bytes = command.text + m_terminator;
    qCDebug(lcModemAt).noquote() << "->" << loggable(command);
    const qint64 written = m_device->write(bytes);
    if (written != bytes.size()) {
        const Error error{ErrorKind::Device, QStringLiteral("WriteFailed"),
            tr("Could not send to the modem: %1").arg(m_device->errorString())};
        fail(error);
        return;
    }
    m_sent += written;
    const qint64 wireMs = m_bytesPerSecond > 0 ? bytes.size() * 1000 / m_bytesPerSecond : 0;
    m_timer->start(int(command.timeoutMs + 2 * wireMs));
}

void AtChannel::onReadyRead()
{
    if (!m_device)
        return;
    const QByteArray bytes = m_device->readAll();
    m_received += bytes.size();
    m_recent = QByteArray(m_recent + bytes).right(512);
    const QList<AtResponseParser::Event> events = m_parser.feed(bytes);
    const QPointer<AtChannel> alive(this);
    for (const AtResponseParser::Event &event : events) {
        if (!alive)
            return;
        switch (event.kind) {
        case AtResponseParser::Event::Kind::Unsolicited:
            qCDebug(lcModemAt).noquote() << "<~" << redacted(QString::fromLatin1(event.line));
            Q_EMIT unsolicited(event.line);
            break;
        case AtResponseParser::Event::Kind::Information:
            if (m_current)
                m_current->response.lines.append(event.line);
            break;
        case AtResponseParser::Event::Kind::Final:
            qCDebug(lcModemAt).noquote() << "<-" << QString::fromLatin1(event.line);
            if (m_current) {
                AtResponse response = std::move(m_current->response);
                response.final = event.final;
                response.code = event.code;
                response.finalLine = event.line;
                m_timer->stop();
                finishCurrent(std::move(response)); // may delete this (checked at the top of the loop)
            } else if (m_draining) {
                endDraining(); // the late answer of a command given up on
            }
            break;
        }
    }
}

void AtChannel::finishCurrent(Result<AtResponse> result)
{
    m_timer->stop();
    const std::unique_ptr<Pending> done = std::move(m_current);
    // The caller's continuation runs inside deliver() and may delete this channel (closing the modem).
    const QPointer<AtChannel> alive(this);
    deliver<AtResponse>(done->promise, std::move(result));
    if (alive)
        startNext();
}

void AtChannel::onTimeout()
{
    if (!m_current)
        return;
    const AtCommand &command = m_current->command;
    qCWarning(lcModem).noquote() << "no answer to" << loggable(command);
    const Error error{ErrorKind::Device, QStringLiteral("ModemTimeout"),
        tr("The modem did not answer %1 within %2 s. Is this the modem's AT port, and does its firmware "
           "run an AT host (such as Nordic's at_client sample)?")
            .arg(QString::fromLatin1(commandName(command.text)))
            .arg(m_timer->interval() / 1000.0, 0, 'f', 1)};
    beginDraining();
    finishCurrent(std::unexpected(error));
}

void AtChannel::cancelAll()
{
    const Error cancelled{ErrorKind::Cancelled, QStringLiteral("Cancelled"), tr("Cancelled.")};
    // In the order they were sent: callers may rely on a command finishing before the ones after it.
    auto queue = std::exchange(m_queue, {});
    if (m_current) {
        // The command is on its way (a write is never cut short: a half command would wedge the modem);
        // its answer still comes and is dropped.
        beginDraining();
        finishCurrent(std::unexpected(cancelled)); // may delete this; only locals are used after it
    }
    for (const auto &pending : queue)
        deliver<AtResponse>(pending->promise, std::unexpected(cancelled));
}

void AtChannel::fail(const Error &error)
{
    if (m_failure)
        return;
    m_failure = error;
    m_timer->stop();
    m_grace->stop();
    m_draining = false;
    m_parser.reset();
    m_parser.expectNothing();
    // Receivers may delete this channel in their continuations; everything needed is local by now.
    auto queue = std::exchange(m_queue, {});
    auto current = std::exchange(m_current, {});
    if (current)
        deliver<AtResponse>(current->promise, std::unexpected(error));
    for (const auto &pending : queue)
        deliver<AtResponse>(pending->promise, std::unexpected(error));
}

void AtChannel::discardInput()
{
    if (m_device)
        m_device->readAll();
    m_parser.reset();
}

void AtChannel::beginDraining()
{
    m_draining = true;
    m_parser.expectNothing();
    m_grace->start(m_graceMs);
}

void AtChannel::endDraining()
{
    m_grace->stop();
    m_draining = false;
    m_parser.reset();
    startNext();
}

QByteArray AtChannel::loggable(const AtCommand &command)
{
    const QByteArray &text = command.text;
    if (command.secret) {
        const qsizetype quote = text.indexOf('"');
        return (quote < 0 ? text.left(16) : text.left(quote)) + "<secret, " + QByteArray::number(text.size())
            + " bytes>";
    }
    if (text.size() <= 96)
        return redacted(QString::fromLatin1(text)).toLatin1();
    return redacted(QString::fromLatin1(text.left(64))).toLatin1() + "… (" + QByteArray::number(text.size())
        + " bytes)";
}

} // namespace Onboarder
