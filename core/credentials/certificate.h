#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QStringList>

#include <memory>

using X509 = struct x509_st;

namespace Onboarder {

class CertificateRequest;
class KeyPair;

// An X.509 certificate (OpenSSL 3). Copyable (shares the immutable certificate).
class Certificate final
{
public:
    enum class Usage {
        Client, // a device certificate (digitalSignature, clientAuth)
        Server, // a TLS server (digitalSignature, keyEncipherment, serverAuth)
        CertificateAuthority, // a CA (keyCertSign, cRLSign, basicConstraints CA:TRUE)
    };

    struct Request
    {
        QString commonName;
        QStringList dnsNames; // subjectAltName DNS entries
        QStringList ipAddresses; // subjectAltName IP entries
        int validityDays = 365;
        Usage usage = Usage::Client;
    };

    Certificate();

    static Result<Certificate> fromPem(const QByteArray &pem);
    static Result<QList<Certificate>> listFromPem(const QByteArray &pem);
    static Result<Certificate> fromDer(const QByteArray &der);
    // PEM when the data has a "-----BEGIN" line, DER otherwise.
    static Result<Certificate> fromData(const QByteArray &data);

    // A certificate signed by its own key (self-signed device certificate, or a root CA).
    static Result<Certificate> selfSigned(const KeyPair &key, const Request &request);
    // A certificate for subjectKey's public key, signed by an issuer CA.
    static Result<Certificate> issue(
        const Certificate &issuer, const KeyPair &issuerKey, const KeyPair &subjectKey, const Request &request);
    // A certificate for a CSR's public key, signed by an issuer CA. The CSR's own signature must verify
    // (proof that its sender holds the key); an empty request.commonName takes the CSR's.
    static Result<Certificate> issue(
        const Certificate &issuer, const KeyPair &issuerKey, const CertificateRequest &csr, Request request);

    bool isNull() const { return !m_cert; }
    QByteArray toPem() const;
    QByteArray toDer() const;

    QString subjectCommonName() const;
    QString issuerCommonName() const;
    QString subject() const; // the whole distinguished name, RFC 2253 (e.g. "CN=Baltimore CyberTrust
                             // Root,OU=CyberTrust,O=Baltimore,C=IE")
    QString issuer() const;
    QDateTime notBefore() const;
    QDateTime notAfter() const;
    bool isCertificateAuthority() const;
    bool isSelfIssued() const; // self-signed: its own key verifies its signature

    // CertificateNotYetValid or CertificateExpired, with the date in the sentence.
    Result<void> checkValidity(const QDateTime &now = QDateTime::currentDateTimeUtc()) const;
    // KeyCertificateMismatch when key is not this certificate's.
    Result<void> checkKeyMatches(const KeyPair &key) const;
    // What an imported certificate + key pair must satisfy: checkKeyMatches(), then checkValidity().
    Result<void> checkUsableWith(const KeyPair &key, const QDateTime &now = QDateTime::currentDateTimeUtc()) const;

    // Azure's thumbprint format: upper-case hex of the digest of the DER, no separators.
    QString thumbprintSha1() const;
    QString thumbprintSha256() const;

    bool matches(const KeyPair &key) const; // the certificate's public key is key's
    bool isSignedBy(const Certificate &issuer) const; // signature checks with issuer's public key

    X509 *handle() const { return m_cert.get(); }
    // Takes ownership of a certificate OpenSSL handed out; null gives a null Certificate.
    static Certificate adopt(X509 *cert);

    friend bool operator==(const Certificate &a, const Certificate &b) { return a.toDer() == b.toDer(); }

private:
    explicit Certificate(X509 *cert);
    std::shared_ptr<X509> m_cert;
};

} // namespace Onboarder
