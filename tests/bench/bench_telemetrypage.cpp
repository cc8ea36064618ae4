// Benchmark: the Telemetry page fed 5,000 messages a second for 60 s through the whole path: a sandbox hub process,
// its seeded devices publishing QoS 1 over MQTT (on a thread of their own in this process), the page's
// EventHubReader on its worker thread. Prints the longest stall of the GUI thread while it runs (a 5 ms timer's
// longest late tick; goal < 50 ms), the RSS at the end (goal < 200 MB; the publishers' sessions are in this process
// too, so the RSS before publishing is printed beside it), and the messages the page counted against those the hub
// acknowledged (goal: equal). Prints numbers; asserts only that the run happened.
// The hub and the devices stand for remote systems: the sandbox and the publishing thread run at the lowest CPU
// priority (nice 19), so that on a small machine the stalls measured are the app's, not the hub's load. The
// page's own reader thread runs at normal priority, as it does for a user.
//   ONBOARDER_BENCH_RATE (5000 msg/s), ONBOARDER_BENCH_SECONDS (60), ONBOARDER_BENCH_DEVICES (50)
#include "benchdevices.h"
#include "common/settings.h"
#include "credentials/secretstore.h"
#include "hub/hubsession.h"
#include "hub/hubstore.h"
#include "relayfixture.h"
#include "sandboxprocess.h"
#include "telemetrypage.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QPushButton>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>
#include <QUuid>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

using namespace Onboarder;

namespace {

double rssMegabytes()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toDouble() / 1024.0;
    }
    return -1;
}

} // namespace

class bench_TelemetryPage : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::SandboxProcess m_sandbox;

private Q_SLOTS:
    void fiveThousandASecond()
    {
        const int deviceCount = int(RelayFixture::envOr("ONBOARDER_BENCH_DEVICES", 50));
        const qint64 rate = RelayFixture::envOr("ONBOARDER_BENCH_RATE", 5000);
        const qint64 seconds = RelayFixture::envOr("ONBOARDER_BENCH_SECONDS", 60);
        m_sandbox.setNiceness(19);
        const QString started = m_sandbox.start(m_dir.filePath(QStringLiteral("hub")),
            {QStringLiteral("--seed-devices"), QString::number(deviceCount), QStringLiteral("--amqp-port"),
                QStringLiteral("0")},
            60000);
        QVERIFY2(started.isEmpty(), qPrintable(started));

        Settings settings(m_dir.filePath(QStringLiteral("onboarder.conf")));
        SecretStore secrets(QStringLiteral("OnboarderBench-") + QUuid::createUuid().toString(QUuid::Id128));
        HubStore hubs(settings, secrets);
        const HubEndpoint endpoint{
            m_sandbox.restPort(), m_sandbox.mqttPort(), m_sandbox.caFile(), m_sandbox.amqpPort()};
        auto added = hubs.add(QStringLiteral("bench"), m_sandbox.connectionString(), endpoint);
        QTRY_VERIFY_WITH_TIMEOUT(added.isFinished(), 20000);
        QVERIFY2(added.result().has_value(), added.result() ? "" : qPrintable(added.result().error().message));
        settings.setCurrentHub(QStringLiteral("bench"));
        HubSession session(hubs, settings);
        QTRY_COMPARE_WITH_TIMEOUT(session.state(), HubSession::State::Ready, 20000);

        TelemetryPage page(session, hubs);
        page.resize(1200, 700);
        page.show();
        page.startButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(page.isListening(), 30000);

        // The devices publish on a thread of their own: the GUI thread has only the page to run.
        std::atomic<int> connected{-1};
        std::atomic<bool> go{false};
        std::atomic<bool> done{false};
        std::atomic<qint64> sent{0};
        QThread *publisher = QThread::create([&] {
            setpriority(PRIO_PROCESS, ::gettid(), 19); // this thread only (Linux: niceness is per thread)
            BenchSupport::Devices devices(m_sandbox, deviceCount);
            connected = devices.connectAll(300000);
            while (!go)
                QThread::msleep(10);
            const qint64 count = rate * seconds;
            sent = devices.publish(0, count, double(rate), int(seconds * 1000 + 120000)) ? count : -1;
            done = true;
        });
        publisher->start();
        QTRY_VERIFY_WITH_TIMEOUT(connected >= 0, 300000);
        QCOMPARE(connected.load(), deviceCount);
        const double rssBefore = rssMegabytes();

        // The GUI thread's stalls: how late a 5 ms timer's ticks come.
        qint64 longestStall = 0;
        std::vector<qint64> lateness;
        lateness.reserve(size_t(seconds) * 250);
        QElapsedTimer tick;
        QTimer probe;
        probe.setTimerType(Qt::PreciseTimer);
        probe.setInterval(5);
        connect(&probe, &QTimer::timeout, &probe, [&] {
            const qint64 late = std::max<qint64>(0, tick.restart() - 5);
            longestStall = std::max(longestStall, late);
            lateness.push_back(late);
        });
        QElapsedTimer clock;
        clock.start();
        tick.start();
        probe.start();
        go = true;
        QTRY_VERIFY_WITH_TIMEOUT(done, int(seconds * 1000 + 180000));
        const qint64 publishMs = clock.elapsed();
        QVERIFY2(sent > 0, "the devices could not publish everything");
        // The page catches up: what the hub acknowledged, the page counts.
        QElapsedTimer catchUp;
        catchUp.start();
        while (page.received() < sent && catchUp.elapsed() < 60000)
            QTest::qWait(50);
        probe.stop();
        const double rssAfter = rssMegabytes();
        std::printf(
            "telemetry page: %lld msg/s asked for %lld s from %d devices; published %lld in %.1f s (%.0f msg/s)\n",
            static_cast<long long>(rate), static_cast<long long>(seconds), deviceCount,
            static_cast<long long>(sent.load()), double(publishMs) / 1000.0,
            double(sent) * 1000.0 / double(std::max<qint64>(1, publishMs)));
        std::sort(lateness.begin(), lateness.end());
        const auto percentile = [&](double p) {
            return lateness.empty() ? qint64(0)
                                    : lateness.at(std::min(lateness.size() - 1, size_t(double(lateness.size()) * p)));
        };
        const auto over50 = std::count_if(lateness.begin(), lateness.end(), [](qint64 late) { return late >= 50; });
        std::printf("longest GUI-thread stall: %lld ms (goal < 50 ms); p99 %lld ms, p99.9 %lld ms; %lld of %zu ticks "
                    "late by 50 ms or more\n",
            static_cast<long long>(longestStall), static_cast<long long>(percentile(0.99)),
            static_cast<long long>(percentile(0.999)), static_cast<long long>(over50), lateness.size());
        std::printf("RSS at the end: %.0f MB (goal < 200 MB); before publishing: %.0f MB (the publishers' sessions are "
                    "in this process)\n",
            rssAfter, rssBefore);
        std::printf("messages counted by the page: %lld of %lld acknowledged by the hub (%s); the list holds %d\n",
            static_cast<long long>(page.received()), static_cast<long long>(sent.load()),
            page.received() == sent ? "equal" : "NOT equal", page.model()->rowCount());
        std::fflush(stdout);
        publisher->wait();
        delete publisher;
        page.stop();
    }
};

QTEST_MAIN(bench_TelemetryPage)
#include "bench_telemetrypage.moc"
