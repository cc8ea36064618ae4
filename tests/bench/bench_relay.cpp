// Benchmark: the relay (`onboarder-cli relay run`, one TLS session per device) against a plain mosquitto
// bridge (one TLS session for everything) on the same machine, in the same run: a local mosquitto, a
// sandbox hub process, a load generator publishing QoS 1 as fast as the local broker takes it, and the
// hub's telemetry consumer measuring throughput (first publish → last arrival) and the latency of each
// message (publish → consumer). Then both again at half the bridge's rate, for p50/p99.
// Prints numbers; the goals (relay ≥ 0.7× the bridge; p99 < 25 ms at half the bridge's rate) are printed
// next to them, not asserted.
//   ONBOARDER_BENCH_DEVICES (1000), ONBOARDER_BENCH_MESSAGES (50000)
#include "clirunner.h"
#include "hub/connectionstring.h"
#include "hub/sastoken.h"
#include "mosquittofixture.h"
#include "relayfixture.h"
#include "sandboxprocess.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cstdio>

using namespace Onboarder;

namespace {

struct Numbers
{
    double perSecond = 0;
    double p50 = 0;
    double p99 = 0;
    qint64 lost = 0;
};

double percentile(QList<qint64> values, double p)
{
    if (values.isEmpty())
        return 0;
    std::sort(values.begin(), values.end());
    return double(values.at(std::min<qsizetype>(values.size() - 1, qsizetype(p * double(values.size())))));
}

// Publishes count messages (paced when rate > 0) and waits until the consumer has them all.
Numbers measure(RelayFixture::Publisher &publisher, RelayFixture::Consumer &consumer, qint64 count, double rate)
{
    consumer.latencies().clear();
    const qint64 until = publisher.next() + count;
    const qint64 start = QDateTime::currentMSecsSinceEpoch();
    publisher.publishUntil(until, 600000, 2000, rate);
    QDeadlineTimer deadline(600000);
    qint64 last = -1;
    QElapsedTimer stalled;
    stalled.start();
    while (consumer.distinct() < until && !deadline.hasExpired() && stalled.elapsed() < 30000) {
        if (consumer.distinct() != last) {
            last = consumer.distinct();
            stalled.restart();
        }
        QTest::qWait(20);
    }
    Numbers numbers;
    numbers.lost = until - consumer.distinct();
    numbers.perSecond = double(count) * 1000.0 / double(std::max<qint64>(1, consumer.lastReceivedMs() - start));
    numbers.p50 = percentile(consumer.latencies(), 0.50);
    numbers.p99 = percentile(consumer.latencies(), 0.99);
    return numbers;
}

void print(const char *what, const Numbers &n)
{
    std::printf("%-44s %9.0f msg/s   p50 %6.1f ms   p99 %7.1f ms%s\n", what, n.perSecond, n.p50, n.p99,
        n.lost ? qPrintable(QStringLiteral("   (%1 not arrived)").arg(n.lost)) : "");
    std::fflush(stdout);
}

} // namespace

class bench_Relay : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QProcessEnvironment m_env;
    TestSupport::SandboxProcess m_sandbox;

    QString hubHost() const { return m_sandbox.hostName(); }
    int hubPort() const { return m_sandbox.mqttPort(); }
    QString hubCa() const { return m_sandbox.caFile(); }
    QString ownerKey() const
    {
        return ConnectionString::parse(m_sandbox.connectionString())->sharedAccessKey().exposeAsString();
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_env = TestSupport::cliEnvironment(m_dir.path());
        const QString started = m_sandbox.start(m_dir.filePath(QStringLiteral("hub")));
        QVERIFY2(started.isEmpty(), qPrintable(started));
        QCOMPARE(TestSupport::runCli(
                     m_env, m_sandbox.hubAddArguments(QStringLiteral("bench")), m_sandbox.connectionString().toUtf8())
                     .exitCode,
            0);
    }

    void relayAgainstBridge()
    {
        const int devices = int(RelayFixture::envOr("ONBOARDER_BENCH_DEVICES", 1000));
        const qint64 messages = RelayFixture::envOr("ONBOARDER_BENCH_MESSAGES", 50000);
        std::printf("relay benchmark: %d devices, %lld messages per run, QoS 1 end to end\n", devices, messages);

        // The bridge: a mosquitto whose bridge connection is one device of the hub.
        QCOMPARE(TestSupport::runCli(m_env,
                     {QStringLiteral("--hub"), QStringLiteral("bench"), QStringLiteral("device"),
                         QStringLiteral("create"), QStringLiteral("bridge-device")})
                     .exitCode,
            0);
        const auto shown = TestSupport::runCli(m_env,
            {QStringLiteral("--hub"), QStringLiteral("bench"), QStringLiteral("--json"), QStringLiteral("device"),
                QStringLiteral("show"), QStringLiteral("bridge-device"), QStringLiteral("--reveal")});
        const QString key = shown.json()
                                .object()
                                .value(QStringLiteral("authentication"))
                                .toObject()
                                .value(QStringLiteral("symmetricKey"))
                                .toObject()
                                .value(QStringLiteral("primaryKey"))
                                .toString();
        QVERIFY2(!key.isEmpty(), shown.out.constData());
        const QString token = SasToken::create(
            hubHost() + QStringLiteral("/devices/bridge-device"), key, QDateTime::currentSecsSinceEpoch() + 86400)
                                  ->toString();
        MosquittoFixture bridge;
        MosquittoFixture::Options bridgeOptions;
        bridgeOptions.extraConfig = "max_queued_messages 0\nmax_inflight_messages 0\n"
                                    "connection hub\naddress "
            + hubHost().toUtf8() + ':' + QByteArray::number(hubPort())
            + "\nbridge_protocol_version mqttv311\ntry_private false\ncleansession true\nnotifications false\n"
              "remote_clientid bridge-device\nremote_username "
            + hubHost().toUtf8() + "/bridge-device/?api-version=2021-04-12\nremote_password " + token.toUtf8()
            + "\nbridge_cafile " + hubCa().toUtf8()
            + "\ntopic # out 1 sensors/ devices/bridge-device/messages/events/\n";
        QVERIFY2(bridge.start(bridgeOptions), qPrintable(bridge.errorString()));

        // The relay.
        MosquittoFixture local;
        MosquittoFixture::Options localOptions;
        localOptions.extraConfig = "max_queued_messages 0\nmax_inflight_messages 1000\n";
        QVERIFY2(local.start(localOptions), qPrintable(local.errorString()));
        const QString config = TestSupport::writeFile(m_dir.filePath(QStringLiteral("relay.json")),
            QJsonDocument(
                QJsonObject{{QStringLiteral("hub"), QStringLiteral("bench")},
                    {QStringLiteral("source"),
                        QJsonObject{{QStringLiteral("url"), QStringLiteral("mqtt://127.0.0.1:%1").arg(local.port())},
                            {QStringLiteral("topics"), QJsonArray{QStringLiteral("sensors/+/telemetry")}}}},
                    {QStringLiteral("deviceIdFromTopic"), QStringLiteral("sensors/{deviceId}/telemetry")},
                    {QStringLiteral("autoRegister"), true},
                    {QStringLiteral("outbox"),
                        QJsonObject{{QStringLiteral("path"), m_dir.filePath(QStringLiteral("outbox.db"))}}}})
                .toJson());
        QProcess relay;
        relay.setProcessEnvironment(m_env);
        relay.setStandardOutputFile(QProcess::nullDevice());
        relay.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        relay.start(TestSupport::buildPath(QStringLiteral("app/onboarder-cli")),
            {QStringLiteral("relay"), QStringLiteral("run"), QStringLiteral("--config"), config});
        QVERIFY(relay.waitForStarted(10000));
        QTest::qWait(2000); // subscribed

        Numbers relayMax;
        Numbers relayHalf;
        {
            RelayFixture::Consumer consumer;
            QVERIFY(consumer.connect(hubHost(), hubPort(), hubCa(), ownerKey()));
            RelayFixture::Publisher publisher(local.port(), devices);
            QVERIFY(publisher.connect());
            // Warm-up: every device registered and its session open.
            QElapsedTimer warm;
            warm.start();
            const Numbers warmUp = measure(publisher, consumer, devices, 0);
            std::printf("warm-up: %d devices registered and connected in %.1f s%s\n", devices,
                double(warm.elapsed()) / 1000.0, warmUp.lost ? " (incomplete)" : "");
            relayMax = measure(publisher, consumer, messages, 0);
            print("relay, as fast as the local broker takes", relayMax);
            relay.terminate();
            relay.waitForFinished(30000);
        }

        Numbers bridgeMax;
        Numbers bridgeHalf;
        {
            RelayFixture::Consumer consumer;
            QVERIFY(
                consumer.connect(hubHost(), hubPort(), hubCa(), ownerKey(), QStringLiteral("bench-consumer-bridge")));
            RelayFixture::Publisher publisher(bridge.port(), devices);
            QVERIFY(publisher.connect());
            QTest::qWait(1000);
            measure(publisher, consumer, 1000, 0); // warm-up
            bridgeMax = measure(publisher, consumer, messages, 0);
            print("mosquitto bridge, as fast as it takes", bridgeMax);
            bridgeHalf = measure(publisher, consumer, messages / 2, bridgeMax.perSecond / 2);
            print("mosquitto bridge at half its rate", bridgeHalf);
        }
        const QString metricsFile = m_dir.filePath(QStringLiteral("relay-metrics.jsonl"));
        {
            relay.setStandardOutputFile(metricsFile);
            relay.start(TestSupport::buildPath(QStringLiteral("app/onboarder-cli")),
                {QStringLiteral("--json"), QStringLiteral("relay"), QStringLiteral("run"), QStringLiteral("--config"),
                    config});
            QVERIFY(relay.waitForStarted(10000));
            RelayFixture::Consumer consumer;
            QVERIFY(
                consumer.connect(hubHost(), hubPort(), hubCa(), ownerKey(), QStringLiteral("bench-consumer-relay-2")));
            RelayFixture::Publisher publisher(local.port(), devices);
            QVERIFY(publisher.connect());
            QTest::qWait(2000);
            measure(publisher, consumer, devices, 0); // sessions open again
            const qint64 halfStart = QDateTime::currentMSecsSinceEpoch();
            relayHalf = measure(publisher, consumer, messages / 2, bridgeMax.perSecond / 2);
            print("relay at half the bridge's rate", relayHalf);
            relay.terminate();
            relay.waitForFinished(30000);
            // The relay's own view over that run (its metrics, one line a second): local broker → hub PUBACK,
            // and how many messages it had to write to its outbox.
            QFile lines(metricsFile);
            if (lines.open(QIODevice::ReadOnly)) {
                QList<qint64> p50s;
                double worstP99 = 0;
                qint64 storedBefore = -1;
                qint64 storedAfter = 0;
                while (!lines.atEnd()) {
                    const QJsonObject m = QJsonDocument::fromJson(lines.readLine()).object();
                    const QDateTime time
                        = QDateTime::fromString(m.value(QStringLiteral("time")).toString(), Qt::ISODateWithMs);
                    if (!time.isValid() || time.toMSecsSinceEpoch() < halfStart)
                        continue;
                    if (storedBefore < 0) {
                        // The interval of the first line after the start began before it (the warm-up's
                        // messages, which waited for their sessions): only its totals count.
                        storedBefore = m.value(QStringLiteral("stored")).toInteger();
                        continue;
                    }
                    storedAfter = m.value(QStringLiteral("stored")).toInteger();
                    if (m.value(QStringLiteral("outPerSecond")).toDouble() > 0) {
                        p50s.append(qint64(m.value(QStringLiteral("latencyP50Ms")).toDouble()));
                        worstP99 = std::max(worstP99, m.value(QStringLiteral("latencyP99Ms")).toDouble());
                    }
                }
                std::printf("relay's own latency (local broker → hub PUBACK) at half rate: p50 %.0f ms (median of "
                            "seconds), worst second's p99 %.0f ms; written to the outbox: %lld of %lld\n",
                    percentile(p50s, 0.5), worstP99, std::max<qint64>(0, storedAfter - storedBefore), messages / 2);
            }
        }
        std::printf("relay / bridge throughput: %.2f (goal ≥ 0.7); relay p99 at half the bridge's rate: %.1f ms (goal "
                    "< 25 ms)\n",
            relayMax.perSecond / std::max(1.0, bridgeMax.perSecond), relayHalf.p99);
    }

    void cleanupTestCase() { m_sandbox.stop(); }
};

QTEST_GUILESS_MAIN(bench_Relay)
#include "bench_relay.moc"
