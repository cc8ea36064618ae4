#pragma once

#include "telemetryview.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableView;

namespace Onboarder {

class HubSession;
class HubStore;

// Live telemetry of the current hub (all devices or one), read from its Event Hub-compatible endpoint on a worker
// thread; the GUI gets the events in batches. Counts are exact even when the list keeps only the newest.
class TelemetryPage final : public QWidget
{
    Q_OBJECT

public:
    TelemetryPage(HubSession &session, HubStore &hubs, QWidget *parent = nullptr);
    ~TelemetryPage() override;

    void start();
    void stop();
    bool isListening() const { return m_feed->state() == EventHubReader::State::Listening; }
    qint64 received() const { return m_feed->received(); }

    QLineEdit *deviceFilter() const { return m_device; }
    QPushButton *startButton() const { return m_start; }
    QPushButton *pauseButton() const { return m_pause; }
    QTableView *view() const { return m_list->view(); }
    TelemetryModel *model() const { return m_list->model(); }
    QPlainTextEdit *details() const { return m_list->details(); }
    TelemetryFeed *feed() const { return m_feed; }
    QLabel *summary() const { return m_summary; }

    // Writes what the list holds as JSON Lines; an error sentence, or empty.
    QString exportTo(const QString &path) const { return m_list->exportTo(path); }

Q_SIGNALS:
    void statusMessage(const QString &message);

private:
    void onEvents(const QList<TelemetryEvent> &events);
    void onStateChanged();
    void updateSummary();

    HubSession &m_session;
    QLineEdit *m_device;
    QLineEdit *m_consumerGroup;
    QComboBox *m_from;
    QPushButton *m_start;
    QPushButton *m_pause;
    QPushButton *m_export;
    QLabel *m_summary;
    TelemetryView *m_list;
    TelemetryFeed *m_feed;
    bool m_paused = false;
};

} // namespace Onboarder
