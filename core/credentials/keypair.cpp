#include "keypair.h"

#include "opensslutil.h"

#include <QCoreApplication>
#include <QHash>

#include <cstring>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace Onboarder {

namespace {
class Text
{
    Q_DECLARE_TR_FUNCTIONS(KeyPair)
};

// The passphrase callback of every key read here: the password given, or a refusal. OpenSSL's default callback
// (used when none is passed) would ask on the controlling terminal, from whatever thread reads the key.
int givenPassword(char *buffer, int size, int, void *password)
{
    const auto *given = static_cast<const QByteArrayView *>(password);
    if (!given || given->isEmpty() || given->size() > size)
        return -1;
    std::memcpy(buffer, given->data(), size_t(given->size()));
    return int(given->size());
}
} // namespace

KeyPair::KeyPair() = default;

KeyPair::KeyPair(EVP_PKEY *key)
{
    if (key)
        m_key.reset(key, &EVP_PKEY_free);
}

Result<KeyPair> KeyPair::generate(Type type)
{
    EVP_PKEY *key = nullptr;
    switch (type) {
    case Type::EcP256: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case Type::Rsa2048: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(2048)); break;
    case Type::Rsa3072: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(3072)); break;
    case Type::Other: break;
    }
    if (!key)
        return fail(ErrorKind::Internal, QStringLiteral("KeyGenerationFailed"),
            Text::tr("Could not generate a %1 key: %2").arg(typeName(type), OpenSsl::lastError()));
    return KeyPair(key);
}

Result<KeyPair> KeyPair::fromPem(QByteArrayView pem, QByteArrayView password)
{
    OpenSsl::clearErrors();
    OpenSsl::Bio bio = OpenSsl::memoryBio(pem);
    const bool encrypted = pem.contains("ENCRYPTED");
    if (encrypted && password.isEmpty())
        return fail(ErrorKind::InvalidInput, QStringLiteral("KeyEncrypted"),
            Text::tr("The private key is encrypted; give its password."));
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio.get(), nullptr, givenPassword, &password);
    if (!key) {
        if (encrypted)
            return fail(ErrorKind::InvalidInput, QStringLiteral("KeyWrongPassword"),
                Text::tr("The private key could not be decrypted: the password is wrong."));
        return fail(ErrorKind::InvalidInput, QStringLiteral("KeyNotPem"),
            Text::tr("This is not a PEM private key (\"-----BEGIN PRIVATE KEY-----\"): %1").arg(OpenSsl::lastError()));
    }
    return KeyPair(key);
}

Result<KeyPair> KeyPair::fromDer(QByteArrayView der, QByteArrayView password)
{
    OpenSsl::clearErrors();
    const auto *data = reinterpret_cast<const unsigned char *>(der.constData());
    // An encrypted PKCS#8 key (EncryptedPrivateKeyInfo) has the shape of an X509_SIG; a plain PKCS#8 or
    // traditional key starts with an INTEGER and never parses as one.
    const unsigned char *probe = data;
    X509_SIG *sig = d2i_X509_SIG(nullptr, &probe, long(der.size()));
    const bool encrypted = sig && probe == data + der.size();
    X509_SIG_free(sig);
    OpenSsl::clearErrors();
    if (encrypted && password.isEmpty())
        return fail(ErrorKind::InvalidInput, QStringLiteral("KeyEncrypted"),
            Text::tr("The private key is encrypted; give its password."));
    EVP_PKEY *key = nullptr;
    if (encrypted) {
        OpenSsl::Bio bio = OpenSsl::memoryBio(der);
        key = d2i_PKCS8PrivateKey_bio(bio.get(), nullptr, givenPassword, &password);
        if (!key)
            return fail(ErrorKind::InvalidInput, QStringLiteral("KeyWrongPassword"),
                Text::tr("The private key could not be decrypted: the password is wrong."));
    } else {
        const unsigned char *in = data;
        key = d2i_AutoPrivateKey_ex(nullptr, &in, long(der.size()), nullptr, nullptr);
        if (!key)
            return fail(ErrorKind::InvalidInput, QStringLiteral("KeyNotDer"),
                Text::tr("This is neither a PEM nor a DER private key: %1").arg(OpenSsl::lastError()));
    }
    return KeyPair(key);
}

Result<KeyPair> KeyPair::fromData(QByteArrayView data, QByteArrayView password)
{
    return data.contains("-----BEGIN") ? fromPem(data, password) : fromDer(data, password);
}

KeyPair KeyPair::adopt(EVP_PKEY *key)
{
    return KeyPair(key);
}

KeyPair::Type KeyPair::type() const
{
    if (!m_key)
        return Type::Other;
    if (EVP_PKEY_is_a(m_key.get(), "EC")) {
        char group[64] = {};
        size_t length = 0;
        if (EVP_PKEY_get_utf8_string_param(m_key.get(), "group", group, sizeof group, &length)
            && (qstrcmp(group, "prime256v1") == 0 || qstrcmp(group, "P-256") == 0))
            return Type::EcP256;
        return Type::Other;
    }
    if (EVP_PKEY_is_a(m_key.get(), "RSA")) {
        const int bits = EVP_PKEY_get_bits(m_key.get());
        return bits == 2048 ? Type::Rsa2048 : bits == 3072 ? Type::Rsa3072 : Type::Other;
    }
    return Type::Other;
}

QString KeyPair::typeName(Type type)
{
    switch (type) {
    case Type::EcP256: return QStringLiteral("EC P-256");
    case Type::Rsa2048: return QStringLiteral("RSA 2048");
    case Type::Rsa3072: return QStringLiteral("RSA 3072");
    case Type::Other: return Text::tr("other");
    }
    return {};
}

QString KeyPair::algorithmName() const
{
    if (!m_key)
        return {};
    if (type() != Type::Other)
        return typeName(type());
    if (EVP_PKEY_is_a(m_key.get(), "EC")) {
        char group[64] = {};
        size_t length = 0;
        EVP_PKEY_get_utf8_string_param(m_key.get(), "group", group, sizeof group, &length);
        const QString name = QString::fromLatin1(group);
        static const QHash<QString, QString> nistNames{{QStringLiteral("secp384r1"), QStringLiteral("P-384")},
            {QStringLiteral("secp521r1"), QStringLiteral("P-521")},
            {QStringLiteral("secp224r1"), QStringLiteral("P-224")}};
        return QStringLiteral("EC %1").arg(nistNames.value(name, name));
    }
    if (EVP_PKEY_is_a(m_key.get(), "RSA"))
        return QStringLiteral("RSA %1").arg(EVP_PKEY_get_bits(m_key.get()));
    return QString::fromLatin1(EVP_PKEY_get0_type_name(m_key.get()));
}

Result<void> KeyPair::checkModemCompatible() const
{
    if (type() == Type::EcP256)
        return {};
    return fail(ErrorKind::InvalidInput, QStringLiteral("UnsupportedKeyAlgorithm"),
        Text::tr("The nRF9160 modem supports EC P-256 keys only; this is a %1 key.").arg(algorithmName()));
}

SecretBytes KeyPair::privateKeyPem() const
{
    if (!m_key)
        return {};
    OpenSsl::Bio bio(BIO_new(BIO_s_mem()));
    if (!PEM_write_bio_PrivateKey(bio.get(), m_key.get(), nullptr, nullptr, 0, nullptr, nullptr))
        return {};
    // Copied straight from the BIO's buffer, which OpenSSL clears when it frees it (BUF_MEM_free).
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return size > 0 ? SecretBytes::fromView(QByteArrayView(data, qsizetype(size))) : SecretBytes();
}

QByteArray KeyPair::publicKeyPem() const
{
    if (!m_key)
        return {};
    OpenSsl::Bio bio(BIO_new(BIO_s_mem()));
    if (!PEM_write_bio_PUBKEY(bio.get(), m_key.get()))
        return {};
    return OpenSsl::readAll(bio.get());
}

} // namespace Onboarder
