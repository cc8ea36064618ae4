// onboarder-cli modem … against the simulator: every verb, its output and its exit code.
#include "clirunner.h"
#include "credentials/certificate.h"
#include "credentials/keypair.h"
#include "modem/modemcredentialstore.h"
#include "modemsimfixture.h"
#include "modemtestsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

using Run = TestSupport::CliRun;

class tst_CliModem : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::ModemSim m_sim;
    QString m_cert;
    QString m_key;
    QByteArray m_keyPem;

    Run cli(const QStringList &args, const QByteArray &input = {}, const QStringList &environment = {})
    {
        TestSupport::CliRunner runner;
        runner.environment.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
        runner.environment.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
        for (const QString &variable : environment)
            runner.environment.insert(variable.section(u'=', 0, 0), variable.section(u'=', 1));
        return runner(args, input);
    }

    QStringList port() const { return {QStringLiteral("--port"), m_sim.port()}; }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_sim.start().isEmpty());
        const auto device = TestSupport::deviceCredentials(QStringLiteral("cli-device-1"));
        m_cert = m_dir.filePath(QStringLiteral("device.pem"));
        m_key = m_dir.filePath(QStringLiteral("device.key"));
        m_keyPem = device.keyPem;
        QFile cert(m_cert), key(m_key);
        QVERIFY(cert.open(QIODevice::WriteOnly) && cert.write(device.certificatePem) > 0);
        QVERIFY(key.open(QIODevice::WriteOnly) && key.write(device.keyPem) > 0);
    }

    void list()
    {
        const QString extra = QStringLiteral("ONBOARDER_EXTRA_PORTS=/nonexistent/port:") + m_sim.port();
        const Run human = cli({QStringLiteral("modem"), QStringLiteral("list")}, {}, {extra});
        QCOMPARE(human.exitCode, 0);
        QVERIFY2(human.out.contains(m_sim.port().toUtf8()), human.out.constData());
        QVERIFY(!human.out.contains("/nonexistent/port"));

        const Run probed = cli(
            {QStringLiteral("--json"), QStringLiteral("modem"), QStringLiteral("list"), QStringLiteral("--probe")}, {},
            {extra});
        QCOMPARE(probed.exitCode, 0);
        const QJsonArray ports = probed.json().array();
        const auto sim = std::find_if(ports.cbegin(), ports.cend(),
            [this](const QJsonValue &p) { return p[QStringLiteral("path")].toString() == m_sim.port(); });
        QVERIFY(sim != ports.cend());
        QCOMPARE((*sim)[QStringLiteral("extra")].toBool(), true);
        QCOMPARE((*sim)[QStringLiteral("role")].toString(), QStringLiteral("at"));
        QCOMPARE((*sim)[QStringLiteral("probed")].toBool(), true);

        // Without --port, the only modem there is is taken.
        const Run info = cli({QStringLiteral("--json"), QStringLiteral("modem"), QStringLiteral("info")}, {}, {extra});
        QCOMPARE(info.exitCode, 0);
        QCOMPARE(info.json()[QStringLiteral("port")].toString(), m_sim.port());
    }

    void info()
    {
        const Run human = cli(QStringList{QStringLiteral("modem"), QStringLiteral("info")} + port());
        QVERIFY2(human.exitCode == 0, human.err.constData());
        QVERIFY(human.out.contains("352656100367872"));
        QVERIFY(human.out.contains("1 (normal: LTE on)"));
        const Run json
            = cli(QStringList{QStringLiteral("--json"), QStringLiteral("modem"), QStringLiteral("info")} + port());
        QCOMPARE(json.json()[QStringLiteral("model")].toString(), QStringLiteral("nRF9160-SICA"));
        QCOMPARE(json.json()[QStringLiteral("functionalMode")].toInt(), 1);

        const Run missing = cli({QStringLiteral("modem"), QStringLiteral("info"), QStringLiteral("--port"),
            QStringLiteral("/dev/no-such-modem")});
        QCOMPARE(missing.exitCode, 7);
        QVERIFY(missing.err.contains("There is no serial port /dev/no-such-modem"));
    }

    void credsWriteListDelete()
    {
        const QStringList write{QStringLiteral("modem"), QStringLiteral("creds"), QStringLiteral("write")};
        const Run written = cli(write + port()
            + QStringList{QStringLiteral("--tag"), QStringLiteral("42"), QStringLiteral("--type"),
                QStringLiteral("client-cert"), m_cert});
        QVERIFY2(written.exitCode == 0, written.err.constData());
        QVERIFY(written.out.contains("verified"));
        // The key from standard input, as a number type.
        const Run key = cli(QStringList{QStringLiteral("--json")} + write + port()
                + QStringList{QStringLiteral("--tag"), QStringLiteral("42"), QStringLiteral("--type"),
                    QStringLiteral("2"), QStringLiteral("-")},
            m_keyPem);
        QVERIFY2(key.exitCode == 0, key.err.constData());
        QCOMPARE(key.json()[QStringLiteral("typeName")].toString(), QStringLiteral("client-key"));
        QCOMPARE(key.json()[QStringLiteral("verified")].toBool(), true);

        const Run listed = cli(QStringList{QStringLiteral("--json"), QStringLiteral("modem"), QStringLiteral("creds"),
                                   QStringLiteral("list")}
            + port() + QStringList{QStringLiteral("--tag"), QStringLiteral("42")});
        QCOMPARE(listed.exitCode, 0);
        QCOMPARE(listed.json().array().size(), 2);
        QCOMPARE(listed.json().array().at(1)[QStringLiteral("sha256")].toString(),
            key.json()[QStringLiteral("sha256")].toString());
        const Run all = cli(QStringList{QStringLiteral("--json"), QStringLiteral("modem"), QStringLiteral("creds"),
                                QStringLiteral("list")}
            + port() + QStringList{QStringLiteral("--all")});
        QVERIFY(all.json().array().size() > 2); // the modem's own tags too

        const QStringList remove{QStringLiteral("modem"), QStringLiteral("creds"), QStringLiteral("delete")};
        const QStringList keyArgs{
            QStringLiteral("--tag"), QStringLiteral("42"), QStringLiteral("--type"), QStringLiteral("client-key")};
        QCOMPARE(cli(remove + port() + keyArgs).exitCode, 0);
        const Run absent = cli(remove + port() + keyArgs);
        QCOMPARE(absent.exitCode, 3);
        QVERIFY(absent.err.contains("nothing is stored there"));

        // Usage and input errors never reach the modem.
        QCOMPARE(cli(remove + port()
                     + QStringList{QStringLiteral("--tag"), QStringLiteral("4294967292"), QStringLiteral("--type"),
                         QStringLiteral("0")})
                     .exitCode,
            2);
        QCOMPARE(cli(remove + port() + QStringList{QStringLiteral("--tag"), QStringLiteral("1")}).exitCode, 1);
        QCOMPARE(cli(write + port()
                     + QStringList{QStringLiteral("--tag"), QStringLiteral("1"), QStringLiteral("--type"),
                         QStringLiteral("bogus"), m_cert})
                     .exitCode,
            1);
        QCOMPARE(cli(write + port()
                     + QStringList{QStringLiteral("--tag"), QStringLiteral("1"), QStringLiteral("--type"),
                         QStringLiteral("root-ca"), m_key})
                     .exitCode,
            2);
        QCOMPARE(cli({QStringLiteral("modem"), QStringLiteral("creds"), QStringLiteral("rename")}).exitCode, 1);
    }

    void flashAzure()
    {
        const QStringList flash
            = QStringList{QStringLiteral("--json"), QStringLiteral("modem"), QStringLiteral("flash-azure")} + port()
            + QStringList{QStringLiteral("--device"), QStringLiteral("cli-device-1"), QStringLiteral("--tag"),
                QStringLiteral("10"), QStringLiteral("--secondary-tag"), QStringLiteral("11"), QStringLiteral("--cert"),
                m_cert, QStringLiteral("--key"), m_key};
        const Run run = cli(flash, {}, {QStringLiteral("QT_LOGGING_RULES=onboarder.modem*.debug=true")});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject report = run.json().object();
        QCOMPARE(report[QStringLiteral("ok")].toBool(), true);
        QCOMPARE(report[QStringLiteral("functionalModeRestored")].toBool(), true);
        const QJsonArray slots = report[QStringLiteral("slots")].toArray();
        QCOMPARE(slots.size(), 4);
        for (const QJsonValue &slot : slots)
            QCOMPARE(slot[QStringLiteral("state")].toString(), QStringLiteral("flashed"));
        QCOMPARE(m_sim.storedHashes().value(QStringLiteral("10/2")),
            slots.at(3)[QStringLiteral("expectedSha256")].toString());
        // The private key reaches the modem, but neither the output nor the debug log.
        const QByteArray keyBody = m_keyPem.split('\n').value(1);
        QVERIFY(keyBody.size() > 20);
        QVERIFY(!run.out.contains(keyBody));
        QVERIFY(!run.err.contains(keyBody));
        QVERIFY(run.err.contains("AT%CMNG=0,10,2,<secret")); // the debug log was on

        // The wrong device, and no certificate at all.
        QStringList wrong = flash;
        wrong[wrong.indexOf(QStringLiteral("cli-device-1"))] = QStringLiteral("someone-else");
        QCOMPARE(cli(wrong).exitCode, 2);
        QCOMPARE(cli(flash.mid(0, flash.indexOf(QStringLiteral("--cert")))).exitCode, 1);
    }

    void flashAzureFromTheKeychain()
    {
        // Without --cert and --key: the certificate and key that cred generate keeps for the device.
        REQUIRE_TEST_SESSION();
        const QByteArray hub = "HostName=field.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey="
            + TestSupport::randomKey().toUtf8();
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("field")}, hub).exitCode, 0);
        const Run made = cli({QStringLiteral("--hub"), QStringLiteral("field"), QStringLiteral("cred"),
            QStringLiteral("generate"), QStringLiteral("nrf-kept-1")});
        QVERIFY2(made.exitCode == 0, made.err.constData());
        const QStringList flash = QStringList{QStringLiteral("--json"), QStringLiteral("--hub"),
                                      QStringLiteral("field"), QStringLiteral("modem"), QStringLiteral("flash-azure")}
            + port() + QStringList{QStringLiteral("--tag"), QStringLiteral("20"), QStringLiteral("--device")};
        const Run run = cli(flash + QStringList{QStringLiteral("nrf-kept-1")});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QCOMPARE(run.json().object()[QStringLiteral("ok")].toBool(), true);
        const Run shown = cli({QStringLiteral("--json"), QStringLiteral("--hub"), QStringLiteral("field"),
            QStringLiteral("cred"), QStringLiteral("show"), QStringLiteral("nrf-kept-1")});
        const QByteArray kept
            = shown.json().object()[QStringLiteral("certificate")][QStringLiteral("pem")].toString().toLatin1();
        QVERIFY(kept.startsWith("-----BEGIN CERTIFICATE-----"));
        QCOMPARE(m_sim.storedHashes().value(QStringLiteral("20/1")),
            Onboarder::ModemCredentialStore::sha256Hex(*Onboarder::ModemCredentialStore::prepare(1, kept)));
        QVERIFY(m_sim.storedHashes().contains(QStringLiteral("20/2")));
        // A device with nothing kept here: not found, and the modem untouched.
        const Run nobody = cli(flash + QStringList{QStringLiteral("nrf-nobody")});
        QCOMPARE(nobody.exitCode, 3);
        QVERIFY(!nobody.err.isEmpty() || !nobody.out.isEmpty());
        cli({QStringLiteral("--hub"), QStringLiteral("field"), QStringLiteral("cred"), QStringLiteral("delete"),
            QStringLiteral("nrf-kept-1"), QStringLiteral("--yes")});
        cli({QStringLiteral("hub"), QStringLiteral("remove"), QStringLiteral("field")});
    }

    void flashAzureFailsPartWay()
    {
        TestSupport::ModemSim failing;
        QVERIFY(failing.start({QStringLiteral("--fail-write"), QStringLiteral("3:515")}).isEmpty());
        const Run run = cli({QStringLiteral("--json"), QStringLiteral("modem"), QStringLiteral("flash-azure"),
            QStringLiteral("--port"), failing.port(), QStringLiteral("--device"), QStringLiteral("cli-device-1"),
            QStringLiteral("--tag"), QStringLiteral("10"), QStringLiteral("--secondary-tag"), QStringLiteral("11"),
            QStringLiteral("--cert"), m_cert, QStringLiteral("--key"), m_key});
        QCOMPARE(run.exitCode, 7);
        const QJsonObject report = run.json().object(); // one JSON document, with the error in it
        QCOMPARE(report[QStringLiteral("ok")].toBool(), false);
        QCOMPARE(report[QStringLiteral("error")][QStringLiteral("code")].toString(), QStringLiteral("StorageFull"));
        QCOMPARE(report[QStringLiteral("error")][QStringLiteral("exitCode")].toInt(), 7);
        const QJsonArray slots = report[QStringLiteral("slots")].toArray();
        QStringList states;
        for (const QJsonValue &slot : slots)
            states.append(slot[QStringLiteral("state")].toString());
        QCOMPARE(states,
            (QStringList{QStringLiteral("flashed"), QStringLiteral("flashed"), QStringLiteral("absent"),
                QStringLiteral("absent")}));
        QVERIFY(run.err.contains(
            "error: Writing the client certificate in security tag 10 failed: the modem's credential storage is full"));

        const Run human = cli({QStringLiteral("modem"), QStringLiteral("flash-azure"), QStringLiteral("--port"),
            failing.port(), QStringLiteral("--device"), QStringLiteral("cli-device-1"), QStringLiteral("--tag"),
            QStringLiteral("10"), QStringLiteral("--secondary-tag"), QStringLiteral("11"), QStringLiteral("--cert"),
            m_cert, QStringLiteral("--key"), m_key});
        QCOMPARE(human.exitCode, 0); // the simulator fails only its third write; the roots are there already
        QVERIFY(human.err.contains("[3/7] DigiCert Global Root G2 is in security tag 10 already"));
    }

    void keygen()
    {
        const QString out = m_dir.filePath(QStringLiteral("request.pem"));
        const Run run = cli(QStringList{QStringLiteral("modem"), QStringLiteral("keygen")} + port()
            + QStringList{QStringLiteral("--tag"), QStringLiteral("30"), QStringLiteral("--device"),
                QStringLiteral("cli-device-2"), QStringLiteral("--out"), out});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QFile file(out);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray pem = file.readAll();
        QVERIFY(pem.startsWith("-----BEGIN CERTIFICATE REQUEST-----"));
        // openssl agrees: the signature verifies and the subject is the device.
        QProcess openssl;
        openssl.start(QStringLiteral("openssl"),
            {QStringLiteral("req"), QStringLiteral("-in"), out, QStringLiteral("-noout"), QStringLiteral("-verify"),
                QStringLiteral("-subject")});
        QVERIFY(openssl.waitForFinished(10000));
        const QByteArray said = openssl.readAllStandardOutput() + openssl.readAllStandardError();
        QVERIFY2(openssl.exitCode() == 0 && said.contains("CN = cli-device-2") && said.contains("verify OK"),
            said.constData());
        // A second key in the same tag is refused by the modem.
        const Run again = cli(QStringList{QStringLiteral("modem"), QStringLiteral("keygen")} + port()
            + QStringList{
                QStringLiteral("--tag"), QStringLiteral("30"), QStringLiteral("--device"), QStringLiteral("x")});
        QCOMPARE(again.exitCode, 7);
    }
};

QTEST_GUILESS_MAIN(tst_CliModem)
#include "tst_climodem.moc"
