#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QTableWidget;
class QTabWidget;

namespace Onboarder {

class CertificateAuthoritiesView;
class CredentialStore;
class DpsClient;
class DpsRegistration;
class DpsStore;

// The Device Provisioning Services this computer knows (Add DPS…, or onboarder-cli dps add), the individual
// enrollments and enrollment groups of the chosen one (new ones made here, any deleted after a confirmation), a test
// registration of the selected enrollment from this computer, as the device will register (the enrollment proven
// before the device ships: its key, or the certificate and key kept here), and the CAs kept here with their
// verification certificates. Every request runs in the background with progress; a test registration can be
// cancelled.
class DpsPage final : public QWidget
{
    Q_OBJECT

public:
    DpsPage(DpsStore &store, CredentialStore &credentials, QWidget *parent = nullptr);
    ~DpsPage() override;

    QComboBox *instances() const { return m_instances; }
    QTableWidget *enrollments() const { return m_table; }
    QTableWidget *groups() const { return m_groups; }
    QTabWidget *tabs() const { return m_tabs; }
    CertificateAuthoritiesView *certificateAuthorities() const { return m_cas; }
    QPushButton *newEnrollmentButton() const { return m_newEnrollment; }
    QPushButton *newGroupButton() const { return m_newGroup; }
    QPushButton *testButton() const { return m_test; }
    QPushButton *addButton() const { return m_add; }
    QLabel *status() const { return m_status; }

public Q_SLOTS:
    void addDps();
    void refresh();
    void testSelectedEnrollment();
    void deleteSelectedEnrollment(); // or the selected group, on the groups' tab
    void newEnrollment();
    void newGroup(const QString &caName = {});

Q_SIGNALS:
    void statusMessage(const QString &message);

private:
    void reloadInstances();
    void refreshShowing(const QString &note); // the enrollments again; note first in the status line
    void setBusy(const QString &what); // empty: idle
    QString selectedId() const; // of the current tab's table
    void create(int kind, const QString &id, const QJsonObject &body);
    void fillGroups(const QJsonArray &items);
    void withClient(const std::function<void(DpsClient &)> &body);

    DpsStore &m_store;
    CredentialStore &m_credentials;
    QComboBox *m_instances;
    QTabWidget *m_tabs;
    QTableWidget *m_table;
    QTableWidget *m_groups;
    CertificateAuthoritiesView *m_cas;
    QPushButton *m_newEnrollment;
    QPushButton *m_newGroup;
    QPushButton *m_add;
    QPushButton *m_refresh;
    QPushButton *m_test;
    QPushButton *m_delete;
    QPushButton *m_cancel;
    QProgressBar *m_progress;
    QLabel *m_status;
    std::unique_ptr<DpsClient> m_client;
    DpsRegistration *m_registration = nullptr;
    quint64 m_generation = 0;
};

} // namespace Onboarder
