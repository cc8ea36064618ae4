#pragma once

#include "command.h"

#include <QString>

#include <variant>

namespace Onboarder::Cli {

// How a connection string leaves onboarder-cli (device connection-string, module connection-string): printed with
// its key masked unless --reveal, OpenPGP-encrypted to a file, as a QR code, as a plain file only when asked, and
// with --expires as a token that stops working instead of the key.
struct HandOverOptions
{
    bool secondary = false;
    bool reveal = false;
    bool unencrypted = false;
    bool qr = false;
    qint64 validFor = 0; // seconds; 0: the key itself
    QString recipient; // --gpg
    QString out; // --out
};

// The identity whose connection string is handed over: a device, or a device's module.
struct HandOverIdentity
{
    QString deviceId;
    QString moduleId; // empty: the device
    QString authType;
    QString primaryKey;
    QString secondaryKey;
};

// Adds the options above to a verb's parser.
void addHandOverOptions(VerbParser &p);
// The options as given, or the exit code of a usage error already reported.
std::variant<HandOverOptions, int> handOverOptions(const Output &out, const VerbParser &p);
// Builds the connection string of identity on host and hands it over as the options say.
QFuture<int> handOver(
    const Output &out, const HandOverOptions &options, const HandOverIdentity &identity, const QString &host);

} // namespace Onboarder::Cli
