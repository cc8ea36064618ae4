#pragma once

#include "hub/moduleidentity.h"

#include <QWidget>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTimer;
class QTreeWidget;

namespace Onboarder {

class HubSession;
class Settings;

// The device page's "Modules" tab: the device's module identities (connection state, last activity,
// authentication, who manages them), adding one (SAS keys made by the hub) and deleting one after a confirmation,
// the selected module's twin, and its connection string handed over as a device's is (expiring by default, to the
// clipboard that clears itself, OpenPGP, a QR code). The list loads when the tab is first shown for a device; a call
// that takes longer than a moment shows progress and can be cancelled (its answer is then dropped).
class DeviceModulesTab final : public QWidget
{
    Q_OBJECT

public:
    enum Column { IdColumn, ConnectionColumn, ActivityColumn, AuthColumn, ManagedByColumn, ColumnCount };

    DeviceModulesTab(HubSession &session, Settings &settings, QWidget *parent = nullptr);
    ~DeviceModulesTab() override;

    // Another device: the list is dropped, and read again when the tab is shown.
    void setDeviceId(const QString &id);
    QList<ModuleIdentity> modules() const { return m_modules; }
    QString selectedModule() const;
    bool isBusy() const { return m_busy > 0; }

    // For tests.
    QTreeWidget *moduleList() const { return m_list; }
    QLineEdit *newModuleEdit() const { return m_newId; }
    QPushButton *addButton() const { return m_add; }
    QPushButton *deleteButton() const { return m_delete; }
    QPushButton *handOverButton() const { return m_handOver; }
    QPushButton *cancelButton() const { return m_cancel; }
    QPlainTextEdit *twinView() const { return m_twin; }
    QLabel *problem() const { return m_problem; }

public Q_SLOTS:
    void reload();
    void addModule(); // the id typed in the field
    void deleteSelected(); // asks first
    void handOverSelected(); // the export dialog, for the selected module's primary connection string
    void cancel();

Q_SIGNALS:
    void statusMessage(const QString &message);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void showModules(const QString &select);
    void loadTwin();
    void updateButtons();
    void begin(); // a call starts: progress after a moment
    bool end(quint64 generation); // a call ended: false when its answer is to be dropped
    void idle(); // no call is awaited
    void showProblem(const QString &text);

    HubSession &m_session;
    Settings &m_settings;
    QString m_id;
    QString m_loadedFor; // the device whose modules the list shows
    QList<ModuleIdentity> m_modules;
    quint64 m_generation = 0; // answers of an older generation (another device, a cancelled call) are dropped
    int m_busy = 0;

    QTreeWidget *m_list;
    QLineEdit *m_newId;
    QPushButton *m_add;
    QPushButton *m_delete;
    QPushButton *m_handOver;
    QPushButton *m_reload;
    QLabel *m_problem;
    QProgressBar *m_progress;
    QPushButton *m_cancel;
    QTimer *m_progressDelay;
    QPlainTextEdit *m_twin;
};

} // namespace Onboarder
