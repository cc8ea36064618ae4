// onboarder-cli provision against a sandbox hub process, simulated modems and the real keychain: --all over
// the extra ports with JSON Lines progress, a re-run that reuses everything, a profile error, the audit log
// as CSV without secrets.
#include "clirunner.h"
#include "modemsimfixture.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

using Run = TestSupport::CliRun;

class tst_CliProvision : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QProcessEnvironment m_env;
    QProcess m_sandbox;
    TestSupport::ModemSim m_sims[2];

    Run cli(const QStringList &args, const QByteArray &input = {})
    {
        TestSupport::CliRunner runner;
        runner.environment = m_env;
        return runner(args, input);
    }

    QString writeProfile(const QString &name, const QByteArray &json)
    {
        const QString path = m_dir.filePath(name);
        QFile file(path);
        file.open(QIODevice::WriteOnly);
        file.write(json);
        return path;
    }

    static QList<QJsonObject> lines(const QByteArray &out)
    {
        QList<QJsonObject> objects;
        for (const QByteArray &line : out.split('\n')) {
            if (!line.isEmpty())
                objects.append(QJsonDocument::fromJson(line).object());
        }
        return objects;
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        m_env = TestSupport::cliEnvironment(m_dir.path());
        m_sandbox.start(TestSupport::buildPath(QStringLiteral("sandbox/hub/onboarder-sandbox")),
            {QStringLiteral("--data"), m_dir.filePath(QStringLiteral("hub")), QStringLiteral("--ready-json")});
        QVERIFY(m_sandbox.waitForReadyRead(20000));
        const QJsonObject ready = QJsonDocument::fromJson(m_sandbox.readLine()).object();
        QCOMPARE(cli({QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("sb"), QStringLiteral("--ca"),
                         ready.value(QStringLiteral("caFile")).toString(), QStringLiteral("--rest-port"),
                         QString::number(ready.value(QStringLiteral("restPort")).toInt())},
                     ready.value(QStringLiteral("connectionString")).toString().toUtf8())
                     .exitCode,
            0);
        QCOMPARE(m_sims[0].start({QStringLiteral("--imei"), QStringLiteral("356000000000018")}), QString());
        QCOMPARE(m_sims[1].start({QStringLiteral("--imei"), QStringLiteral("356000000000026")}), QString());
        m_env.insert(QStringLiteral("ONBOARDER_EXTRA_PORTS"), m_sims[0].port() + u':' + m_sims[1].port());
    }

    void cleanupTestCase()
    {
        m_sandbox.terminate();
        m_sandbox.waitForFinished(5000);
    }

    void provisionAllWithJsonLines()
    {
        const QString profile = writeProfile(QStringLiteral("profile.json"),
            "{\"hub\": \"sb\", \"deviceIdTemplate\": \"cli-{imei6}\", \"auth\": \"x509-self-signed\", "
            "\"keyBirth\": \"pc\", \"secTag\": 10, \"secondarySecTag\": 11, \"twinTags\": {\"site\": \"bench-2\"}}");
        const Run run = cli({QStringLiteral("--json"), QStringLiteral("provision"), QStringLiteral("--profile"),
            profile, QStringLiteral("--all"), QStringLiteral("--operator"), QStringLiteral("ci")});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const auto events = lines(run.out);
        QStringList devices;
        int steps = 0;
        for (const QJsonObject &event : events) {
            if (event.value(QStringLiteral("event")) == QStringLiteral("step"))
                ++steps;
            if (event.value(QStringLiteral("event")) == QStringLiteral("result")) {
                QCOMPARE(event.value(QStringLiteral("result")).toString(), QStringLiteral("passed"));
                QCOMPARE(event.value(QStringLiteral("hubDevice")).toString(), QStringLiteral("created"));
                devices.append(event.value(QStringLiteral("deviceId")).toString());
                // The hub knows the certificate the CLI reports, and the modem holds it.
                const Run show = cli({QStringLiteral("--hub"), QStringLiteral("sb"), QStringLiteral("--json"),
                    QStringLiteral("device"), QStringLiteral("show"), devices.last()});
                QCOMPARE(show.exitCode, 0);
                QVERIFY(show.out.toUpper().contains(event.value(QStringLiteral("thumbprint")).toString().toUtf8()));
            }
        }
        devices.sort();
        QCOMPARE(devices, (QStringList{QStringLiteral("cli-000018"), QStringLiteral("cli-000026")}));
        QVERIFY(steps >= 2 * 10);
        for (const auto &sim : m_sims)
            QCOMPARE(sim.storedHashes().value(QStringLiteral("10/1")).size(), 64);

        // Once more: found, not made again.
        const Run again = cli({QStringLiteral("provision"), QStringLiteral("--profile"), profile,
            QStringLiteral("--port"), m_sims[0].port()});
        QVERIFY2(again.exitCode == 0, again.err.constData());
        QVERIFY(again.out.contains("reused"));
        QVERIFY(again.out.contains("passed"));
    }

    void profileErrorsAreExplained()
    {
        const QString profile = writeProfile(QStringLiteral("bad.json"), "{\"hub\": \"sb\", \"keyBirth\": \"modem\"}");
        const Run run
            = cli({QStringLiteral("provision"), QStringLiteral("--profile"), profile, QStringLiteral("--all")});
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains("x509-ca"), run.err.constData());
        QCOMPARE(cli({QStringLiteral("provision"), QStringLiteral("--profile"), profile}).exitCode, 1);
        const QString otherHub = writeProfile(QStringLiteral("other.json"), "{\"hub\": \"nowhere\"}");
        QCOMPARE(
            cli({QStringLiteral("provision"), QStringLiteral("check"), QStringLiteral("--profile"), otherHub}).exitCode,
            3);
    }

    void auditAsCsvWithoutSecrets()
    {
        const Run csv = cli({QStringLiteral("provision"), QStringLiteral("audit"), QStringLiteral("--csv")});
        QCOMPARE(csv.exitCode, 0);
        QVERIFY(csv.out.startsWith("time,operator,station,"));
        QCOMPARE(csv.out.count("\r\n"), 1 + 3);
        QVERIFY(csv.out.contains(",ci,"));
        QDir data(m_dir.filePath(QStringLiteral("data/onboarder/audit")));
        QFile log(data.filePath(QStringLiteral("provisioning.jsonl")));
        QVERIFY2(log.open(QIODevice::ReadOnly), qPrintable(log.fileName()));
        const QByteArray raw = log.readAll();
        QCOMPARE(raw.count('\n'), 3);
        QVERIFY(!raw.contains("PRIVATE KEY"));
        QVERIFY(!raw.contains("SharedAccessKey"));
    }
};

QTEST_GUILESS_MAIN(tst_CliProvision)
#include "tst_cliprovision.moc"
