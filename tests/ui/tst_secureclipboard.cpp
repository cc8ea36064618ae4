// The clipboard that forgets secrets: marked for clipboard managers, cleared after the set time, and
// only if it still holds our value. Runs on the offscreen platform's clipboard.
#include "common/settings.h"
#include "secureclipboard.h"

#include <QApplication>
#include <QClipboard>
#include <QMimeData>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace Onboarder;

class tst_SecureClipboard : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<Settings> m_settings;

private Q_SLOTS:
    void init()
    {
        m_settings = std::make_unique<Settings>(m_dir.filePath(QStringLiteral("onboarder.conf")));
        m_settings->setClipboardClearSeconds(1);
        QGuiApplication::clipboard()->clear();
    }

    void clearsItsValueAfterTheTimeout()
    {
        SecureClipboard clipboard(*m_settings);
        QCOMPARE(clipboard.clearAfterSeconds(), 1);
        QSignalSpy cleared(&clipboard, &SecureClipboard::cleared);
        clipboard.copy(QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=c2VjcmV0"));
        QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=c2VjcmV0"));
        const QMimeData *mime = QGuiApplication::clipboard()->mimeData();
        QCOMPARE(mime->data(QStringLiteral("x-kde-passwordManagerHint")), QByteArray("secret"));
        QVERIFY(clipboard.holdsOurValue());
        QTest::qWait(300);
        QCOMPARE(cleared.count(), 0); // not before its time
        QTRY_COMPARE_WITH_TIMEOUT(cleared.count(), 1, 3000);
        QVERIFY(QGuiApplication::clipboard()->text().isEmpty());
        QVERIFY(!clipboard.holdsOurValue());
    }

    void leavesWhatTheUserCopiedMeanwhile()
    {
        SecureClipboard clipboard(*m_settings);
        QSignalSpy cleared(&clipboard, &SecureClipboard::cleared);
        QSignalSpy replaced(&clipboard, &SecureClipboard::replaced);
        clipboard.copy(QStringLiteral("secret-one"));
        QGuiApplication::clipboard()->setText(QStringLiteral("the user's own text"));
        QTRY_COMPARE_WITH_TIMEOUT(replaced.count(), 1, 3000);
        QCOMPARE(cleared.count(), 0);
        QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("the user's own text"));
    }

    void aNewCopyRestartsTheTime()
    {
        SecureClipboard clipboard(*m_settings);
        QSignalSpy cleared(&clipboard, &SecureClipboard::cleared);
        clipboard.copy(QStringLiteral("first"));
        QTest::qWait(700);
        clipboard.copy(QStringLiteral("second"));
        QTest::qWait(700);
        QCOMPARE(cleared.count(), 0);
        QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("second"));
        QTRY_COMPARE_WITH_TIMEOUT(cleared.count(), 1, 3000);
        QVERIFY(QGuiApplication::clipboard()->text().isEmpty());
    }

    void clearedWhenTheOwnerGoes()
    {
        {
            SecureClipboard clipboard(*m_settings);
            m_settings->setClipboardClearSeconds(600);
            clipboard.copy(QStringLiteral("short-lived"));
        }
        QVERIFY(QGuiApplication::clipboard()->text().isEmpty());
    }
};

QTEST_MAIN(tst_SecureClipboard)
#include "tst_secureclipboard.moc"
