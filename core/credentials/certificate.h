#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QStringList>

#include <memory>

using X509 = struct x509_st;

namespace Onboarder {

class KeyPair;

// An X.509 certificate (OpenSSL 3). Copyable (shares the immutable certificate).
class Certificate final
{
public:
    enum class Usage {
        Client,               // a device certificate (digitalSignature, clientAuth)
        Server,               // a TLS server (digitalSignature, keyEncipherment, serverAuth)
        CertificateAuthority, // a CA (keyCertSign, cRLSign, basicConstraints CA:TRUE)
    };

    struct Request
    {
        QString commonName;
        QStringList dnsNames;    // subjectAltName DNS entries
        QStringList ipAddresses; // subjectAltName IP entries
        int validityDays = 365;
        Usage usage = Usage::Client;
    };

    Certificate();

    static Result<Certificate> fromPem(const QByteArray &pem);
    static Result<QList<Certificate>> listFromPem(const QByteArray &pem);
    static Result<Certificate> fromDer(const QByteArray &der);

    // A certificate signed by its own key (self-signed device certificate, or a root CA).
    static Result<Certificate> selfSigned(const KeyPair &key, const Request &request);
    // A certificate for subjectKey's public key, signed by an issuer CA.
    static Result<Certificate> issue(const Certificate &issuer, const KeyPair &issuerKey, const KeyPair &subjectKey,
                                     const Request &request);

    bool isNull() const { return !m_cert; }
    QByteArray toPem() const;
    QByteArray toDer() const;

    QString subjectCommonName() const;
    QString issuerCommonName() const;
    QDateTime notBefore() const;
    QDateTime notAfter() const;
    bool isCertificateAuthority() const;
    bool isSelfIssued() const; // self-signed: its own key verifies its signature

    // Azure's thumbprint format: upper-case hex of the digest of the DER, no separators.
    QString thumbprintSha1() const;
    QString thumbprintSha256() const;

    bool matches(const KeyPair &key) const;          // the certificate's public key is key's
    bool isSignedBy(const Certificate &issuer) const; // signature checks with issuer's public key

    X509 *handle() const { return m_cert.get(); }

    friend bool operator==(const Certificate &a, const Certificate &b) { return a.toDer() == b.toDer(); }

private:
    explicit Certificate(X509 *cert);
    std::shared_ptr<X509> m_cert;
};

} // namespace Onboarder
