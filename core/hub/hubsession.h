#pragma once

#include "hub/hubprofile.h"

#include <QObject>

#include <memory>

namespace Onboarder {

class HubClient;
class HubStore;
class Settings;

// The service client of the current hub, for the pages that work on "the hub": follows the current
// hub in the settings, reads its connection string from the keychain (asynchronously) and keeps one
// HubClient for it. The client is replaced, never changed, when the current hub changes; holders of
// the old pointer learn it through clientChanged(), emitted before the old client is deleted later.
class HubSession final : public QObject
{
    Q_OBJECT

public:
    enum class State { NoHub, Opening, Ready, Failed };
    Q_ENUM(State)

    HubSession(HubStore &hubs, Settings &settings, QObject *parent = nullptr);
    ~HubSession() override;

    State state() const { return m_state; }
    HubClient *client() const { return m_client.get(); } // null unless Ready
    const HubProfile &profile() const { return m_profile; }
    HubStore &hubs() const { return m_hubs; } // where the current hub's connection string is kept
    QString errorMessage() const { return m_error; } // when Failed

public Q_SLOTS:
    // Opens the current hub again (after the keychain was locked, or the hub was re-added).
    void reopen();

Q_SIGNALS:
    void stateChanged(Onboarder::HubSession::State state);
    void clientChanged(Onboarder::HubClient *client);

private:
    void followCurrentHub();
    void setState(State state);
    void replaceClient(std::unique_ptr<HubClient> client);

    HubStore &m_hubs;
    Settings &m_settings;
    HubProfile m_profile;
    std::unique_ptr<HubClient> m_client;
    State m_state = State::NoHub;
    QString m_error;
    quint64 m_generation = 0; // a keychain answer for an older request is dropped
};

} // namespace Onboarder
