#pragma once

// A throwaway GnuPG home (GNUPGHOME) with keys made by gpg itself, for tests of the OpenPGP export:
// what we encrypt must open with `gpg --decrypt` there.

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTemporaryDir>

#include <utility>

namespace TestSupport {

class GnupgHome final
{
public:
    GnupgHome() { QFile::setPermissions(m_dir.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner); }
    ~GnupgHome()
    {
        QProcess::execute(QStringLiteral("gpgconf"),
            {QStringLiteral("--homedir"), path(), QStringLiteral("--kill"), QStringLiteral("all")});
    }
    GnupgHome(const GnupgHome &) = delete;
    GnupgHome &operator=(const GnupgHome &) = delete;

    QString path() const { return m_dir.path(); }

    QProcessEnvironment environment() const
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("GNUPGHOME"), path());
        return env;
    }

    // Runs gpg in this home; returns its exit code, standard output and standard error.
    struct Run
    {
        int exitCode = -1;
        QByteArray out;
        QByteArray err;
    };
    Run gpg(const QStringList &args, const QByteArray &input = {}) const
    {
        QProcess process;
        process.setProcessEnvironment(environment());
        process.start(QStringLiteral("gpg"), QStringList{QStringLiteral("--batch"), QStringLiteral("--yes")} + args);
        process.write(input);
        process.closeWriteChannel();
        if (!process.waitForFinished(120000))
            qFatal("gpg did not finish");
        return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1, process.readAllStandardOutput(),
            process.readAllStandardError()};
    }

    // A new key without passphrase; returns its fingerprint. usage "default" makes a signing primary key
    // with an encryption subkey; "sign" makes one that cannot encrypt.
    QString generateKey(const QString &userId, const QString &usage = QStringLiteral("default"))
    {
        const Run made = gpg({QStringLiteral("--passphrase"), QString(), QStringLiteral("--quick-gen-key"), userId,
            QStringLiteral("default"), usage, QStringLiteral("never")});
        if (made.exitCode != 0)
            qFatal("gpg --quick-gen-key failed: %s", made.err.constData());
        const Run listed = gpg({QStringLiteral("--with-colons"), QStringLiteral("--list-keys"), userId});
        for (const QByteArray &line : listed.out.split('\n')) {
            if (line.startsWith("fpr:"))
                return QString::fromLatin1(line.split(':').value(9));
        }
        qFatal("no fingerprint for %s", qPrintable(userId));
    }

    QByteArray exportPublic(const QString &key) const
    {
        return gpg({QStringLiteral("--armor"), QStringLiteral("--export"), key}).out;
    }
    QByteArray exportSecret(const QString &key) const
    {
        return gpg({QStringLiteral("--armor"), QStringLiteral("--pinentry-mode"), QStringLiteral("loopback"),
                       QStringLiteral("--passphrase"), QString(), QStringLiteral("--export-secret-keys"), key})
            .out;
    }

    Run decrypt(const QByteArray &message) const
    {
        return gpg({QStringLiteral("--pinentry-mode"), QStringLiteral("loopback"), QStringLiteral("--passphrase"),
                       QString(), QStringLiteral("--decrypt")},
            message);
    }

private:
    QTemporaryDir m_dir;
};

} // namespace TestSupport
