// onboarder-cli cred generate|show|export|list|import-ca|sign-csr|roots — device credentials through CredentialStore.
#include "command.h"
#include "credentials/certificaterequest.h"
#include "credentials/credentialstore.h"
#include "credentials/rootcertificates.h"
#include "credentials/secretexport.h"
#include "exportcli.h"
#include "hub/hubstore.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSaveFile>

#include <unistd.h>

namespace Onboarder::Cli {

namespace {

const QString hubOption = QStringLiteral("hub");

void addHubOption(VerbParser &p)
{
    p.addOption({hubOption,
        CliText::tr("The hub profile the device belongs to (default: the global --hub, else the current hub)."),
        CliText::tr("NAME")});
}

// The hub a cred command files the credential under: the verb's --hub, else the global one; it must be a hub
// this computer knows, so that a typo does not file keys under a name nobody uses.
Result<QString> chosenHub(const Context &ctx, const VerbParser &p)
{
    QString hub = p.isSet(hubOption) ? p.value(hubOption) : ctx.hub;
    if (hub.isEmpty())
        return fail(ErrorKind::NotFound, QStringLiteral("NoHubChosen"),
            CliText::tr("No hub chosen: give --hub NAME, or make one current with onboarder-cli hub use NAME."));
    if (!ctx.hubs.find(hub))
        return fail(
            ErrorKind::NotFound, QStringLiteral("HubNotFound"), CliText::tr("There is no hub named \"%1\".").arg(hub));
    return hub;
}

// The device a verb works on (its one positional argument) with the hub and its stored X.509 credential.
struct Target
{
    QString hub;
    QString deviceId;
    CredentialRecord record;
};

Result<Target> findTarget(const Context &ctx, const VerbParser &p)
{
    const auto hub = chosenHub(ctx, p);
    if (!hub)
        return std::unexpected(hub.error());
    const QString id = p.positional().at(0);
    const auto record = ctx.credentials.record(*hub, id);
    if (!record)
        return std::unexpected(record.error());
    return Target{*hub, id, *record};
}

QString timeText(const QDateTime &time)
{
    return time.isValid() ? time.toUTC().toString(Qt::ISODate) : QString();
}

QJsonObject recordJson(const CredentialRecord &r)
{
    QJsonObject json = r.toJson();
    json.insert(QStringLiteral("keyLocation"),
        r.keyLocation == CredentialRecord::KeyLocation::Device ? QStringLiteral("device") : QStringLiteral("keychain"));
    return json;
}

QJsonObject certificateJson(const Certificate &c)
{
    return {{QStringLiteral("subject"), c.subject()}, {QStringLiteral("issuer"), c.issuer()},
        {QStringLiteral("thumbprintSha1"), c.thumbprintSha1()},
        {QStringLiteral("thumbprintSha256"), c.thumbprintSha256()},
        {QStringLiteral("notBefore"), timeText(c.notBefore())}, {QStringLiteral("notAfter"), timeText(c.notAfter())},
        {QStringLiteral("pem"), QString::fromLatin1(c.toPem())}};
}

QList<QStringList> certificateRows(const Certificate &c)
{
    return {{CliText::tr("Subject"), c.subject()}, {CliText::tr("Issuer"), c.issuer()},
        {CliText::tr("SHA-1 thumbprint"), c.thumbprintSha1()},
        {CliText::tr("SHA-256 thumbprint"), c.thumbprintSha256()}, {CliText::tr("Valid from"), timeText(c.notBefore())},
        {CliText::tr("Valid until"), timeText(c.notAfter())}};
}

std::optional<KeyPair::Type> keyTypeFromName(const QString &name)
{
    if (name == QStringLiteral("ec-p256"))
        return KeyPair::Type::EcP256;
    if (name == QStringLiteral("rsa-2048"))
        return KeyPair::Type::Rsa2048;
    if (name == QStringLiteral("rsa-3072"))
        return KeyPair::Type::Rsa3072;
    return std::nullopt;
}

// Waits for a credential to be stored and reports it the way generate, import, import-ca and sign-csr all
// do; what(record) is the first sentence. A replacement the core refused gets the CLI's hint.
QFuture<int> reportStored(
    const Context &ctx, QFuture<Result<CredentialRecord>> stored, std::function<QString(const CredentialRecord &)> what)
{
    return stored.then([&ctx, what = std::move(what)](Result<CredentialRecord> record) {
        if (!record) {
            Error error = record.error();
            if (error.code == QStringLiteral("CredentialExists") || error.code == QStringLiteral("CaExists"))
                error.message += u' ' + CliText::tr("Give --replace to do that.");
            return ctx.out.error(error);
        }
        ctx.out.document(recordJson(*record));
        ctx.out.text(what(*record));
        QList<QStringList> rows{{CliText::tr("SHA-1 thumbprint"), record->thumbprintSha1},
            {CliText::tr("SHA-256 thumbprint"), record->thumbprintSha256},
            {CliText::tr("Valid until"), timeText(record->notAfter)},
            {CliText::tr("Certificate"), record->certificateFile}};
        if (!record->keychainEntry.isEmpty())
            rows.append({CliText::tr("Private key"), CliText::tr("keychain entry %1").arg(record->keychainEntry)});
        ctx.out.text(formatTable({CliText::tr("FIELD"), CliText::tr("VALUE")}, rows));
        return int(ExitOk);
    });
}

// Reads something with a private key in it: first without a password and, only when the key turns out
// to be encrypted, again with its password from passwordFile or standard input.
template<typename T>
Result<T> withKeyPassword(
    const QString &prompt, const QString &passwordFile, const std::function<Result<T>(QByteArrayView)> &read)
{
    auto result = read({});
    if (result || result.error().code != QStringLiteral("KeyEncrypted"))
        return result;
    const auto password = readSecret(prompt, passwordFile);
    if (!password)
        return std::unexpected(password.error());
    return read(password->view());
}

// A new password for an export: from --password-file or standard input; typed twice on a terminal.
Result<SecretBytes> newPassword(const QString &prompt, const QString &path)
{
    auto password = readSecret(prompt, path);
    if (!password || !path.isEmpty() || !::isatty(STDIN_FILENO))
        return password;
    const auto again = readSecret(CliText::tr("%1 (again)").arg(prompt), QString());
    if (!again)
        return std::unexpected(again.error());
    if (*again != *password)
        return fail(ErrorKind::InvalidInput, QStringLiteral("PasswordsDiffer"),
            CliText::tr("The two passwords differ; nothing was exported."));
    return password;
}

QFuture<int> generate(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Makes a device's key pair and X.509 certificate (CN = the device id): self-signed, or signed by an "
        "imported CA (--ca). The private key goes into the system keychain only; the certificate into the "
        "app's data folder. Register a self-signed one with: device create ID --auth x509-self-signed "
        "--thumbprint <SHA-1>."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    p.addOption({QStringLiteral("type"), CliText::tr("ec-p256 (default; what the nRF9160 uses), rsa-2048 or rsa-3072."),
        CliText::tr("TYPE"), QStringLiteral("ec-p256")});
    p.addOption({QStringLiteral("days"), CliText::tr("Days the certificate is valid (default 365)."), CliText::tr("N"),
        QStringLiteral("365")});
    p.addOption({QStringLiteral("ca"),
        CliText::tr("Sign with this imported CA instead of self-signing (see cred import-ca)."), CliText::tr("NAME")});
    p.addOption({QStringLiteral("replace"),
        CliText::tr("Replace the device's existing credential; its private key is deleted.")});
    addHubOption(p);
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const auto type = keyTypeFromName(p.value(QStringLiteral("type")));
    if (!type)
        return finished(ctx.out.usage(
            CliText::tr("--type is ec-p256, rsa-2048 or rsa-3072, not \"%1\".").arg(p.value(QStringLiteral("type")))));
    int exitCode = ExitOk;
    const auto days = p.intValue(ctx.out, QStringLiteral("days"), 1, 36500, &exitCode);
    if (!days)
        return finished(exitCode);
    const auto hub = chosenHub(ctx, p);
    if (!hub)
        return finished(ctx.out.error(hub.error()));

    CredentialStore::GenerateOptions options;
    options.keyType = *type;
    options.validityDays = int(*days);
    options.caName = p.value(QStringLiteral("ca"));
    options.replace = p.isSet(QStringLiteral("replace"));
    const QString id = p.positional().at(0);
    return reportStored(ctx, ctx.credentials.generate(*hub, id, options), [id, options](const CredentialRecord &made) {
        return options.caName.isEmpty()
            ? CliText::tr("Made a new key pair (%1) and a self-signed certificate for \"%2\".").arg(made.keyType, id)
            : CliText::tr("Made a new key pair (%1) and a certificate for \"%2\" signed by CA \"%3\".")
                  .arg(made.keyType, id, options.caName);
    });
}

QFuture<int> show(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Shows a device's certificate: PEM, subject, SHA-1 and SHA-256 thumbprints (Azure's format), validity, and "
        "where its key is kept. Never the private key."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    addHubOption(p);
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const auto target = findTarget(ctx, p);
    if (!target)
        return finished(ctx.out.error(target.error()));
    const QString &id = target->deviceId;
    const QString &hub = target->hub;
    const CredentialRecord &record = target->record;
    const auto cert = ctx.credentials.certificate(hub, id);
    if (!cert)
        return finished(ctx.out.error(cert.error()));

    QJsonObject json = recordJson(record);
    json.insert(QStringLiteral("certificate"), certificateJson(*cert));
    ctx.out.document(json);
    QList<QStringList> rows{{CliText::tr("Device"), id}, {CliText::tr("Hub"), hub},
        {CliText::tr("Kind"), CredentialRecord::kindName(record.kind)}};
    rows += certificateRows(*cert);
    rows.append({CliText::tr("Key"),
        record.keyLocation == CredentialRecord::KeyLocation::Device
            ? CliText::tr("%1, on the device only").arg(record.keyType)
            : CliText::tr("%1, keychain entry %2").arg(record.keyType, record.keychainEntry)});
    rows.append({CliText::tr("Certificate file"), record.certificateFile});
    rows.append({CliText::tr("Made"), timeText(record.createdAt)});
    ctx.out.text(formatTable({CliText::tr("FIELD"), CliText::tr("VALUE")}, rows));
    ctx.out.text(QString::fromLatin1(cert->toPem()).trimmed());
    return finished(ExitOk);
}

QFuture<int> exportCredential(Context &ctx, const QStringList &args)
{
    VerbParser p(
        CliText::tr("Exports a device's certificate and private key: OpenPGP-encrypted to a recipient (--gpg), or as a "
                    "password-protected PKCS#12 file (--pkcs12; password on standard input or --password-file). The "
                    "file is new and readable by you only."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    p.addOption(gpgRecipientOption());
    p.addOption({QStringLiteral("pkcs12"), CliText::tr("Write a PKCS#12 file (AES-256, PBKDF2).")});
    p.addOption(
        {QStringLiteral("password-file"), CliText::tr("Read the PKCS#12 password from FILE."), CliText::tr("FILE")});
    p.addOption({QStringLiteral("out"), CliText::tr("The file to write; it must not exist."), CliText::tr("FILE")});
    addHubOption(p);
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const bool gpg = p.isSet(QStringLiteral("gpg"));
    const bool pkcs12 = p.isSet(QStringLiteral("pkcs12"));
    if (gpg == pkcs12)
        return finished(ctx.out.usage(CliText::tr("Give either --gpg RECIPIENT or --pkcs12.")));
    const QString out = p.value(QStringLiteral("out"));
    if (out.isEmpty())
        return finished(ctx.out.usage(CliText::tr("Give the file to write with --out FILE.")));
    const auto target = findTarget(ctx, p);
    if (!target)
        return finished(ctx.out.error(target.error()));
    const QString id = target->deviceId;

    SecretBytes password;
    if (pkcs12) {
        auto read = newPassword(CliText::tr("PKCS#12 password"), p.value(QStringLiteral("password-file")));
        if (!read)
            return finished(ctx.out.error(read.error()));
        password = std::move(*read);
    }
    const QString recipient = p.value(QStringLiteral("gpg"));
    return ctx.credentials.deviceCredential(target->hub, id)
        .then([&ctx, id, out, recipient, pkcs12, password = std::move(password)](
                  Result<DeviceCredential> credential) mutable -> QFuture<int> {
            if (!credential)
                return finished(ctx.out.error(credential.error()));
            if (pkcs12) {
                auto written = SecretExport::toPkcs12File(*credential, std::move(password), out);
                return written.then([&ctx, id, out](Result<void> done) {
                    if (!done)
                        return ctx.out.error(done.error());
                    ctx.out.text(
                        CliText::tr("Wrote the certificate and key of \"%1\" to %2 (PKCS#12, AES-256).").arg(id, out));
                    ctx.out.document(QJsonObject{{QStringLiteral("deviceId"), id}, {QStringLiteral("file"), out},
                        {QStringLiteral("format"), QStringLiteral("pkcs12")}});
                    return int(ExitOk);
                });
            }
            auto written = SecretExport::toOpenPgpFile(SecretExport::credentialPem(*credential), recipient, out);
            return written.then([&ctx, id, out](Result<OpenPgpEncryptor::Encrypted> done) {
                return reportOpenPgpFile(ctx.out, CliText::tr("the certificate and key"), id, out, done);
            });
        })
        .unwrap();
}

QFuture<int> remove(Context &ctx, const QStringList &args)
{
    VerbParser p(
        CliText::tr("Deletes a device's X.509 credential from this computer: its private key from the keychain, its "
                    "certificate file and its inventory entry. The device's registration in the hub is not changed. "
                    "Asks first unless --yes."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    p.addOption({QStringLiteral("yes"), CliText::tr("Do not ask.")});
    addHubOption(p);
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const auto target = findTarget(ctx, p);
    if (!target)
        return finished(ctx.out.error(target.error()));
    const QString id = target->deviceId;
    if (const auto refused = confirmDeletion(ctx.out, p.isSet(QStringLiteral("yes")),
            CliText::tr("Delete the private key and certificate of \"%1\"? They cannot be recovered.").arg(id),
            CliText::tr("the credential of \"%1\"").arg(id)))
        return finished(*refused);
    return ctx.credentials.remove(target->hub, id).then([&ctx, id](Result<void> removed) {
        if (!removed)
            return ctx.out.error(removed.error());
        ctx.out.text(CliText::tr("Deleted the credential of \"%1\".").arg(id));
        ctx.out.document(QJsonObject{{QStringLiteral("deleted"), id}});
        return int(ExitOk);
    });
}

QFuture<int> list(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Lists the credentials this computer made or imported: which device has which, where it is kept, since when."));
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    const auto records = ctx.credentials.records();
    if (!records)
        return finished(ctx.out.error(records.error()));
    QJsonArray json;
    QList<QStringList> rows;
    for (const CredentialRecord &r : *records) {
        json.append(recordJson(r));
        rows.append({r.hub, r.deviceId, CredentialRecord::kindName(r.kind), r.keyType,
            r.keyLocation == CredentialRecord::KeyLocation::Device ? CliText::tr("device") : r.keychainEntry,
            timeText(r.notAfter), timeText(r.createdAt), r.madeBy.isEmpty() ? QStringLiteral("-") : r.madeBy});
    }
    ctx.out.document(json);
    ctx.out.text(
        formatTable({CliText::tr("HUB"), CliText::tr("DEVICE/CA"), CliText::tr("KIND"), CliText::tr("KEY"),
                        CliText::tr("KEY IS IN"), CliText::tr("EXPIRES"), CliText::tr("MADE"), CliText::tr("BY")},
            rows));
    return finished(ExitOk);
}

QFuture<int> importCa(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Imports a CA that signs device certificates (IoT Hub \"x509-ca\" devices): its certificate and key "
        "(--cert and --key, PEM or DER; an encrypted key's password on standard input) or a PKCS#12 file "
        "(--pkcs12; its password on standard input). The CA's key goes into the system keychain only."));
    p.addPositional(QStringLiteral("NAME"), CliText::tr("A local name for the CA."));
    p.addOption({QStringLiteral("cert"), CliText::tr("The CA certificate."), CliText::tr("FILE")});
    p.addOption({QStringLiteral("key"), CliText::tr("The CA's private key."), CliText::tr("FILE")});
    p.addOption(
        {QStringLiteral("pkcs12"), CliText::tr("A PKCS#12 file with certificate and key."), CliText::tr("FILE")});
    p.addOption({QStringLiteral("password-file"), CliText::tr("Read the password from FILE instead of standard input."),
        CliText::tr("FILE")});
    p.addOption({QStringLiteral("replace"), CliText::tr("Replace a CA of that name; its private key is deleted.")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const bool fromPkcs12 = p.isSet(QStringLiteral("pkcs12"));
    if (fromPkcs12 == (p.isSet(QStringLiteral("cert")) || p.isSet(QStringLiteral("key"))))
        return finished(ctx.out.usage(CliText::tr("Give either --cert FILE and --key FILE, or --pkcs12 FILE.")));
    const QString passwordFile = p.value(QStringLiteral("password-file"));

    Result<CertificateAuthority> ca;
    if (fromPkcs12) {
        const auto data = readInput(p.value(QStringLiteral("pkcs12")));
        if (!data)
            return finished(ctx.out.error(data.error()));
        const auto password = readSecret(CliText::tr("PKCS#12 password"), passwordFile);
        if (!password)
            return finished(ctx.out.error(password.error()));
        ca = CertificateAuthority::fromPkcs12(*data, password->view());
    } else {
        if (!p.isSet(QStringLiteral("cert")) || !p.isSet(QStringLiteral("key")))
            return finished(ctx.out.usage(CliText::tr("Give both --cert FILE and --key FILE.")));
        const auto cert = readInput(p.value(QStringLiteral("cert")));
        if (!cert)
            return finished(ctx.out.error(cert.error()));
        auto read = readInput(p.value(QStringLiteral("key")));
        if (!read)
            return finished(ctx.out.error(read.error()));
        const SecretBytes key = SecretBytes::fromQByteArray(std::move(*read));
        ca = withKeyPassword<CertificateAuthority>(
            CliText::tr("Password of the CA key"), passwordFile, [&](QByteArrayView password) {
                return CertificateAuthority::fromCertificateAndKey(*cert, key.view(), password);
            });
    }
    if (!ca)
        return finished(ctx.out.error(ca.error()));
    const QString name = p.positional().at(0);
    return reportStored(ctx, ctx.credentials.importCertificateAuthority(name, *ca, p.isSet(QStringLiteral("replace"))),
        [name](const CredentialRecord &stored) {
            return CliText::tr("Imported CA \"%1\" (%2).").arg(name, stored.keyType);
        });
}

QFuture<int> importDevice(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Imports a device's certificate and private key made elsewhere (PEM or DER; an encrypted key's password "
        "on standard input or --password-file). The key must belong to the certificate and the certificate "
        "must be valid now; with --modem the key must be EC P-256, as the nRF9160 needs. The key goes into "
        "the system keychain only."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    p.addOption({QStringLiteral("cert"), CliText::tr("The device certificate."), CliText::tr("FILE")});
    p.addOption({QStringLiteral("key"), CliText::tr("The device's private key."), CliText::tr("FILE")});
    p.addOption({QStringLiteral("password-file"),
        CliText::tr("Read the key's password from FILE instead of standard input."), CliText::tr("FILE")});
    p.addOption({QStringLiteral("modem"), CliText::tr("The credential is for the nRF9160 modem: EC P-256 keys only.")});
    p.addOption({QStringLiteral("replace"),
        CliText::tr("Replace the device's existing credential; its private key is deleted.")});
    addHubOption(p);
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    if (!p.isSet(QStringLiteral("cert")) || !p.isSet(QStringLiteral("key")))
        return finished(ctx.out.usage(CliText::tr("Give both --cert FILE and --key FILE.")));
    const auto hub = chosenHub(ctx, p);
    if (!hub)
        return finished(ctx.out.error(hub.error()));
    const auto cert = readInput(p.value(QStringLiteral("cert")));
    if (!cert)
        return finished(ctx.out.error(cert.error()));
    auto read = readInput(p.value(QStringLiteral("key")));
    if (!read)
        return finished(ctx.out.error(read.error()));
    const SecretBytes key = SecretBytes::fromQByteArray(std::move(*read));
    const auto target
        = p.isSet(QStringLiteral("modem")) ? DeviceCredential::Target::Nrf9160 : DeviceCredential::Target::AnyDevice;
    const auto credential = withKeyPassword<DeviceCredential>(CliText::tr("Password of the device key"),
        p.value(QStringLiteral("password-file")),
        [&](QByteArrayView password) { return DeviceCredential::import(*cert, key.view(), password, target); });
    if (!credential)
        return finished(ctx.out.error(credential.error()));
    const QString id = p.positional().at(0);
    return reportStored(ctx, ctx.credentials.importDevice(*hub, id, *credential, p.isSet(QStringLiteral("replace"))),
        [id](const CredentialRecord &stored) {
            return CliText::tr("Imported the certificate and key of \"%1\" (%2).").arg(id, stored.keyType);
        });
}

QFuture<int> signCsr(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Signs a device's certificate signing request (e.g. from the modem's own key) with an imported CA and keeps "
        "the certificate; the private key stays on the device."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id; the CSR's CN must be the same."));
    p.addOption({QStringLiteral("ca"), CliText::tr("The imported CA to sign with."), CliText::tr("NAME")});
    p.addOption(
        {QStringLiteral("csr"), CliText::tr("The CSR (PEM or DER); default: standard input."), CliText::tr("FILE")});
    p.addOption({QStringLiteral("days"), CliText::tr("Days the certificate is valid (default 365)."), CliText::tr("N"),
        QStringLiteral("365")});
    p.addOption({QStringLiteral("replace"),
        CliText::tr("Replace the device's existing credential; its private key is deleted.")});
    addHubOption(p);
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    if (!p.isSet(QStringLiteral("ca")))
        return finished(ctx.out.usage(CliText::tr("Name the CA to sign with: --ca NAME.")));
    int exitCode = ExitOk;
    const auto days = p.intValue(ctx.out, QStringLiteral("days"), 1, 36500, &exitCode);
    if (!days)
        return finished(exitCode);
    const auto hub = chosenHub(ctx, p);
    if (!hub)
        return finished(ctx.out.error(hub.error()));
    const auto data = readInput(p.value(QStringLiteral("csr")));
    if (!data)
        return finished(ctx.out.error(data.error()));
    const auto csr = CertificateRequest::fromData(*data);
    if (!csr)
        return finished(ctx.out.error(csr.error()));
    const QString id = p.positional().at(0);
    const QString caName = p.value(QStringLiteral("ca"));
    return reportStored(ctx,
        ctx.credentials.signRequest(*hub, id, caName, *csr, int(*days), p.isSet(QStringLiteral("replace"))),
        [id, caName](const CredentialRecord &) {
            return CliText::tr("Signed the request of \"%1\" with CA \"%2\".").arg(id, caName);
        });
}

QFuture<int> roots(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Lists the root CAs shipped for Azure IoT Hub's TLS (what a device must trust), with subject and expiry; "
        "--pem prints them."));
    p.addOption({QStringLiteral("pem"), CliText::tr("Print the certificates as PEM.")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    QJsonArray json;
    QList<QStringList> rows;
    for (const RootCertificates::Entry &root : RootCertificates::all()) {
        QJsonObject object = certificateJson(root.certificate);
        object.insert(QStringLiteral("file"), root.fileName);
        object.insert(QStringLiteral("expired"), root.isExpired());
        json.append(object);
        rows.append({root.fileName, root.subject(),
            timeText(root.expires()) + (root.isExpired() ? CliText::tr(" (expired)") : QString())});
    }
    ctx.out.document(json);
    if (p.isSet(QStringLiteral("pem")))
        ctx.out.text(QString::fromLatin1(RootCertificates::bundlePem()).trimmed());
    else
        ctx.out.text(formatTable({CliText::tr("FILE"), CliText::tr("SUBJECT"), CliText::tr("EXPIRES")}, rows));
    return finished(ExitOk);
}

QFuture<int> verificationCertificate(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Makes the verification certificate that proves this computer holds an imported CA's key (proof of "
        "possession): its subject is the verification code the Azure portal shows for the CA (IoT Hub or DPS → "
        "Certificates → Generate verification code), signed by the CA's key from the keychain. Upload the file "
        "there to mark the CA verified. The certificate's own key is thrown away."));
    p.addOption({QStringLiteral("ca"), CliText::tr("The imported CA (cred import-ca)."), CliText::tr("NAME")});
    p.addOption({QStringLiteral("code"), CliText::tr("The verification code from the portal."), CliText::tr("CODE")});
    p.addOption({QStringLiteral("out"), CliText::tr("The certificate file (PEM) to write; it must not exist."),
        CliText::tr("FILE")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    const QString caName = p.value(QStringLiteral("ca"));
    const QString code = p.value(QStringLiteral("code")).trimmed();
    const QString out = p.value(QStringLiteral("out"));
    if (caName.isEmpty() || code.isEmpty() || out.isEmpty())
        return finished(
            ctx.out.usage(CliText::tr("cred verification-cert needs --ca NAME, --code CODE and --out FILE.")));
    if (auto valid = CertificateAuthority::checkVerificationCode(code); !valid)
        return finished(ctx.out.error(valid.error()));
    if (QFileInfo::exists(out))
        return finished(ctx.out.error({ErrorKind::Conflict, QStringLiteral("FileExists"),
            CliText::tr("%1 exists already; nothing was written.").arg(out)}));
    return ctx.credentials.certificateAuthority(caName).then(
        [&ctx, caName, code, out](Result<CertificateAuthority> ca) {
            if (!ca)
                return ctx.out.error(ca.error());
            const auto certificate = ca->verificationCertificate(code);
            if (!certificate)
                return ctx.out.error(certificate.error());
            QSaveFile file(out);
            if (!file.open(QIODevice::WriteOnly) || file.write(certificate->toPem()) < 0 || !file.commit())
                return ctx.out.error({ErrorKind::InvalidInput, QStringLiteral("FileNotWritable"),
                    CliText::tr("%1 could not be written: %2").arg(out, file.errorString())});
            ctx.out.text(CliText::tr(
                "Wrote the verification certificate for code %1, signed by CA \"%2\", to %3. Upload it in the portal "
                "where the code was shown.")
                             .arg(code, caName, out));
            ctx.out.document(QJsonObject{{QStringLiteral("ca"), caName}, {QStringLiteral("code"), code},
                {QStringLiteral("file"), out}, {QStringLiteral("thumbprintSha1"), certificate->thumbprintSha1()}});
            return int(ExitOk);
        });
}

} // namespace

QCommandLineOption gpgRecipientOption()
{
    return {QStringLiteral("gpg"),
        CliText::tr(
            "Encrypt to RECIPIENT: a fingerprint or e-mail address in your GnuPG keyring, or the path of their public "
            "key file (.asc). Needs --out."),
        CliText::tr("RECIPIENT")};
}

int reportOpenPgpFile(const Output &out, const QString &what, const QString &deviceId, const QString &file,
    const Result<OpenPgpEncryptor::Encrypted> &encrypted, const QJsonObject &more)
{
    if (!encrypted)
        return out.error(encrypted.error());
    out.text(CliText::tr("Wrote %1 of \"%2\" to %3, encrypted to %4 (%5).")
                 .arg(what, deviceId, file, encrypted->userId, encrypted->fingerprint));
    QJsonObject json = more;
    json.insert(QStringLiteral("deviceId"), deviceId);
    json.insert(QStringLiteral("file"), file);
    json.insert(QStringLiteral("format"), QStringLiteral("openpgp"));
    json.insert(QStringLiteral("recipient"), encrypted->fingerprint);
    out.document(json);
    return ExitOk;
}

QList<Noun> credNouns()
{
    return {Noun{QStringLiteral("cred"),
        CliText::tr("Device credentials: X.509 key pairs and certificates (keys in the system keychain)."),
        {
            {QStringLiteral("generate"), CliText::tr("Make a device's key pair and certificate."), generate},
            {QStringLiteral("show"), CliText::tr("Show a device's certificate and thumbprints."), show},
            {QStringLiteral("export"), CliText::tr("Export certificate and key (OpenPGP or PKCS#12)."),
                exportCredential},
            {QStringLiteral("list"), CliText::tr("List the credentials made or imported here."), list},
            {QStringLiteral("delete"), CliText::tr("Delete a device's credential from this computer."), remove},
            {QStringLiteral("import"), CliText::tr("Import a device's certificate and key made elsewhere."),
                importDevice},
            {QStringLiteral("import-ca"), CliText::tr("Import a CA that signs device certificates."), importCa},
            {QStringLiteral("sign-csr"), CliText::tr("Sign a device's CSR with an imported CA."), signCsr},
            {QStringLiteral("roots"), CliText::tr("List the bundled Azure root CAs."), roots},
            {QStringLiteral("verification-cert"), CliText::tr("Prove possession of an imported CA for the portal."),
                verificationCertificate},
        }}};
}

} // namespace Onboarder::Cli
