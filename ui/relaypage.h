#pragma once

#include "relay/relaymetrics.h"

#include <QHash>
#include <QWidget>

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
class RelayPage final : public QWidget
{
    Q_OBJECT

public:
    RelayPage(HubStore &hubs, SecretStore &secrets, CredentialStore &credentials, QWidget *parent = nullptr);
    ~RelayPage() override;

    // For tests and the demo.
    void setConfigPath(const QString &path);
    QPlainTextEdit *configEditor() const { return m_editor; }
    QLabel *configError() const { return m_configError; }
    QTableWidget *deviceTable() const { return m_table; }
    QPushButton *startButton() const { return m_start; }
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
    void load();
    void showMetrics(const RelayMetrics &metrics);
    void updateState();
    void fail(const QString &message);

    HubStore &m_hubs;
    SecretStore &m_secrets;
    CredentialStore &m_credentials;
    RelayThread *m_relay;
    bool m_starting = false; // reading the keychain, or the relay starting on its thread
    RelayMetrics m_last;
    QHash<QString, QTableWidgetItem *> m_rows; // device id → its item in the Device column (row() follows sorting)

    QLineEdit *m_path;
    QPlainTextEdit *m_editor;
    QLabel *m_configError;
    QPushButton *m_save;
    QPushButton *m_start;
    QPushButton *m_stop;
    QLabel *m_summary;
    QTableWidget *m_table;
    RelayCharts *m_charts;
};

} // namespace Onboarder
