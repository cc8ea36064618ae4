// The Provisioning page against the sandbox's Device Provisioning Service (a sandbox process): the DPS added here
// is listed, its enrollments shown, a test registration of the selected one registers it as the device would and
// says where it was assigned, a disabled one says why it cannot, and deleting asks first.
#include "common/settings.h"
#include "credentials/credentialstore.h"
#include "credentials/secretstore.h"
#include "dps/dpsclient.h"
#include "dps/dpsstore.h"
#include "adddpsdialog.h"
#include "dpspage.h"
#include "hub/hubsession.h"
#include "hub/hubstore.h"
#include "mainwindow.h"
#include "sandboxprocess.h"
#include "testsupport.h"
#include "uitestsupport.h"

#include <QApplication>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QTimer>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QUuid>

using namespace Onboarder;
using TestSupport::answerNextMessageBox;
using TestSupport::await;
using TestSupport::saveScreenshot;

class tst_DpsPage : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::SandboxProcess m_sandbox;

    static int rowOf(QTableWidget *table, const QString &id)
    {
        for (int row = 0; row < table->rowCount(); ++row) {
            if (table->item(row, 0)->text() == id)
                return row;
        }
        return -1;
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        const QString started = m_sandbox.start(m_dir.filePath(QStringLiteral("hub")),
                                                {QStringLiteral("--dps"), QStringLiteral("--dps-address"), QStringLiteral("127.0.0.2"),
                                                 QStringLiteral("--dps-rest-port"), QStringLiteral("0"), QStringLiteral("--dps-mqtt-port"),
                                                 QStringLiteral("0")});
        QVERIFY2(started.isEmpty(), qPrintable(started));
    }

    void enrollmentsAndTestRegistration()
    {
        Settings settings(m_dir.filePath(QStringLiteral("onboarder.conf")));
        SecretStore secrets(QStringLiteral("OnboarderTest-") + QUuid::createUuid().toString(QUuid::Id128));
        HubStore hubs(settings, secrets);
        HubSession session(hubs, settings);
        CredentialStore credentials(secrets, m_dir.filePath(QStringLiteral("data")));
        MainWindow window(settings, hubs, session, credentials, secrets);
        window.resize(1100, 620);
        window.show();
        DpsPage *page = window.dpsPage();
        window.showPage(page);
        QCOMPARE(page->instances()->count(), 0);
        QVERIFY(page->status()->text().contains(QStringLiteral("Add DPS")));

        // A DPS added (as the command line does): the page lists it and reads its enrollments.
        const QJsonObject dps = m_sandbox.ready().value(QStringLiteral("dps")).toObject();
        DpsStore store(settings, secrets);
        DpsEndpoint endpoint{dps.value(QStringLiteral("idScope")).toString(), dps.value(QStringLiteral("restPort")).toInt(),
                             dps.value(QStringLiteral("mqttPort")).toInt(), dps.value(QStringLiteral("host")).toString(), m_sandbox.caFile()};
        // Added through the page's dialog: the hub's connection string pasted by mistake is explained first.
        bool explained = false;
        QTimer::singleShot(0, this, [&] {
            auto *dialog = qobject_cast<AddDpsDialog *>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            dialog->setName(QStringLiteral("sandbox-dps"));
            dialog->setIdScope(endpoint.idScope);
            dialog->setSandbox(endpoint.address, endpoint.restPort, endpoint.mqttPort, endpoint.caFile);
            dialog->setConnectionString(m_sandbox.connectionString());
            for (const QLabel *label : dialog->findChildren<QLabel *>())
                explained = explained || (!label->isHidden() && label->text().contains(QStringLiteral("not a DPS's")));
            QVERIFY(!dialog->canAdd());
            QTest::qWait(50);
            saveScreenshot(dialog, QStringLiteral("add-dps-error"));
            dialog->setConnectionString(dps.value(QStringLiteral("connectionString")).toString());
            QVERIFY(dialog->canAdd());
            dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
        });
        page->addButton()->click();
        QVERIFY(explained);
        QTRY_COMPARE(page->instances()->count(), 1);
        const auto added = store.find(QStringLiteral("sandbox-dps"));
        QVERIFY(added);
        QCOMPARE(added->address, endpoint.address);
        DpsClient client(*added, *await(store.connectionString(QStringLiteral("sandbox-dps"))));
        const QJsonObject symmetric{{QStringLiteral("type"), QStringLiteral("symmetricKey")}, {QStringLiteral("symmetricKey"), QJsonObject{}}};
        QVERIFY(await(client.put(DpsClient::Kind::Enrollment, QStringLiteral("meter-1"),
                                 {{QStringLiteral("registrationId"), QStringLiteral("meter-1")}, {QStringLiteral("attestation"), symmetric}})).has_value());
        QVERIFY(await(client.put(DpsClient::Kind::Enrollment, QStringLiteral("meter-2"),
                                 {{QStringLiteral("registrationId"), QStringLiteral("meter-2")}, {QStringLiteral("attestation"), symmetric},
                                  {QStringLiteral("provisioningStatus"), QStringLiteral("disabled")}})).has_value());
        // The page follows the store of the window; a DPS added elsewhere shows after a reload.
        QVERIFY(await(window.findChild<DpsStore *>()->add(QStringLiteral("sandbox-dps-2"), dps.value(QStringLiteral("connectionString")).toString(), endpoint)).has_value());
        page->instances()->setCurrentIndex(page->instances()->findText(QStringLiteral("sandbox-dps")));
        QTRY_COMPARE_WITH_TIMEOUT(page->enrollments()->rowCount(), 2, 20000);
        QTRY_VERIFY(page->status()->text().contains(QStringLiteral("Enrollments: 2.")));
        const int disabledRow = rowOf(page->enrollments(), QStringLiteral("meter-2"));
        QCOMPARE(page->enrollments()->item(disabledRow, 2)->text(), QStringLiteral("Disabled"));

        // Test registration: assigned to the sandbox hub, and the table shows where.
        page->enrollments()->selectRow(rowOf(page->enrollments(), QStringLiteral("meter-1")));
        QVERIFY(page->testButton()->isEnabled());
        page->testButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(page->status()->text().contains(QStringLiteral("assigned to hub")), 30000);
        QVERIFY(page->status()->text().contains(m_sandbox.hostName()));
        QTRY_COMPARE_WITH_TIMEOUT(page->enrollments()->item(rowOf(page->enrollments(), QStringLiteral("meter-1")), 3)->text(), m_sandbox.hostName(), 20000);
        saveScreenshot(&window, QStringLiteral("dps-page"));

        // The disabled one: DPS's reason.
        page->enrollments()->selectRow(rowOf(page->enrollments(), QStringLiteral("meter-2")));
        QTRY_VERIFY(page->testButton()->isEnabled());
        page->testButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(page->status()->text().contains(QStringLiteral("disabled")), 30000);

        // Deleting asks; Cancel keeps it, Yes deletes it.
        QTRY_VERIFY(page->testButton()->isEnabled());
        answerNextMessageBox(QMessageBox::Cancel);
        page->deleteSelectedEnrollment();
        QCOMPARE(page->enrollments()->rowCount(), 2);
        answerNextMessageBox(QMessageBox::Yes);
        page->deleteSelectedEnrollment();
        QTRY_COMPARE_WITH_TIMEOUT(page->enrollments()->rowCount(), 1, 20000);
        QCOMPARE(await(client.get(DpsClient::Kind::Enrollment, QStringLiteral("meter-2"))).error().kind, ErrorKind::NotFound);
        await(store.remove(QStringLiteral("sandbox-dps")));
        await(window.findChild<DpsStore *>()->remove(QStringLiteral("sandbox-dps-2")));
    }
};

QTEST_MAIN(tst_DpsPage)
#include "tst_dpspage.moc"
