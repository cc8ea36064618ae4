// CredentialStore against the real Secret Service: private keys only in the keychain under the
// documented entry names, certificates and the inventory in the data dir, CA-signed certificates that
// `openssl verify` accepts, and no private key in any file.
#include "credentials/certificaterequest.h"
#include "credentials/credentialstore.h"
#include "credentials/secretstore.h"
#include "opensslcli.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QUuid>

#include <csignal>
#include <sys/resource.h>

using namespace Onboarder;
using TestSupport::await;

namespace {

// While it lives, no file of this process grows beyond the given size: a write beyond fails with EFBIG,
// as one on a full disk fails with ENOSPC (other processes, such as the keychain's, are not affected).
class FileSizeLimit final
{
public:
    explicit FileSizeLimit(rlim_t bytes)
    {
        m_handler = std::signal(SIGXFSZ, SIG_IGN);
        ::getrlimit(RLIMIT_FSIZE, &m_saved);
        rlimit limit = m_saved;
        limit.rlim_cur = bytes;
        ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    ~FileSizeLimit()
    {
        ::setrlimit(RLIMIT_FSIZE, &m_saved);
        std::signal(SIGXFSZ, m_handler);
    }
    FileSizeLimit(const FileSizeLimit &) = delete;
    FileSizeLimit &operator=(const FileSizeLimit &) = delete;

private:
    rlimit m_saved = {};
    void (*m_handler)(int) = SIG_DFL;
};

} // namespace

class tst_CredentialStore : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<CredentialStore> m_store;

    QByteArray secret(const QString &entry)
    {
        const auto loaded = await(m_secrets->load(entry));
        return loaded ? loaded->exposeForWire() : QByteArray();
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        m_secrets = std::make_unique<SecretStore>(
            QStringLiteral("OnboarderTest-") + QUuid::createUuid().toString(QUuid::WithoutBraces));
        m_store = std::make_unique<CredentialStore>(*m_secrets, m_dir.filePath(QStringLiteral("data")));
    }

    void selfSignedKeyInKeychainCertificateInFile()
    {
        QSignalSpy changed(m_store.get(), &CredentialStore::credentialsChanged);
        const auto made = await(m_store->generate(QStringLiteral("hub-a"), QStringLiteral("dev-1"), {}));
        QVERIFY2(made.has_value(), made ? "" : qPrintable(made.error().message));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(made->kind, CredentialRecord::Kind::X509SelfSigned);
        QCOMPARE(made->keyType, QStringLiteral("EC P-256"));
        QCOMPARE(made->keychainEntry, QStringLiteral("hub/hub-a/device/dev-1/private-key"));
        QCOMPARE(made->certificateFile,
            m_dir.filePath(QStringLiteral("data/credentials/hubs/hub-a/devices/dev-1/certificate.pem")));
        QVERIFY(qAbs(made->createdAt.secsTo(QDateTime::currentDateTimeUtc())) < 60);

        // The key is in the keychain and belongs to the certificate in the file.
        const auto key = KeyPair::fromPem(secret(made->keychainEntry));
        QVERIFY(key.has_value());
        const auto cert = m_store->certificate(QStringLiteral("hub-a"), QStringLiteral("dev-1"));
        QVERIFY(cert.has_value());
        QVERIFY(cert->matches(*key));
        QCOMPARE(cert->subjectCommonName(), QStringLiteral("dev-1"));
        QCOMPARE(cert->thumbprintSha1(), made->thumbprintSha1);
        QVERIFY(cert->isSelfIssued());

        // The inventory on disk says the same.
        QFile inventory(m_dir.filePath(QStringLiteral("data/credentials/inventory.json")));
        QVERIFY(inventory.open(QIODevice::ReadOnly));
        const QJsonArray records
            = QJsonDocument::fromJson(inventory.readAll())[QStringLiteral("credentials")].toArray();
        QCOMPARE(records.size(), 1);
        QCOMPARE(records.at(0)[QStringLiteral("thumbprintSha256")].toString(), made->thumbprintSha256);
        QCOMPARE(records.at(0)[QStringLiteral("keychainEntry")].toString(), made->keychainEntry);

        // No second credential without asking; with replace, a new key replaces the old one.
        QCOMPARE(await(m_store->generate(QStringLiteral("hub-a"), QStringLiteral("dev-1"), {})).error().code,
            QStringLiteral("CredentialExists"));
        CredentialStore::GenerateOptions options;
        options.keyType = KeyPair::Type::Rsa3072;
        options.validityDays = 10;
        options.replace = true;
        const auto replaced
            = await(m_store->generate(QStringLiteral("hub-a"), QStringLiteral("dev-1"), options), 60000);
        QVERIFY(replaced.has_value());
        QCOMPARE(replaced->keyType, QStringLiteral("RSA 3072"));
        QVERIFY(replaced->thumbprintSha1 != made->thumbprintSha1);
        QCOMPARE(KeyPair::fromPem(secret(replaced->keychainEntry))->type(), KeyPair::Type::Rsa3072);
        QCOMPARE(m_store->records()->size(), 1);
        QVERIFY(qAbs(replaced->notAfter.secsTo(QDateTime::currentDateTimeUtc().addDays(10))) < 600);

        const auto both = await(m_store->deviceCredential(QStringLiteral("hub-a"), QStringLiteral("dev-1")));
        QVERIFY(both.has_value());
        QCOMPARE(both->certificate.thumbprintSha1(), replaced->thumbprintSha1);

        QCOMPARE(await(m_store->generate(QStringLiteral("hub a"), QStringLiteral("x"), {})).error().code,
            QStringLiteral("InvalidHubProfileName"));
        QCOMPARE(await(m_store->generate(QStringLiteral("hub-a"), QStringLiteral("bad/id"), {})).error().kind,
            ErrorKind::InvalidInput);
    }

    void caSignedCertificatesVerifyWithOpenssl()
    {
        const auto caKey = KeyPair::generate();
        const auto caCert = Certificate::selfSigned(
            *caKey, {QStringLiteral("Bench CA"), {}, {}, 30, Certificate::Usage::CertificateAuthority});
        const auto ca = CertificateAuthority::fromParts(*caCert, *caKey);
        QVERIFY(ca.has_value());
        const auto imported = await(m_store->importCertificateAuthority(QStringLiteral("bench"), *ca));
        QVERIFY2(imported.has_value(), imported ? "" : qPrintable(imported.error().message));
        QCOMPARE(imported->keychainEntry, QStringLiteral("ca/bench/private-key"));
        QCOMPARE(KeyPair::fromPem(secret(imported->keychainEntry))->publicKeyPem(), caKey->publicKeyPem());
        QCOMPARE(await(m_store->importCertificateAuthority(QStringLiteral("bench"), *ca)).error().code,
            QStringLiteral("CaExists"));
        QCOMPARE(await(m_store->importCertificateAuthority(QStringLiteral("../x"), *ca)).error().code,
            QStringLiteral("InvalidCaName"));

        const auto loaded = await(m_store->certificateAuthority(QStringLiteral("bench")));
        QVERIFY(loaded.has_value());
        QCOMPARE(loaded->certificate(), *caCert);

        CredentialStore::GenerateOptions options;
        options.caName = QStringLiteral("bench");
        const auto made = await(m_store->generate(QStringLiteral("hub-a"), QStringLiteral("fleet:7"), options));
        QVERIFY2(made.has_value(), made ? "" : qPrintable(made.error().message));
        QCOMPARE(made->kind, CredentialRecord::Kind::X509CaSigned);
        QCOMPARE(made->issuer, QStringLiteral("bench"));
        QVERIFY(made->certificateFile.endsWith(QStringLiteral("/devices/fleet%3A7/certificate.pem")));

        const auto [code, text] = TestSupport::openssl({QStringLiteral("verify"), QStringLiteral("-CAfile"),
            imported->certificateFile, QStringLiteral("-purpose"), QStringLiteral("sslclient"), made->certificateFile});
        QVERIFY2(code == 0, text.constData());
        // The same check fails for the self-signed credential: the verification can fail.
        const auto [selfCode, selfText]
            = TestSupport::openssl({QStringLiteral("verify"), QStringLiteral("-CAfile"), imported->certificateFile,
                m_store->record(QStringLiteral("hub-a"), QStringLiteral("dev-1"))->certificateFile});
        QVERIFY2(selfCode != 0, selfText.constData());

        QCOMPARE(await(m_store->generate(QStringLiteral("hub-a"), QStringLiteral("other"),
                           {KeyPair::Type::EcP256, 30, QStringLiteral("nosuch"), false, {}}))
                     .error()
                     .code,
            QStringLiteral("CaNotFound"));
    }

    void modemBornKeysStayOnTheDevice()
    {
        const auto deviceKey = KeyPair::generate(); // stands in for the modem's %KEYGEN
        const auto csr = CertificateRequest::create(*deviceKey, QStringLiteral("nrf-1"));
        const auto signedByCa = await(
            m_store->signRequest(QStringLiteral("hub-a"), QStringLiteral("nrf-1"), QStringLiteral("bench"), *csr, 30));
        QVERIFY2(signedByCa.has_value(), signedByCa ? "" : qPrintable(signedByCa.error().message));
        QCOMPARE(signedByCa->keyLocation, CredentialRecord::KeyLocation::Device);
        QVERIFY(signedByCa->keychainEntry.isEmpty());
        QVERIFY(m_store->certificate(QStringLiteral("hub-a"), QStringLiteral("nrf-1"))->matches(*deviceKey));
        QCOMPARE(await(m_store->deviceCredential(QStringLiteral("hub-a"), QStringLiteral("nrf-1"))).error().code,
            QStringLiteral("KeyOnDevice"));
        QCOMPARE(await(m_store->signRequest(
                           QStringLiteral("hub-a"), QStringLiteral("nrf-2"), QStringLiteral("bench"), *csr, 30))
                     .error()
                     .code,
            QStringLiteral("RequestNameMismatch"));
    }

    void symmetricKeysInKeychain()
    {
        const QString primary = TestSupport::randomKey();
        const QString secondary = TestSupport::randomKey();
        QVERIFY(await(m_store->saveSymmetricKeys(QStringLiteral("hub-a"), QStringLiteral("sas-1"),
                          SecretBytes::fromString(QString(primary)), SecretBytes::fromString(QString(secondary))))
                    .has_value());
        QCOMPARE(secret(QStringLiteral("hub/hub-a/device/sas-1/symmetric-key/primary")), primary.toLatin1());
        QCOMPARE(await(m_store->symmetricKey(
                           QStringLiteral("hub-a"), QStringLiteral("sas-1"), CredentialStore::KeySlot::Secondary))
                     ->exposeAsString(),
            secondary);
        QCOMPARE(await(m_store->saveSymmetricKeys(QStringLiteral("hub-a"), QStringLiteral("sas-1"),
                           SecretBytes::fromView("short"), SecretBytes::fromString(QString(secondary))))
                     .error()
                     .code,
            QStringLiteral("InvalidSymmetricKey"));
    }

    void removeForgetsKeyFileAndRecord()
    {
        const auto record = m_store->record(QStringLiteral("hub-a"), QStringLiteral("dev-1"));
        QVERIFY(record.has_value());
        QVERIFY(await(m_store->remove(QStringLiteral("hub-a"), QStringLiteral("dev-1"))).has_value());
        QCOMPARE(await(m_secrets->load(record->keychainEntry)).error().code, QStringLiteral("SecretNotFound"));
        QVERIFY(!QFile::exists(record->certificateFile));
        QCOMPARE(m_store->record(QStringLiteral("hub-a"), QStringLiteral("dev-1")).error().code,
            QStringLiteral("CredentialNotFound"));
    }

    void aFailedWriteLeavesNoKeyBehind()
    {
        // A data dir where the certificate cannot be written: "credentials/hubs" is a file.
        QTemporaryDir broken;
        QVERIFY(QDir().mkpath(broken.filePath(QStringLiteral("credentials"))));
        TestSupport::writeFile(broken.filePath(QStringLiteral("credentials/hubs")), "not a folder");
        CredentialStore store(*m_secrets, broken.path());
        const auto made = await(store.generate(QStringLiteral("hub-b"), QStringLiteral("lost-1"), {}));
        QCOMPARE(made.error().code, QStringLiteral("CertificateUnwritable"));
        QCOMPARE(
            await(m_secrets->load(CredentialStore::privateKeyEntry(QStringLiteral("hub-b"), QStringLiteral("lost-1"))))
                .error()
                .code,
            QStringLiteral("SecretNotFound"));
        QVERIFY(store.records()->isEmpty());
    }

    void aKeyMovedToTheDeviceStaysUntilTheInventorySaysSo()
    {
        const QString hub = QStringLiteral("hub-a");
        const QString device = QStringLiteral("move-1");
        const auto made = await(m_store->generate(hub, device, {}));
        QVERIFY2(made.has_value(), made ? "" : qPrintable(made.error().message));
        {
            // The inventory cannot be written (no file of this process may grow beyond 256 bytes, as on a
            // full disk): the key stays in the keychain, where the inventory still says it is, so that the
            // provisioning job that moves it can run again.
            const FileSizeLimit full(256);
            const auto moved = await(m_store->moveKeyToDevice(hub, device));
            QVERIFY(!moved.has_value());
            QCOMPARE(moved.error().code, QStringLiteral("InventoryUnwritable"));
        }
        const auto kept = m_store->record(hub, device); // and the inventory is the one before, not a truncated copy
        QVERIFY2(kept.has_value(), kept ? "" : qPrintable(kept.error().message));
        QCOMPARE(kept->keyLocation, CredentialRecord::KeyLocation::Keychain);
        QVERIFY(!secret(made->keychainEntry).isEmpty());
        QVERIFY(await(m_store->deviceCredential(hub, device)).has_value());

        // Run again, it moves the key.
        const auto moved = await(m_store->moveKeyToDevice(hub, device));
        QVERIFY2(moved.has_value(), moved ? "" : qPrintable(moved.error().message));
        QCOMPARE(moved->keyLocation, CredentialRecord::KeyLocation::Device);
        QCOMPARE(m_store->record(hub, device)->keyLocation, CredentialRecord::KeyLocation::Device);
        QCOMPARE(await(m_secrets->load(made->keychainEntry)).error().code, QStringLiteral("SecretNotFound"));
    }

    void aKeyLeftBehindByAMoveIsRemovedByTheNext()
    {
        const QString hub = QStringLiteral("hub-a");
        const QString device = QStringLiteral("move-2");
        const auto made = await(m_store->generate(hub, device, {}));
        QVERIFY2(made.has_value(), made ? "" : qPrintable(made.error().message));
        SecretBytes key = SecretBytes::fromQByteArray(secret(made->keychainEntry));
        QVERIFY(await(m_store->moveKeyToDevice(hub, device)).has_value());
        // As if its removal had failed after the inventory was written (the keychain locked meanwhile).
        QVERIFY(await(m_secrets->save(made->keychainEntry, std::move(key))).has_value());
        const auto again = await(m_store->moveKeyToDevice(hub, device));
        QVERIFY2(again.has_value(), again ? "" : qPrintable(again.error().message));
        QCOMPARE(again->keyLocation, CredentialRecord::KeyLocation::Device);
        QCOMPARE(await(m_secrets->load(made->keychainEntry)).error().code, QStringLiteral("SecretNotFound"));
    }

    void deviceIdsAreSafeFileNames()
    {
        QCOMPARE(CredentialStore::fileNameFor(QStringLiteral("..")), QStringLiteral("%2E."));
        QCOMPARE(CredentialStore::fileNameFor(QStringLiteral("a.b-c_d")), QStringLiteral("a.b-c_d"));
        QCOMPARE(CredentialStore::fileNameFor(QStringLiteral("x%2Fy")), QStringLiteral("x%252Fy"));
        const auto made = await(m_store->generate(QStringLiteral("hub-a"), QStringLiteral(".."), {}));
        QVERIFY(made.has_value());
        QVERIFY(QFileInfo(made->certificateFile)
                    .canonicalFilePath()
                    .startsWith(QDir(m_store->rootDir()).canonicalPath() + u'/'));
    }

    void noPrivateKeyInAnyFile()
    {
        QVERIFY(!m_store->records()->isEmpty());
        QCOMPARE(TestSupport::filesContaining(m_dir.path(), "PRIVATE KEY"), QStringList());
    }
};

QTEST_GUILESS_MAIN(tst_CredentialStore)
#include "tst_credentialstore.moc"
