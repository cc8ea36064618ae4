#pragma once

#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace Onboarder {

class DpsClient;
class DpsRegistration;
class DpsStore;

// The Device Provisioning Services this computer knows (added with onboarder-cli dps add), the individual
// enrollments of the chosen one, and a test registration of the selected enrollment from this computer, as the
// device will register (the enrollment proven before the device ships). Every request runs in the background with
// progress; a test registration can be cancelled.
class DpsPage final : public QWidget
{
    Q_OBJECT

public:
    explicit DpsPage(DpsStore &store, QWidget *parent = nullptr);
    ~DpsPage() override;

    QComboBox *instances() const { return m_instances; }
    QTableWidget *enrollments() const { return m_table; }
    QPushButton *testButton() const { return m_test; }
    QPushButton *addButton() const { return m_add; }
    QLabel *status() const { return m_status; }

public Q_SLOTS:
    void addDps();
    void refresh();
    void testSelectedEnrollment();
    void deleteSelectedEnrollment();

Q_SIGNALS:
    void statusMessage(const QString &message);

private:
    void reloadInstances();
    void refreshShowing(const QString &note); // the enrollments again; note first in the status line
    void setBusy(const QString &what); // empty: idle
    QString selectedId() const;
    void withClient(std::function<void(DpsClient &)> body);

    DpsStore &m_store;
    QComboBox *m_instances;
    QTableWidget *m_table;
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
