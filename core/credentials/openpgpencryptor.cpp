#include "openpgpencryptor.h"

#include "common/promise.h"
#include "credentials/securefile.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStringList>
#include <QTemporaryDir>

#include <gpgme.h>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(OpenPgpEncryptor)
};

struct ContextFree
{
    void operator()(gpgme_ctx_t ctx) const { gpgme_release(ctx); }
};
using Context = std::unique_ptr<std::remove_pointer_t<gpgme_ctx_t>, ContextFree>;

struct DataFree
{
    void operator()(gpgme_data_t data) const { gpgme_data_release(data); }
};
using Data = std::unique_ptr<std::remove_pointer_t<gpgme_data_t>, DataFree>;

struct KeyFree
{
    void operator()(gpgme_key_t key) const { gpgme_key_unref(key); }
};
using Key = std::unique_ptr<std::remove_pointer_t<gpgme_key_t>, KeyFree>;

QString errorText(gpgme_error_t error)
{
    char text[256] = {};
    gpgme_strerror_r(error, text, sizeof text);
    return QString::fromUtf8(text);
}

std::unexpected<Error> openPgpFailed(const QString &what, gpgme_error_t error)
{
    return fail(ErrorKind::Internal, QStringLiteral("OpenPgpFailed"),
        Text::tr("OpenPGP encryption failed while %1: %2").arg(what, errorText(error)));
}

QString userIdOf(gpgme_key_t key)
{
    return key->uids && key->uids->uid ? QString::fromUtf8(key->uids->uid) : QString();
}

QString fingerprintOf(gpgme_key_t key)
{
    return key->fpr ? QString::fromLatin1(key->fpr) : QString();
}

// Why a key cannot take an encrypted message, or nothing when it can.
QString unusableReason(gpgme_key_t key)
{
    if (key->revoked)
        return Text::tr("it is revoked");
    if (key->expired)
        return Text::tr("it has expired");
    if (key->disabled)
        return Text::tr("it is disabled");
    if (key->invalid)
        return Text::tr("it is invalid");
    if (!key->can_encrypt)
        return Text::tr("it has no valid encryption subkey");
    return {};
}

Result<void> checkUsable(gpgme_key_t key)
{
    const QString reason = unusableReason(key);
    if (reason.isEmpty())
        return {};
    return fail(ErrorKind::InvalidInput, QStringLiteral("RecipientUnusable"),
        Text::tr("The key %1 (%2) cannot be encrypted to: %3.").arg(userIdOf(key), fingerprintOf(key), reason));
}

// Every key a listing yields (keyring search or a key file's contents).
std::vector<Key> collectKeys(gpgme_ctx_t ctx)
{
    std::vector<Key> keys;
    gpgme_key_t key = nullptr;
    while (gpgme_op_keylist_next(ctx, &key) == GPG_ERR_NO_ERROR)
        keys.emplace_back(key);
    gpgme_op_keylist_end(ctx);
    return keys;
}

bool isFingerprint(const QString &text)
{
    static const QRegularExpression pattern(QStringLiteral("^(0x)?([0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$"));
    return pattern.match(text).hasMatch();
}

} // namespace

OpenPgpEncryptor::OpenPgpEncryptor(const QString &gnupgHome)
    : m_gnupgHome(gnupgHome)
{ }

Result<OpenPgpEncryptor::Encrypted> OpenPgpEncryptor::encrypt(QByteArrayView plaintext, const QString &recipient) const
{
    static std::once_flag initialised;
    std::call_once(initialised, [] { gpgme_check_version(nullptr); });
    if (gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP) != GPG_ERR_NO_ERROR)
        return fail(ErrorKind::Internal, QStringLiteral("OpenPgpUnavailable"),
            Text::tr("GnuPG (gpg) is not installed or too old, so nothing can be encrypted with OpenPGP."));
    if (recipient.trimmed().isEmpty())
        return fail(ErrorKind::InvalidInput, QStringLiteral("RecipientNotFound"),
            Text::tr("Name the recipient: a public key file (.asc), or a fingerprint or e-mail address in your GnuPG "
                     "keyring."));

    gpgme_ctx_t raw = nullptr;
    if (const auto error = gpgme_new(&raw); error != GPG_ERR_NO_ERROR)
        return openPgpFailed(Text::tr("starting GPGME"), error);
    Context ctx(raw);
    gpgme_set_protocol(ctx.get(), GPGME_PROTOCOL_OpenPGP);
    gpgme_set_armor(ctx.get(), 1);
    if (!m_gnupgHome.isEmpty())
        gpgme_ctx_set_engine_info(
            ctx.get(), GPGME_PROTOCOL_OpenPGP, nullptr, QFile::encodeName(m_gnupgHome).constData());

    const QFileInfo file(recipient);
    const bool fromFile = file.isFile();
    std::vector<Key> keys;
    bool trusted = false;
    std::optional<QTemporaryDir> checkedKeyDir; // ours alone (0700): the copy of the key file that was checked
    QString checkedKeyFile;
    if (fromFile) {
        // What the file holds, without importing it anywhere.
        QFile keyFile(recipient);
        if (!keyFile.open(QIODevice::ReadOnly))
            return fail(ErrorKind::InvalidInput, QStringLiteral("RecipientFileInvalid"),
                Text::tr("Cannot read the public key file %1: %2").arg(recipient, keyFile.errorString()));
        const QByteArray content = keyFile.readAll();
        if (content.contains("PRIVATE KEY BLOCK"))
            return fail(ErrorKind::InvalidInput, QStringLiteral("RecipientFileInvalid"),
                Text::tr("%1 holds a secret key. Use the recipient's public key (gpg --armor --export).")
                    .arg(recipient));
        gpgme_data_t keyData = nullptr;
        gpgme_data_new_from_mem(&keyData, content.constData(), size_t(content.size()), 1);
        Data keyDataOwner(keyData);
        if (gpgme_op_keylist_from_data_start(ctx.get(), keyData, 0) == GPG_ERR_NO_ERROR)
            keys = collectKeys(ctx.get());
        if (keys.empty())
            return fail(ErrorKind::InvalidInput, QStringLiteral("RecipientFileInvalid"),
                Text::tr("%1 holds no OpenPGP public key.").arg(recipient));
        if (keys.size() > 1)
            return fail(ErrorKind::InvalidInput, QStringLiteral("RecipientAmbiguous"),
                Text::tr("%1 holds %2 public keys; give a file with the one recipient's key.")
                    .arg(recipient)
                    .arg(keys.size()));
        trusted = true; // the user handed us this very key
        // gpg reads the key again: from a copy of exactly the bytes checked here, not from the user's file,
        // which may hold another key by then.
        checkedKeyDir.emplace();
        if (!checkedKeyDir->isValid())
            return fail(ErrorKind::Internal, QStringLiteral("OpenPgpFailed"),
                Text::tr("OpenPGP encryption failed: no temporary folder for the recipient's key: %1")
                    .arg(checkedKeyDir->errorString()));
        checkedKeyFile = checkedKeyDir->filePath(QStringLiteral("recipient.key"));
        if (auto copied = SecureFile::writeNew(checkedKeyFile, content); !copied)
            return std::unexpected(copied.error());
    } else {
        const QByteArray pattern = recipient.trimmed().toUtf8();
        if (const auto error = gpgme_op_keylist_start(ctx.get(), pattern.constData(), 0); error != GPG_ERR_NO_ERROR)
            return openPgpFailed(Text::tr("searching the keyring"), error);
        keys = collectKeys(ctx.get());
        if (keys.empty())
            return fail(ErrorKind::NotFound, QStringLiteral("RecipientNotFound"),
                Text::tr("Your GnuPG keyring has no public key for \"%1\", and there is no such file. Import the "
                         "recipient's key (gpg --import) or give the path of their .asc file.")
                    .arg(recipient));
        if (keys.size() > 1) {
            QStringList found;
            for (const Key &key : keys)
                found.append(QStringLiteral("%1 (%2)").arg(userIdOf(key.get()), fingerprintOf(key.get())));
            return fail(ErrorKind::InvalidInput, QStringLiteral("RecipientAmbiguous"),
                Text::tr("\"%1\" matches %2 keys in your keyring: %3. Name one by its fingerprint.")
                    .arg(recipient)
                    .arg(keys.size())
                    .arg(found.join(QStringLiteral("; "))));
        }
        gpgme_key_t key = keys.front().get();
        trusted = isFingerprint(recipient.trimmed()) || (key->uids && key->uids->validity >= GPGME_VALIDITY_FULL);
        // An unusable key is reported as such below; a usable but uncertified one here.
        if (!trusted && checkUsable(key))
            return fail(ErrorKind::InvalidInput, QStringLiteral("RecipientNotTrusted"),
                Text::tr("The key %1 (%2) is not certified in your keyring, so it may not be theirs. Check its "
                         "fingerprint with the recipient and name the key by that fingerprint.")
                    .arg(userIdOf(key), fingerprintOf(key)));
    }
    gpgme_key_t key = keys.front().get();
    if (auto usable = checkUsable(key); !usable)
        return std::unexpected(usable.error());

    gpgme_data_t plain = nullptr;
    gpgme_data_t cipher = nullptr;
    gpgme_data_new_from_mem(&plain, plaintext.constData(), size_t(plaintext.size()), 0); // no copy of the secret
    Data plainOwner(plain);
    gpgme_data_new(&cipher);
    Data cipherOwner(cipher);
    const auto flags = gpgme_encrypt_flags_t(GPGME_ENCRYPT_ALWAYS_TRUST | GPGME_ENCRYPT_NO_ENCRYPT_TO);
    gpgme_error_t error = GPG_ERR_NO_ERROR;
    if (fromFile) {
        // gpg -f FILE: encrypt to the key in FILE (the copy of the one checked) without importing it.
        const QByteArray spec = "--file\n" + QFile::encodeName(checkedKeyFile);
        error = gpgme_op_encrypt_ext(ctx.get(), nullptr, spec.constData(), flags, plain, cipher);
    } else {
        gpgme_key_t recipients[] = {key, nullptr};
        error = gpgme_op_encrypt(ctx.get(), recipients, flags, plain, cipher);
    }
    const gpgme_encrypt_result_t result = gpgme_op_encrypt_result(ctx.get());
    if (result && result->invalid_recipients)
        return fail(ErrorKind::InvalidInput, QStringLiteral("RecipientUnusable"),
            Text::tr("GnuPG refused the key %1 (%2): %3")
                .arg(userIdOf(key), fingerprintOf(key), errorText(result->invalid_recipients->reason)));
    if (error != GPG_ERR_NO_ERROR)
        return openPgpFailed(Text::tr("encrypting"), error);

    size_t length = 0;
    char *armored = gpgme_data_release_and_get_mem(cipherOwner.release(), &length);
    Encrypted out{QByteArray(armored, qsizetype(length)), fingerprintOf(key), userIdOf(key)};
    gpgme_free(armored);
    if (!out.armored.startsWith("-----BEGIN PGP MESSAGE-----"))
        return fail(
            ErrorKind::Internal, QStringLiteral("OpenPgpFailed"), Text::tr("GnuPG returned no armoured message."));
    return out;
}

QFuture<Result<OpenPgpEncryptor::Encrypted>> OpenPgpEncryptor::encryptInBackground(
    SecretBytes plaintext, const QString &recipient) const
{
    return runInBackground([encryptor = *this, plaintext = std::move(plaintext), recipient] {
        return encryptor.encrypt(plaintext.view(), recipient);
    });
}

} // namespace Onboarder
