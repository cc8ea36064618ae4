#pragma once

#include "common/result.h"
#include "credentials/certificate.h"
#include "credentials/keypair.h"

#include <QList>

namespace Onboarder {

class CertificateRequest;

// A CA the user imported to sign device certificates (IoT Hub "x509-ca" devices): its certificate and
// private key. Import checks that it is a CA, that the key is its key and that it is valid now. The key
// is kept only in the keychain (CredentialStore); this object holds it in memory while signing.
// Copyable (copies share the key).
class CertificateAuthority final
{
public:
    CertificateAuthority();

    // Certificate and key each PEM or DER; an encrypted key needs keyPassword.
    static Result<CertificateAuthority> fromCertificateAndKey(
        const QByteArray &certificate, QByteArrayView key, QByteArrayView keyPassword = {});
    static Result<CertificateAuthority> fromPkcs12(const QByteArray &pkcs12, QByteArrayView password);
    // Checks and wraps what was read elsewhere (the keychain).
    static Result<CertificateAuthority> fromParts(Certificate certificate, KeyPair key, QList<Certificate> chain = {});

    bool isNull() const { return m_key.isNull(); }
    const Certificate &certificate() const { return m_certificate; }
    const KeyPair &key() const { return m_key; }
    QList<Certificate> chain() const { return m_chain; } // intermediates above it, from a PKCS#12 file

    // A device (client) certificate for the CSR's key, CN = the CSR's, valid validityDays from now.
    Result<Certificate> sign(const CertificateRequest &csr, int validityDays) const;

    // Proof of possession for IoT Hub or DPS (portal → Certificates → Generate verification code): a certificate whose
    // CN is the verification code, signed by this CA's key, valid 30 days; its own key is made here and thrown away.
    Result<Certificate> verificationCertificate(const QString &code) const;
    // The portal's codes are letters, digits, '.', '_' and '-', at most 64; anything else is explained.
    static Result<void> checkVerificationCode(const QString &code);

private:
    Certificate m_certificate;
    KeyPair m_key;
    QList<Certificate> m_chain;
};

} // namespace Onboarder
