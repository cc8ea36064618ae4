#include "certificateauthority.h"

#include "certificaterequest.h"
#include "devicecredential.h"
#include "pkcs12.h"

#include <QCoreApplication>
#include <QRegularExpression>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(CertificateAuthority)
};

} // namespace

CertificateAuthority::CertificateAuthority() = default;

Result<CertificateAuthority> CertificateAuthority::fromCertificateAndKey(
    const QByteArray &certificate, QByteArrayView key, QByteArrayView keyPassword)
{
    auto parts = DeviceCredential::read(certificate, key, keyPassword);
    if (!parts)
        return std::unexpected(parts.error());
    return fromParts(parts->certificate, std::move(parts->key));
}

Result<CertificateAuthority> CertificateAuthority::fromPkcs12(const QByteArray &pkcs12, QByteArrayView password)
{
    auto contents = Pkcs12::parse(pkcs12, password);
    if (!contents)
        return std::unexpected(contents.error());
    return fromParts(contents->certificate, std::move(contents->key), contents->chain);
}

Result<CertificateAuthority> CertificateAuthority::fromParts(
    Certificate certificate, KeyPair key, QList<Certificate> chain)
{
    if (!certificate.isCertificateAuthority())
        return fail(ErrorKind::InvalidInput, QStringLiteral("NotCaCertificate"),
            Text::tr("\"%1\" is not a CA certificate (it lacks basicConstraints CA:TRUE or keyCertSign), so it "
                     "cannot sign device certificates.")
                .arg(certificate.subjectCommonName()));
    if (auto ok = certificate.checkUsableWith(key); !ok)
        return std::unexpected(ok.error());
    CertificateAuthority ca;
    ca.m_certificate = std::move(certificate);
    ca.m_key = std::move(key);
    ca.m_chain = std::move(chain);
    return ca;
}

Result<Certificate> CertificateAuthority::sign(const CertificateRequest &csr, int validityDays) const
{
    if (isNull())
        return fail(ErrorKind::Internal, QStringLiteral("CaMissing"), Text::tr("No CA was loaded to sign with."));
    return Certificate::issue(m_certificate, m_key, csr, {QString(), {}, {}, validityDays, Certificate::Usage::Client});
}

} // namespace Onboarder

namespace Onboarder {

Result<void> CertificateAuthority::checkVerificationCode(const QString &code)
{
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9._-]{1,64}$"));
    if (pattern.match(code).hasMatch())
        return {};
    return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidVerificationCode"),
        Text::tr("\"%1\" does not look like a verification code: the portal's are letters and digits (up to 64).")
            .arg(code));
}

Result<Certificate> CertificateAuthority::verificationCertificate(const QString &code) const
{
    if (auto valid = checkVerificationCode(code); !valid)
        return std::unexpected(valid.error());
    if (isNull())
        return fail(ErrorKind::Internal, QStringLiteral("CaMissing"), Text::tr("No CA was loaded to sign with."));
    const auto key = KeyPair::generate(KeyPair::Type::EcP256);
    if (!key)
        return std::unexpected(key.error());
    Certificate::Request request;
    request.commonName = code;
    request.validityDays = 30;
    return Certificate::issue(m_certificate, m_key, *key, request);
}

} // namespace Onboarder
