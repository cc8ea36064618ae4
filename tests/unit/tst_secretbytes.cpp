// SecretBytes: its buffer is wiped when it goes, nothing of it is left behind by a move, it never shows in a log,
// and what it takes from a QByteArray or a QString is wiped there too when it can be.
#include "common/secretbytes.h"

#include <QByteArray>
#include <QDebug>
#include <QList>
#include <QString>
#include <QTest>

#include <type_traits>
#include <utility>

namespace Onboarder {

// The class's test hook: sees every buffer right after it was wiped, while it is still allocated.
struct SecretBytesTestAccess
{
    static void observe(SecretBytes::WipeObserver observer) { SecretBytes::s_wipeObserver.store(observer); }
};

} // namespace Onboarder

using namespace Onboarder;

namespace {

// What the observer saw: one entry per wiped buffer, its bytes as they were after the wipe.
QList<QByteArray> g_wiped;

void recordWipe(const char *buffer, qsizetype length)
{
    g_wiped.append(QByteArray(buffer, length));
}

bool allZero(const QByteArray &bytes)
{
    for (const char c : bytes) {
        if (c != '\0')
            return false;
    }
    return true;
}

SecretBytes secretOf(const char *text)
{
    return SecretBytes::fromView(QByteArrayView(text));
}

QStringList g_messages;

void captureMessage(QtMsgType, const QMessageLogContext &, const QString &message)
{
    g_messages.append(message);
}

} // namespace

class tst_SecretBytes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        g_wiped.clear();
        SecretBytesTestAccess::observe(&recordWipe);
    }

    void cleanup() { SecretBytesTestAccess::observe(nullptr); }

    void notConvertible()
    {
        // Copyable (deep) because Qt 6.4's futures need it; see secretbytes.h.
        static_assert(std::is_copy_constructible_v<SecretBytes>);
        static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);
        static_assert(!std::is_convertible_v<SecretBytes, QByteArray>);
        static_assert(!std::is_convertible_v<SecretBytes, QString>);
        static_assert(!std::is_convertible_v<SecretBytes, QByteArrayView>);
        static_assert(!std::is_convertible_v<QByteArray, SecretBytes>);
        static_assert(!std::is_convertible_v<QString, SecretBytes>);
    }

    void holdsItsBytes()
    {
        const SecretBytes secret = secretOf("top-secret");
        QCOMPARE(secret.size(), 10);
        QVERIFY(!secret.isEmpty());
        QCOMPARE(secret.view().toByteArray(), QByteArray("top-secret"));
        QCOMPARE(secret.exposeForWire(), QByteArray("top-secret"));
        QCOMPARE(secret.exposeAsString(), QStringLiteral("top-secret"));
        QCOMPARE(secret.data()[secret.size()], '\0'); // a C string for OpenSSL and Proton
        const SecretBytes empty;
        QVERIFY(empty.isEmpty());
        QCOMPARE(empty.size(), 0);
        QVERIFY(empty.data() != nullptr);
        QCOMPARE(empty.data()[0], '\0');
    }

    void destructionWipesTheBuffer()
    {
        {
            const SecretBytes secret = secretOf("top-secret");
            QVERIFY(g_wiped.isEmpty());
        }
        QCOMPARE(g_wiped.size(), 1);
        QCOMPARE(g_wiped.first().size(), 11); // the bytes and their '\0'
        QVERIFY2(allZero(g_wiped.first()), g_wiped.first().toHex().constData());
    }

    void moveLeavesTheSourceEmptyAndWipesNothingTwice()
    {
        SecretBytes source = secretOf("moved-secret");
        const char *buffer = source.data();
        SecretBytes target = std::move(source);
        // The buffer travelled: the source owns nothing, no copy of the bytes was made, nothing needed wiping yet.
        QVERIFY(source.isEmpty()); // NOLINT(bugprone-use-after-move): that is the point
        QCOMPARE(source.size(), 0);
        QVERIFY(source.view().isEmpty());
        QCOMPARE(source.data()[0], '\0');
        QVERIFY(target.data() == buffer); // the same buffer, not a copy
        QCOMPARE(target.view().toByteArray(), QByteArray("moved-secret"));
        QVERIFY(g_wiped.isEmpty());
        target.clear();
        QCOMPARE(g_wiped.size(), 1);
        QVERIFY(allZero(g_wiped.first()));
    }

    void moveAssignmentWipesWhatWasThere()
    {
        SecretBytes target = secretOf("old-secret");
        SecretBytes source = secretOf("new");
        target = std::move(source);
        QCOMPARE(g_wiped.size(), 1);
        QCOMPARE(g_wiped.first().size(), 11); // "old-secret" and its '\0'
        QVERIFY(allZero(g_wiped.first()));
        QVERIFY(source.isEmpty()); // NOLINT(bugprone-use-after-move)
        QCOMPARE(target.view().toByteArray(), QByteArray("new"));
    }

    void clearWipes()
    {
        SecretBytes secret = secretOf("cleared-secret");
        secret.clear();
        QVERIFY(secret.isEmpty());
        QCOMPARE(secret.size(), 0);
        QCOMPARE(g_wiped.size(), 1);
        QCOMPARE(g_wiped.first().size(), 15);
        QVERIFY(allZero(g_wiped.first()));
    }

    void copyIsIndependent()
    {
        SecretBytes original = secretOf("twice");
        const SecretBytes second = original.copy();
        QVERIFY(second.data() != original.data());
        original.clear();
        QCOMPARE(second.view().toByteArray(), QByteArray("twice"));
    }

    void aCopyIsADeepCopyAndCopyAssignmentWipes()
    {
        const SecretBytes original = SecretBytes::fromView("deep");
        SecretBytes copied(original);
        QVERIFY(copied.data() != original.data()); // a buffer of its own, never shared
        QVERIFY(copied == original);
        SecretBytes target = SecretBytes::fromView("was here");
        g_wiped.clear();
        target = original;
        QCOMPARE(g_wiped.size(), 1); // what target held was wiped before it took the copy
        QCOMPARE(target.view(), QByteArrayView("deep"));
        QVERIFY(target.data() != original.data());
    }

    void debugOutputIsRedacted()
    {
        // No byte of the secret occurs in "SecretBytes(8 bytes, redacted)".
        const QByteArray raw("@#%&*!~^");
        const SecretBytes secret = SecretBytes::fromView(raw);
        g_messages.clear();
        const QtMessageHandler previous = qInstallMessageHandler(&captureMessage);
        qDebug() << secret;
        qWarning() << "key:" << secret;
        qInstallMessageHandler(previous);
        QCOMPARE(g_messages.size(), 2);
        QVERIFY2(
            g_messages.at(0).contains(QStringLiteral("SecretBytes(8 bytes, redacted)")), qPrintable(g_messages[0]));
        for (const QString &message : std::as_const(g_messages)) {
            for (const char c : raw)
                QVERIFY2(!message.contains(QLatin1Char(c)), qPrintable(message));
        }
    }

    void equalityComparesEveryByte()
    {
        QVERIFY(secretOf("abcdef") == secretOf("abcdef"));
        QVERIFY(!(secretOf("abcdef") == secretOf("xbcdef"))); // first byte
        QVERIFY(!(secretOf("abcdef") == secretOf("abcdex"))); // last byte
        QVERIFY(!(secretOf("abcdef") == secretOf("abcde"))); // size
        QVERIFY(secretOf("abc") != secretOf("abd"));
        QVERIFY(SecretBytes() == SecretBytes());
        QVERIFY(!(SecretBytes() == secretOf("a")));
    }

    void fromQByteArrayWipesAnUnsharedArray()
    {
        QByteArray source("array-secret\n\n");
        source.chop(2); // what chop() leaves after size() is wiped too
        const SecretBytes secret = SecretBytes::fromQByteArray(std::move(source));
        QCOMPARE(secret.view().toByteArray(), QByteArray("array-secret"));
        QVERIFY(source.isEmpty()); // NOLINT(bugprone-use-after-move): the array was taken
        QCOMPARE(g_wiped.size(), 1); // the array's buffer, seen before it was freed
        QVERIFY(g_wiped.first().size() >= 14);
        QVERIFY2(allZero(g_wiped.first()), g_wiped.first().toHex().constData());
    }

    void fromQByteArrayLeavesASharedArraysOtherCopies()
    {
        QByteArray source("shared-secret");
        const QByteArray other = source; // another owner: wiping would change it under its feet
        const SecretBytes secret = SecretBytes::fromQByteArray(std::move(source));
        QCOMPARE(secret.view().toByteArray(), QByteArray("shared-secret"));
        QVERIFY(source.isEmpty()); // NOLINT(bugprone-use-after-move)
        QCOMPARE(other, QByteArray("shared-secret"));
        QVERIFY(g_wiped.isEmpty());
    }

    void fromStringTakesUtf8AndWipesTheText()
    {
        QString text = QString::fromUtf8("p\xc3\xa4ss-w\xc3\xb6rd");
        const SecretBytes secret = SecretBytes::fromString(std::move(text));
        QCOMPARE(secret.view().toByteArray(), QByteArray("p\xc3\xa4ss-w\xc3\xb6rd"));
        QVERIFY(text.isEmpty()); // NOLINT(bugprone-use-after-move)
        // Two buffers: the UTF-8 conversion's and the text's own (9 UTF-16 units at least).
        QCOMPARE(g_wiped.size(), 2);
        QVERIFY(g_wiped.at(1).size() >= 18);
        for (const QByteArray &wiped : std::as_const(g_wiped))
            QVERIFY2(allZero(wiped), wiped.toHex().constData());
        QCOMPARE(secret.exposeAsString(), QString::fromUtf8("p\xc3\xa4ss-w\xc3\xb6rd"));
    }
};

QTEST_GUILESS_MAIN(tst_SecretBytes)
#include "tst_secretbytes.moc"
