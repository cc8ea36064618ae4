#include "modemcsr.h"

#include "credentials/opensslutil.h"

#include <QCborArray>
#include <QCborValue>
#include <QCryptographicHash>

#include <openssl/evp.h>
#include <openssl/pem.h>

namespace Onboarder {

namespace {

std::optional<QByteArray> base64Url(const QByteArray &text)
{
    const auto decoded = QByteArray::fromBase64Encoding(
        text, QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || decoded.decoded.isEmpty())
        return std::nullopt;
    return decoded.decoded;
}

Error malformed(const QString &detail)
{
    return {ErrorKind::Device, QStringLiteral("KeygenAnswerMalformed"),
        ModemCsr::tr("The modem's answer to %KEYGEN is not a certificate signing request: %1.").arg(detail)};
}

bool isEcP256(EVP_PKEY *key)
{
    char group[64] = {};
    size_t length = 0;
    return key && EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &length)
        && (qstrcmp(group, "prime256v1") == 0 || qstrcmp(group, "P-256") == 0);
}

} // namespace

Result<ModemCsr> ModemCsr::fromKeygenAnswer(const QByteArray &answer)
{
    QByteArray token = answer.trimmed();
    if (token.startsWith("%KEYGEN:"))
        token = token.mid(8).trimmed();
    if (token.size() < 2 || !token.startsWith('"') || !token.endsWith('"'))
        return std::unexpected(malformed(tr("the token is not quoted")));
    token = token.mid(1, token.size() - 2);
    const QList<QByteArray> parts = token.split('.');
    if (parts.size() != 2)
        return std::unexpected(malformed(tr("it does not have two parts separated by a dot")));
    const auto der = base64Url(parts.at(0));
    const auto cose = base64Url(parts.at(1));
    if (!der || !cose)
        return std::unexpected(malformed(tr("a part is not base64url")));
    auto request = CertificateRequest::fromDer(*der);
    if (!request)
        return std::unexpected(malformed(tr("the first part is not a PKCS#10 request (DER)")));
    ModemCsr csr;
    csr.m_request = *request;
    csr.m_der = *der;
    csr.m_cose = *cose;
    return csr;
}

QByteArray ModemCsr::publicKeyPem() const
{
    return OpenSsl::toPem<EVP_PKEY>(m_request.publicKey(), &PEM_write_bio_PUBKEY);
}

Result<void> ModemCsr::check(const QString &expectedCommonName) const
{
    if (!m_request.isSignatureValid())
        return fail(ErrorKind::Device, QStringLiteral("CsrSignatureInvalid"),
            tr("The modem's certificate signing request does not verify with its own public key; do not sign it."));
    if (!isEcP256(m_request.publicKey()))
        return fail(ErrorKind::Device, QStringLiteral("CsrKeyUnexpected"),
            tr("The modem's certificate signing request is not for an EC P-256 key."));
    if (const QString cn = subjectCommonName(); cn != expectedCommonName)
        return fail(ErrorKind::Device, QStringLiteral("CsrSubjectUnexpected"),
            tr("The modem's certificate signing request is for \"%1\", not for \"%2\".").arg(cn, expectedCommonName));

    // COSE_Sign1 (tag 18) whose payload is [9, device UUID, sec_tag, SHA-256 of the CSR, nonce].
    const QCborValue sign1 = QCborValue::fromCbor(m_cose);
    const QCborArray parts = sign1.isTag() ? sign1.taggedValue().toArray() : sign1.toArray();
    QCborValue payload = QCborValue::fromCbor(parts.at(2).toByteArray());
    if (payload.isTag())
        payload = payload.taggedValue();
    const QByteArray digest = payload.toArray().at(3).toByteArray();
    if (parts.size() != 4 || digest != QCryptographicHash::hash(m_der, QCryptographicHash::Sha256))
        return fail(ErrorKind::Device, QStringLiteral("CsrDigestMismatch"),
            tr("The modem's signed statement (COSE) does not carry this request's SHA-256."));
    return {};
}

} // namespace Onboarder
