#pragma once

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFuture>
#include <QProcessEnvironment>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QString>
#include <QTest>

#include <type_traits>

namespace TestSupport {

// Waits for a future while the event loop runs (keychain and network calls finish there).
template<typename T> T await(QFuture<T> future, int timeoutMs = 20000)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!future.isFinished() && !deadline.hasExpired())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    if (!future.isFinished())
        qFatal("future did not finish within %d ms", timeoutMs);
    if constexpr (std::is_copy_constructible_v<T>)
        return future.result();
    else
        return future.takeResult(); // a move-only result (SecretBytes)
}

// True inside scripts/test-session (private D-Bus with an unlocked gnome-keyring). Tests that need the
// real keychain fail, rather than skip, outside it: a skipped keychain test would prove nothing.
inline bool inTestSession()
{
    return qEnvironmentVariableIsSet("ONBOARDER_TEST_SESSION") && qEnvironmentVariableIsSet("DBUS_SESSION_BUS_ADDRESS");
}

#define REQUIRE_TEST_SESSION()                                                                                         \
    QVERIFY2(TestSupport::inTestSession(),                                                                             \
        "needs the real Secret Service: run through scripts/test or scripts/test-session ctest")

// A command-line tool a test runs as an independent peer (openssl, …): missing, the test fails under CI (CI=true, where
// nothing may be skipped silently) and is skipped with the reason elsewhere.
#define REQUIRE_TOOL(tool)                                                                                             \
    do {                                                                                                               \
        if (QStandardPaths::findExecutable(QStringLiteral(tool)).isEmpty()) {                                          \
            if (qEnvironmentVariable("CI") == QStringLiteral("true"))                                                  \
                QFAIL("the " tool " command is needed by this test and is not installed (scripts/setup installs it)"); \
            QSKIP("the " tool " command is not installed");                                                            \
        }                                                                                                              \
    } while (false)

// An IMEI from its first 14 digits and the Luhn check digit (3GPP TS 23.003, annex B), as a modem reports it.
inline QString completeImei(const QString &first14)
{
    int sum = 0;
    for (int i = 0; i < 14; ++i) {
        int digit = first14.at(i).digitValue();
        if (i % 2 == 1)
            digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
        sum += digit;
    }
    return first14 + QString::number((10 - sum % 10) % 10);
}

inline QString buildPath(const QString &relative)
{
    return qEnvironmentVariable("ONBOARDER_BUILD_DIR") + u'/' + relative;
}

inline QString sourcePath(const QString &relative)
{
    return qEnvironmentVariable("ONBOARDER_SOURCE_DIR") + u'/' + relative;
}

// Writes data to path (replacing it) and returns the path.
inline QString writeFile(const QString &path, const QByteArray &data)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(data) != data.size())
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

// Every regular file below dir whose bytes contain needle (the secret-leak scans).
inline QStringList filesContaining(const QString &dir, const QByteArray &needle)
{
    QStringList hits;
    QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::NoSymLinks, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        QFile file(it.next());
        if (file.open(QIODevice::ReadOnly) && file.readAll().contains(needle))
            hits.append(file.fileName());
    }
    return hits;
}

// A random base64 key of the size IoT Hub generates (32 bytes).
inline QString randomKey()
{
    QByteArray bytes(32, Qt::Uninitialized);
    for (char &c : bytes)
        c = char(QRandomGenerator::global()->bounded(256));
    return QString::fromLatin1(bytes.toBase64());
}

} // namespace TestSupport
