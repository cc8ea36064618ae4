#include "hubsession.h"

#include "common/settings.h"
#include "hub/hubclient.h"
#include "hub/hubstore.h"

namespace Onboarder {

HubSession::HubSession(HubStore &hubs, Settings &settings, QObject *parent)
    : QObject(parent)
    , m_hubs(hubs)
    , m_settings(settings)
{
    connect(&m_settings, &Settings::changed, this, &HubSession::followCurrentHub);
    connect(&m_hubs, &HubStore::hubsChanged, this, &HubSession::followCurrentHub);
    reopen();
}

HubSession::~HubSession() = default;

void HubSession::followCurrentHub()
{
    const auto hub = m_hubs.find(m_settings.currentHub());
    if (!hub && m_state == State::NoHub)
        return;
    if (hub && m_state != State::NoHub && *hub == m_profile)
        return; // the same hub: keep its client
    reopen();
}

void HubSession::reopen()
{
    const quint64 generation = ++m_generation;
    m_error.clear();
    replaceClient(nullptr);
    const auto hub = m_hubs.find(m_settings.currentHub());
    if (!hub) {
        m_profile = {};
        setState(State::NoHub);
        return;
    }
    m_profile = *hub;
    setState(State::Opening);
    m_hubs.connectionString(hub->name).then(this, [this, generation](Result<ConnectionString> connection) {
        if (generation != m_generation)
            return;
        if (!connection) {
            m_error = connection.error().message;
            setState(State::Failed);
            return;
        }
        replaceClient(std::make_unique<HubClient>(m_profile, *connection));
        setState(State::Ready);
    });
}

void HubSession::setState(State state)
{
    if (state == m_state && state != State::Failed)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void HubSession::replaceClient(std::unique_ptr<HubClient> client)
{
    if (!client && !m_client)
        return;
    std::unique_ptr<HubClient> old = std::exchange(m_client, std::move(client));
    Q_EMIT clientChanged(m_client.get());
    if (old) {
        old->cancelAll();
        old.release()->deleteLater(); // callbacks of its cancelled requests may still be queued
    }
}

} // namespace Onboarder
