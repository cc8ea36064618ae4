// Settings: defaults are not written, changed() only on a change, hub lists round-trip, and a change that cannot be
// written (a full disk) is a clear error that changes nothing, saved once there is room.
#include "common/settings.h"
#include "fulldiskchild.h"
#include "hub/hubprofile.h"
#include "testsupport.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace Onboarder;

class tst_Settings : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    static HubProfile hub(const QString &name)
    {
        HubProfile profile;
        profile.name = name;
        profile.hostName = name + QStringLiteral(".azure-devices.net");
        profile.policyName = QStringLiteral("iothubowner");
        return profile;
    }

private Q_SLOTS:
    void defaultsAreNotWritten()
    {
        const QString path = m_dir.filePath(QStringLiteral("defaults.conf"));
        Settings settings(path);
        QCOMPARE(settings.clipboardClearSeconds(), 30);
        settings.setClipboardClearSeconds(30);
        settings.sync();
        QVERIFY(!QFile::exists(path) || !QFile(path).open(QIODevice::ReadOnly) || QFile(path).size() == 0
            || !QSettings(path, QSettings::IniFormat).contains(QStringLiteral("security/clipboardClearSeconds")));
    }

    void changedSignalOnlyOnChange()
    {
        Settings settings(m_dir.filePath(QStringLiteral("signal.conf")));
        QSignalSpy spy(&settings, &Settings::changed);
        settings.setClipboardClearSeconds(45);
        settings.setClipboardClearSeconds(45);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("security/clipboardClearSeconds"));
        QCOMPARE(settings.clipboardClearSeconds(), 45);
    }

    void hubsRoundTripAndShrink()
    {
        const QString path = m_dir.filePath(QStringLiteral("hubs.conf"));
        QList<HubProfile> hubs;
        for (int i = 0; i < 3; ++i) {
            HubProfile hub;
            hub.name = QStringLiteral("hub%1").arg(i);
            hub.hostName = QStringLiteral("h%1.azure-devices.net").arg(i);
            hub.policyName = QStringLiteral("iothubowner");
            hub.restPort = i == 1 ? 8443 : 0;
            hub.caFile = i == 2 ? QStringLiteral("/tmp/ca.pem") : QString();
            hubs.append(hub);
        }
        {
            Settings settings(path);
            QVERIFY(settings.setHubs(hubs));
        }
        Settings reread(path);
        QCOMPARE(reread.hubs(), hubs);

        hubs.removeFirst();
        QVERIFY(reread.setHubs(hubs));
        QCOMPARE(Settings(path).hubs(), hubs);
        QVERIFY(reread.setHubs({}));
        QCOMPARE(Settings(path).hubs().size(), 0);
    }

    // Runs only as the child of aFullDiskIsAClearErrorThatChangesNothing, on the full disk; makes room at the end.
    void changeInChild()
    {
        if (TestSupport::fullDiskDir().isEmpty())
            QSKIP("the child of aFullDiskIsAClearErrorThatChangesNothing");
        const QString path = TestSupport::fullDiskDir() + QStringLiteral("/onboarder.conf");
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray before = file.readAll();
        file.close();

        Settings settings(path);
        QSignalSpy spy(&settings, &Settings::changed);
        const auto added = settings.setHubs({hub(QStringLiteral("a")), hub(QStringLiteral("b"))});
        QVERIFY(!added);
        qInfo("on a full disk: %s", qPrintable(added.error().message));
        QCOMPARE(added.error().code, QStringLiteral("SettingsNotWritable"));
        QVERIFY2(added.error().message.contains(path)
                && added.error().message.contains(QStringLiteral("No space left on device")),
            qPrintable(added.error().message));
        const auto current = settings.setCurrentHub(QStringLiteral("b"));
        QVERIFY(!current);
        QCOMPARE(current.error().code, QStringLiteral("SettingsNotWritable"));
        QVERIFY(!settings.setClipboardClearSeconds(5));

        // What was not saved does not read back as if it were, and nobody was told of a change.
        QCOMPARE(settings.hubs(), QList<HubProfile>{hub(QStringLiteral("a"))});
        QCOMPARE(settings.currentHub(), QStringLiteral("a"));
        QCOMPARE(settings.clipboardClearSeconds(), 30);
        QCOMPARE(spy.count(), 0);
        // The file is as it was, and nothing was left beside it (no temporary file, no lock file).
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), before);
        file.close();
        QCOMPARE(QDir(TestSupport::fullDiskDir()).entryList(QDir::Files | QDir::Hidden),
            QStringList{QStringLiteral("onboarder.conf")});

        // Room again: the same Settings saves the change made again (QSettings alone would go on reporting the
        // first error it met).
        QVERIFY(QFile::remove(qEnvironmentVariable("ONBOARDER_FULL_DISK_SWITCH")));
        QVERIFY(settings.setHubs({hub(QStringLiteral("a")), hub(QStringLiteral("b"))}));
        QVERIFY(settings.setCurrentHub(QStringLiteral("b")));
        QCOMPARE(spy.count(), 2);
    }

    void aFullDiskIsAClearErrorThatChangesNothing()
    {
        const QString dir = m_dir.filePath(QStringLiteral("full"));
        QVERIFY(QDir().mkpath(dir));
        const QString path = dir + QStringLiteral("/onboarder.conf");
        {
            Settings settings(path);
            QVERIFY(settings.setHubs({hub(QStringLiteral("a"))}));
            QVERIFY(settings.setCurrentHub(QStringLiteral("a")));
        }
        const QString full = TestSupport::writeFile(m_dir.filePath(QStringLiteral("disk-is-full")), "0");
        QCOMPARE(TestSupport::runOnFullDisk(QStringLiteral("changeInChild"), dir, full), 0);
        QVERIFY(!QFile::exists(full)); // the child made room again

        Settings reread(path);
        QCOMPARE(reread.hubs(), (QList<HubProfile>{hub(QStringLiteral("a")), hub(QStringLiteral("b"))}));
        QCOMPARE(reread.currentHub(), QStringLiteral("b"));
        QCOMPARE(reread.clipboardClearSeconds(), 30);
        QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::Hidden), QStringList{QStringLiteral("onboarder.conf")});
    }
};

QTEST_GUILESS_MAIN(tst_Settings)
#include "tst_settings.moc"
