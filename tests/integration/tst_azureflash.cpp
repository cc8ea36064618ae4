// AzureFlashJob against the simulator through a real pty: the whole set, failures part-way, a dropped
// line, cancel, and what the report says against what the modem really holds.
#include "credentials/certificate.h"
#include "credentials/devicecredential.h"
#include "credentials/keypair.h"
#include "modem/azureflashjob.h"
#include "modem/modemcredential.h"
#include "modem/modemcredentialstore.h"
#include "modemsimfixture.h"
#include "modemtestsupport.h"

#include <QFile>
#include <QSignalSpy>

using namespace Onboarder;
using TestSupport::await;

namespace {

AzureCredentialSet credentialSet(
    quint32 tag, std::optional<quint32> secondary, const TestSupport::DeviceCredentials &device)
{
    return AzureCredentialSet::forDevice(tag, secondary, device.certificatePem, SecretBytes::fromView(device.keyPem));
}

QByteArray failureText(const FlashReport &report)
{
    return report.failure ? report.failure->message.toUtf8() : QByteArray();
}

// Azure's roots as the operating system ships them, to check the bundled copies against another source.
const QString microsoftRootOfTheSystem
    = QStringLiteral("/etc/ssl/certs/Microsoft_RSA_Root_Certificate_Authority_2017.pem");

QString sha256OfCertificateFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return QStringLiteral("(cannot read %1)").arg(path);
    return ModemCredentialStore::sha256Hex(*ModemCredentialStore::prepare(CredentialType::RootCa, file.readAll()));
}

QString key(const FlashSlot &slot)
{
    return QStringLiteral("%1/%2").arg(slot.tag).arg(slot.type);
}

} // namespace

class tst_AzureFlash : public QObject
{
    Q_OBJECT

    TestSupport::ModemSim m_sim;
    TestSupport::DeviceCredentials m_device = TestSupport::deviceCredentials(QStringLiteral("flash-device-1"));

    // Every slot's state agrees with the simulator's own record of its storage.
    void compareWithModem(const FlashReport &report)
    {
        const auto stored = m_sim.storedHashes();
        for (const FlashSlot &slot : report.slots) {
            switch (slot.state) {
            case FlashSlot::State::Flashed: QCOMPARE(stored.value(key(slot)), slot.expectedSha256); break;
            case FlashSlot::State::Absent: QVERIFY2(!stored.contains(key(slot)), qPrintable(key(slot))); break;
            case FlashSlot::State::Different:
                QVERIFY(stored.contains(key(slot)));
                QVERIFY(stored.value(key(slot)) != slot.expectedSha256);
                break;
            default: break;
            }
        }
    }

private Q_SLOTS:
    void primaryAndSecondaryTag()
    {
        QVERIFY(m_sim.start({QStringLiteral("--urc-noise")}).isEmpty());
        auto modem = TestSupport::openModem(m_sim.port());
        QVERIFY(modem);
        AzureFlashJob job(*modem, credentialSet(10, 11, m_device));
        QSignalSpy progress(&job, &AzureFlashJob::progress);
        const FlashReport report = await(job.start(), 30000);
        QVERIFY2(report.ok(), failureText(report).constData());
        QCOMPARE(report.slots.size(), 4);
        const QList<std::pair<quint32, int>> expected{{10, 0}, {11, 0}, {10, 1}, {10, 2}};
        for (qsizetype i = 0; i < report.slots.size(); ++i) {
            QCOMPARE(std::pair(report.slots.at(i).tag, report.slots.at(i).type), expected.at(i));
            QCOMPARE(report.slots.at(i).state, FlashSlot::State::Flashed);
            QCOMPARE(report.slots.at(i).modemSha256, report.slots.at(i).expectedSha256);
        }
        QCOMPARE(report.slots.at(0).label, QStringLiteral("DigiCert Global Root G2"));
        QCOMPARE(report.slots.at(0).expectedSha256,
            ModemCredentialStore::sha256Hex(*ModemCredentialStore::prepare(0, AzureFlashJob::digiCertGlobalRootG2())));
        // Azure's second root since Baltimore CyberTrust Root expired, as the modem holds it.
        QCOMPARE(report.slots.at(1).label, QStringLiteral("Microsoft RSA Root Certificate Authority 2017"));
        QCOMPARE(m_sim.storedHashes().value(QStringLiteral("11/0")), sha256OfCertificateFile(microsoftRootOfTheSystem));
        QVERIFY(report.warnings.isEmpty());
        compareWithModem(report);
        QCOMPARE(report.previousMode, 1);
        QVERIFY(report.modeRestored);
        QCOMPARE(await(modem->functionalMode()).value_or(-1), 1);
        QCOMPARE(progress.size(), 7); // read, offline, four writes, restore
        QCOMPARE(progress.last().at(0).toInt(), 7);
        QVERIFY(report.bytesSent > 3000 && report.bytesReceived > 300);

        // Again: everything is there already, so nothing is written (the simulator fails any write).
        modem.reset();
        QVERIFY(m_sim.start({QStringLiteral("--fail-write"), QStringLiteral("1")}, m_sim.stateFile()).isEmpty());
        modem = TestSupport::openModem(m_sim.port());
        AzureFlashJob again(*modem, credentialSet(10, 11, m_device));
        const FlashReport second = await(again.start(), 30000);
        QVERIFY2(second.ok(), failureText(second).constData());
        QVERIFY(second.bytesSent < 200);
    }

    void bothRootsInThePrimaryTag()
    {
        QVERIFY(m_sim.start().isEmpty());
        auto modem = TestSupport::openModem(m_sim.port());
        QVERIFY(modem);
        ModemCredentialStore store(*modem);
        AzureFlashJob job(*modem, credentialSet(20, std::nullopt, m_device));
        const FlashReport report = await(job.start(), 30000);
        QVERIFY(report.ok());
        QCOMPARE(report.slots.size(), 3);
        const QByteArray roots = await(store.read(20, CredentialType::RootCa)).value_or(QByteArray());
        QVERIFY(roots.contains("MIIDjjCCAnagAwIBAgIQAzrx5qcRqaC7KGSxHQn65T")); // DigiCert Global Root G2
        QVERIFY(!roots.contains("MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUF")); // Baltimore CyberTrust Root
        const auto both = Certificate::listFromPem(roots);
        QVERIFY(both);
        QCOMPARE(both->size(), 2);
        QCOMPARE(both->at(1).subjectCommonName(), QStringLiteral("Microsoft RSA Root Certificate Authority 2017"));
        for (const Certificate &root : *both)
            QVERIFY2(root.notAfter() > QDateTime::currentDateTimeUtc(), qPrintable(root.subject()));
        compareWithModem(report);
    }

    // No root past its end goes into a modem unless asked for; whatever ends within 30 days is flashed with
    // a warning. (The job judges at a given time: the bundled roots end in 2038 and 2042.)
    void expiredRootRefused()
    {
        QVERIFY(m_sim.start().isEmpty());
        auto modem = TestSupport::openModem(m_sim.port());
        QVERIFY(modem);
        const qint64 sent = modem->channel()->bytesSent();
        const auto before = m_sim.storedHashes();
        const QDateTime digiCertEnd = Certificate::fromPem(AzureFlashJob::digiCertGlobalRootG2())->notAfter();
        AzureFlashJob refused(*modem, credentialSet(10, 11, m_device));
        refused.setNow(digiCertEnd.addDays(1));
        const FlashReport report = await(refused.start(), 30000);
        QVERIFY(!report.ok());
        QCOMPARE(report.failure->code, QStringLiteral("RootExpired"));
        QVERIFY2(report.failure->message.contains(QStringLiteral("DigiCert Global Root G2 expired on 2038-01-15")),
            failureText(report).constData());
        QCOMPARE(modem->channel()->bytesSent(), sent); // nothing was sent
        QCOMPARE(m_sim.storedHashes(), before);

        // Allowed: flashed, and said.
        AzureFlashJob allowed(*modem, credentialSet(10, 11, m_device));
        allowed.setNow(digiCertEnd.addDays(1));
        allowed.setAllowExpiredRoots(true);
        const FlashReport forced = await(allowed.start(), 30000);
        QVERIFY2(forced.ok(), failureText(forced).constData());
        QCOMPARE(m_sim.storedHashes().value(QStringLiteral("10/0")),
            ModemCredentialStore::sha256Hex(*ModemCredentialStore::prepare(0, AzureFlashJob::digiCertGlobalRootG2())));
        QVERIFY(forced.warnings.contains(QStringLiteral("DigiCert Global Root G2 expired on 2038-01-15.")));
        // The device certificate (a year long) ended long before.
        QVERIFY(std::any_of(forced.warnings.cbegin(), forced.warnings.cend(), [](const QString &w) {
            return w.startsWith(QStringLiteral("device certificate (flash-device-1) expired on"));
        }));
    }

    void soonExpiringCertificateWarned()
    {
        QVERIFY(m_sim.start().isEmpty());
        auto modem = TestSupport::openModem(m_sim.port());
        QVERIFY(modem);
        auto key = KeyPair::generate(KeyPair::Type::EcP256);
        QVERIFY(key);
        Certificate::Request request;
        request.commonName = QStringLiteral("short-lived");
        request.validityDays = 10;
        const auto shortLived = Certificate::selfSigned(*key, request);
        QVERIFY(shortLived);
        AzureCredentialSet set;
        set.tag = 10;
        set.secondaryTag = 11;
        set.deviceCertificate = shortLived->toPem();
        set.deviceKey = key->privateKeyPem();
        const QByteArray certificatePem = set.deviceCertificate; // set moves into the job
        const FlashReport report = await(AzureFlashJob(*modem, std::move(set)).start(), 30000);
        QVERIFY2(report.ok(), failureText(report).constData());
        QCOMPARE(report.warnings.size(), 1);
        QVERIFY2(
            report.warnings.first().startsWith(QStringLiteral("device certificate (short-lived) expires on %1")
                                                   .arg(shortLived->notAfter().toUTC().date().toString(Qt::ISODate))),
            qPrintable(report.warnings.first()));
        QCOMPARE(m_sim.storedHashes().value(QStringLiteral("10/1")),
            ModemCredentialStore::sha256Hex(
                *ModemCredentialStore::prepare(CredentialType::ClientCert, certificatePem)));

        // Three days before the Microsoft root ends: it is warned about (DigiCert's ended long before).
        const QDateTime microsoftEnd = Certificate::fromPem(AzureFlashJob::microsoftRsaRootCa2017())->notAfter();
        AzureFlashJob late(*modem, credentialSet(10, 11, m_device));
        late.setNow(microsoftEnd.addDays(-3));
        late.setAllowExpiredRoots(true);
        const FlashReport lateReport = await(late.start(), 30000);
        QVERIFY2(lateReport.ok(), failureText(lateReport).constData());
        QVERIFY(std::any_of(lateReport.warnings.cbegin(), lateReport.warnings.cend(), [](const QString &w) {
            return w.startsWith(QStringLiteral("Microsoft RSA Root Certificate Authority 2017 expires on 2042-07-18"));
        }));
    }

    void modemRefusesPartWay_data()
    {
        QTest::addColumn<QString>("failWrite");
        QTest::addColumn<QString>("code");
        QTest::addColumn<int>("failingSlot");
        // Write 1 is the old certificate the test puts there first.
        QTest::newRow("storage full at the second root")
            << QStringLiteral("3:515") << QStringLiteral("StorageFull") << 1;
        QTest::newRow("bare ERROR at the certificate") << QStringLiteral("4:0") << QStringLiteral("ModemError") << 2;
        QTest::newRow("no access at the key") << QStringLiteral("5:514") << QStringLiteral("NotAllowed") << 3;
    }

    void modemRefusesPartWay()
    {
        QFETCH(QString, failWrite);
        QFETCH(QString, code);
        QFETCH(int, failingSlot);
        QVERIFY(m_sim.start({QStringLiteral("--fail-write"), failWrite}).isEmpty());
        auto modem = TestSupport::openModem(m_sim.port());
        QVERIFY(modem);
        // Something old in the certificate slot: a failure must not be reported as "absent" there.
        ModemCredentialStore store(*modem);
        const auto old = TestSupport::deviceCredentials(QStringLiteral("old-device"));
        QVERIFY(await(modem->setFunctionalMode(4)));
        QVERIFY(await(
            store.writeEntry(10, CredentialType::ClientCert, *ModemCredentialStore::prepare(1, old.certificatePem))));
        QVERIFY(await(modem->setFunctionalMode(1)));

        AzureFlashJob job(*modem, credentialSet(10, 11, m_device));
        const FlashReport report = await(job.start(), 30000);
        QVERIFY(!report.ok());
        QCOMPARE(report.failure->code, code);
        QCOMPARE(report.failure->kind, ErrorKind::Device);
        for (int i = 0; i < report.slots.size(); ++i) {
            const FlashSlot &slot = report.slots.at(i);
            if (i < failingSlot)
                QCOMPARE(slot.state, FlashSlot::State::Flashed);
            else if (slot.type == CredentialType::ClientCert)
                QCOMPARE(slot.state, FlashSlot::State::Different); // the old device's certificate is still there
            else
                QCOMPARE(slot.state, FlashSlot::State::Absent);
        }
        compareWithModem(report);
        QVERIFY(report.modeRestored);
        QCOMPARE(await(modem->functionalMode()).value_or(-1), 1);
    }

    void lineDroppedMidFlash()
    {
        // About 2000 bytes: past the first root certificate's write and verify, inside the second's.
        QVERIFY(m_sim.start({QStringLiteral("--drop-after-bytes"), QStringLiteral("2000")}).isEmpty());
        auto modem = TestSupport::openModem(m_sim.port());
        QVERIFY(modem);
        AzureFlashJob job(*modem, credentialSet(10, 11, m_device));
        const FlashReport report = await(job.start(), 30000);
        QVERIFY(!report.ok());
        QCOMPARE(report.failure->code, QStringLiteral("PortLost"));
        QCOMPARE(report.slots.at(0).state, FlashSlot::State::Flashed);
        QCOMPARE(report.slots.at(1).state, FlashSlot::State::Unknown); // cut off while being written
        QCOMPARE(report.slots.at(2).state, FlashSlot::State::Absent);
        QCOMPARE(report.slots.at(3).state, FlashSlot::State::Absent);
        QVERIFY(!report.modeRestored);

        // Plugged in again: the modem holds what the report says (the cut-off write did not happen).
        QVERIFY(m_sim.start({}, m_sim.stateFile()).isEmpty());
        compareWithModem(report);
        QVERIFY(!m_sim.storedHashes().contains(QStringLiteral("11/0")));
    }

    void cancelBetweenSteps()
    {
        QVERIFY(m_sim.start({QStringLiteral("--slow-ms"), QStringLiteral("60")}).isEmpty());
        auto modem = TestSupport::openModem(m_sim.port());
        QVERIFY(modem);
        AzureFlashJob job(*modem, credentialSet(10, 11, m_device));
        connect(&job, &AzureFlashJob::progress, &job, [&job](int step) {
            if (step == 4) // while the second root certificate is being written
                job.cancel();
        });
        const FlashReport report = await(job.start(), 30000);
        QVERIFY(!report.ok());
        QCOMPARE(report.failure->kind, ErrorKind::Cancelled);
        QCOMPARE(report.slots.at(1).state, FlashSlot::State::Flashed); // the write under way was finished, not cut
        QCOMPARE(report.slots.at(2).state, FlashSlot::State::Absent);
        QVERIFY(report.modeRestored);
        compareWithModem(report);
        QCOMPARE(await(modem->functionalMode()).value_or(-1), 1);
    }

    // The sets the Modem page, modem flash-azure and the provisioning station flash: from a credential as the
    // keychain gives it, and with the key the modem made itself.
    void setsForADevice()
    {
        QVERIFY(m_sim.start().isEmpty());
        auto modem = TestSupport::openModem(m_sim.port());
        QVERIFY(modem);
        const auto kept = DeviceCredential::read(m_device.certificatePem, m_device.keyPem, {});
        QVERIFY(kept);
        AzureCredentialSet set = AzureCredentialSet::forDevice(12, 13, *kept);
        QCOMPARE(set.tag, 12u);
        QCOMPARE(set.secondaryTag, std::optional<quint32>(13));
        QCOMPARE(set.deviceCertificate, kept->certificate.toPem());
        QCOMPARE(set.deviceKey, kept->key.privateKeyPem());
        QVERIFY(set.keyPassword.isEmpty());
        QVERIFY(!set.keyInModem);
        const FlashReport report = await(AzureFlashJob(*modem, std::move(set)).start(), 30000);
        QVERIFY2(report.ok(), failureText(report).constData());
        QCOMPARE(report.slots.size(), 4);
        compareWithModem(report);
        const QString keySha256 = m_sim.storedHashes().value(QStringLiteral("12/2"));
        QVERIFY(!keySha256.isEmpty());

        // The key is in the modem: none of it goes with the set, and the modem must hold that very key.
        AzureCredentialSet inModem = AzureCredentialSet::forKeyInModem(12, 13, m_device.certificatePem, keySha256);
        QVERIFY(inModem.keyInModem);
        QVERIFY(inModem.deviceKey.isEmpty());
        QCOMPARE(inModem.modemKeySha256, keySha256);
        const FlashReport again = await(AzureFlashJob(*modem, std::move(inModem)).start(), 30000);
        QVERIFY2(again.ok(), failureText(again).constData());
        QCOMPARE(again.slots.last().state, FlashSlot::State::Flashed);
        const FlashReport other = await(
            AzureFlashJob(*modem, AzureCredentialSet::forKeyInModem(12, 13, m_device.certificatePem, QString(64, u'0')))
                .start(),
            30000);
        QVERIFY(!other.ok());
        QCOMPARE(other.failure->code, QStringLiteral("ModemKeyMissing"));
    }

    void refusedBeforeTouchingTheModem()
    {
        QVERIFY(m_sim.start().isEmpty());
        auto modem = TestSupport::openModem(m_sim.port());
        QVERIFY(modem);
        const qint64 sent = modem->channel()->bytesSent();
        const auto other = TestSupport::deviceCredentials(QStringLiteral("other"));
        AzureCredentialSet mismatched = credentialSet(10, 11, m_device);
        mismatched.deviceKey = SecretBytes::fromView(other.keyPem);
        QCOMPARE(await(AzureFlashJob(*modem, std::move(mismatched)).start()).failure->code,
            QStringLiteral("KeyDoesNotMatch"));
        QCOMPARE(await(AzureFlashJob(*modem, credentialSet(10, 10, m_device)).start()).failure->code,
            QStringLiteral("SameTags"));
        QCOMPARE(await(AzureFlashJob(*modem, credentialSet(3000000000u, 11, m_device)).start()).failure->code,
            QStringLiteral("ReservedTag"));
        AzureCredentialSet notPem = credentialSet(10, 11, m_device);
        notPem.deviceCertificate = "hello";
        QCOMPARE(
            await(AzureFlashJob(*modem, std::move(notPem)).start()).failure->code, QStringLiteral("NotACertificate"));
        QCOMPARE(modem->channel()->bytesSent(), sent);
    }
};

QTEST_GUILESS_MAIN(tst_AzureFlash)
#include "tst_azureflash.moc"
