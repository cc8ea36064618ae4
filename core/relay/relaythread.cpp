#include "relay/relaythread.h"

#include "common/epolleventdispatcher.h"
#include "relay/relay.h"

#include <memory>

namespace Onboarder {

RelayThread::RelayThread(QObject *parent)
    : QObject(parent)
    , m_anchor(new QObject)
{
    m_thread.setObjectName(QStringLiteral("relay"));
    m_anchor->moveToThread(&m_thread);
}

RelayThread::~RelayThread()
{
    if (m_thread.isRunning()) {
        // Posted after any start: it finds the relay that start created, running or not.
        QMetaObject::invokeMethod(
            m_anchor,
            [anchor = m_anchor] {
                for (Relay *relay : anchor->findChildren<Relay *>(Qt::FindDirectChildrenOnly)) {
                    if (relay->isRunning())
                        relay->stop(0); // stores and acknowledges what was taken, leaves the broker's session
                    delete relay;
                }
            },
            Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }
    delete m_anchor;
}

void RelayThread::start(const RelayConfig &config, const HubProfile &profile, const ConnectionString &service,
    CredentialStore *store, SecretBytes sourcePassword)
{
    if (m_state != State::Stopped)
        return;
    m_state = State::Starting;
    if (!m_thread.isRunning()) {
        // A thousand device sessions on one thread: a pass of its event loop must cost what is ready, not
        // what is registered (see EpollEventDispatcher). Keychain calls stay on the store's thread. Given
        // to the thread only as it starts: a thread deletes its dispatcher when it finishes, and one that
        // never ran (a Relay page never used) would never free it.
        auto dispatcher = std::make_unique<EpollEventDispatcher>();
        if (dispatcher->isValid())
            m_thread.setEventDispatcher(dispatcher.release());
        m_thread.start();
    }
    QMetaObject::invokeMethod(m_anchor,
        [this, anchor = m_anchor, config, profile, service, store, password = std::move(sourcePassword)]() mutable {
            auto *relay = new Relay(config, profile, service, store, anchor);
            // Queued to the owner's thread (this object lives there).
            connect(relay, &Relay::metricsUpdated, this, &RelayThread::metricsUpdated);
            connect(relay, &Relay::errorOccurred, this, &RelayThread::errorOccurred);
            connect(relay, &Relay::stopped, this, [this, relay] {
                if (m_relay != relay)
                    return;
                m_relay = nullptr;
                m_state = State::Stopped;
                relay->deleteLater(); // on its thread, after its own signal has returned
                Q_EMIT stopped();
            });
            const Result<void> outcome = relay->start(password);
            password.clear();
            if (!outcome) {
                delete relay;
                QMetaObject::invokeMethod(this, [this, error = outcome.error()] {
                    m_state = State::Stopped;
                    Q_EMIT startFailed(error);
                });
                return;
            }
            QMetaObject::invokeMethod(this, [this, relay] {
                m_relay = relay;
                m_state = State::Running;
                Q_EMIT started();
            });
        });
}

void RelayThread::stop(int drainMs)
{
    if (m_state != State::Running || !m_relay)
        return;
    m_state = State::Stopping;
    QMetaObject::invokeMethod(m_relay, [relay = m_relay, drainMs] { relay->stop(drainMs); });
}

} // namespace Onboarder
