// onboarder-cli conn parse · sas token
#include "command.h"
#include "common/logging.h"
#include "hub/connectionstring.h"
#include "hub/sastoken.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonObject>

namespace Onboarder::Cli {

namespace {

const QString masked = QStringLiteral("********");

QString kindKey(ConnectionString::Kind kind)
{
    switch (kind) {
    case ConnectionString::Kind::Service: return QStringLiteral("service");
    case ConnectionString::Kind::Device: return QStringLiteral("device");
    case ConnectionString::Kind::Module: return QStringLiteral("module");
    }
    return {};
}

QFuture<int> parse(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Checks a connection string read from standard input (or --secret-file) and prints its "
                             "fields, the key masked."));
    p.addOption({QStringLiteral("reveal"), CliText::tr("Print the key instead of a mask.")});
    p.addOption(
        {QStringLiteral("secret-file"), CliText::tr("Read the connection string from FILE."), CliText::tr("FILE")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);

    const auto secret = readSecret(CliText::tr("Connection string"), p.value(QStringLiteral("secret-file")));
    if (!secret)
        return finished(ctx.out.error(secret.error()));
    const auto cs = ConnectionString::parse(secret->exposeAsString()); // the parser reads text
    if (!cs)
        return finished(ctx.out.error(cs.error()));

    const bool reveal = p.isSet(QStringLiteral("reveal"));
    QList<std::pair<QString, QString>> fields{{QStringLiteral("kind"), kindKey(cs->kind())},
        {QStringLiteral("HostName"), cs->hostName()}, {QStringLiteral("hubName"), cs->hubName()}};
    auto addIf = [&](const QString &key, const QString &value) {
        if (!value.isEmpty())
            fields.append({key, value});
    };
    addIf(QStringLiteral("DeviceId"), cs->deviceId());
    addIf(QStringLiteral("ModuleId"), cs->moduleId());
    addIf(QStringLiteral("SharedAccessKeyName"), cs->sharedAccessKeyName());
    if (!cs->sharedAccessKey().isEmpty())
        fields.append({QStringLiteral("SharedAccessKey"), reveal ? cs->sharedAccessKey().exposeAsString() : masked});
    if (!cs->sharedAccessSignature().isEmpty())
        fields.append({QStringLiteral("SharedAccessSignature"),
            reveal ? cs->sharedAccessSignature() : redacted(cs->sharedAccessSignature())});
    if (cs->isX509())
        fields.append({QStringLiteral("x509"), QStringLiteral("true")});
    addIf(QStringLiteral("GatewayHostName"), cs->gatewayHostName());

    QJsonObject object;
    QList<QStringList> rows;
    for (const auto &[key, value] : fields) {
        object.insert(key, value);
        rows.append({key, value});
    }
    ctx.out.document(object);
    ctx.out.text(formatTable({CliText::tr("FIELD"), CliText::tr("VALUE")}, rows));
    return finished(ExitOk);
}

QFuture<int> token(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Prints a Shared Access Signature token for a resource URI. The base64 key is read from "
                             "standard input or --secret-file."));
    p.addOption({QStringLiteral("uri"), CliText::tr("Resource URI, e.g. myhub.azure-devices.net/devices/dev1."),
        CliText::tr("URI")});
    p.addOption({QStringLiteral("key-name"),
        CliText::tr("Shared access policy name (skn); leave out for a device key."), CliText::tr("NAME")});
    p.addOption(
        {QStringLiteral("ttl"), CliText::tr("Seconds from now until the token expires."), CliText::tr("SECONDS")});
    p.addOption({QStringLiteral("expiry"), CliText::tr("Absolute expiry in seconds since 1970 (instead of --ttl)."),
        CliText::tr("EPOCH")});
    p.addOption({QStringLiteral("secret-file"), CliText::tr("Read the key from FILE."), CliText::tr("FILE")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);

    const QString uri = p.value(QStringLiteral("uri"));
    if (uri.isEmpty())
        return finished(ctx.out.usage(CliText::tr("--uri is required.")));
    const bool haveTtl = p.isSet(QStringLiteral("ttl"));
    const bool haveExpiry = p.isSet(QStringLiteral("expiry"));
    if (haveTtl == haveExpiry)
        return finished(ctx.out.usage(CliText::tr("Give exactly one of --ttl and --expiry.")));

    int exitCode = ExitOk;
    qint64 expiry = 0;
    if (haveTtl) {
        const auto ttl = p.intValue(ctx.out, QStringLiteral("ttl"), 1, 10LL * 365 * 24 * 3600, &exitCode);
        if (!ttl)
            return finished(exitCode);
        expiry = QDateTime::currentSecsSinceEpoch() + *ttl;
    } else {
        const auto absolute = p.intValue(ctx.out, QStringLiteral("expiry"), 0, 253402300799LL, &exitCode);
        if (!absolute)
            return finished(exitCode);
        expiry = *absolute;
    }

    const auto key = readSecret(CliText::tr("Shared access key"), p.value(QStringLiteral("secret-file")));
    if (!key)
        return finished(ctx.out.error(key.error()));
    const auto sas = SasToken::create(uri, *key, expiry, p.value(QStringLiteral("key-name")));
    if (!sas)
        return finished(ctx.out.error(sas.error()));

    ctx.out.text(sas->toString());
    ctx.out.document(QJsonObject{{QStringLiteral("token"), sas->toString()},
        {QStringLiteral("resource"), sas->resource()}, {QStringLiteral("expiry"), sas->expiry()},
        {QStringLiteral("expiresAt"), sas->expiryTime().toString(Qt::ISODate)}});
    return finished(ExitOk);
}

} // namespace

QList<Noun> connNouns()
{
    return {
        Noun{QStringLiteral("conn"), CliText::tr("Connection strings."),
            {{QStringLiteral("parse"), CliText::tr("Check a connection string and show its fields."), parse}}},
        Noun{QStringLiteral("sas"), CliText::tr("Shared Access Signature tokens."),
            {{QStringLiteral("token"), CliText::tr("Create a token; key on standard input."), token}}},
    };
}

} // namespace Onboarder::Cli
