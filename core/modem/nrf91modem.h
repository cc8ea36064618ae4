#pragma once

#include "common/result.h"
#include "modem/atchannel.h"
#include "modem/seriallink.h"

#include <QFuture>
#include <QObject>

#include <memory>

namespace Onboarder {

struct ModemIdentity
{
    QString imei;
    QString manufacturer;
    QString model;
    QString firmware; // "mfw_nrf9160_1.3.5"
    QString modemUuid; // %XMODEMUUID, the firmware build's UUID; empty where the firmware lacks it
};

// How Nrf91Modem::open() makes sure an AT host answers.
struct ModemOpenOptions
{
    int settleMs = 200; // after a bare line end, before the input is flushed
    int probeTries = 3;
    int probeTimeoutMs = 2000;
};

// An nRF91 modem on a serial AT port: opening (with the resynchronisation nrfcredstore does: a bare line
// end, a pause, flushing, then AT probes), numeric error reports (AT+CMEE=1), identity, and the
// functional mode (CFUN) with the switch to offline mode that credential work needs and its restore.
//
// Threads: one thread, the one it was created in (its SerialLink is a member, not a child: it cannot be moved),
// where its AtChannel is made (open()) and its signals are emitted.
class Nrf91Modem final : public QObject
{
    Q_OBJECT

public:
    explicit Nrf91Modem(QObject *parent = nullptr);
    ~Nrf91Modem() override;

    QFuture<Result<void>> open(
        const QString &path, const SerialSettings &settings = {}, const ModemOpenOptions &options = {});
    void close();
    bool isOpen() const { return m_channel && !m_channel->isFailed(); }
    QString portPath() const { return m_link.path(); }
    AtChannel *channel() { return m_channel.get(); } // null until open

    // A command whose answer must end in OK: its information lines, or the modem's refusal as an Error
    // whose sentence starts with what.
    QFuture<Result<QList<QByteArray>>> query(const AtCommand &command, const QString &what);

    QFuture<Result<ModemIdentity>> identity();
    QFuture<Result<int>> functionalMode();
    QFuture<Result<void>> setFunctionalMode(int mode);
    // Credential changes need the modem deactivated: switches it to flight mode (4) unless it is in 0 or 4,
    // and gives the mode it was in, for restoreFunctionalMode().
    QFuture<Result<int>> enterOfflineMode();
    QFuture<Result<void>> restoreFunctionalMode(int previous);
    static bool allowsCredentialChanges(int mode) { return mode == 0 || mode == 4; }

    // Cancels every command queued and in flight.
    void cancel();

    // After a command got no answer (a long credential write whose tail a board's USB bridge lost): brings the AT
    // host back to a state where it answers, without storing what it received of the lost command. Tries a line end,
    // then a closing quote with surplus parameters; each followed by a pause, a flush and an AT probe. Fails with
    // ModemUnresponsive when neither helps.
    QFuture<Result<void>> resynchronise();

    static constexpr int functionalModeTimeoutMs = 15000;

Q_SIGNALS:
    void unsolicited(const QByteArray &line);
    void lost(const Onboarder::Error &error);

private:
    void probe(const SharedPromise<void> &promise, int triesLeft, const ModemOpenOptions &options);
    void resyncStep(const SharedPromise<void> &promise, int step);

    SerialLink m_link;
    std::unique_ptr<AtChannel> m_channel;
};

} // namespace Onboarder
