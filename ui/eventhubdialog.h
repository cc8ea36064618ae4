#pragma once

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace Onboarder {

class HubStore;

// Keeps a hub's Event Hub-compatible connection string (Azure portal: the hub's Built-in endpoints) in the keychain
// beside the hub's own, or forgets it; telemetry is then read there instead of through the hub's redirect.
// The string is checked as it is typed (a hub connection string pasted here is recognised and explained); saving
// waits for the keychain with the dialog's fields disabled.
class EventHubDialog final : public QDialog
{
    Q_OBJECT

public:
    EventHubDialog(HubStore &hubs, const QString &hubName, QWidget *parent = nullptr);

    void setConnectionString(const QString &text); // for tests and paste
    bool canSave() const;

public Q_SLOTS:
    void accept() override;
    void forget();

private:
    void revalidate();
    void setBusy(bool busy, const QString &what = {});
    void finish(const QString &error);

    HubStore &m_hubs;
    QString m_hubName;
    QLineEdit *m_connectionString;
    QLabel *m_error;
    QLabel *m_failure;
    QProgressBar *m_progress;
    QDialogButtonBox *m_buttons;
    QPushButton *m_forget;
    bool m_busy = false;
};

} // namespace Onboarder
