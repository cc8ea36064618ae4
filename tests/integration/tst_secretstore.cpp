// SecretStore against the real Secret Service (gnome-keyring in the test session's D-Bus).
#include "credentials/secretstore.h"
#include "testsupport.h"

#include <QProcess>
#include <QUuid>

using namespace Onboarder;
using TestSupport::await;

class tst_SecretStore : public QObject
{
    Q_OBJECT

private:
    QString m_service;

    // secret-tool is an independent client of the same Secret Service: what it sees is really stored.
    static QByteArray secretToolLookup(const QString &service, const QString &name)
    {
        QProcess tool;
        tool.start(QStringLiteral("secret-tool"),
            {QStringLiteral("lookup"), QStringLiteral("server"), service, QStringLiteral("user"), name});
        tool.waitForFinished(10000);
        return tool.readAllStandardOutput();
    }

private Q_SLOTS:
    void initTestCase() { REQUIRE_TEST_SESSION(); }

    void init()
    {
        // A service of its own for every test function, so that tests see only their own entries.
        m_service = QStringLiteral("OnboarderTest-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    }

    void saveLoadRoundTrip()
    {
        SecretStore store(m_service);
        const QByteArray secret = "HostName=h.azure-devices.net;SharedAccessKeyName=p;SharedAccessKey=abc=";
        QVERIFY(
            await(store.save(QStringLiteral("hub/a/connection-string"), SecretBytes::fromView(secret))).has_value());
        const auto loaded = await(store.load(QStringLiteral("hub/a/connection-string")));
        QVERIFY2(loaded.has_value(), qPrintable(loaded ? QString() : loaded.error().message));
        QCOMPARE(loaded->exposeForWire(), secret);
        // The entry is in the Secret Service itself, filed under our service name.
        QVERIFY(!secretToolLookup(m_service, QStringLiteral("hub/a/connection-string")).isEmpty());
    }

    void binaryDataSurvives()
    {
        SecretStore store(m_service);
        QByteArray bytes;
        for (int i = 0; i < 256; ++i)
            bytes.append(char(i));
        QVERIFY(await(store.save(QStringLiteral("key/binary"), SecretBytes::fromView(bytes))).has_value());
        QCOMPARE(await(store.load(QStringLiteral("key/binary")))->exposeForWire(), bytes);
    }

    void overwriteReplaces()
    {
        SecretStore store(m_service);
        QVERIFY(await(store.save(QStringLiteral("x"), SecretBytes::fromView("one"))).has_value());
        QVERIFY(await(store.save(QStringLiteral("x"), SecretBytes::fromView("two"))).has_value());
        QCOMPARE(await(store.load(QStringLiteral("x")))->exposeForWire(), QByteArray("two"));
        QCOMPARE(*await(store.list()), QStringList{QStringLiteral("x")});
    }

    void listTracksSavesAndRemoves()
    {
        SecretStore store(m_service);
        QCOMPARE(*await(store.list()), QStringList());
        // Fired without waiting: the store runs them in order.
        store.save(QStringLiteral("b"), SecretBytes::fromView("2"));
        store.save(QStringLiteral("a"), SecretBytes::fromView("1"));
        store.save(QStringLiteral("c"), SecretBytes::fromView("3"));
        const auto removed = store.remove(QStringLiteral("b"));
        const auto listed = await(store.list());
        QVERIFY(await(removed).has_value());
        QCOMPARE(*listed, (QStringList{QStringLiteral("a"), QStringLiteral("c")}));
        QVERIFY(secretToolLookup(m_service, QStringLiteral("b")).isEmpty());
        QCOMPARE(await(store.load(QStringLiteral("c")))->exposeForWire(), QByteArray("3"));
    }

    void listIsSharedBetweenInstances()
    {
        {
            SecretStore writer(m_service);
            QVERIFY(await(writer.save(QStringLiteral("kept"), SecretBytes::fromView("v"))).has_value());
        }
        SecretStore reader(m_service);
        QCOMPARE(*await(reader.list()), QStringList{QStringLiteral("kept")});
    }

    void missingEntryIsNotFound()
    {
        SecretStore store(m_service);
        const auto loaded = await(store.load(QStringLiteral("nope")));
        QVERIFY(!loaded.has_value());
        QCOMPARE(loaded.error().kind, ErrorKind::NotFound);
        QCOMPARE(loaded.error().code, QStringLiteral("SecretNotFound"));

        const auto removed = await(store.remove(QStringLiteral("nope")));
        QVERIFY(!removed.has_value());
        QCOMPARE(removed.error().kind, ErrorKind::NotFound);
    }

    void reservedNamesAreRefused()
    {
        SecretStore store(m_service);
        QVERIFY(!await(store.save(QString(), SecretBytes::fromView("v"))).has_value());
        QVERIFY(!await(store.save(SecretStore::indexEntryName(), SecretBytes::fromView("v"))).has_value());
        QCOMPARE(*await(store.list()), QStringList());
    }

    void cleanup()
    {
        // Leave the keyring as we found it.
        SecretStore store(m_service);
        const auto names = await(store.list());
        if (names) {
            for (const QString &name : *names)
                await(store.remove(name));
        }
    }
};

QTEST_GUILESS_MAIN(tst_SecretStore)
#include "tst_secretstore.moc"
