#pragma once

#include "common/result.h"
#include "credentials/certificate.h"
#include "credentials/keypair.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

namespace Onboarder {

// PKCS#12 (.p12/.pfx): a certificate, its private key and optionally its chain, under one password.
// What we write is what current tools expect: keys and certificates encrypted with AES-256-CBC under
// PBES2/PBKDF2 (HMAC-SHA-256), integrity by an HMAC-SHA-256 MAC.
class Pkcs12 final
{
public:
    struct Contents
    {
        Certificate certificate;
        KeyPair key;
        QList<Certificate> chain; // further certificates (intermediates, the CA), may be empty
    };

    static constexpr int minimumPasswordLength = 8;
    static constexpr int pbkdf2Iterations = 200000;
    static constexpr int macIterations = 2048;

    // The password is read in place (a SecretBytes gives its view()); OpenSSL gets a wiped copy of it.
    static Result<QByteArray> create(const Certificate &certificate, const KeyPair &key, QByteArrayView password,
        const QString &friendlyName, const QList<Certificate> &chain = {});
    // Errors: NotPkcs12, Pkcs12WrongPassword, Pkcs12LegacyAlgorithm (RC2/3DES files of old tools), Pkcs12NoKey,
    // Pkcs12NoCertificate.
    static Result<Contents> parse(const QByteArray &data, QByteArrayView password);
};

} // namespace Onboarder
