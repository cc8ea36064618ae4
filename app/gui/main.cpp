// onboarder: the desktop application. Creates the services in dependency order and the main window.
#include "common/appinfo.h"
#include "common/coredumps.h"
#include "common/logging.h"
#include "common/settings.h"
#include "credentials/credentialstore.h"
#include "credentials/secretstore.h"
#include "hub/hubsession.h"
#include "hub/hubstore.h"
#include "mainwindow.h"
#include "relaypage.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QLibraryInfo>
#include <QTranslator>

#include <cstdio>

using namespace Onboarder;

int main(int argc, char *argv[])
{
    CoreDumps::disable(); // before any secret is read
    QApplication app(argc, argv);
    AppInfo::setUp(QStringLiteral("Onboarder"));
    QApplication::setApplicationDisplayName(QStringLiteral("Onboarder"));
    QApplication::setDesktopFileName(QStringLiteral("onboarder"));
    installRedactingMessageHandler();

    Settings settings;

    // The user's choice of language ([ui] language=de in onboarder.conf), else the system's. Installed
    // before the options are parsed, so that --help speaks it too.
    const QLocale locale = settings.language().isEmpty() ? QLocale() : QLocale(settings.language());
    QTranslator qtTranslator;
    if (qtTranslator.load(
            locale, QStringLiteral("qtbase"), QStringLiteral("_"), QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QApplication::installTranslator(&qtTranslator);
    QTranslator appTranslator;
    if (appTranslator.load(locale, QStringLiteral("onboarder"), QStringLiteral("_"), QStringLiteral(":/i18n")))
        QApplication::installTranslator(&appTranslator);

    QCommandLineParser parser;
    parser.setApplicationDescription(QApplication::translate("main", "Onboard and monitor Azure IoT Hub devices."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption relayConfig(QStringLiteral("relay-config"),
        QApplication::translate("main", "Open the Relay page with this relay configuration (JSON)."),
        QApplication::translate("main", "FILE"));
    const QCommandLineOption startRelay(QStringLiteral("start-relay"),
        QApplication::translate("main", "With --relay-config: start the relay at once."));
    parser.addOptions({relayConfig, startRelay});
    parser.process(app);
    if (parser.isSet(startRelay) && !parser.isSet(relayConfig)) {
        std::fprintf(stderr, "%s\n",
            qPrintable(QApplication::translate("main", "error: --start-relay needs --relay-config FILE.")));
        return 1;
    }

    SecretStore secrets(AppInfo::keychainService());
    HubStore hubs(settings, secrets);
    HubSession session(hubs, settings);
    CredentialStore credentials(secrets, AppInfo::dataDir());

    MainWindow window(settings, hubs, session, credentials, secrets);
    window.show();
    if (parser.isSet(relayConfig)) {
        RelayPage *relay = window.relayPage();
        relay->setConfigPath(QFileInfo(parser.value(relayConfig)).absoluteFilePath());
        window.showPage(relay);
        if (parser.isSet(startRelay))
            relay->start(); // a configuration that does not validate says why on the page and does not start
    }
    return app.exec();
}
