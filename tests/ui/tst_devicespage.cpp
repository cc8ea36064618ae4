// The Devices page, the Create Device dialog and the device page, driven through their widgets
// (offscreen) against the sandbox hub over HTTPS, with the real keychain; a device connected through
// the project's MQTT client answers a direct method.
#include "common/settings.h"
#include "createdevicedialog.h"
#include "credentials/certificate.h"
#include "credentials/credentialstore.h"
#include "credentials/keypair.h"
#include "credentials/secretstore.h"
#include "devicelistmodel.h"
#include "devicemodulestab.h"
#include "devicepage.h"
#include "devicespage.h"
#include "exportdialog.h"
#include "hub/devicebatch.h"
#include "hub/hubclient.h"
#include "hub/hubsession.h"
#include "hub/hubstore.h"
#include "hub/sastoken.h"
#include "inprocesshub.h"
#include "mainwindow.h"
#include "mqtt/mqttclient.h"
#include "mqtt/mqttmessage.h"
#include "sandboxhub.h"
#include "secureclipboard.h"
#include "testsupport.h"
#include "uitestsupport.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProcess>
#include <QProgressDialog>
#include <QPushButton>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <QTreeWidget>
#include <QUuid>

using namespace Onboarder;
using namespace Onboarder::Sandbox;
using TestSupport::answerNextMessageBox;
using TestSupport::await;
using TestSupport::saveScreenshot;

namespace {

// Generous: the sandbox hub answers in milliseconds, but a loaded CI machine may take seconds.
constexpr int waitMs = 20000;

QStringList idsInView(QTableView *view)
{
    QStringList ids;
    for (int row = 0; row < view->model()->rowCount(); ++row)
        ids.append(view->model()->index(row, 0).data(DeviceListModel::DeviceIdRole).toString());
    return ids;
}

} // namespace

class tst_DevicesPage : public QObject
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

    HubClient &direct() { return *m_direct; }

    // The device page of id in window, once it shows the device; null when it does not within the wait.
    DevicePage *openDevicePage(MainWindow &window, const QString &id)
    {
        window.resize(1100, 700);
        window.show();
        window.showPage(window.devicesPage());
        window.devicesPage()->openDevice(id);
        DevicePage *device = window.devicesPage()->devicePage();
        return QTest::qWaitFor([&] { return device->device().id == id; }, waitMs) ? device : nullptr;
    }

    QString deviceStatus(const QString &id)
    {
        const auto device = await(direct().device(id));
        return device ? device->status : device.error().code;
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        const QString started = m_hub.start(m_dir.filePath(QStringLiteral("hub")), 250);
        QVERIFY2(started.isEmpty(), qPrintable(started));

        m_settings = std::make_unique<Settings>(m_dir.filePath(QStringLiteral("onboarder.conf")));
        m_secrets = std::make_unique<SecretStore>(
            QStringLiteral("OnboarderTest-") + QUuid::createUuid().toString(QUuid::Id128));
        m_hubs = std::make_unique<HubStore>(*m_settings, *m_secrets);
        const HubEndpoint endpoint = m_hub.endpoint();
        const auto added = await(m_hubs->add(QStringLiteral("sandbox"), m_hub->ownerConnectionString(), endpoint));
        QVERIFY2(added.has_value(), added ? "" : qPrintable(added.error().message));
        m_settings->setCurrentHub(QStringLiteral("sandbox"));
        m_session = std::make_unique<HubSession>(*m_hubs, *m_settings);
        m_credentials = std::make_unique<CredentialStore>(*m_secrets, m_dir.filePath(QStringLiteral("data")));
        QTRY_COMPARE_WITH_TIMEOUT(m_session->state(), HubSession::State::Ready, waitMs);
        m_direct = std::make_unique<HubClient>(*added, *ConnectionString::parse(m_hub->ownerConnectionString()));
    }

    void modelFetchesPagesOnDemand()
    {
        DeviceListModel model;
        model.setPageSize(100);
        model.setQuery(DeviceListQuery::fromFilter(QStringLiteral("sandbox-device-")));
        model.setClient(m_session->client());
        QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 100, waitMs);
        QTRY_COMPARE_WITH_TIMEOUT(model.totalCount(), qint64(250), waitMs);
        QVERIFY(model.canFetchMore());
        model.fetchMore();
        QVERIFY(!model.canFetchMore()); // one page in flight at a time
        QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 200, waitMs);
        model.fetchMore();
        QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 250, waitMs);
        QTRY_VERIFY_WITH_TIMEOUT(!model.isLoading(), waitMs);
        QVERIFY(!model.canFetchMore());
        QCOMPARE(model.rowOf(QStringLiteral("sandbox-device-000250")), 249);
        // From here on (the tester itself fetches more, so it comes after the paging checks).
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model.index(0, DeviceListModel::StatusColumn).data().toString(), QStringLiteral("Enabled"));
        QCOMPARE(model.index(0, DeviceListModel::ConnectionColumn).data().toString(), QStringLiteral("Disconnected"));
        QCOMPARE(model.index(0, DeviceListModel::LastActivityColumn).data().toString(), QStringLiteral("Never"));

        // Refresh keeps every loaded row (a single larger request) and says when it is done.
        QSignalSpy refreshed(&model, &DeviceListModel::refreshed);
        model.refresh();
        QTRY_COMPARE_WITH_TIMEOUT(refreshed.count(), 1, waitMs);
        QCOMPARE(model.rowCount(), 250);

        // A broken condition is the hub's syntax error, said as such.
        QSignalSpy failed(&model, &DeviceListModel::queryFailed);
        model.setQuery(DeviceListQuery::fromFilter(QStringLiteral("status = ")));
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, waitMs);
        QCOMPARE(failed.first().first().value<Error>().kind, ErrorKind::InvalidInput);
        QCOMPARE(model.rowCount(), 0);
    }

    // A model deleted with its request in flight: the answer is dropped, the model not touched (Qt 6.4's
    // QFuture::then(context) asserted here when a page's answer came after its model was gone).
    void modelGoneBeforeTheAnswer()
    {
        auto model = std::make_unique<DeviceListModel>();
        model->setQuery(DeviceListQuery::fromFilter({}));
        model->setClient(&direct());
        QVERIFY(model->isLoading());
        model.reset();
        direct().cancelAll(); // the page's future ends now, without its model
        const auto device = await(direct().device(QStringLiteral("sandbox-device-000001")));
        QVERIFY2(device.has_value(), device ? "" : qPrintable(device.error().message));
    }

    void filterRunsOnTheHub()
    {
        MainWindow window(*m_settings, *m_hubs, *m_session, *m_credentials, *m_secrets);
        window.resize(1100, 700);
        window.show();
        window.showPage(window.devicesPage());
        DevicesPage *page = window.devicesPage();
        QTRY_VERIFY_WITH_TIMEOUT(page->model()->rowCount() > 0, waitMs);
        QTRY_VERIFY_WITH_TIMEOUT(page->model()->totalCount() >= 250, waitMs);
        saveScreenshot(&window, QStringLiteral("devices"));

        page->filterEdit()->setText(QStringLiteral("sandbox-device-00012"));
        QTRY_COMPARE_WITH_TIMEOUT(page->model()->rowCount(), 10, waitMs); // 120–129, found by the hub among all
        for (const QString &id : idsInView(page->view()))
            QVERIFY(id.startsWith(QStringLiteral("sandbox-device-00012")));
        QTRY_COMPARE_WITH_TIMEOUT(page->model()->totalCount(), qint64(10), waitMs);

        // A condition is used as the WHERE clause; a broken one is explained next to the box.
        page->filterEdit()->setText(QStringLiteral("deviceId = 'sandbox-device-000007'"));
        QTRY_COMPARE_WITH_TIMEOUT(
            idsInView(page->view()), QStringList{QStringLiteral("sandbox-device-000007")}, waitMs);
        page->filterEdit()->setText(QStringLiteral("deviceId = 'unclosed"));
        QTRY_VERIFY_WITH_TIMEOUT(page->queryError()->isVisible(), waitMs);
        QVERIFY2(
            page->queryError()->text().contains(QStringLiteral("not closed")), qPrintable(page->queryError()->text()));

        // The status choice narrows the same query.
        QVERIFY(await(direct().updateDevice([&] {
            DeviceIdentity d = *await(direct().device(QStringLiteral("sandbox-device-000201")));
            d.status = QStringLiteral("disabled");
            return d;
        }()))
                    .has_value());
        page->filterEdit()->setText(QStringLiteral("sandbox-device-0002"));
        page->statusFilter()->setCurrentIndex(page->statusFilter()->findData(int(DeviceListQuery::Status::Disabled)));
        QTRY_COMPARE_WITH_TIMEOUT(
            idsInView(page->view()), QStringList{QStringLiteral("sandbox-device-000201")}, waitMs);
        QVERIFY(!page->queryError()->isVisible());
    }

    void createDialogChecksBeforeAsking()
    {
        CreateDeviceDialog dialog(*m_session->client(), *m_credentials, QStringLiteral("sandbox"));
        QVERIFY(!dialog.canCreate());
        DeviceDraft draft;
        draft.id = QStringLiteral("bad id/with slash");
        dialog.setDraft(draft);
        QVERIFY(!dialog.fieldError(DeviceDraft::Field::Id).isEmpty());
        QVERIFY(!dialog.canCreate());

        draft.id = QStringLiteral("dialog-sas");
        draft.generateKeys = false;
        draft.primaryKey = QStringLiteral("not base64!");
        draft.secondaryKey = QStringLiteral("c2hvcnQ="); // 5 bytes
        dialog.setDraft(draft);
        QVERIFY(dialog.fieldError(DeviceDraft::Field::Id).isEmpty());
        QVERIFY(dialog.fieldError(DeviceDraft::Field::PrimaryKey).contains(QStringLiteral("base64")));
        QVERIFY(dialog.fieldError(DeviceDraft::Field::SecondaryKey).contains(QStringLiteral("5 bytes")));
        QVERIFY(!dialog.canCreate());

        draft.auth = DeviceDraft::Auth::SelfSigned;
        draft.primaryThumbprint = QStringLiteral("ABCD");
        dialog.setDraft(draft);
        QVERIFY(dialog.fieldError(DeviceDraft::Field::PrimaryThumbprint).contains(QStringLiteral("40 digits")));
        QVERIFY(!dialog.canCreate());

        // The thumbprint of a certificate file, in Azure's format.
        const KeyPair key = *KeyPair::generate();
        const Certificate cert
            = *Certificate::selfSigned(key, {QStringLiteral("dialog-x509"), {}, {}, 30, Certificate::Usage::Client});
        QFile file(m_dir.filePath(QStringLiteral("dialog-x509.pem")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(cert.toPem());
        file.close();
        dialog.takeThumbprintFromFile(file.fileName());
        QCOMPARE(dialog.draft().primaryThumbprint, cert.thumbprintSha1());
        dialog.takeThumbprintFromFile(m_dir.filePath(QStringLiteral("onboarder.conf")), true);
        QVERIFY(!dialog.fieldError(DeviceDraft::Field::SecondaryThumbprint).isEmpty());

        draft = dialog.draft();
        draft.id = QStringLiteral("dialog-x509");
        draft.secondaryThumbprint.clear();
        dialog.setDraft(draft);
        QVERIFY(dialog.canCreate());
        dialog.accept();
        QTRY_COMPARE_WITH_TIMEOUT(dialog.result(), int(QDialog::Accepted), waitMs);
        const auto created = await(direct().device(QStringLiteral("dialog-x509")));
        QVERIFY(created.has_value());
        QCOMPARE(created->authType, QStringLiteral("selfSigned"));
        QCOMPARE(created->primaryThumbprint, cert.thumbprintSha1());

        // Taken already: the hub's answer is shown next to the id.
        CreateDeviceDialog again(*m_session->client(), *m_credentials, QStringLiteral("sandbox"));
        again.setDraft(draft);
        again.accept();
        QTRY_VERIFY_WITH_TIMEOUT(!again.fieldError(DeviceDraft::Field::Id).isEmpty(), waitMs);
        QVERIFY2(again.fieldError(DeviceDraft::Field::Id).contains(QStringLiteral("exists")),
            qPrintable(again.fieldError(DeviceDraft::Field::Id)));
        QCOMPARE(again.result(), int(QDialog::Rejected)); // still open

        // A key and certificate made now: kept here, and the device registered with its thumbprint.
        CreateDeviceDialog made(*m_session->client(), *m_credentials, QStringLiteral("sandbox"));
        DeviceDraft fresh;
        fresh.id = QStringLiteral("dialog-made");
        fresh.auth = DeviceDraft::Auth::SelfSigned;
        fresh.generateCertificate = true;
        made.setDraft(fresh);
        QVERIFY(made.canCreate());
        made.accept();
        QTRY_COMPARE_WITH_TIMEOUT(made.result(), int(QDialog::Accepted), waitMs);
        const auto record = m_credentials->record(QStringLiteral("sandbox"), QStringLiteral("dialog-made"));
        QVERIFY(record.has_value());
        QCOMPARE(made.createdDevice().primaryThumbprint, record->thumbprintSha1);
        QCOMPARE(await(direct().device(QStringLiteral("dialog-made")))->primaryThumbprint, record->thumbprintSha1);

        // The hub refuses the device (its id is taken): the credential made for it goes again.
        CreateDeviceDialog refused(*m_session->client(), *m_credentials, QStringLiteral("sandbox"));
        fresh.id = QStringLiteral("dialog-x509");
        refused.setDraft(fresh);
        refused.accept();
        QTRY_VERIFY_WITH_TIMEOUT(!refused.fieldError(DeviceDraft::Field::Id).isEmpty(), waitMs);
        QVERIFY2(refused.fieldError(DeviceDraft::Field::Id).contains(QStringLiteral("removed again")),
            qPrintable(refused.fieldError(DeviceDraft::Field::Id)));
        QCOMPARE(m_credentials->record(QStringLiteral("sandbox"), QStringLiteral("dialog-x509")).error().kind,
            ErrorKind::NotFound);
    }

    void createFindEditInvokeDisableDelete()
    {
        const QString id = QStringLiteral("ui-flow-") + QUuid::createUuid().toString(QUuid::Id128).left(8);
        MainWindow window(*m_settings, *m_hubs, *m_session, *m_credentials, *m_secrets);
        window.resize(1100, 700);
        window.show();
        window.showPage(window.devicesPage());
        DevicesPage *page = window.devicesPage();
        QTRY_VERIFY_WITH_TIMEOUT(page->model()->rowCount() > 0, waitMs);

        // Create through the dialog the page opens.
        QTimer::singleShot(0, [id] {
            auto *dialog = qobject_cast<CreateDeviceDialog *>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            DeviceDraft draft;
            draft.id = id;
            dialog->setDraft(draft);
            saveScreenshot(dialog, QStringLiteral("create-device"));
            dialog->accept();
        });
        page->createDevice();
        DevicePage *device = page->devicePage();
        QTRY_VERIFY_WITH_TIMEOUT(device->isVisible(), waitMs);
        QCOMPARE(device->deviceId(), id);
        QTRY_COMPARE_WITH_TIMEOUT(device->device().id, id, waitMs);
        QTRY_VERIFY_WITH_TIMEOUT(!device->twin().isNull(), waitMs);

        // Find it by filter.
        device->backRequested();
        page->filterEdit()->setText(id);
        QTRY_COMPARE_WITH_TIMEOUT(idsInView(page->view()), QStringList{id}, waitMs);

        // Edit its twin: tags and desired properties.
        page->openDevice(id);
        QTRY_VERIFY_WITH_TIMEOUT(!device->twin().isNull(), waitMs);
        device->tabs()->setCurrentIndex(2);
        device->twinEditor()->setPlainText(
            QStringLiteral("{\"tags\": {\"site\": \"bench-1\"}, \"desired\": {\"interval\": 30"));
        QVERIFY(device->twinError()->isVisible()); // not closed: not JSON
        QVERIFY(!device->applyTwinButton()->isEnabled());
        device->twinEditor()->setPlainText(
            QStringLiteral("{\"tags\": {\"site\": \"bench-1\"}, \"desired\": {\"interval\": 30}}"));
        QVERIFY(!device->twinError()->isVisible());
        QVERIFY(device->applyTwinButton()->isEnabled());
        device->applyTwinButton()->click();
        QTRY_COMPARE_WITH_TIMEOUT(
            device->twin().tags[QStringLiteral("site")].toString(), QStringLiteral("bench-1"), waitMs);
        const auto twin = await(direct().twin(id));
        QCOMPARE(twin->desired[QStringLiteral("interval")].toInt(), 30);
        saveScreenshot(&window, QStringLiteral("device-twin"));

        // Someone else changes the twin: saving is refused and reloading is offered.
        QVERIFY(await(
            direct().updateTwin(id,
                QJsonObject{{QStringLiteral("tags"), QJsonObject{{QStringLiteral("owner"), QStringLiteral("ops")}}}}))
                    .has_value());
        device->twinEditor()->setPlainText(QStringLiteral("{\"tags\": {\"site\": \"bench-2\"}, \"desired\": {}}"));
        QString conflict;
        answerNextMessageBox(QMessageBox::Reset, &conflict);
        device->applyTwinButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(!conflict.isEmpty(), waitMs);
        QVERIFY(conflict.contains(QStringLiteral("changed by someone else")));
        QTRY_COMPARE_WITH_TIMEOUT(
            device->twin().tags[QStringLiteral("owner")].toString(), QStringLiteral("ops"), waitMs);
        QCOMPARE(device->twin().tags[QStringLiteral("site")].toString(), QStringLiteral("bench-1"));

        // Invoke a direct method on the device, connected through the project's MQTT client.
        const QJsonObject info = m_hub->readyInfo();
        MqttClient mqtt;
        mqtt.setHostname(QStringLiteral("127.0.0.1"));
        mqtt.setPort(info.value(QStringLiteral("mqttPort")).toInt());
        mqtt.setTlsEnabled(true);
        mqtt.setCaFile(info.value(QStringLiteral("caFile")).toString());
        mqtt.setClientId(id);
        mqtt.setUsername(QStringLiteral("127.0.0.1/%1/?api-version=2021-04-12").arg(id));
        mqtt.setPassword(
            Onboarder::SecretBytes::fromQByteArray(SasToken::create(QStringLiteral("127.0.0.1/devices/") + id,
                device->device().primaryKey, QDateTime::currentSecsSinceEpoch() + 600)
                                                       ->toString()
                                                       .toUtf8()));
        QSignalSpy connected(&mqtt, &MqttClient::connected);
        mqtt.connectToHost();
        QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 1, 15000);
        QSignalSpy subscribed(&mqtt, &MqttClient::subscribed);
        QVERIFY(mqtt.subscribe(QStringLiteral("$iothub/methods/POST/#"), 0).has_value());
        QTRY_COMPARE_WITH_TIMEOUT(subscribed.count(), 1, waitMs);
        QByteArray received;
        connect(&mqtt, &MqttClient::messageReceived, this, [&](const MqttMessage &request) {
            received = request.payload;
            const QString rid = request.topic.section(QStringLiteral("$rid="), 1);
            mqtt.publish(QStringLiteral("$iothub/methods/res/201/?$rid=") + rid, "{\"rebooting\":true}", 0);
        });
        device->tabs()->setCurrentIndex(3);
        device->methodName()->setText(QStringLiteral("reboot"));
        device->methodPayload()->setPlainText(QStringLiteral("{\"delay\": 5}"));
        QVERIFY(device->invokeButton()->isEnabled());
        device->invokeButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(device->methodStatus()->text().contains(QStringLiteral("status 201")), 15000);
        QCOMPARE(QJsonDocument::fromJson(received).object().value(QStringLiteral("delay")).toInt(), 5);
        QCOMPARE(QJsonDocument::fromJson(device->methodResponse()->toPlainText().toUtf8())
                     .object()
                     .value(QStringLiteral("rebooting"))
                     .toBool(),
            true);
        saveScreenshot(&window, QStringLiteral("device-method"));

        // The support check sees it connected, and pinged.
        device->tabs()->setCurrentIndex(0);
        device->reload();
        QTRY_VERIFY_WITH_TIMEOUT(!device->isLoading(), waitMs);
        device->pingCheck()->setChecked(true);
        device->checkButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(device->checkResults()->topLevelItemCount() >= 6, 15000);
        QHash<QString, QString> verdicts;
        for (int i = 0; i < device->checkResults()->topLevelItemCount(); ++i) {
            const QTreeWidgetItem *item = device->checkResults()->topLevelItem(i);
            verdicts.insert(item->data(0, Qt::UserRole + 1).toString(), item->data(0, Qt::UserRole).toString());
        }
        QCOMPARE(verdicts.value(QStringLiteral("registered")), QStringLiteral("good"));
        QCOMPARE(verdicts.value(QStringLiteral("connected")), QStringLiteral("good"));
        QCOMPARE(verdicts.value(QStringLiteral("ping")), QStringLiteral("good"));
        saveScreenshot(&window, QStringLiteral("device-overview"));
        mqtt.disconnectFromHost();

        // Connection strings: masked until revealed; copied through the clipboard that clears itself.
        device->tabs()->setCurrentIndex(5);
        const QString expected
            = ConnectionString::deviceWithKey(QStringLiteral("127.0.0.1"), id, device->device().primaryKey).toString();
        QCOMPARE(device->connectionStringField(false)->text(), expected);
        QCOMPARE(device->connectionStringField(false)->echoMode(), QLineEdit::Password);
        QVERIFY(device->connectionStringField(true)->text().contains(device->device().secondaryKey));
        saveScreenshot(&window, QStringLiteral("device-connection-strings"));
        device->revealButton()->click();
        QCOMPARE(device->connectionStringField(false)->echoMode(), QLineEdit::Normal);
        device->revealButton()->click();
        QCOMPARE(device->connectionStringField(false)->echoMode(), QLineEdit::Password);
        m_settings->setClipboardClearSeconds(1);
        QSignalSpy cleared(device->clipboard(), &SecureClipboard::cleared);
        device->copyButton(false)->click();
        QVERIFY(QGuiApplication::clipboard()->text() == expected); // not QCOMPARE: no key in the test log
        QTRY_COMPARE_WITH_TIMEOUT(cleared.count(), 1, 3000);
        QVERIFY(QGuiApplication::clipboard()->text().isEmpty());

        // Back in the list: disable it, with confirmation; the selection survives the refresh.
        device->backRequested();
        QTRY_COMPARE_WITH_TIMEOUT(idsInView(page->view()), QStringList{id}, waitMs);
        page->selectDevices({id});
        QCOMPARE(page->selectedDeviceIds(), QStringList{id});
        answerNextMessageBox(QMessageBox::Ok);
        page->disableSelected();
        QTRY_VERIFY_WITH_TIMEOUT(page->runningBatch() == nullptr, waitMs);
        QCOMPARE(deviceStatus(id), QStringLiteral("disabled"));
        QTRY_COMPARE_WITH_TIMEOUT(page->model()->index(0, DeviceListModel::StatusColumn).data().toString(),
            QStringLiteral("Disabled"), waitMs);
        QTRY_COMPARE_WITH_TIMEOUT(page->selectedDeviceIds(), QStringList{id}, waitMs);

        // Delete, answering No first: nothing happens.
        answerNextMessageBox(QMessageBox::Cancel);
        page->deleteSelected();
        QCOMPARE(deviceStatus(id), QStringLiteral("disabled"));
        answerNextMessageBox(QMessageBox::Yes);
        page->deleteSelected();
        QTRY_VERIFY_WITH_TIMEOUT(page->runningBatch() == nullptr, waitMs);
        QCOMPARE(deviceStatus(id), QStringLiteral("DeviceNotFound"));
        QTRY_COMPARE_WITH_TIMEOUT(page->model()->rowCount(), 0, waitMs);
    }

    void keysChangeOnlyAfterAConfirmation()
    {
        DeviceIdentity draft;
        draft.id = QStringLiteral("ui-keys-") + QUuid::createUuid().toString(QUuid::Id128).left(8);
        const auto created = await(direct().createDevice(draft));
        QVERIFY(created);
        MainWindow window(*m_settings, *m_hubs, *m_session, *m_credentials, *m_secrets);
        DevicePage *device = openDevicePage(window, draft.id);
        QVERIFY(device);
        device->tabs()->setCurrentIndex(device->tabs()->count() - 1); // the connection strings
        QPushButton *newPrimary = device->keyButton(KeyRotation::Change::RegeneratePrimary);
        QTRY_VERIFY_WITH_TIMEOUT(newPrimary->isVisible() && newPrimary->isEnabled(), waitMs);

        // Cancelled: nothing changes. The question says what breaks and whether the device is connected.
        QString question;
        answerNextMessageBox(QMessageBox::Cancel, &question);
        newPrimary->click();
        QVERIFY2(
            question.contains(QStringLiteral("old primary key")) && question.contains(QStringLiteral("not connected")),
            qPrintable(question));
        QCOMPARE(await(direct().device(draft.id))->primaryKey, created->primaryKey);

        // Confirmed: a new primary key, the secondary as it was; what the page shows is what the hub holds.
        QTimer::singleShot(0, [] {
            for (QWidget *widget : QApplication::topLevelWidgets())
                if (auto *box = qobject_cast<QMessageBox *>(widget); box && box->isVisible())
                    saveScreenshot(box, QStringLiteral("key-rotation-confirmation"));
        });
        answerNextMessageBox(QMessageBox::Yes);
        newPrimary->click();
        QTRY_VERIFY_WITH_TIMEOUT(device->device().primaryKey != created->primaryKey, waitMs);
        const auto after = await(direct().device(draft.id));
        QCOMPARE(after->primaryKey, device->device().primaryKey);
        QCOMPARE(after->secondaryKey, created->secondaryKey);
        QVERIFY(device->connectionStringField(false)->text().contains(after->primaryKey));

        answerNextMessageBox(QMessageBox::Yes);
        device->keyButton(KeyRotation::Change::Swap)->click();
        QTRY_COMPARE_WITH_TIMEOUT(device->device().primaryKey, created->secondaryKey, waitMs);
        QCOMPARE(await(direct().device(draft.id))->secondaryKey, after->primaryKey);
        saveScreenshot(&window, QStringLiteral("device-keys"));
        QVERIFY(await(direct().deleteDevice(draft.id)).has_value());
    }

    void aNewCertificateAfterAConfirmation()
    {
        QTemporaryDir dir;
        const auto makeCertificate = [&dir](const QString &name) {
            const QString pem = dir.filePath(name + QStringLiteral(".pem"));
            const int made = QProcess::execute(QStringLiteral("openssl"),
                {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("ec"),
                    QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:P-256"), QStringLiteral("-nodes"),
                    QStringLiteral("-keyout"), dir.filePath(name + QStringLiteral(".key")), QStringLiteral("-out"), pem,
                    QStringLiteral("-subj"), QStringLiteral("/CN=ui-x509"), QStringLiteral("-days"),
                    QStringLiteral("2")});
            QFile file(pem);
            file.open(QIODevice::ReadOnly);
            const auto certificate = Certificate::fromPem(file.readAll());
            return made == 0 && certificate ? std::pair{pem, certificate->thumbprintSha1()}
                                            : std::pair{QString(), QString()};
        };
        const auto [oldPem, oldThumbprint] = makeCertificate(QStringLiteral("old"));
        const auto [newPem, newThumbprint] = makeCertificate(QStringLiteral("new"));
        QVERIFY(!oldThumbprint.isEmpty() && !newThumbprint.isEmpty());
        DeviceIdentity draft;
        draft.id = QStringLiteral("ui-x509-") + QUuid::createUuid().toString(QUuid::Id128).left(8);
        draft.authType = QStringLiteral("selfSigned");
        draft.primaryThumbprint = oldThumbprint;
        QVERIFY(await(direct().createDevice(draft)));

        MainWindow window(*m_settings, *m_hubs, *m_session, *m_credentials, *m_secrets);
        DevicePage *device = openDevicePage(window, draft.id);
        QVERIFY(device);
        device->tabs()->setCurrentIndex(device->tabs()->count() - 1);
        QTRY_VERIFY_WITH_TIMEOUT(device->newCertificateButton()->isVisible(), waitMs);
        QVERIFY(!device->keyButton(KeyRotation::Change::Swap)->isVisible()); // no keys to change

        QString question;
        answerNextMessageBox(QMessageBox::Cancel, &question);
        device->registerCertificate(newPem);
        QVERIFY2(question.contains(newThumbprint) && question.contains(oldThumbprint), qPrintable(question));
        QCOMPARE(await(direct().device(draft.id))->primaryThumbprint, oldThumbprint);

        answerNextMessageBox(QMessageBox::Yes);
        device->registerCertificate(newPem);
        QTRY_COMPARE_WITH_TIMEOUT(device->device().primaryThumbprint, newThumbprint, waitMs);
        const auto after = await(direct().device(draft.id));
        QCOMPARE(after->primaryThumbprint, newThumbprint);
        QCOMPARE(after->secondaryThumbprint, oldThumbprint); // still taken until the next change
        QVERIFY(await(direct().deleteDevice(draft.id)).has_value());
    }

    void modulesTabAddsShowsAndDeletesModules()
    {
        DeviceIdentity draft;
        draft.id = QStringLiteral("ui-modules-") + QUuid::createUuid().toString(QUuid::Id128).left(8);
        QVERIFY(await(direct().createDevice(draft)));
        ModuleIdentity reader;
        reader.deviceId = draft.id;
        reader.moduleId = QStringLiteral("reader");
        QVERIFY(await(direct().createModule(reader)));
        QVERIFY(await(direct().updateModuleTwin(draft.id, reader.moduleId,
            QJsonObject{{QStringLiteral("tags"), QJsonObject{{QStringLiteral("role"), QStringLiteral("reads")}}}})));

        MainWindow window(*m_settings, *m_hubs, *m_session, *m_credentials, *m_secrets);
        DevicePage *device = openDevicePage(window, draft.id);
        QVERIFY(device);
        DeviceModulesTab *tab = device->modulesTab();
        QVERIFY(tab->modules().isEmpty()); // read when the tab is first shown, not before
        device->tabs()->setCurrentWidget(tab);
        QTRY_COMPARE_WITH_TIMEOUT(tab->modules().size(), 1, waitMs);
        QCOMPARE(tab->moduleList()->topLevelItem(0)->text(DeviceModulesTab::IdColumn), QStringLiteral("reader"));
        QCOMPARE(tab->moduleList()->topLevelItem(0)->text(DeviceModulesTab::ConnectionColumn),
            QStringLiteral("Disconnected"));
        QVERIFY(!tab->deleteButton()->isEnabled()); // nothing selected

        // An id the hub would refuse is refused here, and nothing is sent.
        tab->newModuleEdit()->setText(QStringLiteral("no/slash"));
        tab->addButton()->click();
        QVERIFY2(tab->problem()->isVisible() && tab->problem()->text().contains(QStringLiteral("module ID contains")),
            qPrintable(tab->problem()->text()));
        QVERIFY(!tab->isBusy());

        // A new module: made by the hub with keys of its own, then selected, its twin shown.
        tab->newModuleEdit()->setText(QStringLiteral("writer"));
        tab->addButton()->click();
        QTRY_COMPARE_WITH_TIMEOUT(tab->modules().size(), 2, waitMs);
        QVERIFY(!tab->problem()->isVisible());
        QVERIFY(tab->newModuleEdit()->text().isEmpty());
        const auto writer = await(direct().module(draft.id, QStringLiteral("writer")));
        QVERIFY2(writer, writer ? "" : qPrintable(writer.error().message));
        QVERIFY(!writer->primaryKey.isEmpty() && writer->primaryKey != await(direct().device(draft.id))->primaryKey);
        QCOMPARE(tab->selectedModule(), QStringLiteral("writer"));
        QTRY_VERIFY_WITH_TIMEOUT(
            tab->twinView()->toPlainText().contains(QStringLiteral("\"moduleId\": \"writer\"")), waitMs);

        // The other module's twin, with what the hub holds for it.
        tab->moduleList()->setCurrentItem(tab->moduleList()->topLevelItem(0));
        QCOMPARE(tab->selectedModule(), QStringLiteral("reader"));
        QTRY_VERIFY_WITH_TIMEOUT(
            tab->twinView()->toPlainText().contains(QStringLiteral("\"role\": \"reads\"")), waitMs);
        QTRY_VERIFY_WITH_TIMEOUT(!tab->isBusy(), waitMs);
        saveScreenshot(&window, QStringLiteral("device-modules"));

        // A module that exists: the hub's refusal, in words.
        tab->newModuleEdit()->setText(QStringLiteral("reader"));
        tab->addButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(tab->problem()->isVisible(), waitMs);
        QVERIFY2(tab->problem()->text().contains(QStringLiteral("has a module \"reader\" already")),
            qPrintable(tab->problem()->text()));
        tab->newModuleEdit()->clear();

        // The hand-over of its connection string expires unless the user chooses otherwise.
        qint64 validity = -1;
        QTimer::singleShot(0, [&validity] {
            if (auto *dialog = qobject_cast<ExportDialog *>(QApplication::activeModalWidget())) {
                validity = dialog->validitySeconds();
                dialog->reject();
            }
        });
        tab->handOverButton()->click();
        QCOMPARE(validity, qint64(24 * 3600));

        // Deleted only after a confirmation that names it.
        QString question;
        answerNextMessageBox(QMessageBox::Cancel, &question);
        tab->deleteButton()->click();
        QVERIFY2(question.contains(QStringLiteral("\"reader\"")), qPrintable(question));
        QVERIFY(await(direct().module(draft.id, QStringLiteral("reader"))));
        answerNextMessageBox(QMessageBox::Yes);
        tab->deleteButton()->click();
        QTRY_COMPARE_WITH_TIMEOUT(tab->modules().size(), 1, waitMs);
        QCOMPARE(
            await(direct().module(draft.id, QStringLiteral("reader"))).error().code, QStringLiteral("ModuleNotFound"));
        QVERIFY(await(direct().deleteDevice(draft.id)).has_value());
    }

    void importShowsProgressAndReportsWhatItRefused()
    {
        // 3,000 rows, three of them bad: the good ones registered 100 a request, the bad ones named in the report.
        QTemporaryDir dir;
        QByteArray csv = "id,status,tags\n";
        for (int i = 1; i <= 2997; ++i) {
            csv += "ui-imp-" + QByteArray::number(i).rightJustified(5, '0') + (i % 2 ? ",enabled," : ",disabled,")
                + "\"{\"\"batch\"\":\"\"ui\"\"}\"\n";
            if (i == 1000)
                csv += "ui imp bad,enabled,\nui-imp-badstatus,paused,\nui-imp-00001,enabled,\n";
        }
        const QString path = dir.filePath(QStringLiteral("devices.csv"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly) && file.write(csv) == csv.size());
        file.close();

        MainWindow window(*m_settings, *m_hubs, *m_session, *m_credentials, *m_secrets);
        window.resize(1100, 700);
        window.show();
        window.showPage(window.devicesPage());
        DevicesPage *page = window.devicesPage();
        QString warning;
        answerNextMessageBox(QMessageBox::Ok, &warning);
        page->importFile(path);
        QVERIFY(page->runningImport());
        bool pictured = false;
        connect(page->runningImport(), &DeviceImporter::progress, this, [&window, &pictured](int done) {
            auto *progress = window.findChild<QProgressDialog *>();
            if (!pictured && done >= 1000 && progress && progress->isVisible()) {
                saveScreenshot(progress, QStringLiteral("device-import-progress"));
                saveScreenshot(&window, QStringLiteral("device-import-page")); // its buttons held while it runs
                pictured = true;
            }
        });
        QTRY_VERIFY_WITH_TIMEOUT(!page->runningImport(), 60000);
        QVERIFY2(page->lastImportSummary().startsWith(
                     QStringLiteral("Created 2997 devices; 0 existed already; 3 not imported.")),
            qPrintable(page->lastImportSummary()));
        QTRY_VERIFY_WITH_TIMEOUT(!warning.isEmpty(), waitMs); // said, not only in the status bar
        QFile report(path + QStringLiteral(".report.csv"));
        QVERIFY(report.open(QIODevice::ReadOnly));
        const QByteArray reasons = report.readAll();
        QCOMPARE(reasons.count('\n'), 4); // the header and the three
        QVERIFY(reasons.contains("status is enabled or disabled") && reasons.contains("appears on line 2"));
        const auto twin = await(direct().twin(QStringLiteral("ui-imp-02997")));
        QVERIFY(twin);
        QCOMPARE(twin->tags.value(QStringLiteral("batch")).toString(), QStringLiteral("ui"));

        // Again: nothing is created twice.
        answerNextMessageBox(QMessageBox::Ok);
        page->importFile(path);
        QTRY_VERIFY_WITH_TIMEOUT(!page->runningImport(), 60000);
        QVERIFY2(page->lastImportSummary().startsWith(
                     QStringLiteral("Created 0 devices; 2997 existed already; 3 not imported.")),
            qPrintable(page->lastImportSummary()));
        Q_UNUSED(pictured); // the picture needs the dialog shown: a slow machine shows it, a fast one may not
    }

    void batchCancelLeavesTheRestUntouched()
    {
        QStringList ids;
        for (int i = 1; i <= 20; ++i)
            ids.append(QStringLiteral("sandbox-device-%1").arg(i + 100, 6, 10, QChar(u'0')));
        DeviceBatch batch(*m_session->client(), DeviceBatch::Operation::Disable, ids);
        batch.setMaxInFlight(2);
        QSignalSpy finished(&batch, &DeviceBatch::finished);
        QSignalSpy progress(&batch, &DeviceBatch::progress);
        // Cancelled as the third device is done, from its progress signal: a poll of finishedCount() could come
        // too late, once a fast sandbox had done all twenty.
        connect(&batch, &DeviceBatch::progress, &batch, [&batch](int done) {
            if (done == 3)
                batch.cancel();
        });
        batch.start();
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, waitMs);
        QVERIFY(batch.wasCancelled());
        QVERIFY(batch.failures().isEmpty());
        QCOMPARE(batch.done().size() + batch.untouched().size(), ids.size());
        QVERIFY(!batch.untouched().isEmpty());
        for (const QString &id : batch.done())
            QCOMPARE(deviceStatus(id), QStringLiteral("disabled"));
        for (const QString &id : batch.untouched())
            QCOMPARE(deviceStatus(id), QStringLiteral("enabled"));
        QVERIFY2(batch.summary().contains(QStringLiteral("left unchanged")), qPrintable(batch.summary()));

        // Failures are reported per device; the others go through.
        DeviceBatch deleting(
            *m_session->client(), DeviceBatch::Operation::Delete, {QStringLiteral("no-such-device"), ids.last()});
        QSignalSpy deleted(&deleting, &DeviceBatch::finished);
        deleting.start();
        QTRY_COMPARE_WITH_TIMEOUT(deleted.count(), 1, waitMs);
        QCOMPARE(deleting.done(), QStringList{ids.last()});
        QCOMPARE(deleting.failures().size(), 1);
        QCOMPARE(deleting.failures().first().error.code, QStringLiteral("DeviceNotFound"));
        QVERIFY(deleting.summary().contains(QStringLiteral("no-such-device")));
    }

    void sessionFollowsTheCurrentHub()
    {
        QSignalSpy changed(m_session.get(), &HubSession::clientChanged);
        m_settings->setCurrentHub(QString());
        QTRY_COMPARE_WITH_TIMEOUT(m_session->state(), HubSession::State::NoHub, waitMs);
        QVERIFY(m_session->client() == nullptr);
        m_settings->setCurrentHub(QStringLiteral("sandbox"));
        QTRY_COMPARE_WITH_TIMEOUT(m_session->state(), HubSession::State::Ready, waitMs);
        QVERIFY(m_session->client() != nullptr);
        QCOMPARE(changed.count(), 2);
    }

    void cleanupTestCase()
    {
        m_direct.reset();
        m_session.reset();
        if (m_hubs)
            await(m_hubs->remove(QStringLiteral("sandbox")));
    }
};

QTEST_MAIN(tst_DevicesPage)
#include "tst_devicespage.moc"
