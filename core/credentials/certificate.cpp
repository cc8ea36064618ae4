#include "certificate.h"

#include "certificaterequest.h"
#include "keypair.h"
#include "opensslutil.h"

#include <QCoreApplication>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(Certificate)
};

QDateTime toDateTime(const ASN1_TIME *time)
{
    struct tm parts = {};
    if (!time || ASN1_TIME_to_tm(time, &parts) != 1)
        return {};
    return QDateTime(QDate(parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday),
        QTime(parts.tm_hour, parts.tm_min, parts.tm_sec), Qt::UTC);
}

QString digestHex(X509 *cert, const EVP_MD *md)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!cert || !X509_digest(cert, md, digest, &length))
        return {};
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(digest), int(length)).toHex().toUpper());
}

bool addExtension(X509 *cert, X509 *issuer, int nid, const QByteArray &value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION *extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.constData());
    if (!extension)
        return false;
    const bool ok = X509_add_ext(cert, extension, -1) == 1;
    X509_EXTENSION_free(extension);
    return ok;
}

// Builds and signs a certificate for subjectKey; issuer null means self-signed.
Result<X509 *> build(X509 *issuer, EVP_PKEY *signingKey, EVP_PKEY *subjectKey, const Certificate::Request &request)
{
    const QByteArray cn = request.commonName.toUtf8();
    if (cn.isEmpty() || cn.size() > 64)
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidCommonName"),
            Text::tr("A certificate's common name must have 1 to 64 characters."));
    if (request.validityDays < 1 || request.validityDays > 36500)
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidValidity"),
            Text::tr("A certificate must be valid for 1 to 36500 days."));

    OpenSsl::clearErrors();
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
    std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(BN_new(), &BN_free);
    bool ok = cert && serial && X509_set_version(cert.get(), 2) == 1
        && BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1
        && BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))
        // Back-date a little so that a slightly slow clock elsewhere still accepts it.
        && X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300)
        && X509_gmtime_adj(X509_getm_notAfter(cert.get()), long(request.validityDays) * 24 * 3600)
        && X509_set_pubkey(cert.get(), subjectKey) == 1;

    X509_NAME *name = X509_get_subject_name(cert.get());
    ok = ok
        && X509_NAME_add_entry_by_txt(
               name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char *>(cn.constData()), -1, -1, 0)
            == 1;
    ok = ok && X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name) == 1;

    X509 *issuerOrSelf = issuer ? issuer : cert.get();
    ok = ok && addExtension(cert.get(), issuerOrSelf, NID_subject_key_identifier, "hash");
    if (issuer)
        ok = ok && addExtension(cert.get(), issuerOrSelf, NID_authority_key_identifier, "keyid:always");
    switch (request.usage) {
    case Certificate::Usage::CertificateAuthority:
        ok = ok && addExtension(cert.get(), issuerOrSelf, NID_basic_constraints, "critical,CA:TRUE")
            && addExtension(cert.get(), issuerOrSelf, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
        break;
    case Certificate::Usage::Server:
        ok = ok && addExtension(cert.get(), issuerOrSelf, NID_basic_constraints, "critical,CA:FALSE")
            && addExtension(cert.get(), issuerOrSelf, NID_key_usage, "critical,digitalSignature,keyEncipherment")
            && addExtension(cert.get(), issuerOrSelf, NID_ext_key_usage, "serverAuth");
        break;
    case Certificate::Usage::Client:
        ok = ok && addExtension(cert.get(), issuerOrSelf, NID_basic_constraints, "critical,CA:FALSE")
            && addExtension(cert.get(), issuerOrSelf, NID_key_usage, "critical,digitalSignature,keyAgreement")
            && addExtension(cert.get(), issuerOrSelf, NID_ext_key_usage, "clientAuth");
        break;
    }
    QStringList altNames;
    for (const QString &dns : request.dnsNames)
        altNames.append(QStringLiteral("DNS:") + dns);
    for (const QString &ip : request.ipAddresses)
        altNames.append(QStringLiteral("IP:") + ip);
    if (!altNames.isEmpty())
        ok = ok && addExtension(cert.get(), issuerOrSelf, NID_subject_alt_name, altNames.join(u',').toUtf8());

    ok = ok && X509_sign(cert.get(), signingKey, EVP_sha256()) > 0;
    if (!ok)
        return fail(ErrorKind::Internal, QStringLiteral("CertificateBuildFailed"),
            Text::tr("Could not create the certificate for \"%1\": %2").arg(request.commonName, OpenSsl::lastError()));
    return cert.release();
}

Result<void> checkIssuer(const Certificate &issuer, const KeyPair &issuerKey)
{
    if (!issuer.isCertificateAuthority())
        return fail(ErrorKind::InvalidInput, QStringLiteral("IssuerNotCa"),
            Text::tr("\"%1\" is not a CA certificate, so it cannot sign others.").arg(issuer.subjectCommonName()));
    if (!issuer.matches(issuerKey))
        return fail(ErrorKind::InvalidInput, QStringLiteral("IssuerKeyMismatch"),
            Text::tr("The CA's private key does not belong to the CA certificate \"%1\".")
                .arg(issuer.subjectCommonName()));
    return {};
}

} // namespace

Certificate::Certificate() = default;

Certificate::Certificate(X509 *cert)
    : m_cert(cert, &X509_free)
{ }

Certificate Certificate::adopt(X509 *cert)
{
    return cert ? Certificate(cert) : Certificate();
}

Result<Certificate> Certificate::fromPem(const QByteArray &pem)
{
    auto list = listFromPem(pem);
    if (!list)
        return std::unexpected(list.error());
    return list->first();
}

Result<QList<Certificate>> Certificate::listFromPem(const QByteArray &pem)
{
    OpenSsl::clearErrors();
    if (!pem.contains("-----BEGIN CERTIFICATE-----"))
        return fail(ErrorKind::InvalidInput, QStringLiteral("NotPemCertificate"),
            Text::tr("This is not a PEM certificate: there is no \"-----BEGIN CERTIFICATE-----\" line."));
    OpenSsl::Bio bio = OpenSsl::memoryBio(pem);
    QList<Certificate> list;
    while (X509 *cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
        list.append(Certificate(cert));
    OpenSsl::clearErrors(); // the loop ends on an expected "no start line"
    if (list.isEmpty())
        return fail(ErrorKind::InvalidInput, QStringLiteral("BrokenPemCertificate"),
            Text::tr("The PEM certificate is damaged: its base64 body or its structure cannot be read."));
    return list;
}

Result<Certificate> Certificate::fromDer(const QByteArray &der)
{
    const auto *data = reinterpret_cast<const unsigned char *>(der.constData());
    X509 *cert = d2i_X509(nullptr, &data, long(der.size()));
    if (!cert)
        return fail(ErrorKind::InvalidInput, QStringLiteral("BrokenDerCertificate"),
            Text::tr("The DER certificate cannot be read: %1").arg(OpenSsl::lastError()));
    return Certificate(cert);
}

Result<Certificate> Certificate::fromData(const QByteArray &data)
{
    return data.contains("-----BEGIN") ? fromPem(data) : fromDer(data);
}

Result<Certificate> Certificate::selfSigned(const KeyPair &key, const Request &request)
{
    auto cert = build(nullptr, key.handle(), key.handle(), request);
    if (!cert)
        return std::unexpected(cert.error());
    return Certificate(*cert);
}

Result<Certificate> Certificate::issue(
    const Certificate &issuer, const KeyPair &issuerKey, const KeyPair &subjectKey, const Request &request)
{
    if (auto ok = checkIssuer(issuer, issuerKey); !ok)
        return std::unexpected(ok.error());
    auto cert = build(issuer.handle(), issuerKey.handle(), subjectKey.handle(), request);
    if (!cert)
        return std::unexpected(cert.error());
    return Certificate(*cert);
}

Result<Certificate> Certificate::issue(
    const Certificate &issuer, const KeyPair &issuerKey, const CertificateRequest &csr, Request request)
{
    if (csr.isNull())
        return fail(ErrorKind::InvalidInput, QStringLiteral("RequestMissing"),
            Text::tr("There is no certificate signing request to sign."));
    if (!csr.isSignatureValid())
        return fail(ErrorKind::InvalidInput, QStringLiteral("RequestSignatureInvalid"),
            Text::tr("The certificate signing request's signature does not verify with its own public key, so "
                     "whoever made it may not hold the private key."));
    if (request.commonName.isEmpty())
        request.commonName = csr.subjectCommonName();
    if (auto ok = checkIssuer(issuer, issuerKey); !ok)
        return std::unexpected(ok.error());
    auto cert = build(issuer.handle(), issuerKey.handle(), csr.publicKey(), request);
    if (!cert)
        return std::unexpected(cert.error());
    return Certificate(*cert);
}

QByteArray Certificate::toPem() const
{
    return OpenSsl::toPem(m_cert.get(), &PEM_write_bio_X509);
}

QByteArray Certificate::toDer() const
{
    return OpenSsl::toDer(m_cert.get(), &i2d_X509);
}

QString Certificate::subjectCommonName() const
{
    return m_cert ? OpenSsl::commonName(X509_get_subject_name(m_cert.get())) : QString();
}

QString Certificate::issuerCommonName() const
{
    return m_cert ? OpenSsl::commonName(X509_get_issuer_name(m_cert.get())) : QString();
}

QString Certificate::subject() const
{
    return m_cert ? OpenSsl::nameText(X509_get_subject_name(m_cert.get())) : QString();
}

QString Certificate::issuer() const
{
    return m_cert ? OpenSsl::nameText(X509_get_issuer_name(m_cert.get())) : QString();
}

QDateTime Certificate::notBefore() const
{
    return m_cert ? toDateTime(X509_get0_notBefore(m_cert.get())) : QDateTime();
}

QDateTime Certificate::notAfter() const
{
    return m_cert ? toDateTime(X509_get0_notAfter(m_cert.get())) : QDateTime();
}

bool Certificate::isCertificateAuthority() const
{
    return m_cert && X509_check_ca(m_cert.get()) >= 1;
}

bool Certificate::isSelfIssued() const
{
    // Same subject and issuer, and the signature verifies with the certificate's own key. (Not
    // X509_check_issued: that also asks for keyCertSign, which a device certificate rightly lacks.)
    return m_cert && X509_NAME_cmp(X509_get_subject_name(m_cert.get()), X509_get_issuer_name(m_cert.get())) == 0
        && isSignedBy(*this);
}

Result<void> Certificate::checkValidity(const QDateTime &now) const
{
    const QString name = subjectCommonName().isEmpty() ? subject() : subjectCommonName();
    if (now < notBefore())
        return fail(ErrorKind::InvalidInput, QStringLiteral("CertificateNotYetValid"),
            Text::tr("The certificate \"%1\" is not valid yet: its validity starts %2 (UTC).")
                .arg(name, notBefore().toString(Qt::ISODate)));
    if (now > notAfter())
        return fail(ErrorKind::InvalidInput, QStringLiteral("CertificateExpired"),
            Text::tr("The certificate \"%1\" expired %2 (UTC).").arg(name, notAfter().toString(Qt::ISODate)));
    return {};
}

Result<void> Certificate::checkKeyMatches(const KeyPair &key) const
{
    if (matches(key))
        return {};
    OpenSsl::clearErrors();
    return fail(ErrorKind::InvalidInput, QStringLiteral("KeyCertificateMismatch"),
        Text::tr("The private key does not belong to the certificate \"%1\": their public keys differ.")
            .arg(subjectCommonName()));
}

Result<void> Certificate::checkUsableWith(const KeyPair &key, const QDateTime &now) const
{
    if (auto ok = checkKeyMatches(key); !ok)
        return ok;
    return checkValidity(now);
}

QString Certificate::thumbprintSha1() const
{
    return digestHex(m_cert.get(), EVP_sha1());
}

QString Certificate::thumbprintSha256() const
{
    return digestHex(m_cert.get(), EVP_sha256());
}

bool Certificate::matches(const KeyPair &key) const
{
    return m_cert && !key.isNull() && X509_check_private_key(m_cert.get(), key.handle()) == 1;
}

bool Certificate::isSignedBy(const Certificate &issuer) const
{
    if (!m_cert || issuer.isNull())
        return false;
    EVP_PKEY *issuerKey = X509_get0_pubkey(issuer.handle());
    const bool ok = issuerKey && X509_verify(m_cert.get(), issuerKey) == 1;
    OpenSsl::clearErrors();
    return ok;
}

} // namespace Onboarder
