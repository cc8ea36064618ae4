// CredentialInventory: records survive the JSON file, slots replace, a damaged file is an error.
#include "credentials/credentialinventory.h"
#include "testsupport.h"

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
};

QTEST_GUILESS_MAIN(tst_CredentialInventory)
#include "tst_credentialinventory.moc"
