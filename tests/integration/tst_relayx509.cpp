// The relay's auto-registration with X.509 (issue #26), in-process against a real mosquitto and the sandbox hub,
// with its own Secret Service (this test runs in a keyring session of its own, since it locks the keyring):
// unknown sensors get a key and certificate made by the relay, kept in the keychain and the inventory (marked as
// the relay's), and a hub device with that certificate's thumbprint; a restart makes nothing new; with a CA the
// devices are CA-authenticated and `openssl verify` accepts their certificates; while the keyring is locked a new
// sensor's messages are held and its reason reported, and they are delivered once it is unlocked.
#include "credentials/certificateauthority.h"
#include "credentials/credentialstore.h"
#include "credentials/secretstore.h"
#include "hub/connectionstring.h"
#include "inprocesshub.h"
#include "inprocessrelay.h"
#include "mosquittofixture.h"
#include "relay/relay.h"
#include "relayfixture.h"
#include "sandboxhub.h"
#include "testsupport.h"

#include <QDBusArgument>
#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusMetaType>
#include <QDBusObjectPath>
#include <QDBusVariant>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QUuid>

using namespace Onboarder;
using namespace Onboarder::Sandbox;

namespace {

// The Secret Service's Secret struct: (session, parameters, value, content type).
struct SecretValue
{
    QDBusObjectPath session;
    QByteArray parameters;
    QByteArray value;
    QString contentType;
};

QDBusArgument &operator<<(QDBusArgument &argument, const SecretValue &secret)
{
    argument.beginStructure();
    argument << secret.session << secret.parameters << secret.value << secret.contentType;
    argument.endStructure();
    return argument;
}

const QDBusArgument &operator>>(const QDBusArgument &argument, SecretValue &secret)
{
    argument.beginStructure();
    argument >> secret.session >> secret.parameters >> secret.value >> secret.contentType;
    argument.endStructure();
    return argument;
}

const QString secretsService = QStringLiteral("org.freedesktop.secrets");
const QString secretsPath = QStringLiteral("/org/freedesktop/secrets");
const QDBusObjectPath loginCollection(QStringLiteral("/org/freedesktop/secrets/collection/login"));

QString callError(const QDBusMessage &reply)
{
    return reply.type() == QDBusMessage::ErrorMessage ? reply.errorName() + u' ' + reply.errorMessage() : QString();
}

// Locks the session's login keyring, as the screen lock or `secret-tool lock` does.
QString lockKeyring()
{
    QDBusMessage call = QDBusMessage::createMethodCall(
        secretsService, secretsPath, QStringLiteral("org.freedesktop.Secret.Service"), QStringLiteral("Lock"));
    call << QVariant::fromValue(QList<QDBusObjectPath>{loginCollection});
    return callError(QDBusConnection::sessionBus().call(call));
}

// Unlocks it with its password (scripts/test-session keeps it for this), through gnome-keyring's own interface for
// tools without a prompt.
QString unlockKeyring()
{
    QFile file(qEnvironmentVariable("XDG_RUNTIME_DIR") + QStringLiteral("/onboarder-test-keyring-password"));
    if (!file.open(QIODevice::ReadOnly))
        return QStringLiteral("the test session's keyring password is not readable: ") + file.errorString();
    QDBusMessage open = QDBusMessage::createMethodCall(
        secretsService, secretsPath, QStringLiteral("org.freedesktop.Secret.Service"), QStringLiteral("OpenSession"));
    open << QStringLiteral("plain") << QVariant::fromValue(QDBusVariant(QString()));
    const QDBusMessage opened = QDBusConnection::sessionBus().call(open);
    if (const QString error = callError(opened); !error.isEmpty())
        return error;
    const auto session = opened.arguments().value(1).value<QDBusObjectPath>();
    QDBusMessage unlock = QDBusMessage::createMethodCall(secretsService, secretsPath,
        QStringLiteral("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"),
        QStringLiteral("UnlockWithMasterPassword"));
    unlock << QVariant::fromValue(loginCollection)
           << QVariant::fromValue(SecretValue{session, {}, file.readAll(), QStringLiteral("text/plain")});
    return callError(QDBusConnection::sessionBus().call(unlock));
}

} // namespace

Q_DECLARE_METATYPE(SecretValue)

inline QByteArray J(const char *text)
{
    return QByteArray(text).replace('\'', '"');
}

class tst_RelayX509 : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::InProcessHub m_hub;
    MosquittoFixture m_broker;
    HubProfile m_profile;
    RelayFixture::Consumer m_consumer;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<CredentialStore> m_store;
    std::optional<CertificateAuthority> m_ca; // trusted by the hub, kept in the keychain as "relay-ca"
    int m_run = 0;

    RelayConfig config(const QByteArray &extra)
    {
        const QByteArray run = QByteArray::number(++m_run);
        const QByteArray json = J("{'hub': 'sandbox', 'source': {'url': 'mqtt://127.0.0.1:")
            + QByteArray::number(m_broker.port()) + J("', 'clientId': 'relay-x509-") + run
            + J("', 'topics': ['sensors/+/telemetry']}, 'deviceIdFromTopic': 'sensors/{deviceId}/telemetry', "
                "'autoRegister': true, 'deviceAuth': 'x509', 'metricsIntervalMs': 200, 'outbox': {'path': "
                "'outbox-x509-")
            + run + J(".db'}") + extra + "}";
        auto parsed = RelayConfig::parse(json, m_dir.path());
        if (!parsed)
            qFatal("%s", qPrintable(parsed.error().message));
        return *parsed;
    }

    QList<CredentialRecord> relayRecords() const
    {
        QList<CredentialRecord> made;
        const auto records = m_store->records();
        for (const CredentialRecord &record : records.value_or(QList<CredentialRecord>())) {
            if (record.madeBy == QStringLiteral("relay"))
                made.append(record);
        }
        return made;
    }

    std::unique_ptr<Relay> relay(const RelayConfig &c)
    {
        return TestSupport::startRelay(c, m_profile, m_hub->ownerConnectionString(), m_store.get());
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        qDBusRegisterMetaType<SecretValue>();
        // The CA is uploaded to the hub (the sandbox trusts it from the start), as one would in the portal.
        const auto key = KeyPair::generate();
        const auto certificate = Certificate::selfSigned(
            *key, {QStringLiteral("Relay CA"), {}, {}, 30, Certificate::Usage::CertificateAuthority});
        QVERIFY(certificate.has_value());
        m_ca = *CertificateAuthority::fromParts(*certificate, *key);
        const QString caFile = m_dir.filePath(QStringLiteral("relay-ca.pem"));
        QFile pem(caFile);
        QVERIFY(pem.open(QIODevice::WriteOnly) && pem.write(certificate->toPem()) > 0);
        pem.close();
        const QString started = m_hub.start(m_dir.filePath(QStringLiteral("hub")), 0, {caFile});
        QVERIFY2(started.isEmpty(), qPrintable(started));
        m_profile = m_hub.profile();
        QVERIFY2(m_broker.start({}), qPrintable(m_broker.errorString()));
        QVERIFY(m_consumer.connect(m_profile.hostName, m_profile.mqttPort, m_profile.caFile,
            m_hub->registry().policy(QStringLiteral("iothubowner"))->primaryKey));
        m_secrets = std::make_unique<SecretStore>(
            QStringLiteral("OnboarderTest-") + QUuid::createUuid().toString(QUuid::WithoutBraces));
        m_store = std::make_unique<CredentialStore>(*m_secrets, m_dir.filePath(QStringLiteral("data")));
    }

    void unknownSensorsGetCertificatesMadeHereAndKeepThem()
    {
        auto r = relay(config({}));
        RelayFixture::Publisher publisher(m_broker.port(), 3, QStringLiteral("cert-sensor-"));
        QVERIFY(publisher.connect());
        const qint64 before = m_consumer.total();
        QVERIFY(publisher.publishUntil(30, 10000));
        QTRY_COMPARE_WITH_TIMEOUT(m_consumer.total(), before + 30, 30000);
        QVERIFY(m_consumer.missing(30).isEmpty());
        QHash<QString, QString> thumbprints;
        for (int i = 0; i < 3; ++i) {
            const QString id = QStringLiteral("cert-sensor-%1").arg(i);
            const auto record = m_store->record(m_profile.name, id);
            QVERIFY2(record.has_value(), qPrintable(id));
            QCOMPARE(record->madeBy, QStringLiteral("relay"));
            QCOMPARE(record->kind, CredentialRecord::Kind::X509SelfSigned);
            const auto device = m_hub->registry().device(id);
            QVERIFY(device.has_value());
            QCOMPARE(device->authType, QStringLiteral("selfSigned"));
            QCOMPARE(device->primaryThumbprint.toUpper(), record->thumbprintSha256);
            thumbprints.insert(id, record->thumbprintSha256);
        }
        TestSupport::stopRelay(*r);

        // Restarted: the same certificates, no new registration, every message delivered.
        auto again = relay(config({}));
        QVERIFY(publisher.publishUntil(60, 10000));
        QTRY_COMPARE_WITH_TIMEOUT(m_consumer.total(), before + 60, 30000);
        QCOMPARE(relayRecords().size(), 3);
        for (auto it = thumbprints.cbegin(); it != thumbprints.cend(); ++it)
            QCOMPARE(m_store->record(m_profile.name, it.key())->thumbprintSha256, it.value());
        TestSupport::stopRelay(*again);
    }

    void withACaTheDevicesAreCaAuthenticated()
    {
        QVERIFY(TestSupport::await(m_store->importCertificateAuthority(QStringLiteral("relay-ca"), *m_ca)).has_value());
        auto r = relay(config(J(", 'autoRegisterCa': 'relay-ca'")));
        RelayFixture::Publisher publisher(m_broker.port(), 2, QStringLiteral("ca-sensor-"));
        QVERIFY(publisher.connect());
        const qint64 before = m_consumer.total();
        QVERIFY(publisher.publishUntil(20, 10000));
        QTRY_COMPARE_WITH_TIMEOUT(m_consumer.total(), before + 20, 30000);
        for (int i = 0; i < 2; ++i) {
            const QString id = QStringLiteral("ca-sensor-%1").arg(i);
            const auto device = m_hub->registry().device(id);
            QVERIFY(device.has_value());
            QCOMPARE(device->authType, QStringLiteral("certificateAuthority"));
            // An independent check: OpenSSL verifies the certificate the relay made against the CA.
            REQUIRE_TOOL("openssl");
            QProcess openssl;
            openssl.start(QStringLiteral("openssl"),
                {QStringLiteral("verify"), QStringLiteral("-CAfile"),
                    m_store->caCertificatePath(QStringLiteral("relay-ca")),
                    m_store->certificatePath(m_profile.name, id)});
            QVERIFY(openssl.waitForFinished(10000));
            QVERIFY2(openssl.exitCode() == 0, openssl.readAllStandardError().constData());
            QVERIFY(openssl.readAllStandardOutput().trimmed().endsWith(": OK"));
        }
        TestSupport::stopRelay(*r);
    }

    void aLockedKeychainHoldsANewSensorsMessages()
    {
        auto r = relay(config({}));
        QCOMPARE(lockKeyring(), QString());
        RelayFixture::Publisher publisher(m_broker.port(), 1, QStringLiteral("late-sensor-"));
        QVERIFY(publisher.connect());
        const qint64 before = m_consumer.total();
        QVERIFY(publisher.publishUntil(5, 10000));
        // Held (stored, not sent), with the keychain's reason; nothing made, nothing registered.
        bool reported = false;
        for (int i = 0; i < 30 && !reported; ++i) {
            for (const auto &device : TestSupport::lastMetrics(*r).devices)
                reported |= device.id == QStringLiteral("late-sensor-0") && device.state == QStringLiteral("waiting")
                    && device.lastError.contains(QStringLiteral("keychain"));
        }
        QVERIFY(reported);
        QCOMPARE(r->metrics().outboxDepth, 5); // its own outbox: only the new sensor's messages
        QCOMPARE(m_consumer.total(), before);
        QVERIFY(!m_hub->registry().device(QStringLiteral("late-sensor-0")).has_value());
        QVERIFY(!m_store->record(m_profile.name, QStringLiteral("late-sensor-0")).has_value());

        QCOMPARE(unlockKeyring(), QString());
        QTRY_COMPARE_WITH_TIMEOUT(m_consumer.total(), before + 5, 60000);
        QCOMPARE(m_store->record(m_profile.name, QStringLiteral("late-sensor-0"))->madeBy, QStringLiteral("relay"));
        TestSupport::stopRelay(*r);
    }

    void cleanupTestCase() { m_hub.stop(); }
};

QTEST_GUILESS_MAIN(tst_RelayX509)
#include "tst_relayx509.moc"
