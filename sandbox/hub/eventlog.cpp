#include "eventlog.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimeZone>
#include <QUuid>
#include <QVariant>

namespace Onboarder::Sandbox {

namespace {

constexpr size_t recentKept = 8192; // per partition, in memory, besides SQLite

QByteArray propertiesJson(const QList<std::pair<QString, QString>> &properties)
{
    QJsonArray array;
    for (const auto &[name, value] : properties)
        array.append(QJsonArray{name, value});
    return QJsonDocument(array).toJson(QJsonDocument::Compact);
}

QList<std::pair<QString, QString>> propertiesFromJson(const QByteArray &json)
{
    QList<std::pair<QString, QString>> out;
    for (const auto &pair : QJsonDocument::fromJson(json).array())
        out.append({pair.toArray().at(0).toString(), pair.toArray().at(1).toString()});
    return out;
}

} // namespace

std::optional<EventPosition> EventPosition::fromSelector(const QString &expression)
{
    static const QRegularExpression pattern(QStringLiteral(
        R"(^\s*amqp\.annotation\.x-opt-(offset|sequence-number|enqueued-time)\s*(>=|>|=)\s*'?([^']*)'?\s*$)"));
    const auto match = pattern.match(expression);
    if (!match.hasMatch())
        return std::nullopt;
    EventPosition position;
    const QString field = match.captured(1);
    const QString op = match.captured(2);
    const QString value = match.captured(3).trimmed();
    position.inclusive = op != QLatin1String(">");
    if (field == QLatin1String("offset")) {
        if (value == QLatin1String("@latest")) {
            position.kind = Kind::End;
            return position;
        }
        bool ok = false;
        position.value = value.toLongLong(&ok);
        if (!ok)
            return std::nullopt;
        position.kind = position.value < 0 ? Kind::Start : Kind::Offset;
        return position;
    }
    bool ok = false;
    position.value = value.toLongLong(&ok);
    if (!ok)
        return std::nullopt;
    position.kind = field == QLatin1String("sequence-number") ? Kind::SequenceNumber : Kind::EnqueuedTime;
    return position;
}

EventLog::EventLog()
    : m_connectionName(QStringLiteral("eventlog-") + QUuid::createUuid().toString(QUuid::Id128))
{
    m_commitTimer.setSingleShot(true);
    m_commitTimer.setInterval(50);
    connect(&m_commitTimer, &QTimer::timeout, this, &EventLog::commit);
    m_trimTimer.setInterval(60000);
    connect(&m_trimTimer, &QTimer::timeout, this, &EventLog::trim);
}

EventLog::~EventLog()
{
    commit();
    m_db.close();
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(m_connectionName);
}

Result<void> EventLog::open(const QString &path, Options options)
{
    m_options = options;
    m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
    m_db.setDatabaseName(path);
    if (!m_db.open())
        return fail(ErrorKind::Internal, QStringLiteral("EventLogNotOpened"),
            QStringLiteral("Cannot open the event log %1: %2").arg(path, m_db.lastError().text()));
    QSqlQuery q(m_db);
    const QStringList setup{
        QStringLiteral("PRAGMA journal_mode=WAL"),
        QStringLiteral("PRAGMA synchronous=NORMAL"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS events (partition INTEGER NOT NULL, seq INTEGER NOT NULL, "
                       "offset INTEGER NOT NULL, enqueued INTEGER NOT NULL, device TEXT NOT NULL, body BLOB, "
                       "properties TEXT, message_id TEXT, correlation_id TEXT, content_type TEXT, "
                       "content_encoding TEXT, module TEXT, PRIMARY KEY (partition, seq))"),
        QStringLiteral("CREATE INDEX IF NOT EXISTS events_time ON events (partition, enqueued)"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS consumer_groups (name TEXT PRIMARY KEY)"),
        QStringLiteral("INSERT OR IGNORE INTO consumer_groups (name) VALUES ('$Default')"),
        // The partition count a log was made with stays: events must not move between partitions.
        QStringLiteral("CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT)"),
    };
    for (const QString &statement : setup) {
        if (!q.exec(statement))
            return fail(ErrorKind::Internal, QStringLiteral("EventLogNotOpened"),
                QStringLiteral("Cannot set up the event log %1: %2").arg(path, q.lastError().text()));
    }
    // A log written before modules sent telemetry has no module column yet.
    if (!q.exec(QStringLiteral("SELECT module FROM events LIMIT 0"))) {
        if (!q.exec(QStringLiteral("ALTER TABLE events ADD COLUMN module TEXT")))
            return fail(ErrorKind::Internal, QStringLiteral("EventLogNotOpened"),
                QStringLiteral("Cannot set up the event log %1: %2").arg(path, q.lastError().text()));
    }
    q.exec(QStringLiteral("SELECT value FROM settings WHERE name = 'partitions'"));
    if (q.next()) {
        m_options.partitions = q.value(0).toInt();
    } else {
        q.prepare(QStringLiteral("INSERT INTO settings (name, value) VALUES ('partitions', ?)"));
        q.addBindValue(QString::number(m_options.partitions));
        q.exec();
    }
    m_options.partitions = qBound(1, m_options.partitions, 32);

    m_consumerGroups.clear();
    q.exec(QStringLiteral("SELECT name FROM consumer_groups ORDER BY name"));
    while (q.next())
        m_consumerGroups.append(q.value(0).toString());

    m_partitions.clear();
    m_recent.clear();
    for (int p = 0; p < m_options.partitions; ++p) {
        PartitionInfo info;
        info.partition = p;
        QSqlQuery stats(m_db);
        stats.prepare(QStringLiteral("SELECT MIN(seq), MAX(seq) FROM events WHERE partition = ?"));
        stats.addBindValue(p);
        if (stats.exec() && stats.next() && !stats.value(1).isNull()) {
            info.beginSequenceNumber = stats.value(0).toLongLong();
            info.lastSequenceNumber = stats.value(1).toLongLong();
            info.empty = false;
            QSqlQuery last(m_db);
            last.prepare(
                QStringLiteral("SELECT offset, length(body), enqueued FROM events WHERE partition = ? AND seq = ?"));
            last.addBindValue(p);
            last.addBindValue(info.lastSequenceNumber);
            if (last.exec() && last.next()) {
                info.lastOffset = last.value(0).toLongLong();
                info.lastEnqueuedTime = QDateTime::fromMSecsSinceEpoch(last.value(2).toLongLong(), Qt::UTC);
            }
        }
        m_partitions.append(info);
        m_recent.append(std::deque<HubEvent>());
    }
    trim();
    m_trimTimer.start();
    return {};
}

Result<void> EventLog::addConsumerGroup(const QString &name)
{
    static const QRegularExpression valid(QStringLiteral(R"(^[A-Za-z0-9$][A-Za-z0-9._\-]{0,49}$)"));
    if (!valid.match(name).hasMatch())
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidConsumerGroup"),
            QStringLiteral("'%1' is not a valid consumer group name (letters, digits, '.', '_', '-'; at most 50).")
                .arg(name));
    if (m_consumerGroups.contains(name))
        return {};
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("INSERT OR IGNORE INTO consumer_groups (name) VALUES (?)"));
    q.addBindValue(name);
    if (!q.exec())
        return fail(ErrorKind::Internal, QStringLiteral("EventLogWriteFailed"), q.lastError().text());
    m_consumerGroups.append(name);
    m_consumerGroups.sort();
    return {};
}

int EventLog::partitionFor(const QString &deviceId) const
{
    const QByteArray digest = QCryptographicHash::hash(deviceId.toUtf8(), QCryptographicHash::Sha256);
    const quint32 value = (quint32(quint8(digest[0])) << 24) | (quint32(quint8(digest[1])) << 16)
        | (quint32(quint8(digest[2])) << 8) | quint32(quint8(digest[3]));
    return int(value % quint32(m_options.partitions));
}

HubEvent EventLog::append(HubEvent event)
{
    event.partition = partitionFor(event.deviceId);
    PartitionInfo &info = m_partitions[event.partition];
    event.sequenceNumber = info.lastSequenceNumber + 1;
    // The offset of an event is where it starts: after the previous event's body.
    const qint64 previousSize = m_recent[event.partition].empty() ? 0 : m_recent[event.partition].back().body.size();
    event.offset = info.lastOffset < 0 ? 0 : info.lastOffset + qMax<qint64>(previousSize, 1);
    if (!event.enqueuedTime.isValid())
        event.enqueuedTime = QDateTime::currentDateTimeUtc();
    if (info.empty)
        info.beginSequenceNumber = event.sequenceNumber;
    info.lastSequenceNumber = event.sequenceNumber;
    info.lastOffset = event.offset;
    info.lastEnqueuedTime = event.enqueuedTime;
    info.empty = false;

    auto &recent = m_recent[event.partition];
    recent.push_back(event);
    if (recent.size() > recentKept)
        recent.pop_front();
    m_unwritten.append(event);
    if (m_unwritten.size() >= 2000)
        commit();
    else if (!m_commitTimer.isActive())
        m_commitTimer.start();
    Q_EMIT appended(event.partition, event.sequenceNumber);
    return event;
}

void EventLog::commit()
{
    m_commitTimer.stop();
    if (m_unwritten.isEmpty() || !m_db.isOpen())
        return;
    m_db.transaction();
    QSqlQuery q(m_db);
    q.prepare(
        QStringLiteral("INSERT OR REPLACE INTO events (partition, seq, offset, enqueued, device, body, properties, "
                       "message_id, correlation_id, content_type, content_encoding, module) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"));
    for (const HubEvent &event : std::as_const(m_unwritten)) {
        q.addBindValue(event.partition);
        q.addBindValue(event.sequenceNumber);
        q.addBindValue(event.offset);
        q.addBindValue(event.enqueuedTime.toMSecsSinceEpoch());
        q.addBindValue(event.deviceId);
        q.addBindValue(event.body);
        q.addBindValue(QString::fromUtf8(propertiesJson(event.applicationProperties)));
        q.addBindValue(event.messageId);
        q.addBindValue(event.correlationId);
        q.addBindValue(event.contentType);
        q.addBindValue(event.contentEncoding);
        q.addBindValue(event.moduleId);
        if (!q.exec())
            qWarning("sandbox: event log write failed: %s", qPrintable(q.lastError().text()));
    }
    m_db.commit();
    m_unwritten.clear();
}

void EventLog::trim()
{
    commit();
    const qint64 oldest
        = QDateTime::currentDateTimeUtc().addSecs(-qint64(m_options.retainHours) * 3600).toMSecsSinceEpoch();
    QSqlQuery q(m_db);
    for (PartitionInfo &info : m_partitions) {
        q.prepare(QStringLiteral("DELETE FROM events WHERE partition = ? AND (seq <= ? OR enqueued < ?)"));
        q.addBindValue(info.partition);
        q.addBindValue(info.lastSequenceNumber - m_options.retainPerPartition);
        q.addBindValue(oldest);
        q.exec();
        QSqlQuery first(m_db);
        first.prepare(QStringLiteral("SELECT MIN(seq) FROM events WHERE partition = ?"));
        first.addBindValue(info.partition);
        if (first.exec() && first.next() && !first.value(0).isNull()) {
            info.beginSequenceNumber = first.value(0).toLongLong();
        } else if (info.lastSequenceNumber >= 0) {
            // Everything aged out: the partition is empty, and the next event continues the numbering.
            info.empty = true;
            info.beginSequenceNumber = info.lastSequenceNumber + 1;
        }
        auto &recent = m_recent[info.partition];
        while (!recent.empty() && recent.front().sequenceNumber < info.beginSequenceNumber)
            recent.pop_front();
    }
}

QList<HubEvent> EventLog::read(int partition, qint64 fromSequenceNumber, int max) const
{
    QList<HubEvent> out;
    if (partition < 0 || partition >= m_partitions.size() || max <= 0)
        return out;
    const auto &recent = m_recent[partition];
    if (!recent.empty() && fromSequenceNumber >= recent.front().sequenceNumber) {
        const qint64 index = fromSequenceNumber - recent.front().sequenceNumber;
        for (size_t i = size_t(index); i < recent.size() && out.size() < max; ++i)
            out.append(recent[i]);
        return out;
    }
    const_cast<EventLog *>(this)->commit();
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("SELECT seq, offset, enqueued, device, body, properties, message_id, correlation_id, "
                             "content_type, content_encoding, module FROM events WHERE partition = ? AND seq >= ? "
                             "ORDER BY seq LIMIT ?"));
    q.addBindValue(partition);
    q.addBindValue(fromSequenceNumber);
    q.addBindValue(max);
    if (!q.exec())
        return out;
    while (q.next()) {
        HubEvent event;
        event.partition = partition;
        event.sequenceNumber = q.value(0).toLongLong();
        event.offset = q.value(1).toLongLong();
        event.enqueuedTime = QDateTime::fromMSecsSinceEpoch(q.value(2).toLongLong(), Qt::UTC);
        event.deviceId = q.value(3).toString();
        event.body = q.value(4).toByteArray();
        event.applicationProperties = propertiesFromJson(q.value(5).toString().toUtf8());
        event.messageId = q.value(6).toString();
        event.correlationId = q.value(7).toString();
        event.contentType = q.value(8).toString();
        event.contentEncoding = q.value(9).toString();
        event.moduleId = q.value(10).toString();
        out.append(event);
    }
    return out;
}

qint64 EventLog::startSequence(int partition, const EventPosition &position) const
{
    const PartitionInfo current = info(partition);
    const qint64 end = current.lastSequenceNumber + 1;
    switch (position.kind) {
    case EventPosition::Kind::Start: return current.empty ? end : current.beginSequenceNumber;
    case EventPosition::Kind::End: return end;
    case EventPosition::Kind::SequenceNumber:
        return qBound(
            current.empty ? end : current.beginSequenceNumber, position.value + (position.inclusive ? 0 : 1), end);
    case EventPosition::Kind::Offset:
    case EventPosition::Kind::EnqueuedTime: {
        const_cast<EventLog *>(this)->commit();
        QSqlQuery q(m_db);
        q.prepare(position.kind == EventPosition::Kind::Offset
                ? QStringLiteral("SELECT MIN(seq) FROM events WHERE partition = ? AND offset %1 ?")
                      .arg(position.inclusive ? QStringLiteral(">=") : QStringLiteral(">"))
                : QStringLiteral("SELECT MIN(seq) FROM events WHERE partition = ? AND enqueued %1 ?")
                      .arg(position.inclusive ? QStringLiteral(">=") : QStringLiteral(">")));
        q.addBindValue(partition);
        q.addBindValue(position.value);
        if (q.exec() && q.next() && !q.value(0).isNull())
            return q.value(0).toLongLong();
        return end;
    }
    }
    return end;
}

PartitionInfo EventLog::info(int partition) const
{
    return partition >= 0 && partition < m_partitions.size() ? m_partitions[partition] : PartitionInfo{};
}

} // namespace Onboarder::Sandbox
