// The import of certificates, private keys and certificate requests (core/credentials): what a person picks in a
// file dialog or passes with --cert/--key/--csr, PEM or DER. Promises: nothing crashes and nothing asks for a
// password on a terminal; what is refused says why; a certificate or request that is read, written out as PEM and
// as DER and read again, is the same bytes; a key that is read writes a public key that reads as a certificate's
// key would (its PEM is not empty).
#include "credentials/certificate.h"
#include "credentials/certificaterequest.h"
#include "credentials/keypair.h"
#include "fuzzcheck.h"

#include <cstddef>
#include <cstdint>

using namespace Onboarder;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));

    if (const auto certificate = Certificate::fromData(bytes)) {
        const QByteArray der = certificate->toDer();
        FUZZ_CHECK(!der.isEmpty());
        const auto fromPem = Certificate::fromPem(certificate->toPem());
        FUZZ_CHECK(fromPem && fromPem->toDer() == der);
        const auto fromDer = Certificate::fromDer(der);
        FUZZ_CHECK(fromDer && fromDer->toDer() == der);
        (void)certificate->subject();
        (void)certificate->issuer();
        (void)certificate->notAfter();
        (void)certificate->isCertificateAuthority();
        (void)certificate->isSelfIssued();
        (void)certificate->thumbprintSha256();
    } else {
        FUZZ_CHECK(!certificate.error().message.isEmpty());
    }

    if (const auto request = CertificateRequest::fromData(bytes)) {
        const QByteArray der = request->toDer();
        const auto again = CertificateRequest::fromPem(request->toPem());
        FUZZ_CHECK(again && again->toDer() == der);
        (void)request->subjectCommonName();
        (void)request->isSignatureValid();
    } else {
        FUZZ_CHECK(!request.error().message.isEmpty());
    }

    // Without a password first; with one only for a key that says it is encrypted (for any other input the password
    // goes unused, and the same decoding twice would halve the executions: OpenSSL's decoders dominate them).
    const auto checkKey = [&bytes](const QByteArray &password) {
        const auto key = KeyPair::fromData(bytes, password);
        if (key) {
            FUZZ_CHECK(!key->publicKeyPem().isEmpty());
            (void)key->type();
            (void)key->checkModemCompatible();
        } else {
            FUZZ_CHECK(!key.error().message.isEmpty());
        }
        return key ? QString() : key.error().code;
    };
    if (checkKey({}) == u"KeyEncrypted")
        checkKey("fuzz");
    return 0;
}
