// The simulator's protocol side without a terminal: the AT host's byte rules and the command semantics
// of docs/nrf91-at.md that the integration tests rely on.
#include "modem/modemcsr.h"
#include "modemsimulator.h"
#include "modemstate.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <dlfcn.h>
#include <fcntl.h>
#include <mutex>
#include <stdio.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace Onboarder;
using namespace Onboarder::Sandbox;

namespace {

// Every name that appears in a watched folder (a link or a rename into it), with the mode of its file at
// that moment: a file readable by others for however short a time is seen. The functions below stand in
// for the C library's (Qt's calls reach them first) and call it.
struct Appeared
{
    QString path;
    mode_t mode = 0;
};
std::mutex appearedMutex;
std::string watchedFolder; // ends with '/'; empty: nothing is watched
QList<Appeared> appeared;

void noteAppeared(int dirFd, const char *path)
{
    const std::lock_guard lock(appearedMutex);
    if (watchedFolder.empty() || !path || std::string(path).rfind(watchedFolder, 0) != 0)
        return;
    struct stat info = {};
    if (::fstatat(dirFd, path, &info, AT_SYMLINK_NOFOLLOW) == 0)
        appeared.append({QFile::decodeName(path), mode_t(info.st_mode & 07777)});
}

template<typename Function> Function next(const char *name)
{
    return reinterpret_cast<Function>(::dlsym(RTLD_NEXT, name));
}

} // namespace

extern "C" int linkat(int oldDirFd, const char *oldPath, int newDirFd, const char *newPath, int flags) __THROW
{
    static const auto real = next<int (*)(int, const char *, int, const char *, int)>("linkat");
    const int result = real(oldDirFd, oldPath, newDirFd, newPath, flags);
    if (result == 0)
        noteAppeared(newDirFd, newPath);
    return result;
}

extern "C" int link(const char *oldPath, const char *newPath) __THROW
{
    static const auto real = next<int (*)(const char *, const char *)>("link");
    const int result = real(oldPath, newPath);
    if (result == 0)
        noteAppeared(AT_FDCWD, newPath);
    return result;
}

extern "C" int rename(const char *oldPath, const char *newPath) __THROW
{
    static const auto real = next<int (*)(const char *, const char *)>("rename");
    const int result = real(oldPath, newPath);
    if (result == 0)
        noteAppeared(AT_FDCWD, newPath);
    return result;
}

extern "C" int renameat(int oldDirFd, const char *oldPath, int newDirFd, const char *newPath) __THROW
{
    static const auto real = next<int (*)(int, const char *, int, const char *)>("renameat");
    const int result = real(oldDirFd, oldPath, newDirFd, newPath);
    if (result == 0)
        noteAppeared(newDirFd, newPath);
    return result;
}

extern "C" int renameat2(
    int oldDirFd, const char *oldPath, int newDirFd, const char *newPath, unsigned int flags) __THROW
{
    static const auto real = next<int (*)(int, const char *, int, const char *, unsigned int)>("renameat2");
    const int result = real(oldDirFd, oldPath, newDirFd, newPath, flags);
    if (result == 0)
        noteAppeared(newDirFd, newPath);
    return result;
}

class tst_ModemSimulator : public QObject
{
    Q_OBJECT

    struct Sim
    {
        ModemState state;
        std::unique_ptr<ModemSimulator> modem;
        QByteArray out;

        explicit Sim(SimulatorOptions options = {})
        {
            QString error;
            state.load({}, &error);
            modem = std::make_unique<ModemSimulator>(state, options);
            QObject::connect(
                modem.get(), &ModemSimulator::transmit, modem.get(), [this](const QByteArray &b) { out += b; });
        }
        QByteArray send(const QByteArray &bytes)
        {
            out.clear();
            modem->receive(bytes);
            return out;
        }
    };

private Q_SLOTS:
    void byteRules()
    {
        Sim sim;
        QCOMPARE(sim.send("AT\r"), QByteArray("OK\r\n"));
        QCOMPARE(sim.send("\nAT+CGMI\r"), QByteArray("Nordic Semiconductor ASA\r\nOK\r\n")); // the LF of a CR LF host
        QCOMPARE(sim.send("AT+CGMX\bI\r"), QByteArray("Nordic Semiconductor ASA\r\nOK\r\n")); // backspace
        QCOMPARE(sim.send("AT+CGMMM\x7f\r"), QByteArray("nRF9160-SICA\r\nOK\r\n")); // delete
        QCOMPARE(sim.send("   \r"), QByteArray()); // white space only: dropped
        QCOMPARE(sim.send("at+cgmr\r"), QByteArray("mfw_nrf9160_1.3.5\r\nOK\r\n")); // case
        QCOMPARE(sim.send("AT+NOPE\r"), QByteArray("ERROR\r\n"));
    }

    void crLfTerminator()
    {
        SimulatorOptions options;
        options.terminator = SimulatorOptions::Terminator::CrLf;
        Sim sim(options);
        QCOMPARE(sim.send("AT\r"), QByteArray());
        QCOMPARE(sim.send("\n"), QByteArray("OK\r\n"));
        QCOMPARE(sim.send("AT\n"), QByteArray()); // an LF alone does not end it
    }

    void bufferOverflow()
    {
        SimulatorOptions options;
        options.maxCommandBytes = 16;
        Sim sim(options);
        // Outside quotes the truncated command still runs at the terminator.
        QCOMPARE(sim.send("AT+CGMI" + QByteArray(20, ' ') + "\r"), QByteArray("Nordic Semiconductor ASA\r\nOK\r\n"));
        // Inside quotes the closing quote is lost: the AT host never answers again.
        QCOMPARE(sim.send("AT%CMNG=0,1,0,\"" + QByteArray(40, 'A') + "\"\r"), QByteArray());
        QVERIFY(sim.modem->isWedged());
        QCOMPARE(sim.send("AT\r"), QByteArray());
    }

    void errorReporting()
    {
        Sim sim;
        const QByteArray write = "AT%CMNG=0,42,0,\"abc\"\r";
        QCOMPARE(sim.send(write), QByteArray("ERROR\r\n")); // CMEE 0 after boot
        sim.send("AT+CMEE=1\r");
        QCOMPARE(sim.send(write), QByteArray("+CME ERROR: 518\r\n"));
        sim.send("AT+CMEE=2\r");
        QCOMPARE(sim.send(write), QByteArray("+CME ERROR: not allowed in active state\r\n"));
        QCOMPARE(sim.send("AT+CMEE?\r"), QByteArray("+CMEE: 2\r\nOK\r\n"));
    }

    void functionalModes()
    {
        Sim sim;
        QCOMPARE(sim.send("AT+CFUN?\r"), QByteArray("+CFUN: 1\r\nOK\r\n"));
        sim.send("AT+CFUN=20\r"); // LTE off, GNSS stays
        QCOMPARE(sim.send("AT+CFUN?\r"), QByteArray("+CFUN: 31\r\nOK\r\n"));
        sim.send("AT+CFUN=4\r");
        QCOMPARE(sim.send("AT+CFUN?\r"), QByteArray("+CFUN: 4\r\nOK\r\n"));
        sim.send("AT+CFUN=21\r"); // LTE on again: activated
        sim.send("AT+CMEE=1\r");
        QCOMPARE(sim.send("AT%CMNG=3,1,0\r"), QByteArray("+CME ERROR: 518\r\n"));
        QCOMPARE(sim.send("AT+CFUN=7\r"), QByteArray("+CME ERROR: 50\r\n"));
    }

    void credentialStorage()
    {
        Sim sim;
        sim.send("AT+CMEE=1\r");
        sim.send("AT+CFUN=4\r");
        QCOMPARE(sim.send("AT%CMNG=0,42,0,\"line 1\r\nline 2\n\"\r"), QByteArray("OK\r\n"));
        const QByteArray sha = ModemState::sha256Hex("line 1\r\nline 2\n").toLatin1();
        QCOMPARE(sim.send("AT%CMNG=1,42\r"), "%CMNG: 42,0,\"" + sha + "\"\r\nOK\r\n");
        QCOMPARE(sim.send("AT%CMNG=2,42,0\r"), "%CMNG: 42,0,\"" + sha + "\",\"line 1\r\nline 2\n\"\r\nOK\r\n");
        QCOMPARE(sim.send("AT%CMNG=1,43\r"), QByteArray("OK\r\n")); // nothing: a bare OK
        QCOMPARE(sim.send("AT%CMNG=0,42,2,\"key\"\r"), QByteArray("OK\r\n"));
        QCOMPARE(sim.send("AT%CMNG=2,42,2\r"), QByteArray("+CME ERROR: 514\r\n")); // keys are not readable
        QCOMPARE(sim.send("AT%CMNG=2,42,1\r"), QByteArray("+CME ERROR: 513\r\n"));
        QCOMPARE(sim.send("AT%CMNG=3,42,1\r"), QByteArray("+CME ERROR: 513\r\n"));
        QCOMPARE(sim.send("AT%CMNG=0,2147483648,0,\"x\"\r"), QByteArray("+CME ERROR: 514\r\n"));
        QCOMPARE(sim.send("AT%CMNG=3,4294967292,0\r"), QByteArray("+CME ERROR: 514\r\n"));
        QCOMPARE(sim.send("AT%CMNG=0,4294967296,0,\"x\"\r"), QByteArray("+CME ERROR: 50\r\n"));
        QCOMPARE(sim.send("AT%CMNG=0,1,0,\"\"\r"), QByteArray("+CME ERROR: 50\r\n"));
        QCOMPARE(sim.send("AT%CMNG=0,1,6,\"x\"\r"), QByteArray("+CME ERROR: 514\r\n"));
        QCOMPARE(sim.send("AT%CMNG?\r"), QByteArray("ERROR\r\n"));
        QCOMPARE(sim.send("AT%CMNG=3,42,0\r"), QByteArray("OK\r\n"));
        // The modem's own entries come in a full list, sorted by tag and type.
        const QList<QByteArray> lines = sim.send("AT%CMNG=1\r").split('\n');
        QVERIFY(lines.first().startsWith("%CMNG: 42,2,"));
        QVERIFY(lines.at(1).startsWith("%CMNG: 2147483648,0,"));
    }

    void keyGeneration()
    {
        Sim sim;
        sim.send("AT+CMEE=1\r");
        sim.send("AT+CFUN=4\r");
        const QByteArray answer = sim.send("AT%KEYGEN=16842753,2,0,\"O=Nordic,CN=dev-1\"\r");
        QVERIFY2(answer.startsWith("%KEYGEN: \"") && answer.endsWith("\"\r\nOK\r\n"), answer.constData());
        const auto csr = ModemCsr::fromKeygenAnswer(answer.split('\r').first());
        QVERIFY(csr);
        QVERIFY(csr->check(QStringLiteral("dev-1")));
        // The default subject is the device UUID.
        const auto defaultCsr = ModemCsr::fromKeygenAnswer(sim.send("AT%KEYGEN=7,2\r").split('\r').first());
        QCOMPARE(defaultCsr->subjectCommonName(), sim.state.deviceUuid);
        QCOMPARE(sim.send("AT%KEYGEN=7,2\r"), QByteArray("+CME ERROR: 519\r\n"));
        QCOMPARE(sim.send("AT%CMNG=2,7,2\r"), QByteArray("+CME ERROR: 514\r\n"));
        QCOMPARE(sim.send("AT%KEYGEN=7,3\r"), QByteArray("+CME ERROR: 50\r\n"));
    }

    void busyIgnoresInputAndFailWriteInjects()
    {
        SimulatorOptions options;
        options.slowMs = 100;
        options.failWrite = 2;
        options.failWriteCode = 515;
        options.initialFunctionalMode = 4;
        Sim sim(options);
        sim.send("AT+CMEE=1\r");
        QTRY_COMPARE(sim.out, QByteArray("OK\r\n"));
        sim.out.clear();
        sim.modem->receive("AT%CMNG=0,1,4,\"a\"\rAT\r"); // the second command arrives while busy: lost
        QTRY_COMPARE(sim.out, QByteArray("OK\r\n"));
        QTest::qWait(150);
        QCOMPARE(sim.out, QByteArray("OK\r\n"));
        sim.out.clear();
        sim.modem->receive("AT%CMNG=0,2,4,\"b\"\r");
        QTRY_COMPARE(sim.out, QByteArray("+CME ERROR: 515\r\n"));
    }

    void stateFileIsOwnerOnlyFromItsFirstByte()
    {
        // The state file holds the private keys flashed into the simulator: readable by its owner only, from
        // the moment it has a name, whatever the umask, also when it was there with a wider mode.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("state.json"));
        {
            const std::lock_guard lock(appearedMutex);
            watchedFolder = QFile::encodeName(dir.path()).toStdString() + '/';
            appeared.clear();
        }
        const mode_t previousUmask = ::umask(0);
        ModemState state;
        QString error;
        const bool made = state.load(path, &error); // a new state is saved at once
        state.credentials[{42, 2}]
            = {QByteArrayLiteral("-----BEGIN PRIVATE KEY-----\nnot a real key\n-----END PRIVATE KEY-----"), {}, false};
        const bool saved = state.save(&error);
        QFile::setPermissions(
            path, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther);
        const bool savedAgain = state.save(&error);
        ::umask(previousUmask);
        QList<Appeared> seen;
        {
            const std::lock_guard lock(appearedMutex);
            watchedFolder.clear();
            seen = appeared;
        }
        QVERIFY2(made && saved && savedAgain, qPrintable(error));
        QVERIFY(seen.size() >= 3); // the three saves were seen
        for (const Appeared &name : std::as_const(seen))
            QVERIFY2(name.mode == 0600,
                qPrintable(
                    QStringLiteral("%1 appeared with mode %2").arg(name.path).arg(name.mode, 4, 8, QChar(u'0'))));
        struct stat info = {};
        QCOMPARE(::stat(QFile::encodeName(path).constData(), &info), 0);
        QCOMPARE(info.st_mode & 07777, mode_t(0600));
    }

    void urcNoiseBetweenLines()
    {
        SimulatorOptions options;
        options.urcNoise = true;
        Sim sim(options);
        const QList<QByteArray> lines = sim.send("AT+CGMM\r").split('\n');
        QCOMPARE(lines.size(), 4);
        QCOMPARE(lines.at(0), QByteArray("nRF9160-SICA\r"));
        QVERIFY(lines.at(1).startsWith('+') || lines.at(1).startsWith('%'));
        QCOMPARE(lines.at(2), QByteArray("OK\r"));
    }
};

QTEST_GUILESS_MAIN(tst_ModemSimulator)
#include "tst_modemsimulator.moc"
