#pragma once

#include "common/result.h"
#include "common/secretbytes.h"
#include "credentials/devicecredential.h"
#include "credentials/openpgpencryptor.h"
#include "credentials/qrcode.h"

#include <QByteArray>
#include <QFuture>
#include <QString>

namespace Onboarder {

// The ways a secret (a connection string, a device's certificate + key) leaves the app, all in core so
// that the export dialog, the CLI and the tests drive the same code. Files are written by SecureFile:
// new, mode 0600, never over an existing file. The clipboard is the GUI's (SecureClipboard in ui/).
//
// Threads: toOpenPgpFile() and toPkcs12File() check the path in the caller's thread, then encrypt and write on Qt's
// global thread pool, where their futures finish: continue them with then(context, …). The others run in the
// caller's thread.
class SecretExport final
{
public:
    // (b) An ASCII-armoured OpenPGP message to one recipient (see OpenPgpEncryptor), in a new file. The secret is
    // taken: it goes to the background thread and is wiped there once gpg has it.
    static QFuture<Result<OpenPgpEncryptor::Encrypted>> toOpenPgpFile(
        SecretBytes secret, const QString &recipient, const QString &path, const QString &gnupgHome = {});
    // (c) Certificate + key (+ chain) as a password-protected PKCS#12 (AES-256-CBC, PBKDF2, SHA-256 MAC). The
    // password is taken as the secret of (b) is.
    static QFuture<Result<void>> toPkcs12File(const DeviceCredential &credential, SecretBytes password,
        const QString &path, const QList<Certificate> &chain = {});
    // (d) A QR code of the secret (the GUI shows it only after a warning).
    static Result<QrCode> toQrCode(const SecretBytes &secret);
    // (e) The secret as it is, in a new 0600 file — only when the user confirmed exactly that
    // (PlaintextNotConfirmed otherwise).
    static Result<void> toPlaintextFile(const SecretBytes &secret, const QString &path, bool userConfirmedPlaintext);

    // A device credential as one PEM text: certificate, then private key (for (b) and (e)).
    static SecretBytes credentialPem(const DeviceCredential &credential);
};

} // namespace Onboarder
