// The provisioning station through the Device Provisioning Service: simulated nRF9160 modems on real
// pseudo-terminals, the sandbox as its own process (hub and DPS over HTTPS, device registration over MQTT), the real
// Secret Service. Three modems enrolled individually, each registered from the bench and found in the hub by the
// certificate on its modem, then run again without a second anything; a CA group's member; a group whose CA is not
// the profile's, and an enrollment with another certificate, both stopped before anything changes; a disabled
// enrollment refused with DPS's reason; the audit record's DPS fields.
#include "credentials/certificate.h"
#include "credentials/credentialstore.h"
#include "credentials/secretstore.h"
#include "dps/dpsclient.h"
#include "dps/dpsenrollment.h"
#include "hub/hubclient.h"
#include "modem/modemcredentialstore.h"
#include "modemsimfixture.h"
#include "provisioning/auditlog.h"
#include "provisioning/modemkeyledger.h"
#include "provisioning/provisioningjob.h"
#include "sandboxprocess.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QTemporaryDir>
#include <QUuid>

using namespace Onboarder;
using TestSupport::await;
using TestSupport::ModemSim;

class tst_ProvisioningDps : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::SandboxProcess m_sandbox;
    HubProfile m_hubProfile;
    DpsProfile m_dpsProfile;
    std::unique_ptr<HubClient> m_hub;
    std::unique_ptr<DpsClient> m_dps;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<CredentialStore> m_credentials;
    std::unique_ptr<AuditLog> m_audit;
    std::unique_ptr<ModemKeyLedger> m_ledger;

    ProvisioningProfile profile(
        ProvisioningProfile::Enrollment enrollment = ProvisioningProfile::Enrollment::Individual) const
    {
        ProvisioningProfile p;
        p.hub = QStringLiteral("sandbox");
        p.deviceIdTemplate = QStringLiteral("nrf-{imei}");
        p.registration = ProvisioningProfile::Registration::Dps;
        p.dps = QStringLiteral("sbdps");
        p.enrollment = enrollment;
        p.testRegistration = true;
        if (enrollment == ProvisioningProfile::Enrollment::Group) {
            p.enrollmentGroup = QStringLiteral("fleet");
            p.auth = ProvisioningProfile::Auth::CaSigned;
            p.caName = QStringLiteral("bench");
        } else {
            p.twinTags = QJsonObject{{QStringLiteral("site"), QStringLiteral("bench-2")}};
        }
        return p;
    }

    ProvisioningReport run(const ProvisioningProfile &p, const QString &port, bool replace = false)
    {
        ProvisioningOptions options;
        options.operatorName = QStringLiteral("tester");
        options.station = QStringLiteral("bench-9");
        options.replaceConflicting = replace;
        auto *job = new ProvisioningJob(p, port, *m_hub, m_hubProfile, *m_credentials, options, this);
        job->setDps(m_dps.get(), m_dpsProfile);
        job->setAuditLog(m_audit.get());
        job->setLedger(m_ledger.get());
        const ProvisioningReport report = await(job->start(), 90000);
        job->deleteLater();
        return report;
    }

    static QString explain(const ProvisioningReport &r)
    {
        return r.failure ? r.failure->code + QStringLiteral(": ") + r.failure->message + QStringLiteral(" | ")
                + r.stateSummary().join(u' ')
                         : QString();
    }

    static QString imei(int n)
    {
        return TestSupport::completeImei(QStringLiteral("358000000000%1").arg(n, 2, 10, QLatin1Char('0')));
    }

    static const ProvisioningStep &step(const ProvisioningReport &report, ProvisioningStep::Id id)
    {
        return *std::find_if(
            report.steps.cbegin(), report.steps.cend(), [id](const ProvisioningStep &s) { return s.id == id; });
    }

    // The hub knows the device by the certificate on its modem, and DPS enrolled that certificate (individual).
    void checkDevice(const ModemSim &sim, const QString &deviceId, bool individual)
    {
        const auto cert = m_credentials->certificate(QStringLiteral("sandbox"), deviceId);
        QVERIFY2(cert.has_value(), qPrintable(deviceId));
        const auto prepared = ModemCredentialStore::prepare(CredentialType::ClientCert, cert->toPem());
        QCOMPARE(sim.storedHashes().value(QStringLiteral("10/1")), ModemCredentialStore::sha256Hex(*prepared));
        const auto device = await(m_hub->device(deviceId));
        QVERIFY2(device.has_value(), qPrintable(deviceId));
        QCOMPARE(device->authType, QStringLiteral("selfSigned"));
        QVERIFY2(QStringList({cert->thumbprintSha1(), cert->thumbprintSha256()})
                     .contains(device->primaryThumbprint.toUpper()),
            qPrintable(device->primaryThumbprint));
        if (!individual)
            return;
        const auto enrollment = await(m_dps->get(DpsClient::Kind::Enrollment, deviceId));
        QVERIFY(enrollment.has_value());
        QCOMPARE(DpsEnrollment::sha256Thumbprints(*enrollment), QStringList{cert->thumbprintSha256()});
        const auto twin = await(m_hub->twin(deviceId));
        QCOMPARE(twin->tags.value(QStringLiteral("site")).toString(), QStringLiteral("bench-2"));
    }

    int enrollments()
    {
        const auto page = await(m_dps->query(DpsClient::Kind::Enrollment));
        return page ? int(page->items.size()) : -1;
    }

    Result<void> importCa(const QString &name, const QString &commonName)
    {
        const auto key = KeyPair::generate();
        const auto cert
            = Certificate::selfSigned(*key, {commonName, {}, {}, 30, Certificate::Usage::CertificateAuthority});
        const auto ca = CertificateAuthority::fromParts(*cert, *key);
        if (!ca)
            return std::unexpected(ca.error());
        const auto imported = await(m_credentials->importCertificateAuthority(name, *ca));
        if (!imported)
            return std::unexpected(imported.error());
        return {};
    }

    static bool userTagsEmpty(const ModemSim &sim)
    {
        for (const QString &slot : sim.storedHashes().keys()) {
            if (slot.startsWith(QStringLiteral("10/")) || slot.startsWith(QStringLiteral("11/")))
                return false;
        }
        return true;
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        const QString started
            = m_sandbox.start(m_dir.filePath(QStringLiteral("hub")), TestSupport::SandboxProcess::dpsArguments());
        QVERIFY2(started.isEmpty(), qPrintable(started));
        const auto owner = ConnectionString::parse(m_sandbox.connectionString());
        QVERIFY(owner.has_value());
        m_hubProfile.name = QStringLiteral("sandbox");
        m_hubProfile.hostName = owner->hostName();
        m_hubProfile.policyName = owner->sharedAccessKeyName();
        m_hubProfile.restPort = m_sandbox.restPort();
        m_hubProfile.mqttPort = m_sandbox.mqttPort();
        m_hubProfile.caFile = m_sandbox.caFile();
        m_hub = std::make_unique<HubClient>(m_hubProfile, *owner);

        const QJsonObject dps = m_sandbox.ready().value(QStringLiteral("dps")).toObject();
        const auto service = ConnectionString::parse(dps.value(QStringLiteral("connectionString")).toString());
        QVERIFY(service.has_value());
        m_dpsProfile.name = QStringLiteral("sbdps");
        m_dpsProfile.hostName = service->hostName();
        m_dpsProfile.policyName = service->sharedAccessKeyName();
        m_dpsProfile.idScope = dps.value(QStringLiteral("idScope")).toString();
        m_dpsProfile.restPort = dps.value(QStringLiteral("restPort")).toInt();
        m_dpsProfile.mqttPort = dps.value(QStringLiteral("mqttPort")).toInt();
        m_dpsProfile.address = dps.value(QStringLiteral("host")).toString();
        m_dpsProfile.caFile = m_sandbox.caFile();
        m_dps = std::make_unique<DpsClient>(m_dpsProfile, *service);

        m_secrets = std::make_unique<SecretStore>(
            QStringLiteral("OnboarderTest-") + QUuid::createUuid().toString(QUuid::WithoutBraces));
        m_credentials = std::make_unique<CredentialStore>(*m_secrets, m_dir.filePath(QStringLiteral("data")));
        m_audit = std::make_unique<AuditLog>(m_dir.filePath(QStringLiteral("audit")));
        m_ledger
            = std::make_unique<ModemKeyLedger>(m_dir.filePath(QStringLiteral("data/provisioning/modem-keys.json")));
        QVERIFY(importCa(QStringLiteral("bench"), QStringLiteral("Bench CA")).has_value());
        QVERIFY(importCa(QStringLiteral("other"), QStringLiteral("Other CA")).has_value());
    }

    void profileChecks()
    {
        const auto round = ProvisioningProfile::fromJson(profile().toJson());
        QVERIFY2(round.has_value(), qPrintable(round ? QString() : round.error().message));
        QCOMPARE(*round, profile());
        const auto group = ProvisioningProfile::fromJson(profile(ProvisioningProfile::Enrollment::Group).toJson());
        QVERIFY(group.has_value());
        QCOMPARE(*group, profile(ProvisioningProfile::Enrollment::Group));

        const auto code = [](QJsonObject json) {
            const auto parsed = ProvisioningProfile::fromJson(json);
            return parsed ? QString() : parsed.error().code;
        };
        const QJsonObject base{{QStringLiteral("hub"), QStringLiteral("x")},
            {QStringLiteral("registration"), QStringLiteral("dps")}, {QStringLiteral("dps"), QStringLiteral("d")}};
        QCOMPARE(code(base), QString());
        // testRegistration defaults on with a key made here, off with a key made in the modem.
        QVERIFY(ProvisioningProfile::fromJson(base)->testRegistration);
        QJsonObject modemKey = base;
        modemKey.insert(QStringLiteral("keyBirth"), QStringLiteral("modem"));
        modemKey.insert(QStringLiteral("auth"), QStringLiteral("x509-ca"));
        modemKey.insert(QStringLiteral("ca"), QStringLiteral("bench"));
        QVERIFY(!ProvisioningProfile::fromJson(modemKey)->testRegistration);
        modemKey.insert(QStringLiteral("testRegistration"), true);
        QCOMPARE(code(modemKey), QStringLiteral("ProfileTestRegistrationNeedsKey"));

        QCOMPARE(code({{QStringLiteral("hub"), QStringLiteral("x")}, {QStringLiteral("dps"), QStringLiteral("d")}}),
            QStringLiteral("ProfileDpsKeyWithoutDps"));
        QCOMPARE(code({{QStringLiteral("hub"), QStringLiteral("x")},
                     {QStringLiteral("registration"), QStringLiteral("dps")}}),
            QStringLiteral("ProfileNoDps"));
        QCOMPARE(code({{QStringLiteral("hub"), QStringLiteral("x")},
                     {QStringLiteral("registration"), QStringLiteral("cloud")}}),
            QStringLiteral("ProfileInvalidRegistration"));
        QJsonObject hubAuth = base;
        hubAuth.insert(QStringLiteral("hubAuth"), QStringLiteral("thumbprint"));
        QCOMPARE(code(hubAuth), QStringLiteral("ProfileHubAuthWithDps"));
        QJsonObject selfSignedGroup = base;
        selfSignedGroup.insert(QStringLiteral("enrollment"), QStringLiteral("group"));
        selfSignedGroup.insert(QStringLiteral("enrollmentGroup"), QStringLiteral("fleet"));
        QCOMPARE(code(selfSignedGroup), QStringLiteral("ProfileGroupNeedsCa"));
        selfSignedGroup.remove(QStringLiteral("enrollmentGroup"));
        QCOMPARE(code(selfSignedGroup), QStringLiteral("ProfileNoEnrollmentGroup"));
        QJsonObject groupTags = profile(ProvisioningProfile::Enrollment::Group).toJson();
        groupTags.insert(QStringLiteral("twinTags"), QJsonObject{{QStringLiteral("a"), 1}});
        QCOMPARE(code(groupTags), QStringLiteral("ProfileGroupTwinTags"));
    }

    void threeModemsEnrolledRegisteredAndRunAgain()
    {
        ModemSim sims[3];
        for (int i = 0; i < 3; ++i)
            QCOMPARE(sims[i].start({QStringLiteral("--imei"), imei(i + 1)}), QString());
        ProvisioningProfile profiles[3] = {profile(), profile(), profile()};
        profiles[1].auth = ProvisioningProfile::Auth::CaSigned;
        profiles[1].caName = QStringLiteral("bench");
        profiles[2].keepKeyOnPc = false; // registered from the bench before the key leaves the keychain
        const int before = enrollments();
        for (int i = 0; i < 3; ++i) {
            const ProvisioningReport report = run(profiles[i], sims[i].port());
            QVERIFY2(report.ok(), qPrintable(explain(report)));
            QCOMPARE(report.deviceId, QStringLiteral("nrf-") + imei(i + 1));
            QCOMPARE(report.enrollment, ProvisioningReport::Enrollment::Created);
            QCOMPARE(report.hubDevice, ProvisioningReport::HubDevice::Created);
            QCOMPARE(report.assignedHub, m_hubProfile.hostName);
            QCOMPARE(report.idScope, m_dpsProfile.idScope);
            QCOMPARE(step(report, ProvisioningStep::Id::TestRegistration).state, ProvisioningStep::State::Done);
            QCOMPARE(report.keyLocation, i == 2 ? QStringLiteral("modem") : QStringLiteral("keychain"));
            checkDevice(sims[i], report.deviceId, true);
            if (QTest::currentTestFailed())
                return;
        }
        QCOMPARE(enrollments(), before + 3);

        // Again: the enrollment, the credential and the hub device are found; nothing is made twice.
        for (int i = 0; i < 2; ++i) {
            const auto cert
                = m_credentials->certificate(QStringLiteral("sandbox"), QStringLiteral("nrf-") + imei(i + 1));
            const ProvisioningReport again = run(profiles[i], sims[i].port());
            QVERIFY2(again.ok(), qPrintable(explain(again)));
            QCOMPARE(again.enrollment, ProvisioningReport::Enrollment::Reused);
            QCOMPARE(step(again, ProvisioningStep::Id::Enroll).state, ProvisioningStep::State::Skipped);
            QVERIFY(again.credentialsReused);
            QCOMPARE(again.thumbprintSha256, cert->thumbprintSha256());
            QCOMPARE(again.hubDevice, ProvisioningReport::HubDevice::Reused);
            checkDevice(sims[i], again.deviceId, true);
        }
        QCOMPARE(enrollments(), before + 3);

        // Disabled in DPS: the run stops at the test registration with DPS's reason, and says so.
        const QString id = QStringLiteral("nrf-") + imei(1);
        auto enrollment = await(m_dps->get(DpsClient::Kind::Enrollment, id));
        QVERIFY(enrollment.has_value());
        enrollment->insert(QStringLiteral("provisioningStatus"), QStringLiteral("disabled"));
        QVERIFY(await(m_dps->put(DpsClient::Kind::Enrollment, id, *enrollment,
                          enrollment->value(QStringLiteral("etag")).toString()))
                    .has_value());
        const ProvisioningReport disabled = run(profiles[0], sims[0].port());
        QVERIFY(!disabled.ok());
        QCOMPARE(step(disabled, ProvisioningStep::Id::TestRegistration).state, ProvisioningStep::State::Failed);
        QVERIFY2(disabled.failure->message.contains(QStringLiteral("disabled")), qPrintable(disabled.failure->message));
        QVERIFY2(step(disabled, ProvisioningStep::Id::Enroll).detail.contains(QStringLiteral("disabled")),
            qPrintable(step(disabled, ProvisioningStep::Id::Enroll).detail));
    }

    void groupMemberAndAGroupOfAnotherCa()
    {
        const auto ca = await(m_credentials->certificateAuthority(QStringLiteral("bench")));
        QVERIFY(ca.has_value());
        QVERIFY(await(m_dps->put(DpsClient::Kind::Group, QStringLiteral("fleet"),
                          DpsEnrollment::groupX509(QStringLiteral("fleet"), ca->certificate().toPem())))
                    .has_value());
        ModemSim sim;
        QCOMPARE(sim.start({QStringLiteral("--imei"), imei(40)}), QString());
        const int before = enrollments();
        const ProvisioningReport member = run(profile(ProvisioningProfile::Enrollment::Group), sim.port());
        QVERIFY2(member.ok(), qPrintable(explain(member)));
        QCOMPARE(member.enrollment, ProvisioningReport::Enrollment::Group);
        QCOMPARE(member.enrollmentGroup, QStringLiteral("fleet"));
        QCOMPARE(member.hubDevice, ProvisioningReport::HubDevice::Created);
        QCOMPARE(enrollments(), before); // a group's member has no enrollment of its own
        checkDevice(sim, member.deviceId, false);
        QVERIFY(m_credentials->certificate(QStringLiteral("sandbox"), member.deviceId)->isSignedBy(ca->certificate()));
        const auto state = await(m_dps->get(DpsClient::Kind::Registration, member.deviceId));
        QVERIFY(state.has_value());
        QCOMPARE(state->value(QStringLiteral("status")).toString(), QStringLiteral("assigned"));

        // The profile's CA is not the group's: refused before anything is made or written.
        ModemSim other;
        QCOMPARE(other.start({QStringLiteral("--imei"), imei(41)}), QString());
        ProvisioningProfile wrong = profile(ProvisioningProfile::Enrollment::Group);
        wrong.caName = QStringLiteral("other");
        const ProvisioningReport refused = run(wrong, other.port());
        QCOMPARE(refused.failure->code, QStringLiteral("GroupCaMismatch"));
        QCOMPARE(step(refused, ProvisioningStep::Id::DpsLookup).state, ProvisioningStep::State::Failed);
        QVERIFY(!m_credentials->record(QStringLiteral("sandbox"), QStringLiteral("nrf-") + imei(41)).has_value());
        QVERIFY(userTagsEmpty(other));
        QCOMPARE(await(m_hub->device(QStringLiteral("nrf-") + imei(41))).error().kind, ErrorKind::NotFound);
    }

    void anEnrollmentWithAnotherCertificateStopsThenIsReplaced()
    {
        ModemSim sim;
        QCOMPARE(sim.start({QStringLiteral("--imei"), imei(50)}), QString());
        const QString id = QStringLiteral("nrf-") + imei(50);
        const auto key = KeyPair::generate();
        const auto stranger = Certificate::selfSigned(*key, {id, {}, {}, 30, Certificate::Usage::Client});
        QVERIFY(stranger.has_value());
        QVERIFY(await(m_dps->put(DpsClient::Kind::Enrollment, id, DpsEnrollment::individualX509(id, stranger->toPem())))
                    .has_value());

        const ProvisioningReport stopped = run(profile(), sim.port());
        QCOMPARE(stopped.failure->code, QStringLiteral("EnrollmentConflict"));
        QCOMPARE(stopped.enrollment, ProvisioningReport::Enrollment::Conflict);
        QVERIFY(!m_credentials->record(QStringLiteral("sandbox"), id).has_value());
        QVERIFY(userTagsEmpty(sim));
        QCOMPARE(DpsEnrollment::sha256Thumbprints(*await(m_dps->get(DpsClient::Kind::Enrollment, id))),
            QStringList{stranger->thumbprintSha256()});
        QVERIFY2(stopped.stateSummary().join(u' ').contains(QStringLiteral("left alone")),
            qPrintable(stopped.stateSummary().join(u' ')));

        const ProvisioningReport replaced = run(profile(), sim.port(), true);
        QVERIFY2(replaced.ok(), qPrintable(explain(replaced)));
        QCOMPARE(replaced.enrollment, ProvisioningReport::Enrollment::Updated);
        checkDevice(sim, id, true);
    }

    void auditRecordsCarryTheDpsFields()
    {
        const auto records = m_audit->records();
        QVERIFY(records.has_value());
        int passed = 0;
        for (const QJsonObject &record : *records) {
            QCOMPARE(record.value(QStringLiteral("registration")).toString(), QStringLiteral("dps"));
            QCOMPARE(record.value(QStringLiteral("idScope")).toString(), m_dpsProfile.idScope);
            QCOMPARE(record.value(QStringLiteral("registrationId")).toString(),
                record.value(QStringLiteral("deviceId")).toString());
            QVERIFY(QStringList({QStringLiteral("individual"), QStringLiteral("group")})
                        .contains(record.value(QStringLiteral("enrollmentKind")).toString()));
            if (record.value(QStringLiteral("result")).toString() == QStringLiteral("passed")) {
                ++passed;
                QCOMPARE(record.value(QStringLiteral("assignedHub")).toString(), m_hubProfile.hostName);
            }
        }
        QCOMPARE(passed, 3 + 2 + 1 + 1);
        QVERIFY(!m_audit->files().isEmpty());
        for (const QString &path : m_audit->files()) {
            QFile file(path);
            QVERIFY(file.open(QIODevice::ReadOnly));
            const QByteArray raw = file.readAll();
            QVERIFY(!raw.contains("PRIVATE KEY"));
            QVERIFY(!raw.contains("SharedAccessKey"));
        }
    }
};

QTEST_GUILESS_MAIN(tst_ProvisioningDps)
#include "tst_provisioningdps.moc"
