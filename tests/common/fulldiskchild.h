#pragma once

#include <QCoreApplication>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>

namespace TestSupport {

// Runs one test function of this test executable again, in a child process with tests/tools/fulldisk.cpp in front
// of libc (the library named by ONBOARDER_FULL_DISK_LIBRARY, which the test's CMake entry sets): the files under
// dir are on a "full disk" while switchFile exists (holding a number: that many bytes still fit). The child's
// function tells it is the child by ONBOARDER_FULL_DISK_DIR, and QSKIPs otherwise. Returns the child's exit code
// (the number of failed test functions), or -1 when it did not run.
inline int runOnFullDisk(const QString &testFunction, const QString &dir, const QString &switchFile)
{
    const QString library = qEnvironmentVariable("ONBOARDER_FULL_DISK_LIBRARY");
    if (library.isEmpty())
        return -1;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("LD_PRELOAD"), library);
    env.insert(QStringLiteral("ONBOARDER_FULL_DISK_DIR"), dir);
    env.insert(QStringLiteral("ONBOARDER_FULL_DISK_SWITCH"), switchFile);
    // Under AddressSanitizer the preloaded library comes before its runtime; it is not instrumented.
    env.insert(QStringLiteral("ASAN_OPTIONS"),
        env.value(QStringLiteral("ASAN_OPTIONS")) + QStringLiteral(":verify_asan_link_order=0"));
    QProcess child;
    child.setProcessEnvironment(env);
    child.setProcessChannelMode(QProcess::ForwardedChannels);
    child.start(QCoreApplication::applicationFilePath(), {testFunction});
    if (!child.waitForFinished(60000) || child.exitStatus() != QProcess::NormalExit)
        return -1;
    return child.exitCode();
}

// The folder of the full disk, in the child that runOnFullDisk() started; empty in any other process.
inline QString fullDiskDir()
{
    return qEnvironmentVariable("ONBOARDER_FULL_DISK_DIR");
}

} // namespace TestSupport
