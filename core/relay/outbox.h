#pragma once

#include "common/result.h"
#include "relay/relaymessage.h"

#include <QCoreApplication>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

#include <memory>

class QLockFile;

class QSqlError;

namespace Onboarder {

// The relay's store-and-forward queue: an SQLite database in WAL mode; append() commits with
// synchronous=FULL, so a message whose append() returned is on disk and survives a crash of the process or
// of the machine. remove() commits without waiting for the disk (the next append's commit carries it to
// disk; lost to a machine crash, it only means the message is sent again).
// Messages leave in the order they came, per device (sequence numbers grow across the whole outbox).
//
// The limit: append() refuses a batch that does not fit below maxMessages (OutboxFull) and stores
// nothing of it; the relay then does not acknowledge those messages to the local broker, which keeps
// them, and says so in its metrics.
//
// One relay per outbox: a second relay on the same outbox would send the same messages over the same
// device sessions, and the hub closes a device's older session when a newer one connects, so the two
// would take turns throwing each other out. open() takes a lock file next to the database (<path>.lock,
// QLockFile: the holder's pid, program and host) and refuses, naming the holder, while another holds it;
// a lock left by a relay that was killed is taken over (its pid no longer runs that program).
//
// Threads: one thread, the one that called open(), where it is also destroyed (it owns a QSqlDatabase connection
// of its own, made there): the Relay's, a worker thread under RelayThread. open() may be called on any thread (each
// outbox's connection has a name of its own).
class Outbox final
{
    Q_DECLARE_TR_FUNCTIONS(Outbox)

public:
    ~Outbox();
    Outbox(const Outbox &) = delete;
    Outbox &operator=(const Outbox &) = delete;

    static Result<std::unique_ptr<Outbox>> open(const QString &path, qint64 maxMessages);

    // Stores the messages in one transaction and gives each its id. All or nothing.
    Result<void> append(QList<RelayMessage> &messages);
    // The oldest messages of a device with an id above afterId, oldest first.
    Result<QList<RelayMessage>> peek(const QString &deviceId, qint64 afterId, int limit) const;
    // Removes delivered messages (one transaction).
    Result<void> remove(const QList<qint64> &ids);
    // The devices that have messages waiting, with how many each.
    Result<QHash<QString, qint64>> devices() const;

    // Dead letters (messages the hub can never take): stored durably, like append(); listed oldest first;
    // purged all at once (how many went).
    Result<void> deadLetter(DeadLetter &letter);
    // Moves a stored message to the dead letters (one durable transaction), with the hub topic it went on as its
    // topic. NotFound when no message has that id.
    Result<DeadLetter> setAsideStored(qint64 id, const QString &reasonCode, const QString &reason);
    Result<QList<DeadLetter>> deadLetters() const;
    Result<qint64> deadLetterCount() const;
    Result<qint64> purgeDeadLetters();

    // Opens an existing outbox to read its dead letters or purge them, without the relay's lock: a relay may be
    // running on it (SQLite serialises the two). NotFound when there is no outbox at path.
    static Result<std::unique_ptr<Outbox>> inspect(const QString &path);

    qint64 depth() const { return m_depth; }
    qint64 maxMessages() const { return m_maxMessages; }
    bool isFull() const { return m_depth >= m_maxMessages; }
    QString path() const { return m_path; }

private:
    Outbox(QString connection, QString path, qint64 maxMessages);
    static Result<std::unique_ptr<QLockFile>> lock(const QString &path);
    // An outbox on a connection of its own to path, holding lock (none when it only inspects), after statements ran;
    // unopenable: the error code when SQLite cannot open the file.
    static Result<std::unique_ptr<Outbox>> connect(const QString &path, qint64 maxMessages,
        std::unique_ptr<QLockFile> lock, const QString &unopenable, const QStringList &statements);
    Result<void> exec(const QString &statement) const;
    Result<void> insertDeadLetter(DeadLetter &letter) const; // in whatever transaction is open; sets its id
    std::unexpected<Error> sqlError(const QString &what, const QString &detail) const;
    std::unexpected<Error> storeError(const QSqlError &error) const; // a message not stored: why, in words

    QString m_connection;
    QString m_path;
    qint64 m_maxMessages = 0;
    qint64 m_depth = 0;
    std::unique_ptr<QLockFile> m_lock; // released after the database is closed
};

} // namespace Onboarder
