#pragma once

#include "modem/azureflashjob.h"
#include "modem/portfinder.h"

#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QListWidget;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTabWidget;

namespace Onboarder {

class AtTerminalView;
class CredentialStore;
class ModemCheckView;
class HubSession;
class ModemCredentialStore;
class Nrf91Modem;

// The nRF91 modem on a serial port: the ports (refreshed as boards come and go), the modem's identity
// and functional mode, the credentials stored in its security tags (tag, type, SHA-256), writing one
// from a file, deleting one, and flashing a hub device's Azure credentials with progress and cancel.
class ModemPage final : public QWidget
{
    Q_OBJECT

public:
    ModemPage(HubSession &session, CredentialStore &credentials, QWidget *parent = nullptr);
    ~ModemPage() override;

    // For tests.
    PortFinder *portFinder() const { return m_finder; }
    QListWidget *portList() const { return m_ports; }
    QTableWidget *credentialTable() const { return m_table; }
    QLabel *identityLabel() const { return m_identity; }
    QLabel *statusLabel() const { return m_status; }
    QComboBox *flashDevice() const { return m_flashDevice; }
    QSpinBox *flashTag() const { return m_flashTag; }
    QSpinBox *flashSecondaryTag() const { return m_flashSecondary; }
    QPushButton *flashButton() const { return m_flash; }
    bool isBusy() const { return m_busy || m_sideBusy; }
    QTabWidget *tabs() const { return m_tabs; }
    ModemCheckView *checkView() const { return m_checkView; }
    AtTerminalView *terminal() const { return m_terminal; }
    bool isConnected() const;
    std::optional<FlashReport> lastFlash() const { return m_lastFlash; }

public Q_SLOTS:
    void connectToPort(const QString &path);
    void disconnectModem();
    void refreshCredentials();
    void writeFromFile(quint32 tag, int type, const QString &path);
    void deleteSelected();
    void flashAzure();

Q_SIGNALS:
    void statusMessage(const QString &message);

private:
    void showPorts(const QList<ModemPort> &ports);
    void showIdentity();
    void updateState();
    void updateFlashDevices();
    void setBusy(bool busy, const QString &status = {});
    void fail(const QString &message);
    void chooseFileAndWrite();

    HubSession &m_session;
    CredentialStore &m_credentials;
    PortFinder *m_finder;
    std::unique_ptr<Nrf91Modem> m_modem;
    std::unique_ptr<ModemCredentialStore> m_store;
    AzureFlashJob *m_job = nullptr;
    std::optional<FlashReport> m_lastFlash;
    bool m_busy = false;

    QListWidget *m_ports;
    QPushButton *m_connect;
    QLabel *m_identity;
    QLabel *m_status;
    QTableWidget *m_table;
    QPushButton *m_refresh;
    QSpinBox *m_writeTag;
    QComboBox *m_writeType;
    QPushButton *m_write;
    QPushButton *m_delete;
    QComboBox *m_flashDevice;
    QSpinBox *m_flashTag;
    QSpinBox *m_flashSecondary;
    QPushButton *m_flash;
    QTabWidget *m_tabs;
    ModemCheckView *m_checkView;
    AtTerminalView *m_terminal;
    bool m_sideBusy = false;
};

} // namespace Onboarder
