#pragma once

#include "modemstate.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QObject>

#include <optional>

class QTimer;

namespace Onboarder::Sandbox {

struct SimulatorOptions
{
    enum class Terminator { Cr, Lf, CrLf, Nul };
    Terminator terminator = Terminator::Cr; // the AT host sample's default
    int maxCommandBytes = 4096; // CONFIG_AT_HOST_CMD_MAX_LEN: the buffer, NUL included
    int slowMs = 0; // wait before every answer (the host's input is ignored meanwhile)
    bool urcNoise = false; // unsolicited lines between the lines of every answer
    bool spacesAfterCommas = false; // "%CMNG: 42, 0, \"…\"" as in Nordic's doc examples
    bool blankLines = false; // blank lines around %CMNG list output (some at_client builds)
    bool reportSha = true; // false: firmware before 1.3.2, list lines without the hash
    int failWrite = 0; // the k-th %CMNG write (1-based) fails …
    int failWriteCode = 515; // … with this +CME ERROR code (≤ 0: a bare ERROR)
    qint64 storageBytes = 64 * 1024; // credential storage; beyond it writes answer 515
    int initialFunctionalMode = 1; // a device whose firmware brought LTE up
    bool powerOffWarning = false; // %XPOFWARN active: writes and deletes answer 528
    bool bannerInCgsn = false; // the AT host's start-up lines inside every AT+CGSN answer, after the IMEI

    // The network side, for the modem check: what the SIM, the network and the radio say once LTE is on.
    enum class Sim { Ready, Absent, Pin };
    Sim sim = Sim::Ready;
    enum class Network { Home, Roaming, Searching, Denied, NotSearching };
    Network network = Network::Home;
    int rejectCause = 15; // with Network::Denied: the EMM cause (15: no suitable cells in this area)
    int registrationDelayMs = 0; // searching this long after LTE comes on
    int rsrpDbm = -79;
    double rsrqDb = -8.0;
    qint64 clockOffsetSeconds = 0; // the modem's clock against the PC's
    bool ltem = true, nbiot = true, gnss = true; // %XSYSTEMMODE
    bool shell = false; // not an AT host: a Zephyr shell answers
    int stallWriteBytes = 0; // a %CMNG write's bytes past this, inside quotes, are lost (a USB bridge's
                             // overflow) until the line has been quiet for a second
};

// The protocol side of the simulated nRF9160 behind Nordic's AT host (sample "at_client"), per
// docs/nrf91-at.md: the byte-level command parser (terminator, quote toggling,
// BS/DEL, the buffer limit with its wedge inside quotes, input ignored while busy), +CMEE error
// reporting, the CFUN state machine, identity commands, %CMNG and %KEYGEN. It knows nothing of ports:
// bytes come in through receive(), answers leave through transmit().
class ModemSimulator final : public QObject
{
    Q_OBJECT

public:
    ModemSimulator(ModemState &state, const SimulatorOptions &options, QObject *parent = nullptr);
    ~ModemSimulator() override;

    void receive(const QByteArray &bytes);
    // One unsolicited line (+CEREG, %CESQ, %XSIM, …) now, between whole answers.
    void injectUnsolicited();

    int functionalMode() const { return m_cfun; }
    bool isWedged() const { return m_wedged; }
    int commandsExecuted() const { return m_executed; }

Q_SIGNALS:
    void transmit(const QByteArray &bytes);
    void problem(const QString &message); // e.g. the state file could not be written

private:
    struct Param
    {
        bool quoted = false;
        QByteArray text;
    };
    struct Reply
    {
        QList<QByteArray> lines;
        QByteArray final = QByteArrayLiteral("OK");
    };

    void receiveByte(char c);
    void execute(const QByteArray &command);
    Reply run(const QByteArray &command);
    Reply cfun(const QByteArray &rest);
    Reply network(const QByteArray &name, const QByteArray &rest);
    int registrationStat() const;
    void shellByte(char c);
    Reply cmng(const QList<Param> &params);
    Reply keygen(const QList<Param> &params);
    Reply error(int cmeCode) const;
    void send(const Reply &reply);
    QByteArray nextUnsolicited();
    QByteArray listLine(quint32 tag, int type, const SimCredential &credential) const;
    bool persist();

    static std::optional<QList<Param>> parseParams(const QByteArray &text);
    static std::optional<qint64> number(const QList<Param> &params, qsizetype index);

    ModemState &m_state;
    SimulatorOptions m_options;
    QByteArray m_buffer;
    bool m_inQuotes = false;
    bool m_wedged = false;
    bool m_busy = false;
    int m_cmee = 0;
    int m_cfun = 1; // what AT+CFUN? reports
    bool m_lte = false; // activated: writes, deletes and %KEYGEN answer 518
    bool m_gnss = false;
    bool m_uicc = false;
    int m_cereg = 0;
    int m_writes = 0;
    int m_executed = 0;
    int m_urc = 0;
    QTimer *m_slow = nullptr;
    Reply m_pending;
    QElapsedTimer m_lteOn; // since LTE came on
    qint64 m_clockSetOffset = 0; // AT+CCLK= moves the clock
    QByteArray m_shellLine;
    QElapsedTimer m_lastByte; // for stallWriteBytes
    bool m_dropping = false;
    bool m_stalled = false; // the command being read lost bytes already
};

} // namespace Onboarder::Sandbox
