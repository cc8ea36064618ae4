// Benchmark: a sandbox hub seeded with 100,000 devices; time to seed, and time for one query page of
// 1000 twins over HTTPS (first page, and pages deep in the registry through the continuation).
// Prints numbers; the goal (page of 1000 < 50 ms) is stated next to them, not asserted.
#include "benchsupport.h"
#include "hub/hubclient.h"
#include "sandboxhub.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>

using namespace Onboarder;
using namespace Onboarder::Sandbox;

using BenchSupport::await;
using BenchSupport::median;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const int devices = argc > 1 ? QByteArray(argv[1]).toInt() : 100000;
    QTemporaryDir dir;

    SandboxHub::Options options;
    options.dataDir = dir.filePath(QStringLiteral("hub"));
    options.seedDevices = devices;
    QElapsedTimer seeding;
    seeding.start();
    SandboxHub hub(options);
    if (auto started = hub.start(); !started) {
        std::fprintf(stderr, "error: %s\n", qPrintable(started.error().message));
        return 1;
    }
    const double seedSeconds = seeding.elapsed() / 1000.0;

    const QJsonObject info = hub.readyInfo();
    HubProfile profile;
    profile.name = QStringLiteral("bench");
    profile.hostName = info.value(QStringLiteral("hostName")).toString();
    profile.restPort = info.value(QStringLiteral("restPort")).toInt();
    profile.caFile = info.value(QStringLiteral("caFile")).toString();
    HubClient client(profile, *ConnectionString::parse(hub.ownerConnectionString()));
    const QString query = QStringLiteral("SELECT * FROM devices");

    await(client.statistics()); // TLS session and token set up once, as in an application

    QList<double> first;
    for (int i = 0; i < 7; ++i) {
        QElapsedTimer timer;
        timer.start();
        const auto page = await(client.query(query, 1000));
        first.append(timer.nsecsElapsed() / 1e6);
        if (!page || page->items.size() != 1000) {
            std::fprintf(stderr, "error: first page failed\n");
            return 1;
        }
    }

    // Walk 20 pages deep, timing each.
    QList<double> deep;
    QString continuation;
    for (int i = 0; i < 20; ++i) {
        QElapsedTimer timer;
        timer.start();
        const auto page = await(client.query(query, 1000, continuation));
        deep.append(timer.nsecsElapsed() / 1e6);
        if (!page) {
            std::fprintf(stderr, "error: page %d failed\n", i + 1);
            return 1;
        }
        continuation = page->continuation;
    }

    QList<double> filtered;
    for (int i = 0; i < 7; ++i) {
        QElapsedTimer timer;
        timer.start();
        await(client.query(
            QStringLiteral(
                "SELECT * FROM devices WHERE status = 'enabled' AND STARTSWITH(deviceId, 'sandbox-device-05')"),
            1000));
        filtered.append(timer.nsecsElapsed() / 1e6);
    }

    std::printf("sandbox query benchmark (%d devices)\n", devices);
    std::printf("  seed + start:                 %8.2f s\n", seedSeconds);
    std::printf("  first page of 1000, median:   %8.2f ms   (goal < 50 ms)\n", median(first));
    std::printf("  deeper pages of 1000, median: %8.2f ms, max %.2f ms\n", median(deep),
        *std::max_element(deep.cbegin(), deep.cend()));
    std::printf("  filtered page, median:        %8.2f ms\n", median(filtered));
    return 0;
}
