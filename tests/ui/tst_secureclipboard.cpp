// SecureClipboard on a real X server (Xvfb, the xcb platform; the offscreen platform's clipboard lives
// inside one process only), with another X client as the user's other application.
#include "secureclipboard.h"
#include "testsupport.h"

#include <QClipboard>
#include <QGuiApplication>
#include <QMimeData>
#include <QProcess>
#include <QSignalSpy>

using namespace Onboarder;

class tst_SecureClipboard : public QObject
{
    Q_OBJECT

    const QString m_secret = QStringLiteral("HostName=contoso.azure-devices.net;DeviceId=clip-1;SharedAccessKey=")
        + TestSupport::randomKey();

    static QString peer() { return TestSupport::buildPath(QStringLiteral("tests/ui/clipboardpeer")); }

    // What another application sees on the clipboard: its formats and text. Our event loop keeps
    // running meanwhile: while we own the clipboard, it is we who answer the other client's request.
    static QByteArray seenByAnotherClient()
    {
        QProcess show;
        show.start(peer(), {QStringLiteral("show")});
        QDeadlineTimer deadline(20000);
        while (!show.waitForFinished(10)) {
            if (deadline.hasExpired())
                qFatal("clipboardpeer show did not finish");
            QCoreApplication::processEvents();
        }
        return show.readAllStandardOutput();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(QGuiApplication::platformName() == QStringLiteral("xcb"),
            "run under Xvfb with QT_QPA_PLATFORM=xcb (ctest does: xvfb-run -a)");
    }

    void copiesWithTheHintAndClearsAfterTheTimeout()
    {
        SecureClipboard clipboard(QGuiApplication::clipboard());
        QCOMPARE(clipboard.clearAfterSeconds(), 30);
        clipboard.setClearAfterSeconds(2);
        QSignalSpy cleared(&clipboard, &SecureClipboard::cleared);
        QSignalSpy leftAlone(&clipboard, &SecureClipboard::leftAlone);
        clipboard.copySecret(m_secret);

        // Another client sees the secret and the password-manager hint.
        const QByteArray seen = seenByAnotherClient();
        QVERIFY2(seen.contains("\nx-kde-passwordManagerHint\n") || seen.startsWith("x-kde-passwordManagerHint\n"),
            seen.constData());
        const QByteArray secretLine = "text:" + m_secret.toUtf8();
        QVERIFY(seen.contains(secretLine));
        QCOMPARE(QGuiApplication::clipboard()->mimeData()->data(SecureClipboard::passwordManagerHintFormat()),
            QByteArray("secret"));

        // Still there one second in; gone after the timeout.
        QTest::qWait(1000);
        QVERIFY(clipboard.holdsOurSecret());
        QCOMPARE(cleared.count(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(cleared.count(), 1, 5000);
        QCOMPARE(leftAlone.count(), 0);
        QVERIFY(QGuiApplication::clipboard()->text().isEmpty());
        QVERIFY(!seenByAnotherClient().contains(m_secret.toUtf8()));
    }

    void leavesWhatTheUserCopiedMeanwhile()
    {
        SecureClipboard clipboard(QGuiApplication::clipboard());
        clipboard.setClearAfterSeconds(2);
        QSignalSpy cleared(&clipboard, &SecureClipboard::cleared);
        QSignalSpy leftAlone(&clipboard, &SecureClipboard::leftAlone);
        clipboard.copySecret(m_secret);
        QVERIFY(clipboard.holdsOurSecret());

        // The user copies something in another application; it owns the clipboard from now on.
        QProcess other;
        other.start(peer(), {QStringLiteral("set"), QStringLiteral("the user's own text")});
        QTRY_VERIFY_WITH_TIMEOUT(other.canReadLine(), 20000);
        QCOMPARE(other.readLine().trimmed(), QByteArray("ready"));
        QTRY_COMPARE_WITH_TIMEOUT(QGuiApplication::clipboard()->text(), QStringLiteral("the user's own text"), 5000);

        QTRY_COMPARE_WITH_TIMEOUT(leftAlone.count(), 1, 5000);
        QCOMPARE(cleared.count(), 0);
        QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("the user's own text"));
        QVERIFY(seenByAnotherClient().contains("text:the user's own text"));

        other.closeWriteChannel();
        QVERIFY(other.waitForFinished(10000));
    }
};

QTEST_MAIN(tst_SecureClipboard)
#include "tst_secureclipboard.moc"
