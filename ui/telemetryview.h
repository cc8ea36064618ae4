#pragma once

#include "amqp/eventhubreader.h"

#include <QAbstractTableModel>
#include <QThread>
#include <QWidget>

#include <deque>

class QPlainTextEdit;
class QTableView;

namespace Onboarder {

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
    const TelemetryEvent &eventAt(int row) const { return m_events.at(size_t(row)); }
    int capacity() const { return m_capacity; }

    // The body as a person reads it: pretty JSON, UTF-8 text, else hex.
    static QString bodyText(const TelemetryEvent &event, bool pretty);

private:
    std::deque<TelemetryEvent> m_events;
    int m_capacity;
};

// A hub's telemetry read on a worker thread of its own (an EventHubReader there), handed to the owner's thread in
// batches every 100 ms. The count is exact even when a batch keeps only the newest `capacity` events. The hub's
// service connection string is read from the keychain and goes to the worker in memory only.
// Threads: created and used on the GUI thread.
class TelemetryFeed final : public QObject
{
    Q_OBJECT

public:
    static constexpr int capacity = 5000;
    static constexpr int batchIntervalMs = 100;

    explicit TelemetryFeed(HubStore &hubs, QObject *parent = nullptr);
    ~TelemetryFeed() override;

    // Without a hub (no name): Failed, saying so.
    void start(const HubProfile &hub, const EventHubReader::Options &options);
    void stop(); // a failure stays until the next start

    EventHubReader::State state() const { return m_state; }
    bool isRunning() const
    {
        return m_state == EventHubReader::State::Connecting || m_state == EventHubReader::State::Listening;
    }
    QString error() const { return m_error; } // why it failed, or why it connects again
    qint64 received() const { return m_received; }
    // One line for the person watching: the state (stopped and listening said by the caller), how many messages
    // came, whether the list keeps fewer (listed: how many it holds), whether it is paused.
    QString summary(const QString &stopped, const QString &listening, int listed, bool paused) const;

Q_SIGNALS:
    void eventsReceived(const QList<Onboarder::TelemetryEvent> &events); // received() already counts them
    void stateChanged();

private:
    void setFailed(const QString &error);
    void onBatch(const QList<TelemetryEvent> &events, qint64 total);
    void onState(EventHubReader::State state, const QString &error);

    HubStore &m_hubs;
    QThread m_thread;
    QObject *m_worker = nullptr; // lives on m_thread
    EventHubReader::State m_state = EventHubReader::State::Stopped;
    QString m_error;
    QString m_hubName;
    qint64 m_received = 0;
    quint64 m_generation = 0; // batches and states of an earlier start are dropped
};

// The list of telemetry events and, beside it, the selected one in full: its payload pretty-printed, its
// application and system properties.
class TelemetryView final : public QWidget
{
    Q_OBJECT

public:
    explicit TelemetryView(QWidget *parent = nullptr);

    // Appends; follows the newest unless a row is selected.
    void append(const QList<TelemetryEvent> &events);
    void clear();
    void setDeviceColumnVisible(bool visible);

    QTableView *view() const { return m_view; }
    TelemetryModel *model() const { return m_model; }
    QPlainTextEdit *details() const { return m_details; }

    // Writes what the list holds as JSON Lines; an error sentence, or empty.
    QString exportTo(const QString &path) const;

private:
    void showDetails();

    QTableView *m_view;
    TelemetryModel *m_model;
    QPlainTextEdit *m_details;
};

} // namespace Onboarder
