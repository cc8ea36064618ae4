#pragma once

#include "common/result.h"
#include "credentials/certificate.h"
#include "credentials/keypair.h"

namespace Onboarder {

// A device's X.509 identity: its certificate and private key.
// read() gives any certificate with its key (also a CA's, before CertificateAuthority checks it).
struct DeviceCredential
{
    enum class Target {
        AnyDevice,
        Nrf9160, // the modem takes EC P-256 keys only
    };

    Certificate certificate;
    KeyPair key;

    // Certificate and key, each PEM or DER; an encrypted key needs its password. Parsing only.
    // The key and its password are read in place (a SecretBytes gives its view()).
    static Result<DeviceCredential> read(const QByteArray &certificate, QByteArrayView key, QByteArrayView keyPassword);

    // Reads a certificate and a key someone made elsewhere (each PEM or DER; an encrypted key needs its
    // password) and checks, each with its own error code: the key belongs to the certificate
    // (KeyCertificateMismatch), the certificate is valid now (CertificateNotYetValid, CertificateExpired),
    // the modem can use the key (UnsupportedKeyAlgorithm).
    static Result<DeviceCredential> import(
        const QByteArray &certificate, QByteArrayView key, QByteArrayView keyPassword, Target target);
};

} // namespace Onboarder
