#pragma once

#include <QByteArrayView>
#include <QtGlobal>

#include <atomic>
#include <cstddef>
#include <memory>

class QByteArray;
class QDebug;
class QString;

namespace Onboarder {

// A secret (a private key's PEM, a SAS key, a password, a token) in a buffer of its own.
//
// Why not a QByteArray: a QByteArray is implicitly shared, so filling one copy with zeros detaches and wipes a new copy
// while the secret stays in the buffer the other copies share. A SecretBytes owns its buffer alone: a copy is a second,
// independent buffer (never a shared one), and each buffer is overwritten with OPENSSL_cleanse before it is freed: on
// destruction, on clear(), when it is assigned another value and when it is moved from (the buffer moves with the
// value; the source is left empty and owns nothing). Move it wherever it goes on; copy only where two are needed.
//
// Why it can be copied at all: Qt 6.4 hands a move-only result to a continuation with takeResult(), which resets the
// future, and the QPromise that a continuation chain keeps inside Qt then runs the next continuation a second time
// (a crash). A QFuture<Result<SecretBytes>> (keychain reads, the relay's device secrets) is only safe with a
// copyable type, so copying is allowed, and it is a deep copy.
//
// The bytes are reached only through explicit calls, so every use can be found with grep: view() and data()/size()
// for code that reads them in place (OpenSSL, a comparison, a parser), and exposeForWire()/exposeAsString() for a Qt
// API that insists on a QByteArray or a QString (QSslKey, a network header, a socket write, QLineEdit, the
// clipboard). What those two return is a short-lived copy that this class cannot wipe: call them right at that API's
// call, and let the copy die there. Nothing converts implicitly, and qDebug() prints "SecretBytes(<n> bytes,
// redacted)", never the content.
//
// The buffer always ends with a '\0' after size() bytes, so data() can go to C APIs that want a C string (OpenSSL's
// passwords, Proton's SASL password).
//
// Limits: a secret that arrived in a QByteArray or a QString may have left copies that no one can reach (earlier
// reallocations, other copies of a shared array, the library that produced it); fromQByteArray() and fromString()
// wipe the one buffer they are given when they are its only owner, nothing more.
class SecretBytes final
{
public:
    SecretBytes() noexcept = default;
    ~SecretBytes();
    SecretBytes(SecretBytes &&other) noexcept;
    SecretBytes &operator=(SecretBytes &&other) noexcept;
    SecretBytes(const SecretBytes &other); // a buffer of its own with the same bytes
    SecretBytes &operator=(const SecretBytes &other);

    // Takes the bytes of an array: copies them into a buffer of its own and, when the array was the only owner of
    // its buffer, wipes that buffer (also what lies after its size, e.g. what chop() left) and leaves it empty. A
    // shared array cannot be wiped from here (its other copies would see zeros): only its handle is released.
    static SecretBytes fromQByteArray(QByteArray &&bytes);
    // The UTF-8 of a text (a connection string, a key's base64, a password typed into a field); the text's own
    // buffer is wiped as fromQByteArray() wipes an array's, under the same limit.
    static SecretBytes fromString(QString &&text);
    // A copy of bytes someone else owns (Proton's SASL frame, an OpenSSL buffer); wiping the source is its owner's.
    static SecretBytes fromView(QByteArrayView bytes);

    // A second, independent secret with the same bytes (the copy constructor, said out loud).
    SecretBytes copy() const;

    qsizetype size() const noexcept { return m_size; }
    bool isEmpty() const noexcept { return m_size == 0; }
    // The bytes in place, followed by a '\0'; "" when empty. Valid until this object changes or goes.
    const char *data() const noexcept { return m_data ? m_data.get() : ""; }
    QByteArrayView view() const noexcept { return QByteArrayView(data(), m_size); }

    // A QByteArray copy, for a Qt API that takes nothing else (QSslKey, a network header, a socket write, QtKeychain).
    // The copy is not wiped: make it at that call and keep it no longer.
    QByteArray exposeForWire() const;
    // The bytes as UTF-8 text in a QString, for a Qt API that takes text (QLineEdit, the clipboard, a text parser).
    // The same warning as exposeForWire().
    QString exposeAsString() const;

    // Wipes and frees the bytes; the object is empty afterwards.
    void clear() noexcept;

    // Compares in constant time for secrets of the same size (CRYPTO_memcmp); the sizes themselves are not hidden.
    friend bool operator==(const SecretBytes &a, const SecretBytes &b) noexcept;

private:
    friend struct SecretBytesTestAccess; // tests/unit/tst_secretbytes.cpp

    // Called with every buffer this class wipes (its own, and the array or text it took), right after the wipe and
    // before the buffer is freed: tests check that it is all zeros. Null outside tests.
    using WipeObserver = void (*)(const char *buffer, qsizetype length);
    static std::atomic<WipeObserver> s_wipeObserver;
    static void cleanse(void *buffer, size_t length) noexcept;

    explicit SecretBytes(QByteArrayView bytes);
    void wipe() noexcept;

    std::unique_ptr<char[]> m_data; // m_size bytes and a '\0'; null when empty
    qsizetype m_size = 0;
};

// "SecretBytes(<n> bytes, redacted)": never the content.
QDebug operator<<(QDebug debug, const SecretBytes &secret);

} // namespace Onboarder
