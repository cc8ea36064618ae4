// Benchmark: the sandbox hub's Event Hub-compatible endpoint (AMQP) against its MQTT telemetry path, in the
// same run. A sandbox hub process, N devices (each its own TLS session to the hub's MQTT port) publishing QoS 1
// numbered messages {"n": N, "t": ms} round-robin, and two consumers reading at once: the app's EventHubReader
// over AMQP (every partition, from now) and the MQTT consumer of the sandbox's private telemetry topic.
//   1. live, as fast as the devices can publish: each consumer's rate (first publish → its last arrival);
//   2. live, at a fixed rate: p50/p99 from publish to each consumer;
//   3. replay: a new EventHubReader reads everything the log holds from the oldest: the endpoint's delivery rate
//      to one consumer when nothing else limits it.
// Prints numbers; the goals (replay ≥ 10,000 msg/s on a 2-core machine; AMQP p99 beside MQTT's) are printed
// next to them, not asserted.
//   ONBOARDER_BENCH_DEVICES (1000), ONBOARDER_BENCH_MESSAGES (50000), ONBOARDER_BENCH_RATE (2000 msg/s)
#include "amqp/eventhubreader.h"
#include "benchdevices.h"
#include "hub/connectionstring.h"
#include "hub/hubprofile.h"
#include "hub/sastoken.h"
#include "relayfixture.h"
#include "sandboxprocess.h"

#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

using namespace Onboarder;
using BenchSupport::Devices;

namespace {

double percentile(QList<qint64> values, double p)
{
    if (values.isEmpty())
        return 0;
    std::sort(values.begin(), values.end());
    return double(values.at(std::min<qsizetype>(values.size() - 1, qsizetype(p * double(values.size())))));
}

// Counts what an EventHubReader delivers: distinct message numbers, latencies, the time of the last arrival.
struct AmqpTally
{
    QSet<qint64> seen;
    QList<qint64> latencies;
    qint64 firstMs = 0;
    qint64 lastMs = 0;
    qint64 total = 0;

    void add(const TelemetryEvent &event)
    {
        const QJsonObject body = QJsonDocument::fromJson(event.body).object();
        const qint64 n = body.value(QStringLiteral("n")).toInteger(-1);
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        if (total++ == 0)
            firstMs = now;
        lastMs = now;
        if (n < 0 || seen.contains(n))
            return;
        seen.insert(n);
        latencies.append(now - body.value(QStringLiteral("t")).toInteger(now));
    }
    void reset()
    {
        seen.clear();
        latencies.clear();
        total = 0;
    }
};

bool waitFor(const std::function<bool()> &done, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!done() && !deadline.hasExpired())
        QTest::qWait(20);
    return done();
}

} // namespace

class bench_EventHub : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::SandboxProcess m_sandbox;

    HubProfile profile() const
    {
        HubProfile hub;
        hub.name = QStringLiteral("bench");
        hub.hostName = m_sandbox.hostName();
        hub.policyName = QStringLiteral("iothubowner");
        hub.restPort = m_sandbox.restPort();
        hub.mqttPort = m_sandbox.mqttPort();
        hub.amqpPort = m_sandbox.amqpPort();
        hub.caFile = m_sandbox.caFile();
        return hub;
    }

private Q_SLOTS:
    void eventHubAgainstMqtt()
    {
        const int deviceCount = int(RelayFixture::envOr("ONBOARDER_BENCH_DEVICES", 1000));
        const qint64 messages = RelayFixture::envOr("ONBOARDER_BENCH_MESSAGES", 50000);
        const double rate = double(RelayFixture::envOr("ONBOARDER_BENCH_RATE", 2000));
        const QString started = m_sandbox.start(m_dir.filePath(QStringLiteral("hub")),
            {QStringLiteral("--seed-devices"), QString::number(deviceCount), QStringLiteral("--amqp-port"),
                QStringLiteral("0")},
            60000);
        QVERIFY2(started.isEmpty(), qPrintable(started));
        std::printf(
            "event hub benchmark: %d devices, %lld messages per run, QoS 1 from the devices\n", deviceCount, messages);

        Devices devices(m_sandbox, deviceCount);
        QElapsedTimer clock;
        clock.start();
        const int connected = devices.connectAll(300000);
        std::printf(
            "%d of %d device sessions open in %.1f s\n", connected, deviceCount, double(clock.elapsed()) / 1000.0);
        QCOMPARE(connected, deviceCount);

        const auto owner = ConnectionString::parse(m_sandbox.connectionString());
        QVERIFY(owner.has_value());
        RelayFixture::Consumer mqtt;
        QVERIFY(mqtt.connect(
            m_sandbox.hostName(), m_sandbox.mqttPort(), m_sandbox.caFile(), owner->sharedAccessKey().exposeAsString()));
        AmqpTally amqp;
        EventHubReader reader;
        QObject::connect(
            &reader, &EventHubReader::eventReceived, &reader, [&amqp](const TelemetryEvent &e) { amqp.add(e); });
        reader.start(profile(), *owner, {}, {});
        QVERIFY(waitFor([&] { return reader.state() == EventHubReader::State::Listening; }, 20000));
        QTest::qWait(500);

        const auto report = [&](const char *what, qint64 first, qint64 count, qint64 startMs) {
            const bool mqttDone = waitFor([&] { return mqtt.distinct() >= first + count; }, 120000);
            const bool amqpDone = waitFor([&] { return amqp.seen.size() >= count; }, 120000);
            const double mqttRate
                = double(count) * 1000.0 / double(std::max<qint64>(1, mqtt.lastReceivedMs() - startMs));
            const double amqpRate = double(count) * 1000.0 / double(std::max<qint64>(1, amqp.lastMs - startMs));
            std::printf("%-34s AMQP (Event Hub) %8.0f msg/s  p50 %6.1f ms  p99 %7.1f ms%s\n", what, amqpRate,
                percentile(amqp.latencies, 0.5), percentile(amqp.latencies, 0.99),
                amqpDone ? "" : qPrintable(QStringLiteral("  (%1 not arrived)").arg(count - amqp.seen.size())));
            std::printf("%-34s MQTT (private)   %8.0f msg/s  p50 %6.1f ms  p99 %7.1f ms%s\n", "", mqttRate,
                percentile(mqtt.latencies(), 0.5), percentile(mqtt.latencies(), 0.99),
                mqttDone ? "" : qPrintable(QStringLiteral("  (%1 not arrived)").arg(first + count - mqtt.distinct())));
            std::fflush(stdout);
        };

        // Warm-up: every device has published once.
        QVERIFY(devices.publish(0, deviceCount, 0, 120000));
        QVERIFY(waitFor([&] { return amqp.seen.size() >= deviceCount; }, 60000));
        qint64 next = deviceCount;

        amqp.reset();
        mqtt.latencies().clear();
        qint64 start = QDateTime::currentMSecsSinceEpoch();
        QVERIFY(devices.publish(next, messages, 0, 600000));
        report("live, devices as fast as they can", next, messages, start);
        next += messages;

        amqp.reset();
        mqtt.latencies().clear();
        start = QDateTime::currentMSecsSinceEpoch();
        QVERIFY(devices.publish(next, messages / 2, rate, 600000));
        report(qPrintable(QStringLiteral("live, %1 msg/s").arg(rate)), next, messages / 2, start);
        next += messages / 2;
        reader.stop();

        // Replay: everything in the log, from the oldest, to one new consumer.
        AmqpTally replay;
        EventHubReader replayer;
        QObject::connect(&replayer, &EventHubReader::eventReceived, &replayer,
            [&replay](const TelemetryEvent &e) { replay.add(e); });
        EventHubReader::Options options;
        options.start = EventHubReader::Start::Oldest;
        start = QDateTime::currentMSecsSinceEpoch();
        replayer.start(profile(), *owner, {}, options);
        const bool all = waitFor([&] { return replay.seen.size() >= next; }, 600000);
        // From the first message to the last: the connection and its CBS tokens are not the endpoint's rate.
        const double replayRate
            = double(replay.total) * 1000.0 / double(std::max<qint64>(1, replay.lastMs - replay.firstMs));
        std::printf(
            "replay from the oldest, one consumer: %lld messages, %.0f msg/s (goal ≥ 10000), first after %lld ms%s\n",
            static_cast<long long>(replay.total), replayRate, static_cast<long long>(replay.firstMs - start),
            all ? "" : qPrintable(QStringLiteral("  (%1 of %2 arrived)").arg(replay.seen.size()).arg(next)));
        std::fflush(stdout);
        QVERIFY(all);
    }
};

QTEST_GUILESS_MAIN(bench_EventHub)
#include "bench_eventhub.moc"
