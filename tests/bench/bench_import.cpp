// Benchmark: `device import` of 10,000 rows with 10 bad ones into a sandbox hub over HTTPS, through the same reader
// and importer the CLI and the GUI use (DeviceImport, DeviceImporter: 100 a request, one request at a time). Times
// the reading, the first import and the second one (everything exists by then), and the peak memory.
// Prints numbers; the goal (10,000 in under 10 s on the sandbox) is stated next to them, not asserted.
#include "benchsupport.h"
#include "hub/deviceimport.h"
#include "hub/hubclient.h"
#include "sandboxhub.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>

#include <cstdio>
#include <sys/resource.h>

using namespace Onboarder;
using namespace Onboarder::Sandbox;

namespace {

struct Run
{
    double seconds = 0;
    int created = 0;
    int existing = 0;
    int refused = 0;
};

Run importOnce(HubClient &client, const QList<ImportRow> &rows)
{
    DeviceImporter importer(client, rows);
    bool done = false;
    QObject::connect(&importer, &DeviceImporter::finished, [&done] { done = true; });
    QElapsedTimer timer;
    timer.start();
    importer.start();
    while (!done)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    return {timer.nsecsElapsed() / 1e9, importer.created(), importer.existing(), int(importer.problems().size())};
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const int rows = argc > 1 ? QByteArray(argv[1]).toInt() : 10000;
    QTemporaryDir dir;
    SandboxHub::Options options;
    options.dataDir = dir.filePath(QStringLiteral("hub"));
    SandboxHub hub(options);
    if (auto started = hub.start(); !started) {
        std::fprintf(stderr, "error: %s\n", qPrintable(started.error().message));
        return 1;
    }
    const QJsonObject info = hub.readyInfo();
    HubProfile profile;
    profile.name = QStringLiteral("bench");
    profile.hostName = info.value(QStringLiteral("hostName")).toString();
    profile.restPort = info.value(QStringLiteral("restPort")).toInt();
    profile.caFile = info.value(QStringLiteral("caFile")).toString();
    HubClient client(profile, *ConnectionString::parse(hub.ownerConnectionString()));

    // rows lines, every thousandth of them bad (an id with a space), a third with tags.
    QByteArray csv = "id,auth,status,thumbprint,tags\n";
    for (int i = 1; i <= rows; ++i) {
        const QByteArray id = "bench-" + QByteArray::number(i).rightJustified(6, '0');
        if (i % 1000 == 500)
            csv += "bad " + id + ",,,,\n";
        else if (i % 3 == 0)
            csv += id + ",sas,enabled,,\"{\"\"site\"\":\"\"north\"\"}\"\n";
        else
            csv += id + ",,,,\n";
    }
    QElapsedTimer reading;
    reading.start();
    const auto file = DeviceImport::read(csv, DeviceImport::Format::Csv);
    const double readMs = reading.nsecsElapsed() / 1e6;
    if (!file) {
        std::fprintf(stderr, "error: %s\n", qPrintable(file.error().message));
        return 1;
    }
    BenchSupport::await(client.statistics()); // TLS session and token set up once, as in an application
    const Run first = importOnce(client, file->rows);
    const Run second = importOnce(client, file->rows);
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);

    std::printf("device import benchmark (%d rows, %lld refused as they are read)\n", rows,
        static_cast<long long>(file->problems.size()));
    std::printf("  read and check the CSV:       %8.2f ms\n", readMs);
    std::printf("  first import:                 %8.2f s    (%d created, %d refused by the hub; goal < 10 s)\n",
        first.seconds, first.created, first.refused);
    std::printf("  devices per second:           %8.0f\n", first.created / std::max(first.seconds, 1e-9));
    std::printf("  second import (all exist):    %8.2f s    (%d existing, %d created)\n", second.seconds,
        second.existing, second.created);
    std::printf("  peak memory (hub and client): %8.1f MB\n", usage.ru_maxrss / 1024.0);
    return first.created == int(file->rows.size()) && second.existing == first.created ? 0 : 1;
}
