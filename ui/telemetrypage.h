#pragma once

#include "amqp/eventhubreader.h"

#include <QAbstractTableModel>
#include <QThread>
#include <QWidget>

#include <deque>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableView;

namespace Onboarder {

class HubSession;
class HubStore;

// The newest telemetry events, at most `capacity`, oldest dropped first: a list that stays fluid at thousands
// of messages a second. Rows are appended in batches.
class TelemetryModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { TimeColumn, DeviceColumn, PositionColumn, PayloadColumn, ColumnCount };

    explicit TelemetryModel(int capacity, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    void append(const QList<TelemetryEvent> &events);
    void clear();
    const TelemetryEvent &event(int row) const { return m_events.at(size_t(row)); }
    int capacity() const { return m_capacity; }

    // The body as a person reads it: pretty JSON, UTF-8 text, else hex.
    static QString bodyText(const TelemetryEvent &event, bool pretty);

private:
    std::deque<TelemetryEvent> m_events;
    int m_capacity;
};

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
    bool isListening() const { return m_state == EventHubReader::State::Listening; }
    qint64 received() const { return m_received; }

    QLineEdit *deviceFilter() const { return m_device; }
    QPushButton *startButton() const { return m_start; }
    QPushButton *pauseButton() const { return m_pause; }
    QTableView *view() const { return m_view; }
    TelemetryModel *model() const { return m_model; }
    QPlainTextEdit *details() const { return m_details; }
    QLabel *summary() const { return m_summary; }

    // Writes what the list holds as JSON Lines; an error sentence, or empty.
    QString exportTo(const QString &path) const;

Q_SIGNALS:
    void statusMessage(const QString &message);

private:
    void onBatch(const QList<TelemetryEvent> &events, qint64 total);
    void onState(EventHubReader::State state, const QString &error);
    void showDetails();
    void updateSummary();

    HubSession &m_session;
    HubStore &m_hubs;
    QLineEdit *m_device;
    QLineEdit *m_consumerGroup;
    QComboBox *m_from;
    QPushButton *m_start;
    QPushButton *m_pause;
    QPushButton *m_export;
    QLabel *m_summary;
    QTableView *m_view;
    TelemetryModel *m_model;
    QPlainTextEdit *m_details;
    QThread m_thread;
    QObject *m_worker = nullptr; // lives on m_thread
    EventHubReader::State m_state = EventHubReader::State::Stopped;
    QString m_error;
    qint64 m_received = 0;
    bool m_paused = false;
    quint64 m_generation = 0;
};

} // namespace Onboarder
