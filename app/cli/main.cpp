// onboarder-cli: the command-line companion. Every command is a core call (docs/cli.md).
#include "command.h"
#include "common/appinfo.h"
#include "common/coredumps.h"
#include "common/logging.h"
#include "common/settings.h"
#include "credentials/credentialstore.h"
#include "credentials/secretstore.h"
#include "dps/dpsstore.h"
#include "hub/hubstore.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QTranslator>

#include <algorithm>
#include <cstdio>

using namespace Onboarder;
using namespace Onboarder::Cli;

namespace {

QString overview(const QList<Noun> &nouns)
{
    QString text
        = CliText::tr("Usage: onboarder-cli [--hub NAME] [--dps NAME] [--json] <noun> <verb> [arguments]\n\n"
                      "Onboard and monitor Azure IoT Hub devices. Secrets are read from standard input or a file, "
                      "never from arguments.\n\nCommands:\n");
    // The summaries in one column, at least two spaces after the longest "noun verb".
    qsizetype width = 26;
    for (const Noun &noun : nouns) {
        for (const Verb &verb : noun.verbs)
            width = std::max(width, 2 + noun.name.size() + 1 + verb.name.size() + 2);
    }
    for (const Noun &noun : nouns) {
        for (const Verb &verb : noun.verbs)
            text += QStringLiteral("  %1 %2").arg(noun.name, verb.name).leftJustified(width) + verb.summary + u'\n';
    }
    text += CliText::tr("\nGlobal options:\n"
                        "  --hub NAME   the hub to work on (default: the current one)\n"
                        "  --dps NAME   the Device Provisioning Service to work on (default: the current one)\n"
                        "  --json       print JSON on standard output\n"
                        "  --version    print the version\n"
                        "  --help       this text; also after a noun or a verb\n\n"
                        "Exit codes: 0 ok, 1 usage, 2 invalid input, 3 not found, 4 conflict, 5 auth refused, "
                        "6 network, 7 device, 8 keychain unavailable, 10 internal, 130 cancelled.\n");
    return text;
}

QString nounHelp(const Noun &noun)
{
    QString text
        = CliText::tr("Usage: onboarder-cli %1 <verb> [arguments]\n\n%2\n\nVerbs:\n").arg(noun.name, noun.summary);
    qsizetype width = 18;
    for (const Verb &verb : noun.verbs)
        width = std::max(width, verb.name.size() + 2);
    for (const Verb &verb : noun.verbs)
        text += QStringLiteral("  ") + verb.name.leftJustified(width) + verb.summary + u'\n';
    return text;
}

void print(const QString &text)
{
    std::fputs(text.toUtf8().constData(), stdout);
}

} // namespace

int main(int argc, char *argv[])
{
    CoreDumps::disable(); // before any secret is read (the relay runs in this process too)
    QCoreApplication app(argc, argv);
    AppInfo::setUp(QStringLiteral("onboarder-cli"));
    installRedactingMessageHandler();

    QTranslator translator;
    if (translator.load(QLocale(), QStringLiteral("onboarder"), QStringLiteral("_"), QStringLiteral(":/i18n")))
        QCoreApplication::installTranslator(&translator);
    // Qt's own strings in the verbs' --help ("Usage:", "Options:"), in the same language.
    QTranslator qtTranslator;
    if (qtTranslator.load(QLocale(), QStringLiteral("qtbase"), QStringLiteral("_"),
            QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QCoreApplication::installTranslator(&qtTranslator);

    const QList<Noun> nouns = hubNouns() + connNouns() + deviceNouns() + credNouns() + modemNouns() + relayNouns()
        + provisionNouns() + c2dNouns() + dpsNouns() + moduleNouns() + jobNouns() + configurationNouns();

    // Global options stand before the noun.
    QStringList args = app.arguments();
    const QString program = args.takeFirst();
    bool json = false;
    QString hub;
    QString dps;
    while (!args.isEmpty() && args.first().startsWith(QStringLiteral("--"))) {
        const QString option = args.takeFirst();
        if (option == QStringLiteral("--json")) {
            json = true;
        } else if (option == QStringLiteral("--hub") && !args.isEmpty()) {
            hub = args.takeFirst();
        } else if (option.startsWith(QStringLiteral("--hub="))) {
            hub = option.mid(6);
        } else if (option == QStringLiteral("--dps") && !args.isEmpty()) {
            dps = args.takeFirst();
        } else if (option.startsWith(QStringLiteral("--dps="))) {
            dps = option.mid(6);
        } else if (option == QStringLiteral("--version")) {
            print(QStringLiteral("onboarder-cli %1\n").arg(AppInfo::version()));
            return ExitOk;
        } else if (option == QStringLiteral("--help")) {
            print(overview(nouns));
            return ExitOk;
        } else {
            return Output(json).usage(CliText::tr("Unknown option %1. See --help.").arg(option));
        }
    }
    const Output out(json);
    if (args.isEmpty()) {
        std::fputs(overview(nouns).toUtf8().constData(), stderr);
        return ExitUsage;
    }

    const QString nounName = args.takeFirst();
    const auto noun = std::find_if(nouns.cbegin(), nouns.cend(), [&](const Noun &n) { return n.name == nounName; });
    if (noun == nouns.cend())
        return out.usage(CliText::tr("Unknown command \"%1\". See --help.").arg(nounName));
    if (args.isEmpty() || args.first() == QStringLiteral("--help") || args.first() == QStringLiteral("-h")) {
        print(nounHelp(*noun));
        return args.isEmpty() ? ExitUsage : ExitOk;
    }
    // A noun with a default verb (empty name) takes options right after it: "provision --profile FILE …".
    const bool defaultVerb = args.first().startsWith(u'-')
        && std::any_of(noun->verbs.cbegin(), noun->verbs.cend(), [](const Verb &v) { return v.name.isEmpty(); });
    const QString verbName = defaultVerb ? QString() : args.takeFirst();
    const auto verb
        = std::find_if(noun->verbs.cbegin(), noun->verbs.cend(), [&](const Verb &v) { return v.name == verbName; });
    if (verb == noun->verbs.cend())
        return out.usage(
            CliText::tr("\"%1\" has no verb \"%2\". See onboarder-cli %1 --help.").arg(nounName, verbName));

    // Services, in dependency order; they live until main returns.
    Settings settings;
    SecretStore secrets(AppInfo::keychainService());
    HubStore hubStore(settings, secrets);
    CredentialStore credentials(secrets, AppInfo::dataDir());
    DpsStore dpsStore(settings, secrets);
    Context context{out, settings, secrets, hubStore, credentials, hub.isEmpty() ? settings.currentHub() : hub,
        dpsStore, dps.isEmpty() ? settings.currentDps() : dps};

    args.prepend(QStringLiteral("%1 %2 %3").arg(program, nounName, verbName).trimmed());
    QFuture<int> result = verb->run(context, args);
    if (result.isFinished())
        return result.result();
    // A verb whose work was dropped unfinished (its promise destroyed) must not leave the CLI waiting for ever.
    result.then(&app, [](int code) { QCoreApplication::exit(code); }).onCanceled(&app, [] {
        QCoreApplication::exit(ExitInternal);
    });
    return app.exec();
}
