#include "certificaterequest.h"

#include "keypair.h"
#include "opensslutil.h"

#include <QCoreApplication>

#include <openssl/pem.h>
#include <openssl/x509.h>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(CertificateRequest)
};

} // namespace

CertificateRequest::CertificateRequest() = default;

CertificateRequest::CertificateRequest(X509_REQ *request)
    : m_request(request, &X509_REQ_free)
{ }

Result<CertificateRequest> CertificateRequest::create(const KeyPair &key, const QString &commonName)
{
    const QByteArray cn = commonName.toUtf8();
    if (cn.isEmpty() || cn.size() > 64)
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidCommonName"),
            Text::tr("A certificate's common name must have 1 to 64 characters."));
    if (key.isNull())
        return fail(
            ErrorKind::Internal, QStringLiteral("KeyMissing"), Text::tr("There is no key to make the request for."));
    OpenSsl::clearErrors();
    std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> request(X509_REQ_new(), &X509_REQ_free);
    const bool ok = request && X509_REQ_set_version(request.get(), 0) == 1
        && X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(request.get()), "CN", MBSTRING_UTF8,
               reinterpret_cast<const unsigned char *>(cn.constData()), -1, -1, 0)
            == 1
        && X509_REQ_set_pubkey(request.get(), key.handle()) == 1
        && X509_REQ_sign(request.get(), key.handle(), EVP_sha256()) > 0;
    if (!ok)
        return fail(ErrorKind::Internal, QStringLiteral("RequestBuildFailed"),
            Text::tr("Could not create the certificate signing request for \"%1\": %2")
                .arg(commonName, OpenSsl::lastError()));
    return CertificateRequest(request.release());
}

Result<CertificateRequest> CertificateRequest::fromPem(const QByteArray &pem)
{
    OpenSsl::clearErrors();
    if (!pem.contains("-----BEGIN CERTIFICATE REQUEST-----")
        && !pem.contains("-----BEGIN NEW CERTIFICATE REQUEST-----"))
        return fail(ErrorKind::InvalidInput, QStringLiteral("NotPemRequest"),
            Text::tr("This is not a PEM certificate signing request: there is no "
                     "\"-----BEGIN CERTIFICATE REQUEST-----\" line."));
    OpenSsl::Bio bio = OpenSsl::memoryBio(pem);
    X509_REQ *request = PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr);
    if (!request)
        return fail(ErrorKind::InvalidInput, QStringLiteral("BrokenPemRequest"),
            Text::tr("The PEM certificate signing request is damaged: %1").arg(OpenSsl::lastError()));
    return CertificateRequest(request);
}

Result<CertificateRequest> CertificateRequest::fromDer(const QByteArray &der)
{
    OpenSsl::clearErrors();
    const auto *data = reinterpret_cast<const unsigned char *>(der.constData());
    X509_REQ *request = d2i_X509_REQ(nullptr, &data, long(der.size()));
    if (!request)
        return fail(ErrorKind::InvalidInput, QStringLiteral("BrokenDerRequest"),
            Text::tr("The DER certificate signing request cannot be read: %1").arg(OpenSsl::lastError()));
    return CertificateRequest(request);
}

Result<CertificateRequest> CertificateRequest::fromData(const QByteArray &data)
{
    return data.contains("-----BEGIN") ? fromPem(data) : fromDer(data);
}

QByteArray CertificateRequest::toPem() const
{
    return OpenSsl::toPem(m_request.get(), &PEM_write_bio_X509_REQ);
}

QByteArray CertificateRequest::toDer() const
{
    return OpenSsl::toDer(m_request.get(), &i2d_X509_REQ);
}

QString CertificateRequest::subjectCommonName() const
{
    return m_request ? OpenSsl::commonName(X509_REQ_get_subject_name(m_request.get())) : QString();
}

bool CertificateRequest::isSignatureValid() const
{
    EVP_PKEY *key = publicKey();
    const bool ok = key && X509_REQ_verify(m_request.get(), key) == 1;
    OpenSsl::clearErrors();
    return ok;
}

EVP_PKEY *CertificateRequest::publicKey() const
{
    return m_request ? X509_REQ_get0_pubkey(m_request.get()) : nullptr;
}

} // namespace Onboarder
