#pragma once

#include "hub/hubtelemetrymonitor.h"
#include "relay/relaymetrics.h"

#include <QHash>
#include <QThread>
#include <QWidget>

class QHBoxLayout;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;
class QTableWidgetItem;

namespace Onboarder {

class CredentialStore;
class HubStore;
class RelayCharts;
class RelayThread;
class SecretStore;

// The gateway relay in the app: its configuration (a JSON file, edited and validated here), start and
// stop, a live table of the devices it relays (last message, counts, what waits in the outbox, a preview
// of the last payload) and plots of messages per second, outbox depth and latency. The relay runs on a
// worker thread (RelayThread); this page only posts start and stop and shows what it reports.
//
// Beside what was sent, what the hub received: while the relay runs, a HubTelemetryMonitor (on a thread
// of its own) reads the telemetry the hub received (a sandbox hub only; for an Azure IoT Hub the page says
// why it cannot), and the table shows per device how many messages reached the hub and when the last one
// did; the pane under the table shows the selected device's last payload sent next to the last one the hub
// received, with its properties. The monitor reports at most every 250 ms, whatever the message rate.
class RelayPage final : public QWidget
{
    Q_OBJECT

public:
    enum Column {
        DeviceColumn,
        StateColumn,
        LastColumn,
        InColumn,
        OutColumn,
        WaitingColumn,
        HubCountColumn, // messages the hub received
        HubLastColumn, // when the last of them arrived
        PayloadColumn,
        ColumnCount
    };

    RelayPage(HubStore &hubs, SecretStore &secrets, CredentialStore &credentials, QWidget *parent = nullptr);
    ~RelayPage() override;

    // For tests and the demo.
    void setConfigPath(const QString &path);
    QPlainTextEdit *configEditor() const { return m_editor; }
    QLabel *configError() const { return m_configError; }
    QTableWidget *deviceTable() const { return m_table; }
    QPushButton *startButton() const { return m_start; }
    QLabel *hubSummary() const { return m_hubSummary; }
    QPlainTextEdit *sentDetails() const { return m_sentDetails; }
    QPlainTextEdit *hubDetails() const { return m_hubDetails; }
    QWidget *detailsPane() const { return m_detailsPane; }
    HubTelemetryMonitor::State hubMonitorState() const { return m_hubState; }
    qint64 hubTotal() const { return m_hubTotal; }
    // True while the relay runs or is stopping (it still holds sessions and the outbox).
    bool isRunning() const;
    RelayMetrics lastMetrics() const { return m_last; }

public Q_SLOTS:
    void start();
    void stop();
    bool validate();
    bool save();

Q_SIGNALS:
    void statusMessage(const QString &message);
    void relayStopped();

private:
    // The constructor's parts, in the order it calls them (widgets are made in that order, which is the
    // focus order): the path row and its buttons, the selected device's details, the device table, the
    // configuration editor; then the monitor's and the relay's signals.
    QHBoxLayout *createPathRow();
    QWidget *createDetailsPane();
    QWidget *createTablePane();
    QWidget *createConfigPane();
    void connectMonitor();
    void connectRelay();

    void load();
    void showMetrics(const RelayMetrics &metrics);
    void showHubTelemetry(const HubTelemetry &update);
    void showHubState(HubTelemetryMonitor::State state);
    void showHubSummary();
    void showDetails();
    void startMonitor(const HubProfile &profile, const ConnectionString &service);
    void stopMonitor();
    int rowFor(const QString &deviceId);
    QString selectedDevice() const;
    void updateState();
    void fail(const QString &message);

    HubStore &m_hubs;
    SecretStore &m_secrets;
    CredentialStore &m_credentials;
    RelayThread *m_relay;
    bool m_starting = false; // reading the keychain, or the relay starting on its thread
    RelayMetrics m_last;
    QHash<QString, QTableWidgetItem *> m_rows; // device id → its item in the Device column (row() follows sorting)

    struct Sent
    {
        QByteArray payload; // its first bytes
        qint64 timeMs = 0;
    };
    QHash<QString, Sent> m_sent; // the last message the relay took for each device

    QThread m_monitorThread;
    HubTelemetryMonitor *m_monitor; // lives on m_monitorThread; used through queued calls only
    HubTelemetryMonitor::State m_hubState = HubTelemetryMonitor::State::Stopped;
    QString m_hubNote; // why the hub's side cannot be shown, or its last error
    QHash<QString, HubTelemetry::Device> m_atHub;
    qint64 m_hubTotal = 0;

    QLineEdit *m_path;
    QPlainTextEdit *m_editor;
    QLabel *m_configError;
    QPushButton *m_save;
    QPushButton *m_start;
    QPushButton *m_stop;
    QLabel *m_summary;
    QTableWidget *m_table;
    QPlainTextEdit *m_sentDetails;
    QPlainTextEdit *m_hubDetails;
    QWidget *m_detailsPane; // the two above, shown while a device is selected
    QLabel *m_hubSummary;
    RelayCharts *m_charts;
};

} // namespace Onboarder
