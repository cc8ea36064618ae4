// The provisioning station page, driven through its widgets (offscreen): simulated modems appear as cards,
// "Provision All" runs one job per port side by side against the sandbox hub and the real keychain, a modem
// plugged in later starts by itself, a conflicting hub device gives a failed card with "Replace and Retry".
#include "common/settings.h"
#include "credentials/credentialstore.h"
#include "credentials/secretstore.h"
#include "dps/dpsclient.h"
#include "dps/dpsenrollment.h"
#include "dps/dpsstore.h"
#include "hub/hubclient.h"
#include "hub/hubstore.h"
#include "inprocesshub.h"
#include "modemsimfixture.h"
#include "provisioning/auditlog.h"
#include "provisioning/modemkeyledger.h"
#include "sandboxhub.h"
#include "sandboxprocess.h"
#include "stationcard.h"
#include "stationpage.h"
#include "testsupport.h"
#include "uitestsupport.h"

#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTemporaryDir>
#include <QUuid>

using namespace Onboarder;
using namespace Onboarder::Sandbox;
using TestSupport::await;
using TestSupport::ModemSim;

class tst_StationPage : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::InProcessHub m_hub;
    std::unique_ptr<Settings> m_settings;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<HubStore> m_hubs;
    std::unique_ptr<CredentialStore> m_credentials;
    std::unique_ptr<AuditLog> m_audit;
    std::unique_ptr<ModemKeyLedger> m_ledger;

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        const QString started = m_hub.start(m_dir.filePath(QStringLiteral("hub")));
        QVERIFY2(started.isEmpty(), qPrintable(started));
        m_settings = std::make_unique<Settings>(m_dir.filePath(QStringLiteral("onboarder.conf")));
        m_secrets = std::make_unique<SecretStore>(
            QStringLiteral("OnboarderTest-") + QUuid::createUuid().toString(QUuid::Id128));
        m_hubs = std::make_unique<HubStore>(*m_settings, *m_secrets);
        m_credentials = std::make_unique<CredentialStore>(*m_secrets, m_dir.filePath(QStringLiteral("data")));
        m_audit = std::make_unique<AuditLog>(m_dir.filePath(QStringLiteral("audit")));
        m_ledger = std::make_unique<ModemKeyLedger>(m_dir.filePath(QStringLiteral("ledger.json")));
        const HubEndpoint endpoint = m_hub.endpoint();
        QVERIFY(await(m_hubs->add(QStringLiteral("sandbox"), m_hub->ownerConnectionString(), endpoint)).has_value());
    }

    void provisionsModemsAsTheyArePluggedIn()
    {
        ModemSim sims[4];
        QCOMPARE(sims[0].start({QStringLiteral("--imei"), QStringLiteral("358000000000016")}), QString());
        // The second one will be provisioned all the same, but its card says it will hardly stay connected.
        QCOMPARE(sims[1].start({QStringLiteral("--imei"), QStringLiteral("358000000000024"), QStringLiteral("--rsrp"),
                     QStringLiteral("-119")}),
            QString());

        DpsStore dpsInstances(*m_settings, *m_secrets);
        StationPage page(*m_hubs, dpsInstances, *m_credentials);
        page.setAuditLog(m_audit.get());
        page.setLedger(m_ledger.get());
        page.resize(1200, 820);
        page.show();
        ProvisioningProfile profile;
        profile.hub = QStringLiteral("sandbox");
        profile.deviceIdTemplate = QStringLiteral("station-{imei}");
        profile.twinTags = QJsonObject{{QStringLiteral("site"), QStringLiteral("bench-1")}};
        page.setProfile(profile);
        page.setOperatorName(QStringLiteral("tester"));
        QVERIFY2(page.profile().has_value(), qPrintable(page.profileError()->text()));
        QCOMPARE(*page.profile(), profile);

        // A broken template is explained and nothing can start.
        auto broken = profile;
        broken.deviceIdTemplate = QStringLiteral("x-{sn}");
        page.setProfile(broken);
        QVERIFY(page.profileError()->isVisible());
        QVERIFY(page.profileError()->text().contains(QStringLiteral("{sn}")));
        page.setProfile(profile);
        QVERIFY(!page.profileError()->isVisible());

        page.portFinder()->setExtraPorts({sims[0].port(), sims[1].port()});
        QTRY_COMPARE_WITH_TIMEOUT(page.cards().size(), 2, 20000);
        page.startAll();
        QCOMPARE(page.running(), 2);
        for (StationCard *card : page.cards())
            QCOMPARE(card->status(), StationCard::Status::Running);
        QTRY_COMPARE_WITH_TIMEOUT(page.passed(), 2, 30000);
        QCOMPARE(page.failed(), 0);
        QVERIFY(page.tallyLabel()->text().contains(QStringLiteral("Passed 2")));
        for (StationCard *card : page.cards()) {
            QCOMPARE(card->status(), StationCard::Status::Passed);
            QVERIFY(card->summaryText().contains(QStringLiteral("station-3580000000000")));
            // After the job, the modem check's verdict: will it reach the hub once installed?
            QVERIFY(card->checkLabel()->isVisible());
            const bool weak = card->port() == sims[1].port();
            QCOMPARE(card->checkLabel()->property("verdict").toString(),
                weak ? QStringLiteral("weak-signal") : QStringLiteral("ready"));
            QVERIFY2(
                card->checkLabel()->text().contains(weak ? QStringLiteral("signal weak") : QStringLiteral("ready")),
                qPrintable(card->checkLabel()->text()));
            QVERIFY(card->checkLabel()->toolTip().contains(
                QStringLiteral("Security tag 10: root CA: DigiCert Global Root G2")));
        }
        TestSupport::saveScreenshot(&page, QStringLiteral("station-check"));
        HubClient client(
            *m_hubs->find(QStringLiteral("sandbox")), *ConnectionString::parse(m_hub->ownerConnectionString()));
        for (const char *id : {"station-358000000000016", "station-358000000000024"}) {
            const auto device = await(client.device(QLatin1String(id)));
            QVERIFY2(device.has_value(), id);
            QCOMPARE(device->primaryThumbprint,
                m_credentials->certificate(QStringLiteral("sandbox"), QLatin1String(id))->thumbprintSha256());
        }

        // Plugged in while "start when plugged in" is on: it runs by itself.
        page.setAutoStart(true);
        QCOMPARE(sims[2].start({QStringLiteral("--imei"), QStringLiteral("358000000000032")}), QString());
        page.portFinder()->setExtraPorts({sims[0].port(), sims[1].port(), sims[2].port()});
        QTRY_COMPARE_WITH_TIMEOUT(page.cards().size(), 3, 20000);
        QTRY_COMPARE_WITH_TIMEOUT(page.passed(), 3, 30000);

        // A device of that id with other credentials: a failed card, the hub untouched, then replaced on request.
        page.setAutoStart(false);
        DeviceIdentity other;
        other.id = QStringLiteral("station-358000000000040");
        other.authType = QStringLiteral("sas");
        QVERIFY(await(client.createDevice(other)).has_value());
        QCOMPARE(sims[3].start({QStringLiteral("--imei"), QStringLiteral("358000000000040")}), QString());
        page.portFinder()->setExtraPorts({sims[0].port(), sims[1].port(), sims[2].port(), sims[3].port()});
        QTRY_VERIFY_WITH_TIMEOUT(page.card(sims[3].port()) != nullptr, 20000);
        StationCard *card = page.card(sims[3].port());
        QCOMPARE(card->status(), StationCard::Status::Waiting);
        page.start(sims[3].port());
        QTRY_COMPARE_WITH_TIMEOUT(card->status(), StationCard::Status::Failed, 30000);
        QVERIFY(card->replaceButton()->isVisible());
        QVERIFY2(card->summaryText().contains(QStringLiteral("other credentials")), qPrintable(card->summaryText()));
        QCOMPARE(await(client.device(other.id))->authType, QStringLiteral("sas"));
        TestSupport::saveScreenshot(&page, QStringLiteral("station-conflict"));
        card->replaceButton()->click();
        QTRY_COMPARE_WITH_TIMEOUT(card->status(), StationCard::Status::Passed, 30000);
        QCOMPARE(await(client.device(other.id))->authType, QStringLiteral("selfSigned"));
        QCOMPARE(page.passed(), 4);
        QCOMPARE(page.failed(), 1);
        TestSupport::saveScreenshot(&page, QStringLiteral("station-done"));

        // Unplugged: the card says so.
        sims[0].stop();
        QTRY_COMPARE_WITH_TIMEOUT(page.card(sims[0].port())->status(), StationCard::Status::Unplugged, 20000);
        QCOMPARE(m_audit->records()->size(), 5);
    }

    void provisionsThroughDps()
    {
        // The sandbox as its own process, with its DPS: a profile that enrolls each modem and registers it from the
        // bench.
        TestSupport::SandboxProcess sandbox;
        const QString started
            = sandbox.start(m_dir.filePath(QStringLiteral("dps-hub")), TestSupport::SandboxProcess::dpsArguments());
        QVERIFY2(started.isEmpty(), qPrintable(started));
        QVERIFY(await(m_hubs->add(QStringLiteral("dpshub"), sandbox.connectionString(),
                          HubEndpoint{sandbox.restPort(), sandbox.mqttPort(), sandbox.caFile()}))
                    .has_value());
        const QJsonObject dps = sandbox.ready().value(QStringLiteral("dps")).toObject();
        DpsStore dpsInstances(*m_settings, *m_secrets);
        const auto added
            = await(dpsInstances.add(QStringLiteral("sbdps"), dps.value(QStringLiteral("connectionString")).toString(),
                DpsEndpoint{dps.value(QStringLiteral("idScope")).toString(),
                    dps.value(QStringLiteral("restPort")).toInt(), dps.value(QStringLiteral("mqttPort")).toInt(),
                    dps.value(QStringLiteral("host")).toString(), sandbox.caFile()}));
        QVERIFY(added.has_value());

        ModemSim sims[2];
        QCOMPARE(sims[0].start({QStringLiteral("--imei"), QStringLiteral("358100000000014")}), QString());
        QCOMPARE(sims[1].start({QStringLiteral("--imei"), QStringLiteral("358100000000022")}), QString());
        StationPage page(*m_hubs, dpsInstances, *m_credentials);
        page.setAuditLog(m_audit.get());
        page.setLedger(m_ledger.get());
        page.resize(1200, 860);
        page.show();
        ProvisioningProfile profile;
        profile.hub = QStringLiteral("dpshub");
        profile.deviceIdTemplate = QStringLiteral("dps-{imei}");
        profile.registration = ProvisioningProfile::Registration::Dps;
        profile.dps = QStringLiteral("sbdps");
        profile.testRegistration = true;
        profile.twinTags = QJsonObject{{QStringLiteral("site"), QStringLiteral("bench-3")}};
        page.setProfile(profile);
        page.setOperatorName(QStringLiteral("tester"));
        QVERIFY2(page.profile().has_value(), qPrintable(page.profileError()->text()));
        QCOMPARE(*page.profile(), profile); // the form holds every DPS key
        QLineEdit *groupField = nullptr;
        for (QLineEdit *edit : page.findChildren<QLineEdit *>())
            groupField = edit->accessibleName() == QStringLiteral("Enrollment group") ? edit : groupField;
        QVERIFY(groupField && groupField->isVisible()); // the enrollment row shows with DPS

        page.portFinder()->setExtraPorts({sims[0].port(), sims[1].port()});
        QTRY_COMPARE_WITH_TIMEOUT(page.cards().size(), 2, 20000);
        page.startAll();
        QTRY_COMPARE_WITH_TIMEOUT(page.passed() + page.failed(), 2, 60000);
        for (StationCard *card : page.cards())
            QVERIFY2(card->status() == StationCard::Status::Passed, qPrintable(card->summaryText()));
        HubClient hub(*m_hubs->find(QStringLiteral("dpshub")), *ConnectionString::parse(sandbox.connectionString()));
        DpsClient client(*added, *await(dpsInstances.connectionString(QStringLiteral("sbdps"))));
        for (const char *id : {"dps-358100000000014", "dps-358100000000022"}) {
            const auto certificate = m_credentials->certificate(QStringLiteral("dpshub"), QLatin1String(id));
            QVERIFY2(certificate.has_value(), id);
            QVERIFY2(page.card(id[17] == '1' ? sims[0].port() : sims[1].port())
                         ->summaryText()
                         .contains(QStringLiteral("enrolled in DPS sbdps")),
                id);
            const auto enrollment = await(client.get(DpsClient::Kind::Enrollment, QLatin1String(id)));
            QVERIFY2(enrollment.has_value(), id);
            QCOMPARE(DpsEnrollment::sha256Thumbprints(*enrollment), QStringList{certificate->thumbprintSha256()});
            const auto device = await(hub.device(QLatin1String(id)));
            QVERIFY2(device.has_value(), id);
            QCOMPARE(device->primaryThumbprint.toUpper(), certificate->thumbprintSha1());
        }
        TestSupport::saveScreenshot(&page, QStringLiteral("station-dps"));
    }
};

QTEST_MAIN(tst_StationPage)
#include "tst_stationpage.moc"
