// ProvisioningJob end to end: simulated nRF9160 modems on real pseudo-terminals, the sandbox hub over
// HTTPS, the real Secret Service. Three modems in parallel (key born on the PC and in the modem), a line
// that drops mid-flash and the re-run that finishes it, a conflicting hub device, a cancel, and an audit
// log without secrets.
#include "credentials/certificate.h"
#include "credentials/credentialstore.h"
#include "credentials/secretstore.h"
#include "hub/hubclient.h"
#include "inprocesshub.h"
#include "modem/modemcredential.h"
#include "modem/modemcredentialstore.h"
#include "modemsimfixture.h"
#include "provisioning/auditlog.h"
#include "provisioning/modemkeyledger.h"
#include "provisioning/provisioningjob.h"
#include "sandboxhub.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QUuid>

using namespace Onboarder;
using Onboarder::Sandbox::SandboxHub;
using TestSupport::await;
using TestSupport::ModemSim;

class tst_Provisioning : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::InProcessHub m_hub;
    HubProfile m_hubProfile;
    std::unique_ptr<HubClient> m_client;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<CredentialStore> m_credentials;
    std::unique_ptr<AuditLog> m_audit;
    std::unique_ptr<ModemKeyLedger> m_ledger;
    QList<QByteArray> m_privateKeys; // every device key the tests saw, to look for in the audit log
    int m_jobs = 0;

    ProvisioningProfile profile(
        ProvisioningProfile::KeyBirth birth, ProvisioningProfile::Auth auth, bool keepKey = true) const
    {
        ProvisioningProfile p;
        p.hub = QStringLiteral("sandbox");
        p.deviceIdTemplate = QStringLiteral("nrf-{imei}");
        p.auth = auth;
        p.caName = auth == ProvisioningProfile::Auth::CaSigned ? QStringLiteral("bench") : QString();
        p.hubAuth = ProvisioningProfile::HubAuth::Thumbprint;
        p.keyBirth = birth;
        p.keepKeyOnPc = keepKey;
        p.twinTags = QJsonObject{{QStringLiteral("site"), QStringLiteral("bench-1")}, {QStringLiteral("batch"), 7}};
        return p;
    }

    ProvisioningJob *job(const ProvisioningProfile &p, const QString &port, bool replace = false)
    {
        ProvisioningOptions options;
        options.operatorName = QStringLiteral("tester");
        options.station = QStringLiteral("bench-7");
        options.replaceConflicting = replace;
        auto *j = new ProvisioningJob(p, port, *m_client, m_hubProfile, *m_credentials, options, this);
        j->setAuditLog(m_audit.get());
        j->setLedger(m_ledger.get());
        ++m_jobs;
        return j;
    }

    ProvisioningReport run(ProvisioningJob *j)
    {
        const ProvisioningReport report = await(j->start(), 60000);
        j->deleteLater();
        return report;
    }

    static QString explain(const ProvisioningReport &r)
    {
        return r.failure ? r.failure->code + QStringLiteral(": ") + r.failure->message + QStringLiteral(" | ")
                + r.stateSummary().join(u' ')
                         : QString();
    }

    QString imei(int n) const
    {
        return TestSupport::completeImei(QStringLiteral("357000000000%1").arg(n, 2, 10, QLatin1Char('0')));
    }

    // What the acceptance asks: the hub knows the device by the thumbprint of the certificate on its modem.
    void checkDevice(const ModemSim &sim, const QString &deviceId, const ProvisioningProfile &p)
    {
        const auto cert = m_credentials->certificate(QStringLiteral("sandbox"), deviceId);
        QVERIFY2(cert.has_value(), qPrintable(deviceId));
        QCOMPARE(cert->subjectCommonName(), deviceId);
        const auto hubDevice = await(m_client->device(deviceId));
        QVERIFY(hubDevice.has_value());
        QCOMPARE(hubDevice->authType, QStringLiteral("selfSigned"));
        QCOMPARE(hubDevice->primaryThumbprint.toUpper(), cert->thumbprintSha256());
        const auto stored = sim.storedHashes();
        const auto prepared = ModemCredentialStore::prepare(CredentialType::ClientCert, cert->toPem());
        QVERIFY(prepared.has_value());
        QCOMPARE(stored.value(QStringLiteral("10/1")), ModemCredentialStore::sha256Hex(*prepared));
        QVERIFY(!stored.value(QStringLiteral("10/2")).isEmpty());
        QCOMPARE(stored.value(QStringLiteral("10/0")),
            ModemCredentialStore::sha256Hex(
                *ModemCredentialStore::prepare(CredentialType::RootCa, AzureFlashJob::digiCertGlobalRootG2())));
        QCOMPARE(stored.value(QStringLiteral("11/0")),
            ModemCredentialStore::sha256Hex(
                *ModemCredentialStore::prepare(CredentialType::RootCa, AzureFlashJob::microsoftRsaRootCa2017())));
        const auto twin = await(m_client->twin(deviceId));
        QVERIFY(twin.has_value());
        QCOMPARE(twin->tags.value(QStringLiteral("site")).toString(), QStringLiteral("bench-1"));
        const auto record = m_credentials->record(QStringLiteral("sandbox"), deviceId);
        QVERIFY(record.has_value());
        if (p.auth == ProvisioningProfile::Auth::CaSigned) {
            const auto ca = await(m_credentials->certificateAuthority(QStringLiteral("bench")));
            QVERIFY(ca.has_value());
            QVERIFY(cert->isSignedBy(ca->certificate()));
        }
        const auto key = await(m_secrets->load(CredentialStore::privateKeyEntry(QStringLiteral("sandbox"), deviceId)));
        if (p.keyBirth == ProvisioningProfile::KeyBirth::Pc && p.keepKeyOnPc) {
            QCOMPARE(record->keyLocation, CredentialRecord::KeyLocation::Keychain);
            QVERIFY(key.has_value());
            QVERIFY(cert->matches(*KeyPair::fromPem(key->view())));
            // The modem holds exactly the key kept here.
            QCOMPARE(stored.value(QStringLiteral("10/2")),
                ModemCredentialStore::sha256Hex(
                    *ModemCredentialStore::prepare(CredentialType::ClientKey, key->exposeForWire())));
            m_privateKeys.append(key->exposeForWire());
        } else {
            QCOMPARE(record->keyLocation, CredentialRecord::KeyLocation::Device);
            QVERIFY2(!key.has_value(), "the key must be on the modem only");
            const auto entry = m_ledger->find(QStringLiteral("sandbox"), deviceId);
            QVERIFY(entry.has_value());
            QCOMPARE(entry->keySha256, stored.value(QStringLiteral("10/2")));
            QCOMPARE(entry->certificateSha256, cert->thumbprintSha256());
        }
    }

    qint64 devicesNamed(const QString &deviceId)
    {
        const auto page
            = await(m_client->query(QStringLiteral("SELECT * FROM devices WHERE deviceId = '%1'").arg(deviceId)));
        return page ? page->items.size() : -1;
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        const QString started = m_hub.start(m_dir.filePath(QStringLiteral("hub")));
        QVERIFY2(started.isEmpty(), qPrintable(started));
        m_hubProfile = m_hub.profile();
        m_client = std::make_unique<HubClient>(m_hubProfile, *ConnectionString::parse(m_hub->ownerConnectionString()));
        m_secrets = std::make_unique<SecretStore>(
            QStringLiteral("OnboarderTest-") + QUuid::createUuid().toString(QUuid::WithoutBraces));
        m_credentials = std::make_unique<CredentialStore>(*m_secrets, m_dir.filePath(QStringLiteral("data")));
        m_audit = std::make_unique<AuditLog>(m_dir.filePath(QStringLiteral("audit")));
        m_ledger
            = std::make_unique<ModemKeyLedger>(m_dir.filePath(QStringLiteral("data/provisioning/modem-keys.json")));

        const auto caKey = KeyPair::generate();
        const auto caCert = Certificate::selfSigned(
            *caKey, {QStringLiteral("Bench CA"), {}, {}, 30, Certificate::Usage::CertificateAuthority});
        const auto ca = CertificateAuthority::fromParts(*caCert, *caKey);
        QVERIFY(ca.has_value());
        QVERIFY(await(m_credentials->importCertificateAuthority(QStringLiteral("bench"), *ca)).has_value());
    }

    void profileChecks()
    {
        auto p = profile(ProvisioningProfile::KeyBirth::Modem, ProvisioningProfile::Auth::SelfSigned);
        QCOMPARE(p.validate().error().code, QStringLiteral("ProfileModemKeyNeedsCa"));
        QCOMPARE(ProvisioningProfile::fromJson(QJsonObject{{QStringLiteral("hub"), QStringLiteral("x")},
                                                   {QStringLiteral("secTag"), 2147483648.0}})
                     .error()
                     .code,
            QStringLiteral("ProfileInvalidNumber"));
        QCOMPARE(ProvisioningProfile::fromJson(
                     QJsonObject{{QStringLiteral("hub"), QStringLiteral("x")}, {QStringLiteral("sectag"), 10}})
                     .error()
                     .code,
            QStringLiteral("ProfileUnknownKey"));
        const auto round = ProvisioningProfile::fromJson(
            profile(ProvisioningProfile::KeyBirth::Modem, ProvisioningProfile::Auth::CaSigned).toJson());
        QVERIFY(round.has_value());
        QCOMPARE(*round, profile(ProvisioningProfile::KeyBirth::Modem, ProvisioningProfile::Auth::CaSigned));
        ModemIdentity identity;
        identity.imei = QStringLiteral("351234567890132");
        p.deviceIdTemplate = QStringLiteral("{prefix}-{imei6}");
        p.prefix = QStringLiteral("site");
        QCOMPARE(*p.deviceId(identity), QStringLiteral("site-890132"));
        p.deviceIdTemplate = QStringLiteral("nrf-{uuid}");
        QCOMPARE(p.deviceId(identity).error().code, QStringLiteral("DeviceIdPartMissing"));
    }

    void threeModemsInParallel()
    {
        ModemSim sims[3];
        for (int i = 0; i < 3; ++i)
            QCOMPARE(sims[i].start({QStringLiteral("--imei"), imei(i + 1)}), QString());
        const ProvisioningProfile profiles[3] = {
            profile(ProvisioningProfile::KeyBirth::Pc, ProvisioningProfile::Auth::SelfSigned),
            profile(ProvisioningProfile::KeyBirth::Modem, ProvisioningProfile::Auth::CaSigned),
            profile(ProvisioningProfile::KeyBirth::Pc, ProvisioningProfile::Auth::CaSigned, false),
        };
        QList<QFuture<ProvisioningReport>> futures;
        QList<ProvisioningJob *> jobs;
        for (int i = 0; i < 3; ++i) {
            jobs.append(job(profiles[i], sims[i].port()));
            futures.append(jobs.last()->start());
        }
        // All three are under way before the first one is done: one event loop, three ports.
        QVERIFY(std::all_of(jobs.cbegin(), jobs.cend(), [](ProvisioningJob *j) { return j->isRunning(); }));
        for (int i = 0; i < 3; ++i) {
            const ProvisioningReport report = await(futures[i], 60000);
            QVERIFY2(report.ok(), qPrintable(explain(report)));
            QCOMPARE(report.deviceId, QStringLiteral("nrf-") + imei(i + 1));
            QCOMPARE(report.hubDevice, ProvisioningReport::HubDevice::Created);
            QCOMPARE(report.modemKeyMade, i == 1);
            for (const ProvisioningStep &step : report.steps)
                QVERIFY2(step.state == ProvisioningStep::State::Done || step.state == ProvisioningStep::State::Skipped,
                    qPrintable(ProvisioningStep::idName(step.id)));
            checkDevice(sims[i], report.deviceId, profiles[i]);
            if (QTest::currentTestFailed())
                return;
            jobs[i]->deleteLater();
        }

        // Again on the same modems: everything is found, nothing is made twice.
        for (int i = 0; i < 2; ++i) {
            const auto before
                = m_credentials->certificate(QStringLiteral("sandbox"), QStringLiteral("nrf-") + imei(i + 1));
            const ProvisioningReport again = run(job(profiles[i], sims[i].port()));
            QVERIFY2(again.ok(), qPrintable(explain(again)));
            QCOMPARE(again.hubDevice, ProvisioningReport::HubDevice::Reused);
            QVERIFY(again.credentialsReused);
            QVERIFY(!again.modemKeyMade);
            QCOMPARE(again.thumbprintSha256, before->thumbprintSha256());
            QCOMPARE(devicesNamed(again.deviceId), 1);
        }
        QCOMPARE(m_credentials->records()->size(), 1 + 3); // the CA and one credential per device
    }

    void dropMidFlashThenFinish()
    {
        ModemSim sim;
        // The modem hangs up after 2500 bytes: well into the flash (the roots alone are about 2.6 kB).
        QCOMPARE(sim.start({QStringLiteral("--imei"), imei(10), QStringLiteral("--drop-after-bytes"),
                     QStringLiteral("2500")}),
            QString());
        const auto p = profile(ProvisioningProfile::KeyBirth::Modem, ProvisioningProfile::Auth::CaSigned);
        const ProvisioningReport failed = run(job(p, sim.port()));
        QVERIFY(!failed.ok());
        QVERIFY(!failed.cancelled());
        const auto flashStep = std::find_if(failed.steps.cbegin(), failed.steps.cend(),
            [](const ProvisioningStep &s) { return s.id == ProvisioningStep::Id::Flash; });
        QCOMPARE(flashStep->state, ProvisioningStep::State::Failed);
        QCOMPARE(failed.hubDevice, ProvisioningReport::HubDevice::Created);
        QVERIFY(failed.flash.has_value());
        // The exact state: which slots were flashed and which are unknown or still to do.
        int flashed = 0, notDone = 0;
        for (const FlashSlot &slot : failed.flash->slots)
            (slot.state == FlashSlot::State::Flashed ? flashed : notDone)++;
        QVERIFY2(flashed >= 1 && notDone >= 1, qPrintable(failed.stateSummary().join(u'\n')));
        const QString summary = failed.stateSummary().join(u'\n');
        QVERIFY2(summary.contains(QStringLiteral("registered by this job")), qPrintable(summary));
        QVERIFY2(summary.contains(QStringLiteral("flashed")), qPrintable(summary));

        // The modem comes back (same storage, new line); the job runs again and finishes.
        QCOMPARE(sim.start({QStringLiteral("--imei"), imei(10)}, sim.stateFile()), QString());
        const ProvisioningReport finished = run(job(p, sim.port()));
        QVERIFY2(finished.ok(), qPrintable(explain(finished)));
        QCOMPARE(finished.hubDevice, ProvisioningReport::HubDevice::Reused);
        QVERIFY(finished.credentialsReused);
        QVERIFY(!finished.modemKeyMade);
        QCOMPARE(finished.thumbprintSha256, failed.thumbprintSha256);
        QCOMPARE(devicesNamed(finished.deviceId), 1);
        checkDevice(sim, finished.deviceId, p);
        QCOMPARE(m_credentials->records()->size(), 1 + 4);
    }

    void conflictingDeviceStopsThenReplaces()
    {
        ModemSim sim;
        QCOMPARE(sim.start({QStringLiteral("--imei"), imei(20)}), QString());
        DeviceIdentity other;
        other.id = QStringLiteral("nrf-") + imei(20);
        other.authType = QStringLiteral("sas");
        QVERIFY(await(m_client->createDevice(other)).has_value());
        const auto p = profile(ProvisioningProfile::KeyBirth::Pc, ProvisioningProfile::Auth::SelfSigned);
        const ProvisioningReport stopped = run(job(p, sim.port()));
        QCOMPARE(stopped.failure->code, QStringLiteral("DeviceConflict"));
        QCOMPARE(stopped.failure->kind, ErrorKind::Conflict);
        QCOMPARE(stopped.hubDevice, ProvisioningReport::HubDevice::Conflict);
        for (const QString &slot : sim.storedHashes().keys()) // nothing written to the modem's user tags
            QVERIFY2(
                !slot.startsWith(QStringLiteral("10/")) && !slot.startsWith(QStringLiteral("11/")), qPrintable(slot));
        QCOMPARE(await(m_client->device(other.id))->authType, QStringLiteral("sas"));
        QVERIFY(!m_credentials->record(QStringLiteral("sandbox"), other.id).has_value());

        const ProvisioningReport replaced = run(job(p, sim.port(), true));
        QVERIFY2(replaced.ok(), qPrintable(explain(replaced)));
        QCOMPARE(replaced.hubDevice, ProvisioningReport::HubDevice::Updated);
        checkDevice(sim, other.id, p);
    }

    void cancelDuringFlashReportsState()
    {
        ModemSim sim;
        QCOMPARE(sim.start({QStringLiteral("--imei"), imei(30), QStringLiteral("--slow-ms"), QStringLiteral("150")}),
            QString());
        ProvisioningJob *j
            = job(profile(ProvisioningProfile::KeyBirth::Pc, ProvisioningProfile::Auth::SelfSigned), sim.port());
        connect(j, &ProvisioningJob::stepChanged, j, [j](int, const ProvisioningStep &step) {
            if (step.id == ProvisioningStep::Id::Flash && step.state == ProvisioningStep::State::Running)
                j->cancel();
        });
        const ProvisioningReport report = run(j);
        QVERIFY(report.cancelled());
        QCOMPARE(report.hubDevice, ProvisioningReport::HubDevice::Created);
        QVERIFY(report.flash.has_value());
        QVERIFY(report.flash->modeRestored);
        QCOMPARE(report.steps.at(int(ProvisioningStep::all().indexOf(ProvisioningStep::Id::Flash))).state,
            ProvisioningStep::State::Cancelled);
        QCOMPARE(report.steps.last().state, ProvisioningStep::State::Pending);
    }

    void auditLogHasEveryJobAndNoSecret()
    {
        const auto records = m_audit->records();
        QVERIFY(records.has_value());
        QCOMPARE(records->size(), m_jobs);
        QByteArray raw;
        for (const QString &path : m_audit->files()) {
            QFile file(path);
            QVERIFY(file.open(QIODevice::ReadOnly));
            raw += file.readAll();
        }
        QVERIFY(!raw.contains("PRIVATE KEY"));
        QVERIFY(!raw.contains("SharedAccessKey"));
        QVERIFY(!raw.contains("sig="));
        const auto owner = ConnectionString::parse(m_hub->ownerConnectionString());
        QVERIFY(!raw.contains(owner->sharedAccessKey().exposeForWire()));
        QVERIFY(!m_privateKeys.isEmpty());
        for (const QByteArray &key : std::as_const(m_privateKeys)) {
            // Any line of the key's base64 body.
            for (const QByteArray &line : key.split('\n')) {
                if (line.size() > 20 && !line.startsWith("-----"))
                    QVERIFY(!raw.contains(line));
            }
        }
        int passed = 0;
        for (const QJsonObject &record : *records) {
            for (const char *key : {"time", "operator", "station", "imei", "model", "firmware", "deviceId", "hubHost",
                     "secTag", "steps", "result"})
                QVERIFY2(record.contains(QLatin1String(key)), key);
            QCOMPARE(record.value(QStringLiteral("operator")).toString(), QStringLiteral("tester"));
            if (record.value(QStringLiteral("result")).toString() == QStringLiteral("passed")) {
                ++passed;
                QCOMPARE(record.value(QStringLiteral("thumbprint")).toString().size(), 64);
            } else {
                QVERIFY(record.contains(QStringLiteral("error")));
            }
        }
        QCOMPARE(passed, m_jobs - 3); // the drop, the conflict and the cancel
        const QByteArray csv = AuditLog::toCsv(*records);
        QCOMPARE(csv.count("\r\n"), m_jobs + 1);
        QVERIFY(csv.startsWith("time,operator,station,"));
    }
};

QTEST_GUILESS_MAIN(tst_Provisioning)
#include "tst_provisioning.moc"
