#include "portfinder.h"

#include "common/promise.h"
#include "modem/nrf91modem.h"

#include <QCollator>
#include <QFileInfo>
#include <QSerialPortInfo>
#include <QTimer>

namespace Onboarder {

namespace {

struct KnownBoard
{
    quint16 vendorId;
    quint16 productId; // 0: any
    const char *serialContains; // nullptr: any
    const char *name;
    int atIndex; // which of the board's ports (sorted) is the nRF91's AT port
};

// docs/nrf91-at.md §7. Nordic's tools identify the J-Link kits by serial number.
constexpr KnownBoard knownBoards[] = {
    {0x1915, 0x9100, nullptr, "Thingy:91", 0},
    {0x1915, 0x910A, nullptr, "Thingy:91 X", 0},
    {0x1915, 0, "THINGY91X", "Thingy:91 X", 0},
    {0x1915, 0, "THINGY91", "Thingy:91", 0},
    {0x1915, 0, "PCA20035", "Thingy:91", 0},
    {0x1366, 0, "0009600", "nRF9160 DK", 0},
    {0x1366, 0, "0010509", "nRF9161 DK", 0},
    {0x1366, 0, "0010512", "nRF9151 DK", 0},
    {0x1366, 0, "0010520", "nRF9151 DK", 0},
    {0x1366, 0, "0010510", "nRF9131 EK", 0},
    {0x1366, 0, "0010550", "Thingy:91 X", 0},
    {0x1366, 0, "0010551", "Thingy:91 X", 0},
    {0x1366, 0, "0010513", "Thingy:91 X", 0},
    {0x1366, 0, "00105", "Nordic kit", 0},
};

const KnownBoard *boardFor(const QSerialPortInfo &info)
{
    if (!info.hasVendorIdentifier())
        return nullptr;
    const QString serial = info.serialNumber().toUpper();
    for (const KnownBoard &board : knownBoards) {
        if (board.vendorId == info.vendorIdentifier()
            && (board.productId == 0 || (info.hasProductIdentifier() && board.productId == info.productIdentifier()))
            && (!board.serialContains || serial.contains(QLatin1String(board.serialContains))))
            return &board;
    }
    return nullptr;
}

bool naturalLess(const QString &a, const QString &b)
{
    static const QCollator collator = [] {
        QCollator c;
        c.setNumericMode(true);
        return c;
    }();
    return collator.compare(a, b) < 0;
}

} // namespace

struct ProbeState
{
    QList<ModemPort> ports;
    qsizetype next = 0;
    SerialSettings settings;
    SharedPromise<ModemPort> promise;
    std::unique_ptr<Nrf91Modem> modem;
};

QString ModemPort::roleName(Role role)
{
    switch (role) {
    case Role::At: return QStringLiteral("at");
    case Role::Other: return QStringLiteral("other");
    case Role::Unknown: return QStringLiteral("unknown");
    }
    return {};
}

PortFinder::PortFinder(QObject *parent)
    : QObject(parent)
    , m_timer(new QTimer(this))
{
    connect(m_timer, &QTimer::timeout, this, &PortFinder::scan);
}

PortFinder::~PortFinder() = default;

void PortFinder::setExtraPorts(const QStringList &paths)
{
    m_extra = paths;
}

QStringList PortFinder::extraPorts() const
{
    QStringList paths = qEnvironmentVariable(extraPortsVariable).split(u':', Qt::SkipEmptyParts);
    for (const QString &path : m_extra) {
        if (!paths.contains(path))
            paths.append(path);
    }
    return paths;
}

QList<ModemPort> PortFinder::scan()
{
    QList<ModemPort> boards;
    QList<ModemPort> others;
    const QList<QSerialPortInfo> infos = QSerialPortInfo::availablePorts();
    for (const QSerialPortInfo &info : infos) {
        // The PC's own legacy UARTs (ttyS*) are listed whether a socket is fitted or not.
        if (!info.hasVendorIdentifier() && info.portName().startsWith(QStringLiteral("ttyS")))
            continue;
        ModemPort port;
        port.path = info.systemLocation();
        port.description = info.description();
        port.serialNumber = info.serialNumber();
        port.vendorId = info.vendorIdentifier();
        port.productId = info.productIdentifier();
        if (const KnownBoard *board = boardFor(info)) {
            port.board = QString::fromLatin1(board->name);
            boards.append(port);
        } else {
            others.append(port);
        }
    }
    // The ports of one board, in the order Nordic's tools count them.
    std::sort(boards.begin(), boards.end(), [](const ModemPort &a, const ModemPort &b) {
        return a.serialNumber != b.serialNumber ? a.serialNumber < b.serialNumber : naturalLess(a.path, b.path);
    });
    for (qsizetype i = 0; i < boards.size(); ++i) {
        ModemPort &port = boards[i];
        port.index = i > 0 && boards.at(i - 1).serialNumber == port.serialNumber ? boards.at(i - 1).index + 1 : 0;
        port.role = port.index == 0 ? ModemPort::Role::At : ModemPort::Role::Other;
    }
    QList<ModemPort> found = boards;
    const auto known = [&found](const QString &path) {
        const QString canonical = QFileInfo(path).canonicalFilePath();
        return std::any_of(found.cbegin(), found.cend(),
            [&canonical](const ModemPort &p) { return QFileInfo(p.path).canonicalFilePath() == canonical; });
    };
    for (const QString &path : extraPorts()) {
        if (!QFileInfo::exists(path) || known(path))
            continue;
        ModemPort port;
        port.path = path;
        port.description = tr("given in %1").arg(QLatin1String(extraPortsVariable));
        port.extra = true;
        found.append(port);
    }
    std::sort(others.begin(), others.end(),
        [](const ModemPort &a, const ModemPort &b) { return naturalLess(a.path, b.path); });
    for (const ModemPort &port : std::as_const(others)) {
        if (!known(port.path))
            found.append(port);
    }
    // What probing proved stays known while the port stays.
    for (ModemPort &port : found) {
        const auto before = std::find_if(m_ports.cbegin(), m_ports.cend(), [&port](const ModemPort &p) {
            return p.path == port.path && p.serialNumber == port.serialNumber && p.probed;
        });
        if (before != m_ports.cend()) {
            port.role = before->role;
            port.probed = true;
        }
    }
    if (found != m_ports) {
        m_ports = found;
        Q_EMIT portsChanged(m_ports);
    }
    return m_ports;
}

void PortFinder::startWatching(int intervalMs)
{
    scan();
    m_timer->start(intervalMs);
}

void PortFinder::stopWatching()
{
    m_timer->stop();
}

QFuture<Result<ModemPort>> PortFinder::probe(const QList<ModemPort> &boardPorts, const SerialSettings &settings)
{
    auto state = std::make_shared<ProbeState>();
    state->ports = boardPorts;
    std::stable_sort(state->ports.begin(), state->ports.end(), [](const ModemPort &a, const ModemPort &b) {
        return a.role == ModemPort::Role::At && b.role != ModemPort::Role::At;
    });
    state->settings = settings;
    state->promise = startedPromise<ModemPort>();
    state->modem = std::make_unique<Nrf91Modem>();
    probeNext(state);
    return state->promise->future();
}

void PortFinder::probeNext(const std::shared_ptr<ProbeState> &state)
{
    if (state->next >= state->ports.size()) {
        QStringList paths;
        for (const ModemPort &port : std::as_const(state->ports))
            paths.append(port.path);
        return deliver<ModemPort>(state->promise,
            fail(ErrorKind::Device, QStringLiteral("NoAtPort"),
                tr("None of the ports %1 answered AT.").arg(paths.join(QStringLiteral(", ")))));
    }
    const ModemPort candidate = state->ports.at(state->next++);
    state->modem->open(candidate.path, state->settings, {100, 1, 700})
        .then(this, [this, state, candidate](Result<void> opened) {
            state->modem->close();
            if (!opened)
                return probeNext(state);
            ModemPort port = candidate;
            port.role = ModemPort::Role::At;
            port.probed = true;
            for (ModemPort &known : m_ports) {
                const bool sameBoard = !port.serialNumber.isEmpty() && known.serialNumber == port.serialNumber;
                if (known.path != port.path && !sameBoard)
                    continue;
                known.role = known.path == port.path ? ModemPort::Role::At : ModemPort::Role::Other;
                known.probed = true;
            }
            deliver<ModemPort>(state->promise, Result<ModemPort>(port));
        });
}

Result<ModemPort> PortFinder::choose(const QList<ModemPort> &ports)
{
    QList<ModemPort> candidates;
    for (const ModemPort &port : ports) {
        if (port.role == ModemPort::Role::At)
            candidates.append(port);
    }
    if (candidates.isEmpty()) {
        for (const ModemPort &port : ports) {
            if (port.extra)
                candidates.append(port);
        }
    }
    if (candidates.size() == 1)
        return candidates.first();
    if (candidates.isEmpty())
        return fail(ErrorKind::NotFound, QStringLiteral("NoModem"),
            tr("No nRF91 board was found on USB. Plug it in (and switch it on), or name its port with --port; a port "
               "that is no USB device (the simulator's) can be listed in %1.")
                .arg(QLatin1String(extraPortsVariable)));
    QStringList paths;
    for (const ModemPort &port : std::as_const(candidates))
        paths.append(port.path);
    return fail(ErrorKind::InvalidInput, QStringLiteral("SeveralModems"),
        tr("There are several modems (%1); say which with --port.").arg(paths.join(QStringLiteral(", "))));
}

} // namespace Onboarder
