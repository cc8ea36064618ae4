#pragma once

#include "dps/dpsprofile.h"

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QSpinBox;

namespace Onboarder {

class DpsStore;
struct DpsEndpoint;

// Adds a Device Provisioning Service: a local name, a shared access policy's connection string (kept in the keychain
// only), the ID scope, and where a sandbox is reached (address, ports, its CA). Each field's problem is shown next to
// it as it is typed (a hub's connection string is recognised); saving waits for the keychain with the fields off.
class AddDpsDialog final : public QDialog
{
    Q_OBJECT

public:
    explicit AddDpsDialog(DpsStore &store, QWidget *parent = nullptr);

    void setName(const QString &name);
    void setConnectionString(const QString &text);
    void setIdScope(const QString &scope);
    void setSandbox(const QString &address, int restPort, int mqttPort, const QString &caFile);
    bool canAdd() const;
    DpsProfile addedDps() const { return m_added; }

public Q_SLOTS:
    void accept() override;

private:
    DpsEndpoint endpoint() const;
    void revalidate();
    void setBusy(bool busy);

    DpsStore &m_store;
    QLineEdit *m_name;
    QLineEdit *m_connectionString;
    QLineEdit *m_idScope;
    QLineEdit *m_address;
    QSpinBox *m_restPort;
    QSpinBox *m_mqttPort;
    QLineEdit *m_caFile;
    QLabel *m_error;
    QLabel *m_failure;
    QProgressBar *m_progress;
    QDialogButtonBox *m_buttons;
    DpsProfile m_added;
    bool m_busy = false;
};

} // namespace Onboarder
