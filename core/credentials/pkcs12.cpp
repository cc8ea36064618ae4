#include "pkcs12.h"

#include "common/secretbytes.h"
#include "opensslutil.h"

#include <QCoreApplication>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(Pkcs12)
};

struct Pkcs12Free
{
    void operator()(PKCS12 *p12) const { PKCS12_free(p12); }
};

struct StackFree
{
    void operator()(STACK_OF(X509) * stack) const { sk_X509_pop_free(stack, X509_free); }
};

bool isUnsupportedAlgorithm(unsigned long code)
{
    return ERR_GET_REASON(code) == ERR_R_UNSUPPORTED || ERR_GET_REASON(code) == EVP_R_UNSUPPORTED_ALGORITHM;
}

std::unexpected<Error> legacyAlgorithm()
{
    return fail(ErrorKind::InvalidInput, QStringLiteral("Pkcs12LegacyAlgorithm"),
        Text::tr("The PKCS#12 file uses an outdated algorithm (RC2 or 3DES) that is no longer supported. "
                 "Export it again with AES-256 (e.g. openssl pkcs12 -export without -legacy)."));
}

} // namespace

Result<QByteArray> Pkcs12::create(const Certificate &certificate, const KeyPair &key, QByteArrayView password,
    const QString &friendlyName, const QList<Certificate> &chain)
{
    if (password.size() < minimumPasswordLength)
        return fail(ErrorKind::InvalidInput, QStringLiteral("PasswordTooShort"),
            Text::tr("The PKCS#12 password needs at least %1 characters.").arg(minimumPasswordLength));
    if (certificate.isNull() || key.isNull())
        return fail(ErrorKind::Internal, QStringLiteral("Pkcs12Incomplete"),
            Text::tr("A PKCS#12 file needs a certificate and its key."));
    if (auto ok = certificate.checkKeyMatches(key); !ok)
        return std::unexpected(ok.error());

    OpenSsl::clearErrors();
    std::unique_ptr<STACK_OF(X509), StackFree> extra(sk_X509_new_null());
    for (const Certificate &cert : chain) {
        if (!extra || X509_up_ref(cert.handle()) != 1)
            return fail(ErrorKind::Internal, QStringLiteral("Pkcs12BuildFailed"),
                Text::tr("Could not build the PKCS#12 file: %1").arg(OpenSsl::lastError()));
        sk_X509_push(extra.get(), cert.handle());
    }
    const SecretBytes pass = SecretBytes::fromView(password); // '\0'-terminated, as OpenSSL wants it
    const QByteArray name = friendlyName.toUtf8();
    // No MAC here (-1); it is added below with SHA-256, which PKCS12_create would not choose by itself.
    std::unique_ptr<PKCS12, Pkcs12Free> p12(
        PKCS12_create_ex(pass.data(), name.isEmpty() ? nullptr : name.constData(), key.handle(), certificate.handle(),
            extra.get(), NID_aes_256_cbc, NID_aes_256_cbc, pbkdf2Iterations, -1, 0, nullptr, nullptr));
    const bool ok
        = p12 && PKCS12_set_mac(p12.get(), pass.data(), int(pass.size()), nullptr, 0, macIterations, EVP_sha256()) == 1;
    if (!ok)
        return fail(ErrorKind::Internal, QStringLiteral("Pkcs12BuildFailed"),
            Text::tr("Could not build the PKCS#12 file: %1").arg(OpenSsl::lastError()));
    return OpenSsl::toDer(p12.get(), &i2d_PKCS12);
}

Result<Pkcs12::Contents> Pkcs12::parse(const QByteArray &data, QByteArrayView password)
{
    OpenSsl::clearErrors();
    const auto *in = reinterpret_cast<const unsigned char *>(data.constData());
    std::unique_ptr<PKCS12, Pkcs12Free> p12(d2i_PKCS12(nullptr, &in, long(data.size())));
    if (!p12)
        return fail(ErrorKind::InvalidInput, QStringLiteral("NotPkcs12"),
            Text::tr("This is not a PKCS#12 (.p12/.pfx) file: %1").arg(OpenSsl::lastError()));
    const SecretBytes pass = SecretBytes::fromView(password); // '\0'-terminated, as OpenSSL wants it
    if (PKCS12_mac_present(p12.get()) && PKCS12_verify_mac(p12.get(), pass.data(), int(pass.size())) != 1) {
        const unsigned long code = ERR_peek_last_error();
        OpenSsl::clearErrors();
        if (isUnsupportedAlgorithm(code))
            return legacyAlgorithm();
        return fail(ErrorKind::InvalidInput, QStringLiteral("Pkcs12WrongPassword"),
            Text::tr("The PKCS#12 file could not be opened: the password is wrong."));
    }
    EVP_PKEY *key = nullptr;
    X509 *cert = nullptr;
    STACK_OF(X509) *rest = nullptr;
    if (PKCS12_parse(p12.get(), pass.data(), &key, &cert, &rest) != 1) {
        const unsigned long code = ERR_peek_last_error();
        const QString detail = OpenSsl::lastError();
        if (isUnsupportedAlgorithm(code) || detail.contains(QStringLiteral("unsupported")))
            return legacyAlgorithm();
        return fail(ErrorKind::InvalidInput, QStringLiteral("Pkcs12Unreadable"),
            Text::tr("The PKCS#12 file could not be read: %1").arg(detail));
    }
    std::unique_ptr<STACK_OF(X509), StackFree> chain(rest);
    Contents contents;
    contents.key = KeyPair::adopt(key);
    contents.certificate = Certificate::adopt(cert);
    if (contents.key.isNull())
        return fail(
            ErrorKind::InvalidInput, QStringLiteral("Pkcs12NoKey"), Text::tr("The PKCS#12 file holds no private key."));
    if (contents.certificate.isNull())
        return fail(ErrorKind::InvalidInput, QStringLiteral("Pkcs12NoCertificate"),
            Text::tr("The PKCS#12 file holds no certificate for its private key."));
    while (chain && sk_X509_num(chain.get()) > 0)
        contents.chain.append(Certificate::adopt(sk_X509_shift(chain.get())));
    return contents;
}

} // namespace Onboarder
