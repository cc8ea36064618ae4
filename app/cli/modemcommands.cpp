// onboarder-cli modem … — an nRF91 modem on a serial port through core/modem (docs/cli.md).
#include "command.h"
#include "credentials/certificate.h"
#include "credentials/credentialstore.h"
#include "modem/atcommandpolicy.h"
#include "modem/azureflashjob.h"
#include "modem/modemcheck.h"
#include "modem/modemcredential.h"
#include "modem/modemcredentialstore.h"
#include "modem/nrf91modem.h"
#include "modem/portfinder.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>

#include <cstdio>

namespace Onboarder::Cli {

namespace {

struct PortChoice
{
    QString path;
    SerialSettings settings;
};

void addPortOptions(VerbParser &p)
{
    p.addOption({QStringLiteral("port"),
        CliText::tr("The modem's serial port (default: the AT port of the only nRF91 board found)."),
        CliText::tr("PATH")});
    p.addOption({QStringLiteral("baud"), CliText::tr("Baud rate (default 115200; 8N1)."), CliText::tr("N"),
        QStringLiteral("115200")});
    p.addOption({QStringLiteral("no-flow-control"), CliText::tr("Open the port without RTS/CTS flow control.")});
}

std::optional<PortChoice> portChoice(const Context &ctx, const VerbParser &p, int *exitCode)
{
    PortChoice choice;
    const auto baud = p.intValue(ctx.out, QStringLiteral("baud"), 1200, 4000000, exitCode);
    if (!baud)
        return std::nullopt;
    choice.settings.baudRate = qint32(*baud);
    choice.settings.hardwareFlowControl = !p.isSet(QStringLiteral("no-flow-control"));
    choice.path = p.value(QStringLiteral("port"));
    if (choice.path.isEmpty()) {
        PortFinder finder;
        const auto port = PortFinder::choose(finder.scan());
        if (!port) {
            *exitCode = ctx.out.error(port.error());
            return std::nullopt;
        }
        choice.path = port->path;
    }
    return choice;
}

// Runs body with the modem opened on the chosen port; the modem lives until body's future has finished.
QFuture<int> withModem(Context &ctx, const PortChoice &choice, const std::function<QFuture<int>(Nrf91Modem &)> &body)
{
    auto modem = std::make_shared<Nrf91Modem>();
    return modem->open(choice.path, choice.settings)
        .then(modem.get(),
            [&ctx, modem, body](Result<void> opened) -> QFuture<int> {
                if (!opened)
                    return finished(ctx.out.error(opened.error()));
                return body(*modem).then([modem](int code) { return code; });
            })
        .unwrap();
}

// Runs body with the modem open on the port the (parsed) options choose.
template<typename Body> QFuture<int> run(Context &ctx, const VerbParser &p, const Body &body)
{
    int exitCode = ExitOk;
    const auto choice = portChoice(ctx, p, &exitCode);
    if (!choice)
        return finished(exitCode);
    return withModem(ctx, *choice, body);
}

std::optional<quint32> tagOption(const Context &ctx, const VerbParser &p, const QString &name, int *exitCode)
{
    const auto tag = p.intValue(ctx.out, name, 0, 4294967295LL, exitCode);
    return tag ? std::optional(quint32(*tag)) : std::nullopt;
}

std::optional<int> typeOption(const Context &ctx, const VerbParser &p, int *exitCode)
{
    const auto type = CredentialType::fromName(p.value(QStringLiteral("type")));
    if (!type)
        *exitCode = ctx.out.usage(
            CliText::tr("--type is a number from 0 to 6 or one of root-ca, client-cert, client-key, psk, "
                        "psk-identity, public-key, identity-public-key; not \"%1\".")
                .arg(p.value(QStringLiteral("type"))));
    return type;
}

// --tag and --type, both required (creds write, creds delete).
std::optional<std::pair<quint32, int>> requiredTagAndType(
    const Context &ctx, const VerbParser &p, const QString &verb, int *exitCode)
{
    if (!p.isSet(QStringLiteral("tag")) || !p.isSet(QStringLiteral("type"))) {
        *exitCode = ctx.out.usage(CliText::tr("%1 needs --tag and --type.").arg(verb));
        return std::nullopt;
    }
    const auto tag = tagOption(ctx, p, QStringLiteral("tag"), exitCode);
    const auto type = tag ? typeOption(ctx, p, exitCode) : std::nullopt;
    if (!tag || !type)
        return std::nullopt;
    return std::pair(*tag, *type);
}

void addTagAndTypeOptions(VerbParser &p)
{
    p.addOption({QStringLiteral("tag"), CliText::tr("The security tag (0–2147483647)."), CliText::tr("N")});
    p.addOption({QStringLiteral("type"),
        CliText::tr("The credential type: root-ca, client-cert, client-key, psk, psk-identity, "
                    "public-key, identity-public-key, or its number 0–6."),
        CliText::tr("T")});
}

QJsonObject credentialJson(const ModemCredential &entry)
{
    return {{QStringLiteral("tag"), qint64(entry.tag)}, {QStringLiteral("type"), entry.type},
        {QStringLiteral("typeName"), CredentialType::name(entry.type)}, {QStringLiteral("sha256"), entry.sha256}};
}

QString functionalModeText(int mode)
{
    switch (mode) {
    case 0: return CliText::tr("0 (minimum: powered down)");
    case 1: return CliText::tr("1 (normal: LTE on)");
    case 4: return CliText::tr("4 (offline: RF off)");
    default: return QString::number(mode);
    }
}

QFuture<int> list(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Lists serial ports: nRF91 boards on USB (nRF9160/9161/9151 DK, nRF9131 EK, Thingy:91, Thingy:91 X) with "
        "their AT port, ports listed in %1, and other serial ports.")
                     .arg(QLatin1String(PortFinder::extraPortsVariable)));
    p.addOption({QStringLiteral("probe"), CliText::tr("Confirm each board's AT port by sending AT to its ports.")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    auto finder = std::make_shared<PortFinder>();
    const QList<ModemPort> ports = finder->scan();
    const auto print = [&ctx](const QList<ModemPort> &ports) {
        QJsonArray json;
        QList<QStringList> rows;
        for (const ModemPort &port : ports) {
            const QString usb = port.vendorId ? QStringLiteral("%1:%2")
                                                    .arg(uint(port.vendorId), 4, 16, QChar(u'0'))
                                                    .arg(uint(port.productId), 4, 16, QChar(u'0'))
                                              : QString();
            json.append(QJsonObject{{QStringLiteral("path"), port.path}, {QStringLiteral("board"), port.board},
                {QStringLiteral("role"), ModemPort::roleName(port.role)}, {QStringLiteral("probed"), port.probed},
                {QStringLiteral("extra"), port.extra}, {QStringLiteral("usb"), usb},
                {QStringLiteral("serialNumber"), port.serialNumber},
                {QStringLiteral("description"), port.description}});
            rows.append({port.path, port.board.isEmpty() ? QStringLiteral("-") : port.board,
                ModemPort::roleName(port.role).toUpper() + (port.probed ? QStringLiteral(" (probed)") : QString()),
                usb.isEmpty() ? QStringLiteral("-") : usb,
                port.serialNumber.isEmpty() ? QStringLiteral("-") : port.serialNumber, port.description});
        }
        ctx.out.document(json);
        if (rows.isEmpty())
            ctx.out.text(CliText::tr("No serial ports. Plug the board in; the simulator's port can be listed in %1.")
                             .arg(QLatin1String(PortFinder::extraPortsVariable)));
        else
            ctx.out.text(formatTable({CliText::tr("PORT"), CliText::tr("BOARD"), CliText::tr("ROLE"),
                                         CliText::tr("USB"), CliText::tr("SERIAL"), CliText::tr("DESCRIPTION")},
                rows));
        return int(ExitOk);
    };
    if (!p.isSet(QStringLiteral("probe")))
        return finished(print(ports));
    // Probe board by board (same serial number), then the extra ports one by one.
    QList<QList<ModemPort>> groups;
    for (const ModemPort &port : ports) {
        if (port.board.isEmpty() && !port.extra)
            continue;
        if (!port.extra && !groups.isEmpty() && groups.last().first().serialNumber == port.serialNumber
            && !port.serialNumber.isEmpty())
            groups.last().append(port);
        else
            groups.append({port});
    }
    auto promise = std::make_shared<QPromise<int>>();
    promise->start();
    auto next = std::make_shared<std::function<void(qsizetype)>>();
    *next = [finder, groups, promise, next, print](qsizetype index) {
        if (index == groups.size()) {
            promise->addResult(print(finder->ports()));
            promise->finish();
            *next = nullptr;
            return;
        }
        finder->probe(groups.at(index)).then(finder.get(), [next, index](Result<ModemPort>) { (*next)(index + 1); });
    };
    (*next)(0);
    return promise->future();
}

QFuture<int> info(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Shows the modem's identity (IMEI, manufacturer, model, firmware, modem UUID) and functional mode."));
    addPortOptions(p);
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    return run(ctx, p, [&ctx](Nrf91Modem &modem) {
        auto identity = modem.identity();
        return modem.functionalMode().then(&modem, [&ctx, &modem, identity](Result<int> mode) {
            const Result<ModemIdentity> id = identity.result(); // answered before the mode
            if (!id)
                return ctx.out.error(id.error());
            if (!mode)
                return ctx.out.error(mode.error());
            ctx.out.document(QJsonObject{{QStringLiteral("port"), modem.portPath()}, {QStringLiteral("imei"), id->imei},
                {QStringLiteral("manufacturer"), id->manufacturer}, {QStringLiteral("model"), id->model},
                {QStringLiteral("firmware"), id->firmware}, {QStringLiteral("modemUuid"), id->modemUuid},
                {QStringLiteral("functionalMode"), *mode}});
            ctx.out.text(formatTable({CliText::tr("FIELD"), CliText::tr("VALUE")},
                {{CliText::tr("Port"), modem.portPath()}, {CliText::tr("IMEI"), id->imei},
                    {CliText::tr("Manufacturer"), id->manufacturer}, {CliText::tr("Model"), id->model},
                    {CliText::tr("Firmware"), id->firmware},
                    {CliText::tr("Modem UUID"),
                        id->modemUuid.isEmpty() ? CliText::tr("(not reported)") : id->modemUuid},
                    {CliText::tr("Functional mode"), functionalModeText(*mode)}}));
            return int(ExitOk);
        });
    });
}

QFuture<int> credsList(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Lists the credentials stored in the modem: security tag, type and the SHA-256 of the stored bytes."));
    addPortOptions(p);
    addTagAndTypeOptions(p);
    p.addOption({QStringLiteral("all"), CliText::tr("Also the modem's own tags (2147483648 and above).")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    int exitCode = ExitOk;
    std::optional<quint32> tag;
    std::optional<int> type;
    if (p.isSet(QStringLiteral("tag"))) {
        tag = tagOption(ctx, p, QStringLiteral("tag"), &exitCode);
        if (!tag)
            return finished(exitCode);
    }
    if (p.isSet(QStringLiteral("type"))) {
        if (!tag)
            return finished(ctx.out.usage(CliText::tr("--type needs --tag: the modem lists types per tag.")));
        type = typeOption(ctx, p, &exitCode);
        if (!type)
            return finished(exitCode);
    }
    const bool all = p.isSet(QStringLiteral("all"));
    return run(ctx, p, [&ctx, tag, type, all](Nrf91Modem &modem) {
        auto store = std::make_shared<ModemCredentialStore>(modem);
        return store->list(tag, type, all).then(&modem, [&ctx, store](Result<QList<ModemCredential>> entries) {
            if (!entries)
                return ctx.out.error(entries.error());
            QJsonArray json;
            QList<QStringList> rows;
            for (const ModemCredential &entry : *entries) {
                json.append(credentialJson(entry));
                rows.append({QString::number(entry.tag), CredentialType::name(entry.type),
                    entry.sha256.isEmpty() ? CliText::tr("(not reported by this firmware)") : entry.sha256});
            }
            ctx.out.document(json);
            ctx.out.text(rows.isEmpty()
                    ? CliText::tr("No credentials stored.")
                    : formatTable({CliText::tr("TAG"), CliText::tr("TYPE"), CliText::tr("SHA-256")}, rows));
            return int(ExitOk);
        });
    });
}

QFuture<int> credsWrite(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Writes a credential from FILE (\"-\": standard input) into the modem, in offline mode and back, and "
        "verifies it by SHA-256. Line ends become LF and trailing white space goes, as Nordic's tools do, "
        "unless --verbatim."));
    addPortOptions(p);
    addTagAndTypeOptions(p);
    p.addPositional(
        QStringLiteral("FILE"), CliText::tr("PEM certificate or key, hex PSK, or PSK identity; - for standard input."));
    p.addOption({QStringLiteral("verbatim"),
        CliText::tr("Write the file's bytes as they are (CR LF and a final newline kept).")});
    p.addOption({QStringLiteral("password-file"), CliText::tr("The password of an encrypted private key, from FILE."),
        CliText::tr("FILE")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    int exitCode = ExitOk;
    const auto slot = requiredTagAndType(ctx, p, QStringLiteral("creds write"), &exitCode);
    if (!slot)
        return finished(exitCode);
    const auto [tag, type] = *slot;
    auto text = readInput(p.positional().at(0));
    if (!text)
        return finished(ctx.out.error(text.error()));
    // The file may hold a private key: kept in a SecretBytes (the read buffer wiped), exposed to prepare() only.
    const SecretBytes file = SecretBytes::fromQByteArray(std::move(*text));
    const auto form = p.isSet(QStringLiteral("verbatim")) ? ModemCredentialStore::ContentForm::Verbatim
                                                          : ModemCredentialStore::ContentForm::Normalized;
    auto prepared = ModemCredentialStore::prepare(type, file.exposeForWire(), form);
    if (!prepared)
        return finished(ctx.out.error(prepared.error()));
    // Shared (not copied) by the copies of the body that std::function makes; wiped when the last goes.
    const auto content = std::make_shared<const SecretBytes>(SecretBytes::fromQByteArray(std::move(*prepared)));
    auto password = std::make_shared<const SecretBytes>();
    if (p.isSet(QStringLiteral("password-file"))) {
        auto secret = readSecret(CliText::tr("Key password"), p.value(QStringLiteral("password-file")));
        if (!secret)
            return finished(ctx.out.error(secret.error()));
        password = std::make_shared<const SecretBytes>(std::move(*secret));
    }
    return run(ctx, p, [&ctx, tag, type, content, password](Nrf91Modem &modem) {
        auto store = std::make_shared<ModemCredentialStore>(modem);
        // The AT channel takes QByteArrays: the content and password are exposed for this write only.
        auto written = store->write(tag, type, content->exposeForWire(), password->exposeForWire());
        return written.then(&modem, [&ctx, store](Result<ModemCredential> entry) {
            if (!entry)
                return ctx.out.error(entry.error());
            QJsonObject json = credentialJson(*entry);
            json.insert(QStringLiteral("verified"), !entry->sha256.isEmpty());
            ctx.out.document(json);
            ctx.out.text(entry->sha256.isEmpty()
                    ? CliText::tr("Wrote the %1 to security tag %2; this firmware lists no hashes, so it could not be "
                                  "verified.")
                          .arg(CredentialType::description(entry->type))
                          .arg(entry->tag)
                    : CliText::tr("Wrote the %1 to security tag %2 and verified it (SHA-256 %3).")
                          .arg(CredentialType::description(entry->type))
                          .arg(entry->tag)
                          .arg(entry->sha256));
            return int(ExitOk);
        });
    });
}

// Deletes what a tag holds, type after type; on a failure, says what is deleted and what is left.
QFuture<int> deleteAll(Context &ctx, Nrf91Modem &modem, quint32 tag)
{
    auto store = std::make_shared<ModemCredentialStore>(modem);
    auto promise = std::make_shared<QPromise<int>>();
    promise->start();
    store->list(tag).then(&modem, [&ctx, &modem, store, promise, tag](Result<QList<ModemCredential>> entries) {
        const auto end = [promise](int code) {
            promise->addResult(code);
            promise->finish();
        };
        if (!entries)
            return end(ctx.out.error(entries.error()));
        auto left = std::make_shared<QList<ModemCredential>>(*entries);
        auto deleted = std::make_shared<QJsonArray>();
        auto next = std::make_shared<std::function<void()>>();
        *next = [&ctx, &modem, store, left, deleted, next, end, tag]() {
            if (left->isEmpty()) {
                ctx.out.document(
                    QJsonObject{{QStringLiteral("tag"), qint64(tag)}, {QStringLiteral("deleted"), *deleted}});
                ctx.out.text(CliText::tr("Deleted %n credential(s) in security tag %1.", nullptr, int(deleted->size()))
                                 .arg(tag));
                const auto finish = end; // NOLINT(performance-unnecessary-copy-initialization): this lambda, and
                                         // so end, is gone once next is cleared
                *next = nullptr;
                return finish(int(ExitOk));
            }
            const ModemCredential entry = left->takeFirst();
            store->remove(entry.tag, entry.type)
                .then(&modem, [&ctx, left, deleted, next, end, entry](Result<void> removed) {
                    if (!removed) {
                        QStringList rest;
                        for (const ModemCredential &c : *left)
                            rest.append(CredentialType::name(c.type));
                        Error error = removed.error();
                        error.message += u' '
                            + CliText::tr("Deleted before: %n; still in the tag: %1.", nullptr, int(deleted->size()))
                                  .arg(CredentialType::name(entry.type)
                                      + (rest.isEmpty() ? QString() : u", " + rest.join(u", ")));
                        *next = nullptr; // ends the cycle; this continuation has its own copies of what it uses
                        return end(ctx.out.error(error));
                    }
                    deleted->append(credentialJson(entry));
                    (*next)();
                });
        };
        (*next)();
    });
    return promise->future();
}

QFuture<int> credsDelete(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Deletes a credential from the modem (in offline mode and back); with --all, every "
                             "credential in --tag."));
    addPortOptions(p);
    addTagAndTypeOptions(p);
    p.addOption({QStringLiteral("all"), CliText::tr("Every type in --tag (needs --yes).")});
    p.addOption({QStringLiteral("yes"), CliText::tr("Confirm --all.")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    int exitCode = ExitOk;
    if (p.isSet(QStringLiteral("all"))) {
        if (!p.isSet(QStringLiteral("tag")) || p.isSet(QStringLiteral("type")))
            return finished(ctx.out.usage(CliText::tr("creds delete --all needs --tag and no --type.")));
        const auto tag = tagOption(ctx, p, QStringLiteral("tag"), &exitCode);
        if (!tag)
            return finished(exitCode);
        if (auto refused = confirmDeletion(ctx.out, p.isSet(QStringLiteral("yes")),
                CliText::tr("Delete every credential in security tag %1?").arg(*tag),
                CliText::tr("every credential in a tag")))
            return finished(*refused);
        return run(ctx, p, [&ctx, tag = *tag](Nrf91Modem &modem) { return deleteAll(ctx, modem, tag); });
    }
    const auto slot = requiredTagAndType(ctx, p, QStringLiteral("creds delete"), &exitCode);
    if (!slot)
        return finished(exitCode);
    return run(ctx, p, [&ctx, tag = slot->first, type = slot->second](Nrf91Modem &modem) {
        auto store = std::make_shared<ModemCredentialStore>(modem);
        return store->remove(tag, type).then(&modem, [&ctx, store, tag, type](Result<void> removed) {
            if (!removed)
                return ctx.out.error(removed.error());
            ctx.out.document(QJsonObject{{QStringLiteral("deleted"), credentialJson({tag, type, {}})}});
            ctx.out.text(
                CliText::tr("Deleted the %1 in security tag %2.").arg(CredentialType::description(type)).arg(tag));
            return int(ExitOk);
        });
    });
}

const QList<Verb> &credsVerbs()
{
    static const QList<Verb> verbs{
        {QStringLiteral("list"), CliText::tr("List stored credentials; --tag, --type, --all."), credsList},
        {QStringLiteral("write"), CliText::tr("Write a credential from a file and verify it."), credsWrite},
        {QStringLiteral("delete"), CliText::tr("Delete a credential; --all: every one in a tag."), credsDelete},
    };
    return verbs;
}

// "modem creds <list|write|delete>": a verb with verbs of its own.
QFuture<int> creds(Context &ctx, const QStringList &args)
{
    const QString sub = args.value(1);
    const auto verb
        = std::find_if(credsVerbs().cbegin(), credsVerbs().cend(), [&sub](const Verb &v) { return v.name == sub; });
    if (verb == credsVerbs().cend()) {
        QString help = CliText::tr(
            "Usage: onboarder-cli modem creds <list|write|delete> [arguments]\n\nCredentials in the modem's "
            "security tags (AT%CMNG).\n\nVerbs:\n");
        for (const Verb &v : credsVerbs())
            help += QStringLiteral("  ") + v.name.leftJustified(10) + v.summary + u'\n';
        if (sub == QStringLiteral("--help") || sub == QStringLiteral("-h")) {
            std::fputs(help.toUtf8().constData(), stdout);
            return finished(ExitOk);
        }
        std::fputs(help.toUtf8().constData(), stderr);
        return finished(sub.isEmpty() ? int(ExitUsage)
                                      : ctx.out.usage(CliText::tr("\"modem creds\" has no verb \"%1\".").arg(sub)));
    }
    QStringList rest = args.mid(2);
    rest.prepend(args.value(0) + u' ' + sub);
    return verb->run(ctx, rest);
}

// Where flash-azure takes the device's certificate and key from. Today: files given with --cert and --key
// (the key may come on standard input with --key -). The credentials store (issue #6) adds the keychain:
// the device's certificate and key by device ID; it plugs in here, used when --cert/--key are left out.
Result<std::pair<QByteArray, SecretBytes>> deviceCertificateAndKey(const VerbParser &p, const QString &deviceId)
{
    if (!p.isSet(QStringLiteral("cert")) || !p.isSet(QStringLiteral("key")))
        return fail(ErrorKind::InvalidInput, QStringLiteral("NoDeviceCredentials"),
            CliText::tr("Give both --cert FILE and --key FILE, or neither to use the credential kept for the device "
                        "(cred generate or cred import)."));
    QFile certFile(p.value(QStringLiteral("cert")));
    if (!certFile.open(QIODevice::ReadOnly))
        return fail(ErrorKind::InvalidInput, QStringLiteral("CertificateUnreadable"),
            CliText::tr("Cannot read %1: %2").arg(certFile.fileName(), certFile.errorString()));
    const QByteArray cert = certFile.readAll();
    const auto certificate = Certificate::fromPem(cert);
    if (!certificate)
        return std::unexpected(certificate.error());
    if (certificate->subjectCommonName() != deviceId)
        return fail(ErrorKind::InvalidInput, QStringLiteral("CertificateForOtherDevice"),
            CliText::tr(
                "The certificate is for \"%1\", not for the device \"%2\": IoT Hub takes the device ID from the "
                "certificate's common name.")
                .arg(certificate->subjectCommonName(), deviceId));
    auto key = readInput(p.value(QStringLiteral("key")));
    if (!key)
        return std::unexpected(key.error());
    return std::pair(cert, SecretBytes::fromQByteArray(std::move(*key)));
}

QJsonObject reportJson(const FlashReport &report)
{
    QJsonArray slots;
    for (const FlashSlot &slot : report.slots)
        slots.append(QJsonObject{{QStringLiteral("tag"), qint64(slot.tag)}, {QStringLiteral("type"), slot.type},
            {QStringLiteral("typeName"), CredentialType::name(slot.type)}, {QStringLiteral("content"), slot.label},
            {QStringLiteral("state"), FlashSlot::stateName(slot.state)},
            {QStringLiteral("expectedSha256"), slot.expectedSha256},
            {QStringLiteral("modemSha256"), slot.modemSha256}});
    QJsonObject json{{QStringLiteral("ok"), report.ok()}, {QStringLiteral("slots"), slots},
        {QStringLiteral("previousFunctionalMode"), report.previousMode},
        {QStringLiteral("functionalModeRestored"), report.modeRestored},
        {QStringLiteral("warnings"), QJsonArray::fromStringList(report.warnings)}};
    if (report.failure)
        json.insert(QStringLiteral("error"),
            QJsonObject{{QStringLiteral("code"), report.failure->code},
                {QStringLiteral("exitCode"), exitCodeFor(report.failure->kind)},
                {QStringLiteral("message"), report.failure->message}});
    return json;
}

QString stateText(FlashSlot::State state)
{
    switch (state) {
    case FlashSlot::State::Pending: return CliText::tr("not looked at");
    case FlashSlot::State::Flashed: return CliText::tr("flashed, verified");
    case FlashSlot::State::Unverified: return CliText::tr("written, not verifiable");
    case FlashSlot::State::Different: return CliText::tr("holds something else");
    case FlashSlot::State::Absent: return CliText::tr("empty");
    case FlashSlot::State::Unknown: return CliText::tr("unknown (the modem could not be asked)");
    }
    return {};
}

// Flashing, once the modem is open: progress on stderr, the report as a table or JSON.
std::function<QFuture<int>(Nrf91Modem &)> flashBody(
    Context &ctx, AzureCredentialSet set, bool force, bool allowExpiredRoots)
{
    // Held, not copied, by the copies of the body that std::function makes; the body runs once and takes it.
    auto held = std::make_shared<AzureCredentialSet>(std::move(set));
    return [&ctx, held, force, allowExpiredRoots](Nrf91Modem &modem) {
        // The job lives as long as the modem (a child of it), not in its own future's continuation.
        auto *job = new AzureFlashJob(modem, std::move(*held), &modem);
        job->setForce(force);
        job->setAllowExpiredRoots(allowExpiredRoots);
        if (!ctx.out.json()) {
            QObject::connect(job, &AzureFlashJob::progress, job, [](int step, int steps, const QString &text) {
                std::fprintf(stderr, "[%d/%d] %s\n", step, steps, qPrintable(text));
            });
        }
        return job->start().then(&modem, [&ctx](const FlashReport &report) {
            ctx.out.document(reportJson(report));
            for (const QString &warning : report.warnings)
                std::fprintf(stderr, "%s\n", qPrintable(CliText::tr("warning: %1").arg(warning)));
            QList<QStringList> rows;
            for (const FlashSlot &slot : report.slots)
                rows.append(
                    {QString::number(slot.tag), CredentialType::name(slot.type), slot.label, stateText(slot.state)});
            if (!rows.isEmpty())
                ctx.out.text(formatTable(
                    {CliText::tr("TAG"), CliText::tr("TYPE"), CliText::tr("CONTENT"), CliText::tr("ON THE MODEM")},
                    rows));
            if (report.ok()) {
                ctx.out.text(
                    CliText::tr("The Azure credentials are on the modem and verified; functional mode %1 is back.")
                        .arg(report.previousMode));
                return int(ExitOk);
            }
            if (!report.slots.isEmpty() && report.previousMode >= 0 && !report.modeRestored)
                std::fprintf(stderr, "%s\n",
                    qPrintable(CliText::tr("warning: the modem may still be in offline mode (it was in mode %1).")
                                   .arg(report.previousMode)));
            if (ctx.out.json()) { // the report above is the one JSON document; the error goes to stderr only
                std::fprintf(stderr, "error: %s\n", qPrintable(report.failure->message));
                return exitCodeFor(report.failure->kind);
            }
            return ctx.out.error(*report.failure);
        });
    };
}

QFuture<int> flashAzure(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Flashes what the nRF Connect SDK's Azure IoT Hub library needs into the modem: DigiCert Global Root G2, "
        "the device certificate and private key in --tag, Microsoft RSA Root Certificate Authority 2017 in "
        "--secondary-tag (or next to DigiCert in --tag). Offline mode before, the previous mode after; each "
        "credential is verified by SHA-256; what is stored already is not written again. An expired root is "
        "refused unless --allow-expired-roots; a certificate that ends within 30 days is warned about."));
    addPortOptions(p);
    p.addOption(
        {QStringLiteral("device"), CliText::tr("The device ID (the certificate's common name)."), CliText::tr("ID")});
    p.addOption({QStringLiteral("tag"),
        CliText::tr("CONFIG_MQTT_HELPER_SEC_TAG of the firmware (the Azure sample: 10)."), CliText::tr("N")});
    p.addOption({QStringLiteral("secondary-tag"), CliText::tr("CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG (e.g. 11)."),
        CliText::tr("M")});
    p.addOption({QStringLiteral("cert"),
        CliText::tr("The device certificate (PEM); default: the one kept for the device."), CliText::tr("FILE")});
    p.addOption({QStringLiteral("key"),
        CliText::tr("The device's private key (PEM); - for standard input; default: the one in "
                    "the keychain."),
        CliText::tr("FILE")});
    p.addOption({QStringLiteral("key-password-file"), CliText::tr("The password of an encrypted key, from FILE."),
        CliText::tr("FILE")});
    p.addOption({QStringLiteral("force"), CliText::tr("Write every credential, also those stored already.")});
    p.addOption({QStringLiteral("allow-expired-roots"),
        CliText::tr("Flash a root CA certificate even when it has expired (a modem cannot check the hub with it).")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    if (!p.isSet(QStringLiteral("device")) || !p.isSet(QStringLiteral("tag")))
        return finished(ctx.out.usage(CliText::tr("flash-azure needs --device and --tag.")));
    const bool allowExpiredRoots = p.isSet(QStringLiteral("allow-expired-roots"));
    int exitCode = ExitOk;
    const auto tag = tagOption(ctx, p, QStringLiteral("tag"), &exitCode);
    if (!tag)
        return finished(exitCode);
    std::optional<quint32> secondaryTag;
    if (p.isSet(QStringLiteral("secondary-tag"))) {
        secondaryTag = tagOption(ctx, p, QStringLiteral("secondary-tag"), &exitCode);
        if (!secondaryTag)
            return finished(exitCode);
    }
    if (!p.isSet(QStringLiteral("cert")) && !p.isSet(QStringLiteral("key"))) {
        // The device's certificate and key as cred generate (or cred import) keeps them: the key comes
        // from the keychain into memory and goes to the modem, nowhere else.
        if (ctx.hub.isEmpty())
            return finished(
                ctx.out.usage(CliText::tr("No hub chosen to find the device's credential in: give --hub NAME, or "
                                          "--cert FILE --key FILE.")));
        const auto choice = portChoice(ctx, p, &exitCode);
        if (!choice)
            return finished(exitCode);
        const bool force = p.isSet(QStringLiteral("force"));
        return ctx.credentials.deviceCredential(ctx.hub, p.value(QStringLiteral("device")))
            .then(QCoreApplication::instance(),
                [&ctx, tag = *tag, secondaryTag, force, allowExpiredRoots, choice = *choice](
                    Result<DeviceCredential> credential) {
                    if (!credential)
                        return finished(ctx.out.error(credential.error()));
                    AzureCredentialSet set = AzureCredentialSet::forDevice(tag, secondaryTag, *credential);
                    return withModem(ctx, choice, flashBody(ctx, std::move(set), force, allowExpiredRoots));
                })
            .unwrap();
    }
    auto credentials = deviceCertificateAndKey(p, p.value(QStringLiteral("device")));
    if (!credentials)
        return finished(credentials.error().code == QStringLiteral("NoDeviceCredentials")
                ? ctx.out.usage(credentials.error().message)
                : ctx.out.error(credentials.error()));
    SecretBytes keyPassword;
    if (p.isSet(QStringLiteral("key-password-file"))) {
        auto secret = readSecret(CliText::tr("Key password"), p.value(QStringLiteral("key-password-file")));
        if (!secret)
            return finished(ctx.out.error(secret.error()));
        keyPassword = std::move(*secret);
    }
    AzureCredentialSet set = AzureCredentialSet::forDevice(
        *tag, secondaryTag, credentials->first, std::move(credentials->second), std::move(keyPassword));
    const bool force = p.isSet(QStringLiteral("force"));
    return run(ctx, p, flashBody(ctx, std::move(set), force, allowExpiredRoots));
}

QFuture<int> keygen(Context &ctx, const QStringList &args)
{
    VerbParser p(
        CliText::tr("Generates a private key inside the modem (AT%KEYGEN) in --tag and prints its certificate signing "
                    "request (PEM), checked: it verifies with its own key and is for CN=<device ID>. The key never "
                    "leaves the modem."));
    addPortOptions(p);
    p.addOption({QStringLiteral("tag"), CliText::tr("The security tag for the key."), CliText::tr("N")});
    p.addOption(
        {QStringLiteral("device"), CliText::tr("The device ID: the request's common name."), CliText::tr("ID")});
    p.addOption({QStringLiteral("out"), CliText::tr("Write the request to FILE instead of standard output."),
        CliText::tr("FILE")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    if (!p.isSet(QStringLiteral("device")) || !p.isSet(QStringLiteral("tag")))
        return finished(ctx.out.usage(CliText::tr("keygen needs --tag and --device.")));
    int exitCode = ExitOk;
    const auto tag = tagOption(ctx, p, QStringLiteral("tag"), &exitCode);
    if (!tag)
        return finished(exitCode);
    const QString device = p.value(QStringLiteral("device"));
    const QString out = p.value(QStringLiteral("out"));
    return run(ctx, p, [&ctx, tag = *tag, device, out](Nrf91Modem &modem) {
        auto store = std::make_shared<ModemCredentialStore>(modem);
        return store->generateKey(tag, device).then(&modem, [&ctx, store, tag, out](Result<ModemCsr> csr) {
            if (!csr)
                return ctx.out.error(csr.error());
            const QByteArray pem = csr->toPem();
            if (!out.isEmpty()) {
                QFile file(out);
                if (!file.open(QIODevice::WriteOnly) || file.write(pem) != pem.size())
                    return ctx.out.error({ErrorKind::InvalidInput, QStringLiteral("OutputUnwritable"),
                        CliText::tr("Cannot write %1: %2").arg(out, file.errorString())});
            }
            ctx.out.document(QJsonObject{{QStringLiteral("tag"), qint64(tag)},
                {QStringLiteral("commonName"), csr->subjectCommonName()},
                {QStringLiteral("csr"), QString::fromLatin1(pem)},
                {QStringLiteral("publicKey"), QString::fromLatin1(csr->publicKeyPem())}});
            ctx.out.text(out.isEmpty()
                    ? QString::fromLatin1(pem).trimmed()
                    : CliText::tr("Wrote the request for \"%1\" to %2.").arg(csr->subjectCommonName(), out));
            return int(ExitOk);
        });
    });
}

QFuture<int> check(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Checks whether the modem can reach the hub: identity, SIM, LTE modes, network registration, signal, cell, "
        "clock and the credentials in --tag, with one verdict. Exit code 0 when the verdict is \"ready\", 4 when it "
        "is not."));
    addPortOptions(p);
    p.addOption({QStringLiteral("tag"),
        CliText::tr("Also check the credentials in this security tag (the firmware's)."), CliText::tr("N")});
    p.addOption({QStringLiteral("lte-on"),
        CliText::tr("When LTE is off, switch it on for the check (AT+CFUN=1) and back to the mode it was in after.")});
    p.addOption({QStringLiteral("wait"),
        CliText::tr("Seconds a modem that is searching (or that --lte-on switched on) is given to register "
                    "(default 60)."),
        CliText::tr("S"), QStringLiteral("60")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    int exitCode = ExitOk;
    ModemCheckOptions options;
    if (p.isSet(QStringLiteral("tag"))) {
        options.secTag = tagOption(ctx, p, QStringLiteral("tag"), &exitCode);
        if (!options.secTag)
            return finished(exitCode);
    }
    const auto wait = p.intValue(ctx.out, QStringLiteral("wait"), 0, 3600, &exitCode);
    if (!wait)
        return finished(exitCode);
    options.registrationWaitMs = int(*wait * 1000);
    options.switchLteOn = p.isSet(QStringLiteral("lte-on"));
    options.knownHashes = ModemCheck::knownRootHashes();
    if (const auto records = ctx.credentials.records())
        options.knownHashes.insert(ModemCheck::knownCertificateHashes(*records));
    return run(ctx, p, [&ctx, options](Nrf91Modem &modem) {
        auto checker = std::make_shared<ModemCheck>(modem);
        if (!ctx.out.json())
            QObject::connect(checker.get(), &ModemCheck::progress, checker.get(),
                [](const QString &step) { std::fprintf(stderr, "%s…\n", qPrintable(step)); });
        return checker->run(options).then(&modem, [&ctx, checker](Result<ModemCheckReport> report) {
            if (!report)
                return ctx.out.error(report.error());
            ctx.out.document(report->toJson());
            QString text = CliText::tr("Verdict: %1").arg(report->verdictText) + u'\n';
            for (const QString &line : report->evidence)
                text += QStringLiteral("  ") + line + u'\n';
            ctx.out.text(text.trimmed());
            return int(report->ready() ? ExitOk : ExitConflict);
        });
    });
}

QFuture<int> at(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Sends one AT command and prints the modem's answer. Commands that change the modem (AT+CFUN=, "
        "AT%XFACTORYRESET, a credential deletion, …) need --yes; credential writes and PINs are refused (they would "
        "stand in the command line: use \"modem creds write\")."));
    addPortOptions(p);
    p.addPositional(QStringLiteral("command"), CliText::tr("The AT command, e.g. 'AT+CEREG?'."));
    p.addOption({QStringLiteral("yes"), CliText::tr("Confirm a command that changes the modem.")});
    p.addOption({QStringLiteral("timeout"), CliText::tr("Seconds to wait for the answer (default 10)."),
        CliText::tr("S"), QStringLiteral("10")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QByteArray command = p.positional().constFirst().toLatin1();
    const AtCommandPolicy policy = AtCommandPolicy::of(command);
    switch (policy.kind) {
    case AtCommandPolicy::Kind::NotAt: return finished(ctx.out.usage(policy.reason));
    case AtCommandPolicy::Kind::CarriesSecret:
        return finished(ctx.out.error({ErrorKind::InvalidInput, QStringLiteral("SecretInCommand"), policy.reason}));
    case AtCommandPolicy::Kind::Changes:
        if (!p.isSet(QStringLiteral("yes")))
            return finished(ctx.out.usage(CliText::tr("%1 Add --yes to send it.").arg(policy.reason)));
        break;
    case AtCommandPolicy::Kind::Reads: break;
    }
    int exitCode = ExitOk;
    const auto timeout = p.intValue(ctx.out, QStringLiteral("timeout"), 1, 600, &exitCode);
    if (!timeout)
        return finished(exitCode);
    const int timeoutMs = int(*timeout * 1000);
    return run(ctx, p, [&ctx, command, timeoutMs](Nrf91Modem &modem) {
        return modem.channel()
            ->send(
                AtCommand(command).expecting(AtCommandPolicy::answerPrefix(command)).answeringText().timeout(timeoutMs))
            .then(&modem, [&ctx](Result<AtResponse> answer) {
                if (!answer)
                    return ctx.out.error(answer.error());
                QJsonArray lines;
                QStringList text;
                for (const QByteArray &line : answer->lines) {
                    lines.append(QString::fromLatin1(line));
                    text.append(QString::fromLatin1(line));
                }
                text.append(QString::fromLatin1(answer->finalLine));
                ctx.out.document(QJsonObject{{QStringLiteral("lines"), lines},
                    {QStringLiteral("final"), QString::fromLatin1(answer->finalLine)},
                    {QStringLiteral("ok"), answer->ok()}});
                ctx.out.text(text.join(u'\n'));
                return int(answer->ok() ? ExitOk : ExitDevice);
            });
    });
}

QFuture<int> attest(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Reads the modem's attestation token (AT%ATTESTTOKEN, firmware 1.3 and later) and decodes it: device UUID, "
        "device type and modem firmware UUID. The token proves to nRF Cloud's identity service that the modem is "
        "genuine; its signature is not checked here."));
    addPortOptions(p);
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    return run(ctx, p, [&ctx](Nrf91Modem &modem) {
        return modem
            .query(AtCommand(QByteArrayLiteral("AT%ATTESTTOKEN")).expecting(QByteArrayLiteral("%ATTESTTOKEN:")),
                CliText::tr("Reading the attestation token"))
            .then(&modem, [&ctx](Result<QList<QByteArray>> lines) {
                if (!lines)
                    return ctx.out.error(lines.error());
                const QByteArray line = lines->isEmpty() ? QByteArray() : lines->constLast();
                const auto token = ModemStatus::parseAttestationToken(line);
                if (!token)
                    return ctx.out.error({ErrorKind::Device, QStringLiteral("UnexpectedAnswer"),
                        CliText::tr("The modem's attestation token cannot be read: \"%1\".")
                            .arg(QString::fromLatin1(line.left(80)))});
                const QString raw = QString::fromLatin1(line.mid(line.indexOf('"') + 1)).remove(u'"');
                ctx.out.document(
                    QJsonObject{{QStringLiteral("token"), raw}, {QStringLiteral("messageType"), token->messageType},
                        {QStringLiteral("deviceUuid"), token->deviceUuid},
                        {QStringLiteral("deviceType"), token->deviceType},
                        {QStringLiteral("deviceTypeName"), token->deviceTypeWords()},
                        {QStringLiteral("firmwareUuid"), token->firmwareUuid}});
                ctx.out.text(formatTable({CliText::tr("FIELD"), CliText::tr("VALUE")},
                    {{CliText::tr("Device UUID"), token->deviceUuid},
                        {CliText::tr("Device type"), token->deviceTypeWords()},
                        {CliText::tr("Firmware UUID"), token->firmwareUuid}, {CliText::tr("Token"), raw}}));
                return int(ExitOk);
            });
    });
}
} // namespace

QList<Noun> modemNouns()
{
    return {Noun{QStringLiteral("modem"),
        CliText::tr("An nRF91 modem on a serial port: identity and credentials (security tags)."),
        {
            {QStringLiteral("list"), CliText::tr("List serial ports and nRF91 boards; --probe."), list},
            {QStringLiteral("info"), CliText::tr("Show the modem's identity and functional mode."), info},
            {QStringLiteral("creds"), CliText::tr("Credentials in the modem: list, write, delete."), creds},
            {QStringLiteral("flash-azure"), CliText::tr("Flash the Azure IoT Hub credential set into a security tag."),
                flashAzure},
            {QStringLiteral("keygen"), CliText::tr("Generate a key in the modem and print its CSR."), keygen},
            {QStringLiteral("check"),
                CliText::tr("Will it connect? SIM, network, signal, clock, credentials: a verdict."), check},
            {QStringLiteral("at"), CliText::tr("Send one AT command and print the answer."), at},
            {QStringLiteral("attest"), CliText::tr("Read and decode the modem's attestation token."), attest},
        }}};
}

} // namespace Onboarder::Cli
