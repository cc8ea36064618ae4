#pragma once

#include <QLoggingCategory>

// One category per subsystem; warnings only by default, more with QT_LOGGING_RULES,
// e.g. QT_LOGGING_RULES="onboarder.hub.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcApp)
Q_DECLARE_LOGGING_CATEGORY(lcHub)
Q_DECLARE_LOGGING_CATEGORY(lcCredentials)
Q_DECLARE_LOGGING_CATEGORY(lcKeychain)
Q_DECLARE_LOGGING_CATEGORY(lcModem)
Q_DECLARE_LOGGING_CATEGORY(lcModemAt)
Q_DECLARE_LOGGING_CATEGORY(lcMqtt)
Q_DECLARE_LOGGING_CATEGORY(lcRelay)
Q_DECLARE_LOGGING_CATEGORY(lcProvisioning)
Q_DECLARE_LOGGING_CATEGORY(lcUi)
Q_DECLARE_LOGGING_CATEGORY(lcCli)

namespace Onboarder {

// Replaces every secret that may hide in free text by a fixed mask:
// SharedAccessKey=… values, sig=… parameters of SAS tokens, "primaryKey"/"secondaryKey" JSON values,
// and whole PEM private-key blocks. Use it on anything that may hold a key before it is logged or shown.
QString redacted(const QString &text);

// Installs a Qt message handler that passes every log message through redacted() before
// writing it to stderr, so that even a careless qDebug() cannot leak a key.
void installRedactingMessageHandler();

} // namespace Onboarder
