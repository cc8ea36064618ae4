// The modem layer (AtChannel, Nrf91Modem, ModemCredentialStore) against the simulator through a real pty.
#include "modem/atchannel.h"
#include "modem/modemcredential.h"
#include "modem/modemcredentialstore.h"
#include "modem/nrf91modem.h"
#include "modemsimfixture.h"
#include "modemtestsupport.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>

using namespace Onboarder;
using TestSupport::await;

class tst_Modem : public QObject
{
    Q_OBJECT

    // The expected hash from an independent tool (coreutils' sha256sum), upper case as the modem lists it.
    static QString sha256sum(const QByteArray &content)
    {
        QProcess tool;
        tool.start(QStringLiteral("sha256sum"), {});
        tool.write(content);
        tool.closeWriteChannel();
        if (!tool.waitForFinished(10000) || tool.exitCode() != 0)
            return QStringLiteral("(sha256sum failed)");
        return QString::fromLatin1(tool.readAllStandardOutput().left(64)).toUpper();
    }

    TestSupport::ModemSim m_sim;

    std::unique_ptr<Nrf91Modem> startAndOpen(const QStringList &arguments = {})
    {
        const QString problem = m_sim.start(arguments);
        if (!problem.isEmpty())
            qWarning("%s", qPrintable(problem));
        return problem.isEmpty() ? TestSupport::openModem(m_sim.port()) : nullptr;
    }

private Q_SLOTS:
    void identityAndFunctionalMode()
    {
        auto modem = startAndOpen({QStringLiteral("--imei"), QStringLiteral("351234567890132")});
        QVERIFY(modem);
        const auto identity = await(modem->identity());
        QVERIFY2(identity, TestSupport::why(identity).constData());
        QCOMPARE(identity->imei, QStringLiteral("351234567890132"));
        QCOMPARE(identity->manufacturer, QStringLiteral("Nordic Semiconductor ASA"));
        QCOMPARE(identity->model, QStringLiteral("nRF9160-SICA"));
        QCOMPARE(identity->firmware, QStringLiteral("mfw_nrf9160_1.3.5"));
        QCOMPARE(identity->modemUuid, QStringLiteral("25c95751-efa4-40d4-8b4a-1dcaab81fac9"));

        QCOMPARE(await(modem->functionalMode()).value_or(-1), 1);
        const auto previous = await(modem->enterOfflineMode());
        QCOMPARE(previous.value_or(-1), 1);
        QCOMPARE(await(modem->functionalMode()).value_or(-1), 4);
        QVERIFY(await(modem->restoreFunctionalMode(*previous)));
        QCOMPARE(await(modem->functionalMode()).value_or(-1), 1);
        // Already offline: nothing to switch, nothing to restore.
        QVERIFY(await(modem->setFunctionalMode(0)));
        QCOMPARE(await(modem->enterOfflineMode()).value_or(-1), 0);
        QCOMPARE(await(modem->functionalMode()).value_or(-1), 0);
        // A mode the modem does not know is refused with a sentence.
        const auto refused = await(modem->setFunctionalMode(7));
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, QStringLiteral("CmeError50"));
        QCOMPARE(refused.error().kind, ErrorKind::Device);
    }

    void identityIsNotTakenFromABanner()
    {
        // A reset while the modem answers AT+CGSN: the AT host's start-up lines ("Ready") come after the IMEI,
        // bare text like it (docs/nrf91-at.md §1).
        auto modem = startAndOpen(
            {QStringLiteral("--imei"), QStringLiteral("352656100367872"), QStringLiteral("--banner-in-cgsn")});
        QVERIFY(modem);
        const auto identity = await(modem->identity());
        QVERIFY2(identity, TestSupport::why(identity).constData());
        QCOMPARE(identity->imei, QStringLiteral("352656100367872"));
        QCOMPARE(identity->model, QStringLiteral("nRF9160-SICA"));
    }

    void anAnswerThatIsNoImeiIsAnError()
    {
        // The simulator answers AT+CGSN with what its state file says, unchecked.
        QTemporaryDir dir;
        for (const QString &answer :
            {QStringLiteral("35265610036787"), QStringLiteral("3526561003678720"), QStringLiteral("35265610036787X"),
                QStringLiteral("352656100367873"), // 15 digits, the wrong check digit
                QStringLiteral("Ready")}) {
            const QString state = TestSupport::writeFile(dir.filePath(QStringLiteral("state.json")),
                QJsonDocument(QJsonObject{{QStringLiteral("imei"), answer}}).toJson());
            const QString problem = m_sim.start({}, state);
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
            auto modem = TestSupport::openModem(m_sim.port());
            QVERIFY(modem);
            const auto identity = await(modem->identity());
            QVERIFY2(!identity, qPrintable(answer + QStringLiteral(" was taken for an IMEI")));
            QCOMPARE(identity.error().code, QStringLiteral("NotAnImei"));
            QCOMPARE(identity.error().kind, ErrorKind::Device);
            if (answer != QStringLiteral("Ready")) // the banner is no answer line at all
                QVERIFY2(identity.error().message.contains(answer), qPrintable(identity.error().message));
        }
    }

    void listWriteVerifyReadDelete()
    {
        auto modem = startAndOpen();
        QVERIFY(modem);
        ModemCredentialStore store(*modem);
        const QByteArray root = *ModemCredentialStore::prepare(CredentialType::RootCa, TestSupport::amazonRootCa1());
        const auto device = TestSupport::deviceCredentials(QStringLiteral("dev-1"));

        // The modem-owned entries are hidden unless asked for.
        QCOMPARE(await(store.list())->size(), 0);
        QVERIFY(await(store.list({}, {}, true))->size() >= 3);

        const auto written = await(store.write(42, CredentialType::RootCa, root));
        QVERIFY2(written, TestSupport::why(written).constData());
        QCOMPARE(written->sha256, sha256sum(root));
        QVERIFY(await(
            store.write(42, CredentialType::ClientCert, *ModemCredentialStore::prepare(1, device.certificatePem))));
        QVERIFY(await(store.write(42, CredentialType::ClientKey, *ModemCredentialStore::prepare(2, device.keyPem))));
        QVERIFY(await(store.write(7, CredentialType::PskIdentity, QByteArrayLiteral("my-identity"))));
        // The writes left the modem in the mode it was in.
        QCOMPARE(await(modem->functionalMode()).value_or(-1), 1);

        const auto all = await(store.list());
        QVERIFY(all);
        QCOMPARE(all->size(), 4);
        QCOMPARE(all->at(0).tag, 7u);
        QCOMPARE(all->at(1), (ModemCredential{42, 0, sha256sum(root)}));
        QCOMPARE(await(store.list(42u))->size(), 3);
        QCOMPARE(await(store.list(42u, 2))->size(), 1);
        QCOMPARE(await(store.list(43u))->size(), 0);
        // The simulator's own record agrees with what the modem listed.
        QCOMPARE(m_sim.storedHashes().value(QStringLiteral("42/0")), sha256sum(root));

        QCOMPARE(await(store.verify(42, 0, root))->outcome, Verification::Outcome::Match);
        QCOMPARE(await(store.verify(42, 0, root + '\n'))->outcome, Verification::Outcome::Mismatch);
        QCOMPARE(await(store.verify(43, 0, root))->outcome, Verification::Outcome::Absent);

        QCOMPARE(await(store.read(42, CredentialType::RootCa)).value_or(QByteArray()), root);
        QCOMPARE(
            await(store.read(7, CredentialType::PskIdentity)).value_or(QByteArray()), QByteArrayLiteral("my-identity"));
        const auto key = await(store.read(42, CredentialType::ClientKey));
        QVERIFY(!key);
        QCOMPARE(key.error().code, QStringLiteral("NotReadable"));

        QVERIFY(await(store.remove(42, CredentialType::ClientKey)));
        QCOMPARE(await(store.list(42u))->size(), 2);
        const auto again = await(store.remove(42, CredentialType::ClientKey));
        QVERIFY(!again);
        QCOMPARE(again.error().kind, ErrorKind::NotFound);
        QCOMPARE(again.error().code, QStringLiteral("CredentialNotFound"));
        QVERIFY2(again.error().message.contains(QStringLiteral("nothing is stored there")),
            TestSupport::why(again).constData());
        QCOMPARE(await(modem->functionalMode()).value_or(-1), 1);
    }

    void quotingEdgeCases_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<int>("form");
        QTest::addColumn<QString>("sha");
        const QByteArray lf = TestSupport::amazonRootCa1(); // LF endings and a trailing LF, 1188 bytes
        QByteArray crlf = lf;
        crlf.replace("\n", "\r\n");
        const auto verbatim = int(ModemCredentialStore::ContentForm::Verbatim);
        const auto normalized = int(ModemCredentialStore::ContentForm::Normalized);
        // The test vectors of docs/nrf91-at.md §4.4.
        QTest::newRow("LF, trailing LF") << lf << verbatim
                                         << QStringLiteral(
                                                "2C43952EE9E000FF2ACC4E2ED0897C0A72AD5FA72C3D934E81741CBD54F05BD1");
        QTest::newRow("LF, stripped") << lf.chopped(
            1) << verbatim << QStringLiteral("AD6FB002E6B34C0559FA8F93A3794FF12C4E3F119BD77290C52525123FB9EA74");
        QTest::newRow("CRLF, trailing CRLF")
            << crlf << verbatim << QStringLiteral("56AE01E6773BDAEC4BFB216D4005ADB06E4F680BD8BFB8BE4C683CE921681897");
        QTest::newRow("CRLF, no trailing CRLF") << crlf.chopped(
            2) << verbatim << QStringLiteral("A86D8BF8D75130765A6453960E0E4E5158E0F3E43F86699EFE36190C463A25CF");
        // Normalized: whatever the file's line ends, what nrfcredstore would send.
        QTest::newRow("CRLF normalized") << crlf << normalized
                                         << QStringLiteral(
                                                "AD6FB002E6B34C0559FA8F93A3794FF12C4E3F119BD77290C52525123FB9EA74");
        QTest::newRow("LF normalized") << lf + "\n\n"
                                       << normalized
                                       << QStringLiteral(
                                              "AD6FB002E6B34C0559FA8F93A3794FF12C4E3F119BD77290C52525123FB9EA74");
    }

    void quotingEdgeCases()
    {
        QFETCH(QByteArray, text);
        QFETCH(int, form);
        QFETCH(QString, sha);
        if (!m_sim.running())
            QVERIFY(m_sim.start().isEmpty());
        auto modem = TestSupport::openModem(m_sim.port());
        QVERIFY(modem);
        ModemCredentialStore store(*modem);
        const auto content
            = ModemCredentialStore::prepare(CredentialType::RootCa, text, ModemCredentialStore::ContentForm(form));
        QVERIFY(content);
        QCOMPARE(ModemCredentialStore::sha256Hex(*content), sha);
        const auto written = await(store.write(100, CredentialType::RootCa, *content));
        QVERIFY2(written, TestSupport::why(written).constData());
        QCOMPARE(written->sha256, sha); // the modem's hash, listed after the write
        // The modem kept every byte between the quotes: CR, LF and the trailing line end.
        QCOMPARE(await(store.read(100, CredentialType::RootCa)).value_or(QByteArray()), *content);
    }

    void largeCertificate()
    {
        auto modem = startAndOpen();
        QVERIFY(modem);
        ModemCredentialStore store(*modem);
        // A certificate just under the AT host's 4096-byte command buffer goes through whole.
        QByteArray fits;
        for (int names = 40; names < 200; names += 2) {
            const QByteArray pem = *ModemCredentialStore::prepare(
                1, TestSupport::deviceCredentials(QStringLiteral("big"), names).certificatePem);
            if (pem.size() + 32 > 4095)
                break;
            fits = pem;
        }
        QVERIFY2(fits.size() > 3900, QByteArray::number(fits.size()).constData());
        const auto written = await(store.write(200, CredentialType::ClientCert, fits));
        QVERIFY2(written, TestSupport::why(written).constData());
        QCOMPARE(written->sha256, sha256sum(fits));

        // One that does not fit is refused before a byte is sent (it would wedge the AT host).
        const QByteArray tooBig = *ModemCredentialStore::prepare(
            1, TestSupport::deviceCredentials(QStringLiteral("big"), 160).certificatePem);
        QVERIFY(tooBig.size() > 4096);
        const qint64 sent = modem->channel()->bytesSent();
        const auto refused = await(store.writeEntry(200, CredentialType::ClientCert, tooBig));
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, QStringLiteral("CommandTooLong"));
        QCOMPARE(modem->channel()->bytesSent(), sent);
        QVERIFY(await(modem->identity())); // still answering
    }

    void refusedBeforeSending()
    {
        auto modem = startAndOpen();
        QVERIFY(modem);
        ModemCredentialStore store(*modem);
        const qint64 sent = modem->channel()->bytesSent();
        const auto reserved = await(store.remove(4294967292u, 0));
        QCOMPARE(reserved.error().code, QStringLiteral("ReservedTag"));
        QCOMPARE(
            await(store.write(2147483648u, 0, QByteArrayLiteral("x"))).error().code, QStringLiteral("ReservedTag"));
        QCOMPARE(
            await(store.generateKey(2147483648u, QStringLiteral("x"))).error().code, QStringLiteral("ReservedTag"));
        QCOMPARE(await(store.writeEntry(5, 4, QByteArrayLiteral("has \" quote"))).error().code,
            QStringLiteral("InvalidCredential"));
        QCOMPARE(await(store.read(5, CredentialType::Psk)).error().code, QStringLiteral("NotReadable"));
        QCOMPARE(modem->channel()->bytesSent(), sent);

        QCOMPARE(ModemCredentialStore::prepare(0, QByteArrayLiteral("not a certificate")).error().code,
            QStringLiteral("NotACertificate"));
        QCOMPARE(ModemCredentialStore::prepare(3, QByteArrayLiteral("abc")).error().code, QStringLiteral("PskNotHex"));
        QCOMPARE(ModemCredentialStore::prepare(2, TestSupport::deviceCredentials(QStringLiteral("d")).certificatePem)
                     .error()
                     .code,
            QStringLiteral("NotAKey"));
    }

    void modemErrorsBecomeSentences()
    {
        auto modem = startAndOpen({QStringLiteral("--storage-bytes"), QStringLiteral("2000")});
        QVERIFY(modem);
        ModemCredentialStore store(*modem);
        const QByteArray root = *ModemCredentialStore::prepare(0, TestSupport::amazonRootCa1());

        // Online: the modem refuses changes with 518 (writeEntry does not switch modes).
        auto active = await(store.writeEntry(1, 0, root));
        QCOMPARE(active.error().code, QStringLiteral("ModemActive"));
        QVERIFY(active.error().message.contains(QStringLiteral("offline mode (AT+CFUN=4)")));

        // Storage full: 515.
        QVERIFY(await(store.write(1, 0, root)));
        auto full = await(store.write(2, 0, root));
        QCOMPARE(full.error().code, QStringLiteral("StorageFull"));
        QVERIFY2(full.error().message.contains(QStringLiteral("storage is full")), TestSupport::why(full).constData());
        QCOMPARE(await(modem->functionalMode()).value_or(-1), 1); // restored after the failure too

        // Without numeric error reports the modem only says ERROR.
        QVERIFY(await(modem->query(AtCommand(QByteArrayLiteral("AT+CMEE=0")), QStringLiteral("x"))));
        auto bare = await(store.remove(9, 0));
        QCOMPARE(bare.error().code, QStringLiteral("ModemError"));
        QVERIFY(bare.error().message.contains(QStringLiteral("without giving a reason")));
    }

    void powerOffWarning()
    {
        auto modem = startAndOpen({QStringLiteral("--power-off-warning")});
        QVERIFY(modem);
        ModemCredentialStore store(*modem);
        const auto refused = await(store.write(1, 4, QByteArrayLiteral("id")));
        QCOMPARE(refused.error().code, QStringLiteral("PowerOffWarning"));
        QVERIFY(refused.error().message.contains(QStringLiteral("supply voltage")));
    }

    void unsolicitedLinesBetweenAnswerLines()
    {
        auto modem = startAndOpen({QStringLiteral("--urc-noise"), QStringLiteral("--urc-interval-ms"),
            QStringLiteral("20"), QStringLiteral("--spaces"), QStringLiteral("--blank-lines")});
        QVERIFY(modem);
        QSignalSpy urcs(modem.get(), &Nrf91Modem::unsolicited);
        ModemCredentialStore store(*modem);
        for (quint32 tag = 1; tag <= 5; ++tag)
            QVERIFY(await(store.write(tag, CredentialType::PskIdentity, "identity-" + QByteArray::number(tag))));
        const QByteArray root = *ModemCredentialStore::prepare(0, TestSupport::amazonRootCa1());
        QVERIFY(await(store.write(6, 0, root)));
        const auto entries = await(store.list());
        QVERIFY(entries);
        QCOMPARE(entries->size(), 6);
        for (const ModemCredential &entry : *entries)
            QCOMPARE(entry.sha256.size(), 64);
        QCOMPARE(await(store.read(6, 0)).value_or(QByteArray()), root); // a multi-line read with noise around it
        const auto identity = await(modem->identity());
        QVERIFY(identity);
        QCOMPARE(identity->imei.size(), 15);
        QCOMPARE(identity->model, QStringLiteral("nRF9160-SICA")); // not a URC taken for the answer
        QVERIFY(urcs.size() > 10);
        for (const QList<QVariant> &urc : std::as_const(urcs))
            QVERIFY(urc.at(0).toByteArray().startsWith('+') || urc.at(0).toByteArray().startsWith('%'));
    }

    void timeoutThenTheNextCommandGetsItsOwnAnswer()
    {
        auto modem = startAndOpen({QStringLiteral("--slow-ms"), QStringLiteral("1200")});
        QVERIFY(modem);
        AtChannel *channel = modem->channel();
        channel->setLateAnswerGraceMs(4000);
        QElapsedTimer clock;
        clock.start();
        const auto late = await(channel->send(AtCommand(QByteArrayLiteral("AT+CGMI")).answeringText().timeout(300)));
        QVERIFY(!late);
        QCOMPARE(late.error().code, QStringLiteral("ModemTimeout"));
        QVERIFY(clock.elapsed() < 1100);
        const auto next = await(channel->send(AtCommand(QByteArrayLiteral("AT+CGMM")).answeringText()));
        QVERIFY(next);
        QCOMPARE(next->lines, QList<QByteArray>{QByteArrayLiteral("nRF9160-SICA")});
    }

    void portVanishesMidCommand()
    {
        auto modem = startAndOpen({QStringLiteral("--slow-ms"), QStringLiteral("1500")});
        QVERIFY(modem);
        QSignalSpy lost(modem.get(), &Nrf91Modem::lost);
        auto pending = modem->identity();
        QTest::qWait(200);
        QElapsedTimer clock;
        clock.start();
        m_sim.stop();
        const auto result = await(pending, 5000);
        QVERIFY(!result);
        QCOMPARE(result.error().code, QStringLiteral("PortLost"));
        QVERIFY2(clock.elapsed() < 2000, QByteArray::number(clock.elapsed()).constData());
        QCOMPARE(lost.size(), 1);
        QVERIFY(!modem->isOpen());
        // Later calls fail at once.
        QCOMPARE(await(modem->functionalMode(), 1000).error().code, QStringLiteral("PortLost"));
    }

    void cancelDropsTheLateAnswer()
    {
        auto modem = startAndOpen({QStringLiteral("--slow-ms"), QStringLiteral("300")});
        QVERIFY(modem);
        auto first = modem->identity();
        QTest::qWait(50);
        modem->cancel();
        QCOMPARE(await(first).error().kind, ErrorKind::Cancelled);
        const auto mode = await(modem->functionalMode());
        QVERIFY2(mode, TestSupport::why(mode).constData());
        QCOMPARE(*mode, 1);
    }

    void keyGeneratedInTheModem()
    {
        auto modem = startAndOpen();
        QVERIFY(modem);
        ModemCredentialStore store(*modem);
        const auto csr = await(store.generateKey(16842753u, QStringLiteral("nrf-352656100367872")));
        QVERIFY2(csr, TestSupport::why(csr).constData());
        QCOMPARE(csr->subjectCommonName(), QStringLiteral("nrf-352656100367872"));
        QVERIFY(csr->toPem().startsWith("-----BEGIN CERTIFICATE REQUEST-----"));
        QVERIFY(csr->check(QStringLiteral("nrf-352656100367872")));
        QCOMPARE(csr->check(QStringLiteral("someone-else")).error().code, QStringLiteral("CsrSubjectUnexpected"));
        // A tampered request does not verify.
        QByteArray der = csr->der();
        der[der.size() - 40] = char(der.at(der.size() - 40) ^ 0x01);
        const QByteArray token = "\"" + der.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals)
            + '.' + csr->cose().toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals) + '"';
        const auto tampered = ModemCsr::fromKeygenAnswer(token);
        QVERIFY(!tampered || !tampered->check(QStringLiteral("nrf-352656100367872")));

        const auto listed = await(store.list(16842753u));
        QCOMPARE(listed->size(), 1);
        QCOMPARE(listed->first().type, int(CredentialType::ClientKey));
        QCOMPARE(
            await(store.generateKey(16842753u, QStringLiteral("x"))).error().code, QStringLiteral("AlreadyExists"));
        QCOMPARE(await(modem->functionalMode()).value_or(-1), 1);
    }
};

QTEST_GUILESS_MAIN(tst_Modem)
#include "tst_modem.moc"
