// The Telemetry page, driven through its widgets (offscreen), against the sandbox hub in-process: it reads the
// hub's Event Hub-compatible endpoint (AMQP, through the hub's redirect) on its worker thread, lists what a device
// sends with its payload pretty-printed and its properties in the side pane, filters by device, keeps counting
// while paused, and exports what it lists as JSON Lines.
#include "common/settings.h"
#include "credentials/secretstore.h"
#include "hub/hubsession.h"
#include "hub/hubstore.h"
#include "inprocesshub.h"
#include "mqtt/mqttclient.h"
#include "sandboxdevice.h"
#include "sandboxhub.h"
#include "telemetrypage.h"
#include "testsupport.h"
#include "uitestsupport.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QUuid>

using namespace Onboarder;
using TestSupport::await;
using TestSupport::publishAndWait;

class tst_TelemetryPage : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::InProcessHub m_hub;
    std::unique_ptr<Settings> m_settings;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<HubStore> m_hubs;

    std::unique_ptr<MqttClient> device(const QString &id) { return TestSupport::sandboxDevice(m_hub, id); }

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
        QVERIFY(await(m_hubs->add(QStringLiteral("sandbox"), m_hub->ownerConnectionString(), m_hub.endpoint()))
                    .has_value());
        m_settings->setCurrentHub(QStringLiteral("sandbox"));
    }

    void showsWhatADeviceSends()
    {
        HubSession session(*m_hubs, *m_settings);
        QTRY_COMPARE_WITH_TIMEOUT(session.state(), HubSession::State::Ready, 10000);
        TelemetryPage page(session, *m_hubs);
        page.resize(1200, 700);
        page.show();
        page.deviceFilter()->setText(QStringLiteral("page-sensor"));
        page.startButton()->click();
        QTRY_VERIFY2_WITH_TIMEOUT(page.isListening(), qPrintable(page.summary()->text()), 20000);

        auto sensor = device(QStringLiteral("page-sensor"));
        auto other = device(QStringLiteral("other-sensor"));
        QVERIFY(sensor && other);
        QVERIFY(publishAndWait(*other, QStringLiteral("devices/other-sensor/messages/events/"), "not shown"));
        for (int i = 0; i < 3; ++i)
            QVERIFY(publishAndWait(*sensor, QStringLiteral("devices/page-sensor/messages/events/site=b1&n=%1").arg(i),
                QStringLiteral("{\"temperature\": %1, \"unit\": \"C\"}").arg(20 + i).toUtf8()));
        QTRY_COMPARE_WITH_TIMEOUT(page.model()->rowCount(), 3, 20000);
        QCOMPARE(page.received(), qint64(3)); // only the chosen device
        QTRY_VERIFY(page.summary()->text().contains(QStringLiteral("3 message(s) received")));
        QCOMPARE(page.model()->data(page.model()->index(0, TelemetryModel::DeviceColumn)).toString(),
            QStringLiteral("page-sensor"));
        QCOMPARE(page.model()->data(page.model()->index(2, TelemetryModel::PayloadColumn)).toString(),
            QStringLiteral("{\"temperature\":22,\"unit\":\"C\"}"));

        // The side pane: the payload pretty-printed, the sender's properties and the hub's.
        page.view()->selectRow(2);
        const QString details = page.details()->toPlainText();
        QVERIFY2(details.contains(QStringLiteral("\"temperature\": 22")), qPrintable(details));
        QVERIFY2(details.contains(QStringLiteral("site = b1")), qPrintable(details));
        QVERIFY2(details.contains(QStringLiteral("n = 2")), qPrintable(details));
        QVERIFY2(details.contains(QStringLiteral("iothub-connection-device-id = page-sensor")), qPrintable(details));
        TestSupport::saveScreenshot(&page, QStringLiteral("telemetry-page"));

        // Paused: the list stands still, the count goes on.
        page.pauseButton()->click();
        QVERIFY(publishAndWait(*sensor, QStringLiteral("devices/page-sensor/messages/events/"), "while paused"));
        QTRY_COMPARE_WITH_TIMEOUT(page.received(), qint64(4), 20000);
        QCOMPARE(page.model()->rowCount(), 3);
        QVERIFY(page.summary()->text().contains(QStringLiteral("paused")));

        // Export: what the list holds, one JSON object a line.
        const QString path = m_dir.filePath(QStringLiteral("telemetry.jsonl"));
        QCOMPARE(page.exportTo(path), QString());
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = file.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        const QJsonObject first = QJsonDocument::fromJson(lines.at(0)).object();
        QCOMPARE(first.value(QStringLiteral("deviceId")).toString(), QStringLiteral("page-sensor"));
        QCOMPARE(first.value(QStringLiteral("properties")).toObject().value(QStringLiteral("site")).toString(),
            QStringLiteral("b1"));

        page.startButton()->click(); // stop
        QTRY_VERIFY(!page.isListening());
    }
};

QTEST_MAIN(tst_TelemetryPage)
#include "tst_telemetrypage.moc"
