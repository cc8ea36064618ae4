// onboarder-cli dps … — Device Provisioning Service instances, their enrollments, groups and registrations, and a
// test registration from this computer (the enrollment proven end to end before the device ships).
#include "cliio.h"
#include "command.h"
#include "common/promise.h"
#include "common/settings.h"
#include "credentials/credentialstore.h"
#include "dps/dpsclient.h"
#include "dps/dpsenrollment.h"
#include "dps/dpsregistration.h"
#include "dps/dpsstore.h"
#include "hub/identifiers.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPromise>

#include <memory>

namespace Onboarder::Cli {

namespace {

const QString masked = QStringLiteral("********");
using Kind = DpsClient::Kind;

// Runs body with a DpsClient for the chosen DPS (--dps, else the current one). The client lives until body's
// future has finished.
QFuture<int> withDps(Context &ctx, const std::function<QFuture<int>(DpsClient &, const DpsProfile &)> &body)
{
    if (ctx.dps.isEmpty())
        return finished(ctx.out.error({ErrorKind::NotFound, QStringLiteral("NoDpsChosen"),
            CliText::tr("No DPS chosen: give --dps NAME, or make one current with onboarder-cli dps use NAME.")}));
    const auto profile = ctx.dpsInstances.find(ctx.dps);
    if (!profile)
        return finished(ctx.out.error({ErrorKind::NotFound, QStringLiteral("DpsNotFound"),
            CliText::tr("There is no DPS named \"%1\".").arg(ctx.dps)}));
    return ctx.dpsInstances.connectionString(ctx.dps)
        .then([&ctx, profile = *profile, body](Result<ConnectionString> service) -> QFuture<int> {
            if (!service)
                return finished(ctx.out.error(service.error()));
            auto client = std::make_shared<DpsClient>(profile, *service);
            return body(*client, profile).then([client](int code) { return code; });
        })
        .unwrap();
}

QJsonObject toJson(const DpsProfile &dps)
{
    QJsonObject object{{QStringLiteral("name"), dps.name}, {QStringLiteral("hostName"), dps.hostName},
        {QStringLiteral("policyName"), dps.policyName}, {QStringLiteral("idScope"), dps.idScope},
        {QStringLiteral("restPort"), dps.effectiveRestPort()}, {QStringLiteral("mqttPort"), dps.effectiveMqttPort()},
        {QStringLiteral("deviceEndpoint"), dps.deviceEndpoint()}};
    if (!dps.address.isEmpty())
        object.insert(QStringLiteral("address"), dps.address);
    if (!dps.caFile.isEmpty())
        object.insert(QStringLiteral("caFile"), dps.caFile);
    return object;
}

// An enrollment or group as DPS gave it, its symmetric keys masked unless reveal.
QJsonObject shown(const QJsonObject &item, bool reveal)
{
    return reveal ? item : DpsEnrollment::masked(item);
}

QString attestationText(const QJsonObject &item)
{
    if (DpsEnrollment::isX509(item))
        return CliText::tr("X.509 %1").arg(DpsEnrollment::primarySha1Thumbprint(item));
    if (DpsEnrollment::isSymmetricKey(item))
        return CliText::tr("symmetric key");
    return DpsEnrollment::attestationType(item);
}

Result<QJsonObject> readInitialTwin(const QString &path)
{
    if (path.isEmpty())
        return QJsonObject{};
    const auto bytes = readInput(path);
    if (!bytes)
        return std::unexpected(bytes.error());
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(*bytes, &error);
    if (!document.isObject())
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidInitialTwin"),
            CliText::tr("The initial twin in %1 is not a JSON object: %2").arg(path, error.errorString()));
    return DpsEnrollment::initialTwinFrom(document.object());
}

// The certificate kept here for a device id (any hub's credential of that id; the current hub's first).
Result<Certificate> keptCertificate(Context &ctx, const QString &id, QString *hub)
{
    const auto records = ctx.credentials.records();
    if (!records)
        return std::unexpected(records.error());
    QStringList hubs;
    for (const CredentialRecord &record : *records) {
        if (record.deviceId == id && record.kind != CredentialRecord::Kind::SymmetricKey
            && record.kind != CredentialRecord::Kind::CertificateAuthority)
            hubs.append(record.hub);
    }
    if (hubs.isEmpty())
        return fail(ErrorKind::NotFound, QStringLiteral("NoCredential"),
            CliText::tr("No certificate is kept here for %1. Make one with onboarder-cli cred generate %1, or give "
                        "--cert FILE.")
                .arg(id));
    *hub = hubs.contains(ctx.hub) ? ctx.hub : hubs.first();
    return ctx.credentials.certificate(*hub, id);
}

QFuture<int> add(Context &ctx, const QStringList &args)
{
    VerbParser p(
        CliText::tr("Adds a Device Provisioning Service. Its connection string (a shared access policy's, e.g. "
                    "provisioningserviceowner) is read from standard input or --secret-file and stored in the system "
                    "keychain only."));
    p.addPositional(QStringLiteral("NAME"), CliText::tr("A local name for the DPS."));
    p.addOption({QStringLiteral("id-scope"),
        CliText::tr("The DPS's ID scope, which devices register with (its Overview page)."), CliText::tr("SCOPE")});
    p.addOption(
        {QStringLiteral("ca"), CliText::tr("Trust this CA certificate (PEM) for this DPS only."), CliText::tr("FILE")});
    p.addOption({QStringLiteral("rest-port"), CliText::tr("HTTPS port (default 443)."), CliText::tr("N")});
    p.addOption({QStringLiteral("mqtt-port"), CliText::tr("MQTT port of device registration (default 8883)."),
        CliText::tr("N")});
    p.addOption({QStringLiteral("address"),
        CliText::tr("Reach the service and device registration at this address (a sandbox) "
                    "instead of Azure's hosts."),
        CliText::tr("ADDR")});
    p.addOption({QStringLiteral("secret-file"),
        CliText::tr("Read the connection string from FILE instead of standard input."), CliText::tr("FILE")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    DpsEndpoint endpoint;
    endpoint.idScope = p.value(QStringLiteral("id-scope"));
    endpoint.caFile = p.value(QStringLiteral("ca"));
    endpoint.address = p.value(QStringLiteral("address"));
    int exitCode = ExitOk;
    for (const auto &[option, port] : {std::pair{QStringLiteral("rest-port"), &endpoint.restPort},
             std::pair{QStringLiteral("mqtt-port"), &endpoint.mqttPort}}) {
        if (!p.isSet(option))
            continue;
        const auto value = p.intValue(ctx.out, option, 1, 65535, &exitCode);
        if (!value)
            return finished(exitCode);
        *port = int(*value);
    }
    const auto secret = readSecret(CliText::tr("DPS connection string"), p.value(QStringLiteral("secret-file")));
    if (!secret)
        return finished(ctx.out.error(secret.error()));
    // DpsStore::add() checks the text before the keychain gets it.
    return ctx.dpsInstances.add(p.positional().at(0), secret->exposeAsString(), endpoint)
        .then([&ctx](Result<DpsProfile> added) {
            if (!added)
                return ctx.out.error(added.error());
            if (ctx.settings.currentDps().isEmpty()) {
                if (auto made = ctx.settings.setCurrentDps(added->name); !made)
                    std::fprintf(stderr, "warning: %s\n", qPrintable(made.error().message)); // added all the same
            }
            ctx.out.text(
                CliText::tr("Added DPS \"%1\" (%2, policy %3, ID scope %4). Its key is in the system keychain.")
                    .arg(added->name, added->hostName, added->policyName, added->idScope));
            ctx.out.document(toJson(*added));
            return int(ExitOk);
        });
}

QFuture<int> list(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Lists the Device Provisioning Services that were added."));
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    const QString current = ctx.settings.currentDps();
    QJsonArray array;
    QList<QStringList> rows;
    for (const DpsProfile &dps : ctx.dpsInstances.instances()) {
        QJsonObject object = toJson(dps);
        object.insert(QStringLiteral("current"), dps.name == current);
        array.append(object);
        rows.append({dps.name == current ? QStringLiteral("*") : QString(), dps.name, dps.hostName, dps.idScope,
            dps.deviceEndpoint()});
    }
    ctx.out.document(QJsonObject{{QStringLiteral("dps"), array}});
    if (rows.isEmpty())
        ctx.out.text(CliText::tr(
            "No DPS yet. Add one with: onboarder-cli dps add NAME --id-scope SCOPE < connection-string-file"));
    else
        ctx.out.text(formatTable({QString(), CliText::tr("NAME"), CliText::tr("HOST"), CliText::tr("ID SCOPE"),
                                     CliText::tr("DEVICES REGISTER AT")},
            rows));
    return finished(ExitOk);
}

QFuture<int> remove(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Removes a DPS from this computer: its profile and its key in the keychain. Nothing changes in the DPS."));
    p.addPositional(QStringLiteral("NAME"), CliText::tr("The DPS's local name."));
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString name = p.positional().at(0);
    return ctx.dpsInstances.remove(name).then([&ctx, name](Result<void> removed) {
        if (!removed)
            return ctx.out.error(removed.error());
        ctx.out.text(CliText::tr("Removed DPS \"%1\".").arg(name));
        return int(ExitOk);
    });
}

QFuture<int> use(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Makes a DPS the current one: dps commands without --dps work on it."));
    p.addPositional(QStringLiteral("NAME"), CliText::tr("The DPS's local name."));
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString name = p.positional().at(0);
    if (!ctx.dpsInstances.find(name))
        return finished(ctx.out.error({ErrorKind::NotFound, QStringLiteral("DpsNotFound"),
            CliText::tr("There is no DPS named \"%1\".").arg(name)}));
    if (auto saved = ctx.settings.setCurrentDps(name); !saved)
        return finished(ctx.out.error(saved.error()));
    ctx.out.text(CliText::tr("\"%1\" is now the current DPS.").arg(name));
    return finished(ExitOk);
}

// list, show and delete, the same for enrollments and groups.
QFuture<int> listItems(Context &ctx, Kind kind, bool reveal)
{
    return withDps(ctx, [&ctx, kind, reveal](DpsClient &client, const DpsProfile &) {
        struct State
        {
            QJsonArray all;
            QPromise<int> done;
        };
        auto state = std::make_shared<State>();
        state->done.start();
        auto next = std::make_shared<std::function<void(QString)>>();
        *next = [&ctx, &client, kind, reveal, state, next](const QString &continuation) {
            client.query(kind, {}, 100, continuation)
                .then([&ctx, kind, reveal, state, next](Result<DpsQueryPage> page) {
                    if (!page) {
                        state->done.addResult(ctx.out.error(page.error()));
                        state->done.finish();
                        *next = nullptr;
                        return;
                    }
                    for (const auto &item : page->items)
                        state->all.append(shown(item.toObject(), reveal));
                    if (!page->continuation.isEmpty())
                        return (*next)(page->continuation);
                    QList<QStringList> rows;
                    for (const auto &value : std::as_const(state->all)) {
                        const QJsonObject item = value.toObject();
                        const QString id
                            = kind == Kind::Group ? DpsEnrollment::groupId(item) : DpsEnrollment::registrationId(item);
                        rows.append({id, attestationText(item), DpsEnrollment::provisioningStatus(item),
                            DpsEnrollment::assignedHub(item)});
                    }
                    ctx.out.document(QJsonObject{
                        {kind == Kind::Group ? QStringLiteral("groups") : QStringLiteral("enrollments"), state->all}});
                    ctx.out.text(rows.isEmpty() ? CliText::tr("None.")
                                                : formatTable({CliText::tr("ID"), CliText::tr("ATTESTATION"),
                                                                  CliText::tr("STATUS"), CliText::tr("ASSIGNED HUB")},
                                                    rows));
                    state->done.addResult(int(ExitOk));
                    state->done.finish();
                    *next = nullptr;
                });
        };
        (*next)(QString());
        return state->done.future();
    });
}

QFuture<int> showItem(Context &ctx, Kind kind, const QString &id, bool reveal)
{
    return withDps(ctx, [&ctx, kind, id, reveal](DpsClient &client, const DpsProfile &) {
        return client.get(kind, id).then([&ctx, reveal](Result<QJsonObject> item) {
            if (!item)
                return ctx.out.error(item.error());
            const QJsonObject json = shown(*item, reveal);
            ctx.out.document(json);
            ctx.out.text(QString::fromUtf8(QJsonDocument(json).toJson(QJsonDocument::Indented)).trimmed());
            return int(ExitOk);
        });
    });
}

QFuture<int> deleteItem(Context &ctx, Kind kind, const QString &id)
{
    return withDps(ctx, [&ctx, kind, id](DpsClient &client, const DpsProfile &profile) {
        return client.remove(kind, id).then([&ctx, kind, id, dps = profile.name](Result<void> removed) {
            if (!removed)
                return ctx.out.error(removed.error());
            ctx.out.text(CliText::tr("Deleted %1 \"%2\" from DPS %3.").arg(DpsClient::kindName(kind), id, dps));
            return int(ExitOk);
        });
    });
}

// PUT a new enrollment or group, refusing one that exists (exit 4) rather than replacing it unseen.
QFuture<int> createItem(Context &ctx, Kind kind, const QString &id, const QJsonObject &body)
{
    return withDps(ctx, [&ctx, kind, id, body](DpsClient &client, const DpsProfile &profile) {
        return client.get(kind, id)
            .then([&ctx, &client, kind, id, body, dps = profile.name](Result<QJsonObject> existing) -> QFuture<int> {
                if (existing)
                    return finished(ctx.out.error({ErrorKind::Conflict, QStringLiteral("EnrollmentExists"),
                        CliText::tr("DPS %1 has a %2 \"%3\" already; nothing was changed. Delete it first to "
                                    "make it anew.")
                            .arg(dps, DpsClient::kindName(kind), id)}));
                if (existing.error().kind != ErrorKind::NotFound)
                    return finished(ctx.out.error(existing.error()));
                return client.put(kind, id, body).then([&ctx, kind, id, dps](Result<QJsonObject> created) {
                    if (!created)
                        return ctx.out.error(created.error());
                    ctx.out.document(shown(*created, false));
                    ctx.out.text(CliText::tr("Created %1 \"%2\" in DPS %3 (%4).")
                                     .arg(DpsClient::kindName(kind), id, dps, attestationText(*created)));
                    return int(ExitOk);
                });
            })
            .unwrap();
    });
}

QFuture<int> enrollment(Context &ctx, const QStringList &args)
{
    VerbParser p(
        CliText::tr("Individual enrollments of the DPS: list, show ID, create ID, delete ID. create takes --auth x509 "
                    "(the certificate kept here for that id, or --cert FILE) or --auth symmetric-key (DPS makes the "
                    "keys), --initial-twin FILE and --disabled."),
        CliText::tr("list|show|create|delete [ID]"));
    p.addPositional(QStringLiteral("ACTION"), CliText::tr("list, show, create or delete."));
    p.addPositional(QStringLiteral("ID"),
        CliText::tr("The registration id (for X.509: the certificate's common name)."), QStringLiteral("[ID]"));
    p.addOption({QStringLiteral("auth"), CliText::tr("create: x509 or symmetric-key."), CliText::tr("KIND"),
        QStringLiteral("x509")});
    p.addOption({QStringLiteral("cert"),
        CliText::tr("create: the device's certificate (PEM) instead of the one kept here."), CliText::tr("FILE")});
    p.addOption({QStringLiteral("device-id"),
        CliText::tr("create: the device id in the hub (default: the registration id)."), CliText::tr("ID")});
    p.addOption({QStringLiteral("initial-twin"),
        CliText::tr("create: the device's initial twin (JSON: tags and desired properties)."), CliText::tr("FILE")});
    p.addOption({QStringLiteral("disabled"), CliText::tr("create: enrolled but not allowed to register yet.")});
    p.addOption({QStringLiteral("reveal"), CliText::tr("list, show: print symmetric keys instead of masking them.")});
    if (auto done = p.parse(ctx.out, args, 1, 2))
        return finished(*done);
    const QString action = p.positional().at(0);
    const QString id = p.positional().value(1);
    if (action == QLatin1String("list"))
        return listItems(ctx, Kind::Enrollment, p.isSet(QStringLiteral("reveal")));
    if (id.isEmpty())
        return finished(ctx.out.usage(CliText::tr("dps enrollment %1 needs the registration id.").arg(action)));
    if (const auto valid = Identifiers::validateDeviceId(id); !valid)
        return finished(ctx.out.error(valid.error()));
    if (action == QLatin1String("show"))
        return showItem(ctx, Kind::Enrollment, id, p.isSet(QStringLiteral("reveal")));
    if (action == QLatin1String("delete"))
        return deleteItem(ctx, Kind::Enrollment, id);
    if (action != QLatin1String("create"))
        return finished(
            ctx.out.usage(CliText::tr("dps enrollment takes list, show, create or delete, not \"%1\".").arg(action)));

    const auto twin = readInitialTwin(p.value(QStringLiteral("initial-twin")));
    if (!twin)
        return finished(ctx.out.error(twin.error()));
    const DpsEnrollment::Options options{*twin, !p.isSet(QStringLiteral("disabled"))};
    QJsonObject body;
    const QString auth = p.value(QStringLiteral("auth"));
    if (auth == QLatin1String("symmetric-key")) {
        body = DpsEnrollment::individualSymmetricKey(id, options);
    } else if (auth == QLatin1String("x509")) {
        Result<Certificate> certificate = std::unexpected(Error{});
        if (p.isSet(QStringLiteral("cert"))) {
            QFile file(p.value(QStringLiteral("cert")));
            if (!file.open(QIODevice::ReadOnly))
                return finished(ctx.out.error({ErrorKind::InvalidInput, QStringLiteral("CertificateUnreadable"),
                    CliText::tr("%1 cannot be read: %2").arg(file.fileName(), file.errorString())}));
            certificate = Certificate::fromData(file.readAll());
        } else {
            QString hub;
            certificate = keptCertificate(ctx, id, &hub);
        }
        if (!certificate)
            return finished(ctx.out.error(certificate.error()));
        if (certificate->subjectCommonName() != id)
            return finished(ctx.out.error({ErrorKind::InvalidInput, QStringLiteral("CommonNameMismatch"),
                CliText::tr("The certificate's common name is \"%1\", but DPS takes an X.509 device's "
                            "registration id from it: enroll it as \"%1\", or use a certificate made for \"%2\".")
                    .arg(certificate->subjectCommonName(), id)}));
        body = DpsEnrollment::individualX509(id, certificate->toPem(), options);
    } else {
        return finished(ctx.out.usage(
            CliText::tr("--auth takes x509 or symmetric-key, not \"%1\" (TPM is not supported).").arg(auth)));
    }
    if (p.isSet(QStringLiteral("device-id")))
        body = DpsEnrollment::withDeviceId(body, p.value(QStringLiteral("device-id")));
    return createItem(ctx, Kind::Enrollment, id, body);
}

QFuture<int> group(Context &ctx, const QStringList &args)
{
    VerbParser p(
        CliText::tr(
            "Enrollment groups of the DPS: list, show NAME, create NAME, delete NAME, device-key NAME "
            "REGISTRATION_ID. create takes --ca CA (a CA imported with cred import-ca: devices whose certificates "
            "it signs may register) or --auth symmetric-key (devices register with keys derived from the group's)."),
        CliText::tr("list|show|create|delete|device-key [NAME] [REGISTRATION_ID]"));
    p.addPositional(QStringLiteral("ACTION"), CliText::tr("list, show, create, delete or device-key."));
    p.addPositional(QStringLiteral("NAME"), CliText::tr("The enrollment group's id."), QStringLiteral("[NAME]"));
    p.addPositional(QStringLiteral("REGISTRATION_ID"), CliText::tr("device-key: the device's registration id."),
        QStringLiteral("[REGISTRATION_ID]"));
    p.addOption({QStringLiteral("ca"), CliText::tr("create: the imported CA whose certificates the group admits."),
        CliText::tr("CA")});
    p.addOption({QStringLiteral("auth"), CliText::tr("create: x509 (with --ca) or symmetric-key."), CliText::tr("KIND"),
        QStringLiteral("x509")});
    p.addOption({QStringLiteral("initial-twin"), CliText::tr("create: the devices' initial twin (JSON)."),
        CliText::tr("FILE")});
    p.addOption({QStringLiteral("disabled"), CliText::tr("create: no device of the group may register yet.")});
    p.addOption({QStringLiteral("reveal"), CliText::tr("Print keys instead of masking them.")});
    if (auto done = p.parse(ctx.out, args, 1, 3))
        return finished(*done);
    const QString action = p.positional().at(0);
    const QString name = p.positional().value(1);
    const bool reveal = p.isSet(QStringLiteral("reveal"));
    if (action == QLatin1String("list"))
        return listItems(ctx, Kind::Group, reveal);
    if (name.isEmpty())
        return finished(ctx.out.usage(CliText::tr("dps group %1 needs the group's name.").arg(action)));
    if (action == QLatin1String("show"))
        return showItem(ctx, Kind::Group, name, reveal);
    if (action == QLatin1String("delete"))
        return deleteItem(ctx, Kind::Group, name);
    if (action == QLatin1String("device-key")) {
        const QString registrationId = p.positional().value(2);
        if (registrationId.isEmpty())
            return finished(ctx.out.usage(
                CliText::tr("dps group device-key needs the group's name and the device's registration id.")));
        return withDps(ctx, [&ctx, name, registrationId, reveal](DpsClient &client, const DpsProfile &) {
            return client.get(Kind::Group, name).then([&ctx, name, registrationId, reveal](Result<QJsonObject> group) {
                if (!group)
                    return ctx.out.error(group.error());
                const QString groupKey = DpsEnrollment::primarySymmetricKey(*group);
                if (groupKey.isEmpty())
                    return ctx.out.error({ErrorKind::InvalidInput, QStringLiteral("NotASymmetricKeyGroup"),
                        CliText::tr("The enrollment group \"%1\" is not a symmetric-key group: its devices have no "
                                    "derived key.")
                            .arg(name)});
                const auto key = DpsRegistration::deriveDeviceKey(groupKey, registrationId);
                if (!key)
                    return ctx.out.error(key.error());
                // Printed only when asked for with --reveal.
                ctx.out.document(
                    DpsEnrollment::deviceKeyJson(name, registrationId, reveal ? key->exposeAsString() : masked));
                ctx.out.text(
                    reveal ? key->exposeAsString() : CliText::tr("%1 (masked; --reveal prints it)").arg(masked));
                return int(ExitOk);
            });
        });
    }
    if (action != QLatin1String("create"))
        return finished(ctx.out.usage(
            CliText::tr("dps group takes list, show, create, delete or device-key, not \"%1\".").arg(action)));

    const auto twin = readInitialTwin(p.value(QStringLiteral("initial-twin")));
    if (!twin)
        return finished(ctx.out.error(twin.error()));
    const DpsEnrollment::Options options{*twin, !p.isSet(QStringLiteral("disabled"))};
    if (p.value(QStringLiteral("auth")) == QLatin1String("symmetric-key"))
        return createItem(ctx, Kind::Group, name, DpsEnrollment::groupSymmetricKey(name, options));
    if (p.value(QStringLiteral("auth")) != QLatin1String("x509") || !p.isSet(QStringLiteral("ca")))
        return finished(
            ctx.out.usage(CliText::tr("dps group create needs --ca CA (an imported CA) or --auth symmetric-key.")));
    const QString caName = p.value(QStringLiteral("ca"));
    return ctx.credentials.certificateAuthority(caName)
        .then([&ctx, name, options](Result<CertificateAuthority> ca) -> QFuture<int> {
            if (!ca)
                return finished(ctx.out.error(ca.error()));
            return createItem(
                ctx, Kind::Group, name, DpsEnrollment::groupX509(name, ca->certificate().toPem(), options));
        })
        .unwrap();
}

QFuture<int> registration(Context &ctx, const QStringList &args)
{
    VerbParser p(
        CliText::tr(
            "A device's registration state in the DPS: show ID (the hub it was assigned to), delete ID (so that "
            "it is assigned anew on its next registration)."),
        CliText::tr("show|delete ID"));
    p.addPositional(QStringLiteral("ACTION"), CliText::tr("show or delete."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The registration id."));
    if (auto done = p.parse(ctx.out, args, 2, 2))
        return finished(*done);
    const QString action = p.positional().at(0);
    const QString id = p.positional().at(1);
    if (action == QLatin1String("show"))
        return showItem(ctx, Kind::Registration, id, false);
    if (action == QLatin1String("delete"))
        return deleteItem(ctx, Kind::Registration, id);
    return finished(ctx.out.usage(CliText::tr("dps registration takes show or delete, not \"%1\".").arg(action)));
}

QFuture<int> registerDevice(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Registers a device with the DPS from this computer, as the device will (MQTT, the ID scope, its "
        "credential): the enrollment proven end to end. X.509 uses the certificate and key kept here for the "
        "id; a symmetric-key enrollment uses its key, a symmetric-key group (--group) the key derived from the "
        "group's. Prints the assigned hub and device id."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The registration id."));
    p.addOption({QStringLiteral("group"), CliText::tr("The device belongs to this symmetric-key enrollment group."),
        CliText::tr("NAME")});
    p.addOption({QStringLiteral("timeout"), CliText::tr("Give up after S seconds (default 60)."), CliText::tr("S"),
        QStringLiteral("60")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    int exitCode = ExitOk;
    const auto timeout = p.intValue(ctx.out, QStringLiteral("timeout"), 5, 3600, &exitCode);
    if (!timeout)
        return finished(exitCode);
    const QString id = p.positional().at(0);
    const QString groupName = p.value(QStringLiteral("group"));
    return withDps(ctx,
        [&ctx, id, groupName, timeout = int(*timeout)](DpsClient &client, const DpsProfile &profile) -> QFuture<int> {
            // The credential: from the group (derived key), the enrollment (its key), or the keychain (X.509).
            const Kind kind = groupName.isEmpty() ? Kind::Enrollment : Kind::Group;
            return client.get(kind, groupName.isEmpty() ? id : groupName)
                .then([&ctx, id, groupName, profile, timeout](Result<QJsonObject> item) -> QFuture<int> {
                    if (!item)
                        return finished(ctx.out.error(item.error()));
                    auto credential = std::make_shared<DpsRegistration::Credential>();
                    QFuture<Result<void>> ready = readyFuture<void>({});
                    if (DpsEnrollment::isSymmetricKey(*item)) {
                        const QString key = DpsEnrollment::primarySymmetricKey(*item);
                        if (groupName.isEmpty()) {
                            credential->symmetricKey = SecretBytes::fromString(QString(key));
                        } else {
                            auto derived = DpsRegistration::deriveDeviceKey(key, id);
                            if (!derived)
                                return finished(ctx.out.error(derived.error()));
                            credential->symmetricKey = std::move(*derived);
                        }
                    } else {
                        QString hub;
                        if (const auto certificate = keptCertificate(ctx, id, &hub); !certificate)
                            return finished(ctx.out.error(certificate.error()));
                        ready = ctx.credentials.deviceCredential(hub, id).then(
                            [credential](Result<DeviceCredential> kept) -> Result<void> {
                                if (!kept)
                                    return std::unexpected(kept.error());
                                credential->certificatePem = kept->certificate.toPem();
                                credential->privateKeyPem = kept->key.privateKeyPem();
                                return {};
                            });
                    }
                    return ready
                        .then([&ctx, id, profile, timeout, credential](Result<void> got) -> QFuture<int> {
                            if (!got)
                                return finished(ctx.out.error(got.error()));
                            // Owned by the application, deleted once it has answered (never owned by its own
                            // connection).
                            auto *registration = new DpsRegistration(qApp);
                            auto done = std::make_shared<QPromise<int>>();
                            done->start();
                            registration->setTimeoutSeconds(timeout);
                            QObject::connect(
                                registration, &DpsRegistration::progress, registration, [](const QString &text) {
                                    std::fputs(QByteArray(text.toUtf8() + '\n').constData(), stderr);
                                });
                            QObject::connect(registration, &DpsRegistration::finished, registration,
                                [&ctx, registration, done, id](const Result<DpsAssignment> &result) {
                                    int code = ExitOk;
                                    if (!result) {
                                        code = ctx.out.error(result.error());
                                    } else {
                                        ctx.out.document(result->toJson(id));
                                        ctx.out.text(
                                            CliText::tr("Registered %1: assigned to hub %2 as device %3 (%4).")
                                                .arg(id, result->assignedHub, result->deviceId, result->substatus));
                                    }
                                    done->addResult(code);
                                    done->finish();
                                    registration->deleteLater();
                                });
                            registration->start(profile, id, *credential);
                            credential->privateKeyPem.clear();
                            credential->symmetricKey.clear();
                            return done->future();
                        })
                        .unwrap();
                })
                .unwrap();
        });
}

} // namespace

QList<Noun> dpsNouns()
{
    return {Noun{QStringLiteral("dps"),
        CliText::tr(
            "Device Provisioning Services (--dps NAME, or the current one): enrollments, groups, registrations."),
        {
            {QStringLiteral("add"), CliText::tr("Add a DPS; connection string on standard input."), add},
            {QStringLiteral("list"), CliText::tr("List DPS instances."), list},
            {QStringLiteral("remove"), CliText::tr("Remove a DPS and its key."), remove},
            {QStringLiteral("use"), CliText::tr("Make a DPS the current one."), use},
            {QStringLiteral("enrollment"), CliText::tr("Individual enrollments: list, show, create, delete."),
                enrollment},
            {QStringLiteral("group"), CliText::tr("Enrollment groups: list, show, create, delete, device-key."), group},
            {QStringLiteral("registration"), CliText::tr("Registration states: show, delete."), registration},
            {QStringLiteral("register"), CliText::tr("Register a device from this computer (a test registration)."),
                registerDevice},
        }}};
}

} // namespace Onboarder::Cli
