// KeyRotation: a SAS device's keys regenerated or swapped, everything else as read (its ETag included, so that the
// write-back is conditional), and the sentence that says what the change breaks.
#include "hub/keyrotation.h"

#include <QSet>
#include <QTest>

using namespace Onboarder;

namespace {

DeviceIdentity sasDevice()
{
    DeviceIdentity device;
    device.id = QStringLiteral("dev-1");
    device.etag = QStringLiteral("\"MTIz\"");
    device.primaryKey = QStringLiteral("cHJpbWFyeS1rZXktb2YtZGV2LTEtcHJpbWFyeS1rZXk=");
    device.secondaryKey = QStringLiteral("c2Vjb25kYXJ5LWtleS1vZi1kZXYtMS1zZWNvbmRhcnk=");
    device.connectionState = QStringLiteral("Disconnected");
    return device;
}

} // namespace

class tst_KeyRotation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void regenerateChangesOneKeyOnly()
    {
        const DeviceIdentity before = sasDevice();
        QSet<QString> seen{before.primaryKey};
        for (int i = 0; i < 20; ++i) {
            const auto after = KeyRotation::apply(before, KeyRotation::Change::RegeneratePrimary);
            QVERIFY(after);
            QCOMPARE(QByteArray::fromBase64(after->primaryKey.toLatin1()).size(), 32);
            QVERIFY2(!seen.contains(after->primaryKey), "a new key each time");
            seen.insert(after->primaryKey);
            QCOMPARE(after->secondaryKey, before.secondaryKey);
            QCOMPARE(after->etag, before.etag); // written back only over the version read
            QCOMPARE(after->id, before.id);
        }
        const auto secondary = KeyRotation::apply(before, KeyRotation::Change::RegenerateSecondary);
        QVERIFY(
            secondary && secondary->primaryKey == before.primaryKey && secondary->secondaryKey != before.secondaryKey);
    }

    void swapExchangesTheKeys()
    {
        const DeviceIdentity before = sasDevice();
        const auto after = KeyRotation::apply(before, KeyRotation::Change::Swap);
        QVERIFY(after);
        QCOMPARE(after->primaryKey, before.secondaryKey);
        QCOMPARE(after->secondaryKey, before.primaryKey);
    }

    void aCertificateDeviceHasNoKeysToChange()
    {
        DeviceIdentity device = sasDevice();
        device.authType = QStringLiteral("selfSigned");
        const auto refused = KeyRotation::apply(device, KeyRotation::Change::RegeneratePrimary);
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, QStringLiteral("NotSasDevice"));
        QCOMPARE(refused.error().kind, ErrorKind::Conflict);
    }

    void aNewCertificateBecomesPrimaryAndTheOldOneSecondary()
    {
        DeviceIdentity device = sasDevice();
        device.authType = QStringLiteral("selfSigned");
        device.primaryKey.clear();
        device.secondaryKey.clear();
        device.primaryThumbprint = QStringLiteral("1111111111111111111111111111111111111111");
        device.secondaryThumbprint = QStringLiteral("2222222222222222222222222222222222222222");
        const QString next = QStringLiteral("abcdefabcdefabcdefabcdefabcdefabcdefabcd");
        const auto rolled = KeyRotation::replaceThumbprint(device, next);
        QVERIFY(rolled);
        QCOMPARE(rolled->primaryThumbprint, next.toUpper());
        QCOMPARE(rolled->secondaryThumbprint, device.primaryThumbprint); // the old one still taken
        QCOMPARE(rolled->etag, device.etag);
        const QString said = KeyRotation::thumbprintConsequence(device, next);
        QVERIFY(said.contains(next.toUpper()) && said.contains(device.primaryThumbprint));
        QVERIFY2(said.contains(QStringLiteral("(2222222222222222222222222222222222222222) is no longer accepted")),
            qPrintable(said));

        const auto same = KeyRotation::replaceThumbprint(device, device.primaryThumbprint.toLower());
        QVERIFY(!same);
        QCOMPARE(same.error().code, QStringLiteral("ThumbprintUnchanged"));
        const auto sas = KeyRotation::replaceThumbprint(sasDevice(), next);
        QVERIFY(!sas);
        QCOMPARE(sas.error().code, QStringLiteral("NotSelfSignedDevice"));
    }

    void theWarningSaysWhatBreaksAndWhetherTheDeviceIsConnected()
    {
        DeviceIdentity device = sasDevice();
        const QString offline = KeyRotation::consequence(device, KeyRotation::Change::RegeneratePrimary);
        QVERIFY(offline.contains(QStringLiteral("old primary key")));
        QVERIFY(offline.contains(QStringLiteral("not connected now")));
        device.connectionState = QStringLiteral("Connected");
        const QString online = KeyRotation::consequence(device, KeyRotation::Change::RegenerateSecondary);
        QVERIFY(online.contains(QStringLiteral("old secondary key")));
        QVERIFY(online.contains(QStringLiteral("The device is connected now")));
        QVERIFY(!online.contains(device.primaryKey) && !online.contains(device.secondaryKey));
        QVERIFY(KeyRotation::consequence(device, KeyRotation::Change::Swap).contains(QStringLiteral("change places")));
    }
};

QTEST_APPLESS_MAIN(tst_KeyRotation)
#include "tst_keyrotation.moc"
