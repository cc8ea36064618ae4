// The programs that hold hub and device keys keep them out of core dumps: the CLI (and with it the relay,
// which is "onboarder-cli relay run") and the desktop app are started for real, with core files allowed as
// far as the hard limit goes, and their /proc entries read while they run: no core file size (soft and hard
// limit 0) and not dumpable (the kernel then gives a process's /proc entries to root, whoever runs it).
#include "testsupport.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

class tst_CoreDumps : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    // Starts program with core files allowed up to the hard limit and, when the test runs as root, as the
    // user nobody: the proof of "not dumpable" needs a process that is not root's.
    void start(QProcess &process, const QString &program, const QStringList &arguments)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
        env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir.filePath(QStringLiteral("data")));
        env.insert(QStringLiteral("XDG_CACHE_HOME"), m_dir.filePath(QStringLiteral("cache")));
        process.setProcessEnvironment(env);
        process.setChildProcessModifier([] {
            rlimit limit = {};
            if (::getrlimit(RLIMIT_CORE, &limit) == 0) {
                limit.rlim_cur = limit.rlim_max;
                ::setrlimit(RLIMIT_CORE, &limit);
            }
            if (::geteuid() == 0) {
                const uid_t nobody = 65534;
                if (::setgroups(0, nullptr) != 0 || ::setresgid(nobody, nobody, nobody) != 0
                    || ::setresuid(nobody, nobody, nobody) != 0)
                    ::_exit(120);
            }
        });
        process.start(program, arguments);
    }

    // "Max core file size" of /proc/PID/limits: soft and hard limit, e.g. "0 0".
    static QByteArray coreLimits(qint64 pid)
    {
        QFile limits(QStringLiteral("/proc/%1/limits").arg(pid));
        if (!limits.open(QIODevice::ReadOnly))
            return {};
        for (const QByteArray &line : limits.readAll().split('\n')) {
            if (line.startsWith("Max core file size"))
                return line.mid(18).simplified().replace(" bytes", "");
        }
        return {};
    }

    static uid_t owner(const QString &path)
    {
        struct stat info = {};
        return ::stat(QFile::encodeName(path).constData(), &info) == 0 ? info.st_uid : uid_t(-1);
    }

    // The real uid of pid, from /proc/PID/status.
    static uid_t realUid(qint64 pid)
    {
        QFile status(QStringLiteral("/proc/%1/status").arg(pid));
        if (!status.open(QIODevice::ReadOnly))
            return uid_t(-1);
        for (const QByteArray &line : status.readAll().split('\n')) {
            if (line.startsWith("Uid:"))
                return uid_t(line.mid(4).simplified().split(' ').value(0).toUInt());
        }
        return uid_t(-1);
    }

    // Runs program until it has started up (or 10 s), then checks its limits and dumpability.
    void checkProcess(const QString &program, const QStringList &arguments)
    {
        rlimit own = {};
        QVERIFY(::getrlimit(RLIMIT_CORE, &own) == 0);
        QVERIFY2(own.rlim_max != 0,
            "the hard limit of core files is 0 here: the test cannot tell whether the program sets it");
        QVERIFY2(QFile::exists(program), qPrintable(program));

        QProcess process;
        start(process, program, arguments);
        QVERIFY2(process.waitForStarted(10000), qPrintable(process.errorString()));
        const qint64 pid = process.processId();
        QDeadlineTimer deadline(10000);
        QByteArray limits = coreLimits(pid);
        // Until exec() the child is this test's fork, with core files allowed: wait for the program itself.
        while (process.state() == QProcess::Running && limits != "0 0" && !deadline.hasExpired()) {
            QTest::qWait(50);
            limits = coreLimits(pid);
        }
        const bool running = process.state() == QProcess::Running;
        const uid_t uid = realUid(pid);
        const uid_t procOwner = owner(QStringLiteral("/proc/%1/status").arg(pid));
        process.kill();
        process.waitForFinished(5000);
        QVERIFY2(running,
            qPrintable(QStringLiteral("%1 ended early: %2")
                           .arg(program, QString::fromLocal8Bit(process.readAllStandardError()))));
        QCOMPARE(limits, QByteArray("0 0"));
        QVERIFY2(uid != 0 && uid != uid_t(-1), "the program ran as root: its /proc entries tell nothing");
        QCOMPARE(procOwner, uid_t(0)); // not dumpable
    }

private Q_SLOTS:
    void cliAndRelay()
    {
        // "conn parse" waits for the connection string on standard input, which stays open.
        checkProcess(TestSupport::buildPath(QStringLiteral("app/onboarder-cli")),
            {QStringLiteral("conn"), QStringLiteral("parse")});
    }

    void desktopApp()
    {
        const QString app = TestSupport::buildPath(QStringLiteral("app/onboarder"));
        if (!QFile::exists(app))
            QSKIP("the desktop app is not built (ONBOARDER_BUILD_GUI=OFF)");
        checkProcess(app, {});
    }
};

QTEST_GUILESS_MAIN(tst_CoreDumps)
#include "tst_coredumps.moc"
