// The Modem page, driven through its widgets (offscreen) against the modem simulator on a real
// pseudo-terminal: the port found, identity read, a credential written from a file and deleted, and a
// device's Azure credentials (made and kept by the CredentialStore, key in the real keychain) flashed.
#include "atterminalview.h"
#include "common/settings.h"
#include "credentials/certificate.h"
#include "credentials/credentialstore.h"
#include "credentials/keypair.h"
#include "credentials/secretstore.h"
#include "hub/hubsession.h"
#include "hub/hubstore.h"
#include "modem/modemcredentialstore.h"
#include "modem/portfinder.h"
#include "modemcheckview.h"
#include "modempage.h"
#include "modemsimfixture.h"
#include "testsupport.h"
#include "uitestsupport.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QUuid>

using namespace Onboarder;
using TestSupport::answerNextMessageBox;
using TestSupport::await;
using TestSupport::saveScreenshot;

namespace {

int rowOf(QTableWidget *table, quint32 tag, int type)
{
    for (int row = 0; row < table->rowCount(); ++row)
        if (table->item(row, 0)->data(Qt::UserRole).value<quint32>() == tag
            && table->item(row, 1)->data(Qt::UserRole).toInt() == type)
            return row;
    return -1;
}

} // namespace

class tst_ModemPage : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::ModemSim m_sim;
    std::unique_ptr<Settings> m_settings;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<HubStore> m_hubs;
    std::unique_ptr<HubSession> m_session;
    std::unique_ptr<CredentialStore> m_credentials;

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        QCOMPARE(m_sim.start(), QString());
        qputenv(PortFinder::extraPortsVariable, m_sim.port().toLocal8Bit());
        m_settings = std::make_unique<Settings>(m_dir.filePath(QStringLiteral("onboarder.conf")));
        m_secrets = std::make_unique<SecretStore>(
            QStringLiteral("OnboarderTest-") + QUuid::createUuid().toString(QUuid::Id128));
        m_hubs = std::make_unique<HubStore>(*m_settings, *m_secrets);
        // Flashing needs no hub on the network: a hub profile to file the device's credential under.
        const QString hub
            = QStringLiteral("HostName=field.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=")
            + TestSupport::randomKey();
        QVERIFY(await(m_hubs->add(QStringLiteral("field"), hub)).has_value());
        m_settings->setCurrentHub(QStringLiteral("field"));
        m_session = std::make_unique<HubSession>(*m_hubs, *m_settings);
        QTRY_COMPARE(m_session->state(), HubSession::State::Ready);
        m_credentials = std::make_unique<CredentialStore>(*m_secrets, m_dir.filePath(QStringLiteral("data")));
    }

    void findsConnectsWritesDeletesAndFlashes()
    {
        ModemPage page(*m_session, *m_credentials);
        page.resize(1000, 640);
        page.show();

        // The simulator's pseudo-terminal is listed (an extra port) and chosen.
        QTRY_VERIFY(page.portList()->count() > 0);
        QCOMPARE(page.portList()->currentItem()->data(Qt::UserRole + 1).toString(), m_sim.port());

        page.connectToPort(m_sim.port());
        QTRY_VERIFY_WITH_TIMEOUT(page.isConnected() && !page.isBusy(), 15000);
        QVERIFY2(page.identityLabel()->text().contains(m_sim.ready().value(QStringLiteral("imei")).toString()),
            qPrintable(page.identityLabel()->text()));

        // A root CA from a file into tag 42, listed with the modem's SHA-256 of it.
        const KeyPair caKey = *KeyPair::generate();
        const Certificate ca = *Certificate::selfSigned(
            caKey, {QStringLiteral("Test Root"), {}, {}, 30, Certificate::Usage::CertificateAuthority});
        QFile pem(m_dir.filePath(QStringLiteral("root.pem")));
        QVERIFY(pem.open(QIODevice::WriteOnly));
        pem.write(ca.toPem());
        pem.close();
        page.writeFromFile(42, 0, pem.fileName());
        QTRY_VERIFY_WITH_TIMEOUT(rowOf(page.credentialTable(), 42, 0) >= 0 && !page.isBusy(), 15000);
        const int row = rowOf(page.credentialTable(), 42, 0);
        QCOMPARE(page.credentialTable()->item(row, 2)->text(),
            ModemCredentialStore::sha256Hex(*ModemCredentialStore::prepare(0, ca.toPem())));
        QCOMPARE(m_sim.storedHashes().value(QStringLiteral("42/0")), page.credentialTable()->item(row, 2)->text());

        // A broken file: said, nothing sent.
        QFile broken(m_dir.filePath(QStringLiteral("broken.pem")));
        QVERIFY(broken.open(QIODevice::WriteOnly));
        broken.write("-----BEGIN CERTIFICATE-----\nnot base64\n");
        broken.close();
        page.writeFromFile(43, 0, broken.fileName());
        QVERIFY(!page.isBusy());
        QVERIFY(!page.statusLabel()->text().isEmpty());
        QVERIFY(!m_sim.storedHashes().contains(QStringLiteral("43/0")));

        // Delete it, confirmed.
        page.credentialTable()->selectRow(row);
        answerNextMessageBox(QMessageBox::Yes);
        page.deleteSelected();
        QTRY_VERIFY_WITH_TIMEOUT(rowOf(page.credentialTable(), 42, 0) < 0 && !page.isBusy(), 15000);
        QVERIFY(!m_sim.storedHashes().contains(QStringLiteral("42/0")));

        // A device's Azure credentials, made here, flashed into tags 10 and 11.
        const auto made
            = await(m_credentials->generate(QStringLiteral("field"), QStringLiteral("nrf-352656100000077"), {}));
        QVERIFY(made.has_value());
        QTRY_VERIFY(page.flashDevice()->findData(QStringLiteral("nrf-352656100000077")) >= 0);
        page.flashDevice()->setCurrentIndex(page.flashDevice()->findData(QStringLiteral("nrf-352656100000077")));
        page.flashTag()->setValue(10);
        page.flashSecondaryTag()->setValue(11);
        QVERIFY(page.flashButton()->isEnabled());
        answerNextMessageBox(QMessageBox::Yes);
        page.flashButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(page.lastFlash().has_value() && !page.isBusy(), 30000);
        QVERIFY2(page.lastFlash()->ok(),
            qPrintable(page.lastFlash()->failure ? page.lastFlash()->failure->message : QString()));
        const auto stored = m_sim.storedHashes();
        for (const char *slot : {"10/0", "10/1", "10/2", "11/0"})
            QVERIFY2(stored.contains(QString::fromLatin1(slot)), slot);
        QCOMPARE(stored.value(QStringLiteral("10/1")),
            ModemCredentialStore::sha256Hex(*ModemCredentialStore::prepare(1,
                m_credentials->certificate(QStringLiteral("field"), QStringLiteral("nrf-352656100000077"))->toPem())));
        QTRY_VERIFY(rowOf(page.credentialTable(), 10, 2) >= 0);
        const QString dir = qEnvironmentVariable("ONBOARDER_SCREENSHOT_DIR");
        if (!dir.isEmpty())
            page.grab().save(dir + QStringLiteral("/modem-page.png"));

        // The modem vanishes (the simulator ends): said, not a hang.
        m_sim.stop();
        QTRY_VERIFY_WITH_TIMEOUT(!page.isConnected(), 10000);
    }

    // The Check tab: LTE off at first, so the verdict says the network was not checked; checked again with LTE
    // switched on for the check (the simulator searches first), it is ready and the modem is back in flight mode.
    // The Terminal tab: an answer, a confirmed mode switch, a refused credential write that is neither sent nor kept.
    void checksAndTalksToTheModem()
    {
        TestSupport::ModemSim sim;
        QCOMPARE(sim.start({QStringLiteral("--cfun"), QStringLiteral("4"), QStringLiteral("--registration-delay-ms"),
                     QStringLiteral("1500"), QStringLiteral("--rsrp"), QStringLiteral("-97")}),
            QString());
        ModemPage page(*m_session, *m_credentials);
        page.resize(1000, 640);
        page.show();
        page.connectToPort(sim.port());
        QTRY_VERIFY_WITH_TIMEOUT(page.isConnected() && !page.isBusy(), 15000);

        page.tabs()->setCurrentWidget(page.checkView());
        ModemCheckView *check = page.checkView();
        check->tagBox()->setValue(-1);
        QVERIFY(check->checkButton()->isEnabled());
        QTest::mouseClick(check->checkButton(), Qt::LeftButton);
        QVERIFY(page.isBusy());
        QVERIFY(!check->checkButton()->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(!check->isRunning(), 20000);
        QVERIFY(check->lastReport().has_value());
        QCOMPARE(check->lastReport()->verdict, ModemCheckReport::Verdict::LteOff);

        check->lteOnBox()->setChecked(true);
        check->tagBox()->setValue(10);
        QTest::mouseClick(check->checkButton(), Qt::LeftButton);
        QTRY_VERIFY(check->cancelButton()->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(!check->isRunning(), 30000);
        QCOMPARE(
            check->lastReport()->verdict, ModemCheckReport::Verdict::MissingCredentials); // nothing flashed in tag 10
        QVERIFY(check->lastReport()->lteSwitchedOn);
        QCOMPARE(check->lastReport()->registration->stat, 1);
        QCOMPARE(check->evidenceList()->count(), check->lastReport()->evidence.size());
        QVERIFY(check->verdictLabel()->text().contains(QStringLiteral("tag 10")));
        TestSupport::saveScreenshot(&page, QStringLiteral("modem-check"));

        // Cancelled while it waits for the network: the modem goes back to flight mode all the same.
        sim.stop();
        QCOMPARE(sim.start({QStringLiteral("--cfun"), QStringLiteral("4"), QStringLiteral("--network"),
                     QStringLiteral("searching")}),
            QString());
        page.disconnectModem();
        page.connectToPort(sim.port());
        QTRY_VERIFY_WITH_TIMEOUT(page.isConnected() && !page.isBusy(), 15000);
        QTest::mouseClick(check->checkButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(check->isRunning() && check->cancelButton()->isVisible(), 5000);
        QTest::qWait(1500);
        QTest::mouseClick(check->cancelButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!check->isRunning() && !page.isBusy(), 15000);
        QVERIFY(check->verdictLabel()->text().contains(QStringLiteral("cancelled")));

        page.tabs()->setCurrentWidget(page.terminal());
        AtTerminalView *terminal = page.terminal();
        QStringList asked;
        terminal->setConfirmation([&asked](const QString &question) {
            asked.append(question);
            return true;
        });
        terminal->input()->setText(QStringLiteral("AT+CFUN?"));
        QTest::keyClick(terminal->input(), Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(terminal->transcript().contains(QStringLiteral("< +CFUN: 4")), 10000);
        QTRY_VERIFY(!terminal->isBusy());
        // The cancelled check also set the registration reports back to the firmware's level.
        terminal->input()->setText(QStringLiteral("AT+CEREG?"));
        QTest::keyClick(terminal->input(), Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(terminal->transcript().contains(QStringLiteral("< +CEREG: 0,")), 10000);
        QTRY_VERIFY(!terminal->isBusy());
        QVERIFY(asked.isEmpty());
        terminal->input()->setText(QStringLiteral("AT+CFUN=1"));
        QTest::mouseClick(terminal->sendButton(), Qt::LeftButton);
        QCOMPARE(asked.size(), 1);
        QTRY_VERIFY(!terminal->isBusy() && terminal->transcript().count(QStringLiteral("< OK")) == 3);
        const QString secret = QStringLiteral("AT%CMNG=0,77,3,\"00112233445566778899AABBCCDDEEFF\"");
        terminal->input()->setText(secret);
        QTest::keyClick(terminal->input(), Qt::Key_Return);
        QVERIFY(terminal->input()->text().isEmpty());
        QVERIFY(!terminal->transcript().contains(QStringLiteral("00112233")));
        QVERIFY(!terminal->history().join(u'\n').contains(QStringLiteral("00112233")));
        QVERIFY(terminal->transcript().contains(QStringLiteral("Not sent")));
        QVERIFY(sim.storedHashes().value(QStringLiteral("77/3")).isEmpty());
        QCOMPARE(terminal->history(),
            (QStringList{QStringLiteral("AT+CFUN?"), QStringLiteral("AT+CEREG?"), QStringLiteral("AT+CFUN=1")}));
        QTest::keyClick(terminal->input(), Qt::Key_Up);
        QCOMPARE(terminal->input()->text(), QStringLiteral("AT+CFUN=1"));
        QTest::keyClick(terminal->input(), Qt::Key_Up);
        QCOMPARE(terminal->input()->text(), QStringLiteral("AT+CEREG?"));
        TestSupport::saveScreenshot(&page, QStringLiteral("modem-terminal"));
        page.disconnectModem();
    }

    void cleanupTestCase()
    {
        if (m_credentials)
            await(m_credentials->remove(QStringLiteral("field"), QStringLiteral("nrf-352656100000077")));
        m_session.reset();
        if (m_hubs)
            await(m_hubs->remove(QStringLiteral("field")));
    }
};

QTEST_MAIN(tst_ModemPage)
#include "tst_modempage.moc"
