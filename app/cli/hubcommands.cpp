// onboarder-cli hub add|list|remove
#include "command.h"
#include "common/settings.h"
#include "hub/hubstore.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonObject>

namespace Onboarder::Cli {

namespace {

QJsonObject toJson(const HubProfile &hub)
{
    QJsonObject object{{QStringLiteral("name"), hub.name}, {QStringLiteral("hostName"), hub.hostName},
        {QStringLiteral("policyName"), hub.policyName}, {QStringLiteral("restPort"), hub.effectiveRestPort()},
        {QStringLiteral("mqttPort"), hub.effectiveMqttPort()}, {QStringLiteral("amqpPort"), hub.effectiveAmqpPort()}};
    if (!hub.caFile.isEmpty())
        object.insert(QStringLiteral("caFile"), hub.caFile);
    object.insert(QStringLiteral("webSockets"), hub.webSockets);
    if (!hub.proxy.isEmpty())
        object.insert(QStringLiteral("proxy"), hub.proxy.toString());
    object.insert(QStringLiteral("eventHub"), hub.eventHub);
    return object;
}

QString endpointText(const HubProfile &hub)
{
    QString text = hub.isDefaultEndpoint() ? CliText::tr("Azure defaults")
                                           : CliText::tr("REST %1, MQTT %2, AMQP %3")
                                                 .arg(hub.effectiveRestPort())
                                                 .arg(hub.effectiveMqttPort())
                                                 .arg(hub.effectiveAmqpPort());
    if (!hub.caFile.isEmpty())
        text += CliText::tr(", own CA");
    if (hub.webSockets)
        text += CliText::tr(", WebSockets");
    if (!hub.proxy.isEmpty())
        text += CliText::tr(", proxy %1:%2").arg(hub.proxy.host()).arg(hub.proxy.port(80));
    if (hub.eventHub)
        text += CliText::tr(", own Event Hub");
    return text;
}

QFuture<int> add(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Adds a hub. The hub's connection string (a shared access policy's, e.g. iothubowner) is "
                             "read from standard input or --secret-file and stored in the system keychain only."));
    p.addPositional(QStringLiteral("NAME"), CliText::tr("A local name for the hub."));
    p.addOption(
        {QStringLiteral("ca"), CliText::tr("Trust this CA certificate (PEM) for this hub only."), CliText::tr("FILE")});
    p.addOption(
        {QStringLiteral("rest-port"), CliText::tr("HTTPS port of the registry API (default 443)."), CliText::tr("N")});
    p.addOption({QStringLiteral("mqtt-port"), CliText::tr("MQTT port of the device endpoint (default 8883)."),
        CliText::tr("N")});
    p.addOption({QStringLiteral("amqp-port"),
        CliText::tr("AMQPS port of the service endpoint: cloud-to-device messages and telemetry (default 5671)."),
        CliText::tr("N")});
    p.addOption({QStringLiteral("websockets"),
        CliText::tr("MQTT and AMQP over WebSockets on the HTTPS port (443), for networks that "
                    "let only HTTPS out.")});
    p.addOption(
        {QStringLiteral("proxy"), CliText::tr("Reach the hub through this HTTP proxy (CONNECT): REST, MQTT and AMQP."),
            CliText::tr("http://HOST:PORT")});
    p.addOption({QStringLiteral("secret-file"),
        CliText::tr("Read the connection string from FILE instead of standard input."), CliText::tr("FILE")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);

    HubEndpoint endpoint;
    endpoint.caFile = p.value(QStringLiteral("ca"));
    endpoint.webSockets = p.isSet(QStringLiteral("websockets"));
    if (p.isSet(QStringLiteral("proxy"))) {
        endpoint.proxy = QUrl(p.value(QStringLiteral("proxy")), QUrl::StrictMode);
        if (const QString why = HubProfile::checkProxy(endpoint.proxy); !why.isEmpty())
            return finished(ctx.out.error(Error{ErrorKind::InvalidInput, QStringLiteral("ProxyInvalid"), why}));
    }
    int exitCode = ExitOk;
    if (p.isSet(QStringLiteral("rest-port"))) {
        const auto port = p.intValue(ctx.out, QStringLiteral("rest-port"), 1, 65535, &exitCode);
        if (!port)
            return finished(exitCode);
        endpoint.restPort = int(*port);
    }
    if (p.isSet(QStringLiteral("mqtt-port"))) {
        const auto port = p.intValue(ctx.out, QStringLiteral("mqtt-port"), 1, 65535, &exitCode);
        if (!port)
            return finished(exitCode);
        endpoint.mqttPort = int(*port);
    }
    if (p.isSet(QStringLiteral("amqp-port"))) {
        const auto port = p.intValue(ctx.out, QStringLiteral("amqp-port"), 1, 65535, &exitCode);
        if (!port)
            return finished(exitCode);
        endpoint.amqpPort = int(*port);
    }

    const QString name = p.positional().at(0);
    const auto secret = readSecret(CliText::tr("Hub connection string"), p.value(QStringLiteral("secret-file")));
    if (!secret)
        return finished(ctx.out.error(secret.error()));

    // HubStore::add() checks the text before the keychain gets it.
    return ctx.hubs.add(name, secret->exposeAsString(), endpoint).then([&ctx](Result<HubProfile> added) {
        if (!added)
            return ctx.out.error(added.error());
        ctx.out.text(CliText::tr("Added hub \"%1\" (%2, policy %3). Its key is in the system keychain.")
                         .arg(added->name, added->hostName, added->policyName));
        ctx.out.document(toJson(*added));
        return int(ExitOk);
    });
}

QFuture<int> list(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Lists the hubs that were added."));
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);

    const QList<HubProfile> hubs = ctx.hubs.hubs();
    const QString current = ctx.settings.currentHub();
    QJsonArray array;
    QList<QStringList> rows;
    for (const HubProfile &hub : hubs) {
        QJsonObject object = toJson(hub);
        object.insert(QStringLiteral("current"), hub.name == current);
        array.append(object);
        rows.append({hub.name == current ? QStringLiteral("*") : QString(), hub.name, hub.hostName, hub.policyName,
            endpointText(hub)});
    }
    ctx.out.document(QJsonObject{{QStringLiteral("hubs"), array}});
    if (hubs.isEmpty())
        ctx.out.text(CliText::tr("No hubs yet. Add one with: onboarder-cli hub add NAME < connection-string-file"));
    else
        ctx.out.text(formatTable(
            {QString(), CliText::tr("NAME"), CliText::tr("HOST"), CliText::tr("POLICY"), CliText::tr("ENDPOINT")},
            rows));
    return finished(ExitOk);
}

QFuture<int> remove(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Removes a hub from this computer: its profile and its key in the keychain. "
                             "Nothing changes in the hub itself."));
    p.addPositional(QStringLiteral("NAME"), CliText::tr("The hub's local name."));
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);

    const QString name = p.positional().at(0);
    return ctx.hubs.remove(name).then([&ctx, name](Result<void> removed) {
        if (!removed)
            return ctx.out.error(removed.error());
        ctx.out.text(CliText::tr("Removed hub \"%1\".").arg(name));
        ctx.out.document(QJsonObject{{QStringLiteral("removed"), name}});
        return int(ExitOk);
    });
}

QFuture<int> use(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Makes a hub the current one: commands without --hub, and the app, work on it."));
    p.addPositional(QStringLiteral("NAME"), CliText::tr("The hub's local name."));
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString name = p.positional().at(0);
    if (!ctx.hubs.find(name))
        return finished(ctx.out.error(Error{ErrorKind::NotFound, QStringLiteral("HubNotFound"),
            CliText::tr("There is no hub named \"%1\".").arg(name)}));
    if (auto saved = ctx.settings.setCurrentHub(name); !saved)
        return finished(ctx.out.error(saved.error()));
    ctx.out.text(CliText::tr("\"%1\" is now the current hub.").arg(name));
    ctx.out.document(QJsonObject{{QStringLiteral("current"), name}});
    return finished(ExitOk);
}

} // namespace

QList<Noun> hubNouns()
{
    return {Noun{QStringLiteral("hub"), CliText::tr("Hubs this computer knows (connection strings in the keychain)."),
        {
            {QStringLiteral("add"), CliText::tr("Add a hub; connection string on standard input."), add},
            {QStringLiteral("list"), CliText::tr("List hubs."), list},
            {QStringLiteral("remove"), CliText::tr("Remove a hub and its key."), remove},
            {QStringLiteral("use"), CliText::tr("Make a hub the current one."), use},
            {QStringLiteral("event-hub"),
                CliText::tr("Keep a hub's Event Hub-compatible connection string; on standard input."), hubEventHub},
            {QStringLiteral("telemetry"), CliText::tr("Print what the hub receives from its devices, as it arrives."),
                hubTelemetry},
        }}};
}

} // namespace Onboarder::Cli
