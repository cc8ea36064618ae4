// onboarder-cli cred … and the connection-string exports, against a real sandbox hub process, the real
// keychain, gpg and openssl: a generated self-signed certificate registered by thumbprint lets a device
// connect through the core MQTT client; a CA-signed one passes openssl verify; the OpenPGP exports
// decrypt with gpg to exactly what was exported; the PKCS#12 opens with openssl and the password; and
// no private key or SharedAccessKey ends up in the config or data dirs or in anything the CLI printed.
#include "clirunner.h"
#include "credentials/certificate.h"
#include "credentials/keypair.h"
#include "credentials/pkcs12.h"
#include "gnupghome.h"
#include "mqtt/mqttclient.h"
#include "mqttconnect.h"
#include "opensslcli.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>

using namespace Onboarder;
using TestSupport::CliRun;
using TestSupport::CliRunner;

class tst_CliCredentials : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::GnupgHome m_gnupg;
    QString m_recipient;
    CliRunner m_cli;
    QProcess m_sandbox;
    QJsonObject m_ready;
    const QByteArray m_p12Password = "p12 export password";

    QString path(const QString &name) const { return m_dir.filePath(name); }

    static QByteArray readAll(const QString &file)
    {
        QFile f(file);
        if (!f.open(QIODevice::ReadOnly))
            qFatal("cannot read %s", qPrintable(file));
        return f.readAll();
    }

    // Connects to the sandbox's device endpoint with a client certificate; true when accepted.
    bool deviceConnects(const QString &id, const QByteArray &certPem, const QByteArray &keyPem)
    {
        MqttClient client;
        client.setHostname(QStringLiteral("127.0.0.1"));
        client.setPort(m_ready.value(QStringLiteral("mqttPort")).toInt());
        client.setTlsEnabled(true);
        client.setCaFile(m_ready.value(QStringLiteral("caFile")).toString());
        client.setClientId(id);
        client.setUsername(QStringLiteral("127.0.0.1/%1/?api-version=2021-04-12").arg(id));
        if (!client.setClientCertificate(certPem, Onboarder::SecretBytes::fromView(keyPem)))
            qFatal("client certificate refused by MqttClient");
        return TestSupport::connects(client);
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        m_recipient = m_gnupg.generateKey(QStringLiteral("Microshare Support <support@microshare.invalid>"));
        m_cli.environment.insert(QStringLiteral("XDG_CONFIG_HOME"), path(QStringLiteral("config")));
        m_cli.environment.insert(QStringLiteral("XDG_DATA_HOME"), path(QStringLiteral("data")));
        m_cli.environment.insert(QStringLiteral("GNUPGHOME"), m_gnupg.path());
        m_cli.environment.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
        // Every log line on: a secret in one would show in the scan at the end.
        m_cli.environment.insert(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("onboarder.*=true"));

        m_sandbox.start(TestSupport::buildPath(QStringLiteral("sandbox/hub/onboarder-sandbox")),
            {QStringLiteral("--data"), path(QStringLiteral("hub")), QStringLiteral("--ready-json")});
        QVERIFY(m_sandbox.waitForReadyRead(20000));
        m_ready = QJsonDocument::fromJson(m_sandbox.readLine()).object();
        const CliRun added = m_cli(
            {QStringLiteral("hub"), QStringLiteral("add"), QStringLiteral("credsb"), QStringLiteral("--ca"),
                m_ready.value(QStringLiteral("caFile")).toString(), QStringLiteral("--rest-port"),
                QString::number(m_ready.value(QStringLiteral("restPort")).toInt()), QStringLiteral("--mqtt-port"),
                QString::number(m_ready.value(QStringLiteral("mqttPort")).toInt())},
            m_ready.value(QStringLiteral("connectionString")).toString().toUtf8());
        QVERIFY2(added.exitCode == 0, added.err.constData());
        QCOMPARE(m_cli({QStringLiteral("hub"), QStringLiteral("use"), QStringLiteral("credsb")}).exitCode, 0);
    }

    void selfSignedThumbprintLetsTheDeviceConnect()
    {
        const CliRun made = m_cli({QStringLiteral("cred"), QStringLiteral("generate"), QStringLiteral("x509-dev")});
        QVERIFY2(made.exitCode == 0, made.err.constData());

        const CliRun shown = m_cli(
            {QStringLiteral("--json"), QStringLiteral("cred"), QStringLiteral("show"), QStringLiteral("x509-dev")});
        QVERIFY2(shown.exitCode == 0, shown.err.constData());
        const QJsonObject cert = shown.json()[QStringLiteral("certificate")].toObject();
        const QByteArray pem = cert.value(QStringLiteral("pem")).toString().toLatin1();
        QCOMPARE(shown.json()[QStringLiteral("keychainEntry")].toString(),
            QStringLiteral("hub/credsb/device/x509-dev/private-key"));
        QCOMPARE(cert.value(QStringLiteral("subject")).toString(), QStringLiteral("CN=x509-dev"));
        // Thumbprints as openssl computes them.
        const QString pemFile = TestSupport::writeFile(path(QStringLiteral("x509-dev.pem")), pem);
        for (const auto &[digest, key] : {std::pair{QStringLiteral("-sha1"), QStringLiteral("thumbprintSha1")},
                 std::pair{QStringLiteral("-sha256"), QStringLiteral("thumbprintSha256")}}) {
            const auto [code, text] = TestSupport::openssl({QStringLiteral("x509"), QStringLiteral("-in"), pemFile,
                QStringLiteral("-noout"), QStringLiteral("-fingerprint"), digest});
            QCOMPARE(code, 0);
            QCOMPARE(cert.value(key).toString(), QString::fromLatin1(text.trimmed()).section(u'=', 1).remove(u':'));
        }
        const CliRun human = m_cli({QStringLiteral("cred"), QStringLiteral("show"), QStringLiteral("x509-dev")});
        QVERIFY(human.out.contains(cert.value(QStringLiteral("thumbprintSha256")).toString().toLatin1()));
        QVERIFY(human.out.contains("-----BEGIN CERTIFICATE-----"));

        // Usage, conflict and not-found exits.
        QCOMPARE(m_cli({QStringLiteral("cred"), QStringLiteral("generate"), QStringLiteral("x509-dev")}).exitCode, 4);
        QCOMPARE(m_cli({QStringLiteral("cred"), QStringLiteral("generate"), QStringLiteral("y"),
                           QStringLiteral("--type"), QStringLiteral("rsa-4096")})
                     .exitCode,
            1);
        QCOMPARE(m_cli({QStringLiteral("cred"), QStringLiteral("generate"), QStringLiteral("y"),
                           QStringLiteral("--hub"), QStringLiteral("nosuch")})
                     .exitCode,
            3);
        QCOMPARE(m_cli({QStringLiteral("cred"), QStringLiteral("show"), QStringLiteral("nobody")}).exitCode, 3);

        // Register the thumbprint, export certificate + key as PKCS#12, and connect with them.
        const QString sha1 = cert.value(QStringLiteral("thumbprintSha1")).toString();
        // Without --cert or --thumbprint, device create takes the certificate cred generate made.
        const CliRun registered = m_cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("create"),
            QStringLiteral("x509-dev"), QStringLiteral("--auth"), QStringLiteral("x509-self-signed")});
        QVERIFY2(registered.exitCode == 0, registered.err.constData());
        QCOMPARE(registered
                     .json()[QStringLiteral("authentication")][QStringLiteral("x509Thumbprint")]
                            [QStringLiteral("primaryThumbprint")]
                     .toString(),
            sha1);
        const QString p12 = path(QStringLiteral("x509-dev.p12"));
        const CliRun exported = m_cli({QStringLiteral("cred"), QStringLiteral("export"), QStringLiteral("x509-dev"),
                                          QStringLiteral("--pkcs12"), QStringLiteral("--out"), p12},
            m_p12Password);
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
        QCOMPARE(QFile::permissions(p12), QFile::ReadOwner | QFile::WriteOwner | QFile::ReadUser | QFile::WriteUser);
        QCOMPARE(m_cli({QStringLiteral("cred"), QStringLiteral("export"), QStringLiteral("x509-dev"),
                           QStringLiteral("--pkcs12"), QStringLiteral("--out"), p12},
                     m_p12Password)
                     .exitCode,
            4); // never over an existing file

        // openssl opens it with the password (given through env, not argv).
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("P12PASS"), QString::fromLatin1(m_p12Password));
        const auto [code, text] = TestSupport::openssl(
            {QStringLiteral("pkcs12"), QStringLiteral("-in"), p12, QStringLiteral("-info"), QStringLiteral("-nodes"),
                QStringLiteral("-passin"), QStringLiteral("env:P12PASS")},
            {}, env);
        QVERIFY2(code == 0, text.constData());
        QVERIFY(text.contains("PBES2, PBKDF2, AES-256-CBC"));
        QCOMPARE(Certificate::fromPem(text.mid(text.indexOf("-----BEGIN CERTIFICATE-----")))->thumbprintSha1(), sha1);

        const auto contents = Pkcs12::parse(readAll(p12), m_p12Password);
        QVERIFY(contents.has_value());
        QVERIFY2(deviceConnects(QStringLiteral("x509-dev"), contents->certificate.toPem(),
                     contents->key.privateKeyPem().exposeForWire()),
            "the sandbox refused the registered self-signed certificate");
        // The same device with another self-signed certificate (same CN, other thumbprint) is refused.
        const auto otherKey = KeyPair::generate();
        const auto other
            = Certificate::selfSigned(*otherKey, {QStringLiteral("x509-dev"), {}, {}, 2, Certificate::Usage::Client});
        QVERIFY(!deviceConnects(QStringLiteral("x509-dev"), other->toPem(), otherKey->privateKeyPem().exposeForWire()));
    }

    void caSignedCertificatesPassOpensslVerify()
    {
        const QString caCert = path(QStringLiteral("fleet-ca.pem"));
        const QString caKey = path(QStringLiteral("fleet-ca.key"));
        const auto [code, text]
            = TestSupport::openssl({QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                QStringLiteral("ec"), QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:P-256"),
                QStringLiteral("-nodes"), QStringLiteral("-keyout"), caKey, QStringLiteral("-out"), caCert,
                QStringLiteral("-subj"), QStringLiteral("/CN=Fleet CA"), QStringLiteral("-days"), QStringLiteral("30"),
                QStringLiteral("-addext"), QStringLiteral("basicConstraints=critical,CA:TRUE"),
                QStringLiteral("-addext"), QStringLiteral("keyUsage=critical,keyCertSign,cRLSign")});
        QVERIFY2(code == 0, text.constData());
        const CliRun imported = m_cli({QStringLiteral("cred"), QStringLiteral("import-ca"), QStringLiteral("fleet"),
            QStringLiteral("--cert"), caCert, QStringLiteral("--key"), caKey});
        QVERIFY2(imported.exitCode == 0, imported.err.constData());
        QVERIFY(imported.out.contains("ca/fleet/private-key"));
        // A device certificate is not a CA.
        QCOMPARE(
            m_cli({QStringLiteral("cred"), QStringLiteral("import-ca"), QStringLiteral("bad"), QStringLiteral("--cert"),
                      path(QStringLiteral("x509-dev.pem")), QStringLiteral("--key"), caKey})
                .exitCode,
            2);

        const CliRun made = m_cli({QStringLiteral("cred"), QStringLiteral("generate"), QStringLiteral("fleet-1"),
            QStringLiteral("--ca"), QStringLiteral("fleet"), QStringLiteral("--type"), QStringLiteral("rsa-2048"),
            QStringLiteral("--days"), QStringLiteral("30")});
        QVERIFY2(made.exitCode == 0, made.err.constData());
        const CliRun shown = m_cli(
            {QStringLiteral("--json"), QStringLiteral("cred"), QStringLiteral("show"), QStringLiteral("fleet-1")});
        const QString device = TestSupport::writeFile(path(QStringLiteral("fleet-1.pem")),
            shown.json()[QStringLiteral("certificate")][QStringLiteral("pem")].toString().toLatin1());
        const auto verified = TestSupport::openssl({QStringLiteral("verify"), QStringLiteral("-CAfile"), caCert,
            QStringLiteral("-purpose"), QStringLiteral("sslclient"), device});
        QVERIFY2(verified.first == 0, verified.second.constData());
        // The self-signed one does not verify against that CA: the check can fail.
        QVERIFY(TestSupport::openssl(
                    {QStringLiteral("verify"), QStringLiteral("-CAfile"), caCert, path(QStringLiteral("x509-dev.pem"))})
                    .first
            != 0);

        // Proof of possession for the portal: a certificate whose subject is the verification code, signed by the CA.
        const QString verification = path(QStringLiteral("verification.pem"));
        const CliRun proved = m_cli({QStringLiteral("cred"), QStringLiteral("verification-cert"),
            QStringLiteral("--ca"), QStringLiteral("fleet"), QStringLiteral("--code"), QStringLiteral("4D1C7B0A9E2F"),
            QStringLiteral("--out"), verification});
        QVERIFY2(proved.exitCode == 0, proved.err.constData());
        QVERIFY(TestSupport::openssl({QStringLiteral("verify"), QStringLiteral("-CAfile"), caCert, verification}).first
            == 0);
        const auto subject = TestSupport::openssl({QStringLiteral("x509"), QStringLiteral("-in"), verification,
            QStringLiteral("-noout"), QStringLiteral("-subject")});
        QVERIFY2(subject.second.contains("CN = 4D1C7B0A9E2F"), subject.second.constData());
        // Never over an existing file; an unknown CA and a code with spaces are refused.
        QCOMPARE(m_cli({QStringLiteral("cred"), QStringLiteral("verification-cert"), QStringLiteral("--ca"),
                           QStringLiteral("fleet"), QStringLiteral("--code"), QStringLiteral("ABC"),
                           QStringLiteral("--out"), verification})
                     .exitCode,
            4);
        QCOMPARE(m_cli({QStringLiteral("cred"), QStringLiteral("verification-cert"), QStringLiteral("--ca"),
                           QStringLiteral("nosuch"), QStringLiteral("--code"), QStringLiteral("ABC"),
                           QStringLiteral("--out"), path(QStringLiteral("v2.pem"))})
                     .exitCode,
            3);
        QCOMPARE(m_cli({QStringLiteral("cred"), QStringLiteral("verification-cert"), QStringLiteral("--ca"),
                           QStringLiteral("fleet"), QStringLiteral("--code"), QStringLiteral("a b"),
                           QStringLiteral("--out"), path(QStringLiteral("v3.pem"))})
                     .exitCode,
            2);

        // A modem-born key: its CSR is signed, its key never comes here, so it cannot be exported.
        const auto [csrCode, csr] = TestSupport::openssl({QStringLiteral("req"), QStringLiteral("-new"),
            QStringLiteral("-newkey"), QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
            QStringLiteral("ec_paramgen_curve:P-256"), QStringLiteral("-nodes"), QStringLiteral("-keyout"),
            path(QStringLiteral("modem.key")), QStringLiteral("-subj"), QStringLiteral("/CN=modem-1")});
        QCOMPARE(csrCode, 0);
        const CliRun signedCsr = m_cli({QStringLiteral("cred"), QStringLiteral("sign-csr"), QStringLiteral("modem-1"),
                                           QStringLiteral("--ca"), QStringLiteral("fleet")},
            csr.mid(csr.indexOf("-----BEGIN")));
        QVERIFY2(signedCsr.exitCode == 0, signedCsr.err.constData());
        QCOMPARE(m_cli({QStringLiteral("cred"), QStringLiteral("export"), QStringLiteral("modem-1"),
                           QStringLiteral("--pkcs12"), QStringLiteral("--out"), path(QStringLiteral("modem-1.p12"))},
                     m_p12Password)
                     .exitCode,
            4);
        const CliRun listed = m_cli({QStringLiteral("--json"), QStringLiteral("cred"), QStringLiteral("list")});
        QCOMPARE(listed.json().array().size(), 4); // x509-dev, fleet (CA), fleet-1, modem-1

        // Deleting a credential: asked for explicitly, then gone from the list.
        QCOMPARE(m_cli({QStringLiteral("cred"), QStringLiteral("delete"), QStringLiteral("modem-1")}).exitCode,
            1); // no terminal, no --yes
        QCOMPARE(m_cli({QStringLiteral("cred"), QStringLiteral("delete"), QStringLiteral("modem-1"),
                           QStringLiteral("--yes")})
                     .exitCode,
            0);
        QCOMPARE(m_cli({QStringLiteral("cred"), QStringLiteral("show"), QStringLiteral("modem-1")}).exitCode, 3);
        QCOMPARE(
            m_cli({QStringLiteral("--json"), QStringLiteral("cred"), QStringLiteral("list")}).json().array().size(), 3);
    }

    void openPgpExportsDecryptToExactlyWhatWasExported()
    {
        QVERIFY(m_cli({QStringLiteral("device"), QStringLiteral("create"), QStringLiteral("sas-dev")}).exitCode == 0);
        // The connection string as the hub makes it (a run that reveals on purpose: not in the scanned log).
        const CliRun revealed = m_cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("show"),
                                          QStringLiteral("sas-dev"), QStringLiteral("--reveal")},
            {}, CliRunner::Logging::NotLogged);
        const QString key = revealed
                                .json()[QStringLiteral("authentication")][QStringLiteral("symmetricKey")]
                                       [QStringLiteral("primaryKey")]
                                .toString();
        QVERIFY(!key.isEmpty());
        const QByteArray expected
            = QStringLiteral("HostName=127.0.0.1;DeviceId=sas-dev;SharedAccessKey=%1").arg(key).toUtf8();

        // To a key in the GnuPG keyring, by e-mail; and to an .asc file.
        const QString publicKeyFile
            = TestSupport::writeFile(path(QStringLiteral("support.asc")), m_gnupg.exportPublic(m_recipient));
        for (const QString &recipient : {QStringLiteral("support@microshare.invalid"), publicKeyFile}) {
            const QString out
                = path(QStringLiteral("sas-dev-%1.asc")
                           .arg(recipient == publicKeyFile ? QStringLiteral("file") : QStringLiteral("keyring")));
            const CliRun exported = m_cli({QStringLiteral("device"), QStringLiteral("connection-string"),
                QStringLiteral("sas-dev"), QStringLiteral("--gpg"), recipient, QStringLiteral("--out"), out});
            QVERIFY2(exported.exitCode == 0, exported.err.constData());
            QVERIFY(exported.out.contains(m_recipient.toLatin1()));
            const auto decrypted = m_gnupg.decrypt(readAll(out));
            QVERIFY2(decrypted.exitCode == 0, decrypted.err.constData());
            QCOMPARE(decrypted.out, expected);
        }

        // The X.509 credential: certificate and private key, and the key is the certificate's.
        const QString credFile = path(QStringLiteral("x509-dev.asc"));
        const CliRun exported = m_cli({QStringLiteral("cred"), QStringLiteral("export"), QStringLiteral("x509-dev"),
            QStringLiteral("--gpg"), m_recipient, QStringLiteral("--out"), credFile});
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
        const auto decrypted = m_gnupg.decrypt(readAll(credFile));
        QCOMPARE(decrypted.exitCode, 0);
        const auto cert = Certificate::fromPem(decrypted.out);
        const auto privateKey
            = KeyPair::fromPem(decrypted.out.mid(decrypted.out.indexOf("-----BEGIN PRIVATE KEY-----")));
        QVERIFY(cert.has_value() && privateKey.has_value());
        QVERIFY(cert->matches(*privateKey));

        // Unknown recipient, missing --out, QR without --reveal.
        QCOMPARE(m_cli({QStringLiteral("device"), QStringLiteral("connection-string"), QStringLiteral("sas-dev"),
                           QStringLiteral("--gpg"), QStringLiteral("nobody@example.invalid"), QStringLiteral("--out"),
                           path(QStringLiteral("nobody.asc"))})
                     .exitCode,
            3);
        QVERIFY(!QFile::exists(path(QStringLiteral("nobody.asc"))));
        QCOMPARE(m_cli({QStringLiteral("device"), QStringLiteral("connection-string"), QStringLiteral("sas-dev"),
                           QStringLiteral("--gpg"), m_recipient})
                     .exitCode,
            1);
        QCOMPARE(m_cli({QStringLiteral("device"), QStringLiteral("connection-string"), QStringLiteral("sas-dev"),
                           QStringLiteral("--qr")})
                     .exitCode,
            1);
    }

    void importNamesEachProblem()
    {
        // Certificates and keys made by openssl, as a user would bring them.
        const auto make = [this](const QString &name, const QStringList &keyArgs) {
            const auto [code, text] = TestSupport::openssl(
                QStringList{QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey")} + keyArgs
                + QStringList{QStringLiteral("-nodes"), QStringLiteral("-keyout"), path(name + QStringLiteral(".key")),
                    QStringLiteral("-out"), path(name + QStringLiteral(".crt")), QStringLiteral("-subj"),
                    QStringLiteral("/CN=") + name, QStringLiteral("-days"), QStringLiteral("5")});
            if (code != 0)
                qFatal("openssl req failed: %s", text.constData());
        };
        make(QStringLiteral("imp-ec"),
            {QStringLiteral("ec"), QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:P-256")});
        make(QStringLiteral("imp-rsa"), {QStringLiteral("rsa:2048")});
        const auto importPair = [this](const QString &id, const QString &cert, const QString &key,
                                    const QStringList &more = {}, const QByteArray &input = {}) {
            return m_cli(QStringList{QStringLiteral("cred"), QStringLiteral("import"), id, QStringLiteral("--cert"),
                             path(cert), QStringLiteral("--key"), path(key)}
                    + more,
                input);
        };

        const CliRun modemOk = importPair(QStringLiteral("imp-ec"), QStringLiteral("imp-ec.crt"),
            QStringLiteral("imp-ec.key"), {QStringLiteral("--modem")});
        QVERIFY2(modemOk.exitCode == 0, modemOk.err.constData());
        const CliRun rsa = importPair(QStringLiteral("imp-rsa"), QStringLiteral("imp-rsa.crt"),
            QStringLiteral("imp-rsa.key"), {QStringLiteral("--modem")});
        QCOMPARE(rsa.exitCode, 2);
        QVERIFY2(rsa.err.contains("EC P-256") && rsa.err.contains("RSA 2048"), rsa.err.constData());
        const CliRun mismatch
            = importPair(QStringLiteral("imp-rsa"), QStringLiteral("imp-rsa.crt"), QStringLiteral("imp-ec.key"));
        QCOMPARE(mismatch.exitCode, 2);
        QVERIFY2(mismatch.err.contains("does not belong"), mismatch.err.constData());

        // An encrypted key: its password on standard input.
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("KEYPASS"), QStringLiteral("import-pass"));
        const auto [code, text] = TestSupport::openssl(
            {QStringLiteral("pkcs8"), QStringLiteral("-topk8"), QStringLiteral("-v2"), QStringLiteral("aes-256-cbc"),
                QStringLiteral("-in"), path(QStringLiteral("imp-rsa.key")), QStringLiteral("-out"),
                path(QStringLiteral("imp-rsa-enc.key")), QStringLiteral("-passout"), QStringLiteral("env:KEYPASS")},
            {}, env);
        QVERIFY2(code == 0, text.constData());
        QCOMPARE(importPair(QStringLiteral("imp-rsa"), QStringLiteral("imp-rsa.crt"), QStringLiteral("imp-rsa-enc.key"),
                     {}, "wrong password")
                     .exitCode,
            2);
        const CliRun encrypted = importPair(QStringLiteral("imp-rsa"), QStringLiteral("imp-rsa.crt"),
            QStringLiteral("imp-rsa-enc.key"), {}, "import-pass");
        QVERIFY2(encrypted.exitCode == 0, encrypted.err.constData());
        QCOMPARE(
            m_cli({QStringLiteral("--json"), QStringLiteral("cred"), QStringLiteral("show"), QStringLiteral("imp-rsa")})
                .json()[QStringLiteral("keyType")]
                .toString(),
            QStringLiteral("RSA 2048"));
    }

    void noPrivateKeyOrSharedAccessKeyInConfigDataOrLogs()
    {
        // The log of every (non-revealing) CLI run, kept as a file beside the test's other output.
        const QString log = TestSupport::writeFile(path(QStringLiteral("cli.log")), m_cli.log);
        QVERIFY(m_cli.log.contains("cred generate")); // the scan looks at real output
        for (const QByteArray &needle : {QByteArray("PRIVATE KEY"), QByteArray("SharedAccessKey=")}) {
            const QString what = QString::fromLatin1(needle);
            for (const QString &dir : {path(QStringLiteral("config")), path(QStringLiteral("data"))}) {
                const QStringList hits = TestSupport::filesContaining(dir, needle);
                QVERIFY2(hits.isEmpty(), qPrintable(QStringLiteral("%1 in %2").arg(what, hits.join(u' '))));
            }
            QVERIFY2(
                !m_cli.log.contains(needle), qPrintable(QStringLiteral("%1 in the CLI output (%2)").arg(what, log)));
        }
        // The scans would see one: the data dir does hold the certificates.
        QVERIFY(!TestSupport::filesContaining(path(QStringLiteral("data")), "BEGIN CERTIFICATE").isEmpty());
    }

    void cleanupTestCase()
    {
        m_cli({QStringLiteral("hub"), QStringLiteral("remove"), QStringLiteral("credsb")});
        m_sandbox.terminate();
        m_sandbox.waitForFinished(5000);
    }
};

QTEST_GUILESS_MAIN(tst_CliCredentials)
#include "tst_clicredentials.moc"
