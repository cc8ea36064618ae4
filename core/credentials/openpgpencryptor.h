#pragma once

#include "common/result.h"
#include "common/secretbytes.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QFuture>
#include <QString>

namespace Onboarder {

// Encrypts a secret (a connection string, a key) to one OpenPGP recipient through GPGME, as an
// ASCII-armoured message that `gpg --decrypt` opens. The plaintext goes from memory to gpg through a
// pipe: no temporary file, no argv.
//
// The recipient is either
//   - a path to a public key file (.asc or binary) the user was given: it is read once, not imported,
//     and must hold exactly one key that can encrypt; the message is encrypted to the key that was read
//     and checked (gpg gets a private copy of it), whatever the file holds by then; or
//   - a key in the user's GnuPG keyring, named by fingerprint, key id or e-mail address. A key named
//     by its full fingerprint is used as is; named otherwise it must be certified (valid) in the
//     keyring, else RecipientNotTrusted asks for the fingerprint.
// Errors: RecipientNotFound, RecipientAmbiguous, RecipientUnusable (expired, revoked, disabled, no
// encryption subkey), RecipientNotTrusted, RecipientFileInvalid, OpenPgpUnavailable, OpenPgpFailed.
//
// Threads: encrypt() may be called from any thread (each call makes a GPGME context of its own; GPGME is
// initialised once, under std::call_once). encryptInBackground() runs it on Qt's global thread pool, where its
// future finishes: continue it with then(context, …).
class OpenPgpEncryptor final
{
public:
    struct Encrypted
    {
        QByteArray armored; // "-----BEGIN PGP MESSAGE-----…"
        QString fingerprint; // the recipient's primary key
        QString userId; // its first user id, e.g. "Alice <alice@example.com>"
    };

    // gnupgHome: GnuPG's home (keyring); empty: $GNUPGHOME or ~/.gnupg, as gpg itself.
    explicit OpenPgpEncryptor(const QString &gnupgHome = {});

    // Blocks while gpg runs: call it off the GUI thread, or use encryptInBackground().
    // The plaintext is read in place (a SecretBytes gives its view()).
    Result<Encrypted> encrypt(QByteArrayView plaintext, const QString &recipient) const;
    QFuture<Result<Encrypted>> encryptInBackground(SecretBytes plaintext, const QString &recipient) const;

private:
    QString m_gnupgHome;
};

} // namespace Onboarder
