// The Hubs page and the Add Hub dialog, driven through their widgets (offscreen), with the real keychain.
#include "addhubdialog.h"
#include "common/settings.h"
#include "credentials/credentialstore.h"
#include "credentials/secretstore.h"
#include "eventhubdialog.h"
#include "hub/hubsession.h"
#include "hub/hubstore.h"
#include "hublistmodel.h"
#include "hubspage.h"
#include "mainwindow.h"
#include "testsupport.h"
#include "uitestsupport.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QDialogButtonBox>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QStackedWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <QUuid>

using namespace Onboarder;
using TestSupport::answerNextMessageBox;
using TestSupport::await;
using TestSupport::saveScreenshot;

namespace {

QString hubString(const QString &host)
{
    return QStringLiteral("HostName=%1;SharedAccessKeyName=iothubowner;SharedAccessKey=%2")
        .arg(host, TestSupport::randomKey());
}

} // namespace

class tst_HubsPage : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<Settings> m_settings;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<HubStore> m_hubs;

private Q_SLOTS:
    void initTestCase() { REQUIRE_TEST_SESSION(); }

    void init()
    {
        m_settings = std::make_unique<Settings>(
            m_dir.filePath(QUuid::createUuid().toString(QUuid::Id128) + QStringLiteral(".conf")));
        m_secrets = std::make_unique<SecretStore>(
            QStringLiteral("OnboarderTest-") + QUuid::createUuid().toString(QUuid::Id128));
        m_hubs = std::make_unique<HubStore>(*m_settings, *m_secrets);
    }

    void cleanup()
    {
        for (const HubProfile &hub : m_hubs->hubs())
            await(m_hubs->remove(hub.name));
    }

    void modelIsConsistent()
    {
        HubListModel model(*m_hubs, *m_settings);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model.rowCount(), 0);
        QVERIFY(await(m_hubs->add(QStringLiteral("b"), hubString(QStringLiteral("b.azure-devices.net")))).has_value());
        QVERIFY(
            await(m_hubs->add(QStringLiteral("a"), hubString(QStringLiteral("a.azure-devices.net")), {8443, 8883, {}}))
                .has_value());
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.index(1, HubListModel::HostColumn).data().toString(), QStringLiteral("a.azure-devices.net"));
        QCOMPARE(
            model.index(1, HubListModel::EndpointColumn).data().toString(), QStringLiteral("REST 8443 · MQTT 8883"));
        QCOMPARE(model.index(0, HubListModel::EndpointColumn).data().toString(), QStringLiteral("Azure"));
        m_settings->setCurrentHub(QStringLiteral("a"));
        QVERIFY(model.index(1, 0).data(Qt::FontRole).value<QFont>().bold());
        QVERIFY(await(m_hubs->remove(QStringLiteral("b"))).has_value());
        QCOMPARE(model.rowCount(), 1);
    }

    void dialogExplainsEachProblemNextToItsField()
    {
        AddHubDialog dialog(*m_hubs);
        QVERIFY(!dialog.canAdd());
        QVERIFY(dialog.nameError().isEmpty());
        QVERIFY(dialog.connectionStringError().isEmpty());

        dialog.setName(QStringLiteral("bad name"));
        QVERIFY(!dialog.nameError().isEmpty());
        dialog.setName(QStringLiteral("good"));
        QVERIFY(dialog.nameError().isEmpty());

        dialog.setConnectionString(QStringLiteral("SharedAccessKeyName=iothubowner;SharedAccessKey=YWJj"));
        QVERIFY2(dialog.connectionStringError().contains(QStringLiteral("HostName")),
            qPrintable(dialog.connectionStringError()));
        QVERIFY(!dialog.canAdd());

        dialog.setConnectionString(QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=YWJj"));
        QVERIFY2(dialog.connectionStringError().contains(QStringLiteral("device")),
            qPrintable(dialog.connectionStringError()));
        QVERIFY(!dialog.canAdd());
        dialog.show();
        QTest::qWait(20);
        saveScreenshot(&dialog, QStringLiteral("add-hub-error"));

        dialog.setConnectionString(hubString(QStringLiteral("h.azure-devices.net")));
        QVERIFY(dialog.connectionStringError().isEmpty());
        QVERIFY(dialog.canAdd());

        dialog.setEndpoint(0, 0, m_dir.filePath(QStringLiteral("no-such-ca.pem")));
        QVERIFY(!dialog.canAdd());
        dialog.setEndpoint(8443, 0, QString());
        QVERIFY(dialog.canAdd());

        // Network: a proxy is http://HOST:PORT without a user; the complaint sits under the proxy field.
        dialog.setNetwork(true, QStringLiteral("socks5://proxy.example:1080"));
        QVERIFY(!dialog.canAdd());
        QVERIFY(dialog.findChildren<QLabel *>().count() > 0);
        bool named = false;
        for (const QLabel *label : dialog.findChildren<QLabel *>())
            named
                = named || (label->isVisibleTo(&dialog) && label->text().contains(QStringLiteral("http://HOST:PORT")));
        QVERIFY(named);
        dialog.setNetwork(true, QStringLiteral("http://user:secret@proxy.example:3128"));
        QVERIFY(!dialog.canAdd());
        dialog.setNetwork(true, QStringLiteral("http://proxy.example:3128"));
        QVERIFY(dialog.canAdd());
        saveScreenshot(&dialog, QStringLiteral("add-hub-network"));
    }

    void eventHubConnectionStringIsKeptBesideTheHubs()
    {
        QVERIFY(await(m_hubs->add(QStringLiteral("contoso"), hubString(QStringLiteral("contoso.azure-devices.net"))))
                    .has_value());
        const QString key = TestSupport::randomKey();
        const QString eventHub
            = QStringLiteral("Endpoint=sb://ihsuprodxyz.servicebus.windows.net/;SharedAccessKeyName=service;"
                             "SharedAccessKey=%1;EntityPath=contoso-events")
                  .arg(key);
        {
            EventHubDialog dialog(*m_hubs, QStringLiteral("contoso"));
            dialog.show();
            QPushButton *forget = nullptr;
            for (QPushButton *button : dialog.findChildren<QPushButton *>())
                forget = button->text() == QStringLiteral("Forget") ? button : forget;
            QVERIFY(forget);
            QVERIFY(!forget->isVisible()); // nothing kept to forget
            QVERIFY(!dialog.canSave()); // nothing typed yet
            // The hub's own connection string pasted by mistake: explained next to the field, nothing saved.
            dialog.setConnectionString(hubString(QStringLiteral("contoso.azure-devices.net")));
            QVERIFY(!dialog.canSave());
            bool explained = false;
            for (const QLabel *label : dialog.findChildren<QLabel *>())
                explained = explained
                    || (label->isVisible() && label->text().contains(QStringLiteral("IoT Hub connection string")));
            QVERIFY(explained);
            QTest::qWait(50); // the dialog grows to show the error once its layout has run
            saveScreenshot(&dialog, QStringLiteral("event-hub-error"));

            dialog.setConnectionString(eventHub);
            QVERIFY(dialog.canSave());
            dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Save)->click();
            QTRY_COMPARE(dialog.result(), int(QDialog::Accepted));
        }
        QVERIFY(m_hubs->find(QStringLiteral("contoso"))->eventHub);
        QVERIFY2(*await(m_hubs->eventHubConnectionString(QStringLiteral("contoso"))) == eventHub,
            "the kept string is the one pasted"); // not printed
        QCOMPARE(await(m_hubs->connectionString(QStringLiteral("contoso")))->hostName(),
            QStringLiteral("contoso.azure-devices.net")); // untouched

        {
            // Kept: the dialog offers to forget it; the keychain entry goes.
            EventHubDialog dialog(*m_hubs, QStringLiteral("contoso"));
            dialog.show();
            QPushButton *forget = nullptr;
            for (QPushButton *button : dialog.findChildren<QPushButton *>())
                forget = button->text() == QStringLiteral("Forget") ? button : forget;
            QVERIFY(forget && forget->isVisible());
            saveScreenshot(&dialog, QStringLiteral("event-hub-kept"));
            forget->click();
            QTRY_COMPARE(dialog.result(), int(QDialog::Accepted));
        }
        QVERIFY(!m_hubs->find(QStringLiteral("contoso"))->eventHub);
        QCOMPARE(*await(m_hubs->eventHubConnectionString(QStringLiteral("contoso"))), QString());
        const QString secretName = m_hubs->find(QStringLiteral("contoso"))->eventHubSecretName();
        QCOMPARE(await(m_secrets->load(secretName)).error().kind, ErrorKind::NotFound);

        // Removing the hub removes the kept Event Hub connection string with it.
        QVERIFY(await(m_hubs->setEventHub(QStringLiteral("contoso"), eventHub)).has_value());
        QVERIFY(await(m_secrets->load(secretName)).has_value());
        QVERIFY(await(m_hubs->remove(QStringLiteral("contoso"))).has_value());
        QCOMPARE(await(m_secrets->load(secretName)).error().kind, ErrorKind::NotFound);
    }

    void addAndRemoveThroughThePage()
    {
        HubSession session(*m_hubs, *m_settings);
        CredentialStore credentials(*m_secrets, m_dir.filePath(QStringLiteral("data")));
        MainWindow window(*m_settings, *m_hubs, session, credentials, *m_secrets);
        window.resize(1000, 600);
        window.show();
        HubsPage *page = window.hubsPage();
        auto *stack = page->findChild<QStackedWidget *>();
        QCOMPARE(stack->currentWidget() == page->view(), false); // empty state first
        saveScreenshot(&window, QStringLiteral("hubs-empty"));

        // Fill in the dialog the page opens, and press Add.
        const QString key = TestSupport::randomKey();
        QTimer::singleShot(0, [key] {
            auto *dialog = qobject_cast<AddHubDialog *>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            dialog->setName(QStringLiteral("contoso"));
            dialog->setConnectionString(
                QStringLiteral("HostName=contoso.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=%1")
                    .arg(key));
            QVERIFY(dialog->canAdd());
            dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
        });
        page->addHub();

        QCOMPARE(m_hubs->hubs().size(), 1);
        QCOMPARE(stack->currentWidget(), page->view());
        QCOMPARE(page->view()->model()->rowCount(), 1);
        QCOMPARE(page->view()->model()->index(0, HubListModel::HostColumn).data().toString(),
            QStringLiteral("contoso.azure-devices.net"));
        QCOMPARE(m_settings->currentHub(), QStringLiteral("contoso")); // the first hub becomes current
        QCOMPARE(window.windowTitle(), QStringLiteral("contoso — Onboarder"));
        QCOMPARE(await(m_hubs->connectionString(QStringLiteral("contoso")))->sharedAccessKey().exposeAsString(), key);

        QVERIFY(await(m_hubs->add(QStringLiteral("sandbox"), hubString(QStringLiteral("sandbox.azure-devices.net")),
                          {8443, 18883, {}}))
                    .has_value());
        page->view()->selectRow(0);
        QTest::qWait(50);
        saveScreenshot(&window, QStringLiteral("hubs-page"));

        // Remove the selected hub; cancelling first changes nothing.
        const QString selected = page->view()->currentIndex().siblingAtColumn(0).data().toString();
        answerNextMessageBox(QMessageBox::Cancel);
        page->removeSelectedHub();
        QCOMPARE(m_hubs->hubs().size(), 2);
        answerNextMessageBox(QMessageBox::Yes);
        page->removeSelectedHub();
        QTRY_COMPARE(m_hubs->hubs().size(), 1);
        QVERIFY(!m_hubs->find(selected));
    }
};

QTEST_MAIN(tst_HubsPage)
#include "tst_hubspage.moc"
