// The device page's Telemetry and Messages to Device tabs, driven through their widgets (offscreen) against the
// sandbox hub in-process. Telemetry: the tab reads the hub's Event Hub-compatible endpoint (AMQP) while it is
// shown, lists what one device sends (and nothing of another's) with its properties, and stops when hidden.
// Messages: a message composed in the tab reaches a device subscribed over MQTT with its properties, its
// feedback comes back as Success against its row; bad input is refused before anything is sent; a device's
// queue depth shows and purging (after a confirmation) empties it; a hub that does not answer shows progress and
// can be cancelled.
#include "common/settings.h"
#include "credentials/credentialstore.h"
#include "credentials/secretstore.h"
#include "devicemessagestab.h"
#include "devicepage.h"
#include "devicetelemetrytab.h"
#include "hub/hubclient.h"
#include "hub/hubsession.h"
#include "hub/hubstore.h"
#include "inprocesshub.h"
#include "mqtt/mqttclient.h"
#include "mqtt/mqttmessage.h"
#include "sandboxdevice.h"
#include "sandboxhub.h"
#include "telemetryview.h"
#include "testsupport.h"
#include "uitestsupport.h"

#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QUrl>
#include <QUuid>

using namespace Onboarder;
using TestSupport::answerNextMessageBox;
using TestSupport::await;
using TestSupport::publishAndWait;
using TestSupport::saveScreenshot;

namespace {

constexpr int waitMs = 20000;

QString statusCode(DeviceMessagesTab *tab, int row = 0)
{
    QTreeWidgetItem *item = tab->sentList()->topLevelItem(row);
    return item ? item->data(DeviceMessagesTab::SentStatusColumn, DeviceMessagesTab::StatusCodeRole).toString()
                : QString();
}

} // namespace

class tst_DeviceMessages : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::InProcessHub m_hub;
    std::unique_ptr<Settings> m_settings;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<HubStore> m_hubs;
    std::unique_ptr<HubSession> m_session;
    std::unique_ptr<CredentialStore> m_credentials;
    std::unique_ptr<HubClient> m_direct; // checks what the page did, behind its back

    std::unique_ptr<MqttClient> device(const QString &id, bool connect = true)
    {
        return TestSupport::sandboxDevice(m_hub, id, connect);
    }

    int queueDepth(const QString &id)
    {
        const auto device = await(m_direct->device(id));
        return device ? device->cloudToDeviceMessageCount : -1;
    }

    std::unique_ptr<DevicePage> openPage(const QString &id, HubSession &session)
    {
        auto page = std::make_unique<DevicePage>(session, *m_credentials, *m_settings);
        page->resize(1200, 720);
        page->show();
        page->open(id);
        return page;
    }

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
        const auto added
            = await(m_hubs->add(QStringLiteral("sandbox"), m_hub->ownerConnectionString(), m_hub.endpoint()));
        QVERIFY2(added.has_value(), added ? "" : qPrintable(added.error().message));
        m_settings->setCurrentHub(QStringLiteral("sandbox"));
        m_session = std::make_unique<HubSession>(*m_hubs, *m_settings);
        m_credentials = std::make_unique<CredentialStore>(*m_secrets, m_dir.filePath(QStringLiteral("data")));
        QTRY_COMPARE_WITH_TIMEOUT(m_session->state(), HubSession::State::Ready, waitMs);
        m_direct = std::make_unique<HubClient>(*added, *ConnectionString::parse(m_hub->ownerConnectionString()));
    }

    void telemetryTabShowsOneDevice()
    {
        auto sensor = device(QStringLiteral("tab-sensor"));
        auto other = device(QStringLiteral("tab-other"));
        QVERIFY(sensor && other);
        auto page = openPage(QStringLiteral("tab-sensor"), *m_session);
        DeviceTelemetryTab *tab = page->telemetryTab();
        QTRY_COMPARE_WITH_TIMEOUT(page->device().id, QStringLiteral("tab-sensor"), waitMs);
        QVERIFY(!tab->isReading()); // not shown: not reading

        page->tabs()->setCurrentWidget(tab);
        QTRY_VERIFY2_WITH_TIMEOUT(tab->isListening(), qPrintable(tab->summary()->text()), waitMs);
        // Beside it, the device's connection state.
        QTRY_VERIFY2_WITH_TIMEOUT(tab->connectionState()->text().startsWith(QStringLiteral("Connected")),
            qPrintable(tab->connectionState()->text()), waitMs);

        QVERIFY(publishAndWait(*other, QStringLiteral("devices/tab-other/messages/events/"), "{\"not\": \"shown\"}"));
        for (int i = 0; i < 3; ++i)
            QVERIFY(publishAndWait(*sensor, QStringLiteral("devices/tab-sensor/messages/events/site=b1&n=%1").arg(i),
                QStringLiteral("{\"temperature\": %1, \"unit\": \"C\"}").arg(20 + i).toUtf8()));
        TelemetryModel *model = tab->list()->model();
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 3, waitMs);
        QTRY_VERIFY(tab->summary()->text().contains(QStringLiteral("3 message(s) received")));
        QCOMPARE(tab->received(), qint64(3)); // only this device's
        for (int row = 0; row < 3; ++row)
            QCOMPARE(model->eventAt(row).deviceId, QStringLiteral("tab-sensor"));
        QCOMPARE(model->data(model->index(2, TelemetryModel::PayloadColumn)).toString(),
            QStringLiteral("{\"temperature\":22,\"unit\":\"C\"}"));
        QVERIFY(tab->list()->view()->isColumnHidden(TelemetryModel::DeviceColumn)); // one device: no column for it

        // The side pane: the payload pretty-printed, the device's properties and the hub's.
        tab->list()->view()->selectRow(2);
        const QString details = tab->list()->details()->toPlainText();
        QVERIFY2(details.contains(QStringLiteral("\"temperature\": 22")), qPrintable(details));
        QVERIFY2(details.contains(QStringLiteral("site = b1")), qPrintable(details));
        QVERIFY2(details.contains(QStringLiteral("n = 2")), qPrintable(details));
        QVERIFY2(details.contains(QStringLiteral("iothub-connection-device-id = tab-sensor")), qPrintable(details));
        saveScreenshot(page.get(), QStringLiteral("device-telemetry"));

        // Paused: the list stands still, the count goes on.
        tab->pauseButton()->click();
        QVERIFY(publishAndWait(*sensor, QStringLiteral("devices/tab-sensor/messages/events/"), "while paused"));
        QTRY_COMPARE_WITH_TIMEOUT(tab->received(), qint64(4), waitMs);
        QCOMPARE(model->rowCount(), 3);
        QVERIFY(tab->summary()->text().contains(QStringLiteral("paused")));
        tab->pauseButton()->click();

        // Another tab: reading stops; back: it reads again, from now.
        page->tabs()->setCurrentIndex(0);
        QVERIFY(!tab->isReading());
        page->tabs()->setCurrentWidget(tab);
        QTRY_VERIFY2_WITH_TIMEOUT(tab->isListening(), qPrintable(tab->summary()->text()), waitMs);
        QCOMPARE(model->rowCount(), 0);
        QVERIFY(publishAndWait(*sensor, QStringLiteral("devices/tab-sensor/messages/events/"), "again"));
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, waitMs);
        QCOMPARE(model->eventAt(0).body, QByteArray("again"));
        // The page hidden (back to the list, another page): reading stops.
        page->hide();
        QVERIFY(!tab->isReading());
    }

    void messagesTabSendsAndShowsFeedback()
    {
        const QString id = QStringLiteral("c2d-device");
        auto mqtt = device(id);
        QVERIFY(mqtt);
        QSignalSpy subscribed(mqtt.get(), &MqttClient::subscribed);
        QVERIFY(mqtt->subscribe(QStringLiteral("devices/%1/messages/devicebound/#").arg(id), 1).has_value());
        QVERIFY(subscribed.wait(10000));
        QSignalSpy received(mqtt.get(), &MqttClient::messageReceived);

        auto page = openPage(id, *m_session);
        DeviceMessagesTab *tab = page->messagesTab();
        page->tabs()->setCurrentWidget(tab);
        QTRY_VERIFY_WITH_TIMEOUT(tab->queueDepth()->text().contains(QStringLiteral("0 message(s)")), waitMs);

        // What IoT Hub would refuse is said at once, and cannot be sent.
        tab->payloadEdit()->setPlainText(QString(C2dMessageDraft::maxBytes + 1, u'x'));
        QVERIFY(tab->problem()->isVisible());
        QVERIFY2(tab->problem()->text().contains(QStringLiteral("64 KB")), qPrintable(tab->problem()->text()));
        QVERIFY(!tab->sendButton()->isEnabled());
        tab->send();
        QCOMPARE(tab->sentList()->topLevelItemCount(), 0);
        tab->payloadEdit()->setPlainText(QStringLiteral("{\"command\": \"blink\", \"times\": 3}"));
        QVERIFY(!tab->problem()->isVisible());
        tab->addProperty(QStringLiteral("iothub-priority"), QStringLiteral("high"));
        QVERIFY(tab->problem()->isVisible());
        QVERIFY2(
            tab->problem()->text().contains(QStringLiteral("keeps for itself")), qPrintable(tab->problem()->text()));
        QVERIFY(!tab->sendButton()->isEnabled());
        tab->propertyTable()->item(0, 0)->setText(QStringLiteral("priority"));
        QVERIFY(!tab->problem()->isVisible());
        QVERIFY(tab->sendButton()->isEnabled());
        tab->addProperty(QStringLiteral("site"), QStringLiteral("hall 2"));
        QCOMPARE(tab->ackBox()->currentData().toString(), QStringLiteral("full"));

        // Sent: the device gets it with its properties in the topic, and the feedback says Success against it.
        tab->sendButton()->click();
        QCOMPARE(tab->sentList()->topLevelItemCount(), 1);
        const QString messageId = tab->sentList()->topLevelItem(0)->text(DeviceMessagesTab::SentIdColumn);
        QVERIFY(!QUuid::fromString(messageId).isNull()); // made up: the id field was empty
        QTRY_COMPARE_WITH_TIMEOUT(received.count(), 1, waitMs);
        const auto message = received.at(0).at(0).value<MqttMessage>();
        QCOMPARE(message.payload, QByteArray("{\"command\": \"blink\", \"times\": 3}"));
        const QString topic = QUrl::fromPercentEncoding(message.topic.toUtf8());
        QVERIFY2(topic.contains(QStringLiteral("priority=high")), qPrintable(topic));
        QVERIFY2(topic.contains(QStringLiteral("site=hall 2")), qPrintable(topic));
        QVERIFY2(topic.contains(QStringLiteral("$.mid=") + messageId), qPrintable(topic));
        QTRY_COMPARE_WITH_TIMEOUT(statusCode(tab), QStringLiteral("Success"), waitMs);
        QVERIFY(tab->sendButton()->isEnabled());

        // A second one with a message id of the user's, on the same connection.
        tab->messageIdEdit()->setText(QStringLiteral("order-42"));
        tab->sendButton()->click();
        QTRY_COMPARE_WITH_TIMEOUT(received.count(), 2, waitMs);
        QTRY_COMPARE_WITH_TIMEOUT(statusCode(tab), QStringLiteral("Success"), waitMs);
        QCOMPARE(tab->sentList()->topLevelItem(0)->text(DeviceMessagesTab::SentIdColumn), QStringLiteral("order-42"));
        QCOMPARE(statusCode(tab, 1), QStringLiteral("Success"));
        saveScreenshot(page.get(), QStringLiteral("device-messages"));
    }

    void purgeEmptiesTheQueue()
    {
        const QString id = QStringLiteral("c2d-offline");
        device(id, false); // registered, not connected: messages wait
        auto page = openPage(id, *m_session);
        DeviceMessagesTab *tab = page->messagesTab();
        page->tabs()->setCurrentWidget(tab);
        QTRY_VERIFY_WITH_TIMEOUT(tab->queueDepth()->text().contains(QStringLiteral("0 message(s)")), waitMs);
        QVERIFY(!tab->purgeButton()->isEnabled()); // nothing to purge
        tab->ackBox()->setCurrentIndex(tab->ackBox()->findData(QStringLiteral("none")));
        for (int i = 0; i < 2; ++i) {
            tab->payloadEdit()->setPlainText(QStringLiteral("waiting %1").arg(i));
            tab->sendButton()->click();
            QTRY_COMPARE_WITH_TIMEOUT(statusCode(tab), QStringLiteral("Sent"), waitMs);
        }
        QTRY_VERIFY2_WITH_TIMEOUT(tab->queueDepth()->text().contains(QStringLiteral("2 message(s)")),
            qPrintable(tab->queueDepth()->text()), waitMs);
        QCOMPARE(queueDepth(id), 2);
        saveScreenshot(page.get(), QStringLiteral("device-messages-queue"));

        // Asked first: cancelled, nothing happens.
        QString question;
        answerNextMessageBox(QMessageBox::Cancel, &question);
        tab->purgeButton()->click();
        QVERIFY2(question.contains(QStringLiteral("2 message(s)")), qPrintable(question));
        QCOMPARE(queueDepth(id), 2);
        // Confirmed: the queue is empty, and the tab says so.
        answerNextMessageBox(QMessageBox::Yes);
        tab->purgeButton()->click();
        QTRY_VERIFY2_WITH_TIMEOUT(tab->queueDepth()->text().contains(QStringLiteral("0 message(s)")),
            qPrintable(tab->queueDepth()->text()), waitMs);
        QCOMPARE(queueDepth(id), 0);
        QVERIFY2(tab->status()->text().contains(QStringLiteral("2 message(s)")), qPrintable(tab->status()->text()));
    }

    void sendingToAnUnknownDeviceSaysSo()
    {
        auto page = openPage(QStringLiteral("c2d-nobody"), *m_session);
        DeviceMessagesTab *tab = page->messagesTab();
        page->tabs()->setCurrentWidget(tab);
        tab->payloadEdit()->setPlainText(QStringLiteral("hello"));
        tab->sendButton()->click();
        QTRY_COMPARE_WITH_TIMEOUT(statusCode(tab), QStringLiteral("Failed"), waitMs);
        QVERIFY2(tab->problem()->text().contains(QStringLiteral("not registered")), qPrintable(tab->problem()->text()));
        QVERIFY(tab->sendButton()->isEnabled());
    }

    void slowHubShowsProgressAndCancels()
    {
        // A hub whose AMQP port takes connections and never answers.
        QTcpServer silent;
        QVERIFY(silent.listen(QHostAddress::LocalHost));
        QList<QTcpSocket *> held;
        connect(&silent, &QTcpServer::newConnection, &silent, [&] {
            while (QTcpSocket *socket = silent.nextPendingConnection())
                held.append(socket);
        });
        Settings settings(m_dir.filePath(QStringLiteral("silent.conf")));
        HubStore hubs(settings, *m_secrets);
        HubEndpoint endpoint = m_hub.endpoint();
        endpoint.amqpPort = int(silent.serverPort());
        QVERIFY(await(hubs.add(QStringLiteral("silent"), m_hub->ownerConnectionString(), endpoint)).has_value());
        settings.setCurrentHub(QStringLiteral("silent"));
        HubSession session(hubs, settings);
        QTRY_COMPARE_WITH_TIMEOUT(session.state(), HubSession::State::Ready, waitMs);

        const QString id = QStringLiteral("c2d-slow");
        device(id, false);
        auto page = openPage(id, session);
        DeviceMessagesTab *tab = page->messagesTab();
        page->tabs()->setCurrentWidget(tab);
        tab->payloadEdit()->setPlainText(QStringLiteral("never sent"));
        tab->sendButton()->click();
        QVERIFY(tab->isSending());
        QVERIFY(!tab->cancelButton()->isVisible()); // not before 300 ms
        QTRY_VERIFY_WITH_TIMEOUT(tab->cancelButton()->isVisible(), 2000);
        QTRY_VERIFY(!held.isEmpty()); // it did try
        saveScreenshot(page.get(), QStringLiteral("device-messages-sending"));
        tab->cancelButton()->click();
        QVERIFY(!tab->isSending());
        QVERIFY(!tab->cancelButton()->isVisible());
        QCOMPARE(statusCode(tab), QStringLiteral("Cancelled"));
        QVERIFY(tab->sendButton()->isEnabled());
        QCOMPARE(queueDepth(id), 0);
        page.reset();
        qDeleteAll(held);
    }
};

QTEST_MAIN(tst_DeviceMessages)
#include "tst_devicemessages.moc"
