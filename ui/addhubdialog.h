#pragma once

#include "hub/hubprofile.h"
#include "hub/hubstore.h"

#include <QDialog>

class QCheckBox;
class QDialogButtonBox;
class QGroupBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QProgressBar;
class QSpinBox;
class QToolButton;

namespace Onboarder {

class HubStore;

// Adds a hub: a local name and the connection string of one of the hub's shared access policies.
// Every field is checked as the user types, with the reason next to it; the connection string goes
// to the keychain only when the user presses Add.
class AddHubDialog final : public QDialog
{
    Q_OBJECT

public:
    explicit AddHubDialog(HubStore &hubs, QWidget *parent = nullptr);

    HubProfile addedHub() const { return m_added; }

    // For tests and for callers that already hold the values.
    void setName(const QString &name);
    void setConnectionString(const QString &text);
    void setEndpoint(int restPort, int mqttPort, const QString &caFile, int amqpPort = 0);
    void setNetwork(bool webSockets, const QString &proxy);
    QString nameError() const;
    QString connectionStringError() const;
    bool canAdd() const;

public Q_SLOTS:
    void accept() override;

private:
    // The constructor's parts, in the order it calls them.
    void setUpEndpointGroup();
    void setUpNetworkGroup();
    QFormLayout *createHubForm();
    void connectFields();

    void revalidate();
    HubEndpoint endpoint() const;
    void setBusy(bool busy);
    void browseCaFile();

    HubStore &m_hubs;
    HubProfile m_added;
    bool m_busy = false;

    QLineEdit *m_name;
    QLabel *m_nameError;
    QLineEdit *m_connectionString;
    QToolButton *m_reveal;
    QToolButton *m_paste;
    QLabel *m_connectionStringError;
    QLabel *m_summary;
    QGroupBox *m_advanced;
    QSpinBox *m_restPort;
    QSpinBox *m_mqttPort;
    QSpinBox *m_amqpPort;
    QLineEdit *m_caFile;
    QLabel *m_endpointError;
    QGroupBox *m_network;
    QCheckBox *m_webSockets;
    QLineEdit *m_proxy;
    QLabel *m_proxyError;
    QLabel *m_failure;
    QProgressBar *m_progress;
    QDialogButtonBox *m_buttons;
};

} // namespace Onboarder
