#include "command.h"

#include "hub/hubclient.h"
#include "hub/hubstore.h"
#include "hub/identifiers.h"

#include <QCoreApplication>
#include <QFuture>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace Onboarder::Cli {

VerbParser::VerbParser(const QString &description, const QString &positionalSyntax)
{
    Q_UNUSED(positionalSyntax);
    m_parser.setApplicationDescription(description);
    m_parser.addHelpOption();
    m_parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
}

void VerbParser::addPositional(const QString &name, const QString &description, const QString &syntax)
{
    m_parser.addPositionalArgument(name, description, syntax);
}

std::optional<int> VerbParser::parse(const Output &out, const QStringList &args, int minPositional, int maxPositional)
{
    if (!m_parser.parse(args))
        return out.usage(m_parser.errorText());
    if (m_parser.isSet(QStringLiteral("help"))) {
        // QCommandLineParser's usage line names the program only; name the noun and the verb too
        // (args.first() is "program noun verb").
        QString help = m_parser.helpText();
        const QString program = QCoreApplication::arguments().constFirst();
        if (const auto at = help.indexOf(program); at >= 0 && at < help.indexOf(u'\n') && !args.isEmpty())
            help.replace(at, program.size(), args.constFirst());
        std::fputs(help.toUtf8().constData(), stdout);
        return ExitOk;
    }
    const auto count = m_parser.positionalArguments().size();
    if (count < minPositional)
        return out.usage(CliText::tr("Missing argument. See --help."));
    if (count > maxPositional)
        return out.usage(CliText::tr("Unexpected argument \"%1\". See --help.")
                             .arg(m_parser.positionalArguments().at(maxPositional)));
    return std::nullopt;
}

std::optional<qint64> VerbParser::intValue(
    const Output &out, const QString &name, qint64 min, qint64 max, int *exitCode) const
{
    bool ok = false;
    const qint64 value = m_parser.value(name).toLongLong(&ok);
    if (!ok || value < min || value > max) {
        *exitCode = out.usage(CliText::tr("--%1 takes a whole number from %2 to %3; \"%4\" is not one.")
                                  .arg(name)
                                  .arg(min)
                                  .arg(max)
                                  .arg(m_parser.value(name)));
        return std::nullopt;
    }
    return value;
}

// Runs body with the chosen hub (--hub, else the current one) and its service connection string.
QFuture<int> withService(
    Context &ctx, const std::function<QFuture<int>(const HubProfile &, const ConnectionString &)> &body)
{
    if (ctx.hub.isEmpty())
        return finished(ctx.out.error({ErrorKind::NotFound, QStringLiteral("NoHubChosen"),
            CliText::tr("No hub chosen: give --hub NAME, or make one current with "
                        "onboarder-cli hub use NAME.")}));
    const auto profile = ctx.hubs.find(ctx.hub);
    if (!profile)
        return finished(ctx.out.error({ErrorKind::NotFound, QStringLiteral("HubNotFound"),
            CliText::tr("There is no hub named \"%1\".").arg(ctx.hub)}));
    return ctx.hubs.connectionString(ctx.hub)
        .then([&ctx, profile = *profile, body](Result<ConnectionString> service) -> QFuture<int> {
            if (!service)
                return finished(ctx.out.error(service.error()));
            return body(profile, *service);
        })
        .unwrap();
}

QFuture<int> withHub(Context &ctx, const std::function<QFuture<int>(HubClient &, const HubProfile &)> &body)
{
    return withService(ctx, [body](const HubProfile &profile, const ConnectionString &service) {
        auto client = std::make_shared<HubClient>(profile, service);
        return body(*client, profile).then([client](int code) { return code; });
    });
}

QCommandLineOption moduleOption()
{
    return {QStringLiteral("module"), CliText::tr("The device's module MODULE instead of the device itself."),
        CliText::tr("MODULE")};
}

std::optional<int> checkModuleOption(const Output &out, const VerbParser &p)
{
    if (!p.isSet(QStringLiteral("module")))
        return std::nullopt;
    const QString module = p.value(QStringLiteral("module"));
    if (module.isEmpty())
        return out.usage(CliText::tr("--module needs a module id."));
    if (auto ok = Identifiers::validateModuleId(module); !ok)
        return out.error(ok.error());
    return std::nullopt;
}

namespace {

Error invalidJson(const QString &what, const QJsonParseError &parseError)
{
    return {ErrorKind::InvalidInput, QStringLiteral("InvalidJson"),
        CliText::tr("%1 is not valid JSON: %2 at character %3.")
            .arg(what, parseError.errorString())
            .arg(parseError.offset)};
}

} // namespace

Result<QJsonObject> jsonObjectFrom(const QByteArray &text, const QString &what)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(text, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return std::unexpected(invalidJson(what, parseError));
    if (!document.isObject())
        return fail(
            ErrorKind::InvalidInput, QStringLiteral("InvalidJson"), CliText::tr("%1 must be a JSON object.").arg(what));
    return document.object();
}

Result<QJsonValue> jsonValueFrom(const QByteArray &text, const QString &what)
{
    // A document holds an object or an array: a value alone is read as the one element of an array.
    QJsonParseError parseError;
    const QJsonDocument wrapped = QJsonDocument::fromJson('[' + text + ']', &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        parseError.offset = std::max(0, parseError.offset - 1); // of the text as given, without the '['
        return std::unexpected(invalidJson(what, parseError));
    }
    if (wrapped.array().size() != 1)
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidJson"),
            CliText::tr("%1 must be one JSON value.").arg(what));
    return wrapped.array().at(0);
}

QFuture<int> finished(int exitCode)
{
    return QtFuture::makeReadyFuture(exitCode);
}

} // namespace Onboarder::Cli
