// The Relay page, driven through its widgets (offscreen): a configuration loaded and validated, the
// relay started (on its worker thread) against a real local mosquitto and the sandbox hub, sensors'
// messages shown in the live table (rows found again after sorting) and the plots as the hub
// acknowledges them, beside them what the sandbox hub really received (its own telemetry endpoint, read by
// the page's monitor: counts per device, the last payload with the hub's properties), then stopped; a hub
// that is not a sandbox hub is explained instead; and the main window, closed while the relay runs, stops
// it first.
#include "common/settings.h"
#include "credentials/credentialstore.h"
#include "credentials/secretstore.h"
#include "hub/hubsession.h"
#include "hub/hubstore.h"
#include "hub/hubtelemetrymonitor.h"
#include "inprocesshub.h"
#include "mainwindow.h"
#include "mosquittofixture.h"
#include "mqtt/mqttclient.h"
#include "relay/relaythread.h"
#include "relaycharts.h"
#include "relayfixture.h"
#include "relaypage.h"
#include "sandboxhub.h"
#include "testsupport.h"

#include <QChartView>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QUuid>
#include <QValueAxis>

#include <cmath>

using namespace Onboarder;
using namespace Onboarder::Sandbox;
using TestSupport::await;

class tst_RelayPage : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::InProcessHub m_hub;
    MosquittoFixture m_broker;
    std::unique_ptr<Settings> m_settings;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<HubStore> m_hubs;
    std::unique_ptr<CredentialStore> m_credentials;

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        const QString started = m_hub.start(m_dir.filePath(QStringLiteral("hub")));
        QVERIFY2(started.isEmpty(), qPrintable(started));
        // As a gateway's broker is set up for a relay: mosquitto's default queue of 1000 messages per
        // client would drop some of a burst the relay has not taken yet.
        MosquittoFixture::Options brokerOptions;
        brokerOptions.extraConfig = "max_queued_messages 0\n";
        QVERIFY2(m_broker.start(brokerOptions), qPrintable(m_broker.errorString()));
        m_settings = std::make_unique<Settings>(m_dir.filePath(QStringLiteral("onboarder.conf")));
        m_secrets = std::make_unique<SecretStore>(
            QStringLiteral("OnboarderTest-") + QUuid::createUuid().toString(QUuid::Id128));
        m_hubs = std::make_unique<HubStore>(*m_settings, *m_secrets);
        m_credentials = std::make_unique<CredentialStore>(*m_secrets, m_dir.filePath(QStringLiteral("data")));
        const HubEndpoint endpoint = m_hub.endpoint();
        QVERIFY(await(m_hubs->add(QStringLiteral("sandbox"), m_hub->ownerConnectionString(), endpoint)).has_value());
    }

    QString writeConfig(const QString &name)
    {
        const QString configPath = m_dir.filePath(name + QStringLiteral(".json"));
        QFile file(configPath);
        if (!file.open(QIODevice::WriteOnly))
            return {};
        // (No raw string literal here: moc of Qt 6.4 mis-reads a multi-line one.)
        file.write(QStringLiteral(
            "{\"hub\": \"sandbox\", \"source\": {\"url\": \"mqtt://127.0.0.1:%1\", \"clientId\": \"%2\", "
            "\"topics\": [\"sensors/+/telemetry\"]},\n \"deviceIdFromTopic\": \"sensors/{deviceId}/telemetry\", "
            "\"autoRegister\": true, \"metricsIntervalMs\": 200,\n \"outbox\": {\"path\": \"%2-outbox.db\"}}\n")
                       .arg(m_broker.port())
                       .arg(name)
                       .toUtf8());
        return configPath;
    }

    static bool publish(MqttClient &sensor, const QString &id, int value)
    {
        return sensor
            .publish(
                QStringLiteral("sensors/%1/telemetry").arg(id), QStringLiteral("{\"t\": %1}").arg(value).toUtf8(), 1)
            .has_value();
    }

    void relaysAndShowsTelemetry()
    {
        const QString configPath = writeConfig(QStringLiteral("relay"));
        QVERIFY(!configPath.isEmpty());

        RelayPage page(*m_hubs, *m_secrets, *m_credentials);
        page.resize(1100, 760);
        page.show();
        page.setConfigPath(configPath);
        QVERIFY2(page.configError()->text().isEmpty(), qPrintable(page.configError()->text()));

        // A broken configuration is explained, and does not start.
        const QString good = page.configEditor()->toPlainText();
        page.configEditor()->setPlainText(
            QString(good).replace(QStringLiteral("\"sandbox\""), QStringLiteral("\"elsewhere\"")));
        QVERIFY(!page.validate());
        QVERIFY(page.configError()->text().contains(QStringLiteral("elsewhere")));
        page.configEditor()->setPlainText(good);
        QVERIFY(page.validate());

        // The empty plots' y axes read 0 1 2 3 4: whole numbers, none twice.
        const QList<QChartView *> plots = page.findChild<RelayCharts *>()->findChildren<QChartView *>();
        QCOMPARE(plots.size(), 3);
        for (QChartView *plot : plots) {
            const auto *y = qobject_cast<QValueAxis *>(plot->chart()->axes(Qt::Vertical).value(0));
            QVERIFY(y);
            QCOMPARE(y->min(), 0.0);
            QCOMPARE(y->max(), 4.0);
            QCOMPARE(y->tickCount(), 5);
            QCOMPARE(y->labelFormat(), QStringLiteral("%d"));
        }

        page.startButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(page.isRunning(), 20000);
        // The relay runs on its own thread, not on the GUI's.
        const auto *relayThread = page.findChild<RelayThread *>();
        QVERIFY(relayThread);
        QCOMPARE(relayThread->state(), RelayThread::State::Running);
        QVERIFY(relayThread->workerThread()->isRunning());
        QVERIFY(relayThread->workerThread() != QThread::currentThread());
        QTRY_COMPARE_WITH_TIMEOUT(page.lastMetrics().sourceState, QStringLiteral("subscribed"), 20000);
        // The page reads what the hub receives from the time the relay starts.
        QTRY_COMPARE_WITH_TIMEOUT(page.hubMonitorState(), HubTelemetryMonitor::State::Listening, 20000);
        QVERIFY(!page.deviceTable()->isColumnHidden(RelayPage::HubCountColumn));

        // Two sensors publish to the local broker; the relay registers them and forwards each message.
        MqttClient sensor;
        sensor.setHostname(QStringLiteral("127.0.0.1"));
        sensor.setPort(m_broker.port());
        sensor.setClientId(QStringLiteral("sensor-publisher"));
        QSignalSpy connected(&sensor, &MqttClient::connected);
        sensor.connectToHost();
        QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 1, 20000);
        for (int i = 0; i < 10; ++i) {
            for (const char *id : {"s1", "s2"})
                QVERIFY(sensor
                            .publish(QStringLiteral("sensors/%1/telemetry").arg(QLatin1StringView(id)),
                                QStringLiteral("{\"t\": %1}").arg(20 + i).toUtf8(), 1)
                            .has_value());
        }
        QTRY_COMPARE_WITH_TIMEOUT(page.lastMetrics().outTotal, qint64(20), 30000);
        QTRY_COMPARE_WITH_TIMEOUT(page.deviceTable()->rowCount(), 2, 20000);
        for (int row = 0; row < 2; ++row) {
            QTRY_COMPARE_WITH_TIMEOUT(
                page.deviceTable()->item(row, RelayPage::OutColumn)->data(Qt::DisplayRole).toLongLong(), qint64(10),
                20000);
            QCOMPARE(page.deviceTable()->item(row, RelayPage::PayloadColumn)->text(), QStringLiteral("{\"t\": 29}"));
            // What the hub received, per device: all of it, once delivered.
            QTRY_COMPARE_WITH_TIMEOUT(
                page.deviceTable()->item(row, RelayPage::HubCountColumn)->data(Qt::DisplayRole).toLongLong(),
                qint64(10), 20000);
            QVERIFY(!page.deviceTable()->item(row, RelayPage::HubLastColumn)->text().isEmpty());
        }
        QTRY_COMPARE_WITH_TIMEOUT(page.hubTotal(), qint64(20), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(page.hubSummary()->text(), QStringLiteral("20 sent · 20 received by the hub"), 10000);
        QCOMPARE(m_hub->registry().statistics().telemetryMessages >= 20, true); // the hub's own count agrees
        QVERIFY(page.findChild<RelayCharts *>()->pointCount() > 0);
        for (QChartView *plot : plots) { // a whole number of whole steps from 0
            const auto *y = qobject_cast<QValueAxis *>(plot->chart()->axes(Qt::Vertical).value(0));
            const double step = y->max() / (y->tickCount() - 1);
            QVERIFY2(step >= 1 && step == std::round(step), qPrintable(QString::number(step)));
        }
        QVERIFY(m_hub->registry().device(QStringLiteral("s1")).has_value()); // registered on its first message

        // Sorted the other way round, each device's row is still the one updated.
        QTableWidget *table = page.deviceTable();
        table->sortByColumn(0, Qt::DescendingOrder);
        QCOMPARE(table->item(0, 0)->text(), QStringLiteral("s2"));
        for (int i = 0; i < 5; ++i)
            QVERIFY(publish(sensor, QStringLiteral("s1"), 40 + i));
        QTRY_COMPARE_WITH_TIMEOUT(page.lastMetrics().outTotal, qint64(25), 30000);
        QTRY_COMPARE_WITH_TIMEOUT(
            table->item(1, RelayPage::OutColumn)->data(Qt::DisplayRole).toLongLong(), qint64(15), 20000);
        QTRY_COMPARE_WITH_TIMEOUT(
            table->item(1, RelayPage::HubCountColumn)->data(Qt::DisplayRole).toLongLong(), qint64(15), 20000);
        QCOMPARE(table->rowCount(), 2);
        QCOMPARE(table->item(1, 0)->text(), QStringLiteral("s1"));
        QCOMPARE(table->item(1, RelayPage::PayloadColumn)->text(), QStringLiteral("{\"t\": 44}"));
        QCOMPARE(table->item(0, RelayPage::OutColumn)->data(Qt::DisplayRole).toLongLong(), qint64(10));
        QCOMPARE(table->item(0, RelayPage::HubCountColumn)->data(Qt::DisplayRole).toLongLong(), qint64(10));
        QTRY_COMPARE_WITH_TIMEOUT(page.hubSummary()->text(), QStringLiteral("25 sent · 25 received by the hub"), 10000);
        QVERIFY(table->item(1, RelayPage::PayloadColumn)
                    ->toolTip()
                    .contains(QStringLiteral("Received by the hub: {\"t\": 44}")));

        // The selected device's last message, sent and as the hub received it, with the hub's properties.
        QVERIFY(page.sentDetails()->toPlainText().isEmpty());
        QVERIFY(!page.detailsPane()->isVisible()); // the table gets the room until a device is selected
        table->selectRow(1);
        QVERIFY(page.detailsPane()->isVisible());
        QVERIFY(page.sentDetails()->toPlainText().startsWith(QStringLiteral("s1 · ")));
        QVERIFY(page.sentDetails()->toPlainText().contains(QStringLiteral("{\"t\": 44}")));
        const QString atHub = page.hubDetails()->toPlainText();
        QVERIFY2(atHub.startsWith(QStringLiteral("s1 · received at ")), qPrintable(atHub));
        QVERIFY2(atHub.contains(QStringLiteral("15 received in all")), qPrintable(atHub));
        QVERIFY2(atHub.contains(QStringLiteral("\n{\"t\": 44}\n\n")), qPrintable(atHub));
        QVERIFY2(atHub.contains(QStringLiteral("iothub-connection-device-id: s1")), qPrintable(atHub));
        QVERIFY2(atHub.contains(QStringLiteral("iothub-enqueuedtime: ")), qPrintable(atHub));
        // The details follow the selected device as messages arrive.
        QVERIFY(publish(sensor, QStringLiteral("s1"), 77));
        QTRY_VERIFY_WITH_TIMEOUT(page.hubDetails()->toPlainText().contains(QStringLiteral("{\"t\": 77}")), 20000);
        QTRY_VERIFY_WITH_TIMEOUT(page.sentDetails()->toPlainText().contains(QStringLiteral("{\"t\": 77}")), 20000);
        QVERIFY(page.hubDetails()->toPlainText().contains(QStringLiteral("16 received in all")));
        const QString dir = qEnvironmentVariable("ONBOARDER_SCREENSHOT_DIR");
        if (!dir.isEmpty())
            page.grab().save(dir + QStringLiteral("/relay-page.png"));

        page.stop();
        QTRY_VERIFY_WITH_TIMEOUT(!page.isRunning(), 20000);
        QTRY_COMPARE_WITH_TIMEOUT(page.hubMonitorState(), HubTelemetryMonitor::State::Stopped, 5000);
        QCOMPARE(page.hubTotal(), qint64(26)); // kept for reading after the stop
        sensor.disconnectFromHost();
    }

    // A burst at relay bench rates: the GUI thread keeps turning (the monitor's updates are coalesced and
    // applied by hash), and once delivered the hub's side of every row adds up to what was sent.
    void staysResponsiveDuringABurst()
    {
        const qint64 count = RelayFixture::envOr("ONBOARDER_RELAYPAGE_BURST", 3000);
        const int devices = 20;
        RelayPage page(*m_hubs, *m_secrets, *m_credentials);
        page.resize(1100, 760);
        page.show();
        page.setConfigPath(writeConfig(QStringLiteral("burst")));
        page.start();
        QTRY_VERIFY_WITH_TIMEOUT(page.isRunning(), 20000);
        QTRY_COMPARE_WITH_TIMEOUT(page.lastMetrics().sourceState, QStringLiteral("subscribed"), 20000);
        QTRY_COMPARE_WITH_TIMEOUT(page.hubMonitorState(), HubTelemetryMonitor::State::Listening, 20000);

        // The longest time the GUI thread's event loop did not come round, while the burst runs.
        QElapsedTimer sinceTick;
        sinceTick.start();
        qint64 longestStallMs = 0;
        QTimer ticker;
        ticker.setInterval(10);
        connect(
            &ticker, &QTimer::timeout, this, [&] { longestStallMs = std::max(longestStallMs, sinceTick.restart()); });
        ticker.start();

        RelayFixture::Publisher publisher(m_broker.port(), devices, QStringLiteral("burst-"));
        QVERIFY(publisher.connect());
        const auto progress = [&] {
            return QStringLiteral("published %1, relay in %2 out %3, at the hub %4")
                .arg(publisher.acknowledged())
                .arg(page.lastMetrics().inTotal)
                .arg(page.lastMetrics().outTotal)
                .arg(page.hubTotal());
        };
        QVERIFY2(publisher.publishUntil(count, 60000, 500), qPrintable(progress()));
        // (A loop, not QTRY: that would wait three times as long before it reports.)
        QDeadlineTimer deadline(60000);
        while ((page.hubTotal() < count || page.lastMetrics().outTotal < count) && !deadline.hasExpired())
            QTest::qWait(50);
        QVERIFY2(page.hubTotal() == count && page.lastMetrics().outTotal == count, qPrintable(progress()));
        ticker.stop();
        qInfo("%lld messages; the GUI thread's longest stall: %lld ms", count, longestStallMs);
        QVERIFY2(longestStallMs < 1000, qPrintable(QString::number(longestStallMs)));

        QTableWidget *table = page.deviceTable();
        QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), devices, 10000);
        qint64 atHub = 0;
        for (int row = 0; row < table->rowCount(); ++row) {
            QCOMPARE(table->item(row, RelayPage::HubCountColumn)->data(Qt::DisplayRole).toLongLong(),
                table->item(row, RelayPage::OutColumn)->data(Qt::DisplayRole).toLongLong());
            atHub += table->item(row, RelayPage::HubCountColumn)->data(Qt::DisplayRole).toLongLong();
        }
        QCOMPARE(atHub, count);
        const QString both = QLocale().toString(count);
        QTRY_COMPARE_WITH_TIMEOUT(
            page.hubSummary()->text(), QStringLiteral("%1 sent · %1 received by the hub").arg(both), 10000);
        page.stop();
        QTRY_VERIFY_WITH_TIMEOUT(!page.isRunning(), 20000);
    }

    // Every hub's received telemetry is read from its Event Hub-compatible endpoint (AMQP). When that cannot be
    // reached, the page says where it tried, instead of showing empty or made-up counts.
    void unreachableHubIsExplained()
    {
        // The sandbox's own key and host, but registered without its ports and CA, as an Azure hub would be.
        QVERIFY(await(m_hubs->add(QStringLiteral("azure"), m_hub->ownerConnectionString())).has_value());
        const QString configPath = writeConfig(QStringLiteral("azure-relay"));
        QFile file(configPath);
        QVERIFY(file.open(QIODevice::ReadWrite));
        const QByteArray config = file.readAll().replace("\"hub\": \"sandbox\"", "\"hub\": \"azure\"");
        file.resize(0);
        file.write(config);
        file.close();

        RelayPage page(*m_hubs, *m_secrets, *m_credentials);
        page.setConfigPath(configPath);
        QVERIFY2(page.configError()->text().isEmpty(), qPrintable(page.configError()->text()));
        page.startButton()->click();
        // (The relay itself may fail to start there: the note stays either way.)
        QTRY_VERIFY2_WITH_TIMEOUT(
            page.hubSummary()->text().contains(QStringLiteral(":5671")), qPrintable(page.hubSummary()->text()), 20000);
        QVERIFY(page.hubSummary()->text().contains(QStringLiteral("Reading what hub azure receives")));
        QVERIFY(!page.deviceTable()->isColumnHidden(RelayPage::HubCountColumn));
        page.stop();
        QTRY_VERIFY_WITH_TIMEOUT(!page.isRunning(), 20000);
        QVERIFY(await(m_hubs->remove(QStringLiteral("azure"))).has_value());
    }

    void closingTheWindowStopsTheRelayFirst()
    {
        HubSession session(*m_hubs, *m_settings);
        MainWindow window(*m_settings, *m_hubs, session, *m_credentials, *m_secrets);
        window.show();
        RelayPage *page = window.relayPage();
        page->setConfigPath(writeConfig(QStringLiteral("window-relay")));
        page->start();
        QTRY_VERIFY_WITH_TIMEOUT(page->isRunning(), 20000);
        QTRY_COMPARE_WITH_TIMEOUT(page->lastMetrics().sourceState, QStringLiteral("subscribed"), 20000);

        MqttClient sensor;
        sensor.setHostname(QStringLiteral("127.0.0.1"));
        sensor.setPort(m_broker.port());
        sensor.setClientId(QStringLiteral("sensor-publisher-2"));
        QSignalSpy connected(&sensor, &MqttClient::connected);
        sensor.connectToHost();
        QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 1, 20000);
        QVERIFY(publish(sensor, QStringLiteral("s3"), 1));
        QTRY_COMPARE_WITH_TIMEOUT(page->lastMetrics().outTotal, qint64(1), 30000);

        // The first close is refused while the relay stops; the window closes on its own once it has.
        QSignalSpy stopped(page, &RelayPage::relayStopped);
        QVERIFY(!window.close());
        QVERIFY(window.isVisible());
        QTRY_COMPARE_WITH_TIMEOUT(stopped.count(), 1, 20000);
        QTRY_VERIFY_WITH_TIMEOUT(!window.isVisible(), 5000);
        QVERIFY(!page->isRunning());
        sensor.disconnectFromHost();
    }

    void cleanupTestCase()
    {
        if (m_hubs)
            await(m_hubs->remove(QStringLiteral("sandbox")));
    }
};

QTEST_MAIN(tst_RelayPage)
#include "tst_relaypage.moc"
