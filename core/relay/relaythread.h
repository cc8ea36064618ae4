#pragma once

#include "common/result.h"
#include "common/secretbytes.h"
#include "hub/connectionstring.h"
#include "hub/hubprofile.h"
#include "relay/relayconfig.h"
#include "relay/relaymetrics.h"

#include <QObject>
#include <QThread>

namespace Onboarder {

class CredentialStore;
class Relay;

// The relay on a thread of its own (the GUI's Relay page and `onboarder-cli relay run`), whose event loop
// is an EpollEventDispatcher (a thousand device sessions: a pass costs what is ready). Nothing here waits for the
// worker, except the destructor, which stops a relay that still runs (what was taken is stored and acknowledged;
// the local broker keeps the rest) and ends the thread. For a clean shutdown without that short wait, stop() first
// and wait for stopped().
//
// Threads: use it from its owner's thread, where all its signals are emitted. The Relay, its MQTT clients, its
// outbox (SQLite commits) and its timers all live on the worker thread; the owner's thread only posts start and
// stop and receives the relay's signals queued.
class RelayThread final : public QObject
{
    Q_OBJECT

public:
    enum class State { Stopped, Starting, Running, Stopping };
    Q_ENUM(State)

    explicit RelayThread(QObject *parent = nullptr);
    ~RelayThread() override;

    // Creates the relay on the worker thread and starts it: started() or startFailed(). The credential
    // store (X.509 devices) stays on its own thread; the relay posts its requests there. Ignored unless
    // stopped.
    // The source broker's password is taken to the worker thread and wiped there once the relay has it.
    void start(const RelayConfig &config, const HubProfile &profile, const ConnectionString &service,
        CredentialStore *store, SecretBytes sourcePassword);
    // Relay::stop(drainMs) on the worker thread, then stopped().
    void stop(int drainMs = 5000);

    State state() const { return m_state; }
    const QThread *workerThread() const { return &m_thread; }
    // True while a relay runs or stops (it still holds its sessions and outbox).
    bool isActive() const { return m_state == State::Running || m_state == State::Stopping; }

Q_SIGNALS:
    void started();
    void startFailed(const Onboarder::Error &error);
    void metricsUpdated(const Onboarder::RelayMetrics &metrics);
    void errorOccurred(const Onboarder::Error &error);
    void stopped();

private:
    QThread m_thread;
    QObject *m_anchor; // lives on m_thread; the relay is its child
    Relay *m_relay
        = nullptr; // while running; the pointer is kept on the owner's thread, the relay used on m_thread only
    State m_state = State::Stopped;
};

} // namespace Onboarder
