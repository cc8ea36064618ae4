#pragma once

// The openssl command (an independent implementation) for tests that check our credentials against it.

#include "testsupport.h"

#include <QFile>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include <utility>

namespace TestSupport {

// Runs `openssl args…` with input on stdin; returns its exit code and its merged output. Secrets the
// command needs go through env (e.g. "-passin env:P12PASS"), never through args.
inline std::pair<int, QByteArray> openssl(const QStringList &args, const QByteArray &input = {},
    const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment())
{
    QProcess process;
    process.setProcessEnvironment(env);
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(QStringLiteral("openssl"), args);
    process.write(input);
    process.closeWriteChannel();
    process.waitForFinished(60000);
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1, process.readAll()};
}

} // namespace TestSupport
