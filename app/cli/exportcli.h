#pragma once

// What the exporting verbs (cred export, device connection-string) share: the --gpg option and the
// report of an OpenPGP file written.

#include "cliio.h"
#include "credentials/openpgpencryptor.h"

#include <QCommandLineOption>
#include <QJsonObject>

namespace Onboarder::Cli {

QCommandLineOption gpgRecipientOption();

// "Wrote <what> of "<id>" to <file>, encrypted to <user id> (<fingerprint>)." and its JSON (with the fields of more,
// e.g. expiresAt); the exit code.
int reportOpenPgpFile(const Output &out, const QString &what, const QString &deviceId, const QString &file,
    const Result<OpenPgpEncryptor::Encrypted> &encrypted, const QJsonObject &more = {});

} // namespace Onboarder::Cli
