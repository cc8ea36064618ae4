// The relay under chaos: `onboarder-cli relay run` as a process between a real mosquitto (the local
// broker) and a sandbox hub process, while the test kills -9 the relay (and restarts it), kills -9
// the local broker (and restarts it), and freezes the hub (SIGSTOP of the sandbox and its broker:
// connections hang, new ones time out) for a while. Pass: every message published reaches the hub's
// telemetry consumer at least once. Duplicates are counted and printed; they are allowed.
//
// Each run draws its kill and freeze points from a seed it prints; three seeds a run (ONBOARDER_CHAOS_SEEDS="a,b,c"
// repeats given ones). ONBOARDER_CHAOS_MESSAGES (default 4000 a seed), ONBOARDER_CHAOS_DEVICES (20),
// ONBOARDER_CHAOS_HUB_PAUSE_S (4 here; scripts/relay-chaos runs 100000 messages with 60 s).
// deliveredAfterALongHubOutage keeps the hub away for longer than the keep-alive and the SAS tokens (its own variables;
// scripts/soak).
//
// The local broker runs without persistence, like most gateways' mosquitto: what it has queued dies
// with it. So the test kills it only once the relay has taken everything published so far (no message
// for a second); what the relay had taken but not yet stored must survive that, and does.
#include "clirun.h"
#include "hub/connectionstring.h"
#include "mosquittofixture.h"
#include "relayfixture.h"
#include "sandboxprocess.h"

#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <sys/types.h>

using namespace Onboarder;

namespace {

// The pids of a process's children with a given command name (from /proc).
QList<pid_t> childPids(pid_t parent, const QByteArray &name)
{
    QList<pid_t> pids;
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs);
    for (const QString &entry : entries) {
        bool numeric = false;
        const pid_t pid = pid_t(entry.toInt(&numeric));
        if (!numeric)
            continue;
        QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
        if (!stat.open(QIODevice::ReadOnly))
            continue;
        const QByteArray line = stat.readAll();
        const qsizetype open = line.indexOf('(');
        const qsizetype close = line.lastIndexOf(')');
        if (open < 0 || close < 0)
            continue;
        const QList<QByteArray> fields = line.mid(close + 2).split(' ');
        if (line.mid(open + 1, close - open - 1) == name && fields.size() > 1 && fields.at(1).toInt() == parent)
            pids.append(pid);
    }
    return pids;
}

} // namespace

class tst_RelayChaos : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QProcessEnvironment m_env;
    TestSupport::SandboxProcess m_sandbox;
    MosquittoFixture m_broker;
    std::unique_ptr<QProcess> m_relay;
    QJsonObject m_metrics; // the relay's last JSON Lines record
    QElapsedTimer m_lastIn; // since the relay last took a message
    qint64 m_inSeen = -1;
    QString m_config;
    QByteArray m_relayErr; // what the relay running now wrote to its standard error

    int cli(const QStringList &args, const QByteArray &input = {})
    {
        const TestSupport::CliRun run = TestSupport::runCli(m_env, args, input);
        if (run.exitCode != 0)
            qWarning().noquote() << run.err;
        return run.exitCode;
    }

    // A relay configuration between the local broker and the hub "chaos" (auto-registering, metrics every 250 ms),
    // written to fileName in the test's folder; extra adds keys or replaces them.
    QString writeRelayConfig(
        const QString &fileName, const QString &clientId, const QString &outboxPath, const QJsonObject &extra = {})
    {
        QJsonObject config{{QStringLiteral("hub"), QStringLiteral("chaos")},
            {QStringLiteral("source"),
                QJsonObject{{QStringLiteral("url"), QStringLiteral("mqtt://127.0.0.1:%1").arg(m_broker.port())},
                    {QStringLiteral("clientId"), clientId},
                    {QStringLiteral("topics"), QJsonArray{QStringLiteral("sensors/+/telemetry")}}}},
            {QStringLiteral("deviceIdFromTopic"), QStringLiteral("sensors/{deviceId}/telemetry")},
            {QStringLiteral("autoRegister"), true}, {QStringLiteral("metricsIntervalMs"), 250},
            {QStringLiteral("outbox"), QJsonObject{{QStringLiteral("path"), outboxPath}}}};
        for (auto it = extra.begin(); it != extra.end(); ++it)
            config.insert(it.key(), it.value());
        return TestSupport::writeFile(m_dir.filePath(fileName), QJsonDocument(config).toJson());
    }

    // env: the relay's environment, m_env when empty. Its standard error is kept in m_relayErr and shown.
    void startRelay(const QString &config = {}, const QProcessEnvironment &env = {})
    {
        m_relay = std::make_unique<QProcess>();
        m_relay->setProcessEnvironment(env.isEmpty() ? m_env : env);
        m_relayErr.clear();
        connect(m_relay.get(), &QProcess::readyReadStandardError, this, [this, relay = m_relay.get()] {
            const QByteArray err = relay->readAllStandardError();
            m_relayErr += err;
            std::fwrite(err.constData(), 1, size_t(err.size()), stderr);
        });
        m_inSeen = -1;
        m_lastIn.start();
        connect(m_relay.get(), &QProcess::readyReadStandardOutput, this, [this, relay = m_relay.get()] {
            while (relay->canReadLine()) {
                const QJsonObject record = QJsonDocument::fromJson(relay->readLine()).object();
                if (record.isEmpty())
                    continue;
                const qint64 in = record.value(QStringLiteral("in")).toInteger();
                if (in != m_inSeen) {
                    m_inSeen = in;
                    m_lastIn.start();
                }
                m_metrics = record;
            }
        });
        m_relay->start(TestSupport::buildPath(QStringLiteral("app/onboarder-cli")),
            {QStringLiteral("--json"), QStringLiteral("relay"), QStringLiteral("run"), QStringLiteral("--config"),
                config.isEmpty() ? m_config : config});
        QVERIFY(m_relay->waitForStarted(10000));
    }

    // SIGTERM: a clean stop within timeoutMs, exit code 0; forgets its records.
    bool stopRelay(int timeoutMs = 15000)
    {
        m_relay->terminate();
        const bool clean = m_relay->waitForFinished(timeoutMs) && m_relay->exitStatus() == QProcess::NormalExit
            && m_relay->exitCode() == 0;
        m_relay->disconnect(this);
        m_metrics = {};
        return clean;
    }

    void killRelay()
    {
        m_relay->kill(); // SIGKILL
        m_relay->waitForFinished(5000);
        m_relay->disconnect(this);
    }

    // Runs the event loop until the relay has taken nothing for quietMs (the broker has nothing left
    // for it) and holds nothing back.
    bool relayQuiet(int quietMs, int timeoutMs)
    {
        QDeadlineTimer deadline(timeoutMs);
        while (!deadline.hasExpired()) {
            if (m_lastIn.elapsed() > quietMs && m_metrics.value(QStringLiteral("held")).toInteger() == 0
                && m_metrics.value(QStringLiteral("source")).toString() == QStringLiteral("subscribed"))
                return true;
            QTest::qWait(50);
        }
        return false;
    }

    // Until the relay's subscriptions hold on the local broker: before that, the broker drops what is
    // published (no session has the subscription yet: at the very start, and after a broker crash).
    bool relaySubscribed(int timeoutMs)
    {
        QDeadlineTimer deadline(timeoutMs);
        while (m_metrics.value(QStringLiteral("source")).toString() != QStringLiteral("subscribed")) {
            if (deadline.hasExpired())
                return false;
            QTest::qWait(20);
        }
        return true;
    }

    void freezeHub(int signal)
    {
        const pid_t sandbox = pid_t(m_sandbox.processId());
        QList<pid_t> pids = childPids(sandbox, "mosquitto");
        QVERIFY2(!pids.isEmpty(), "the sandbox's mosquitto was not found");
        pids.append(sandbox);
        for (pid_t pid : std::as_const(pids))
            QCOMPARE(::kill(pid, signal), 0);
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        m_env = TestSupport::cliEnvironment(m_dir.path());
        const QString started = m_sandbox.start(m_dir.filePath(QStringLiteral("hub")));
        QVERIFY2(started.isEmpty(), qPrintable(started));
        QCOMPARE(cli(m_sandbox.hubAddArguments(QStringLiteral("chaos")), m_sandbox.connectionString().toUtf8()), 0);

        MosquittoFixture::Options options;
        options.extraConfig = "max_queued_messages 0\nmax_inflight_messages 100\n";
        QVERIFY2(m_broker.start(options), qPrintable(m_broker.errorString()));

        m_config = writeRelayConfig(
            QStringLiteral("relay.json"), QStringLiteral("chaos-relay"), m_dir.filePath(QStringLiteral("outbox.db")));
        QCOMPARE(cli({QStringLiteral("relay"), QStringLiteral("check"), QStringLiteral("--config"), m_config}), 0);
    }

    // relay check names the key; the local broker's password from the keychain (relay source-password),
    // never in an output.
    void checkAndSourcePassword()
    {
        const QString bad = TestSupport::writeFile(m_dir.filePath(QStringLiteral("bad.json")),
            QByteArray(R"({"hub": "chaos", "source": {"url": "mqtt:\/\/127.0.0.1", "topics": ["a"]},)"
                       R"( "deviceIdFromTopic": "{deviceId}", "outbox": {"maxMessages": 0}})"));
        const auto refused = TestSupport::runCli(
            m_env, {QStringLiteral("relay"), QStringLiteral("check"), QStringLiteral("--config"), bad});
        QCOMPARE(refused.exitCode, 2);
        QVERIFY2(refused.err.contains("\"outbox.maxMessages\""), refused.err.constData());

        MosquittoFixture locked;
        MosquittoFixture::Options options;
        const QByteArray password = "pw-" + TestSupport::randomKey().toLatin1().left(12);
        options.users = {{QStringLiteral("relay"), password}};
        QVERIFY2(locked.start(options), qPrintable(locked.errorString()));
        const auto stored = TestSupport::runCli(
            m_env, {QStringLiteral("relay"), QStringLiteral("source-password"), QStringLiteral("local")}, password);
        QCOMPARE(stored.exitCode, 0);
        const QString config = TestSupport::writeFile(m_dir.filePath(QStringLiteral("locked.json")),
            QJsonDocument(
                QJsonObject{{QStringLiteral("hub"), QStringLiteral("chaos")},
                    {QStringLiteral("source"),
                        QJsonObject{{QStringLiteral("url"), QStringLiteral("mqtt://127.0.0.1:%1").arg(locked.port())},
                            {QStringLiteral("username"), QStringLiteral("relay")},
                            {QStringLiteral("passwordKeychain"), QStringLiteral("local")},
                            {QStringLiteral("topics"), QJsonArray{QStringLiteral("sensors/+/telemetry")}}}},
                    {QStringLiteral("deviceIdFromTopic"), QStringLiteral("sensors/{deviceId}/telemetry")},
                    {QStringLiteral("metricsIntervalMs"), 250},
                    {QStringLiteral("outbox"),
                        QJsonObject{{QStringLiteral("path"), m_dir.filePath(QStringLiteral("locked.db"))}}}})
                .toJson());
        QProcess relay;
        relay.setProcessEnvironment(m_env);
        relay.start(TestSupport::buildPath(QStringLiteral("app/onboarder-cli")),
            {QStringLiteral("--json"), QStringLiteral("relay"), QStringLiteral("run"), QStringLiteral("--config"),
                config});
        QVERIFY(relay.waitForStarted(10000));
        QByteArray out;
        QDeadlineTimer deadline(15000);
        while (!out.contains("\"source\":\"subscribed\"") && !deadline.hasExpired()) {
            relay.waitForReadyRead(200);
            out += relay.readAllStandardOutput();
        }
        QVERIFY2(out.contains("\"source\":\"subscribed\""), out.right(400).constData());
        relay.terminate();
        QVERIFY(relay.waitForFinished(15000));
        QCOMPARE(relay.exitCode(), 0);
        out += relay.readAllStandardOutput();
        const QByteArray err = relay.readAllStandardError();
        QVERIFY(!out.contains(password) && !err.contains(password));
    }

    // One relay per outbox: a second `relay run` on the same configuration refuses and names the first (its
    // program, pid and since when); once the first is killed -9, its lock is stale and a new relay starts.
    void oneRelayPerOutbox()
    {
        startRelay();
        QVERIFY(relaySubscribed(20000));
        const qint64 firstPid = m_relay->processId();
        const auto second = TestSupport::runCli(
            m_env, {QStringLiteral("relay"), QStringLiteral("run"), QStringLiteral("--config"), m_config});
        QCOMPARE(second.exitCode, 4); // conflict
        const QByteArray holder
            = "is in use by another relay: onboarder-cli (process " + QByteArray::number(firstPid) + "), since ";
        QVERIFY2(second.err.contains(holder), second.err.constData());
        QVERIFY2(second.err.contains(m_dir.filePath(QStringLiteral("outbox.db")).toUtf8()), second.err.constData());
        QCOMPARE(m_relay->state(), QProcess::Running); // the first one runs on, undisturbed

        killRelay();
        m_metrics = {}; // the new relay's own records, not the killed one's
        startRelay();
        QVERIFY(relaySubscribed(20000));
        QVERIFY2(stopRelay(), "the relay did not stop cleanly on SIGTERM");
    }

    void noMessageIsLost_data()
    {
        // Seeds from ONBOARDER_CHAOS_SEEDS ("1,2,3"), else three new ones; each is printed (its row's name), so that a
        // failing run can be repeated exactly.
        QTest::addColumn<quint32>("seed");
        QList<quint32> seeds;
        for (const QString &text : qEnvironmentVariable("ONBOARDER_CHAOS_SEEDS").split(u',', Qt::SkipEmptyParts))
            seeds.append(text.trimmed().toUInt());
        while (seeds.size() < 3 && qEnvironmentVariableIsEmpty("ONBOARDER_CHAOS_SEEDS"))
            seeds.append(QRandomGenerator::global()->generate());
        for (quint32 seed : std::as_const(seeds))
            QTest::newRow(qPrintable(QStringLiteral("seed %1").arg(seed))) << seed;
    }

    void noMessageIsLost()
    {
        QFETCH(quint32, seed);
        QRandomGenerator rng(seed);
        const qint64 total = RelayFixture::envOr("ONBOARDER_CHAOS_MESSAGES", 4000);
        const int devices = int(RelayFixture::envOr("ONBOARDER_CHAOS_DEVICES", 20));
        const int hubPauseMs = int(RelayFixture::envOr("ONBOARDER_CHAOS_HUB_PAUSE_S", 4)) * 1000;
        // Where the chaos strikes, drawn from the seed: the relay killed mid-burst after a random delay, the hub
        // frozen at a random point of the stream, and the relay killed again while its outbox drains.
        const qint64 firstBurst = total * (10 + rng.bounded(30)) / 100;
        const int killAfterMs = 20 + int(rng.bounded(400));
        const qint64 freezeAt = total * (55 + rng.bounded(30)) / 100;
        const int drainKillAfterMs = int(rng.bounded(150));
        qInfo("seed %u: %lld messages; relay killed %d ms into a burst to %lld; hub frozen at %lld; relay killed %d ms "
              "into "
              "the outbox's drain",
            seed, total, killAfterMs, firstBurst, freezeAt, drainKillAfterMs);
        const auto ownerKey = ConnectionString::parse(m_sandbox.connectionString())->sharedAccessKey().exposeAsString();
        RelayFixture::Consumer consumer;
        QVERIFY(consumer.connect(m_sandbox.hostName(), m_sandbox.mqttPort(), m_sandbox.caFile(), ownerKey,
            QStringLiteral("chaos-consumer-%1").arg(seed)));
        RelayFixture::Publisher publisher(m_broker.port(), devices, QStringLiteral("chaos%1-").arg(seed % 100000));
        QVERIFY(publisher.connect());
        QElapsedTimer clock;
        clock.start();
        const auto phase = [&clock](const char *what) { qInfo("%6.1f s  %s", double(clock.elapsed()) / 1000.0, what); };

        startRelay();
        QVERIFY(relaySubscribed(20000));
        // 1. kill -9 the relay in the middle of a burst; the broker keeps its session and what it had not acknowledged.
        bool killed = false;
        QTimer::singleShot(killAfterMs, this, [&] {
            phase("kill -9 the relay (mid-burst)");
            killRelay();
            killed = true;
        });
        QVERIFY(publisher.publishUntil(firstBurst, 120000));
        while (!killed)
            QTest::qWait(5);
        QVERIFY(publisher.publishUntil(firstBurst + total / 8, 120000)); // the relay is down: queued at the broker
        phase("restart the relay");
        startRelay();
        QVERIFY(publisher.publishUntil(total / 2, 120000));

        // 2. kill -9 the local broker once the relay has taken everything (it keeps nothing on disk: what it had
        // queued dies with it, which is no relay's doing).
        QVERIFY2(relayQuiet(1000, 60000), "the relay kept receiving");
        phase("kill -9 the local broker");
        m_broker.kill();
        QTest::qWait(500);
        phase("restart the local broker");
        QVERIFY(m_broker.restart());
        m_metrics = {};
        QVERIFY(relaySubscribed(20000));
        QVERIFY(publisher.publishUntil(freezeAt, 120000));

        // 3. freeze the hub while messages keep coming: they wait in the outbox, which must have held some.
        phase("stop the hub");
        freezeHub(SIGSTOP);
        QElapsedTimer paused;
        paused.start();
        QVERIFY(publisher.publishUntil(total, 120000));
        qint64 waiting = 0;
        while (paused.elapsed() < hubPauseMs) {
            QTest::qWait(50);
            waiting = std::max(waiting, m_metrics.value(QStringLiteral("outboxDepth")).toInteger());
        }
        phase("continue the hub");
        freezeHub(SIGCONT);
        qInfo("outbox depth while the hub was stopped: %lld", waiting);
        QVERIFY2(waiting > 0, "the hub was frozen but nothing waited in the outbox: the freeze tested nothing");

        // 4. kill -9 the relay again while the outbox drains, and restart it.
        QTest::qWait(drainKillAfterMs);
        const qint64 draining = m_metrics.value(QStringLiteral("outboxDepth")).toInteger();
        phase("kill -9 the relay (outbox draining)");
        qInfo("outbox depth at the kill: %lld", draining);
        killRelay();
        phase("restart the relay");
        m_metrics = {};
        startRelay();
        QVERIFY(relaySubscribed(20000)); // up and running (a SIGTERM before its handlers are in would kill it)

        // Everything arrives.
        QDeadlineTimer deadline(180000);
        QElapsedTimer report;
        report.start();
        while (consumer.distinct() < total && !deadline.hasExpired()) {
            QTest::qWait(100);
            if (report.elapsed() > 10000) { // progress, when it is slow
                QJsonObject relay = m_metrics;
                relay.remove(QStringLiteral("devices"));
                qInfo("received %lld distinct; relay: %s", consumer.distinct(),
                    QJsonDocument(relay).toJson(QJsonDocument::Compact).constData());
                report.restart();
            }
        }
        phase("all sent");
        const QList<qint64> missing = consumer.missing(total);
        const QMap<qint64, int> duplicates = consumer.duplicates();
        qInfo("published %lld, received %lld (%lld distinct), lost %lld, duplicated %lld", total, consumer.total(),
            consumer.distinct(), qint64(missing.size()), qint64(duplicates.size()));
        QStringList shown;
        for (auto it = duplicates.cbegin(); it != duplicates.cend() && shown.size() < 50; ++it)
            shown.append(QStringLiteral("%1×%2").arg(it.key()).arg(it.value()));
        if (!duplicates.isEmpty())
            qInfo("duplicates (message×times, first 50): %s", qPrintable(shown.join(u' ')));
        // Where they are: a device whose session was interrupted with messages in flight sends them again.
        struct Span
        {
            qint64 count = 0;
            qint64 first = -1;
            qint64 last = -1;
        };
        QMap<QString, Span> byDevice;
        for (auto it = duplicates.cbegin(); it != duplicates.cend(); ++it) {
            Span &span = byDevice[publisher.deviceFor(it.key())];
            ++span.count;
            span.first = span.first < 0 ? it.key() : span.first;
            span.last = it.key();
        }
        QStringList devicesShown;
        for (auto it = byDevice.cbegin(); it != byDevice.cend(); ++it)
            devicesShown.append(
                QStringLiteral("%1: %2 (messages %3…%4)").arg(it.key()).arg(it->count).arg(it->first).arg(it->last));
        if (!byDevice.isEmpty())
            qInfo("duplicates by device: %s", qPrintable(devicesShown.join(QStringLiteral(", "))));
        QStringList lost;
        for (qsizetype i = 0; i < missing.size() && i < 50; ++i)
            lost.append(QString::number(missing.at(i)));
        QVERIFY2(missing.isEmpty(), qPrintable(QStringLiteral("lost: ") + lost.join(u' ')));

        // SIGTERM: a clean stop, nothing left in the outbox.
        QTRY_COMPARE_WITH_TIMEOUT(m_metrics.value(QStringLiteral("outboxDepth")).toInteger(), 0, 10000);
        QVERIFY2(stopRelay(), "the relay did not stop cleanly on SIGTERM");
        phase("relay stopped");
    }

    // A long hub outage: the hub stops answering (its processes stopped) for longer than the sessions' keep-alive
    // and than the devices' SAS tokens live, while messages keep coming; then it answers again. Every message
    // arrives. At this size (100 devices, tokens of 60 s, a keep-alive of 10 s, 75 s without the hub) it fits a
    // test run; ONBOARDER_OUTAGE_DEVICES, ONBOARDER_OUTAGE_MESSAGES and ONBOARDER_OUTAGE_S scale it (scripts/soak:
    // 1,000 devices, 10 minutes).
    void deliveredAfterALongHubOutage()
    {
        const int devices = int(RelayFixture::envOr("ONBOARDER_OUTAGE_DEVICES", 100));
        const qint64 total = RelayFixture::envOr("ONBOARDER_OUTAGE_MESSAGES", 3000);
        const int outageMs = int(RelayFixture::envOr("ONBOARDER_OUTAGE_S", 75)) * 1000;
        const int tokenLifetime = 60; // the shortest the relay takes; renewed after 48 s
        const int keepAlive = 10; // a silent hub is noticed after 15 s
        QVERIFY(outageMs > tokenLifetime * 1000 && outageMs > keepAlive * 1500);
        const QString config = writeRelayConfig(QStringLiteral("outage.json"), QStringLiteral("outage-relay"),
            m_dir.filePath(QStringLiteral("outage.db")),
            {{QStringLiteral("tokenLifetimeSeconds"), tokenLifetime},
                {QStringLiteral("hubConnection"), QJsonObject{{QStringLiteral("keepAliveSeconds"), keepAlive}}}});
        const auto ownerKey = ConnectionString::parse(m_sandbox.connectionString())->sharedAccessKey().exposeAsString();
        RelayFixture::Consumer consumer;
        QVERIFY(consumer.connect(m_sandbox.hostName(), m_sandbox.mqttPort(), m_sandbox.caFile(), ownerKey,
            QStringLiteral("outage-consumer")));
        RelayFixture::Publisher publisher(m_broker.port(), devices, QStringLiteral("outage-"));
        QVERIFY(publisher.connect());
        QElapsedTimer clock;
        clock.start();
        const auto phase = [&clock](const char *what) { qInfo("%6.1f s  %s", double(clock.elapsed()) / 1000.0, what); };

        m_metrics = {};
        startRelay(config);
        QVERIFY(relaySubscribed(20000));
        // Every device has a session with a token before the hub goes away.
        QVERIFY(publisher.publishUntil(total / 3, 120000));
        QTRY_VERIFY_WITH_TIMEOUT(consumer.distinct() >= total / 3, 120000);
        phase("stop the hub");
        freezeHub(SIGSTOP);
        QElapsedTimer stopped;
        stopped.start();
        QVERIFY(publisher.publishUntil(2 * total / 3, outageMs + 60000, 200, double(total) / 3 / (outageMs / 2000.0)));
        qint64 waiting = 0;
        while (stopped.elapsed() < outageMs) {
            QTest::qWait(100);
            waiting = std::max(waiting, m_metrics.value(QStringLiteral("outboxDepth")).toInteger());
        }
        phase("continue the hub");
        freezeHub(SIGCONT);
        qInfo("outbox depth while the hub was away: %lld", waiting);
        QVERIFY2(waiting > 0, "nothing waited in the outbox: the outage tested nothing");
        QElapsedTimer back;
        back.start();
        QVERIFY(publisher.publishUntil(total, 120000));
        QDeadlineTimer deadline(240000);
        while (consumer.distinct() < total && !deadline.hasExpired())
            QTest::qWait(100);
        const QList<qint64> missing = consumer.missing(total);
        qInfo(
            "%d devices, %d s without the hub: published %lld, received %lld (%lld distinct), lost %lld, all in %.1f s "
            "after it came back",
            devices, outageMs / 1000, total, consumer.total(), consumer.distinct(), qint64(missing.size()),
            double(back.elapsed()) / 1000.0);
        QStringList lost;
        for (qsizetype i = 0; i < missing.size() && i < 50; ++i)
            lost.append(QString::number(missing.at(i)));
        QVERIFY2(missing.isEmpty(), qPrintable(QStringLiteral("lost: ") + lost.join(u' ')));
        QTRY_COMPARE_WITH_TIMEOUT(m_metrics.value(QStringLiteral("outboxDepth")).toInteger(), 0, 20000);
        QVERIFY2(stopRelay(), "the relay did not stop cleanly on SIGTERM");
        phase("relay stopped");
    }

    // The outbox on a full disk (tests/tools/fulldisk.cpp makes its writes fail with ENOSPC): the relay says so,
    // acknowledges nothing it could not store, so the local broker keeps what it was not given, keeps running, and
    // once there is room again every message arrives. The hub is stopped meanwhile, so that nothing can leave
    // without being stored first.
    void outboxOnAFullDisk()
    {
        const QString library = qEnvironmentVariable("ONBOARDER_FULL_DISK_LIBRARY");
        QVERIFY2(QFile::exists(library), "ONBOARDER_FULL_DISK_LIBRARY names no library");
        const QString disk = m_dir.filePath(QStringLiteral("full-disk"));
        QVERIFY(QDir().mkpath(disk));
        const QString full = m_dir.filePath(QStringLiteral("disk-is-full"));
        const QString config = writeRelayConfig(
            QStringLiteral("full-disk.json"), QStringLiteral("full-disk-relay"), disk + QStringLiteral("/outbox.db"));
        QProcessEnvironment env = m_env;
        env.insert(QStringLiteral("LD_PRELOAD"), library);
        env.insert(QStringLiteral("ONBOARDER_FULL_DISK_DIR"), disk);
        env.insert(QStringLiteral("ONBOARDER_FULL_DISK_SWITCH"), full);
        // Under AddressSanitizer (the asan suite) the preloaded library comes before its runtime; it is not
        // instrumented, so that is harmless.
        env.insert(QStringLiteral("ASAN_OPTIONS"),
            env.value(QStringLiteral("ASAN_OPTIONS")) + QStringLiteral(":verify_asan_link_order=0"));

        const auto ownerKey = ConnectionString::parse(m_sandbox.connectionString())->sharedAccessKey().exposeAsString();
        RelayFixture::Consumer consumer;
        QVERIFY(consumer.connect(m_sandbox.hostName(), m_sandbox.mqttPort(), m_sandbox.caFile(), ownerKey,
            QStringLiteral("full-disk-consumer")));
        RelayFixture::Publisher publisher(m_broker.port(), 10, QStringLiteral("full-disk-"));
        QVERIFY(publisher.connect());
        m_metrics = {};
        startRelay(config, env);
        QVERIFY(relaySubscribed(20000));
        QVERIFY(publisher.publishUntil(100, 60000)); // the devices are registered and their sessions open
        QTRY_VERIFY_WITH_TIMEOUT(consumer.distinct() >= 100, 60000);
        // The hub has acknowledged all of them and the relay has removed them from its outbox: a message the hub
        // has forwarded but not yet acknowledged when it is frozen would otherwise stay counted below.
        QTRY_VERIFY_WITH_TIMEOUT(m_metrics.value(QStringLiteral("out")).toInteger() >= 100
                && m_metrics.value(QStringLiteral("outboxDepth")).toInteger() == 0,
            20000);

        freezeHub(SIGSTOP);
        TestSupport::writeFile(full, "full");
        const qint64 total = 1100;
        QVERIFY(publisher.publishUntil(total, 60000)); // taken by the local broker
        QTRY_VERIFY_WITH_TIMEOUT(m_relayErr.contains("warning: The disk of the outbox"), 20000);
        QCOMPARE(m_relayErr.count("The disk of the outbox"), 1); // said once, not every time it tries again
        QTest::qWait(1000);
        QCOMPARE(m_relay->state(), QProcess::Running);
        const QJsonObject during = m_metrics;
        QCOMPARE(during.value(QStringLiteral("outboxDepth")).toInteger(), 0); // nothing could be stored
        QVERIFY2(during.value(QStringLiteral("held")).toInteger() > 0, "the relay holds nothing it could not store");
        QVERIFY(during.value(QStringLiteral("outboxError")).toString().contains(QStringLiteral("is full")));

        QVERIFY(QFile::remove(full)); // space returns
        freezeHub(SIGCONT);
        QDeadlineTimer deadline(120000);
        while (consumer.distinct() < total && !deadline.hasExpired())
            QTest::qWait(100);
        const QList<qint64> missing = consumer.missing(total);
        qInfo("full disk: published %lld, received %lld distinct, lost %lld", total, consumer.distinct(),
            qint64(missing.size()));
        QVERIFY(missing.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(m_metrics.value(QStringLiteral("outboxDepth")).toInteger(), 0, 20000);
        // Nothing held any more: the error is over (at the next write attempt, within a second).
        QTRY_VERIFY_WITH_TIMEOUT(m_metrics.value(QStringLiteral("outboxError")).isNull(), 10000);
        QVERIFY2(stopRelay(), "the relay did not stop cleanly on SIGTERM");
    }

    // The soak, run by scripts/soak and skipped in a test run: many devices and messages while the relay is killed -9
    // every few minutes, the local broker twice (once the relay has taken what it had), and the hub is away for
    // minutes. Prints what was published, delivered, lost (must be none) and duplicated, the deepest the outbox
    // got, and the relay's resident memory over each of its lives (each start's, each end's, and the largest growth
    // within one life). ONBOARDER_SOAK_DEVICES (1000), _MESSAGES (1000000), _RELAY_KILL_S (120), _HUB_OUTAGE_S (300).
    void soak()
    {
        if (qEnvironmentVariableIsEmpty("ONBOARDER_SOAK"))
            QSKIP("the soak is run by scripts/soak");
        const int devices = int(RelayFixture::envOr("ONBOARDER_SOAK_DEVICES", 1000));
        const qint64 total = RelayFixture::envOr("ONBOARDER_SOAK_MESSAGES", 1000000);
        const int killEveryMs = int(RelayFixture::envOr("ONBOARDER_SOAK_RELAY_KILL_S", 120)) * 1000;
        const int outageMs = int(RelayFixture::envOr("ONBOARDER_SOAK_HUB_OUTAGE_S", 300)) * 1000;
        const int timeoutMs = 6 * 3600 * 1000;
        const auto ownerKey = ConnectionString::parse(m_sandbox.connectionString())->sharedAccessKey().exposeAsString();
        RelayFixture::Consumer consumer;
        QVERIFY(consumer.connect(
            m_sandbox.hostName(), m_sandbox.mqttPort(), m_sandbox.caFile(), ownerKey, QStringLiteral("soak-consumer")));
        RelayFixture::Publisher publisher(m_broker.port(), devices, QStringLiteral("soak-"));
        QVERIFY(publisher.connect());
        QElapsedTimer clock;
        clock.start();
        const auto phase = [&clock](const QString &what) {
            qInfo("%7.1f s  %s", double(clock.elapsed()) / 1000.0, qPrintable(what));
        };
        qInfo("soak: %d devices, %lld messages, the relay killed every %d s, the hub away for %d s", devices, total,
            killEveryMs / 1000, outageMs / 1000);

        // Each life of the relay: its resident memory 10 s after it started, and when it ended.
        struct Life
        {
            qint64 startKb = 0;
            qint64 endKb = 0;
        };
        QList<Life> lives;
        QElapsedTimer lifeClock;
        const auto rssKb = [this]() -> qint64 {
            QFile status(QStringLiteral("/proc/%1/status").arg(m_relay->processId()));
            if (!status.open(QIODevice::ReadOnly))
                return 0;
            for (const QByteArray &line : status.readAll().split('\n'))
                if (line.startsWith("VmRSS:"))
                    return line.mid(6).trimmed().split(' ').value(0).toLongLong();
            return 0;
        };
        qint64 peakOutbox = 0;
        QTimer sampler;
        connect(&sampler, &QTimer::timeout, this, [&] {
            peakOutbox = std::max(peakOutbox, m_metrics.value(QStringLiteral("outboxDepth")).toInteger());
            if (!m_relay || m_relay->state() != QProcess::Running || lives.isEmpty())
                return;
            const qint64 kb = rssKb();
            if (kb > 0 && lifeClock.elapsed() >= 10000 && lives.last().startKb == 0)
                lives.last().startKb = kb;
            if (kb > 0)
                lives.last().endKb = kb;
        });
        sampler.start(1000);
        const auto start = [&] {
            lives.append(Life{});
            lifeClock.start();
            startRelay();
        };
        int relayKills = 0;
        QTimer killer;
        connect(&killer, &QTimer::timeout, this, [&] {
            phase(QStringLiteral("kill -9 the relay (%1)").arg(++relayKills));
            killRelay();
            start();
        });

        start();
        QVERIFY(relaySubscribed(60000));
        killer.start(killEveryMs);
        // The local broker keeps nothing on disk: what it still queues dies with it, which is no relay's doing. So it
        // is killed once everything published so far has reached the hub (under load the relay can be quiet for a
        // second while the broker still queues for it).
        const auto brokerKill = [&](int which) {
            killer.stop();
            QDeadlineTimer drained(qint64(RelayFixture::envOr("ONBOARDER_SOAK_DRAIN_S", 1200)) * 1000);
            while (consumer.distinct() < publisher.next() && !drained.hasExpired())
                QTest::qWait(200);
            if (consumer.distinct() < publisher.next()) {
                QStringList lost;
                const QList<qint64> missing = consumer.missing(publisher.next());
                for (qsizetype i = 0; i < missing.size() && i < 20; ++i)
                    lost.append(QStringLiteral("%1 (%2)").arg(missing.at(i)).arg(publisher.deviceFor(missing.at(i))));
                QFAIL(qPrintable(QStringLiteral("%1 of %2 published did not arrive: %3")
                                     .arg(missing.size())
                                     .arg(publisher.next())
                                     .arg(lost.join(QStringLiteral(", ")))));
            }
            phase(QStringLiteral("kill -9 the local broker (%1)").arg(which));
            m_broker.kill();
            QTest::qWait(500);
            QVERIFY(m_broker.restart());
            m_metrics = {};
            QVERIFY(relaySubscribed(60000));
            killer.start(killEveryMs);
        };
        QVERIFY(publisher.publishUntil(total / 4, timeoutMs));
        brokerKill(1);
        QVERIFY(publisher.publishUntil(total * 45 / 100, timeoutMs));
        phase(QStringLiteral("stop the hub"));
        freezeHub(SIGSTOP);
        QElapsedTimer away;
        away.start();
        QVERIFY(publisher.publishUntil(
            total * 65 / 100, outageMs + 600000, 200, double(total) / 5 / (double(outageMs) / 1000.0)));
        while (away.elapsed() < outageMs)
            QTest::qWait(100);
        phase(QStringLiteral("continue the hub"));
        freezeHub(SIGCONT);
        QVERIFY(publisher.publishUntil(total * 3 / 4, timeoutMs));
        brokerKill(2);
        QVERIFY(publisher.publishUntil(total, timeoutMs));
        phase(QStringLiteral("all published"));
        // Everything arrives within 20 minutes of the last publish, or the soak reports what is missing.
        QDeadlineTimer deadline(20 * 60 * 1000);
        QElapsedTimer report;
        report.start();
        while (consumer.distinct() < total && !deadline.hasExpired()) {
            QTest::qWait(200);
            if (report.elapsed() > 30000) {
                phase(QStringLiteral("%1 of %2 delivered; outbox %3")
                          .arg(consumer.distinct())
                          .arg(total)
                          .arg(m_metrics.value(QStringLiteral("outboxDepth")).toInteger()));
                report.restart();
            }
        }
        killer.stop();
        phase(consumer.distinct() >= total ? QStringLiteral("all delivered") : QStringLiteral("gave up waiting"));
        QTest::qWait(2000); // the last samples
        sampler.stop();

        const QList<qint64> missing = consumer.missing(total);
        qint64 firstStart = 0, largestEnd = 0, largestGrowth = 0;
        for (const Life &life : std::as_const(lives)) {
            if (life.startKb == 0)
                continue;
            firstStart = firstStart ? firstStart : life.startKb;
            largestEnd = std::max(largestEnd, life.endKb);
            largestGrowth = std::max(largestGrowth, life.endKb - life.startKb);
        }
        qInfo("SOAK published %lld, delivered %lld distinct (%lld received), lost %lld, duplicated %lld", total,
            consumer.distinct(), consumer.total(), qint64(missing.size()), qint64(consumer.duplicates().size()));
        qInfo("SOAK relay killed %d times, broker twice, hub away %d s; peak outbox depth %lld", relayKills,
            outageMs / 1000, peakOutbox);
        qInfo("SOAK relay RSS: first life %lld KiB at start; largest at a life's end %lld KiB; largest growth within "
              "one life %lld KiB (%lld lives)",
            firstStart, largestEnd, largestGrowth, qint64(lives.size()));
        QStringList lost;
        for (qsizetype i = 0; i < missing.size() && i < 20; ++i)
            lost.append(QStringLiteral("%1 (%2)").arg(missing.at(i)).arg(publisher.deviceFor(missing.at(i))));
        QVERIFY2(missing.isEmpty(), qPrintable(QStringLiteral("lost: ") + lost.join(QStringLiteral(", "))));
        QVERIFY2(stopRelay(30000), "the relay did not stop cleanly on SIGTERM");
    }

    void cleanupTestCase()
    {
        if (m_relay && m_relay->state() != QProcess::NotRunning)
            killRelay();
        if (m_sandbox.running()) {
            freezeHub(SIGCONT);
            m_sandbox.stop();
        }
    }
};

QTEST_GUILESS_MAIN(tst_RelayChaos)
#include "tst_relaychaos.moc"
