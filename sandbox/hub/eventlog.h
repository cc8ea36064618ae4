#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QDateTime>
#include <QHash>
#include <QList>
#include <QObject>
#include <QSqlDatabase>
#include <QStringList>
#include <QTimer>

#include <deque>
#include <utility>

namespace Onboarder::Sandbox {

// One device-to-cloud message as the Event Hub-compatible endpoint keeps it.
struct HubEvent
{
    int partition = 0;
    qint64 sequenceNumber = 0;
    qint64 offset = 0; // bytes before this event in its partition, as Event Hubs counts offsets
    QDateTime enqueuedTime;
    QString deviceId;
    QString moduleId; // empty: the device itself sent it
    QByteArray body;
    QList<std::pair<QString, QString>> applicationProperties;
    QString messageId;
    QString correlationId;
    QString contentType;
    QString contentEncoding;
};

struct PartitionInfo
{
    int partition = 0;
    qint64 beginSequenceNumber = 0; // the oldest kept (0 when empty)
    qint64 lastSequenceNumber = -1; // -1 when nothing was ever enqueued
    qint64 lastOffset = -1;
    QDateTime lastEnqueuedTime;
    bool empty = true;
};

// Where a reader starts, from the selector filter an Event Hubs client sends.
struct EventPosition
{
    enum class Kind { Start, End, Offset, SequenceNumber, EnqueuedTime } kind = Kind::End;
    qint64 value = 0; // offset, sequence number, or ms since the epoch
    bool inclusive = false; // ">=" rather than ">"

    // "amqp.annotation.x-opt-offset > '-1'", "amqp.annotation.x-opt-sequence-number >= 5",
    // "amqp.annotation.x-opt-enqueued-time > '1700000000000'"; "@latest" as the offset means the end.
    static std::optional<EventPosition> fromSelector(const QString &expression);
};

// The hub's Event Hub-compatible endpoint's storage: every device-to-cloud message in one of N partitions
// (chosen by the device id, so one device's messages stay in order), in SQLite in the data dir, kept across
// restarts, trimmed by count and age. Consumer groups are names; each reads every partition independently.
// Threads: the sandbox's main thread.
class EventLog final : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        int partitions = 4;
        qint64 retainPerPartition = 100000;
        int retainHours = 24;
    };

    EventLog();
    ~EventLog() override;

    Result<void> open(const QString &path, Options options);

    int partitionCount() const { return m_options.partitions; }
    int partitionFor(const QString &deviceId) const;

    // Appends (the partition, sequence number, offset and time are filled in); returns the stored event.
    HubEvent append(HubEvent event);

    // Up to max events of a partition from a position (after the given sequence number when resuming).
    QList<HubEvent> read(int partition, qint64 fromSequenceNumber, int max) const;
    // The first sequence number a reader starting at position gets.
    qint64 startSequence(int partition, const EventPosition &position) const;
    PartitionInfo info(int partition) const;

    QStringList consumerGroups() const { return m_consumerGroups; }
    Result<void> addConsumerGroup(const QString &name);

Q_SIGNALS:
    void appended(int partition, qint64 sequenceNumber);

private:
    void commit();
    void trim();

    QString m_connectionName;
    QSqlDatabase m_db;
    Options m_options;
    QStringList m_consumerGroups;
    QList<PartitionInfo> m_partitions;
    QList<std::deque<HubEvent>> m_recent; // the newest events of each partition, for readers that keep up
    QList<HubEvent> m_unwritten;
    QTimer m_commitTimer;
    QTimer m_trimTimer;
};

} // namespace Onboarder::Sandbox
