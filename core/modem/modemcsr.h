#pragma once

#include "common/result.h"
#include "credentials/certificaterequest.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QString>

namespace Onboarder {

// The certificate signing request an nRF91 answers to %KEYGEN: "<base64url CSR DER>.<base64url COSE_Sign1>"
// (docs/nrf91-at.md §5). check() proves it before anyone signs it: the CSR's own
// signature verifies with the public key it carries (the modem holds the private key), the key is EC
// P-256, the subject is the one asked for, and the COSE part carries the CSR's SHA-256.
class ModemCsr final
{
    Q_DECLARE_TR_FUNCTIONS(ModemCsr)

public:
    // The %KEYGEN: line, or the quoted token alone.
    static Result<ModemCsr> fromKeygenAnswer(const QByteArray &answer);

    const CertificateRequest &request() const { return m_request; } // for a CertificateAuthority to sign
    QByteArray der() const { return m_der; } // exactly as the modem sent it
    QByteArray toPem() const { return m_request.toPem(); } // "-----BEGIN CERTIFICATE REQUEST-----"
    QByteArray cose() const { return m_cose; }
    QString subjectCommonName() const { return m_request.subjectCommonName(); }
    QByteArray publicKeyPem() const;

    Result<void> check(const QString &expectedCommonName) const;

private:
    CertificateRequest m_request;
    QByteArray m_der;
    QByteArray m_cose;
};

} // namespace Onboarder
