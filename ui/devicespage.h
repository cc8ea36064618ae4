#pragma once

#include "hub/devicebatch.h"
#include "hub/deviceimport.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QStackedWidget;
class QTableView;
class QTimer;

namespace Onboarder {

class CredentialStore;
class DeviceListModel;
class DevicePage;
class HubSession;
class Settings;

// The devices of the current hub: a list that loads as it scrolls, filtered on the server; create,
// enable, disable and delete (many at once, with progress and cancel); open one to see and change it.
class DevicesPage final : public QWidget
{
    Q_OBJECT

public:
    DevicesPage(HubSession &session, CredentialStore &credentials, Settings &settings, QWidget *parent = nullptr);

    // For tests and the benchmark.
    DeviceListModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    QLineEdit *filterEdit() const { return m_filter; }
    QComboBox *statusFilter() const { return m_status; }
    DevicePage *devicePage() const { return m_devicePage; }
    QLabel *queryError() const { return m_queryError; }
    QStringList selectedDeviceIds() const;
    void selectDevices(const QStringList &ids);
    DeviceBatch *runningBatch() const { return m_batch; }
    DeviceImporter *runningImport() const { return m_import; }
    QString lastImportSummary() const { return m_importSummary; }

public Q_SLOTS:
    void createDevice();
    void openDevice(const QString &id);
    void showList();
    void refresh();
    void applyFilter();
    void enableSelected() { runBatch(DeviceBatch::Operation::Enable); }
    void disableSelected() { runBatch(DeviceBatch::Operation::Disable); }
    void deleteSelected() { runBatch(DeviceBatch::Operation::Delete); }
    // Registers the devices of a CSV or JSON Lines file (as onboarder-cli device import does), 100 a request, with
    // progress and cancel; what was not imported goes with its reasons to FILE.report.csv. The button asks for it.
    void importFile(const QString &path);

Q_SIGNALS:
    void statusMessage(const QString &message);

private:
    // The constructor's parts, in the order it calls them.
    void setUpListPane();
    QWidget *createMessagePane();
    void connectSignals();

    void updateSession();
    void updateState();
    void updateFooter();
    void runBatch(DeviceBatch::Operation operation);
    void batchFinished();
    void importFinished();

    HubSession &m_session;
    CredentialStore &m_credentials;
    Settings &m_settings;
    DeviceListModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QStackedWidget *m_stack; // the list, a message when there is no hub, a device
    QWidget *m_listPane;
    QLabel *m_message;
    QPushButton *m_retry;
    QLineEdit *m_filter;
    QComboBox *m_status;
    QLabel *m_queryError;
    QTableView *m_view;
    QPushButton *m_create;
    QPushButton *m_importButton;
    QPushButton *m_refresh;
    QPushButton *m_enable;
    QPushButton *m_disable;
    QPushButton *m_delete;
    QLabel *m_footer;
    QTimer *m_filterDelay;
    DevicePage *m_devicePage;
    DeviceBatch *m_batch = nullptr;
    DeviceImporter *m_import = nullptr;
    QString m_importPath;
    QList<ImportProblem> m_importRefused; // rows of the file refused before anything was sent
    QString m_importSummary;
    QStringList m_keepSelection; // ids to select again after a refresh
};

} // namespace Onboarder
