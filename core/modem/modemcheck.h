#pragma once

#include "common/promise.h"
#include "common/result.h"
#include "modem/modemstatus.h"
#include "modem/nrf91modem.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QStringList>

#include <deque>
#include <functional>
#include <optional>

namespace Onboarder {

struct CredentialRecord;

struct ModemCheckOptions
{
    std::optional<quint32> secTag; // the tag the firmware connects with: its credentials are checked
    // LTE on (AT+CFUN=1) for the check when it is off, and the previous mode set again afterwards, also when the
    // check fails or is cancelled. Never done unless asked for: it changes what the modem does.
    bool switchLteOn = false;
    int registrationWaitMs = 60000; // how long a modem that is searching (or that the check switched on) is given
    int pollIntervalMs = 1000;
    QHash<QString, QString> knownHashes; // SHA-256 (upper-case hex) of %CMNG content → what it is
    qint64 clockToleranceSeconds = 24 * 3600; // beyond this the modem's clock makes certificates look invalid
};

// What a modem check found, and its verdict: will this modem reach the hub?
struct ModemCheckReport
{
    enum class Verdict {
        Ready, // registered, signal usable, credentials in place
        NoSim,
        SimLocked, // PIN or PUK needed
        NoLteMode, // %XSYSTEMMODE enables neither LTE-M nor NB-IoT
        MissingCredentials,
        ClockWrong,
        LteOff, // not in functional mode 1: the network side was not checked
        Denied,
        Searching,
        NotRegistered,
        WeakSignal, // registered, but the signal is poor
    };

    QString port;
    ModemIdentity identity;
    int functionalMode = -1; // as found
    bool lteSwitchedOn = false; // the check switched LTE on, and back to functionalMode afterwards
    ModemStatus::SimState sim = ModemStatus::SimState::Unknown;
    QString iccid;
    QString imsi;
    std::optional<ModemStatus::SystemMode> systemMode;
    std::optional<ModemStatus::Registration> registration;
    std::optional<ModemStatus::Signal> signal;
    std::optional<ModemStatus::Cell> cell;
    std::optional<QDateTime> modemClock; // UTC
    QDateTime pcClock; // UTC, when the modem's clock was read
    qint64 waitedForNetworkMs = 0;

    struct Credentials
    {
        bool checked = false;
        quint32 tag = 0;
        bool hashesListed = true; // firmware before 1.3.2 lists no hashes
        QString rootSha256, certificateSha256, keySha256; // empty: absent
        bool root = false, certificate = false, key = false;
        QString rootKnownAs, certificateKnownAs; // empty: not known to this computer
    } credentials;

    QStringList unanswered; // commands the modem refused, with why (older firmware lacks some)

    Verdict verdict = Verdict::NotRegistered;
    QString verdictText; // "will not connect: no SIM"
    QStringList evidence; // one sentence per finding, in the order of the check

    bool ready() const { return verdict == Verdict::Ready; }
    static QString verdictName(Verdict verdict); // stable, for JSON: "ready", "no-sim", …
    // Sets verdict, verdictText and evidence from the fields: the most basic problem decides.
    void judge(qint64 clockToleranceSeconds = 24 * 3600);
    QJsonObject toJson() const;
};

// Runs a modem check on an open modem: identity, functional and system mode, SIM, registration (waiting for
// the network when the check switched LTE on), signal, cell, clock and the credentials in a tag; then judges.
// A command the modem refuses is recorded and the check goes on; a modem that stops answering, a lost port or
// cancel() end it (the functional mode is restored first when the check changed it).
class ModemCheck final : public QObject
{
    Q_OBJECT

public:
    explicit ModemCheck(Nrf91Modem &modem, QObject *parent = nullptr);
    ~ModemCheck() override;

    QFuture<Result<ModemCheckReport>> run(const ModemCheckOptions &options);
    void cancel();

    // The roots Onboarder flashes, alone and in pairs as they share one entry, by the hash the modem lists.
    static QHash<QString, QString> knownRootHashes();
    // The device certificates of the credential inventory, by the hash of the content a flash writes.
    static QHash<QString, QString> knownCertificateHashes(const QList<CredentialRecord> &records);

Q_SIGNALS:
    void progress(const QString &step); // translated, e.g. "Reading the SIM"

private:
    using Lines = QList<QByteArray>;
    void step(const QString &title, std::function<void()> work);
    void next();
    void ask(const AtCommand &command, const QString &what, std::function<void(const Lines &)> onLines,
        std::function<void(const Error &)> onRefused = {});
    void waitForNetwork();
    void abort(const Error &error);
    void undoNext(QList<std::pair<QByteArray, QString>> undo, Error error);
    void finish();
    static QByteArray lastWith(const Lines &lines, const QByteArray &prefix);

    QPointer<Nrf91Modem> m_modem;
    ModemCheckOptions m_options;
    ModemCheckReport m_report;
    SharedPromise<ModemCheckReport> m_promise;
    std::deque<std::pair<QString, std::function<void()>>> m_steps;
    QElapsedTimer m_waited;
    int m_ceregMode = -1;
    bool m_ceregChanged = false; // AT+CEREG=5 was sent: the firmware's level is set back, also on abort
    bool m_modeChanged = false; // AT+CFUN=1 was sent (answered or not): the mode is set back, also on abort
    bool m_cancelled = false;
    bool m_running = false;
    bool m_ending = false; // abort() is putting things back: nothing else runs
};

} // namespace Onboarder
