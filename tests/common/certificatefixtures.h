#pragma once

// Certificates with validity periods our API does not make (expired, not yet valid), built with
// OpenSSL directly. Tests that include this link OpenSSL::Crypto.

#include "credentials/certificate.h"
#include "credentials/keypair.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace TestSupport {

// A copy of cert valid from now + notBeforeSeconds to now + notAfterSeconds, signed again by signer.
inline Onboarder::Certificate redated(
    const Onboarder::Certificate &cert, const Onboarder::KeyPair &signer, long notBeforeSeconds, long notAfterSeconds)
{
    X509 *copy = X509_dup(cert.handle());
    if (!copy || !X509_gmtime_adj(X509_getm_notBefore(copy), notBeforeSeconds)
        || !X509_gmtime_adj(X509_getm_notAfter(copy), notAfterSeconds)
        || X509_sign(copy, signer.handle(), EVP_sha256()) <= 0)
        qFatal("cannot re-date a certificate");
    return Onboarder::Certificate::adopt(copy);
}

// A copy of cert with its basicConstraints replaced (OpenSSL's syntax: "critical,CA:TRUE,pathlen:0"), signed
// again by signer.
inline Onboarder::Certificate withBasicConstraints(
    const Onboarder::Certificate &cert, const Onboarder::KeyPair &signer, const char *basicConstraints)
{
    X509 *copy = X509_dup(cert.handle());
    const int at = copy ? X509_get_ext_by_NID(copy, NID_basic_constraints, -1) : -1;
    if (at >= 0)
        X509_EXTENSION_free(X509_delete_ext(copy, at));
    X509_EXTENSION *extension = X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, basicConstraints);
    if (!copy || !extension || !X509_add_ext(copy, extension, -1)
        || X509_sign(copy, signer.handle(), EVP_sha256()) <= 0)
        qFatal("cannot change a certificate's basicConstraints");
    X509_EXTENSION_free(extension);
    return Onboarder::Certificate::adopt(copy);
}

// A version 1 self-signed certificate (no extensions at all), as old tools made "CAs".
inline Onboarder::Certificate version1SelfSigned(const Onboarder::KeyPair &key, const char *commonName)
{
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    if (!cert || !name || !X509_set_version(cert, X509_VERSION_1) || !ASN1_INTEGER_set(X509_get_serialNumber(cert), 1)
        || !X509_NAME_add_entry_by_txt(
            name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char *>(commonName), -1, -1, 0)
        || !X509_set_subject_name(cert, name) || !X509_set_issuer_name(cert, name)
        || !X509_gmtime_adj(X509_getm_notBefore(cert), -60)
        || !X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 24 * 3600) || !X509_set_pubkey(cert, key.handle())
        || X509_sign(cert, key.handle(), EVP_sha256()) <= 0)
        qFatal("cannot make a version 1 certificate");
    X509_NAME_free(name);
    return Onboarder::Certificate::adopt(cert);
}

} // namespace TestSupport
