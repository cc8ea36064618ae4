// onboarder-cli dps … against the sandbox's Device Provisioning Service (a real sandbox process, the real keychain):
// a DPS added by its connection string and ID scope, enrollments and groups created, test registrations from this
// computer that end in hub devices, and the refusals a technician would meet.
#include "clirunner.h"
#include "modemsimfixture.h"
#include "sandboxprocess.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

using Run = TestSupport::CliRun;

class tst_CliDps : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QProcessEnvironment m_env;
    TestSupport::SandboxProcess m_sandbox;
    QJsonObject m_dps;

    Run cli(const QStringList &args, const QByteArray &input = {})
    {
        TestSupport::CliRunner runner;
        runner.environment = m_env;
        return runner(args, input);
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        m_env = QProcessEnvironment::systemEnvironment();
        m_env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
        m_env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir.filePath(QStringLiteral("data")));
        m_env.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
        const QString started
            = m_sandbox.start(m_dir.filePath(QStringLiteral("hub")), TestSupport::SandboxProcess::dpsArguments());
        QVERIFY2(started.isEmpty(), qPrintable(started));
        m_dps = m_sandbox.ready().value(QStringLiteral("dps")).toObject();
        QVERIFY(!m_dps.value(QStringLiteral("connectionString")).toString().isEmpty());
        QCOMPARE(
            cli(m_sandbox.hubAddArguments(QStringLiteral("sb")), m_sandbox.connectionString().toUtf8()).exitCode, 0);
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("use"), QStringLiteral("sb")}).exitCode, 0);
    }

    void addRefusesTheWrongKindOfConnectionString()
    {
        // A hub's connection string given as a DPS's, and the reverse: each recognised and explained, nothing kept.
        const Run hubAsDps = cli({QStringLiteral("dps"), QStringLiteral("add"), QStringLiteral("wrong"),
                                     QStringLiteral("--id-scope"), QStringLiteral("0ne00ABCDEF")},
            m_sandbox.connectionString().toUtf8());
        QCOMPARE(hubAsDps.exitCode, 2);
        QVERIFY2(hubAsDps.err.contains("hub"), hubAsDps.err.constData());
        const QByteArray dpsString = m_dps.value(QStringLiteral("connectionString")).toString().toUtf8();
        const Run dpsAsHub = cli({QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("wrong")}, dpsString);
        QCOMPARE(dpsAsHub.exitCode, 2);
        QVERIFY2(dpsAsHub.err.contains("Device Provisioning Service"), dpsAsHub.err.constData());
        QVERIFY(!dpsAsHub.err.contains(dpsString));
        const Run noScope = cli({QStringLiteral("dps"), QStringLiteral("add"), QStringLiteral("wrong")}, dpsString);
        QCOMPARE(noScope.exitCode, 2);
        QVERIFY2(noScope.err.contains("ID scope"), noScope.err.constData());
        QCOMPARE(cli({QStringLiteral("--json"), QStringLiteral("dps"), QStringLiteral("list")})
                     .json()[QStringLiteral("dps")]
                     .toArray()
                     .size(),
            0);
    }

    void enrollRegisterAndFindTheDeviceInTheHub()
    {
        const QByteArray dpsString = m_dps.value(QStringLiteral("connectionString")).toString().toUtf8();
        const Run added
            = cli({QStringLiteral("dps"), QStringLiteral("add"), QStringLiteral("sbdps"), QStringLiteral("--id-scope"),
                      m_dps.value(QStringLiteral("idScope")).toString(), QStringLiteral("--ca"), m_sandbox.caFile(),
                      QStringLiteral("--address"), m_dps.value(QStringLiteral("host")).toString(),
                      QStringLiteral("--rest-port"), QString::number(m_dps.value(QStringLiteral("restPort")).toInt()),
                      QStringLiteral("--mqtt-port"), QString::number(m_dps.value(QStringLiteral("mqttPort")).toInt())},
                dpsString);
        QVERIFY2(added.exitCode == 0, added.err.constData());

        // A symmetric-key enrollment: DPS makes the keys; they are masked unless asked for.
        const Run created = cli({QStringLiteral("dps"), QStringLiteral("enrollment"), QStringLiteral("create"),
            QStringLiteral("sym-1"), QStringLiteral("--auth"), QStringLiteral("symmetric-key")});
        QVERIFY2(created.exitCode == 0, created.err.constData());
        const Run shown = cli({QStringLiteral("--json"), QStringLiteral("dps"), QStringLiteral("enrollment"),
            QStringLiteral("show"), QStringLiteral("sym-1")});
        QCOMPARE(shown.exitCode, 0);
        QVERIFY2(
            shown.json()[QStringLiteral("attestation")][QStringLiteral("symmetricKey")][QStringLiteral("primaryKey")]
                    .toString()
                == QStringLiteral("********"),
            "the key is masked without --reveal"); // a failure does not print the key
        const Run revealed = cli({QStringLiteral("--json"), QStringLiteral("dps"), QStringLiteral("enrollment"),
            QStringLiteral("show"), QStringLiteral("sym-1"), QStringLiteral("--reveal")});
        QVERIFY(
            QByteArray::fromBase64(
                revealed
                    .json()[QStringLiteral("attestation")][QStringLiteral("symmetricKey")][QStringLiteral("primaryKey")]
                    .toString()
                    .toLatin1())
                .size()
            >= 16);
        // Created twice: refused, nothing changed.
        QCOMPARE(cli({QStringLiteral("dps"), QStringLiteral("enrollment"), QStringLiteral("create"),
                         QStringLiteral("sym-1"), QStringLiteral("--auth"), QStringLiteral("symmetric-key")})
                     .exitCode,
            4);

        // The test registration: the device is assigned to the sandbox hub and exists there.
        const Run registered = cli(
            {QStringLiteral("--json"), QStringLiteral("dps"), QStringLiteral("register"), QStringLiteral("sym-1")});
        QVERIFY2(registered.exitCode == 0, registered.err.constData());
        QCOMPARE(registered.json()[QStringLiteral("deviceId")].toString(), QStringLiteral("sym-1"));
        QCOMPARE(registered.json()[QStringLiteral("assignedHub")].toString(), m_sandbox.hostName());
        QCOMPARE(cli({QStringLiteral("device"), QStringLiteral("show"), QStringLiteral("sym-1")}).exitCode, 0);
        const Run state = cli({QStringLiteral("--json"), QStringLiteral("dps"), QStringLiteral("registration"),
            QStringLiteral("show"), QStringLiteral("sym-1")});
        QCOMPARE(state.json()[QStringLiteral("status")].toString(), QStringLiteral("assigned"));

        // An X.509 enrollment with the certificate kept here: the hub device gets that certificate's thumbprint.
        QCOMPARE(cli({QStringLiteral("cred"), QStringLiteral("generate"), QStringLiteral("x509-1")}).exitCode, 0);
        const Run x509 = cli(
            {QStringLiteral("dps"), QStringLiteral("enrollment"), QStringLiteral("create"), QStringLiteral("x509-1")});
        QVERIFY2(x509.exitCode == 0,
            QByteArray("exit " + QByteArray::number(x509.exitCode) + ": " + x509.err + x509.out).constData());
        const Run registeredX509 = cli(
            {QStringLiteral("--json"), QStringLiteral("dps"), QStringLiteral("register"), QStringLiteral("x509-1")});
        QVERIFY2(registeredX509.exitCode == 0, registeredX509.err.constData());
        const QString thumbprint
            = cli({QStringLiteral("--json"), QStringLiteral("cred"), QStringLiteral("show"), QStringLiteral("x509-1")})
                  .json()[QStringLiteral("thumbprintSha1")]
                  .toString();
        const Run device = cli(
            {QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("show"), QStringLiteral("x509-1")});
        QVERIFY(!thumbprint.isEmpty());
        QCOMPARE(device
                     .json()[QStringLiteral("authentication")][QStringLiteral("x509Thumbprint")]
                            [QStringLiteral("primaryThumbprint")]
                     .toString(),
            thumbprint);

        // A symmetric-key group: a member registers with the key derived from the group's.
        QCOMPARE(cli({QStringLiteral("dps"), QStringLiteral("group"), QStringLiteral("create"), QStringLiteral("fleet"),
                         QStringLiteral("--auth"), QStringLiteral("symmetric-key")})
                     .exitCode,
            0);
        const Run member = cli({QStringLiteral("--json"), QStringLiteral("dps"), QStringLiteral("register"),
            QStringLiteral("fleet-007"), QStringLiteral("--group"), QStringLiteral("fleet")});
        QVERIFY2(member.exitCode == 0, member.err.constData());
        QCOMPARE(member.json()[QStringLiteral("deviceId")].toString(), QStringLiteral("fleet-007"));
        const Run derived = cli(
            {QStringLiteral("--json"), QStringLiteral("dps"), QStringLiteral("group"), QStringLiteral("device-key"),
                QStringLiteral("fleet"), QStringLiteral("fleet-007"), QStringLiteral("--reveal")});
        const Run hubDevice = cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("show"),
            QStringLiteral("fleet-007"), QStringLiteral("--reveal")});
        // Compared without printing either key on a failure.
        const QString derivedKey = derived.json()[QStringLiteral("deviceKey")].toString();
        QVERIFY2(!derivedKey.isEmpty() && derivedKey != QStringLiteral("********"),
            "the derived key is shown with --reveal");
        QVERIFY2(hubDevice
                     .json()[QStringLiteral("authentication")][QStringLiteral("symmetricKey")]
                            [QStringLiteral("primaryKey")]
                     .toString()
                == derivedKey,
            "the hub device's key is the key derived from the group's");

        // Disabled: enrolled, refused with its reason, and no device made in the hub.
        QCOMPARE(
            cli({QStringLiteral("dps"), QStringLiteral("enrollment"), QStringLiteral("create"), QStringLiteral("off-1"),
                    QStringLiteral("--auth"), QStringLiteral("symmetric-key"), QStringLiteral("--disabled")})
                .exitCode,
            0);
        const Run disabled = cli({QStringLiteral("dps"), QStringLiteral("register"), QStringLiteral("off-1")});
        QVERIFY2(disabled.exitCode == 5, disabled.err.constData());
        QVERIFY2(disabled.err.contains("disabled"), disabled.err.constData());
        QCOMPARE(cli({QStringLiteral("device"), QStringLiteral("show"), QStringLiteral("off-1")}).exitCode, 3);

        // Listed, deleted, gone.
        const Run listed = cli(
            {QStringLiteral("--json"), QStringLiteral("dps"), QStringLiteral("enrollment"), QStringLiteral("list")});
        QCOMPARE(listed.json()[QStringLiteral("enrollments")].toArray().size(), 3);
        QCOMPARE(cli({QStringLiteral("dps"), QStringLiteral("enrollment"), QStringLiteral("delete"),
                         QStringLiteral("off-1")})
                     .exitCode,
            0);
        QCOMPARE(
            cli({QStringLiteral("dps"), QStringLiteral("enrollment"), QStringLiteral("show"), QStringLiteral("off-1")})
                .exitCode,
            3);
    }

    void provisionThroughDps()
    {
        // The station's DPS path from the command line: enrolled, flashed, registered from the bench, the hub device
        // found.
        TestSupport::ModemSim sim;
        QCOMPARE(sim.start({QStringLiteral("--imei"), QStringLiteral("356100000000073")}), QString());
        const QString path = m_dir.filePath(QStringLiteral("dps-profile.json"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(
            "{\"hub\": \"sb\", \"registration\": \"dps\", \"dps\": \"sbdps\", \"deviceIdTemplate\": \"cli-{imei6}\"}");
        file.close();
        const Run provisioned = cli({QStringLiteral("--json"), QStringLiteral("provision"), QStringLiteral("--profile"),
            path, QStringLiteral("--port"), sim.port()});
        QVERIFY2(provisioned.exitCode == 0, provisioned.err.constData());
        const QList<QByteArray> lines = provisioned.out.trimmed().split('\n');
        const QJsonObject report = QJsonDocument::fromJson(lines.last()).object();
        QCOMPARE(report.value(QStringLiteral("result")).toString(), QStringLiteral("passed"));
        QCOMPARE(report.value(QStringLiteral("enrollment")).toString(), QStringLiteral("created"));
        QCOMPARE(report.value(QStringLiteral("registrationId")).toString(), QStringLiteral("cli-000073"));
        QCOMPARE(report.value(QStringLiteral("idScope")).toString(), m_dps.value(QStringLiteral("idScope")).toString());
        QCOMPARE(report.value(QStringLiteral("assignedHub")).toString(), m_sandbox.hostName());
        const Run enrollment = cli({QStringLiteral("--json"), QStringLiteral("dps"), QStringLiteral("enrollment"),
            QStringLiteral("show"), QStringLiteral("cli-000073")});
        QCOMPARE(enrollment.exitCode, 0);
        QCOMPARE(cli({QStringLiteral("device"), QStringLiteral("show"), QStringLiteral("cli-000073")}).exitCode, 0);

        // A profile naming a DPS that was not added: explained, nothing done.
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write("{\"hub\": \"sb\", \"registration\": \"dps\", \"dps\": \"nowhere\"}");
        file.close();
        const Run unknown = cli(
            {QStringLiteral("provision"), QStringLiteral("--profile"), path, QStringLiteral("--port"), sim.port()});
        QCOMPARE(unknown.exitCode, 3);
        QVERIFY2(unknown.err.contains("nowhere"), unknown.err.constData());
    }

    void cleanupTestCase()
    {
        cli({QStringLiteral("dps"), QStringLiteral("remove"), QStringLiteral("sbdps")});
        cli({QStringLiteral("hub"), QStringLiteral("remove"), QStringLiteral("sb")});
        m_sandbox.stop();
    }
};

QTEST_GUILESS_MAIN(tst_CliDps)
#include "tst_clidps.moc"
