#pragma once

#include <QMainWindow>

class QListWidget;
class QStackedWidget;

namespace Onboarder {

class CredentialStore;
class DevicesPage;
class HubSession;
class HubStore;
class DpsPage;
class DpsStore;
class HubsPage;
class ModemPage;
class RelayPage;
class TelemetryPage;
class StationPage;
class SecretStore;
class Settings;

// The main window: a list of pages on the left, the chosen page on the right.
class MainWindow final : public QMainWindow
{
    Q_OBJECT

public:
    MainWindow(Settings &settings, HubStore &hubs, HubSession &session, CredentialStore &credentials,
        SecretStore &secrets, QWidget *parent = nullptr);

    HubsPage *hubsPage() const { return m_hubsPage; }
    DevicesPage *devicesPage() const { return m_devicesPage; }
    ModemPage *modemPage() const { return m_modemPage; }
    RelayPage *relayPage() const { return m_relayPage; }
    TelemetryPage *telemetryPage() const { return m_telemetryPage; }
    StationPage *stationPage() const { return m_stationPage; }
    DpsPage *dpsPage() const { return m_dpsPage; }
    void showPage(QWidget *page);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void addPage(QWidget *page, const QString &title, const QIcon &icon);
    void createMenus();
    void updateTitle();
    void showAbout();

    Settings &m_settings;
    HubStore &m_hubs;
    QListWidget *m_navigation;
    QStackedWidget *m_pages;
    HubsPage *m_hubsPage;
    DevicesPage *m_devicesPage;
    ModemPage *m_modemPage;
    RelayPage *m_relayPage;
    TelemetryPage *m_telemetryPage;
    DpsStore *m_dpsStore;
    StationPage *m_stationPage;
    DpsPage *m_dpsPage;
    bool m_closingAfterRelay = false;
};

} // namespace Onboarder
