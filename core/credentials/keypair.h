#pragma once

#include "common/result.h"
#include "common/secretbytes.h"

#include <QByteArray>
#include <QByteArrayView>

#include <memory>

using EVP_PKEY = struct evp_pkey_st;

namespace Onboarder {

// A private/public key pair (OpenSSL 3 EVP). Copies share the one immutable key (so it can travel
// through QFuture); the key material is freed by OpenSSL when the last copy goes, which
// clears it. Export as PEM only to hand it to the keychain or a device, never to a file or a log.
class KeyPair final
{
public:
    enum class Type {
        EcP256, // the nRF9160's and IoT Hub's usual choice
        Rsa2048,
        Rsa3072,
        Other, // read from PEM, not one we generate
    };

    KeyPair();

    static Result<KeyPair> generate(Type type = Type::EcP256);
    // A PEM private key (PKCS#8 or traditional); an encrypted one needs its password. Both are read in place (a
    // SecretBytes gives its view()), never copied.
    static Result<KeyPair> fromPem(QByteArrayView pem, QByteArrayView password = {});
    // A DER private key (PKCS#8, plain or encrypted, or traditional RSA/EC).
    static Result<KeyPair> fromDer(QByteArrayView der, QByteArrayView password = {});
    // PEM when the data has a "-----BEGIN" line, DER otherwise.
    static Result<KeyPair> fromData(QByteArrayView data, QByteArrayView password = {});

    bool isNull() const { return !m_key; }
    Type type() const;
    static QString typeName(Type type);
    // A short description of any key, e.g. "EC P-256", "EC P-384", "RSA 4096", "ED25519".
    QString algorithmName() const;

    // The nRF9160 modem stores and uses EC P-256 keys only; anything else is UnsupportedKeyAlgorithm.
    Result<void> checkModemCompatible() const;

    SecretBytes privateKeyPem() const; // PKCS#8, unencrypted: keychain or device only
    QByteArray publicKeyPem() const;

    EVP_PKEY *handle() const { return m_key.get(); }
    // Takes ownership of a private key OpenSSL handed out (e.g. from a PKCS#12 file).
    static KeyPair adopt(EVP_PKEY *key);

private:
    explicit KeyPair(EVP_PKEY *key);

    std::shared_ptr<EVP_PKEY> m_key;
};

} // namespace Onboarder
