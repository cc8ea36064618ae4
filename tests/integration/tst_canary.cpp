// The canary: secrets that go through the whole workflow must turn up nowhere they could leak to. A real sandbox hub
// process, a real mosquitto, the modem simulator and the real keychain; onboarder-cli runs as a user runs it, every
// run with every logging category of the project on (debug and info) and Qt's plugin loader's, and what it prints is
// kept. The secrets: the hub owner
// policy's key (hub add), a SAS device's two keys (device create), an X.509 device's private key (cred generate, then
// flashed into a simulated modem with modem flash-azure), the key of a modem provisioned with a profile that moves the
// key off this computer, and the keys of the devices the relay registered by itself (relay run with autoRegister). The
// SAS device's connection string also leaves as an OpenPGP file (device connection-string --gpg). The test learns each
// secret itself (from the registry over HTTPS, the keychain, the simulator's state), never from the CLI's output.
//
// Then every place a secret could leak to is searched for every one of them: keys as base64 text, percent-encoded and
// as raw bytes; private keys as slices of their PEM body and of their DER that only that key has. The places: every
// file below the CLI's HOME and XDG config, data, cache and state folders (settings, hub profiles, credential
// inventory and certificates, audit log, key ledger, the relay's SQLite outbox, the OpenPGP export), every file in /tmp
// (and $TMPDIR) modified since the test started, and everything the CLI printed. Pass: no hit. A hit names the kind of
// secret and where it was, never the secret. Planted copies (a private key in the home, the owner key astride the
// 1 MiB boundary of the chunked read in the temp folder) must be found, so the scan cannot pass by reading nothing.
//
// Where secrets are by design, and so not searched: the keychain itself (gnome-keyring's file in the test session's
// home is searched, and is encrypted), the sandbox hub's data folder (a hub keeps its devices' keys) and the modem
// simulators' state folders (a modem keeps the key flashed into it).
// Not covered here: the processes' memory and environment, /dev/shm, the system journal.
#include "clirunner.h"
#include "common/appinfo.h"
#include "credentials/credentialstore.h"
#include "credentials/keypair.h"
#include "credentials/secretstore.h"
#include "gnupghome.h"
#include "hub/connectionstring.h"
#include "hub/hubclient.h"
#include "modemsimfixture.h"
#include "mosquittofixture.h"
#include "relayfixture.h"
#include "sandboxprocess.h"
#include "testsupport.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <algorithm>
#include <functional>
#include <memory>
#include <utility>

using Run = TestSupport::CliRun;

namespace {

// One secret in one form, and what a failure message calls it (never the secret itself).
struct Needle
{
    QString kind;
    QByteArray bytes;
};

struct Hit
{
    QString kind;
    QString where;
};

// What a scan read and found.
struct Scan
{
    QList<Hit> hits;
    QSet<QString> scanned; // the files read, by canonical path
    int unreadable = 0;
};

// The base64 lines of a PEM block: no BEGIN and END lines, no headers.
QList<QByteArray> pemBodyLines(const QByteArray &pem)
{
    QList<QByteArray> lines;
    for (const QByteArray &raw : pem.split('\n')) {
        const QByteArray line = raw.trimmed();
        if (!line.isEmpty() && !line.startsWith("-----") && !line.contains(':'))
            lines.append(line);
    }
    return lines;
}

QByteArray pemBody(const QByteArray &pem)
{
    return pemBodyLines(pem).join();
}

// The slices of width bytes, every step bytes, of each piece that are in none of the shared texts.
QList<QByteArray> distinctiveSlices(
    const QList<QByteArray> &pieces, qsizetype width, qsizetype step, const QList<QByteArray> &shared)
{
    QList<QByteArray> slices;
    for (const QByteArray &piece : pieces) {
        for (qsizetype start = 0; start + width <= piece.size(); start += step) {
            const QByteArray slice = piece.mid(start, width);
            const bool common = std::any_of(
                shared.cbegin(), shared.cend(), [&slice](const QByteArray &text) { return text.contains(slice); });
            if (!common && !slices.contains(slice))
                slices.append(slice);
        }
    }
    return slices;
}

// At most count (two or more) of them, spread from the first to the last.
QList<QByteArray> spread(const QList<QByteArray> &all, qsizetype count)
{
    if (all.size() <= count)
        return all;
    QList<QByteArray> picked;
    for (qsizetype i = 0; i < count; ++i)
        picked.append(all.at(i * (all.size() - 1) / (count - 1)));
    return picked;
}

// What a simulated modem stores in a security tag (the content of its state file's entry), empty when nothing.
QByteArray storedCredential(const QString &stateFile, qint64 tag, int type)
{
    QFile file(stateFile);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const QJsonArray entries
        = QJsonDocument::fromJson(file.readAll()).object().value(QStringLiteral("credentials")).toArray();
    for (const QJsonValue &value : entries) {
        const QJsonObject entry = value.toObject();
        if (entry.value(QStringLiteral("tag")).toInteger() == tag
            && entry.value(QStringLiteral("type")).toInt() == type)
            return QByteArray::fromBase64(entry.value(QStringLiteral("content")).toString().toLatin1());
    }
    return {};
}

QString canonical(const QString &path)
{
    return QFileInfo(path).canonicalFilePath();
}

bool isBelow(const QString &path, const QStringList &dirs)
{
    return std::any_of(dirs.cbegin(), dirs.cend(),
        [&path](const QString &dir) { return !dir.isEmpty() && path.startsWith(dir + u'/'); });
}

// /tmp and the temp folder Qt uses ($TMPDIR), each once.
QStringList tempRoots()
{
    QStringList roots;
    for (const QString &dir : {QStringLiteral("/tmp"), QDir::tempPath()}) {
        const QString path = canonical(dir);
        if (!path.isEmpty() && !roots.contains(path))
            roots.append(path);
    }
    return roots;
}

QList<QJsonObject> jsonLines(const QByteArray &out)
{
    QList<QJsonObject> objects;
    for (const QByteArray &line : out.split('\n')) {
        if (!line.trimmed().isEmpty())
            objects.append(QJsonDocument::fromJson(line).object());
    }
    return objects;
}

// Which run of the collected CLI output printed what is at offset at: its command line (which never holds a secret).
QString runAt(const QByteArray &log, qsizetype at)
{
    const qsizetype start = log.lastIndexOf("$ onboarder-cli ", at);
    if (start < 0)
        return QStringLiteral("the CLI output");
    const qsizetype end = log.indexOf('\n', start);
    return QStringLiteral("the output of `%1`").arg(QString::fromUtf8(log.mid(start + 2, end - start - 2)));
}

} // namespace

class tst_Canary : public QObject
{
    Q_OBJECT

    // A little before the start: the temp folder's files modified after it are searched.
    const QDateTime m_started = QDateTime::currentDateTimeUtc().addSecs(-2);
    QTemporaryDir m_dir;
    QString m_home; // the CLI's HOME, with its XDG folders below it
    TestSupport::GnupgHome m_gnupg;
    TestSupport::CliRunner m_cli; // keeps what every run printed
    TestSupport::SandboxProcess m_sandbox;
    MosquittoFixture m_broker;
    TestSupport::ModemSim m_flashSim;
    TestSupport::ModemSim m_provisionSim;
    std::unique_ptr<Onboarder::HubClient> m_registry; // the test's own view of the hub's devices and their keys
    QProcess m_relay;
    QByteArray m_relayOut;
    QByteArray m_relayErr;
    QString m_relayConfig;
    QString m_outbox;
    QString m_exportFile;
    QString m_ownerKey;
    QString m_sasPrimaryKey;
    QByteArray m_x509KeyPem;
    QString m_provisionedDevice;
    QList<Needle> m_needles;
    bool m_hubAdded = false; // only then does the cleanup run the CLI (in the test's HOME, never the user's)

    const QString m_hubName = QStringLiteral("canary");
    const QString m_sasDevice = QStringLiteral("canary-sas");
    const QString m_x509Device = QStringLiteral("canary-x509");
    const QString m_recipient = QStringLiteral("canary@example.invalid");
    static constexpr int relayDevices = 3;
    static constexpr qint64 relayMessages = 9;

    bool addNeedle(const QString &kind, const QByteArray &bytes)
    {
        if (bytes.size() < 16) // shorter ones could match by chance
            return false;
        for (const Needle &needle : std::as_const(m_needles)) {
            if (needle.bytes == bytes)
                return false;
        }
        m_needles.append(Needle{kind, bytes});
        return true;
    }

    // A base64 key (SAS, policy): as text (without its padding, so a key that lost it is found too), percent-encoded
    // as in a URL, and its raw bytes.
    bool addKeyNeedles(const QString &label, const QString &key)
    {
        const QByteArray raw = QByteArray::fromBase64(key.toLatin1());
        QByteArray text = key.toLatin1();
        while (text.endsWith('='))
            text.chop(1);
        if (raw.size() < 16 || text.size() < 20)
            return false;
        addNeedle(label + QStringLiteral(" (base64)"), text);
        const QByteArray escaped = QUrl::toPercentEncoding(QString::fromLatin1(text));
        if (escaped != text)
            addNeedle(label + QStringLiteral(" (percent-encoded)"), escaped);
        addNeedle(label + QStringLiteral(" (raw bytes)"), raw);
        return true;
    }

    // A private key: 40-character slices of its PEM body, each within one line (so they match the PEM with or without
    // its line breaks, and with escaped ones in JSON), and 24-byte slices of its DER. Only slices this key alone has:
    // none that another key of its type has too (the PKCS#8 header every P-256 key starts with), none that is public
    // (its public key's DER, and that in base64 at each byte alignment: the certificate holds it, legitimately). In
    // PKCS#8 as the app writes it, and in the form given when that differs.
    bool addPrivateKeyNeedles(const QString &label, const QByteArray &pem)
    {
        using Onboarder::KeyPair;
        const auto key = KeyPair::fromPem(pem);
        if (!key)
            return false;
        const auto other = KeyPair::generate(key->type() == KeyPair::Type::Other ? KeyPair::Type::EcP256 : key->type());
        if (!other)
            return false;
        const QByteArray otherDer = QByteArray::fromBase64(pemBody(other->privateKeyPem().exposeForWire()));
        const QByteArray publicDer = QByteArray::fromBase64(pemBody(key->publicKeyPem()));
        const QList<QByteArray> sharedText{
            otherDer.toBase64(), publicDer.toBase64(), publicDer.mid(1).toBase64(), publicDer.mid(2).toBase64()};
        QList<QByteArray> forms{key->privateKeyPem().exposeForWire()};
        if (pemBody(pem) != pemBody(forms.first()))
            forms.append(pem);
        int pemSlices = 0;
        for (const QByteArray &form : std::as_const(forms)) {
            const QList<QByteArray> slices = spread(distinctiveSlices(pemBodyLines(form), 40, 4, sharedText), 4);
            for (const QByteArray &slice : slices) {
                if (addNeedle(label + QStringLiteral(" (PEM slice %1)").arg(pemSlices + 1), slice))
                    ++pemSlices;
            }
        }
        int derSlices = 0;
        const QByteArray der = QByteArray::fromBase64(pemBody(forms.first()));
        const QList<QByteArray> derPieces = spread(distinctiveSlices({der}, 24, 6, {otherDer, publicDer}), 2);
        for (const QByteArray &slice : derPieces) {
            if (addNeedle(label + QStringLiteral(" (DER slice %1)").arg(derSlices + 1), slice))
                ++derSlices;
        }
        return pemSlices >= 2 && derSlices >= 1;
    }

    // A device's SAS keys as the hub holds them, read here through the registry (not through the CLI, whose output
    // is searched) and added as needles: its primary key, or an empty string when the hub did not give them.
    QString learnDeviceKeys(const QString &label, const QString &id)
    {
        const auto device = TestSupport::await(m_registry->device(id));
        if (!device || device->primaryKey.isEmpty() || device->secondaryKey.isEmpty())
            return {};
        const QString name = label + u' ' + id;
        if (!addKeyNeedles(name + QStringLiteral(" primary key"), device->primaryKey)
            || !addKeyNeedles(name + QStringLiteral(" secondary key"), device->secondaryKey))
            return {};
        return device->primaryKey;
    }

    // Text for a failure message: every known secret replaced by its kind.
    QByteArray safe(QByteArray text) const
    {
        for (const Needle &needle : m_needles) {
            const QByteArray mask = "<" + needle.kind.toUtf8() + ">";
            text.replace(needle.bytes, mask);
        }
        return text;
    }

    // The kinds of the needles in what device gives, each once. Read in chunks of 1 MiB, each searched together with
    // the end of the one before, so that a large file costs little memory and a needle across two chunks is found.
    QStringList needlesIn(QIODevice &device) const
    {
        qsizetype longest = 1;
        for (const Needle &needle : m_needles)
            longest = std::max(longest, needle.bytes.size());
        QList<bool> found(m_needles.size(), false);
        QByteArray tail;
        for (QByteArray chunk = device.read(1 << 20); !chunk.isEmpty(); chunk = device.read(1 << 20)) {
            const QByteArray window = tail + chunk;
            for (qsizetype i = 0; i < m_needles.size(); ++i) {
                if (!found.at(i) && window.contains(m_needles.at(i).bytes))
                    found[i] = true;
            }
            tail = window.right(longest - 1);
        }
        QStringList kinds;
        for (qsizetype i = 0; i < m_needles.size(); ++i) {
            if (found.at(i))
                kinds.append(m_needles.at(i).kind);
        }
        return kinds;
    }

    // Every regular file below root (symbolic links not followed), outside the excluded folders and, when
    // modifiedAfter is valid, modified after it; a file another pass read already is not read again.
    void scanTree(const QString &root, const QDateTime &modifiedAfter, const QStringList &excluded, Scan &scan) const
    {
        QDirIterator it(root, QDir::Files | QDir::Hidden | QDir::NoSymLinks, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString path = it.next();
            const QFileInfo info = it.fileInfo();
            if (!info.isFile() || isBelow(path, excluded) || scan.scanned.contains(path))
                continue;
            if (modifiedAfter.isValid() && info.lastModified() <= modifiedAfter)
                continue;
            QFile file(path);
            if (!file.open(QIODevice::ReadOnly)) {
                ++scan.unreadable; // another user's file in /tmp
                continue;
            }
            scan.scanned.insert(path);
            const QStringList kinds = needlesIn(file);
            for (const QString &kind : kinds)
                scan.hits.append(Hit{kind, path});
        }
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_TEST_SESSION();
        REQUIRE_TOOL("gpg");
        REQUIRE_TOOL("mosquitto");
        QVERIFY(m_dir.isValid());

        // The CLI's own HOME and XDG folders, all below one folder that the scan reads whole.
        m_home = m_dir.filePath(QStringLiteral("home"));
        const QString config = m_home + QStringLiteral("/.config");
        const QString data = m_home + QStringLiteral("/.local/share");
        const QString cache = m_home + QStringLiteral("/.cache");
        const QString state = m_home + QStringLiteral("/.local/state");
        for (const QString &dir : {config, data, cache, state})
            QVERIFY(QDir().mkpath(dir));
        m_cli.environment.insert(QStringLiteral("HOME"), m_home);
        m_cli.environment.insert(QStringLiteral("XDG_CONFIG_HOME"), config);
        m_cli.environment.insert(QStringLiteral("XDG_DATA_HOME"), data);
        m_cli.environment.insert(QStringLiteral("XDG_CACHE_HOME"), cache);
        m_cli.environment.insert(QStringLiteral("XDG_STATE_HOME"), state);
        m_cli.environment.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
        m_cli.environment.insert(QStringLiteral("GNUPGHOME"), m_gnupg.path());
        // Every logging category of the project on at debug and info level, and Qt's plugin loader, which logs while
        // the process exits (where the redaction once ran with destroyed rules); each line says its level and category,
        // so that the scan can tell it read debug output. Before that was fixed, `hub add` hung at its exit here.
        m_cli.environment.insert(QStringLiteral("QT_LOGGING_RULES"),
            QStringLiteral("onboarder*.debug=true;onboarder*.info=true;qt.core.library.debug=true"));
        m_cli.environment.insert(QStringLiteral("QT_MESSAGE_PATTERN"),
            QStringLiteral("[%{type}] %{if-category}%{category}: %{endif}%{message}"));

        QVERIFY(!m_gnupg.generateKey(QStringLiteral("Canary Recipient <canary@example.invalid>")).isEmpty());

        const QString started = m_sandbox.start(m_dir.filePath(QStringLiteral("hub")));
        QVERIFY2(started.isEmpty(), qPrintable(started));
        const auto owner = Onboarder::ConnectionString::parse(m_sandbox.connectionString());
        QVERIFY(owner.has_value());
        m_ownerKey = owner->sharedAccessKey().exposeAsString();
        QVERIFY2(addKeyNeedles(QStringLiteral("hub owner policy key"), m_ownerKey), "the owner key is no base64 key");
        Onboarder::HubProfile profile;
        profile.name = m_hubName;
        profile.hostName = m_sandbox.hostName();
        profile.policyName = owner->sharedAccessKeyName();
        profile.restPort = m_sandbox.restPort();
        profile.mqttPort = m_sandbox.mqttPort();
        profile.amqpPort = m_sandbox.amqpPort();
        profile.caFile = m_sandbox.caFile();
        m_registry = std::make_unique<Onboarder::HubClient>(profile, *owner);

        QVERIFY2(m_broker.start(), qPrintable(m_broker.errorString()));
        QCOMPARE(m_flashSim.start(), QString());
        QCOMPARE(m_provisionSim.start(
                     {QStringLiteral("--imei"), TestSupport::completeImei(QStringLiteral("35699000000001"))}),
            QString());
    }

    // 1. The hub owner policy's key: on standard input to hub add, then used by the CLI to sign its requests.
    void hubAdd()
    {
        const Run added = m_cli(m_sandbox.hubAddArguments(m_hubName), m_sandbox.connectionString().toUtf8());
        QVERIFY2(added.exitCode == 0, safe(added.err).constData());
        m_hubAdded = true;
        const Run used = m_cli({QStringLiteral("hub"), QStringLiteral("use"), m_hubName});
        QVERIFY2(used.exitCode == 0, safe(used.err).constData());
        const Run listed = m_cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("list")});
        QVERIFY2(listed.exitCode == 0, safe(listed.err).constData());
    }

    // 2. A SAS device: the hub makes its keys; the CLI shows them masked.
    void sasDevice()
    {
        const Run created
            = m_cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("create"), m_sasDevice});
        QVERIFY2(created.exitCode == 0, safe(created.err).constData());
        const Run shown
            = m_cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("show"), m_sasDevice});
        QVERIFY2(shown.exitCode == 0, safe(shown.err).constData());
        const Run masked = m_cli({QStringLiteral("device"), QStringLiteral("connection-string"), m_sasDevice});
        QVERIFY2(masked.exitCode == 0, safe(masked.err).constData());
        m_sasPrimaryKey = learnDeviceKeys(QStringLiteral("SAS device"), m_sasDevice);
        QVERIFY2(!m_sasPrimaryKey.isEmpty(), "the registry did not give the SAS device's keys");
    }

    // 3. An X.509 device: key pair made by the CLI, the key in the keychain, the device registered by thumbprint.
    void x509Credential()
    {
        const Run made = m_cli({QStringLiteral("cred"), QStringLiteral("generate"), m_x509Device});
        QVERIFY2(made.exitCode == 0, safe(made.err).constData());
        const Run registered = m_cli({QStringLiteral("--json"), QStringLiteral("device"), QStringLiteral("create"),
            m_x509Device, QStringLiteral("--auth"), QStringLiteral("x509-self-signed")});
        QVERIFY2(registered.exitCode == 0, safe(registered.err).constData());
        const Run shown
            = m_cli({QStringLiteral("--json"), QStringLiteral("cred"), QStringLiteral("show"), m_x509Device});
        QVERIFY2(shown.exitCode == 0, safe(shown.err).constData());

        // The private key, read back here from the keychain entry the CLI filed it under.
        Onboarder::SecretStore keychain(Onboarder::AppInfo::keychainService());
        const auto pem
            = TestSupport::await(keychain.load(Onboarder::CredentialStore::privateKeyEntry(m_hubName, m_x509Device)));
        QVERIFY2(pem.has_value(), pem ? "" : qPrintable(pem.error().message));
        QVERIFY2(pem->view().contains("PRIVATE KEY"), "the keychain entry holds no PEM private key");
        m_x509KeyPem = pem->exposeForWire();
        QVERIFY2(addPrivateKeyNeedles(QStringLiteral("X.509 private key of ") + m_x509Device, m_x509KeyPem),
            "too few slices of the private key are its own");
    }

    // 4. The SAS device's connection string, OpenPGP-encrypted to a recipient in the GnuPG home. The file is searched
    // with the rest (in the CLI's home): it must not hold the key in the clear.
    void openPgpExport()
    {
        QVERIFY(!m_sasPrimaryKey.isEmpty());
        QVERIFY(QDir().mkpath(m_home + QStringLiteral("/exports")));
        m_exportFile = m_home + QStringLiteral("/exports/canary-sas.asc");
        const Run exported = m_cli({QStringLiteral("device"), QStringLiteral("connection-string"), m_sasDevice,
            QStringLiteral("--gpg"), m_recipient, QStringLiteral("--out"), m_exportFile});
        QVERIFY2(exported.exitCode == 0, safe(exported.err).constData());
        QFile file(m_exportFile);
        QVERIFY(file.open(QIODevice::ReadOnly));
        // It does carry the key (decrypted in memory only), so finding no key in the file means something.
        const auto decrypted = m_gnupg.decrypt(file.readAll());
        QVERIFY2(decrypted.exitCode == 0, decrypted.err.constData());
        QVERIFY2(decrypted.out.contains(m_sasPrimaryKey.toLatin1()), "the export does not hold the device's key");
    }

    // 5. The X.509 device's certificate and key from the keychain into a simulated modem, with the AT trace on.
    void flashAzure()
    {
        QVERIFY(!m_x509KeyPem.isEmpty());
        const Run flashed = m_cli({QStringLiteral("--json"), QStringLiteral("modem"), QStringLiteral("flash-azure"),
            QStringLiteral("--port"), m_flashSim.port(), QStringLiteral("--device"), m_x509Device,
            QStringLiteral("--tag"), QStringLiteral("10"), QStringLiteral("--secondary-tag"), QStringLiteral("11")});
        QVERIFY2(flashed.exitCode == 0, safe(flashed.err).constData());
        QCOMPARE(flashed.json().object().value(QStringLiteral("ok")).toBool(), true);
        QVERIFY2(flashed.err.contains("AT%CMNG=0,10,2,<secret"),
            "the modem's AT trace was not in the output: the debug log was off and its scan would prove little");
        // The modem holds the keychain's key (its state file's folder is not searched: a modem keeps its key).
        const auto flashedKey = Onboarder::KeyPair::fromPem(storedCredential(m_flashSim.stateFile(), 10, 2));
        const auto keptKey = Onboarder::KeyPair::fromPem(m_x509KeyPem);
        QVERIFY(flashedKey.has_value() && keptKey.has_value());
        QVERIFY2(
            flashedKey->privateKeyPem() == keptKey->privateKeyPem(), "the modem holds another key than the keychain");
    }

    // 6. One modem provisioned with a minimal profile; its key is made here, flashed, and then kept only in the modem.
    void provisionOneModem()
    {
        const QJsonObject profile{{QStringLiteral("hub"), m_hubName},
            {QStringLiteral("deviceIdTemplate"), QStringLiteral("canary-{imei6}")},
            {QStringLiteral("auth"), QStringLiteral("x509-self-signed")},
            {QStringLiteral("keyBirth"), QStringLiteral("pc")}, {QStringLiteral("keepKeyOnPc"), false},
            {QStringLiteral("secTag"), 10}, {QStringLiteral("secondarySecTag"), 11}};
        const QString profileFile
            = TestSupport::writeFile(m_dir.filePath(QStringLiteral("profile.json")), QJsonDocument(profile).toJson());
        const Run run = m_cli({QStringLiteral("--json"), QStringLiteral("provision"), QStringLiteral("--profile"),
            profileFile, QStringLiteral("--port"), m_provisionSim.port(), QStringLiteral("--operator"),
            QStringLiteral("canary")});
        QVERIFY2(run.exitCode == 0, safe(run.err).constData());
        const QList<QJsonObject> events = jsonLines(run.out);
        for (const QJsonObject &event : events) {
            if (event.value(QStringLiteral("event")).toString() == QStringLiteral("result")) {
                QCOMPARE(event.value(QStringLiteral("result")).toString(), QStringLiteral("passed"));
                m_provisionedDevice = event.value(QStringLiteral("deviceId")).toString();
            }
        }
        QVERIFY2(!m_provisionedDevice.isEmpty(), "no result line in the provisioning progress");
        // The key left this computer for the modem: the simulator's state is where the test reads it.
        const QByteArray pem = storedCredential(m_provisionSim.stateFile(), 10, 2);
        QVERIFY2(pem.contains("PRIVATE KEY"), "the provisioned modem holds no private key in security tag 10");
        QVERIFY2(addPrivateKeyNeedles(QStringLiteral("provisioned private key of ") + m_provisionedDevice, pem),
            "too few slices of the provisioned key are its own");
    }

    // 7. The relay between the local broker and the hub, registering the sensors' devices by itself (SAS), a few
    // messages through it, then SIGTERM as systemd stops it.
    void relayAutoRegisters()
    {
        m_outbox = m_home + QStringLiteral("/.local/state/onboarder/canary-outbox.db");
        QVERIFY(QDir().mkpath(QFileInfo(m_outbox).absolutePath()));
        const QJsonObject config{{QStringLiteral("hub"), m_hubName},
            {QStringLiteral("source"),
                QJsonObject{{QStringLiteral("url"), QStringLiteral("mqtt://127.0.0.1:%1").arg(m_broker.port())},
                    {QStringLiteral("clientId"), QStringLiteral("canary-relay")},
                    {QStringLiteral("topics"), QJsonArray{QStringLiteral("sensors/+/telemetry")}}}},
            {QStringLiteral("deviceIdFromTopic"), QStringLiteral("sensors/{deviceId}/telemetry")},
            {QStringLiteral("autoRegister"), true}, {QStringLiteral("deviceAuth"), QStringLiteral("sas")},
            {QStringLiteral("metricsIntervalMs"), 250},
            {QStringLiteral("outbox"), QJsonObject{{QStringLiteral("path"), m_outbox}}}};
        m_relayConfig
            = TestSupport::writeFile(m_dir.filePath(QStringLiteral("relay.json")), QJsonDocument(config).toJson());
        const Run checked
            = m_cli({QStringLiteral("relay"), QStringLiteral("check"), QStringLiteral("--config"), m_relayConfig});
        QVERIFY2(checked.exitCode == 0, safe(checked.err).constData());

        RelayFixture::Consumer consumer;
        QVERIFY(consumer.connect(m_sandbox.hostName(), m_sandbox.mqttPort(), m_sandbox.caFile(), m_ownerKey,
            QStringLiteral("canary-consumer")));
        m_relay.setProcessEnvironment(m_cli.environment);
        m_relay.start(TestSupport::buildPath(QStringLiteral("app/onboarder-cli")),
            {QStringLiteral("--json"), QStringLiteral("relay"), QStringLiteral("run"), QStringLiteral("--config"),
                m_relayConfig});
        QVERIFY(m_relay.waitForStarted(10000));
        const auto drain = [this] {
            m_relayOut += m_relay.readAllStandardOutput();
            m_relayErr += m_relay.readAllStandardError();
        };
        const auto runFor = [&drain](QDeadlineTimer deadline, const std::function<bool()> &done) {
            while (!done() && !deadline.hasExpired()) {
                QTest::qWait(50);
                drain();
            }
        };
        runFor(QDeadlineTimer(20000), [this] {
            return m_relayOut.contains("\"source\":\"subscribed\"") || m_relay.state() != QProcess::Running;
        });
        QVERIFY2(m_relayOut.contains("\"source\":\"subscribed\""), safe(m_relayErr.right(2000)).constData());

        RelayFixture::Publisher publisher(m_broker.port(), relayDevices, QStringLiteral("canary-relay-"));
        QVERIFY(publisher.connect());
        QVERIFY(publisher.publishUntil(relayMessages, 30000));
        runFor(QDeadlineTimer(30000), [&consumer] { return consumer.distinct() >= relayMessages; });
        QCOMPARE(consumer.distinct(), relayMessages);
        runFor(QDeadlineTimer(2000), [] { return false; }); // a few more metrics and log lines
        m_relay.terminate();
        QVERIFY(m_relay.waitForFinished(15000));
        drain();
        QCOMPARE(m_relay.exitStatus(), QProcess::NormalExit);
        QCOMPARE(m_relay.exitCode(), 0);

        for (int n = 0; n < relayDevices; ++n) {
            const QString id = publisher.deviceFor(n);
            QVERIFY2(!learnDeviceKeys(QStringLiteral("relay-registered device"), id).isEmpty(), qPrintable(id));
        }
    }

    // 8. Every secret, everywhere it could have gone.
    void noSecretAnywhere()
    {
        // The redaction of every message worked, also of those logged while the processes exited.
        QVERIFY(m_cli.log.contains("unloaded library"));
        QVERIFY(!m_cli.log.contains("invalid QRegularExpression"));

        // A step that did not learn its secret would leave a gap in the search.
        for (const QString &kind :
            {QStringLiteral("hub owner policy key"), QStringLiteral("SAS device"), QStringLiteral("X.509 private key"),
                QStringLiteral("provisioned private key"), QStringLiteral("relay-registered device")}) {
            const bool known = std::any_of(m_needles.cbegin(), m_needles.cend(),
                [&kind](const Needle &needle) { return needle.kind.startsWith(kind); });
            QVERIFY2(known, qPrintable(QString(QStringLiteral("no needle for: ") + kind)));
        }

        // Positive controls, removed after the scan: the X.509 key's PEM as a file would hold it, in the home; the
        // owner key astride the 1 MiB boundary of the chunked read, in a new file of the temp folder.
        const QString homeControl
            = TestSupport::writeFile(m_home + QStringLiteral("/.cache/canary-control.pem"), m_x509KeyPem);
        QByteArray astride(3 << 20, 'x');
        QByteArray ownerText = m_ownerKey.toLatin1();
        while (ownerText.endsWith('='))
            ownerText.chop(1);
        astride.replace((1 << 20) - 20, ownerText.size(), ownerText);
        const QString tempControl
            = TestSupport::writeFile(m_dir.filePath(QStringLiteral("canary-control.bin")), astride);
        const QString homeControlPath = canonical(homeControl);
        const QString tempControlPath = canonical(tempControl);

        Scan scan;
        scanTree(canonical(m_home), {}, {}, scan);
        // Not searched: the sandbox hub's data folder (a hub keeps its devices' keys, by design) and the simulators'
        // folders (a modem's state file holds the key flashed into it, by design).
        const QStringList excluded{canonical(m_dir.filePath(QStringLiteral("hub"))),
            canonical(QFileInfo(m_flashSim.stateFile()).absolutePath()),
            canonical(QFileInfo(m_provisionSim.stateFile()).absolutePath())};
        for (const QString &dir : excluded)
            QVERIFY(!dir.isEmpty());
        const QStringList roots = tempRoots();
        for (const QString &root : roots)
            scanTree(root, m_started, excluded, scan);
        QVERIFY(QFile::remove(homeControl));
        QVERIFY(QFile::remove(tempControl));

        const QString x509 = QStringLiteral("X.509 private key");
        const QString pemSlice = QStringLiteral("(PEM slice");
        const auto hitsIn = [&scan](const QString &path, const QString &kindStart, const QString &kindPart) {
            return std::count_if(scan.hits.cbegin(), scan.hits.cend(), [&](const Hit &hit) {
                return hit.where == path && hit.kind.startsWith(kindStart) && hit.kind.contains(kindPart);
            });
        };
        const auto pemSlices = std::count_if(m_needles.cbegin(), m_needles.cend(),
            [&](const Needle &needle) { return needle.kind.startsWith(x509) && needle.kind.contains(pemSlice); });
        QVERIFY2(hitsIn(homeControlPath, x509, pemSlice) == pemSlices,
            "not every slice of a private key planted in the home was found: the scan proves nothing");
        QVERIFY2(hitsIn(tempControlPath, QStringLiteral("hub owner policy key"), QStringLiteral("(base64)")) == 1,
            "the owner key planted in the temp folder was not found: the scan proves nothing");
        scan.hits.removeIf(
            [&](const Hit &hit) { return hit.where == homeControlPath || hit.where == tempControlPath; });

        // The files that matter were read.
        for (const QString &file : {m_outbox, m_exportFile,
                 QString(m_home + QStringLiteral("/.local/share/onboarder/audit/provisioning.jsonl")),
                 QString(m_home + QStringLiteral("/.local/share/onboarder/credentials/inventory.json"))}) {
            const QString path = canonical(file);
            QVERIFY2(!path.isEmpty() && scan.scanned.contains(path),
                qPrintable(QString(QStringLiteral("not searched: ") + file)));
        }

        // What the CLI printed: real output, with debug lines in it.
        QVERIFY2(m_cli.log.count("$ onboarder-cli ") >= 12, "too few CLI runs were collected");
        QVERIFY2(m_cli.log.count("[debug] onboarder.") >= 10, "hardly a debug line in the CLI output");
        QVERIFY(m_relayOut.contains("\"source\":\"subscribed\""));
        for (const Needle &needle : std::as_const(m_needles)) {
            if (const qsizetype at = m_cli.log.indexOf(needle.bytes); at >= 0)
                scan.hits.append(Hit{needle.kind, runAt(m_cli.log, at)});
            if (m_relayOut.contains(needle.bytes))
                scan.hits.append(Hit{needle.kind, QStringLiteral("the relay's standard output")});
            if (m_relayErr.contains(needle.bytes))
                scan.hits.append(Hit{needle.kind, QStringLiteral("the relay's standard error")});
        }

        qInfo("searched %lld files (%d unreadable, skipped) and %lld bytes of CLI output for %lld needles",
            qint64(scan.scanned.size()), scan.unreadable,
            qint64(m_cli.log.size() + m_relayOut.size() + m_relayErr.size()), qint64(m_needles.size()));
        QStringList report;
        for (const Hit &hit : std::as_const(scan.hits))
            report.append(QString(hit.kind + QStringLiteral(" in ") + hit.where));
        QVERIFY2(scan.hits.isEmpty(),
            qPrintable(QString(QStringLiteral("secrets leaked (%1):\n").arg(scan.hits.size()) + report.join(u'\n'))));
    }

    void cleanupTestCase()
    {
        if (m_relay.state() != QProcess::NotRunning) {
            m_relay.kill();
            m_relay.waitForFinished(5000);
        }
        // Best effort and not collected: the entries this test made in the app's keychain service.
        if (m_hubAdded) {
            for (const QString &device : {m_x509Device, m_provisionedDevice}) {
                if (!device.isEmpty())
                    TestSupport::runCli(m_cli.environment,
                        {QStringLiteral("cred"), QStringLiteral("delete"), device, QStringLiteral("--yes")});
            }
            TestSupport::runCli(m_cli.environment, {QStringLiteral("hub"), QStringLiteral("remove"), m_hubName});
        }
        m_sandbox.stop();
    }
};

QTEST_GUILESS_MAIN(tst_Canary)
#include "tst_canary.moc"
