// Benchmark: the provisioning station with three simulated modems at 115200 baud, provisioned side by side
// through the Station page against the sandbox hub (HTTPS) and the real keychain. Prints the time per
// modem (connect to verified and logged) and per round of three, for keys made on the PC and in the modem.
// With ONBOARDER_SCREENSHOT_DIR set it saves the page mid-run (station-running.png) and at the end.
#include "benchsupport.h"
#include "common/settings.h"
#include "credentials/certificate.h"
#include "credentials/certificateauthority.h"
#include "credentials/credentialstore.h"
#include "credentials/keypair.h"
#include "credentials/secretstore.h"
#include "dps/dpsstore.h"
#include "hub/hubstore.h"
#include "modemsimfixture.h"
#include "provisioning/auditlog.h"
#include "provisioning/modemkeyledger.h"
#include "sandboxhub.h"
#include "stationcard.h"
#include "stationpage.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QUuid>

#include <cstdio>

using namespace Onboarder;
using BenchSupport::await;
using BenchSupport::median;

namespace {

void screenshot(QWidget *widget, const QString &name)
{
    const QString dir = qEnvironmentVariable("ONBOARDER_SCREENSHOT_DIR");
    if (!dir.isEmpty())
        widget->grab().save(dir + u'/' + name + QStringLiteral(".png"));
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    constexpr int modems = 3;
    constexpr int roundsPerMode = 3;
    QTemporaryDir dir;
    Sandbox::SandboxHub::Options options;
    options.dataDir = dir.filePath(QStringLiteral("hub"));
    Sandbox::SandboxHub hub(options);
    if (const auto started = hub.start(); !started) {
        std::fprintf(stderr, "error: %s\n", qPrintable(started.error().message));
        return 1;
    }
    Settings settings(dir.filePath(QStringLiteral("onboarder.conf")));
    SecretStore secrets(QStringLiteral("OnboarderBench-") + QUuid::createUuid().toString(QUuid::Id128));
    HubStore hubs(settings, secrets);
    DpsStore dpsInstances(settings, secrets);
    CredentialStore credentials(secrets, dir.filePath(QStringLiteral("data")));
    AuditLog audit(dir.filePath(QStringLiteral("audit")));
    ModemKeyLedger ledger(dir.filePath(QStringLiteral("ledger.json")));
    const QJsonObject info = hub.readyInfo();
    const HubEndpoint endpoint{info.value(QStringLiteral("restPort")).toInt(),
        info.value(QStringLiteral("mqttPort")).toInt(), info.value(QStringLiteral("caFile")).toString()};
    if (const auto added = await(hubs.add(QStringLiteral("sandbox"), hub.ownerConnectionString(), endpoint)); !added) {
        std::fprintf(stderr, "error: %s\n", qPrintable(added.error().message));
        return 1;
    }
    const auto caKey = KeyPair::generate();
    const auto caCert = Certificate::selfSigned(
        *caKey, {QStringLiteral("Bench CA"), {}, {}, 30, Certificate::Usage::CertificateAuthority});
    if (!await(credentials.importCertificateAuthority(
            QStringLiteral("bench"), *CertificateAuthority::fromParts(*caCert, *caKey)))) {
        std::fprintf(stderr, "error: the CA could not be imported\n");
        return 1;
    }

    std::printf(
        "station benchmark: %d simulated nRF9160 at 115200 baud provisioned in parallel through the Station page, "
        "%d rounds per key birth\n",
        modems, roundsPerMode);
    int imei = 0;
    bool shot = false;
    for (const auto birth : {ProvisioningProfile::KeyBirth::Pc, ProvisioningProfile::KeyBirth::Modem}) {
        QList<double> perModem, perRound;
        for (int round = 0; round < roundsPerMode; ++round) {
            TestSupport::ModemSim sims[modems];
            QStringList ports;
            for (auto &sim : sims) {
                const QString error
                    = sim.start({QStringLiteral("--baud"), QStringLiteral("115200"), QStringLiteral("--imei"),
                        TestSupport::completeImei(QStringLiteral("359000000%1").arg(++imei, 5, 10, QLatin1Char('0')))});
                if (!error.isEmpty()) {
                    std::fprintf(stderr, "error: %s\n", qPrintable(error));
                    return 1;
                }
                ports.append(sim.port());
            }
            StationPage page(hubs, dpsInstances, credentials);
            page.setAuditLog(&audit);
            page.setLedger(&ledger);
            page.resize(1200, 820);
            page.show();
            ProvisioningProfile profile;
            profile.hub = QStringLiteral("sandbox");
            profile.deviceIdTemplate = QStringLiteral("bench-{imei}");
            profile.keyBirth = birth;
            if (birth == ProvisioningProfile::KeyBirth::Modem) {
                profile.auth = ProvisioningProfile::Auth::CaSigned;
                profile.caName = QStringLiteral("bench");
            }
            profile.twinTags = QJsonObject{{QStringLiteral("site"), QStringLiteral("bench")}};
            page.setProfile(profile);
            page.portFinder()->setExtraPorts(ports);
            page.portFinder()->scan();
            while (page.cards().size() < modems)
                QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
            QElapsedTimer clock;
            clock.start();
            page.startAll();
            while (page.passed() + page.failed() < modems) {
                QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
                if (!shot && clock.elapsed() > 600) {
                    screenshot(&page, QStringLiteral("station-running"));
                    shot = true;
                }
            }
            perRound.append(double(clock.elapsed()));
            for (const ProvisioningReport &report : page.reports()) {
                if (!report.ok()) {
                    std::fprintf(
                        stderr, "error: %s: %s\n", qPrintable(report.port), qPrintable(report.failure->message));
                    return 1;
                }
                perModem.append(double(report.startedAt.msecsTo(report.finishedAt)));
            }
            if (birth == ProvisioningProfile::KeyBirth::Modem && round == roundsPerMode - 1)
                screenshot(&page, QStringLiteral("station-finished"));
        }
        std::sort(perModem.begin(), perModem.end());
        std::printf("  key made %-8s per modem: median %.0f ms, max %.0f ms; per round of %d: median %.0f ms "
                    "(%.1f modems a minute)\n",
            birth == ProvisioningProfile::KeyBirth::Pc ? "on PC" : "in modem", median(perModem), perModem.last(),
            modems, median(perRound), 60000.0 * modems / median(perRound));
    }
    return 0;
}
