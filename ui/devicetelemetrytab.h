#pragma once

#include <QWidget>

class QLabel;
class QPushButton;
class QTimer;

namespace Onboarder {

class HubSession;
class TelemetryFeed;
class TelemetryView;

// The device page's Telemetry tab: what one device sends, live, beside its connection state. It reads the hub's
// Event Hub-compatible endpoint (filtered to the device) on a worker thread while the tab is shown, and stops
// when it is hidden (another tab, another page) or the page closes.
class DeviceTelemetryTab final : public QWidget
{
    Q_OBJECT

public:
    DeviceTelemetryTab(HubSession &session, QWidget *parent = nullptr);
    ~DeviceTelemetryTab() override;

    // Another device: what was read is dropped; reading starts again if the tab is shown.
    void setDeviceId(const QString &id);
    // The device's connection state as the registry last said it, in a sentence ("Connected, since …"); empty:
    // not known yet.
    void setConnectionState(bool connected, const QString &sentence);

    bool isReading() const;
    bool isListening() const;
    qint64 received() const;

    // For tests.
    TelemetryView *list() const { return m_list; }
    QPushButton *pauseButton() const { return m_pause; }
    QLabel *connectionState() const { return m_connection; }
    QLabel *summary() const { return m_summary; }

Q_SIGNALS:
    // Asks the page for the device again (its connection state), every so often while reading.
    void refreshRequested();

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    void start();
    void stop();
    void updateSummary();

    HubSession &m_session;
    QString m_id;
    QLabel *m_dot;
    QLabel *m_connection;
    QLabel *m_summary;
    QPushButton *m_pause;
    QPushButton *m_clear;
    TelemetryView *m_list;
    TelemetryFeed *m_feed;
    QTimer *m_refresh;
};

} // namespace Onboarder
