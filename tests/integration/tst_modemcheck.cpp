// The modem check (`onboarder-cli modem check`, `modem at`, `modem attest`) against two simulated nRF9160s: the
// project's own (sandbox/modem) and tests/modemref/nrf91_refsim.py, written apart from it from Nordic's AT
// reference. Every verdict has a case that puts a simulator into that state.

// The rows and command lines read better with plain literals; this file only.
#undef QT_NO_CAST_FROM_ASCII

#include "clirunner.h"
#include "modemsimfixture.h"
#include "modemtestsupport.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QThread>

using Run = TestSupport::CliRun;

namespace {

// The reference simulator in its own process; the first line it prints is its terminal.
class ReferenceSim final
{
public:
    ~ReferenceSim() { stop(); }
    QString start(const QStringList &arguments)
    {
        stop();
        QByteArray line;
        const QString problem = TestSupport::startAndReadLine(m_process, "python3",
            QStringList{TestSupport::sourcePath("tests/modemref/nrf91_refsim.py"), "--imei", "352656100367872"}
                + arguments,
            &line);
        m_port = QString::fromLocal8Bit(line);
        return problem;
    }
    void stop() { TestSupport::stopProcess(m_process); }
    QString port() const { return m_port; }

private:
    QProcess m_process;
    QString m_port;
};

} // namespace

class tst_ModemCheck : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::ModemSim m_sim;
    ReferenceSim m_reference;

    Run cli(const QStringList &args)
    {
        TestSupport::CliRunner runner;
        runner.environment.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
        runner.environment.insert(QStringLiteral("XDG_DATA_HOME"), m_dir.filePath(QStringLiteral("data")));
        runner.environment.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
        return runner(args);
    }

    // Starts the simulator the row names; "" when ready.
    QString startSimulator(const QString &which, const QStringList &arguments, QString *port)
    {
        if (which == QStringLiteral("own")) {
            const QString problem = m_sim.start(arguments);
            *port = m_sim.port();
            return problem;
        }
        const QString problem = m_reference.start(arguments);
        *port = m_reference.port();
        // The reference simulator's network answers about a second after LTE comes on.
        QThread::msleep(1500);
        return problem;
    }

    static QJsonObject json(const Run &run) { return QJsonDocument::fromJson(run.out).object(); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        REQUIRE_TOOL("python3");
    }

    void verdicts_data()
    {
        QTest::addColumn<QString>("simulator");
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QStringList>("checkArguments");
        QTest::addColumn<QString>("verdict");
        QTest::addColumn<QString>("field"); // a JSON path the case pins, "a/b"
        QTest::addColumn<QVariant>("expected"); // its value

        const QStringList none;
        const auto row = [](const char *name) -> QTestData & { return QTest::newRow(name); };
        // The project's simulator.
        row("own: ready") << "own" << none << none << "ready"
                          << "registration/status" << QVariant(QStringLiteral("home"));
        row("own: no SIM") << "own" << QStringList{"--sim", "none"} << none << "no-sim"
                           << "sim/state" << QVariant(QStringLiteral("absent"));
        row("own: PIN") << "own" << QStringList{"--sim", "pin"} << none << "sim-locked"
                        << "sim/state" << QVariant(QStringLiteral("pin"));
        const QStringList shortWait{"--wait", "2"};
        row("own: searching") << "own" << QStringList{"--network", "searching"} << shortWait << "searching"
                              << "registration/status" << QVariant(QStringLiteral("searching"));
        row("own: denied") << "own" << QStringList{"--network", "denied", "--reject-cause", "7"} << none << "denied"
                           << "registration/rejectCause" << QVariant(7);
        row("own: roaming") << "own" << QStringList{"--network", "roaming"} << none << "ready"
                            << "registration/status" << QVariant(QStringLiteral("roaming"));
        row("own: weak signal") << "own" << QStringList{"--rsrp", "-118"} << none << "weak-signal"
                                << "signal/rsrpDbm" << QVariant(-118);
        row("own: clock a year behind") << "own" << QStringList{"--clock-offset", "-31536000"} << none << "clock-wrong"
                                        << "clock/offsetSeconds" << QVariant(-31536000);
        row("own: no LTE mode") << "own" << QStringList{"--system-mode", "gnss"} << none << "no-lte-mode"
                                << "systemMode/ltem" << QVariant(false);
        row("own: LTE off") << "own" << QStringList{"--cfun", "4"} << none << "lte-off"
                            << "functionalMode" << QVariant(4);
        row("own: LTE on for the check") << "own" << QStringList{"--cfun", "4", "--registration-delay-ms", "1500"}
                                         << QStringList{"--lte-on", "--wait", "20"} << "ready"
                                         << "lteSwitchedOn" << QVariant(true);
        row("own: credentials missing") << "own" << none << QStringList{"--tag", "10"} << "missing-credentials"
                                        << "credentials/rootCa" << QVariant(false);
        // The reference simulator, written from Nordic's AT reference without the project's code.
        row("reference: ready") << "reference" << QStringList{"--scenario", "registered"} << none << "ready"
                                << "cell/plmn" << QVariant(QStringLiteral("00101"));
        row("reference: no SIM") << "reference" << QStringList{"--scenario", "no-sim"} << none << "no-sim"
                                 << "sim/state" << QVariant(QStringLiteral("absent"));
        row("reference: PIN") << "reference" << QStringList{"--scenario", "pin"} << none << "sim-locked"
                              << "sim/state" << QVariant(QStringLiteral("pin"));
        row("reference: searching") << "reference" << QStringList{"--scenario", "searching"} << shortWait << "searching"
                                    << "registration/status" << QVariant(QStringLiteral("searching"));
        row("reference: denied") << "reference" << QStringList{"--scenario", "denied"} << none << "denied"
                                 << "registration/rejectCause" << QVariant(7);
        row("reference: roaming") << "reference" << QStringList{"--scenario", "roaming"} << none << "ready"
                                  << "registration/status" << QVariant(QStringLiteral("roaming"));
        row("reference: weak signal") << "reference" << QStringList{"--scenario", "weak"} << none << "weak-signal"
                                      << "signal/quality" << QVariant(QStringLiteral("poor"));
        row("reference: clock off") << "reference" << QStringList{"--scenario", "clock-off"} << none << "clock-wrong"
                                    << "registration/status" << QVariant(QStringLiteral("home"));
        row("reference: flight mode") << "reference" << QStringList{"--scenario", "flight"} << none << "lte-off"
                                      << "sim/state" << QVariant(QStringLiteral("off"));
        row("reference: LTE on for the check")
            << "reference" << QStringList{"--scenario", "flight"} << QStringList{"--lte-on", "--wait", "20"} << "ready"
            << "sim/state" << QVariant(QStringLiteral("ready"));
    }

    void verdicts()
    {
        QFETCH(QString, simulator);
        QFETCH(QStringList, arguments);
        QFETCH(QStringList, checkArguments);
        QFETCH(QString, verdict);
        QFETCH(QString, field);
        QFETCH(QVariant, expected);

        QString port;
        const QString problem = startSimulator(simulator, arguments, &port);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        const Run run
            = cli(QStringList{"--json", "modem", "check", "--port", port, "--no-flow-control"} + checkArguments);
        const QJsonObject report = json(run);
        QVERIFY2(!report.isEmpty(), run.err.constData());
        QCOMPARE(report.value("verdict").toString(), verdict);
        QCOMPARE(run.exitCode, verdict == QStringLiteral("ready") ? 0 : 4);
        QVERIFY(!report.value("verdictText").toString().isEmpty());
        QVERIFY(report.value("evidence").toArray().size() >= 5);
        if (verdict == QStringLiteral("searching")) // given the time asked for, then judged
            QVERIFY(report.value("registration").toObject().value("waitedMs").toInt() >= 2000);
        QCOMPARE(report.value("identity").toObject().value("imei").toString(), QStringLiteral("352656100367872"));
        QJsonValue value = report;
        for (const QString &part : field.split(u'/'))
            value = value.toObject().value(part);
        QCOMPARE(value.toVariant(), expected);

        // What every check reports, whatever the verdict.
        QVERIFY(report.value("identity").toObject().value("firmware").toString().startsWith("mfw_nrf91"));
        if (verdict == QStringLiteral("ready")) {
            QCOMPARE(report.value("sim").toObject().value("state").toString(), QStringLiteral("ready"));
            QVERIFY(report.value("sim").toObject().value("iccid").toString().size() >= 18);
            QVERIFY(!report.value("sim").toObject().value("iccid").toString().contains(u'F'));
            QVERIFY(report.value("sim").toObject().value("imsi").toString().size() >= 6);
            QVERIFY(report.value("systemMode").toObject().value("ltem").toBool());
            QVERIFY(report.value("signal").toObject().value("rsrpDbm").toInt() < -44);
            QVERIFY(!report.value("registration").toObject().value("tac").toString().isEmpty());
            QVERIFY(!report.value("cell").toObject().value("cellId").toString().isEmpty());
            QVERIFY(report.value("cell").toObject().value("band").toInt() > 0);
        }

        // A check that switched LTE on leaves the modem in the mode it found.
        if (checkArguments.contains(QStringLiteral("--lte-on"))) {
            const Run mode = cli({"modem", "at", "--port", port, "--no-flow-control", "AT+CFUN?"});
            QCOMPARE(mode.exitCode, 0);
            QVERIFY2(mode.out.contains("+CFUN: 4"), mode.out.constData());
        }
    }

    void notAnAtHost_data()
    {
        QTest::addColumn<QString>("simulator");
        QTest::addColumn<QStringList>("arguments");
        QTest::newRow("own") << "own" << QStringList{"--shell"};
        QTest::newRow("reference") << "reference" << QStringList{"--scenario", "not-at-host"};
    }

    void notAnAtHost()
    {
        QFETCH(QString, simulator);
        QFETCH(QStringList, arguments);
        QString port;
        const QString problem = startSimulator(simulator, arguments, &port);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        const Run run = cli({"--json", "modem", "check", "--port", port, "--no-flow-control"});
        QCOMPARE(run.exitCode, 7);
        const QJsonObject error = json(run).value("error").toObject();
        QCOMPARE(error.value("code").toString(), QStringLiteral("NotAnAtHost"));
        QVERIFY(error.value("message").toString().contains(QStringLiteral("at_client")));
    }

    void terminalCommand()
    {
        QVERIFY(m_sim.start().isEmpty());
        const QStringList port{"--port", m_sim.port(), "--no-flow-control"};
        const Run cereg = cli(QStringList{"modem", "at"} + port + QStringList{"AT+CEREG?"});
        QCOMPARE(cereg.exitCode, 0);
        QVERIFY2(cereg.out.startsWith("+CEREG: 0,1"), cereg.out.constData());
        QVERIFY(cereg.out.trimmed().endsWith("OK"));

        const Run refused = cli(QStringList{"--json", "modem", "at"} + port + QStringList{"AT+CFUN=4"});
        QCOMPARE(refused.exitCode, 1);
        const Run mode = cli(QStringList{"modem", "at"} + port + QStringList{"AT+CFUN?"});
        QVERIFY2(mode.out.contains("+CFUN: 1"), mode.out.constData()); // nothing was sent
        const Run confirmed = cli(QStringList{"modem", "at"} + port + QStringList{"--yes", "AT+CFUN=4"});
        QCOMPARE(confirmed.exitCode, 0);
        QVERIFY(cli(QStringList{"modem", "at"} + port + QStringList{"AT+CFUN?"}).out.contains("+CFUN: 4"));

        const Run secret = cli(QStringList{"--json", "modem", "at"} + port
            + QStringList{"AT%CMNG=0,10,2,\"-----BEGIN PRIVATE KEY-----\""});
        QCOMPARE(secret.exitCode, 2);
        QCOMPARE(json(secret).value("error").toObject().value("code").toString(), QStringLiteral("SecretInCommand"));
        QVERIFY(m_sim.storedHashes().value(QStringLiteral("10/2")).isEmpty());

        const Run bad = cli(QStringList{"modem", "at"} + port + QStringList{"AT+NOSUCH"});
        QCOMPARE(bad.exitCode, 7);
        QVERIFY(bad.out.contains("ERROR"));
    }

    void attestationToken()
    {
        for (const QString &simulator : {QStringLiteral("own"), QStringLiteral("reference")}) {
            QString port;
            const QString problem = startSimulator(simulator,
                simulator == QStringLiteral("own") ? QStringList{} : QStringList{"--scenario", "registered"}, &port);
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
            const Run run = cli({"--json", "modem", "attest", "--port", port, "--no-flow-control"});
            QCOMPARE(run.exitCode, 0);
            const QJsonObject token = json(run);
            QCOMPARE(token.value("messageType").toInt(), 1);
            QCOMPARE(token.value("deviceType").toInt(), 3);
            QCOMPARE(token.value("deviceTypeName").toString(), QStringLiteral("nRF9160 SICA"));
            QCOMPARE(token.value("deviceUuid").toString().size(), 36);
            QCOMPARE(token.value("firmwareUuid").toString().size(), 36);
            if (simulator == QStringLiteral("own"))
                QCOMPARE(token.value("firmwareUuid").toString(),
                    m_sim.ready().value("modemUuid").toString().isEmpty()
                        ? QStringLiteral("25c95751-efa4-40d4-8b4a-1dcaab81fac9")
                        : m_sim.ready().value("modemUuid").toString());
        }
    }

    // The whole Azure set flashed into the reference simulator and verified by its hashes, then checked: ready, with
    // the roots and the certificate recognised.
    void flashAndCheckOnTheReference()
    {
        const auto device = TestSupport::deviceCredentials("ref-device-1");
        const QString cert = TestSupport::writeFile(m_dir.filePath("ref-device.pem"), device.certificatePem);
        const QString key = TestSupport::writeFile(m_dir.filePath("ref-device.key"), device.keyPem);
        QString port;
        const QString problem = startSimulator("reference", {"--scenario", "registered"}, &port);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        const Run flashed = cli({"--json", "modem", "flash-azure", "--port", port, "--no-flow-control", "--device",
            "ref-device-1", "--tag", "10", "--secondary-tag", "11", "--cert", cert, "--key", key});
        QVERIFY2(flashed.exitCode == 0, flashed.err.constData());
        const QJsonObject report = json(flashed);
        QCOMPARE(report.value("ok").toBool(), true);
        QCOMPARE(report.value("functionalModeRestored").toBool(), true);
        for (const QJsonValue &slot : report.value("slots").toArray())
            QCOMPARE(slot.toObject().value("state").toString(), QStringLiteral("flashed"));

        const Run checked = cli({"--json", "modem", "check", "--port", port, "--no-flow-control", "--tag", "10"});
        const QJsonObject check = json(checked);
        QCOMPARE(check.value("verdict").toString(), QStringLiteral("ready"));
        const QJsonObject credentials = check.value("credentials").toObject();
        QVERIFY(credentials.value("rootCa").toBool() && credentials.value("clientCertificate").toBool()
            && credentials.value("privateKey").toBool());
        QVERIFY2(
            credentials.value("rootCaKnownAs").toString().contains("DigiCert Global Root G2"), checked.out.constData());
    }

    // A credential write whose tail is lost on the way (a USB bridge overflowing on a long chain) gets no answer:
    // the modem is brought back, says it answers again and what the tag holds, and takes commands again.
    void stalledWrite_data()
    {
        QTest::addColumn<QString>("simulator");
        QTest::addColumn<QStringList>("arguments");
        QTest::newRow("own") << "own" << QStringList{"--stall-write-bytes", "600"};
        QTest::newRow("reference") << "reference"
                                   << QStringList{"--scenario", "registered", "--stall-write-bytes", "600"};
    }

    void stalledWrite()
    {
        QFETCH(QString, simulator);
        QFETCH(QStringList, arguments);
        const auto device = TestSupport::deviceCredentials("stall-device-1");
        const QString cert = TestSupport::writeFile(m_dir.filePath("stall-device.pem"), device.certificatePem);
        const QString key = TestSupport::writeFile(m_dir.filePath("stall-device.key"), device.keyPem);
        QString port;
        const QString problem = startSimulator(simulator, arguments, &port);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        const Run flashed = cli({"--json", "modem", "flash-azure", "--port", port, "--no-flow-control", "--device",
            "stall-device-1", "--tag", "10", "--secondary-tag", "11", "--cert", cert, "--key", key});
        QCOMPARE(flashed.exitCode, 7);
        const QJsonObject error = json(flashed).value("error").toObject();
        QCOMPARE(error.value("code").toString(), QStringLiteral("WriteStalled"));
        const QString message = error.value("message").toString();
        QVERIFY2(message.contains("answers again") && message.contains("nothing was stored"), qPrintable(message));
        QVERIFY(json(flashed).value("functionalModeRestored").toBool());

        const Run after = cli({"modem", "at", "--port", port, "--no-flow-control", "AT+CGMR"});
        QCOMPARE(after.exitCode, 0);
        QVERIFY(after.out.startsWith("mfw_nrf91"));
        const Run listed
            = cli({"--json", "modem", "creds", "list", "--port", port, "--no-flow-control", "--tag", "10"});
        QCOMPARE(listed.exitCode, 0);
        QVERIFY2(!listed.out.contains("\"type\":0") && !listed.out.contains("\"type\": 0"), listed.out.constData());
    }

    // modem creds delete --all: every type in one tag, the others untouched; only with --yes.
    void deleteEveryCredentialInATag()
    {
        QVERIFY(m_sim.start().isEmpty());
        const QStringList port{"--port", m_sim.port(), "--no-flow-control"};
        const QString identity = m_dir.filePath("identity.txt");
        TestSupport::writeFile(identity, "device-1");
        const QString root = TestSupport::sourcePath("resources/certs/digicert-global-root-g2.pem");
        for (const auto &[tag, type, file] : {std::tuple{"20", "root-ca", root},
                 std::tuple{"20", "psk-identity", identity}, std::tuple{"21", "psk-identity", identity}}) {
            const Run written
                = cli(QStringList{"modem", "creds", "write"} + port + QStringList{"--tag", tag, "--type", type, file});
            QVERIFY2(written.exitCode == 0, written.err.constData());
        }
        QCOMPARE(m_sim.storedHashes().keys().filter(QRegularExpression("^2[01]/")).size(), 3);

        const Run unconfirmed = cli(QStringList{"modem", "creds", "delete", "--all", "--tag", "20"} + port);
        QCOMPARE(unconfirmed.exitCode, 1);
        QCOMPARE(m_sim.storedHashes().keys().filter(QRegularExpression("^20/")).size(), 2);

        const Run deleted
            = cli(QStringList{"--json", "modem", "creds", "delete", "--all", "--tag", "20", "--yes"} + port);
        QVERIFY2(deleted.exitCode == 0, deleted.err.constData());
        QCOMPARE(json(deleted).value("deleted").toArray().size(), 2);
        QVERIFY(m_sim.storedHashes().keys().filter(QRegularExpression("^20/")).isEmpty());
        QVERIFY(m_sim.storedHashes().contains("21/4"));
        QCOMPARE(cli(QStringList{"modem", "creds", "delete", "--all", "--tag", "20", "--type", "0", "--yes"} + port)
                     .exitCode,
            1);
    }

    void cleanupTestCase()
    {
        m_sim.stop();
        m_reference.stop();
    }
};

QTEST_GUILESS_MAIN(tst_ModemCheck)
#include "tst_modemcheck.moc"
