#pragma once

// A real mosquitto broker for tests: its own temp directory, generated config, free ports on 127.0.0.1,
// optional TLS listener (a generated CA and server certificate), optional client-certificate listener,
// optional password file (mosquitto_passwd) and optional subscription denials (the dynamic-security plugin:
// mosquitto 2.0's acl_file does not check subscriptions, it only filters delivery). It can be stopped, killed
// (SIGKILL) and restarted on the same ports.

#include "credentials/certificate.h"
#include "credentials/keypair.h"

#include <QDeadlineTimer>
#include <QDirIterator>
#include <QFile>
#include <QProcess>
#include <QStringList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>

#include <csignal>
#include <memory>
#include <optional>
#include <pwd.h>
#include <unistd.h>
#include <utility>
#include <vector>

class MosquittoFixture
{
public:
    struct Options
    {
        bool tls = false; // a TLS listener (tlsPort())
        bool clientCertificates = false; // a TLS listener that requires a client certificate (certPort())
        QStringList serverDnsNames{QStringLiteral("localhost")};
        QStringList serverIpAddresses{QStringLiteral("127.0.0.1")};
        QList<std::pair<QString, QByteArray>> users; // user name, password; anonymous clients are refused then
        QStringList deniedSubscriptions; // subscription patterns refused (SUBACK 0x80 / 0x87)
        QByteArray extraConfig; // more global lines, e.g. "max_queued_messages 0\n"
    };

    struct ClientCredentials
    {
        QByteArray certificatePem;
        QByteArray privateKeyPem;
    };

    MosquittoFixture() = default;
    MosquittoFixture(const MosquittoFixture &) = delete;
    MosquittoFixture &operator=(const MosquittoFixture &) = delete;
    ~MosquittoFixture() { kill(); }

    // Writes the configuration and starts the broker; false (see errorString()) when it does not come up.
    bool start() { return start(Options()); }
    bool start(const Options &options)
    {
        m_options = options;
        if (!m_dir.isValid())
            return failed(QStringLiteral("no temp dir"));
        const QList<int> ports = freePorts(3);
        m_port = ports.at(0);
        m_tlsPort = options.tls ? ports.at(1) : 0;
        m_certPort = options.clientCertificates ? ports.at(2) : 0;
        if ((options.tls || options.clientCertificates) && !writeCertificates())
            return false;
        if (!options.users.isEmpty() && !writePasswords())
            return false;
        if (!options.deniedSubscriptions.isEmpty() && !writeDynamicSecurity())
            return false;
        if (!writeFile(QStringLiteral("mosquitto.conf"), config()))
            return false;
        return launch();
    }

    // Starts the broker again with the same configuration and ports.
    bool restart()
    {
        kill();
        return launch();
    }

    void kill() // SIGKILL: no DISCONNECT, no clean shutdown
    {
        if (m_process && m_process->state() != QProcess::NotRunning) {
            m_process->kill();
            m_process->waitForFinished(5000);
        }
        collectLog();
    }

    void stop() // SIGTERM
    {
        if (m_process && m_process->state() != QProcess::NotRunning) {
            m_process->terminate();
            if (!m_process->waitForFinished(5000))
                m_process->kill();
            m_process->waitForFinished(5000);
        }
        collectLog();
    }

    // SIGSTOP / SIGCONT: a broker that keeps its connections open and answers nothing (a hung host).
    void freeze(bool frozen)
    {
        if (m_process && m_process->state() == QProcess::Running)
            ::kill(pid_t(m_process->processId()), frozen ? SIGSTOP : SIGCONT);
    }

    bool isRunning() const { return m_process && m_process->state() == QProcess::Running; }
    int port() const { return m_port; } // plain MQTT
    int tlsPort() const { return m_tlsPort; } // TLS, server certificate only
    int certPort() const { return m_certPort; } // TLS with a required client certificate
    QString caFile() const { return m_dir.filePath(QStringLiteral("ca.pem")); }
    QString path() const { return m_dir.path(); }
    QString errorString() const { return m_error; }

    // Everything mosquitto logged so far (all runs).
    QString log()
    {
        collectLog();
        return QString::fromUtf8(m_log);
    }

    // A client certificate signed by this broker's CA (start() with tls or clientCertificates first).
    ClientCredentials issueClientCertificate(const QString &commonName) const
    {
        const auto key = Onboarder::KeyPair::generate();
        const auto certificate = Onboarder::Certificate::issue(
            *m_ca, *m_caKey, *key, {commonName, {}, {}, 1, Onboarder::Certificate::Usage::Client});
        return {certificate->toPem(), key->privateKeyPem().exposeForWire()};
    }

    // A CA of its own that did not sign anything of this broker's: for "wrong CA" tests.
    QString writeOtherCaFile()
    {
        const auto key = Onboarder::KeyPair::generate();
        const auto ca = Onboarder::Certificate::selfSigned(
            *key, {QStringLiteral("Some Other CA"), {}, {}, 2, Onboarder::Certificate::Usage::CertificateAuthority});
        writeFile(QStringLiteral("other-ca.pem"), ca->toPem());
        return m_dir.filePath(QStringLiteral("other-ca.pem"));
    }

    // The dynamic-security plugin that comes with mosquitto 2 (Debian: /usr/lib/<triplet>/).
    static QString dynamicSecurityPlugin()
    {
        const QString name = QStringLiteral("mosquitto_dynamic_security.so");
        QStringList dirs{QStringLiteral("/usr/lib"), QStringLiteral("/usr/local/lib")};
        for (QDirIterator it(QStringLiteral("/usr/lib"), QDir::Dirs | QDir::NoDotAndDotDot); it.hasNext();)
            dirs.append(it.next()); // the multiarch directories
        for (const QString &dir : std::as_const(dirs)) {
            if (QFile::exists(dir + u'/' + name))
                return dir + u'/' + name;
        }
        return name;
    }

    static QString currentUserName()
    {
        const passwd *entry = getpwuid(getuid());
        return entry ? QString::fromLocal8Bit(entry->pw_name) : QStringLiteral("root");
    }

private:
    bool failed(const QString &why)
    {
        m_error = why;
        return false;
    }

public:
    // Ports nothing listens on right now (all bound at once, so they differ; closed again on return).
    static QList<int> freePorts(int count)
    {
        std::vector<std::unique_ptr<QTcpServer>> servers;
        QList<int> ports;
        for (int i = 0; i < count; ++i) {
            servers.push_back(std::make_unique<QTcpServer>());
            servers.back()->listen(QHostAddress::LocalHost, 0);
            ports.append(servers.back()->serverPort());
        }
        return ports;
    }

private:
    bool writeFile(const QString &name, const QByteArray &data, bool secret = false)
    {
        QFile file(m_dir.filePath(name));
        const QFileDevice::Permissions permissions = secret
            ? QFileDevice::ReadOwner | QFileDevice::WriteOwner
            : QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther;
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate, permissions) || file.write(data) != data.size())
            return failed(QStringLiteral("cannot write %1").arg(file.fileName()));
        return true;
    }

    bool writeCertificates()
    {
        auto caKey = Onboarder::KeyPair::generate();
        auto ca = Onboarder::Certificate::selfSigned(*caKey,
            {QStringLiteral("Onboarder Test CA"), {}, {}, 2, Onboarder::Certificate::Usage::CertificateAuthority});
        const auto serverKey = Onboarder::KeyPair::generate();
        if (!caKey || !ca || !serverKey)
            return failed(QStringLiteral("cannot generate the CA"));
        const auto server = Onboarder::Certificate::issue(*ca, *caKey, *serverKey,
            {QStringLiteral("mosquitto"), m_options.serverDnsNames, m_options.serverIpAddresses, 2,
                Onboarder::Certificate::Usage::Server});
        if (!server)
            return failed(server.error().message);
        m_caKey.emplace(std::move(*caKey));
        m_ca = *ca;
        return writeFile(QStringLiteral("ca.pem"), m_ca->toPem())
            && writeFile(QStringLiteral("server.pem"), server->toPem())
            && writeFile(QStringLiteral("server.key"), serverKey->privateKeyPem().exposeForWire(), true);
    }

    bool writePasswords()
    {
        bool first = true;
        for (const auto &[user, password] : m_options.users) {
            QStringList args{QStringLiteral("-b")};
            if (first)
                args << QStringLiteral("-c");
            args << m_dir.filePath(QStringLiteral("passwd")) << user << QString::fromUtf8(password);
            QProcess process;
            process.setProcessChannelMode(QProcess::MergedChannels);
            process.start(QStringLiteral("mosquitto_passwd"), args);
            if (!process.waitForFinished(10000) || process.exitCode() != 0)
                return failed(QStringLiteral("mosquitto_passwd failed: ") + QString::fromUtf8(process.readAll()));
            first = false;
        }
        return true;
    }

    bool writeDynamicSecurity()
    {
        QByteArray acls;
        for (const QString &pattern : m_options.deniedSubscriptions) {
            if (!acls.isEmpty())
                acls += ',';
            acls
                += R"({"acltype":"subscribePattern","topic":")" + pattern.toUtf8() + R"(","priority":0,"allow":false})";
        }
        const QByteArray json
            = R"({"defaultACLAccess":{"publishClientSend":true,"publishClientReceive":true,"subscribe":true,"unsubscribe":true},)"
              R"("clients":[],)"
              R"("roles":[{"rolename":"denied","acls":[)"
            + acls
            + R"(]}],)"
              R"("groups":[{"groupname":"anonymous","roles":[{"rolename":"denied"}]}],)"
              R"("anonymousGroup":"anonymous"})";
        return writeFile(QStringLiteral("dynamic-security.json"), json);
    }

    QByteArray config() const
    {
        const auto file = [this](const char *name) { return m_dir.filePath(QString::fromLatin1(name)).toUtf8(); };
        QByteArray conf;
        // mosquitto started as root drops to user "mosquitto", which cannot read this directory.
        conf += "user " + currentUserName().toUtf8() + "\n";
        conf += "persistence false\n";
        conf += "log_dest stderr\n";
        conf += "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
        conf += "connection_messages true\n";
        conf += m_options.extraConfig;
        conf += QByteArray("allow_anonymous ") + (m_options.users.isEmpty() ? "true" : "false") + "\n";
        if (!m_options.users.isEmpty())
            conf += "password_file " + file("passwd") + "\n";
        if (!m_options.deniedSubscriptions.isEmpty()) {
            conf += "plugin " + QFile::encodeName(dynamicSecurityPlugin()) + "\n";
            conf += "plugin_opt_config_file " + file("dynamic-security.json") + "\n";
        }
        conf += "\nlistener " + QByteArray::number(m_port) + " 127.0.0.1\n";
        const auto tlsListener = [&](int port, bool requireCertificate) {
            conf += "\nlistener " + QByteArray::number(port) + " 127.0.0.1\n";
            conf += "cafile " + file("ca.pem") + "\n";
            conf += "certfile " + file("server.pem") + "\n";
            conf += "keyfile " + file("server.key") + "\n";
            if (requireCertificate) {
                conf += "require_certificate true\n";
                conf += "use_identity_as_username true\n";
            }
        };
        if (m_options.tls)
            tlsListener(m_tlsPort, false);
        if (m_options.clientCertificates)
            tlsListener(m_certPort, true);
        return conf;
    }

    bool launch()
    {
        collectLog();
        m_process = std::make_unique<QProcess>();
        m_process->setProcessChannelMode(QProcess::MergedChannels);
        m_process->start(
            QStringLiteral("mosquitto"), {QStringLiteral("-c"), m_dir.filePath(QStringLiteral("mosquitto.conf"))});
        if (!m_process->waitForStarted(5000))
            return failed(QStringLiteral("mosquitto did not start: ") + m_process->errorString());
        QDeadlineTimer deadline(10000);
        for (int port : {m_port, m_tlsPort, m_certPort}) {
            if (port == 0)
                continue;
            while (!accepts(port)) {
                if (m_process->state() != QProcess::Running || deadline.hasExpired())
                    return failed(
                        QStringLiteral("mosquitto does not accept connections on %1:\n%2").arg(port).arg(log()));
                QThread::msleep(20);
            }
        }
        return true;
    }

    static bool accepts(int port)
    {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, quint16(port));
        return socket.waitForConnected(500);
    }

    void collectLog()
    {
        if (m_process)
            m_log += m_process->readAll();
    }

    QTemporaryDir m_dir;
    Options m_options;
    std::unique_ptr<QProcess> m_process;
    QByteArray m_log;
    QString m_error;
    int m_port = 0;
    int m_tlsPort = 0;
    int m_certPort = 0;
    std::optional<Onboarder::KeyPair> m_caKey;
    std::optional<Onboarder::Certificate> m_ca;
};
