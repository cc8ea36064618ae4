// CredentialInventory: records survive the JSON file, slots replace, a damaged file is an error.
#include "credentials/credentialinventory.h"
#include "fulldiskchild.h"
#include "testsupport.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace Onboarder;

class tst_CredentialInventory : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    static CredentialRecord record(
        const QString &hub, const QString &id, CredentialRecord::Kind kind, const QString &thumbprint)
    {
        CredentialRecord r;
        r.hub = hub;
        r.deviceId = id;
        r.kind = kind;
        r.keyType = QStringLiteral("EC P-256");
        r.keychainEntry = QStringLiteral("hub/%1/device/%2/private-key").arg(hub, id);
        r.certificateFile = QStringLiteral("/x/%1.pem").arg(id);
        r.thumbprintSha1 = thumbprint;
        r.notAfter = QDateTime(QDate(2030, 1, 2), QTime(3, 4, 5), Qt::UTC);
        r.createdAt = QDateTime(QDate(2026, 1, 2), QTime(3, 4, 5), Qt::UTC);
        return r;
    }

private Q_SLOTS:
    void roundTripAndSlots()
    {
        const QString path = m_dir.filePath(QStringLiteral("a/inventory.json"));
        CredentialInventory inventory(path);
        QVERIFY(inventory.load().has_value()); // no file yet: empty
        QVERIFY(inventory.records().isEmpty());

        const auto self = record(
            QStringLiteral("h"), QStringLiteral("d1"), CredentialRecord::Kind::X509SelfSigned, QStringLiteral("AA"));
        QVERIFY(inventory.put(self).has_value());
        QVERIFY(
            inventory.put(record(QStringLiteral("h"), QStringLiteral("d1"), CredentialRecord::Kind::SymmetricKey, {}))
                .has_value());
        // A CA-signed credential takes the self-signed one's place: one X.509 credential per device.
        const auto caSigned = record(
            QStringLiteral("h"), QStringLiteral("d1"), CredentialRecord::Kind::X509CaSigned, QStringLiteral("BB"));
        QVERIFY(inventory.put(caSigned).has_value());

        CredentialInventory reread(path);
        QVERIFY(reread.load().has_value());
        QCOMPARE(reread.records().size(), 2);
        QCOMPARE(*reread.x509(QStringLiteral("h"), QStringLiteral("d1")), caSigned);
        QVERIFY(reread.symmetricKey(QStringLiteral("h"), QStringLiteral("d1")).has_value());
        QVERIFY(!reread.x509(QStringLiteral("other"), QStringLiteral("d1")).has_value());

        QCOMPARE(*reread.remove(caSigned), true);
        QCOMPARE(*reread.remove(caSigned), false);
        QVERIFY(inventory.load().has_value());
        QCOMPARE(inventory.records().size(), 1);
    }

    void damagedFileIsAnError()
    {
        const QString path = TestSupport::writeFile(m_dir.filePath(QStringLiteral("broken.json")), "{ not json");
        CredentialInventory inventory(path);
        QCOMPARE(inventory.load().error().code, QStringLiteral("InventoryUnreadable"));
        // And nothing is written over it.
        QCOMPARE(
            inventory.put(record(QStringLiteral("h"), QStringLiteral("d"), CredentialRecord::Kind::X509SelfSigned, {}))
                .error()
                .code,
            QStringLiteral("InventoryUnreadable"));
    }

    // Runs only as the child of aFullDiskChangesNothing, on the full disk.
    void putInChild()
    {
        if (TestSupport::fullDiskDir().isEmpty())
            QSKIP("the child of aFullDiskChangesNothing");
        CredentialInventory inventory(TestSupport::fullDiskDir() + QStringLiteral("/inventory.json"));
        const auto put = inventory.put(
            record(QStringLiteral("h"), QStringLiteral("d2"), CredentialRecord::Kind::X509SelfSigned, {}));
        QVERIFY(!put);
        qInfo("on a full disk: %s", qPrintable(put.error().message));
        QVERIFY(!put.error().message.isEmpty());
    }

    // A record that cannot be saved (a full disk) leaves the inventory as it was, and is saved once there is room.
    void aFullDiskChangesNothing()
    {
        const QString dir = m_dir.filePath(QStringLiteral("full"));
        const QString path = dir + QStringLiteral("/inventory.json");
        CredentialInventory inventory(path);
        QVERIFY(
            inventory.put(record(QStringLiteral("h"), QStringLiteral("d1"), CredentialRecord::Kind::SymmetricKey, {})));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray before = file.readAll();
        file.close();

        const QString full = TestSupport::writeFile(m_dir.filePath(QStringLiteral("disk-is-full")), "0");
        QCOMPARE(TestSupport::runOnFullDisk(QStringLiteral("putInChild"), dir, full), 0);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), before);
        file.close();
        QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::Hidden), QStringList{QStringLiteral("inventory.json")});

        QVERIFY(QFile::remove(full)); // room again
        QVERIFY(inventory.put(
            record(QStringLiteral("h"), QStringLiteral("d2"), CredentialRecord::Kind::X509SelfSigned, {})));
        QVERIFY(inventory.load());
        QCOMPARE(inventory.records().size(), 2);
    }
};

QTEST_GUILESS_MAIN(tst_CredentialInventory)
#include "tst_credentialinventory.moc"
