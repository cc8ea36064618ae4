#include "common/settings.h"
#include "hub/hubprofile.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace Onboarder;

class tst_Settings : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

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
};

QTEST_GUILESS_MAIN(tst_Settings)
#include "tst_settings.moc"
