// The Provisioning page against the sandbox's Device Provisioning Service (a sandbox process): the DPS added here
// is listed, its enrollments shown, a test registration of the selected one registers it as the device would and
// says where it was assigned, a disabled one says why it cannot, and deleting asks first.
#include "adddpsdialog.h"
#include "certificateauthoritiesview.h"
#include "common/settings.h"
#include "credentials/certificateauthority.h"
#include "credentials/credentialstore.h"
#include "credentials/secretstore.h"
#include "dps/dpsclient.h"
#include "dps/dpsenrollment.h"
#include "dps/dpsstore.h"
#include "dpspage.h"
#include "hub/hubsession.h"
#include "hub/hubstore.h"
#include "mainwindow.h"
#include "newenrollmentdialog.h"
#include "sandboxprocess.h"
#include "testsupport.h"
#include "uitestsupport.h"

#include <QApplication>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
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
        const QString started
            = m_sandbox.start(m_dir.filePath(QStringLiteral("hub")), TestSupport::SandboxProcess::dpsArguments());
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
        DpsEndpoint endpoint{dps.value(QStringLiteral("idScope")).toString(),
            dps.value(QStringLiteral("restPort")).toInt(), dps.value(QStringLiteral("mqttPort")).toInt(),
            dps.value(QStringLiteral("host")).toString(), m_sandbox.caFile()};
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
        const QJsonObject symmetric{
            {QStringLiteral("type"), QStringLiteral("symmetricKey")}, {QStringLiteral("symmetricKey"), QJsonObject{}}};
        QVERIFY(await(client.put(DpsClient::Kind::Enrollment, QStringLiteral("meter-1"),
                          {{QStringLiteral("registrationId"), QStringLiteral("meter-1")},
                              {QStringLiteral("attestation"), symmetric}}))
                    .has_value());
        QVERIFY(await(client.put(DpsClient::Kind::Enrollment, QStringLiteral("meter-2"),
                          {{QStringLiteral("registrationId"), QStringLiteral("meter-2")},
                              {QStringLiteral("attestation"), symmetric},
                              {QStringLiteral("provisioningStatus"), QStringLiteral("disabled")}}))
                    .has_value());
        // The page follows the store of the window; a DPS added elsewhere shows after a reload.
        QVERIFY(await(window.findChild<DpsStore *>()->add(QStringLiteral("sandbox-dps-2"),
                          dps.value(QStringLiteral("connectionString")).toString(), endpoint))
                    .has_value());
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
        QTRY_COMPARE_WITH_TIMEOUT(
            page->enrollments()->item(rowOf(page->enrollments(), QStringLiteral("meter-1")), 3)->text(),
            m_sandbox.hostName(), 20000);
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
        QCOMPARE(await(client.get(DpsClient::Kind::Enrollment, QStringLiteral("meter-2"))).error().kind,
            ErrorKind::NotFound);
        await(store.remove(QStringLiteral("sandbox-dps")));
        await(window.findChild<DpsStore *>()->remove(QStringLiteral("sandbox-dps-2")));
    }

    void enrollmentsGroupsAndVerificationCertificatesMadeHere()
    {
        Settings settings(m_dir.filePath(QStringLiteral("onboarder-2.conf")));
        SecretStore secrets(QStringLiteral("OnboarderTest-") + QUuid::createUuid().toString(QUuid::Id128));
        HubStore hubs(settings, secrets);
        HubSession session(hubs, settings);
        CredentialStore credentials(secrets, m_dir.filePath(QStringLiteral("data-2")));
        // What the technician holds: a device certificate and an imported CA.
        QVERIFY(await(credentials.generate(QStringLiteral("lab"), QStringLiteral("tracker-1"), {})).has_value());
        const auto caKey = KeyPair::generate();
        const auto caCert = Certificate::selfSigned(
            *caKey, {QStringLiteral("Bench CA"), {}, {}, 30, Certificate::Usage::CertificateAuthority});
        QVERIFY(await(credentials.importCertificateAuthority(
                          QStringLiteral("bench"), *CertificateAuthority::fromParts(*caCert, *caKey)))
                    .has_value());
        MainWindow window(settings, hubs, session, credentials, secrets);
        window.resize(1100, 620);
        window.show();
        DpsPage *page = window.dpsPage();
        window.showPage(page);
        const QJsonObject dps = m_sandbox.ready().value(QStringLiteral("dps")).toObject();
        const DpsEndpoint endpoint{dps.value(QStringLiteral("idScope")).toString(),
            dps.value(QStringLiteral("restPort")).toInt(), dps.value(QStringLiteral("mqttPort")).toInt(),
            dps.value(QStringLiteral("host")).toString(), m_sandbox.caFile()};
        DpsStore *store = window.findChild<DpsStore *>();
        const auto added = await(
            store->add(QStringLiteral("lab-dps"), dps.value(QStringLiteral("connectionString")).toString(), endpoint));
        QVERIFY(added.has_value());
        QTRY_VERIFY_WITH_TIMEOUT(page->newEnrollmentButton()->isEnabled(), 20000);
        DpsClient client(*added, *await(store->connectionString(QStringLiteral("lab-dps"))));

        // An X.509 enrollment of the certificate kept here: an upper-case id is explained first.
        bool explained = false;
        QTimer::singleShot(0, this, [&] {
            auto *dialog = qobject_cast<NewEnrollmentDialog *>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            dialog->setId(QStringLiteral("Tracker-1"));
            for (const QLabel *label : dialog->findChildren<QLabel *>())
                explained = explained || (!label->isHidden() && label->text().contains(QStringLiteral("lower-case")));
            QVERIFY(!dialog->canCreate());
            dialog->setId(QStringLiteral("tracker-1"));
            dialog->setTags(QStringLiteral("site=lab"));
            QVERIFY(dialog->canCreate());
            QTest::qWait(50);
            saveScreenshot(dialog, QStringLiteral("new-enrollment"));
            dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
        });
        page->newEnrollmentButton()->click();
        QVERIFY(explained);
        QTRY_VERIFY_WITH_TIMEOUT(rowOf(page->enrollments(), QStringLiteral("tracker-1")) >= 0, 20000);
        const auto enrollment = await(client.get(DpsClient::Kind::Enrollment, QStringLiteral("tracker-1")));
        QVERIFY(enrollment.has_value());
        QCOMPARE(DpsEnrollment::sha256Thumbprints(*enrollment),
            QStringList{
                credentials.certificate(QStringLiteral("lab"), QStringLiteral("tracker-1"))->thumbprintSha256()});
        QCOMPARE(enrollment->value(QStringLiteral("initialTwin"))
                     .toObject()
                     .value(QStringLiteral("tags"))
                     .toObject()
                     .value(QStringLiteral("site"))
                     .toString(),
            QStringLiteral("lab"));

        // Its test registration uses the certificate and key kept here.
        page->enrollments()->selectRow(rowOf(page->enrollments(), QStringLiteral("tracker-1")));
        QTRY_VERIFY(page->testButton()->isEnabled());
        page->testButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(page->status()->text().contains(QStringLiteral("tracker-1 registered")), 30000);
        QVERIFY(page->status()->text().contains(m_sandbox.hostName()));

        // The CA's verification certificate: a bad code is explained and writes nothing; a good one is signed by the
        // CA.
        page->tabs()->setCurrentIndex(2);
        CertificateAuthoritiesView *cas = page->certificateAuthorities();
        QCOMPARE(cas->names(), QStringList{QStringLiteral("bench")});
        const QString pemPath = m_dir.filePath(QStringLiteral("verification.pem"));
        cas->writeVerificationCertificate(QStringLiteral("bench"), QStringLiteral("not a code!"), pemPath);
        QVERIFY(!QFile::exists(pemPath));
        QSignalSpy written(cas, &CertificateAuthoritiesView::verificationWritten);
        cas->writeVerificationCertificate(QStringLiteral("bench"), QStringLiteral("4A1B2C3D4E"), pemPath);
        QTRY_COMPARE_WITH_TIMEOUT(written.size(), 1, 20000);
        QFile pem(pemPath);
        QVERIFY(pem.open(QIODevice::ReadOnly));
        const auto verification = Certificate::fromPem(pem.readAll());
        QVERIFY(verification.has_value());
        QCOMPARE(verification->subjectCommonName(), QStringLiteral("4A1B2C3D4E"));
        QVERIFY(verification->isSignedBy(*caCert));
        cas->table()->selectRow(0);
        saveScreenshot(&window, QStringLiteral("dps-page-cas"));

        // A group for the devices the CA signs, from the CA's row.
        QTimer::singleShot(0, this, [&] {
            auto *dialog = qobject_cast<NewEnrollmentDialog *>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            dialog->setId(QStringLiteral("fleet-gui"));
            QVERIFY(dialog->canCreate());
            dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
        });
        Q_EMIT cas->groupRequested(QStringLiteral("bench"));
        QTRY_VERIFY_WITH_TIMEOUT(rowOf(page->groups(), QStringLiteral("fleet-gui")) >= 0, 20000);
        QCOMPARE(page->tabs()->currentIndex(), 1);
        const auto group = await(client.get(DpsClient::Kind::Group, QStringLiteral("fleet-gui")));
        QVERIFY(group.has_value());
        QCOMPARE(DpsEnrollment::sha256Thumbprints(*group), QStringList{caCert->thumbprintSha256()});
        saveScreenshot(&window, QStringLiteral("dps-page-groups"));

        // Created twice: refused, nothing changed.
        QTimer::singleShot(0, this, [&] {
            auto *dialog = qobject_cast<NewEnrollmentDialog *>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            dialog->setId(QStringLiteral("fleet-gui"));
            dialog->setAttestation(NewEnrollmentDialog::Attestation::SymmetricKey);
            dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
        });
        page->newGroupButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(page->status()->text().contains(QStringLiteral("already")), 20000);
        QCOMPARE(
            DpsEnrollment::attestationType(*await(client.get(DpsClient::Kind::Group, QStringLiteral("fleet-gui")))),
            QStringLiteral("x509"));
        await(store->remove(QStringLiteral("lab-dps")));
    }
};

QTEST_MAIN(tst_DpsPage)
#include "tst_dpspage.moc"
