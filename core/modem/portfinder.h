#pragma once

#include "common/result.h"
#include "modem/seriallink.h"

#include <QFuture>
#include <QList>
#include <QObject>
#include <QStringList>

class QTimer;

namespace Onboarder {

// A serial port as the port finder sees it.
struct ModemPort
{
    enum class Role {
        At, // the board's AT port (by the board's port layout, or proven by probing)
        Other, // another port of a known board (trace, board controller)
        Unknown, // not a known nRF91 board, or an explicit path: may or may not be a modem
    };

    QString path; // /dev/ttyACM0
    QString board; // "nRF9160 DK", "Thingy:91", …; empty when not a known Nordic board
    QString description; // the USB product string
    QString serialNumber; // groups the ports of one board
    quint16 vendorId = 0;
    quint16 productId = 0;
    int index = 0; // position among its board's ports
    Role role = Role::Unknown;
    bool probed = false; // role proven by an AT probe
    bool extra = false; // given explicitly (ONBOARDER_EXTRA_PORTS or settings), not enumerated

    static QString roleName(Role role); // "at", "other", "unknown"
    friend bool operator==(const ModemPort &, const ModemPort &) = default;
};

// Finds nRF91 modems on USB serial ports: QSerialPortInfo with the USB vendor/product ids and serial
// number patterns of the nRF9160 DK, nRF9161/9151 DKs, nRF9131 EK, Thingy:91 and Thingy:91 X
// (docs/nrf91-at.md §7); the AT port of a board with several ports by its layout
// (index 0, CDC 0), confirmed by probing with AT on request. Other serial ports are listed too. Paths
// that are no USB device (the simulator's pseudo-terminal, a serial-over-network bridge) come from
// ONBOARDER_EXTRA_PORTS (paths separated by ':') and setExtraPorts(). Watching polls, so that ports
// appear and vanish as boards are plugged in and out.
class PortFinder final : public QObject
{
    Q_OBJECT

public:
    explicit PortFinder(QObject *parent = nullptr);
    ~PortFinder() override;

    void setExtraPorts(const QStringList &paths);
    QStringList extraPorts() const; // the environment's and the set ones

    QList<ModemPort> scan(); // enumerates now (also updates ports())
    QList<ModemPort> ports() const { return m_ports; }

    void startWatching(int intervalMs = 1000);
    void stopWatching();

    // Probes the ports of one board (same serial number) in order, the likely AT port first, with "AT";
    // the first that answers OK is the AT port. Ports in use by others are skipped.
    QFuture<Result<ModemPort>> probe(const QList<ModemPort> &boardPorts, const SerialSettings &settings = {});
    // The port to use: the AT port of the only board, else the only extra port, else an error that says
    // what there is.
    static Result<ModemPort> choose(const QList<ModemPort> &ports);

    static constexpr const char *extraPortsVariable = "ONBOARDER_EXTRA_PORTS";

Q_SIGNALS:
    void portsChanged(const QList<Onboarder::ModemPort> &ports);

private:
    void probeNext(const std::shared_ptr<struct ProbeState> &state);

    QStringList m_extra;
    QList<ModemPort> m_ports;
    QTimer *m_timer = nullptr;
};

} // namespace Onboarder
