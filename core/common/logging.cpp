#include "logging.h"

#include <QRegularExpression>

#include <cstdio>

Q_LOGGING_CATEGORY(lcApp, "onboarder.app", QtWarningMsg)
Q_LOGGING_CATEGORY(lcHub, "onboarder.hub", QtWarningMsg)
Q_LOGGING_CATEGORY(lcCredentials, "onboarder.credentials", QtWarningMsg)
Q_LOGGING_CATEGORY(lcKeychain, "onboarder.keychain", QtWarningMsg)
Q_LOGGING_CATEGORY(lcModem, "onboarder.modem", QtWarningMsg)
Q_LOGGING_CATEGORY(lcModemAt, "onboarder.modem.at", QtWarningMsg)
Q_LOGGING_CATEGORY(lcMqtt, "onboarder.mqtt", QtWarningMsg)
Q_LOGGING_CATEGORY(lcRelay, "onboarder.relay", QtWarningMsg)
Q_LOGGING_CATEGORY(lcProvisioning, "onboarder.provisioning", QtWarningMsg)
Q_LOGGING_CATEGORY(lcUi, "onboarder.ui", QtWarningMsg)
Q_LOGGING_CATEGORY(lcCli, "onboarder.cli", QtWarningMsg)

namespace Onboarder {

namespace {

const QString mask = QStringLiteral("<redacted>");

struct Rule
{
    QRegularExpression pattern;
    QString replacement;
};

// Never destroyed: Qt logs while static objects are being destroyed at exit (a plugin unloaded, "ssl unloaded
// library"), and a message redacted with destroyed rules went out as it came.
const std::vector<Rule> &rules()
{
    using RE = QRegularExpression;
    static const auto *list = new std::vector<Rule>{
        // PEM private keys of every flavour (PKCS#8, traditional RSA/EC, encrypted), complete or cut off.
        {RE(QStringLiteral("-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)"),
             RE::DotMatchesEverythingOption),
            QStringLiteral("-----BEGIN \\1PRIVATE KEY-----") + mask + QStringLiteral("-----END \\1PRIVATE KEY-----")},
        // Connection-string keys: value runs to the next ';', quote or whitespace.
        {RE(QStringLiteral("(SharedAccessKey\\s*=\\s*)[^;\\s\"']+"), RE::CaseInsensitiveOption),
            QStringLiteral("\\1") + mask},
        // SAS signature parameter inside a token or URL.
        {RE(QStringLiteral("(\\bsig=)[^&;\\s\"']+"), RE::CaseInsensitiveOption), QStringLiteral("\\1") + mask},
        // Registry JSON: "primaryKey": "…", "secondaryKey": "…" (also the policy key fields).
        {RE(QStringLiteral("(\"(?:primaryKey|secondaryKey|key)\"\\s*:\\s*\")[^\"]*(\")"), RE::CaseInsensitiveOption),
            QStringLiteral("\\1") + mask + QStringLiteral("\\2")},
    };
    return *list;
}

} // namespace

QString redacted(const QString &text)
{
    QString out = text;
    for (const Rule &rule : rules())
        out.replace(rule.pattern, rule.replacement);
    return out;
}

void installRedactingMessageHandler()
{
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext &context, const QString &message) {
        const QString line = qFormatLogMessage(type, context, redacted(message));
        std::fprintf(stderr, "%s\n", line.toLocal8Bit().constData());
        std::fflush(stderr);
        if (type == QtFatalMsg)
            std::abort();
    });
}

} // namespace Onboarder
