// onboarder-cli device … · twin … · method invoke — the registry through HubClient.
#include "command.h"
#include "common/csv.h"
#include "common/duration.h"
#include "common/logging.h"
#include "credentials/certificate.h"
#include "credentials/credentialstore.h"
#include "credentials/secretexport.h"
#include "credentials/securefile.h"
#include "exportcli.h"
#include "handover.h"
#include "hub/devicecheck.h"
#include "hub/hubclient.h"
#include "hub/hubstore.h"
#include "hub/identifiers.h"
#include "hub/keyrotation.h"
#include "hub/querypager.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <memory>
#include <optional>
#include <utility>

namespace Onboarder::Cli {

namespace {

const QString masked = QStringLiteral("********");

QString timeText(const QDateTime &time)
{
    return localTimeText(time, CliText::tr("never"));
}

QFuture<int> list(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Lists devices of the hub, page by page, as the hub's query returns them."));
    p.addOption({QStringLiteral("query"), CliText::tr("An IoT Hub query (default: SELECT * FROM devices)."),
        CliText::tr("SQL")});
    p.addOption({QStringLiteral("top"), CliText::tr("At most N devices (default 1000)."), CliText::tr("N"),
        QStringLiteral("1000")});
    p.addOption({QStringLiteral("csv"), CliText::tr("Comma-separated values instead of a table.")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    int exitCode = ExitOk;
    const auto top = p.intValue(ctx.out, QStringLiteral("top"), 1, 1000000, &exitCode);
    if (!top)
        return finished(exitCode);
    const QString query
        = p.isSet(QStringLiteral("query")) ? p.value(QStringLiteral("query")) : QStringLiteral("SELECT * FROM devices");
    const bool csv = p.isSet(QStringLiteral("csv"));

    return withHub(ctx, [&ctx, query, top = int(*top), csv](HubClient &client, const HubProfile &) {
        return QueryPager(&client, query).collect(top).then(&client, [&ctx, csv](Result<QueryPage> twins) {
            if (!twins)
                return ctx.out.error(twins.error());
            QList<QStringList> rows;
            for (const auto &twin : std::as_const(twins->items)) {
                const DeviceQueryRow row = DeviceQueryRow::fromTwin(twin.toObject());
                rows.append({row.deviceId, row.status, row.connectionState,
                    row.neverActive() ? CliText::tr("never") : row.lastActivityTime, row.authenticationType,
                    QString::number(row.cloudToDeviceMessageCount)});
            }
            const QStringList header{CliText::tr("DEVICE"), CliText::tr("STATUS"), CliText::tr("CONNECTION"),
                CliText::tr("LAST ACTIVITY"), CliText::tr("AUTH"), CliText::tr("C2D QUEUED")};
            if (ctx.out.json()) {
                ctx.out.document(twins->items);
            } else if (csv) {
                QStringList lines{DeviceQueryRow::fieldNames().join(u',')};
                for (const QStringList &row : rows) {
                    QStringList fields;
                    for (const QString &field : row)
                        fields.append(Csv::field(field)); // formulas defused (CSV injection)
                    lines.append(fields.join(u','));
                }
                ctx.out.text(lines.join(u'\n'));
            } else {
                ctx.out.text(formatTable(header, rows));
            }
            return int(ExitOk);
        });
    });
}

// A self-signed device's certificate thumbprint from the options --cert FILE or --thumbprint HEX, or else from the
// certificate made here with cred generate.
Result<QString> chosenThumbprint(const Context &ctx, const VerbParser &p, const QString &deviceId)
{
    QString thumbprint;
    if (p.isSet(QStringLiteral("cert"))) {
        QFile file(p.value(QStringLiteral("cert")));
        if (!file.open(QIODevice::ReadOnly))
            return fail(ErrorKind::InvalidInput, QStringLiteral("CertificateUnreadable"),
                CliText::tr("Cannot read %1: %2").arg(file.fileName(), file.errorString()));
        const auto cert = Certificate::fromPem(file.readAll());
        if (!cert)
            return std::unexpected(cert.error());
        thumbprint = cert->thumbprintSha1();
    } else if (p.isSet(QStringLiteral("thumbprint"))) {
        thumbprint = p.value(QStringLiteral("thumbprint")).toUpper();
    } else if (const auto made = ctx.credentials.record(ctx.hub, deviceId);
               made && made->kind == CredentialRecord::Kind::X509SelfSigned) {
        thumbprint = made->thumbprintSha1; // made here with cred generate
    }
    if (!Identifiers::isThumbprint(thumbprint))
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidThumbprint"),
            CliText::tr("A self-signed device needs --cert FILE, --thumbprint with 40 (SHA-1) or 64 (SHA-256) hex "
                        "digits, or a certificate made first with: cred generate %1")
                .arg(deviceId));
    return thumbprint;
}

QFuture<int> create(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Registers a device in the hub. SAS keys are generated by the hub; a self-signed X.509 "
                             "device needs its certificate (--cert) or thumbprint (--thumbprint)."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    p.addOption({QStringLiteral("auth"), CliText::tr("sas (default), x509-self-signed or x509-ca."),
        CliText::tr("TYPE"), QStringLiteral("sas")});
    p.addOption({QStringLiteral("disabled"), CliText::tr("Register it disabled.")});
    p.addOption({QStringLiteral("cert"), CliText::tr("The device's certificate (PEM), for x509-self-signed."),
        CliText::tr("FILE")});
    p.addOption({QStringLiteral("thumbprint"),
        CliText::tr("The certificate's SHA-1 or SHA-256 thumbprint, for x509-self-signed. Without "
                    "--cert and --thumbprint, the certificate made with cred generate is used."),
        CliText::tr("HEX")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);

    DeviceIdentity device;
    device.id = p.positional().at(0);
    if (auto ok = Identifiers::validateDeviceId(device.id); !ok)
        return finished(ctx.out.error(ok.error()));
    device.status = p.isSet(QStringLiteral("disabled")) ? QStringLiteral("disabled") : QStringLiteral("enabled");
    const QString auth = p.value(QStringLiteral("auth"));
    if (auth == QStringLiteral("sas")) {
        device.authType = QStringLiteral("sas");
    } else if (auth == QStringLiteral("x509-ca")) {
        device.authType = QStringLiteral("certificateAuthority");
    } else if (auth == QStringLiteral("x509-self-signed")) {
        device.authType = QStringLiteral("selfSigned");
        const auto thumbprint = chosenThumbprint(ctx, p, device.id);
        if (!thumbprint)
            return finished(ctx.out.error(thumbprint.error()));
        device.primaryThumbprint = *thumbprint;
    } else {
        return finished(
            ctx.out.usage(CliText::tr("--auth is sas, x509-self-signed or x509-ca, not \"%1\".").arg(auth)));
    }

    return withHub(ctx, [&ctx, device](HubClient &client, const HubProfile &) {
        return client.createDevice(device).then(&client, [&ctx](Result<DeviceIdentity> created) {
            if (!created)
                return ctx.out.error(created.error());
            ctx.out.text(
                CliText::tr("Registered device \"%1\" (%2, %3).").arg(created->id, created->authType, created->status));
            ctx.out.document(created->toRecordJson(false));
            return int(ExitOk);
        });
    });
}

// A device as `device show` prints it: the registry's record with --json, else a table; keys masked unless reveal.
void printDevice(const Output &out, const DeviceIdentity &d, bool reveal)
{
    out.document(d.toRecordJson(reveal));
    QList<QStringList> rows{{CliText::tr("Device"), d.id},
        {CliText::tr("Status"),
            d.status + (d.statusReason.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(d.statusReason))},
        {CliText::tr("Connection"), d.connectionState}, {CliText::tr("Last activity"), timeText(d.lastActivity)},
        {CliText::tr("Authentication"), d.authType},
        {CliText::tr("Queued C2D messages"), QString::number(d.cloudToDeviceMessageCount)},
        {CliText::tr("ETag"), d.etag}};
    if (d.authType == QStringLiteral("sas")) {
        rows.append({CliText::tr("Primary key"), reveal ? d.primaryKey : masked});
        rows.append({CliText::tr("Secondary key"), reveal ? d.secondaryKey : masked});
    } else if (!d.primaryThumbprint.isEmpty()) {
        rows.append({CliText::tr("Primary thumbprint"), d.primaryThumbprint});
        if (!d.secondaryThumbprint.isEmpty())
            rows.append({CliText::tr("Secondary thumbprint"), d.secondaryThumbprint});
    }
    out.text(formatTable({CliText::tr("FIELD"), CliText::tr("VALUE")}, rows));
}

QFuture<int> show(Context &ctx, const QStringList &args)
{
    VerbParser p(
        CliText::tr("Shows a device's identity: status, connection, last activity, authentication (keys masked)."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    p.addOption({QStringLiteral("reveal"), CliText::tr("Show the symmetric keys.")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString id = p.positional().at(0);
    const bool reveal = p.isSet(QStringLiteral("reveal"));
    return withHub(ctx, [&ctx, id, reveal](HubClient &client, const HubProfile &) {
        return client.device(id).then(&client, [&ctx, reveal](Result<DeviceIdentity> d) {
            if (!d)
                return ctx.out.error(d.error());
            printDevice(ctx.out, *d, reveal);
            return int(ExitOk);
        });
    });
}

QFuture<int> remove(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Deletes a device from the hub, with its keys and twin. Asks first unless --yes."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    p.addOption({QStringLiteral("yes"), CliText::tr("Do not ask.")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString id = p.positional().at(0);
    if (const auto refused = confirmDeletion(ctx.out, p.isSet(QStringLiteral("yes")),
            CliText::tr("Delete device \"%1\" from hub \"%2\"?").arg(id, ctx.hub),
            CliText::tr("device \"%1\"").arg(id)))
        return finished(*refused);
    return withHub(ctx, [&ctx, id](HubClient &client, const HubProfile &) {
        return client.deleteDevice(id).then(&client, [&ctx, id](Result<void> deleted) {
            if (!deleted)
                return ctx.out.error(deleted.error());
            ctx.out.text(CliText::tr("Deleted device \"%1\".").arg(id));
            ctx.out.document(QJsonObject{{QStringLiteral("deleted"), id}});
            return int(ExitOk);
        });
    });
}

QFuture<int> setStatus(Context &ctx, const QStringList &args, const QString &status)
{
    VerbParser p(status == QStringLiteral("enabled")
            ? CliText::tr("Enables a device: it may connect again.")
            : CliText::tr("Disables a device: the hub refuses its connections."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString id = p.positional().at(0);
    return withHub(ctx, [&ctx, id, status](HubClient &client, const HubProfile &) {
        return client.device(id)
            .then(&client,
                [&client, status](Result<DeviceIdentity> d) -> QFuture<Result<DeviceIdentity>> {
                    if (!d)
                        return QtFuture::makeReadyFuture(d);
                    d->status = status;
                    return client.updateDevice(*d); // with its ETag: a change in between is not overwritten
                })
            .unwrap()
            .then(&client, [&ctx](Result<DeviceIdentity> updated) {
                if (!updated)
                    return ctx.out.error(updated.error());
                ctx.out.text(CliText::tr("Device \"%1\" is %2.").arg(updated->id, updated->status));
                ctx.out.document(updated->toRecordJson(false));
                return int(ExitOk);
            });
    });
}

QFuture<int> keys(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Changes a device's credentials: a SAS device's keys with regenerate --primary or "
                             "--secondary (a new random key, as when one leaked) or swap; a self-signed X.509 device's "
                             "thumbprints with thumbprint (its new certificate becomes the primary, the old one stays "
                             "secondary). Says first what it breaks and whether the device is connected, and asks "
                             "unless --yes. New keys are masked unless --reveal."));
    p.addPositional(QStringLiteral("ACTION"), CliText::tr("regenerate, swap or thumbprint."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    p.addOption({QStringLiteral("primary"), CliText::tr("regenerate: the primary key.")});
    p.addOption({QStringLiteral("secondary"), CliText::tr("regenerate: the secondary key.")});
    p.addOption({QStringLiteral("yes"), CliText::tr("Do not ask.")});
    p.addOption({QStringLiteral("reveal"), CliText::tr("Print the new keys themselves.")});
    p.addOption(
        {QStringLiteral("cert"), CliText::tr("thumbprint: the device's new certificate (PEM)."), CliText::tr("FILE")});
    p.addOption({QStringLiteral("thumbprint"),
        CliText::tr("thumbprint: the new certificate's SHA-1 or SHA-256 thumbprint. Without --cert and --thumbprint, "
                    "the certificate made here with cred generate (--replace) is used."),
        CliText::tr("HEX")});
    if (auto done = p.parse(ctx.out, args, 2, 2))
        return finished(*done);
    const QString action = p.positional().at(0);
    const QString id = p.positional().at(1);
    const bool primary = p.isSet(QStringLiteral("primary"));
    const bool secondary = p.isSet(QStringLiteral("secondary"));
    KeyRotation::Change change = KeyRotation::Change::Swap;
    std::optional<QString> thumbprint; // the thumbprint action's
    if (action != QStringLiteral("thumbprint")
        && (p.isSet(QStringLiteral("cert")) || p.isSet(QStringLiteral("thumbprint"))))
        return finished(ctx.out.usage(CliText::tr("--cert and --thumbprint go with the thumbprint action.")));
    if (action == QStringLiteral("thumbprint")) {
        if (primary || secondary)
            return finished(ctx.out.usage(CliText::tr(
                "thumbprint always registers the new certificate as primary: no --primary or --secondary.")));
        auto chosen = chosenThumbprint(ctx, p, id);
        if (!chosen)
            return finished(ctx.out.error(chosen.error()));
        thumbprint = *chosen;
    } else if (action == QStringLiteral("regenerate")) {
        if (primary == secondary)
            return finished(ctx.out.usage(CliText::tr("regenerate takes one of --primary and --secondary.")));
        change = primary ? KeyRotation::Change::RegeneratePrimary : KeyRotation::Change::RegenerateSecondary;
    } else if (action == QStringLiteral("swap")) {
        if (primary || secondary)
            return finished(
                ctx.out.usage(CliText::tr("swap changes both keys: it takes no --primary or --secondary.")));
    } else {
        return finished(ctx.out.usage(
            CliText::tr("Unknown action \"%1\": device keys regenerate|swap|thumbprint ID.").arg(action)));
    }
    const bool yes = p.isSet(QStringLiteral("yes"));
    const bool reveal = p.isSet(QStringLiteral("reveal"));
    return withHub(ctx, [&ctx, id, change, thumbprint, yes, reveal](HubClient &client, const HubProfile &hub) {
        auto declined = std::make_shared<std::optional<int>>(); // the exit code when the user said no
        return client.device(id)
            .then(&client,
                [&ctx, &client, change, thumbprint, yes, declined, hubName = hub.name](
                    Result<DeviceIdentity> read) -> QFuture<Result<DeviceIdentity>> {
                    if (!read)
                        return QtFuture::makeReadyFuture(read);
                    auto changed = thumbprint ? KeyRotation::replaceThumbprint(*read, *thumbprint)
                                              : KeyRotation::apply(*read, change);
                    if (!changed)
                        return QtFuture::makeReadyFuture(changed);
                    // Asked after reading, so that the question can say whether the device is connected.
                    const QString consequence = thumbprint ? KeyRotation::thumbprintConsequence(*read, *thumbprint)
                                                           : KeyRotation::consequence(*read, change);
                    if (const auto refused = confirmChange(ctx.out, yes,
                            consequence + u' ' + CliText::tr("Change the keys on hub \"%1\"?").arg(hubName),
                            CliText::tr("Changing keys needs --yes when there is no terminal to ask on. %1")
                                .arg(consequence),
                            CliText::tr("The keys were not changed."))) {
                        *declined = refused; // said already
                        return QtFuture::makeReadyFuture(
                            Result<DeviceIdentity>(fail(ErrorKind::Cancelled, QStringLiteral("Cancelled"), QString())));
                    }
                    return client.updateDevice(*changed); // under the ETag read: a change in between is refused
                })
            .unwrap()
            .then(&client, [&ctx, change, thumbprint, reveal, declined](Result<DeviceIdentity> updated) {
                if (declined->has_value())
                    return **declined;
                if (!updated)
                    return ctx.out.error(updated.error());
                const QString done = thumbprint
                    ? CliText::tr("Registered the certificate %1 as the primary of \"%2\"; the one before stays "
                                  "secondary.")
                          .arg(updated->primaryThumbprint, updated->id)
                    : change == KeyRotation::Change::Swap ? CliText::tr("Swapped the keys of \"%1\".").arg(updated->id)
                    : change == KeyRotation::Change::RegeneratePrimary
                    ? CliText::tr("Regenerated the primary key of \"%1\".").arg(updated->id)
                    : CliText::tr("Regenerated the secondary key of \"%1\".").arg(updated->id);
                ctx.out.text(done);
                printDevice(ctx.out, *updated, reveal);
                return int(ExitOk);
            });
    });
}

QFuture<int> connectionString(Context &ctx, const QStringList &args)
{
    VerbParser p(
        CliText::tr("Prints a device's connection string, its key masked unless --reveal. To hand it to someone, write "
                    "it OpenPGP-encrypted to them (--gpg RECIPIENT --out FILE); --qr --reveal shows it as a QR code; "
                    "--out FILE --unencrypted writes it as plain text (a new file only you can read). With --expires "
                    "it carries a token that stops working after that long instead of the key: the safer hand-over."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    addHandOverOptions(p);
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const auto options = handOverOptions(ctx.out, p);
    if (const int *exitCode = std::get_if<int>(&options))
        return finished(*exitCode);
    const QString id = p.positional().at(0);
    return withHub(
        ctx, [&ctx, id, options = std::get<HandOverOptions>(options)](HubClient &client, const HubProfile &hub) {
            return client.device(id)
                .then(&client,
                    [&ctx, options, host = hub.hostName](Result<DeviceIdentity> d) -> QFuture<int> {
                        if (!d)
                            return finished(ctx.out.error(d.error()));
                        return handOver(ctx.out, options,
                            HandOverIdentity{d->id, QString(), d->authType, d->primaryKey, d->secondaryKey}, host);
                    })
                .unwrap();
        });
}

QFuture<int> twinShow(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Prints a device's (or its module's) twin as JSON (tags, desired and reported "
                             "properties)."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    p.addOption(moduleOption());
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString id = p.positional().at(0);
    const QString module = p.value(QStringLiteral("module"));
    if (const auto refused = checkModuleOption(ctx.out, p))
        return finished(*refused);
    return withHub(ctx, [&ctx, id, module](HubClient &client, const HubProfile &) {
        return client.moduleTwin(id, module).then(&client, [&ctx](Result<DeviceTwin> twin) {
            if (!twin)
                return ctx.out.error(twin.error());
            ctx.out.document(twin->document);
            ctx.out.text(QString::fromUtf8(QJsonDocument(twin->document).toJson(QJsonDocument::Indented)).trimmed());
            return int(ExitOk);
        });
    });
}

QFuture<int> twinPatch(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Patches a device's twin with the JSON read from standard input, e.g. "
        "{\"tags\":{\"site\":\"bench-1\"},\"properties\":{\"desired\":{\"interval\":30}}}; null removes a key."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    p.addOption(moduleOption());
    const QString etagOption = QStringLiteral("etag"); // hub-json: allow etag (the option --etag, docs/cli.md)
    p.addOption({etagOption, CliText::tr("Apply only if the twin still has this ETag."), CliText::tr("ETAG")});
    p.addOption({QStringLiteral("input"), CliText::tr("Read the JSON from FILE."), CliText::tr("FILE")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const auto input = readInput(p.value(QStringLiteral("input")));
    if (!input)
        return finished(ctx.out.error(input.error()));
    const auto patch = jsonObjectFrom(*input, CliText::tr("The patch"));
    if (!patch)
        return finished(ctx.out.error(patch.error()));
    const QString id = p.positional().at(0);
    const QString etag = p.value(etagOption);
    const QString module = p.value(QStringLiteral("module"));
    if (const auto refused = checkModuleOption(ctx.out, p))
        return finished(*refused);
    return withHub(ctx, [&ctx, id, module, etag, patch = *patch](HubClient &client, const HubProfile &) {
        return client.updateModuleTwin(id, module, patch, etag).then(&client, [&ctx](Result<DeviceTwin> twin) {
            if (!twin)
                return ctx.out.error(twin.error());
            ctx.out.document(twin->document);
            ctx.out.text(CliText::tr("Twin updated; its ETag is now %1.").arg(twin->etag));
            return int(ExitOk);
        });
    });
}

QFuture<int> methodInvoke(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Invokes a direct method on a connected device (or its module) and prints its status and payload."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    p.addPositional(QStringLiteral("NAME"), CliText::tr("The method's name."));
    p.addOption(moduleOption());
    p.addOption({QStringLiteral("payload"), CliText::tr("JSON payload (default null)."), CliText::tr("JSON"),
        QStringLiteral("null")});
    p.addOption({QStringLiteral("timeout"), CliText::tr("Seconds to wait for the device's answer (5–300, default 30)."),
        CliText::tr("S"), QStringLiteral("30")});
    if (auto done = p.parse(ctx.out, args, 2, 2))
        return finished(*done);
    int exitCode = ExitOk;
    const auto timeout = p.intValue(ctx.out, QStringLiteral("timeout"), 5, 300, &exitCode);
    if (!timeout)
        return finished(exitCode);
    const auto payload = jsonValueFrom(p.value(QStringLiteral("payload")).toUtf8(), QStringLiteral("--payload"));
    if (!payload)
        return finished(ctx.out.error(payload.error()));
    const QString id = p.positional().at(0);
    const QString name = p.positional().at(1);
    const QString module = p.value(QStringLiteral("module"));
    if (const auto refused = checkModuleOption(ctx.out, p))
        return finished(*refused);
    return withHub(ctx,
        [&ctx, id, module, name, payload = *payload, timeout = int(*timeout)](HubClient &client, const HubProfile &) {
            return client.invokeModuleMethod(id, module, name, payload, timeout)
                .then(&client, [&ctx](Result<MethodResult> answer) {
                    if (!answer)
                        return ctx.out.error(answer.error());
                    ctx.out.document(answer->toJson());
                    ctx.out.text(CliText::tr("status %1").arg(answer->status));
                    ctx.out.text(
                        QString::fromUtf8(QJsonDocument(QJsonArray{answer->payload}).toJson(QJsonDocument::Compact))
                            .mid(1)
                            .chopped(1));
                    return int(ExitOk);
                });
        });
}

QFuture<int> check(Context &ctx, const QStringList &args)
{
    VerbParser p(
        CliText::tr("Answers a support call's first questions about a device: registered? enabled? connected? last "
                    "activity? reported properties? and, with --ping, does it answer the direct method \"ping\"?"));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The device id."));
    p.addOption({QStringLiteral("ping"), CliText::tr("Also invoke the direct method \"ping\".")});
    p.addOption({QStringLiteral("timeout"), CliText::tr("Seconds to wait for the ping's answer (5–300, default 10)."),
        CliText::tr("S"), QStringLiteral("10")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    int exitCode = ExitOk;
    const auto timeout = p.intValue(ctx.out, QStringLiteral("timeout"), 5, 300, &exitCode);
    if (!timeout)
        return finished(exitCode);
    DeviceCheckOptions options;
    options.ping = p.isSet(QStringLiteral("ping"));
    options.pingTimeoutSeconds = int(*timeout);
    const QString id = p.positional().at(0);
    return withHub(ctx, [&ctx, id, options](HubClient &client, const HubProfile &) {
        return checkDevice(client, id, options).then(&client, [&ctx](Result<QList<DeviceCheckItem>> items) {
            if (!items)
                return ctx.out.error(items.error());
            QJsonArray json;
            QList<QStringList> rows;
            for (const DeviceCheckItem &item : *items) {
                json.append(QJsonObject{{QStringLiteral("check"), item.key},
                    {QStringLiteral("verdict"), DeviceCheckItem::verdictName(item.verdict)},
                    {QStringLiteral("sentence"), item.sentence}});
                rows.append({DeviceCheckItem::verdictName(item.verdict).toUpper(), item.sentence});
            }
            ctx.out.document(json);
            ctx.out.text(formatTable({CliText::tr("VERDICT"), CliText::tr("WHAT")}, rows));
            // Not registered is "not found"; every other finding is information, not a failure of the call.
            const bool registered = !items->isEmpty() && items->first().verdict == DeviceCheckItem::Verdict::Good;
            return int(registered ? ExitOk : ExitNotFound);
        });
    });
}

} // namespace

QList<Noun> deviceNouns()
{
    return {
        Noun{QStringLiteral("device"), CliText::tr("Devices of the hub (--hub NAME, or the current hub)."),
            {
                {QStringLiteral("list"), CliText::tr("List devices; --query, --top, --csv."), list},
                {QStringLiteral("create"), CliText::tr("Register a device."), create},
                {QStringLiteral("show"), CliText::tr("Show a device's identity."), show},
                {QStringLiteral("delete"), CliText::tr("Delete a device."), remove},
                {QStringLiteral("keys"),
                    CliText::tr("Regenerate or swap a SAS device's keys; register an X.509 device's new certificate."),
                    keys},
                {QStringLiteral("enable"), CliText::tr("Enable a device."),
                    [](Context &ctx, const QStringList &args) {
                        return setStatus(ctx, args, QStringLiteral("enabled"));
                    }},
                {QStringLiteral("disable"), CliText::tr("Disable a device."),
                    [](Context &ctx, const QStringList &args) {
                        return setStatus(ctx, args, QStringLiteral("disabled"));
                    }},
                {QStringLiteral("connection-string"), CliText::tr("Print a device's connection string."),
                    connectionString},
                {QStringLiteral("check"),
                    CliText::tr("Check a device: registered, enabled, connected, active, answering."), check},
                {QStringLiteral("import"),
                    CliText::tr("Register the devices of a CSV or JSON Lines file, 100 a request; resumable."),
                    deviceImport},
                {QStringLiteral("export"),
                    CliText::tr(
                        "Write the hub's devices to a CSV or JSON Lines file; keys only with --with-keys --gpg."),
                    deviceExport},
                {QStringLiteral("telemetry"), CliText::tr("Print what the hub receives from a device, as it arrives."),
                    deviceTelemetry},
            }},
        Noun{QStringLiteral("twin"), CliText::tr("Device twins."),
            {{QStringLiteral("show"), CliText::tr("Print a twin."), twinShow},
                {QStringLiteral("patch"), CliText::tr("Patch a twin; JSON on standard input."), twinPatch}}},
        Noun{QStringLiteral("method"), CliText::tr("Direct methods."),
            {{QStringLiteral("invoke"), CliText::tr("Invoke a direct method."), methodInvoke}}},
    };
}

} // namespace Onboarder::Cli
