#include "secretstore.h"

#include "common/logging.h"
#include "common/promise.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <qt6keychain/keychain.h>

#include <memory>

namespace Onboarder {

namespace {

Error keychainError(QKeychain::Error error, const QString &detail, const QString &name)
{
    switch (error) {
    case QKeychain::EntryNotFound:
        return {ErrorKind::NotFound, QStringLiteral("SecretNotFound"),
            SecretStore::tr("The keychain has no entry named \"%1\".").arg(name)};
    case QKeychain::AccessDeniedByUser:
    case QKeychain::AccessDenied:
        return {ErrorKind::Keychain, QStringLiteral("KeychainAccessDenied"),
            SecretStore::tr(
                "The system keychain refused access (%1). Unlock it and try again; nothing was stored elsewhere.")
                .arg(detail)};
    case QKeychain::NoBackendAvailable:
    case QKeychain::NotImplemented:
        return {ErrorKind::Keychain, QStringLiteral("KeychainUnavailable"),
            SecretStore::tr("No system keychain is available (%1). Onboarder keeps keys only in the keychain "
                            "(GNOME Keyring, KWallet or another Secret Service), so nothing was stored.")
                .arg(detail)};
    default:
        return {ErrorKind::Keychain, QStringLiteral("KeychainError"),
            SecretStore::tr("The system keychain failed: %1. Onboarder keeps keys only in the keychain, so nothing was "
                            "stored elsewhere.")
                .arg(detail)};
    }
}

Result<void> validName(const QString &name)
{
    if (name.isEmpty() || name == SecretStore::indexEntryName())
        return fail(ErrorKind::Internal, QStringLiteral("InvalidSecretName"),
            SecretStore::tr("\"%1\" cannot be used as a keychain entry name.").arg(name));
    return {};
}

} // namespace

SecretStore::SecretStore(const QString &service, QObject *parent)
    : QObject(parent)
    , m_service(service)
{ }

SecretStore::~SecretStore() = default;

QString SecretStore::indexEntryName()
{
    return QStringLiteral("onboarder.index");
}

QFuture<Result<void>> SecretStore::save(const QString &name, SecretBytes secret)
{
    auto promise = startedPromise<void>();
    if (auto ok = validName(name); !ok) {
        deliver(promise, ok);
        return promise->future();
    }
    // Held (not copied) by the queued task, which std::function needs copyable; wiped when the task goes.
    auto held = std::make_shared<const SecretBytes>(std::move(secret));
    enqueue([this, promise, name, held](const Done &done) {
        // QtKeychain takes a QByteArray only.
        writeEntry(name, held->exposeForWire(), [this, promise, name, done](Result<void> written) {
            if (!written) {
                deliver(promise, written);
                return done();
            }
            editIndex(
                [name](QStringList &index) {
                    if (!index.contains(name))
                        index.append(name);
                },
                [this, promise, name, done](Result<void> indexed) {
                    if (indexed) {
                        deliver(promise, indexed);
                        return done();
                    }
                    // Do not leave an entry the index does not know about.
                    deleteEntry(name, [promise, indexed, done](Result<void>) {
                        deliver(promise, indexed);
                        done();
                    });
                });
        });
    });
    return promise->future();
}

QFuture<Result<SecretBytes>> SecretStore::load(const QString &name)
{
    auto promise = startedPromise<SecretBytes>();
    if (auto ok = validName(name); !ok) {
        deliver<SecretBytes>(promise, std::unexpected(ok.error()));
        return promise->future();
    }
    enqueue([this, promise, name](const Done &done) {
        readEntry(name, [promise, done](Result<SecretBytes> data) {
            deliver(promise, std::move(data));
            done();
        });
    });
    return promise->future();
}

QFuture<Result<void>> SecretStore::remove(const QString &name)
{
    auto promise = startedPromise<void>();
    if (auto ok = validName(name); !ok) {
        deliver(promise, ok);
        return promise->future();
    }
    enqueue([this, promise, name](const Done &done) {
        // The Secret Service reports success when deleting an entry that does not exist, so look first.
        readEntry(name, [this, promise, name, done](Result<SecretBytes> existing) {
            if (!existing && existing.error().kind != ErrorKind::NotFound) {
                deliver<void>(promise, std::unexpected(existing.error()));
                return done();
            }
            const auto forget = [this, promise, name, done](Result<void> outcome) {
                // Gone from the keychain (or never there): make sure the index forgets it too.
                editIndex([name](QStringList &index) { index.removeAll(name); },
                    [promise, outcome, done](Result<void> indexed) {
                        deliver(promise, indexed ? outcome : indexed);
                        done();
                    });
            };
            if (!existing)
                return forget(std::unexpected(existing.error()));
            existing->clear(); // only its existence mattered
            deleteEntry(name, [promise, forget, done](Result<void> deleted) {
                if (!deleted) {
                    deliver(promise, deleted);
                    return done();
                }
                forget(deleted);
            });
        });
    });
    return promise->future();
}

QFuture<Result<QStringList>> SecretStore::list()
{
    auto promise = startedPromise<QStringList>();
    enqueue([this, promise](const Done &done) {
        readIndex([promise, done](Result<QStringList> index) {
            deliver(promise, std::move(index));
            done();
        });
    });
    return promise->future();
}

void SecretStore::enqueue(Task task)
{
    m_queue.append(std::move(task)); // enqueue() would copy it
    if (!m_busy)
        runNext();
}

void SecretStore::runNext()
{
    if (m_queue.isEmpty()) {
        m_busy = false;
        return;
    }
    m_busy = true;
    Task task = m_queue.dequeue();
    // Continue on the next event-loop turn so a long queue never recurses.
    task([this] { QMetaObject::invokeMethod(this, &SecretStore::runNext, Qt::QueuedConnection); });
}

void SecretStore::readEntry(const QString &name, std::function<void(Result<SecretBytes>)> callback)
{
    auto *job = new QKeychain::ReadPasswordJob(m_service, this);
    job->setAutoDelete(true);
    job->setInsecureFallback(false);
    job->setKey(name);
    connect(job, &QKeychain::Job::finished, this, [name, callback = std::move(callback)](QKeychain::Job *finished) {
        auto *read = static_cast<QKeychain::ReadPasswordJob *>(finished);
        if (read->error() != QKeychain::NoError) {
            if (read->error() != QKeychain::EntryNotFound)
                qCWarning(lcKeychain) << "reading" << name << "failed:" << read->errorString();
            callback(std::unexpected(keychainError(read->error(), read->errorString(), name)));
            return;
        }
        // binaryData() shares the job's array, which the job frees unwiped when it is deleted (QtKeychain's).
        callback(SecretBytes::fromQByteArray(read->binaryData()));
    });
    job->start();
}

void SecretStore::writeEntry(const QString &name, const QByteArray &data, std::function<void(Result<void>)> callback)
{
    auto *job = new QKeychain::WritePasswordJob(m_service, this);
    job->setAutoDelete(true);
    job->setInsecureFallback(false);
    job->setKey(name);
    job->setBinaryData(data);
    connect(job, &QKeychain::Job::finished, this, [name, callback = std::move(callback)](QKeychain::Job *finished) {
        if (finished->error() != QKeychain::NoError) {
            qCWarning(lcKeychain) << "writing" << name << "failed:" << finished->errorString();
            callback(std::unexpected(keychainError(finished->error(), finished->errorString(), name)));
            return;
        }
        callback({});
    });
    job->start();
}

void SecretStore::deleteEntry(const QString &name, std::function<void(Result<void>)> callback)
{
    auto *job = new QKeychain::DeletePasswordJob(m_service, this);
    job->setAutoDelete(true);
    job->setInsecureFallback(false);
    job->setKey(name);
    connect(job, &QKeychain::Job::finished, this, [name, callback = std::move(callback)](QKeychain::Job *finished) {
        if (finished->error() != QKeychain::NoError) {
            callback(std::unexpected(keychainError(finished->error(), finished->errorString(), name)));
            return;
        }
        callback({});
    });
    job->start();
}

void SecretStore::readIndex(std::function<void(Result<QStringList>)> callback)
{
    readEntry(indexEntryName(), [callback = std::move(callback)](Result<SecretBytes> data) {
        if (!data) {
            if (data.error().kind == ErrorKind::NotFound)
                return callback(QStringList()); // nothing stored yet
            return callback(std::unexpected(data.error()));
        }
        QStringList names;
        // The index holds entry names, not secrets.
        const QJsonArray array = QJsonDocument::fromJson(data->exposeForWire()).array();
        for (const auto &value : array)
            names.append(value.toString());
        names.removeAll(QString());
        callback(names);
    });
}

void SecretStore::editIndex(const std::function<void(QStringList &)> &edit, std::function<void(Result<void>)> callback)
{
    readIndex([this, edit, callback = std::move(callback)](Result<QStringList> index) mutable {
        if (!index)
            return callback(std::unexpected(index.error()));
        QStringList names = *index;
        edit(names);
        names.sort();
        if (names == *index)
            return callback({});
        writeEntry(indexEntryName(), QJsonDocument(QJsonArray::fromStringList(names)).toJson(QJsonDocument::Compact),
            std::move(callback));
    });
}

} // namespace Onboarder
