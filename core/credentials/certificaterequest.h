#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QString>

#include <memory>

using X509_REQ = struct X509_req_st;
using EVP_PKEY = struct evp_pkey_st;

namespace Onboarder {

class KeyPair;

// A PKCS#10 certificate signing request (CSR): a public key and a subject, signed with the private
// key. Made here for a key born on the PC, or read from a device that made its own key (the nRF9160's
// %KEYGEN). A CertificateAuthority signs it. Copyable (shares the immutable request).
class CertificateRequest final
{
public:
    CertificateRequest();

    // A request for key's public key with subject CN = commonName, signed with SHA-256.
    static Result<CertificateRequest> create(const KeyPair &key, const QString &commonName);
    static Result<CertificateRequest> fromPem(const QByteArray &pem);
    static Result<CertificateRequest> fromDer(const QByteArray &der);
    // PEM when the data has a "-----BEGIN" line, DER otherwise.
    static Result<CertificateRequest> fromData(const QByteArray &data);

    bool isNull() const { return !m_request; }
    QByteArray toPem() const;
    QByteArray toDer() const;

    QString subjectCommonName() const;
    bool isSignatureValid() const; // its own public key verifies its signature (proof of possession)

    EVP_PKEY *publicKey() const; // owned by the request
    X509_REQ *handle() const { return m_request.get(); }

private:
    explicit CertificateRequest(X509_REQ *request);
    std::shared_ptr<X509_REQ> m_request;
};

} // namespace Onboarder
