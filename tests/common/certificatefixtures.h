#pragma once

// Certificates with validity periods our API does not make (expired, not yet valid), built with
// OpenSSL directly. Tests that include this link OpenSSL::Crypto.

#include "credentials/certificate.h"
#include "credentials/keypair.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

namespace TestSupport {

// A copy of cert valid from now + notBeforeSeconds to now + notAfterSeconds, signed again by signer.
inline Onboarder::Certificate redated(const Onboarder::Certificate &cert, const Onboarder::KeyPair &signer, long notBeforeSeconds,
                                      long notAfterSeconds)
{
    X509 *copy = X509_dup(cert.handle());
    if (!copy || !X509_gmtime_adj(X509_getm_notBefore(copy), notBeforeSeconds)
        || !X509_gmtime_adj(X509_getm_notAfter(copy), notAfterSeconds) || X509_sign(copy, signer.handle(), EVP_sha256()) <= 0)
        qFatal("cannot re-date a certificate");
    return Onboarder::Certificate::adopt(copy);
}

} // namespace TestSupport
