#pragma once

#include "cliio.h"

#include <QCommandLineParser>
#include <QFuture>
#include <QJsonObject>
#include <QJsonValue>
#include <QStringList>

#include <functional>
#include <optional>

namespace Onboarder {
class ConnectionString;
class CredentialStore;
class HubClient;
struct HubProfile;
class DpsStore;
class HubStore;
class SecretStore;
class Settings;
} // namespace Onboarder

namespace Onboarder::Cli {

// What every command gets: the services main() created, and the global options.
struct Context
{
    Output out;
    Settings &settings;
    SecretStore &secrets;
    HubStore &hubs;
    CredentialStore &credentials;
    QString hub; // --hub NAME, else the current hub; empty when neither
    DpsStore &dpsInstances;
    QString dps; // --dps NAME, else the current DPS; empty when neither
};

// A verb's entry point: args[0] is "onboarder-cli noun verb", the rest its own arguments.
using Handler = std::function<QFuture<int>(Context &, const QStringList &args)>;

struct Verb
{
    QString name;
    QString summary;
    Handler run;
};

struct Noun
{
    QString name;
    QString summary;
    QList<Verb> verbs;
};

QList<Noun> hubNouns(); // hub
QList<Noun> connNouns(); // conn, sas
QList<Noun> deviceNouns(); // device, twin, method
QList<Noun> credNouns(); // cred
QList<Noun> modemNouns(); // modem
QList<Noun> relayNouns(); // relay
QList<Noun> provisionNouns(); // provision (a default verb: provision --profile …)
QList<Noun> c2dNouns(); // c2d
QList<Noun> dpsNouns(); // dps
QList<Noun> moduleNouns(); // module
QList<Noun> jobNouns(); // job
QList<Noun> configurationNouns(); // configuration

// Verbs of telemetrycommands.cpp, listed under the device and hub nouns.
QFuture<int> deviceTelemetry(Context &ctx, const QStringList &args);
QFuture<int> hubTelemetry(Context &ctx, const QStringList &args);
QFuture<int> hubEventHub(Context &ctx, const QStringList &args);
// Verbs of importcommands.cpp, listed under the device noun.
QFuture<int> deviceImport(Context &ctx, const QStringList &args);
QFuture<int> deviceExport(Context &ctx, const QStringList &args);

// A verb's own option parser with --help. parse() returns an exit code when the command is
// finished already (help printed, or a usage error reported), nothing when it should run.
class VerbParser final
{
public:
    VerbParser(const QString &description, const QString &positionalSyntax = {});

    QCommandLineParser &parser() { return m_parser; }
    void addPositional(const QString &name, const QString &description, const QString &syntax = {});
    void addOption(const QCommandLineOption &option) { m_parser.addOption(option); }

    // Checks the number of positional arguments too.
    std::optional<int> parse(const Output &out, const QStringList &args, int minPositional, int maxPositional);

    QString value(const QString &name) const { return m_parser.value(name); }
    bool isSet(const QString &name) const { return m_parser.isSet(name); }
    QStringList positional() const { return m_parser.positionalArguments(); }

    // Parses an integer option in [min, max]; reports a usage error otherwise.
    std::optional<qint64> intValue(const Output &out, const QString &name, qint64 min, qint64 max, int *exitCode) const;

private:
    QCommandLineParser m_parser;
};

QFuture<int> finished(int exitCode);

// --module MODULE: a verb about a device's twin or methods applies to that module of the device instead.
QCommandLineOption moduleOption();
// The exit code of a usage or input error when --module was given empty or with an invalid module id.
std::optional<int> checkModuleOption(const Output &out, const VerbParser &p);

// JSON a user gave (an option's value, a file): an object, or any value. what names it in the error ("--twin",
// "The patch"): "<what> is not valid JSON: <why> at character <n>." or "<what> must be a JSON object." (InvalidJson).
Result<QJsonObject> jsonObjectFrom(const QByteArray &text, const QString &what);
Result<QJsonValue> jsonValueFrom(const QByteArray &text, const QString &what);

// Runs body with the chosen hub (--hub, else the current one) and its service connection string.
QFuture<int> withService(
    Context &ctx, const std::function<QFuture<int>(const HubProfile &, const ConnectionString &)> &body);
// Runs body with a HubClient for the chosen hub. The client lives until body's future has finished.
QFuture<int> withHub(Context &ctx, const std::function<QFuture<int>(HubClient &, const HubProfile &)> &body);

} // namespace Onboarder::Cli
