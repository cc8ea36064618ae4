#pragma once

#include "common/result.h"
#include "common/secretbytes.h"

#include <QByteArray>
#include <QFuture>
#include <QObject>
#include <QQueue>
#include <QStringList>

#include <functional>

namespace Onboarder {

// Secrets in the OS keychain (Secret Service on Linux, through QtKeychain), filed under one service
// name. Every call is asynchronous and the calls run one after another in the order they were made.
// The keychain has no "list" operation, so the store keeps an index of its entry names in an entry of
// its own. There is no plaintext fallback: without a keychain every call fails with ErrorKind::Keychain.
// Secrets come in and go out as SecretBytes; QtKeychain itself takes and gives a QByteArray, which is made at its
// call and dropped there (the copies inside QtKeychain and the Secret Service are theirs).
//
// Threads: call it only from the thread it lives on, where its keychain jobs run and its futures finish. That
// thread's event loop needs a GLib main context (QtKeychain's libsecret backend): not one run by an
// EpollEventDispatcher (the relay posts its keychain work to the CredentialStore's thread).
class SecretStore final : public QObject
{
    Q_OBJECT

public:
    explicit SecretStore(const QString &service, QObject *parent = nullptr);
    ~SecretStore() override;

    QString service() const { return m_service; }

    QFuture<Result<void>> save(const QString &name, SecretBytes secret);
    QFuture<Result<SecretBytes>> load(const QString &name);
    QFuture<Result<void>> remove(const QString &name); // NotFound when there is no such entry
    QFuture<Result<QStringList>> list();

    static QString indexEntryName();

private:
    using Done = std::function<void()>;
    using Task = std::function<void(Done)>;

    void enqueue(Task task);
    void runNext();

    void readEntry(const QString &name, std::function<void(Result<SecretBytes>)> callback);
    void writeEntry(const QString &name, const QByteArray &data, std::function<void(Result<void>)> callback);
    void deleteEntry(const QString &name, std::function<void(Result<void>)> callback);
    void readIndex(std::function<void(Result<QStringList>)> callback);
    void editIndex(const std::function<void(QStringList &)> &edit, std::function<void(Result<void>)> callback);

    QString m_service;
    QQueue<Task> m_queue;
    bool m_busy = false;
};

} // namespace Onboarder
