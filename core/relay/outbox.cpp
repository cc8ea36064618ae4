#include "relay/outbox.h"

#include "common/logging.h"

#include <QAtomicInteger>
#include <QDataStream>
#include <QDir>
#include <QFileInfo>
#include <QLocale>
#include <QLockFile>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSysInfo>
#include <QVariant>

namespace Onboarder {

namespace {

QAtomicInteger<quint64> connectionCounter;

const char deadLettersTable[] = "CREATE TABLE IF NOT EXISTS dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                                "device TEXT NOT NULL, topic TEXT NOT NULL, received INTEGER NOT NULL, "
                                "payload BLOB NOT NULL, reason_code TEXT NOT NULL, reason TEXT NOT NULL)";

QByteArray encodeProperties(const MqttUserProperties &properties)
{
    QByteArray data;
    QDataStream stream(&data, QIODevice::WriteOnly);
    stream << quint32(properties.size());
    for (const auto &[name, value] : properties)
        stream << name << value;
    return data;
}

MqttUserProperties decodeProperties(const QByteArray &data)
{
    MqttUserProperties properties;
    QDataStream stream(data);
    quint32 count = 0;
    stream >> count;
    for (quint32 i = 0; i < count && stream.status() == QDataStream::Ok; ++i) {
        QString name;
        QString value;
        stream >> name >> value;
        properties.append({name, value});
    }
    return properties;
}

// The columns of a stored message, in the order messageFromRow reads them.
constexpr char MessageColumns[] = "id, device, received, properties, payload";

RelayMessage messageFromRow(const QSqlQuery &row)
{
    RelayMessage message;
    message.id = row.value(0).toLongLong();
    message.deviceId = row.value(1).toString();
    message.receivedMs = row.value(2).toLongLong();
    if (const QByteArray properties = row.value(3).toByteArray(); !properties.isEmpty())
        message.properties = decodeProperties(properties);
    message.payload = row.value(4).toByteArray();
    return message;
}

} // namespace

Outbox::Outbox(QString connection, QString path, qint64 maxMessages)
    : m_connection(std::move(connection))
    , m_path(std::move(path))
    , m_maxMessages(maxMessages)
{ }

Outbox::~Outbox()
{
    {
        QSqlDatabase db = QSqlDatabase::database(m_connection, false);
        if (db.isOpen()) {
            QSqlQuery(db).exec(QStringLiteral("PRAGMA wal_checkpoint(TRUNCATE)"));
            db.close();
        }
    }
    QSqlDatabase::removeDatabase(m_connection);
    m_lock.reset();
}

std::unexpected<Error> Outbox::sqlError(const QString &what, const QString &detail) const
{
    qCWarning(lcRelay) << "outbox" << m_path << what << detail;
    return fail(ErrorKind::Internal, QStringLiteral("OutboxError"),
        tr("The outbox %1 failed to %2: %3").arg(m_path, what, detail));
}

std::unexpected<Error> Outbox::storeError(const QSqlError &error) const
{
    constexpr int sqliteFull = 13, sqliteIoError = 10;
    // The primary code of an extended one; a failed COMMIT comes without a code (Qt's SQLite driver), only SQLite's
    // text for it.
    const int code = error.nativeErrorCode().toInt() & 0xff;
    const QString text = error.databaseText();
    const bool full = code == sqliteFull || text.contains(QLatin1StringView("database or disk is full"));
    const bool ioError = code == sqliteIoError || text.contains(QLatin1StringView("disk I/O error"));
    if (!full && !ioError)
        return sqlError(QStringLiteral("store"), error.text()); // which logs it
    qCWarning(lcRelay) << "outbox" << m_path << "store" << error.text();
    if (full)
        return fail(ErrorKind::Internal, QStringLiteral("OutboxDiskFull"),
            tr("The disk of the outbox %1 is full: new messages stay with the local broker until there is room "
               "again.")
                .arg(m_path));
    return fail(ErrorKind::Internal, QStringLiteral("OutboxIoError"),
        tr("The outbox %1 cannot be written (%2): new messages stay with the local broker until it can.")
            .arg(m_path, text));
}

Result<void> Outbox::exec(const QString &statement) const
{
    QSqlQuery query(QSqlDatabase::database(m_connection, false));
    if (!query.exec(statement))
        return sqlError(statement, query.lastError().text());
    return {};
}

Result<std::unique_ptr<QLockFile>> Outbox::lock(const QString &path)
{
    const QString lockPath = path + QStringLiteral(".lock");
    auto lock = std::make_unique<QLockFile>(lockPath);
    // Only a dead holder makes a lock stale: a relay runs for months without touching its lock file.
    lock->setStaleLockTime(0);
    if (lock->tryLock(0))
        return lock;
    if (lock->error() != QLockFile::LockFailedError)
        return fail(ErrorKind::InvalidInput, QStringLiteral("OutboxUnwritable"),
            tr("Cannot make the outbox's lock file %1.").arg(lockPath));
    qint64 pid = 0;
    QString host;
    QString program;
    if (!lock->getLockInfo(&pid, &host, &program))
        return fail(ErrorKind::Conflict, QStringLiteral("OutboxInUse"),
            tr("The outbox %1 is in use by another relay (its lock file %2 cannot be read). Stop that relay, or give "
               "this configuration another outbox path.")
                .arg(path, lockPath));
    // QLockFile writes the file when it takes the lock: its time is when the holder started.
    const QDateTime since = QFileInfo(lockPath).lastModified();
    const bool here = host.isEmpty() || host == QSysInfo::machineHostName();
    // The lock names the application ("onboarder" for the app and the CLI alike); the executable tells
    // them apart.
    if (here) {
        const QString executable = QFileInfo(QStringLiteral("/proc/%1/exe").arg(pid)).symLinkTarget();
        if (!executable.isEmpty())
            program = QFileInfo(executable).fileName();
    }
    if (program.isEmpty())
        program = tr("a program");
    const QString holder = here ? tr("%1 (process %2)").arg(program).arg(pid)
                                : tr("%1 (process %2 on %3)").arg(program).arg(pid).arg(host);
    return fail(ErrorKind::Conflict, QStringLiteral("OutboxInUse"),
        tr("The outbox %1 is in use by another relay: %2, since %3. Two relays on one outbox would send the "
           "same messages and throw each other's device sessions off the hub. Stop that relay first, or give "
           "this configuration another outbox path.")
            .arg(path, holder, QLocale().toString(since, QLocale::ShortFormat)));
}

Result<std::unique_ptr<Outbox>> Outbox::connect(const QString &path, qint64 maxMessages,
    std::unique_ptr<QLockFile> lock, const QString &unopenable, const QStringList &statements)
{
    const QString connection = QStringLiteral("onboarder-outbox-%1").arg(++connectionCounter);
    std::unique_ptr<Outbox> outbox(new Outbox(connection, path, maxMessages));
    outbox->m_lock = std::move(lock);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection);
        db.setDatabaseName(path);
        if (!db.open())
            return fail(ErrorKind::InvalidInput, unopenable,
                tr("Cannot open the outbox %1: %2").arg(path, db.lastError().text()));
    }
    for (const QString &statement : statements) {
        if (auto ok = outbox->exec(statement); !ok)
            return std::unexpected(ok.error());
    }
    return outbox;
}

Result<std::unique_ptr<Outbox>> Outbox::open(const QString &path, qint64 maxMessages)
{
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return fail(ErrorKind::InvalidInput, QStringLiteral("OutboxUnwritable"),
            tr("Cannot make the folder of the outbox %1.").arg(path));
    auto lock = Outbox::lock(path);
    if (!lock)
        return std::unexpected(lock.error());
    auto outbox = connect(path, maxMessages, std::move(*lock), QStringLiteral("OutboxUnwritable"),
        {QStringLiteral("PRAGMA journal_mode=WAL"), QStringLiteral("PRAGMA synchronous=FULL"),
            QStringLiteral("PRAGMA busy_timeout=5000"),
            QStringLiteral(
                "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT, device TEXT NOT NULL, "
                "received INTEGER NOT NULL, properties BLOB, payload BLOB NOT NULL)"),
            QStringLiteral("CREATE INDEX IF NOT EXISTS messages_device ON messages (device, id)"),
            QString::fromLatin1(deadLettersTable)});
    if (!outbox)
        return outbox;
    QSqlQuery count(QSqlDatabase::database((*outbox)->m_connection, false));
    if (!count.exec(QStringLiteral("SELECT COUNT(*) FROM messages")) || !count.next())
        return (*outbox)->sqlError(QStringLiteral("count"), count.lastError().text());
    (*outbox)->m_depth = count.value(0).toLongLong();
    return outbox;
}

Result<void> Outbox::append(QList<RelayMessage> &messages)
{
    if (messages.isEmpty())
        return {};
    if (m_depth + messages.size() > m_maxMessages)
        return fail(ErrorKind::Conflict, QStringLiteral("OutboxFull"),
            tr("The outbox holds %1 messages, its limit: new messages stay with the local broker until "
               "the hub takes some.")
                .arg(m_depth));
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    // Durable before it returns (remove() relaxes this for its own commits).
    if (auto ok = exec(QStringLiteral("PRAGMA synchronous=FULL")); !ok)
        return ok;
    if (!db.transaction())
        return sqlError(QStringLiteral("begin"), db.lastError().text());
    QSqlQuery insert(db);
    insert.prepare(QStringLiteral("INSERT INTO messages (device, received, properties, payload) VALUES (?, ?, ?, ?)"));
    QList<qint64> ids;
    ids.reserve(messages.size());
    for (const RelayMessage &message : std::as_const(messages)) {
        insert.bindValue(0, message.deviceId);
        insert.bindValue(1, message.receivedMs);
        insert.bindValue(2, message.properties.isEmpty() ? QByteArray() : encodeProperties(message.properties));
        insert.bindValue(3, message.payload.isNull() ? QByteArray("") : message.payload);
        if (!insert.exec()) {
            const QSqlError error = insert.lastError();
            db.rollback();
            return storeError(error);
        }
        ids.append(insert.lastInsertId().toLongLong());
    }
    if (!db.commit()) {
        const QSqlError error = db.lastError();
        db.rollback();
        return storeError(error);
    }
    for (qsizetype i = 0; i < messages.size(); ++i)
        messages[i].id = ids.at(i);
    m_depth += messages.size();
    return {};
}

Result<QList<RelayMessage>> Outbox::peek(const QString &deviceId, qint64 afterId, int limit) const
{
    QSqlQuery query(QSqlDatabase::database(m_connection, false));
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT ") + QLatin1String(MessageColumns)
        + QStringLiteral(" FROM messages WHERE device = ? AND id > ? ORDER BY id LIMIT ?"));
    query.bindValue(0, deviceId);
    query.bindValue(1, afterId);
    query.bindValue(2, limit);
    if (!query.exec())
        return sqlError(QStringLiteral("read"), query.lastError().text());
    QList<RelayMessage> messages;
    while (query.next())
        messages.append(messageFromRow(query));
    return messages;
}

Result<void> Outbox::remove(const QList<qint64> &ids)
{
    if (ids.isEmpty())
        return {};
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    // A removal need not wait for the disk: the next append's synchronous commit makes it durable with
    // it (the WAL is written in order). Should the machine fail before, the message is only sent again.
    if (auto ok = exec(QStringLiteral("PRAGMA synchronous=NORMAL")); !ok)
        return ok;
    if (!db.transaction())
        return sqlError(QStringLiteral("begin"), db.lastError().text());
    QSqlQuery remove(db);
    remove.prepare(QStringLiteral("DELETE FROM messages WHERE id = ?"));
    qint64 removed = 0;
    for (qint64 id : ids) {
        remove.bindValue(0, id);
        if (!remove.exec()) {
            const QString detail = remove.lastError().text();
            db.rollback();
            return sqlError(QStringLiteral("remove"), detail);
        }
        removed += remove.numRowsAffected();
    }
    if (!db.commit()) {
        const QString detail = db.lastError().text();
        db.rollback();
        return sqlError(QStringLiteral("commit"), detail);
    }
    m_depth = std::max<qint64>(0, m_depth - removed);
    return {};
}

Result<QHash<QString, qint64>> Outbox::devices() const
{
    QSqlQuery query(QSqlDatabase::database(m_connection, false));
    if (!query.exec(QStringLiteral("SELECT device, COUNT(*) FROM messages GROUP BY device")))
        return sqlError(QStringLiteral("list"), query.lastError().text());
    QHash<QString, qint64> devices;
    while (query.next())
        devices.insert(query.value(0).toString(), query.value(1).toLongLong());
    return devices;
}

Result<std::unique_ptr<Outbox>> Outbox::inspect(const QString &path)
{
    if (!QFileInfo(path).isFile())
        return fail(ErrorKind::NotFound, QStringLiteral("OutboxNotFound"),
            tr("There is no outbox at %1: the relay has not run with this configuration yet.").arg(path));
    return connect(path, 0, nullptr, QStringLiteral("OutboxUnreadable"),
        {QStringLiteral("PRAGMA busy_timeout=5000"), QString::fromLatin1(deadLettersTable)});
}

Result<void> Outbox::deadLetter(DeadLetter &letter)
{
    if (auto ok = exec(QStringLiteral("PRAGMA synchronous=FULL")); !ok)
        return ok;
    return insertDeadLetter(letter);
}

Result<void> Outbox::insertDeadLetter(DeadLetter &letter) const
{
    QSqlQuery insert(QSqlDatabase::database(m_connection, false));
    insert.prepare(QStringLiteral("INSERT INTO dead_letters (device, topic, received, payload, reason_code, reason) "
                                  "VALUES (?, ?, ?, ?, ?, ?)"));
    insert.bindValue(0, letter.deviceId.isNull() ? QStringLiteral("") : letter.deviceId);
    insert.bindValue(1, letter.topic.isNull() ? QStringLiteral("") : letter.topic);
    insert.bindValue(2, letter.receivedMs);
    insert.bindValue(3, letter.payload.isNull() ? QByteArray("") : letter.payload);
    insert.bindValue(4, letter.reasonCode);
    insert.bindValue(5, letter.reason);
    if (!insert.exec())
        return sqlError(QStringLiteral("set aside a message"), insert.lastError().text());
    letter.id = insert.lastInsertId().toLongLong();
    return {};
}

Result<DeadLetter> Outbox::setAsideStored(qint64 id, const QString &reasonCode, const QString &reason)
{
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    if (auto ok = exec(QStringLiteral("PRAGMA synchronous=FULL")); !ok)
        return std::unexpected(ok.error());
    if (!db.transaction())
        return sqlError(QStringLiteral("begin"), db.lastError().text());
    const auto failed = [&](const QString &what, const QSqlQuery &query) {
        const QString detail = query.lastError().text();
        db.rollback();
        return sqlError(what, detail);
    };
    QSqlQuery read(db);
    read.prepare(
        QStringLiteral("SELECT ") + QLatin1String(MessageColumns) + QStringLiteral(" FROM messages WHERE id = ?"));
    read.bindValue(0, id);
    if (!read.exec())
        return failed(QStringLiteral("read"), read);
    if (!read.next()) {
        db.rollback();
        return fail(ErrorKind::NotFound, QStringLiteral("NoSuchMessage"),
            tr("The outbox holds no message %1 to set aside.").arg(id));
    }
    const RelayMessage message = messageFromRow(read);
    read.finish();
    DeadLetter letter{0, message.deviceId, message.hubTopic(), message.payload, message.receivedMs, reasonCode, reason};
    if (auto inserted = insertDeadLetter(letter); !inserted) {
        db.rollback();
        return std::unexpected(inserted.error());
    }
    QSqlQuery remove(db);
    remove.prepare(QStringLiteral("DELETE FROM messages WHERE id = ?"));
    remove.bindValue(0, id);
    if (!remove.exec())
        return failed(QStringLiteral("remove"), remove);
    if (!db.commit()) {
        const QString detail = db.lastError().text();
        db.rollback();
        return sqlError(QStringLiteral("commit"), detail);
    }
    m_depth = std::max<qint64>(0, m_depth - 1);
    return letter;
}

Result<QList<DeadLetter>> Outbox::deadLetters() const
{
    QSqlQuery query(QSqlDatabase::database(m_connection, false));
    if (!query.exec(QStringLiteral(
            "SELECT id, device, topic, received, payload, reason_code, reason FROM dead_letters ORDER BY id")))
        return sqlError(QStringLiteral("list the dead letters"), query.lastError().text());
    QList<DeadLetter> letters;
    while (query.next()) {
        letters.append({query.value(0).toLongLong(), query.value(1).toString(), query.value(2).toString(),
            query.value(4).toByteArray(), query.value(3).toLongLong(), query.value(5).toString(),
            query.value(6).toString()});
    }
    return letters;
}

Result<qint64> Outbox::deadLetterCount() const
{
    QSqlQuery query(QSqlDatabase::database(m_connection, false));
    if (!query.exec(QStringLiteral("SELECT COUNT(*) FROM dead_letters")) || !query.next())
        return sqlError(QStringLiteral("count the dead letters"), query.lastError().text());
    return query.value(0).toLongLong();
}

Result<qint64> Outbox::purgeDeadLetters()
{
    QSqlQuery query(QSqlDatabase::database(m_connection, false));
    if (!query.exec(QStringLiteral("DELETE FROM dead_letters")))
        return sqlError(QStringLiteral("purge the dead letters"), query.lastError().text());
    return query.numRowsAffected();
}

} // namespace Onboarder
