#include "nrf91modem.h"

#include "common/logging.h"
#include "modem/modemerror.h"

#include <QPointer>
#include <QTimer>

#include <algorithm>

namespace Onboarder {

namespace {

// The answer of a text command (AT+CGMI, AT+CGSN): its last information line.
QString lastLine(const QList<QByteArray> &lines)
{
    return lines.isEmpty() ? QString() : QString::fromLatin1(lines.constLast()).trimmed();
}

// The IMEI in the answer to AT+CGSN: the one line of 15 digits. Anything else (a banner the parser does
// not know, line noise, a 14- or 16-digit number) is no IMEI and is not cut or guessed into one.
Result<QString> imeiOf(const QList<QByteArray> &lines)
{
    QStringList found;
    for (const QByteArray &line : lines) {
        const QString text = QString::fromLatin1(line).trimmed();
        if (text.size() == 15 && std::all_of(text.cbegin(), text.cend(), [](QChar c) { return c >= u'0' && c <= u'9'; })
            && !found.contains(text))
            found.append(text);
    }
    if (found.size() == 1) {
        // The 15th digit is the Luhn check digit of the other 14 (3GPP TS 23.003, annex B): a line that merely has 15
        // digits is no IMEI.
        const QString &imei = found.constFirst();
        int sum = 0;
        for (int i = 0; i < 15; ++i) {
            int digit = imei.at(i).digitValue();
            if (i % 2 == 1)
                digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
            sum += digit;
        }
        if (sum % 10 == 0)
            return imei;
        return fail(ErrorKind::Device, QStringLiteral("NotAnImei"),
            Nrf91Modem::tr(
                "The modem's answer to AT+CGSN, %1, is not an IMEI: its check digit is wrong. Check that the port "
                "is the modem's AT port and read the identity again.")
                .arg(imei));
    }
    if (lines.isEmpty())
        return fail(ErrorKind::Device, QStringLiteral("NotAnImei"),
            Nrf91Modem::tr("The modem answered AT+CGSN without an IMEI. Check that the port is the modem's AT port and "
                           "read the identity again."));
    QStringList answer;
    for (const QByteArray &line : lines)
        answer.append(QString::fromLatin1(line).trimmed());
    return fail(ErrorKind::Device, QStringLiteral("NotAnImei"),
        Nrf91Modem::tr("The modem's answer to AT+CGSN is not one IMEI (15 digits): \"%1\". Check that the port is the "
                       "modem's AT port and read the identity again.")
            .arg(answer.join(QStringLiteral("\", \""))));
}

// A shell's traces in what a port sent back for "AT": the Zephyr shell's prompt or its answer to an unknown
// command. Empty when there are none.
QString shellIn(const QByteArray &received)
{
    const QList<QByteArray> lines = received.split('\n');
    for (const QByteArray &raw : lines) {
        const QByteArray line = raw.trimmed();
        if (line.endsWith(": command not found") || line.endsWith("~$") || line.startsWith("uart:~$"))
            return QString::fromLatin1(line.left(60));
    }
    return {};
}

template<typename T> QFuture<Result<T>> notOpen()
{
    return readyFuture<T>(
        fail(ErrorKind::Internal, QStringLiteral("ModemNotOpen"), Nrf91Modem::tr("The modem's port is not open.")));
}

} // namespace

Nrf91Modem::Nrf91Modem(QObject *parent)
    : QObject(parent)
{
    connect(&m_link, &SerialLink::lost, this, [this](const Error &error) {
        if (m_channel)
            m_channel->fail(error);
        Q_EMIT lost(error);
    });
}

Nrf91Modem::~Nrf91Modem()
{
    close();
}

QFuture<Result<void>> Nrf91Modem::open(
    const QString &path, const SerialSettings &settings, const ModemOpenOptions &options)
{
    close();
    if (auto opened = m_link.open(path, settings); !opened)
        return readyFuture<void>(std::unexpected(opened.error()));
    m_channel = std::make_unique<AtChannel>(m_link.port());
    m_channel->setBytesPerSecond(std::max(1, settings.baudRate / 10));
    connect(m_channel.get(), &AtChannel::unsolicited, this, &Nrf91Modem::unsolicited);

    // A half-typed command from before (another tool, line noise) is ended by a bare line end; what the
    // modem answers to it is thrown away.
    m_link.port()->write("\r\n");
    auto promise = startedPromise<void>();
    QTimer::singleShot(options.settleMs, this, [this, promise, options] {
        if (!m_channel)
            return deliver<void>(promise, fail(ErrorKind::Cancelled, QStringLiteral("Cancelled"), tr("Cancelled.")));
        m_link.port()->clear(QSerialPort::Input);
        m_channel->discardInput();
        probe(promise, options.probeTries, options);
    });
    return promise->future();
}

void Nrf91Modem::probe(const SharedPromise<void> &promise, int triesLeft, const ModemOpenOptions &options)
{
    m_channel->send(AtCommand(QByteArrayLiteral("AT")).timeout(options.probeTimeoutMs))
        .then(this, [this, promise, triesLeft, options](Result<AtResponse> answer) {
            if (!answer && answer.error().code != QStringLiteral("ModemTimeout"))
                return deliver<void>(promise, std::unexpected(answer.error()));
            if (!answer || !answer->ok()) {
                if (const QString shell = shellIn(m_channel->recentInput()); !shell.isEmpty())
                    return deliver<void>(promise,
                        fail(ErrorKind::Device, QStringLiteral("NotAnAtHost"),
                            tr("%1 answers, but not as an AT host: it is a command shell (\"%2\"). "
                               "The firmware on the board has no AT client. Flash Nordic's AT "
                               "client sample (nRF Connect SDK, samples/cellular/at_client) with the "
                               "nRF Connect Programmer, or, if the firmware's shell has an \"at\" "
                               "command, use that shell instead of Onboarder.")
                                .arg(m_link.path(), shell)));
                if (triesLeft > 1)
                    return probe(promise, triesLeft - 1, options);
                return deliver<void>(promise,
                    fail(ErrorKind::Device, QStringLiteral("NoAtAnswer"),
                        tr("No AT answer on %1: it is not the modem's AT port (a board may have several "
                           "ports), or the modem's firmware has no AT host (such as Nordic's at_client "
                           "sample).")
                            .arg(m_link.path())));
            }
            // Numeric error codes: without them every refusal is a bare ERROR.
            m_channel->send(AtCommand(QByteArrayLiteral("AT+CMEE=1"))).then(this, [promise](Result<AtResponse> cmee) {
                if (!cmee)
                    return deliver<void>(promise, std::unexpected(cmee.error()));
                if (!cmee->ok())
                    qCWarning(lcModem) << "the modem refused AT+CMEE=1; its errors will have no codes";
                deliver<void>(promise, Result<void>());
            });
        });
}

QFuture<Result<void>> Nrf91Modem::resynchronise()
{
    if (!m_channel)
        return notOpen<void>();
    auto promise = startedPromise<void>();
    resyncStep(promise, 0);
    return promise->future();
}

void Nrf91Modem::resyncStep(const SharedPromise<void> &promise, int step)
{
    // 1. A line end: enough when the host lost the tail outside quotes, or when a bridge that dropped bytes lets
    //    them through again after a pause (the write's time-out was one).
    // 2. A quote and surplus parameters: the host lost the closing quote and takes everything as content until a
    //    quote comes; the surplus parameters make the command one it refuses, so the partial content is not stored.
    static const QByteArray endings[] = {QByteArrayLiteral("\r\n"), QByteArrayLiteral("\",0,0,0\r\n")};
    if (!m_channel)
        return deliver<void>(promise,
            fail(ErrorKind::Cancelled, QStringLiteral("Closed"), tr("The connection to the modem was closed.")));
    if (step >= int(std::size(endings)))
        return deliver<void>(promise,
            fail(ErrorKind::Device, QStringLiteral("ModemUnresponsive"),
                tr("The modem on %1 does not answer any more. Unplug it and plug it in again (or "
                   "press the board's reset button), then try again.")
                    .arg(m_link.path())));
    qCWarning(lcModem) << "resynchronising the AT host, step" << step + 1;
    m_link.port()->write(endings[step]);
    QTimer::singleShot(1000, this, [this, promise, step] {
        if (!m_channel)
            return resyncStep(promise, step);
        m_link.port()->clear(QSerialPort::Input);
        m_channel->discardInput();
        m_channel->send(AtCommand(QByteArrayLiteral("AT")).timeout(1500))
            .then(this, [this, promise, step](Result<AtResponse> answer) {
                if (answer && answer->ok())
                    return deliver<void>(promise, Result<void>());
                if (!answer && answer.error().code != QStringLiteral("ModemTimeout"))
                    return deliver<void>(promise, std::unexpected(answer.error()));
                resyncStep(promise, step + 1);
            });
    });
}

void Nrf91Modem::close()
{
    // What is pending fails now; its receivers may react by deleting this modem, so the channel is
    // taken out first and nothing of this is touched after them unless it still exists.
    const std::unique_ptr<AtChannel> channel = std::move(m_channel);
    const QPointer<Nrf91Modem> alive(this);
    if (channel)
        channel->fail({ErrorKind::Cancelled, QStringLiteral("Closed"), tr("The connection to the modem was closed.")});
    if (alive)
        m_link.close();
}

void Nrf91Modem::cancel()
{
    if (m_channel)
        m_channel->cancelAll();
}

QFuture<Result<QList<QByteArray>>> Nrf91Modem::query(const AtCommand &command, const QString &what)
{
    if (!m_channel)
        return notOpen<QList<QByteArray>>();
    return m_channel->send(command).then(this, [what](Result<AtResponse> answer) -> Result<QList<QByteArray>> {
        if (!answer)
            return std::unexpected(answer.error());
        if (!answer->ok())
            return std::unexpected(ModemError::fromResponse(*answer, what));
        return answer->lines;
    });
}

QFuture<Result<ModemIdentity>> Nrf91Modem::identity()
{
    // Queued together; the channel answers them in order, so when the last is done all are.
    const auto text = [this](const char *command) {
        return query(AtCommand(QByteArray(command)).answeringText(), tr("Reading the modem's identity"));
    };
    const auto imei = text("AT+CGSN");
    const auto manufacturer = text("AT+CGMI");
    const auto model = text("AT+CGMM");
    const auto firmware = text("AT+CGMR");
    auto uuid = query(AtCommand(QByteArrayLiteral("AT%XMODEMUUID")).expecting(QByteArrayLiteral("%XMODEMUUID:")),
        tr("Reading the modem UUID"));
    return uuid.then(
        this, [imei, manufacturer, model, firmware](Result<QList<QByteArray>> uuidLines) -> Result<ModemIdentity> {
            for (const auto &part : {imei, manufacturer, model, firmware}) {
                if (!part.isFinished()) // cannot be: the channel finishes commands in order
                    return fail(ErrorKind::Internal, QStringLiteral("OutOfOrder"),
                        tr("The modem's answers came out of order."));
                if (!part.result())
                    return std::unexpected(part.result().error());
            }
            const Result<QString> imeiText = imeiOf(*imei.result());
            if (!imeiText)
                return std::unexpected(imeiText.error());
            ModemIdentity identity;
            identity.imei = *imeiText;
            identity.manufacturer = lastLine(*manufacturer.result());
            identity.model = lastLine(*model.result());
            identity.firmware = lastLine(*firmware.result());
            // Older firmware has no %XMODEMUUID; that is no failure.
            if (uuidLines && !uuidLines->isEmpty())
                identity.modemUuid = QString::fromLatin1(uuidLines->constLast().mid(12)).trimmed();
            else if (!uuidLines && uuidLines.error().kind != ErrorKind::Device)
                return std::unexpected(uuidLines.error());
            return identity;
        });
}

QFuture<Result<int>> Nrf91Modem::functionalMode()
{
    return query(AtCommand(QByteArrayLiteral("AT+CFUN?")).expecting(QByteArrayLiteral("+CFUN:")),
        tr("Reading the modem's functional mode"))
        .then([](Result<QList<QByteArray>> lines) -> Result<int> {
            if (!lines)
                return std::unexpected(lines.error());
            bool ok = false;
            const int mode = lines->isEmpty() ? -1 : lines->constLast().mid(6).trimmed().toInt(&ok);
            if (!ok)
                return fail(ErrorKind::Device, QStringLiteral("UnexpectedAnswer"),
                    tr("The modem's answer to AT+CFUN? makes no sense: \"%1\".")
                        .arg(QString::fromLatin1(lines->value(0))));
            return mode;
        });
}

QFuture<Result<void>> Nrf91Modem::setFunctionalMode(int mode)
{
    return query(AtCommand("AT+CFUN=" + QByteArray::number(mode)).timeout(functionalModeTimeoutMs),
        tr("Switching the modem to functional mode %1").arg(mode))
        .then([](Result<QList<QByteArray>> lines) -> Result<void> {
            if (!lines)
                return std::unexpected(lines.error());
            return {};
        });
}

QFuture<Result<int>> Nrf91Modem::enterOfflineMode()
{
    return functionalMode()
        .then(this,
            [this](Result<int> mode) -> QFuture<Result<int>> {
                if (!mode || allowsCredentialChanges(*mode))
                    return readyFuture(mode);
                const int previous = *mode;
                qCInfo(lcModem) << "switching the modem from functional mode" << previous << "to offline mode 4";
                return setFunctionalMode(4).then([previous](Result<void> set) -> Result<int> {
                    if (!set)
                        return std::unexpected(set.error());
                    return previous;
                });
            })
        .unwrap();
}

QFuture<Result<void>> Nrf91Modem::restoreFunctionalMode(int previous)
{
    if (allowsCredentialChanges(previous))
        return readyFuture(Result<void>());
    qCInfo(lcModem) << "restoring functional mode" << previous;
    return setFunctionalMode(previous);
}

} // namespace Onboarder
