// Benchmark: flashing the Azure credential set (two roots, device certificate, key; each verified) into
// the simulated nRF9160 at 115200 baud, against the time the bytes need on the wire
// (bytes sent + received, 10 bits each at 115200 baud). Prints both and their ratio; the goal
// (≤ 1.3×) is stated next to them, not asserted.
#include "benchsupport.h"
#include "credentials/certificate.h"
#include "credentials/keypair.h"
#include "modem/azureflashjob.h"
#include "modem/nrf91modem.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>

using namespace Onboarder;

using BenchSupport::await;
using BenchSupport::median;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    constexpr int baud = 115200;
    constexpr int runs = 5;
    QTemporaryDir dir;
    QProcess sim;
    sim.start(QStringLiteral(ONBOARDER_MODEM_SIM),
        {QStringLiteral("--baud"), QString::number(baud), QStringLiteral("--ready-json"), QStringLiteral("--state"),
            dir.filePath(QStringLiteral("state.json"))});
    if (!sim.waitForReadyRead(10000)) {
        std::fprintf(stderr, "error: the simulator did not start\n");
        return 1;
    }
    const QString port = QJsonDocument::fromJson(sim.readLine()).object().value(QStringLiteral("port")).toString();

    Nrf91Modem modem;
    SerialSettings settings;
    settings.baudRate = baud;
    if (const auto opened = await(modem.open(port, settings)); !opened) {
        std::fprintf(stderr, "error: %s\n", qPrintable(opened.error().message));
        return 1;
    }
    const auto key = KeyPair::generate(KeyPair::Type::EcP256);
    Certificate::Request request;
    request.commonName = QStringLiteral("bench-device");
    const auto cert = Certificate::selfSigned(*key, request);
    // A set of its own for every run (a job takes its set).
    const auto makeSet = [&] {
        AzureCredentialSet set;
        set.tag = 10;
        set.secondaryTag = 11;
        set.deviceCertificate = cert->toPem();
        set.deviceKey = key->privateKeyPem();
        return set;
    };

    QList<double> elapsedMs, wireMs, ratios;
    std::printf("modem flash benchmark: the Azure set into the simulator at %d baud (%d runs)\n", baud, runs);
    for (int run = 0; run < runs; ++run) {
        AzureFlashJob job(modem, makeSet());
        job.setForce(true); // write everything every time
        QElapsedTimer clock;
        clock.start();
        const FlashReport report = await(job.start());
        const double elapsed = double(clock.nsecsElapsed()) / 1e6;
        if (!report.ok()) {
            std::fprintf(stderr, "error: %s\n", qPrintable(report.failure->message));
            return 1;
        }
        const qint64 bytes = report.bytesSent + report.bytesReceived;
        const double wire = double(bytes) * 10 * 1000 / baud;
        elapsedMs.append(elapsed);
        wireMs.append(wire);
        ratios.append(elapsed / wire);
        std::printf("  run %d: %lld bytes sent, %lld received; elapsed %7.1f ms, wire %7.1f ms, ratio %.3f\n", run + 1,
            static_cast<long long>(report.bytesSent), static_cast<long long>(report.bytesReceived), elapsed, wire,
            elapsed / wire);
    }
    std::printf("  median: elapsed %.1f ms, wire %.1f ms, ratio %.3f   (goal <= 1.3)\n", median(elapsedMs),
        median(wireMs), median(ratios));
    modem.close();
    sim.terminate();
    sim.waitForFinished(5000);
    return 0;
}
