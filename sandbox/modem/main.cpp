// onboarder-modem-sim: an nRF9160 behind Nordic's AT host on a pseudo-terminal, for tests, the demo
// and training (docs/cli.md, "Sandbox tools"; protocol: docs/nrf91-at.md).
#include "common/logging.h"
#include "modemsimulator.h"
#include "modemstate.h"
#include "pseudoterminal.h"
#include "quitonsignals.h"
#include "simulatortool.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonObject>
#include <QTimer>

#include <cstdio>

using namespace Onboarder;
using namespace Onboarder::Sandbox;

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(ModemSimulator)
};

int intOption(const QCommandLineParser &parser, const QString &name, int min, int max)
{
    return int(wholeNumberOption(parser, name, min, max));
}

SimulatorOptions::Terminator terminator(const QString &name)
{
    if (name == QStringLiteral("cr"))
        return SimulatorOptions::Terminator::Cr;
    if (name == QStringLiteral("lf"))
        return SimulatorOptions::Terminator::Lf;
    if (name == QStringLiteral("crlf"))
        return SimulatorOptions::Terminator::CrLf;
    if (name == QStringLiteral("nul"))
        return SimulatorOptions::Terminator::Nul;
    usageError(Text::tr("--terminator is cr, lf, crlf or nul."));
}

} // namespace

int main(int argc, char *argv[])
{
    endWithParent();
    QCoreApplication app(argc, argv);
    setUpSimulator(QStringLiteral("onboarder-modem-sim"));

    QCommandLineParser parser;
    parser.setApplicationDescription(Text::tr(
        "A simulated nRF9160 modem (Nordic's AT host firmware) on a pseudo-terminal: identity, functional modes, "
        "credential storage (%CMNG) and on-modem keys (%KEYGEN). Prints the terminal's path once ready."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({
        {QStringLiteral("state"), Text::tr("Keep the credential storage in this JSON file (default: in memory)."),
            QStringLiteral("FILE")},
        {QStringLiteral("link"), Text::tr("Also make this symbolic link to the terminal (removed on exit)."),
            QStringLiteral("PATH")},
        {QStringLiteral("baud"),
            Text::tr("Pace both directions at N baud, 10 bits a byte (0: unpaced; default 115200)."),
            QStringLiteral("N"), QStringLiteral("115200")},
        {QStringLiteral("urc-noise"),
            Text::tr("Unsolicited lines (+CEREG, %CESQ, %XSIM, …) between the lines of every answer "
                     "and every --urc-interval-ms.")},
        {QStringLiteral("urc-interval-ms"),
            Text::tr("With --urc-noise: one unsolicited line every N ms (default 400; 0: none)."), QStringLiteral("N"),
            QStringLiteral("400")},
        {QStringLiteral("slow-ms"), Text::tr("Wait N ms before every answer."), QStringLiteral("N"),
            QStringLiteral("0")},
        {QStringLiteral("drop-after-bytes"), Text::tr("Hang up the line (and end) once N bytes have come in."),
            QStringLiteral("N"), QStringLiteral("0")},
        {QStringLiteral("fail-write"),
            Text::tr("The K-th credential write fails with +CME ERROR: CODE (default 515; 0: a bare "
                     "ERROR)."),
            QStringLiteral("K[:CODE]")},
        {QStringLiteral("storage-bytes"),
            Text::tr("Credential storage size; beyond it writes fail with 515 (default 65536)."), QStringLiteral("N"),
            QStringLiteral("65536")},
        {QStringLiteral("imei"), Text::tr("The IMEI (15 digits)."), QStringLiteral("IMEI")},
        {QStringLiteral("model"), Text::tr("What AT+CGMM answers (default nRF9160-SICA)."), QStringLiteral("NAME")},
        {QStringLiteral("firmware"), Text::tr("What AT+CGMR answers (default mfw_nrf9160_1.3.5)."),
            QStringLiteral("VERSION")},
        {QStringLiteral("cfun"), Text::tr("Functional mode at start (default 1: LTE on)."), QStringLiteral("MODE"),
            QStringLiteral("1")},
        {QStringLiteral("terminator"), Text::tr("Command terminator: cr (default), lf, crlf or nul."),
            QStringLiteral("T"), QStringLiteral("cr")},
        {QStringLiteral("max-command-bytes"), Text::tr("The AT host's command buffer (default 4096)."),
            QStringLiteral("N"), QStringLiteral("4096")},
        {QStringLiteral("spaces"), Text::tr("List lines with spaces after the commas, as in Nordic's documentation.")},
        {QStringLiteral("blank-lines"), Text::tr("Blank lines around credential lists, as some AT host builds print.")},
        {QStringLiteral("no-sha"), Text::tr("List lines without the SHA-256 (firmware before 1.3.2).")},
        {QStringLiteral("power-off-warning"),
            Text::tr("A low-voltage warning is active: writes and deletes fail with 528.")},
        {QStringLiteral("banner-in-cgsn"),
            Text::tr("The AT host's start-up lines (\"Ready\") inside every AT+CGSN answer, after the "
                     "IMEI, as when the board was reset meanwhile.")},
        {QStringLiteral("sim"), Text::tr("The SIM: ready (default), none, or pin (locked by a PIN)."),
            QStringLiteral("STATE"), QStringLiteral("ready")},
        {QStringLiteral("network"),
            Text::tr("What the network does once LTE is on: home (default), roaming, searching, denied or "
                     "none (not searching)."),
            QStringLiteral("STATE"), QStringLiteral("home")},
        {QStringLiteral("reject-cause"), Text::tr("With --network denied: the EMM reject cause (default 15)."),
            QStringLiteral("N"), QStringLiteral("15")},
        {QStringLiteral("registration-delay-ms"),
            Text::tr("Search this long after LTE comes on before the network answers."), QStringLiteral("N"),
            QStringLiteral("0")},
        {QStringLiteral("rsrp"), Text::tr("The signal's RSRP in dBm (default -79)."), QStringLiteral("DBM"),
            QStringLiteral("-79")},
        {QStringLiteral("rsrq"), Text::tr("The signal's RSRQ in dB (default -8)."), QStringLiteral("DB"),
            QStringLiteral("-8")},
        {QStringLiteral("clock-offset"),
            Text::tr("The modem's clock runs this many seconds off the PC's (negative: behind)."),
            QStringLiteral("SECONDS"), QStringLiteral("0")},
        {QStringLiteral("system-mode"),
            Text::tr("The LTE modes enabled (%XSYSTEMMODE): any of ltem, nbiot, gnss, comma-separated, "
                     "or none (default ltem,nbiot,gnss)."),
            QStringLiteral("MODES"), QStringLiteral("ltem,nbiot,gnss")},
        {QStringLiteral("stall-write-bytes"),
            Text::tr("A credential write longer than N bytes loses its tail, as through a "
                     "USB bridge that overflows: no answer until the host pauses and ends "
                     "the command (0: off)."),
            QStringLiteral("N"), QStringLiteral("0")},
        {QStringLiteral("shell"),
            Text::tr("Be no AT host: a Zephyr shell prompt answers every line with \"command not found\".")},
        {QStringLiteral("ready-json"), Text::tr("Print one JSON line once ready: port, link, IMEI, baud, state file.")},
        {QStringLiteral("verbose"), Text::tr("Log every command and answer on standard error (keys redacted).")},
    });
    parser.process(app);

    SimulatorOptions options;
    options.slowMs = intOption(parser, QStringLiteral("slow-ms"), 0, 600000);
    options.urcNoise = parser.isSet(QStringLiteral("urc-noise"));
    options.storageBytes = intOption(parser, QStringLiteral("storage-bytes"), 0, 1 << 30);
    options.initialFunctionalMode = intOption(parser, QStringLiteral("cfun"), 0, 44);
    options.terminator = terminator(parser.value(QStringLiteral("terminator")));
    options.maxCommandBytes = intOption(parser, QStringLiteral("max-command-bytes"), 16, 1 << 20);
    options.spacesAfterCommas = parser.isSet(QStringLiteral("spaces"));
    options.blankLines = parser.isSet(QStringLiteral("blank-lines"));
    options.reportSha = !parser.isSet(QStringLiteral("no-sha"));
    options.powerOffWarning = parser.isSet(QStringLiteral("power-off-warning"));
    options.bannerInCgsn = parser.isSet(QStringLiteral("banner-in-cgsn"));
    const QString sim = parser.value(QStringLiteral("sim"));
    if (sim == QStringLiteral("ready"))
        options.sim = SimulatorOptions::Sim::Ready;
    else if (sim == QStringLiteral("none"))
        options.sim = SimulatorOptions::Sim::Absent;
    else if (sim == QStringLiteral("pin"))
        options.sim = SimulatorOptions::Sim::Pin;
    else
        usageError(Text::tr("--sim is ready, none or pin."));
    const QString network = parser.value(QStringLiteral("network"));
    static const QHash<QString, SimulatorOptions::Network> networks{
        {QStringLiteral("home"), SimulatorOptions::Network::Home},
        {QStringLiteral("roaming"), SimulatorOptions::Network::Roaming},
        {QStringLiteral("searching"), SimulatorOptions::Network::Searching},
        {QStringLiteral("denied"), SimulatorOptions::Network::Denied},
        {QStringLiteral("none"), SimulatorOptions::Network::NotSearching}};
    if (!networks.contains(network))
        usageError(Text::tr("--network is home, roaming, searching, denied or none."));
    options.network = networks.value(network);
    options.rejectCause = intOption(parser, QStringLiteral("reject-cause"), 0, 255);
    options.registrationDelayMs = intOption(parser, QStringLiteral("registration-delay-ms"), 0, 3600000);
    options.rsrpDbm = intOption(parser, QStringLiteral("rsrp"), -141, -44);
    bool rsrqOk = false;
    options.rsrqDb = parser.value(QStringLiteral("rsrq")).toDouble(&rsrqOk);
    if (!rsrqOk || options.rsrqDb < -20 || options.rsrqDb > -3)
        usageError(Text::tr("--rsrq is a number of dB from -20 to -3."));
    options.clockOffsetSeconds = wholeNumberOption(parser, QStringLiteral("clock-offset"), -(1LL << 40), 1LL << 40);
    const QStringList modes = parser.value(QStringLiteral("system-mode")).split(u',', Qt::SkipEmptyParts);
    for (const QString &mode : modes)
        if (mode != QStringLiteral("ltem") && mode != QStringLiteral("nbiot") && mode != QStringLiteral("gnss")
            && mode != QStringLiteral("none"))
            usageError(Text::tr("--system-mode takes ltem, nbiot, gnss or none."));
    options.ltem = modes.contains(QStringLiteral("ltem"));
    options.nbiot = modes.contains(QStringLiteral("nbiot"));
    options.gnss = modes.contains(QStringLiteral("gnss"));
    options.shell = parser.isSet(QStringLiteral("shell"));
    options.stallWriteBytes = intOption(parser, QStringLiteral("stall-write-bytes"), 0, 1 << 30);
    if (parser.isSet(QStringLiteral("fail-write"))) {
        const QStringList parts = parser.value(QStringLiteral("fail-write")).split(u':');
        bool kOk = false, codeOk = true;
        options.failWrite = parts.at(0).toInt(&kOk);
        if (parts.size() > 1)
            options.failWriteCode = parts.at(1).toInt(&codeOk);
        if (!kOk || !codeOk || options.failWrite < 1 || parts.size() > 2)
            usageError(Text::tr("--fail-write takes K or K:CODE, K from 1."));
    }
    PseudoTerminal::Options line;
    line.baud = intOption(parser, QStringLiteral("baud"), 0, 10000000);
    line.dropAfterBytes = intOption(parser, QStringLiteral("drop-after-bytes"), 0, 1 << 30);
    const int urcInterval = intOption(parser, QStringLiteral("urc-interval-ms"), 0, 3600000);

    ModemState state;
    QString problem;
    if (!state.load(parser.value(QStringLiteral("state")), &problem))
        usageError(problem);
    if (parser.isSet(QStringLiteral("imei"))) {
        state.imei = parser.value(QStringLiteral("imei"));
        if (state.imei.size() != 15
            || !std::all_of(state.imei.cbegin(), state.imei.cend(), [](QChar c) { return c.isDigit(); }))
            usageError(Text::tr("An IMEI has 15 digits."));
    }
    if (parser.isSet(QStringLiteral("model")))
        state.model = parser.value(QStringLiteral("model"));
    if (parser.isSet(QStringLiteral("firmware")))
        state.firmware = parser.value(QStringLiteral("firmware"));
    if (!state.save(&problem))
        usageError(problem);

    quitOnSignals(app);
    PseudoTerminal terminal(line);
    if (!terminal.open(&problem)) {
        std::fprintf(stderr, "error: %s\n", qPrintable(problem));
        return 10;
    }
    ModemSimulator modem(state, options);
    const bool verbose = parser.isSet(QStringLiteral("verbose"));
    QObject::connect(&terminal, &PseudoTerminal::received, &modem, [&modem, verbose](const QByteArray &bytes) {
        if (verbose)
            std::fprintf(stderr, "> %s\n", qPrintable(redacted(QString::fromLatin1(bytes))));
        modem.receive(bytes);
    });
    QObject::connect(&modem, &ModemSimulator::transmit, &terminal, [&terminal, verbose](const QByteArray &bytes) {
        if (verbose)
            std::fprintf(stderr, "< %s", qPrintable(QString::fromLatin1(bytes)));
        terminal.write(bytes);
    });
    QObject::connect(&modem, &ModemSimulator::problem, &app,
        [](const QString &message) { std::fprintf(stderr, "warning: %s\n", qPrintable(message)); });
    QObject::connect(&terminal, &PseudoTerminal::droppedLine, &app, [&terminal] {
        std::fprintf(
            stderr, "onboarder-modem-sim: line dropped after %lld bytes, as asked\n", terminal.bytesReceived());
        QCoreApplication::quit();
    });
    QTimer noise;
    if (options.urcNoise && urcInterval > 0) {
        QObject::connect(&noise, &QTimer::timeout, &modem, &ModemSimulator::injectUnsolicited);
        noise.start(urcInterval);
    }

    const QString link = parser.value(QStringLiteral("link"));
    if (!link.isEmpty()) {
        if (QFileInfo(link).isSymLink())
            QFile::remove(link);
        if (!QFile::link(terminal.slavePath(), link)) {
            std::fprintf(stderr, "error: cannot make the link %s\n", qPrintable(link));
            return 10;
        }
    }

    if (parser.isSet(QStringLiteral("ready-json"))) {
        const QJsonObject ready{{QStringLiteral("port"), terminal.slavePath()}, {QStringLiteral("link"), link},
            {QStringLiteral("imei"), state.imei}, {QStringLiteral("model"), state.model},
            {QStringLiteral("baud"), line.baud}, {QStringLiteral("stateFile"), state.path()},
            {QStringLiteral("pid"), qint64(QCoreApplication::applicationPid())}};
        printReadyJson(ready);
    } else {
        std::printf("%s\n", qPrintable(terminal.slavePath()));
        std::fflush(stdout);
    }
    const int code = app.exec();
    if (!link.isEmpty() && QFileInfo(link).isSymLink())
        QFile::remove(link);
    return code;
}
