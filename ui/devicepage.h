#pragma once

#include "hub/hubclient.h"
#include "hub/keyrotation.h"

#include <QHash>
#include <QJsonObject>
#include <QWidget>

class QCheckBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTreeWidget;

namespace Onboarder {

class CredentialStore;
class DeviceMessagesTab;
class DeviceModulesTab;
class DeviceTelemetryTab;
class HubSession;
class SecureClipboard;
class Settings;

// One device of the current hub: its identity and connection, the support check, its live telemetry, its twin
// (tags and desired properties editable, guarded by the twin's ETag), direct methods, cloud-to-device messages,
// its modules, and its connection strings.
class DevicePage final : public QWidget
{
    Q_OBJECT

public:
    DevicePage(HubSession &session, CredentialStore &credentials, Settings &settings, QWidget *parent = nullptr);

    void open(const QString &deviceId);
    QString deviceId() const { return m_id; }
    const DeviceIdentity &device() const { return m_device; }

    // For tests.
    QTabWidget *tabs() const { return m_tabs; }
    QPlainTextEdit *twinEditor() const { return m_twinEdit; }
    QLabel *twinError() const { return m_twinError; }
    QPushButton *applyTwinButton() const { return m_applyTwin; }
    QLineEdit *methodName() const { return m_methodName; }
    QPlainTextEdit *methodPayload() const { return m_methodPayload; }
    QPushButton *invokeButton() const { return m_invoke; }
    QPlainTextEdit *methodResponse() const { return m_methodResponse; }
    QLabel *methodStatus() const { return m_methodStatus; }
    QTreeWidget *checkResults() const { return m_checkResults; }
    QPushButton *checkButton() const { return m_check; }
    QCheckBox *pingCheck() const { return m_ping; }
    QLineEdit *connectionStringField(bool secondary) const { return secondary ? m_secondaryString : m_primaryString; }
    QPushButton *revealButton() const { return m_reveal; }
    QPushButton *copyButton(bool secondary) const { return secondary ? m_copySecondary : m_copyPrimary; }
    SecureClipboard *clipboard() const { return m_clipboard; }
    QLabel *certificateSummary() const { return m_certificate; }
    QPushButton *exportCertificateButton() const { return m_exportCertificate; }
    DeviceTelemetryTab *telemetryTab() const { return m_telemetryTab; }
    DeviceMessagesTab *messagesTab() const { return m_messagesTab; }
    DeviceModulesTab *modulesTab() const { return m_modulesTab; }

    QPushButton *keyButton(KeyRotation::Change change) const { return m_keyButtons.value(int(change)); }
    QPushButton *newCertificateButton() const { return m_newCertificate; }

public Q_SLOTS:
    // Regenerates or swaps a SAS device's keys after a confirmation that says what it breaks.
    void changeKeys(KeyRotation::Change change);
    // A self-signed X.509 device's new certificate (PEM file): registered as primary, the old one kept as secondary,
    // after a confirmation. The button asks for the file.
    void registerCertificate(const QString &pemFile);
    void exportConnectionString(bool secondary);
    void exportCertificate();
    DeviceTwin twin() const { return m_twin; }
    bool isLoading() const { return m_loading > 0; }

public Q_SLOTS:
    void reload();
    void applyTwin();
    void invokeMethod();
    void runCheck();
    void toggleEnabled();

Q_SIGNALS:
    void backRequested();
    void deviceChanged(const QString &deviceId); // enabled, disabled or twin changed: the list may refresh
    void statusMessage(const QString &message);

private:
    QWidget *createOverviewTab();
    QWidget *createTwinTab();
    QWidget *createMethodTab();
    QWidget *createConnectionTab();
    void showConnectionStrings();
    void showCertificate();
    QString connectionString(bool secondary) const;
    void showDevice();
    void reloadDevice(bool busy); // the identity only (connection state, queue depth); busy: with the busy cursor
    void showTwin();
    void checkTwinSyntax();
    void setLoading(bool loading);
    // Writes a changed identity back under the ETag it was read with; says done in the status bar.
    void writeCredentials(const DeviceIdentity &changed, const QString &done);
    void showFailure(const Error &error);

    HubSession &m_session;
    CredentialStore &m_credentials;
    Settings &m_settings;
    QString m_id;
    DeviceIdentity m_device;
    DeviceTwin m_twin;
    int m_loading = 0;
    quint64 m_generation = 0; // answers about a device no longer shown are dropped

    QLabel *m_title = nullptr;
    QLabel *m_failure = nullptr;
    QTabWidget *m_tabs = nullptr;
    // Overview
    QLabel *m_status = nullptr;
    QLabel *m_connection = nullptr;
    QLabel *m_lastActivity = nullptr;
    QLabel *m_auth = nullptr;
    QLabel *m_queued = nullptr;
    QLabel *m_etag = nullptr;
    QPushButton *m_toggleEnabled = nullptr;
    QPushButton *m_check = nullptr;
    QCheckBox *m_ping = nullptr;
    QTreeWidget *m_checkResults = nullptr;
    // Twin
    QPlainTextEdit *m_twinView = nullptr;
    QPlainTextEdit *m_twinEdit = nullptr;
    QLabel *m_twinError = nullptr;
    QPushButton *m_applyTwin = nullptr;
    QPushButton *m_revertTwin = nullptr;
    // Direct method
    QLineEdit *m_methodName = nullptr;
    QPlainTextEdit *m_methodPayload = nullptr;
    QLabel *m_payloadError = nullptr;
    QSpinBox *m_responseTimeout = nullptr;
    QSpinBox *m_connectTimeout = nullptr;
    QPushButton *m_invoke = nullptr;
    QPushButton *m_stopWaiting = nullptr;
    QLabel *m_methodStatus = nullptr;
    QPlainTextEdit *m_methodResponse = nullptr;
    quint64 m_methodCall = 0; // the call whose answer is awaited; 0: none
    // Connection strings
    QLineEdit *m_primaryString = nullptr;
    QLineEdit *m_secondaryString = nullptr;
    QPushButton *m_reveal = nullptr;
    QPushButton *m_copyPrimary = nullptr;
    QPushButton *m_copySecondary = nullptr;
    QPushButton *m_exportPrimary = nullptr;
    QHash<int, QPushButton *> m_keyButtons; // by KeyRotation::Change
    QPushButton *m_newCertificate = nullptr;
    QPushButton *m_exportSecondary = nullptr;
    QLabel *m_clipboardNote = nullptr;
    QLabel *m_certificate = nullptr;
    QPushButton *m_exportCertificate = nullptr;
    SecureClipboard *m_clipboard = nullptr;
    // Telemetry, messages to the device
    DeviceTelemetryTab *m_telemetryTab = nullptr;
    DeviceMessagesTab *m_messagesTab = nullptr;
    DeviceModulesTab *m_modulesTab = nullptr;
    quint64 m_deviceRequest = 0; // the newest request for the identity alone
};

} // namespace Onboarder
