// packaging/systemd/onboarder-keyring-session, the headless relay's keychain: a private D-Bus session and a
// gnome-keyring whose persistent login keyring is unlocked with a password from a file (a systemd credential).
// Run as the current user with a scratch HOME, the way onboarder-relay.service runs it as "onboarder":
// a hub added in one session is there and usable in the next, the keyring on disk is not plaintext, a wrong
// password fails clearly, and SIGTERM reaches the command (systemctl stop).
#include "clirun.h"
#include "sandboxprocess.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QScopeGuard>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <unistd.h>

namespace {

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

} // namespace

class tst_KeyringSession : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_home;
    QString m_credentials; // what systemd's LoadCredential= makes: a directory with the file keyring-password
    QByteArray m_password;
    TestSupport::SandboxProcess m_sandbox;

    static QString wrapper()
    {
        return TestSupport::sourcePath(QStringLiteral("packaging/systemd/onboarder-keyring-session"));
    }
    static QString cliPath() { return TestSupport::buildPath(QStringLiteral("app/onboarder-cli")); }

    // The service user's environment: its own HOME (keyring and hub profiles below it), no session bus.
    QProcessEnvironment environment(bool withCredentials = true) const
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const char *name : {"DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL", "SSH_AUTH_SOCK",
                 "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "CREDENTIALS_DIRECTORY"})
            env.remove(QString::fromLatin1(name));
        env.insert(QStringLiteral("HOME"), m_home);
        env.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
        if (withCredentials)
            env.insert(QStringLiteral("CREDENTIALS_DIRECTORY"), m_credentials);
        return env;
    }

    // The wrapper in a process group of its own (with its bus, keyring daemon and command): whatever a failing
    // test leaves running is killed with the group.
    static void startInOwnGroup(QProcess &process, const QStringList &args)
    {
        process.setChildProcessModifier([] { ::setsid(); });
        process.start(wrapper(), args);
    }

    static void killGroup(qint64 pid)
    {
        if (pid > 0)
            ::kill(-pid_t(pid), SIGKILL);
    }

    static Run run(const QProcessEnvironment &env, const QStringList &args, const QByteArray &input = {})
    {
        QProcess process;
        process.setProcessEnvironment(env);
        startInOwnGroup(process, args);
        if (!process.waitForStarted(10000))
            return {-1, {}, process.errorString().toUtf8()};
        const auto leftovers = qScopeGuard([pid = process.processId()] { killGroup(pid); });
        process.write(input);
        process.closeWriteChannel();
        if (!process.waitForFinished(120000)) {
            process.kill();
            process.waitForFinished();
            return {-2, process.readAllStandardOutput(), "did not finish within 120 s"};
        }
        return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -3, process.readAllStandardOutput(),
            process.readAllStandardError()};
    }

    QString keyringFile() const { return m_home + QStringLiteral("/.local/share/keyrings/login.keyring"); }

    // The device ids `device list` printed (JSON).
    static QStringList deviceIds(const QByteArray &json)
    {
        QStringList ids;
        const QJsonArray devices = QJsonDocument::fromJson(json).array();
        for (const QJsonValue &device : devices)
            ids.append(device.toObject().value(QStringLiteral("deviceId")).toString());
        return ids;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFileInfo(wrapper()).isExecutable(), qPrintable(wrapper()));
        QVERIFY2(QFileInfo(cliPath()).isExecutable(), qPrintable(cliPath()));
        m_home = m_dir.filePath(QStringLiteral("home"));
        m_credentials = m_dir.filePath(QStringLiteral("credentials"));
        QVERIFY(QDir().mkpath(m_home));
        QVERIFY(QDir().mkpath(m_credentials));
        m_password = TestSupport::randomKey().toLatin1();
        TestSupport::writeFile(m_credentials + QStringLiteral("/keyring-password"), m_password + '\n');
        QFile::setPermissions(m_credentials + QStringLiteral("/keyring-password"), QFileDevice::ReadOwner);
        const QString started = m_sandbox.start(
            m_dir.filePath(QStringLiteral("hub")), {QStringLiteral("--seed-devices"), QStringLiteral("2")});
        QVERIFY2(started.isEmpty(), qPrintable(started));
    }

    void hubAddedInOneSessionIsUsableInTheNext()
    {
        const QByteArray connectionString = m_sandbox.connectionString().toUtf8();
        const QByteArray key = connectionString.mid(connectionString.indexOf("SharedAccessKey=") + 16);
        QVERIFY(key.size() >= 40);

        // Session 1, as the service gets it: the password from $CREDENTIALS_DIRECTORY/keyring-password; the
        // connection string on standard input goes through to the command.
        const Run added = run(
            environment(), QStringList{cliPath()} + m_sandbox.hubAddArguments(QStringLiteral("gw")), connectionString);
        QVERIFY2(added.exitCode == 0, added.err.constData());
        QVERIFY(QFileInfo::exists(keyringFile()));

        // The keyring file on disk is encrypted; no file below HOME holds the key or the password.
        QFile keyring(keyringFile());
        QVERIFY(keyring.open(QIODevice::ReadOnly));
        const QByteArray stored = keyring.readAll();
        QVERIFY(stored.startsWith(QByteArray("GnomeKeyring\n\r\0\n", 16))); // the encrypted format, not the plain one
        QVERIFY(!stored.contains(key));
        QVERIFY(!stored.contains(QByteArray::fromBase64(key)));
        QCOMPARE(TestSupport::filesContaining(m_home, key), QStringList());
        QCOMPARE(TestSupport::filesContaining(m_home, m_password), QStringList());
        QVERIFY(!added.out.contains(key) && !added.err.contains(key));

        // Session 2, separate (a new bus and daemon): the secret is there and the hub answers with it.
        const QStringList list{cliPath(), QStringLiteral("--json"), QStringLiteral("--hub"), QStringLiteral("gw"),
            QStringLiteral("device"), QStringLiteral("list")};
        const Run listed = run(environment(), list);
        QVERIFY2(listed.exitCode == 0, listed.err.constData());
        QCOMPARE(deviceIds(listed.out).size(), 2);

        // Session 3: the password from the first line of standard input (how an administrator runs it with
        // sudo); nothing else on the command line.
        const Run fromStdin
            = run(environment(false), QStringList{QStringLiteral("--password-stdin")} + list, m_password + '\n');
        QVERIFY2(fromStdin.exitCode == 0, fromStdin.err.constData());
        QCOMPARE(deviceIds(fromStdin.out).size(), 2);

        // --password-file, and the rest of standard input after the password's line reaches the command.
        const Run fromFile = run(environment(false),
            {QStringLiteral("--password-file"), m_credentials + QStringLiteral("/keyring-password"),
                QStringLiteral("cat")},
            "line for the command\n");
        QVERIFY2(fromFile.exitCode == 0, fromFile.err.constData());
        QCOMPARE(fromFile.out, QByteArray("line for the command\n"));

        // The secret is in that keyring only: the same profile without the wrapper (the test session's keyring,
        // or none) does not find it.
        QProcessEnvironment outside = QProcessEnvironment::systemEnvironment();
        outside.insert(QStringLiteral("HOME"), m_home);
        outside.remove(QStringLiteral("XDG_CONFIG_HOME"));
        outside.remove(QStringLiteral("XDG_DATA_HOME"));
        outside.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
        const TestSupport::CliRun without = TestSupport::runCli(outside, list.mid(1));
        QVERIFY2(without.exitCode != 0, without.out.constData());
    }

    void wrongPasswordFailsClearly()
    {
        QVERIFY(QFileInfo::exists(keyringFile())); // made by the test before
        const QByteArray before = [this] {
            QFile f(keyringFile());
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        }();
        const QString wrong
            = TestSupport::writeFile(m_dir.filePath(QStringLiteral("wrong-password")), "not-the-password\n");
        const Run failed = run(environment(false),
            {QStringLiteral("--password-file"), wrong, QStringLiteral("sh"), QStringLiteral("-c"),
                QStringLiteral("echo the command ran")});
        QCOMPARE(failed.exitCode, 77);
        QVERIFY2(failed.err.contains("does not unlock the keyring"), failed.err.constData());
        QVERIFY(!failed.out.contains("the command ran"));
        QFile after(keyringFile());
        QVERIFY(after.open(QIODevice::ReadOnly));
        QCOMPARE(after.readAll(), before); // neither replaced nor re-created
    }

    void missingPasswordFailsClearly()
    {
        const Run none = run(environment(false), {QStringLiteral("true")});
        QCOMPARE(none.exitCode, 66);
        QVERIFY2(none.err.contains("no password"), none.err.constData());
        const Run missing = run(environment(false),
            {QStringLiteral("--password-file"), m_dir.filePath(QStringLiteral("nonexistent")), QStringLiteral("true")});
        QCOMPARE(missing.exitCode, 66);
        QVERIFY2(missing.err.contains("does not exist"), missing.err.constData());
        const Run empty = run(environment(false), {QStringLiteral("--password-stdin"), QStringLiteral("true")});
        QCOMPARE(empty.exitCode, 66);
        const Run noCommand = run(environment(), {});
        QCOMPARE(noCommand.exitCode, 64);
    }

    void missingKeyringDaemonFailsClearly()
    {
        // A PATH with the bus's tools but without gnome-keyring-daemon.
        const QString bin = m_dir.filePath(QStringLiteral("bin-without-keyring"));
        QVERIFY(QDir().mkpath(bin));
        for (const QString &tool : {QStringLiteral("dbus-daemon"), QStringLiteral("dbus-send")})
            QVERIFY(QFile::link(QStandardPaths::findExecutable(tool), bin + u'/' + tool));
        QProcessEnvironment env = environment();
        env.insert(QStringLiteral("PATH"), bin);
        const Run failed = run(env, {QStringLiteral("/bin/true")});
        QCOMPARE(failed.exitCode, 69);
        QVERIFY2(failed.err.contains("gnome-keyring-daemon is missing"), failed.err.constData());
    }

    // systemctl stop sends SIGTERM to the service's main process, the wrapper: the command must get it (the
    // relay then stops cleanly) and its exit code is the wrapper's; the bus and the daemon end too.
    void sigtermReachesTheCommand()
    {
        QProcess process;
        process.setProcessEnvironment(environment());
        startInOwnGroup(process,
            {QStringLiteral("sh"), QStringLiteral("-c"),
                QStringLiteral("trap 'echo stopping; exit 42' TERM; echo ready; while :; do sleep 0.1; done")});
        QVERIFY(process.waitForStarted(10000));
        const auto leftovers = qScopeGuard([pid = process.processId()] { killGroup(pid); });
        QTRY_VERIFY_WITH_TIMEOUT(process.canReadLine() || process.state() != QProcess::Running, 30000);
        QCOMPARE(process.readLine(), QByteArray("ready\n"));
        ::kill(pid_t(process.processId()), SIGTERM);
        QVERIFY(process.waitForFinished(15000));
        QCOMPARE(process.exitStatus(), QProcess::NormalExit);
        QCOMPARE(process.exitCode(), 42);
        QVERIFY(process.readAllStandardOutput().contains("stopping"));
    }

    void cleanupTestCase() { m_sandbox.stop(); }
};

QTEST_GUILESS_MAIN(tst_KeyringSession)
#include "tst_keyringsession.moc"
