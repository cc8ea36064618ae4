// HubStore with a real settings file and the real Secret Service.
#include "common/settings.h"
#include "credentials/secretstore.h"
#include "hub/hubstore.h"
#include "testsupport.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QUuid>

using namespace Onboarder;
using TestSupport::await;

namespace {
QString serviceString(const QString &host, const QString &key)
{
    return QStringLiteral("HostName=%1;SharedAccessKeyName=iothubowner;SharedAccessKey=%2").arg(host, key);
}
} // namespace

class tst_HubStore : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<Settings> m_settings;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<HubStore> m_hubs;

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        QVERIFY(m_dir.isValid());
    }

    void init()
    {
        m_settings = std::make_unique<Settings>(
            m_dir.filePath(QUuid::createUuid().toString(QUuid::Id128) + QStringLiteral(".conf")));
        m_secrets = std::make_unique<SecretStore>(
            QStringLiteral("OnboarderTest-") + QUuid::createUuid().toString(QUuid::Id128));
        m_hubs = std::make_unique<HubStore>(*m_settings, *m_secrets);
    }

    void addListsAndKeepsKeyInKeychainOnly()
    {
        const QString key = TestSupport::randomKey();
        QSignalSpy changed(m_hubs.get(), &HubStore::hubsChanged);
        const auto added = await(
            m_hubs->add(QStringLiteral("prod"), serviceString(QStringLiteral("contoso.azure-devices.net"), key)));
        QVERIFY2(added.has_value(), qPrintable(added ? QString() : added.error().message));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(added->hostName, QStringLiteral("contoso.azure-devices.net"));
        QCOMPARE(added->policyName, QStringLiteral("iothubowner"));

        QCOMPARE(m_hubs->hubs().size(), 1);
        QCOMPARE(m_hubs->hubs().first().name, QStringLiteral("prod"));

        // The key is in the keychain under the profile's entry name ...
        const auto stored = await(m_secrets->load(added->secretName()));
        QVERIFY(stored.has_value());
        QVERIFY(stored->view().contains(key.toUtf8()));
        // ... and not in the settings file.
        m_settings->sync();
        QFile file(m_settings->filePath());
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray settingsText = file.readAll();
        QVERIFY(settingsText.contains("contoso.azure-devices.net"));
        QVERIFY(!settingsText.contains(key.toUtf8()));

        const auto cs = await(m_hubs->connectionString(QStringLiteral("prod")));
        QVERIFY(cs.has_value());
        QCOMPARE(cs->sharedAccessKey().exposeAsString(), key);
    }

    void invalidInputWritesNothing_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("connectionString");
        QTest::addColumn<QString>("code");
        const QString key = TestSupport::randomKey();
        QTest::newRow("device string") << QStringLiteral(
            "a") << QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=%1").arg(key)
                                       << QStringLiteral("NotAHubConnectionString");
        QTest::newRow("no host") << QStringLiteral("a")
                                 << QStringLiteral("SharedAccessKeyName=p;SharedAccessKey=%1").arg(key)
                                 << QStringLiteral("MissingHostName");
        QTest::newRow("empty") << QStringLiteral("a") << QString() << QStringLiteral("Empty");
    }

    void invalidInputWritesNothing()
    {
        QFETCH(QString, name);
        QFETCH(QString, connectionString);
        QFETCH(QString, code);
        const auto added = await(m_hubs->add(name, connectionString));
        QVERIFY(!added.has_value());
        QCOMPARE(added.error().code, code);
        QCOMPARE(added.error().kind, ErrorKind::InvalidInput);
        QVERIFY(m_hubs->hubs().isEmpty());
        QCOMPARE(*await(m_secrets->list()), QStringList());
    }

    void badNameAndDuplicateAreRefused()
    {
        const QString cs = serviceString(QStringLiteral("a.azure-devices.net"), TestSupport::randomKey());
        QVERIFY(!await(m_hubs->add(QStringLiteral("has space"), cs)).has_value());
        QVERIFY(await(m_hubs->add(QStringLiteral("one"), cs)).has_value());
        const auto again = await(m_hubs->add(QStringLiteral("one"), cs));
        QVERIFY(!again.has_value());
        QCOMPARE(again.error().kind, ErrorKind::Conflict);
        QCOMPARE(again.error().code, QStringLiteral("HubExists"));
        QCOMPARE(m_hubs->hubs().size(), 1);
    }

    void twoAddsOfTheSameNameAtOnce()
    {
        const auto first = m_hubs->add(
            QStringLiteral("twin"), serviceString(QStringLiteral("a.azure-devices.net"), TestSupport::randomKey()));
        const auto second = m_hubs->add(
            QStringLiteral("twin"), serviceString(QStringLiteral("b.azure-devices.net"), TestSupport::randomKey()));
        QVERIFY(await(first).has_value());
        const auto secondResult = await(second);
        QVERIFY(!secondResult.has_value());
        QCOMPARE(secondResult.error().code, QStringLiteral("HubExists"));
        QCOMPARE(
            await(m_hubs->connectionString(QStringLiteral("twin")))->hostName(), QStringLiteral("a.azure-devices.net"));
    }

    void endpointOverrides()
    {
        const QString cs = serviceString(QStringLiteral("sandbox.azure-devices.net"), TestSupport::randomKey());
        HubEndpoint endpoint{8443, 18883, QString()};
        const auto added = await(m_hubs->add(QStringLiteral("sandbox"), cs, endpoint));
        QVERIFY(added.has_value());
        QCOMPARE(m_hubs->find(QStringLiteral("sandbox"))->effectiveRestPort(), 8443);
        QCOMPARE(m_hubs->find(QStringLiteral("sandbox"))->effectiveMqttPort(), 18883);
        QCOMPARE(m_hubs->find(QStringLiteral("sandbox"))->restBaseUrl().toString(),
            QStringLiteral("https://sandbox.azure-devices.net:8443/"));

        endpoint.caFile = m_dir.filePath(QStringLiteral("missing.pem"));
        const auto badCa = m_hubs->validate(QStringLiteral("other"), cs, endpoint);
        QVERIFY(!badCa.has_value());
        QCOMPARE(badCa.error().code, QStringLiteral("CaFileUnreadable"));

        QFile notPem(m_dir.filePath(QStringLiteral("not.pem")));
        QVERIFY(notPem.open(QIODevice::WriteOnly));
        notPem.write("hello");
        notPem.close();
        endpoint.caFile = notPem.fileName();
        QCOMPARE(m_hubs->validate(QStringLiteral("other"), cs, endpoint).error().code, QStringLiteral("CaFileNotPem"));

        endpoint = {70000, 0, QString()};
        QCOMPARE(m_hubs->validate(QStringLiteral("other"), cs, endpoint).error().code, QStringLiteral("InvalidPort"));
    }

    void removeDeletesProfileAndSecret()
    {
        const QString cs = serviceString(QStringLiteral("a.azure-devices.net"), TestSupport::randomKey());
        const auto added = await(m_hubs->add(QStringLiteral("gone"), cs));
        QVERIFY(added.has_value());
        m_settings->setCurrentHub(QStringLiteral("gone"));
        QVERIFY(await(m_hubs->remove(QStringLiteral("gone"))).has_value());
        QVERIFY(m_hubs->hubs().isEmpty());
        QVERIFY(m_settings->currentHub().isEmpty());
        QCOMPARE(await(m_secrets->load(added->secretName())).error().kind, ErrorKind::NotFound);

        const auto again = await(m_hubs->remove(QStringLiteral("gone")));
        QCOMPARE(again.error().kind, ErrorKind::NotFound);
    }

    void removeWithSecretAlreadyGone()
    {
        // Someone deleted the keychain entry by hand: removing the hub still works.
        const auto added = await(m_hubs->add(
            QStringLiteral("orphan"), serviceString(QStringLiteral("a.azure-devices.net"), TestSupport::randomKey())));
        QVERIFY(await(m_secrets->remove(added->secretName())).has_value());
        const auto cs = await(m_hubs->connectionString(QStringLiteral("orphan")));
        QCOMPARE(cs.error().code, QStringLiteral("HubSecretMissing"));
        QVERIFY(await(m_hubs->remove(QStringLiteral("orphan"))).has_value());
        QVERIFY(m_hubs->hubs().isEmpty());
    }

    void cleanup()
    {
        for (const HubProfile &hub : m_hubs->hubs())
            await(m_hubs->remove(hub.name));
        m_hubs.reset();
        m_secrets.reset();
        m_settings.reset();
    }
};

QTEST_GUILESS_MAIN(tst_HubStore)
#include "tst_hubstore.moc"
