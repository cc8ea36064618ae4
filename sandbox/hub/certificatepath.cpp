#include "certificatepath.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace Onboarder::Sandbox {

namespace {

QString nameOf(const Certificate &certificate)
{
    return certificate.subjectCommonName().isEmpty() ? certificate.subject() : certificate.subjectCommonName();
}

Result<void> refuse(const QString &why)
{
    return fail(ErrorKind::AuthRefused, QStringLiteral("CertificatePathInvalid"), why);
}

Result<void> checkTime(const Certificate &certificate, const QString &role, const QDateTime &now)
{
    if (now < certificate.notBefore())
        return refuse(QStringLiteral("the %1 \"%2\" is not valid before %3.")
                          .arg(role, nameOf(certificate), certificate.notBefore().toString(Qt::ISODate)));
    if (now > certificate.notAfter())
        return refuse(QStringLiteral("the %1 \"%2\" expired at %3.")
                          .arg(role, nameOf(certificate), certificate.notAfter().toString(Qt::ISODate)));
    return {};
}

// A certificate that signs below is a CA in time, and lets below intermediates follow it.
Result<void> checkSigner(const Certificate &signer, const QString &role, int below, const QDateTime &now)
{
    if (!CertificatePath::isCa(signer))
        return refuse(
            QStringLiteral("the %1 \"%2\" is no CA certificate (a CA must be X.509 version 3 with basicConstraints "
                           "CA:TRUE; it is version %3%4).")
                .arg(role, nameOf(signer))
                .arg(X509_get_version(signer.handle()) + 1)
                .arg(X509_get_extension_flags(signer.handle()) & EXFLAG_BCONS
                        ? QStringLiteral(", CA:FALSE")
                        : QStringLiteral(", no basicConstraints")));
    if (auto valid = checkTime(signer, role, now); !valid)
        return valid;
    const int pathLength = CertificatePath::pathLength(signer);
    if (pathLength >= 0 && below > pathLength)
        return refuse(QStringLiteral("the %1 \"%2\" allows %3 intermediate CA(s) below it (pathLen), the path has %4.")
                          .arg(role, nameOf(signer))
                          .arg(pathLength)
                          .arg(below));
    return {};
}

} // namespace

bool CertificatePath::isCa(const Certificate &certificate)
{
    X509 *x509 = certificate.handle();
    // X509_get_extension_flags caches the extensions; EXFLAG_CA is basicConstraints CA:TRUE.
    return x509 && X509_get_version(x509) == X509_VERSION_3 && (X509_get_extension_flags(x509) & EXFLAG_CA);
}

int CertificatePath::pathLength(const Certificate &certificate)
{
    X509 *x509 = certificate.handle();
    return x509 ? int(X509_get_pathlen(x509)) : -1;
}

Result<void> CertificatePath::verify(
    const QList<Certificate> &presented, const QList<Certificate> &trusted, const QDateTime &now)
{
    if (presented.isEmpty() || presented.first().isNull())
        return refuse(QStringLiteral("no certificate."));
    if (auto valid = checkTime(presented.first(), QStringLiteral("device certificate"), now); !valid)
        return valid;
    // below: the intermediates between current and the leaf (those a signer of current has below it).
    const Certificate *current = &presented.first();
    for (int below = 0; below <= maxIntermediates; ++below) {
        std::optional<Error> trustedRefused;
        for (const Certificate &anchor : trusted) {
            if (!current->isSignedBy(anchor))
                continue;
            auto usable = checkSigner(anchor, QStringLiteral("trusted CA"), below, now);
            if (usable)
                return {};
            trustedRefused = usable.error();
        }
        if (trustedRefused)
            return std::unexpected(*trustedRefused);
        if (below + 1 >= presented.size())
            return refuse(
                QStringLiteral("no trusted CA signed \"%1\", and the device presented no certificate above it.")
                    .arg(nameOf(*current)));
        const Certificate &issuer = presented.at(below + 1);
        if (!current->isSignedBy(issuer))
            return refuse(QStringLiteral("\"%1\", presented above \"%2\", did not sign it.")
                              .arg(nameOf(issuer), nameOf(*current)));
        if (auto usable = checkSigner(issuer, QStringLiteral("intermediate certificate"), below, now); !usable)
            return usable;
        current = &issuer;
    }
    return refuse(QStringLiteral("the path is longer than %1 intermediate certificates.").arg(maxIntermediates));
}

} // namespace Onboarder::Sandbox
