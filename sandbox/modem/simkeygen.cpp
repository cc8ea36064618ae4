#include "simkeygen.h"

#include "credentials/keypair.h"
#include "credentials/opensslutil.h"

#include <QCborArray>
#include <QCborMap>
#include <QCborValue>
#include <QCryptographicHash>
#include <QRandomGenerator>
#include <QStringList>
#include <QUuid>

#include <memory>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace Onboarder::Sandbox::SimKeygen {

namespace {

QByteArray keyUsageText(const QByteArray &bits)
{
    static const char *const names[] = {"digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
        "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"};
    if (bits.isEmpty()) // what a default CSR of a real modem carries
        return QByteArrayLiteral("critical,digitalSignature,nonRepudiation,keyEncipherment,keyAgreement");
    QByteArrayList usages;
    for (qsizetype i = 0; i < bits.size() && i < qsizetype(std::size(names)); ++i) {
        if (bits.at(i) == '1')
            usages.append(names[i]);
    }
    return usages.isEmpty() ? QByteArray() : "critical," + usages.join(',');
}

} // namespace

QByteArray csrDer(const KeyPair &key, const QString &subject, const QByteArray &keyUsage, QString *error)
{
    std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> request(X509_REQ_new(), &X509_REQ_free);
    X509_NAME *name = X509_REQ_get_subject_name(request.get());
    for (const QString &part : subject.split(u',', Qt::SkipEmptyParts)) {
        const qsizetype equals = part.indexOf(u'=');
        const QByteArray field = part.left(equals).trimmed().toLatin1();
        const QByteArray value = part.mid(equals + 1).trimmed().toUtf8();
        if (equals <= 0 || value.isEmpty()
            || !X509_NAME_add_entry_by_txt(name, field.constData(), MBSTRING_UTF8,
                reinterpret_cast<const unsigned char *>(value.constData()), int(value.size()), -1, 0)) {
            *error = QStringLiteral("bad subject attribute \"%1\"").arg(part);
            OpenSsl::clearErrors();
            return {};
        }
    }
    const QByteArray usage = keyUsageText(keyUsage);
    if (!usage.isEmpty()) {
        STACK_OF(X509_EXTENSION) *extensions = sk_X509_EXTENSION_new_null();
        X509_EXTENSION *extension = X509V3_EXT_conf_nid(nullptr, nullptr, NID_key_usage, usage.constData());
        if (extension)
            sk_X509_EXTENSION_push(extensions, extension);
        const bool added = extension && X509_REQ_add_extensions(request.get(), extensions) == 1;
        sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
        if (!added) {
            *error = OpenSsl::lastError();
            return {};
        }
    }
    if (X509_REQ_set_version(request.get(), 0) != 1 || X509_REQ_set_pubkey(request.get(), key.handle()) != 1
        || X509_REQ_sign(request.get(), key.handle(), EVP_sha256()) <= 0) {
        *error = OpenSsl::lastError();
        return {};
    }
    const QByteArray der = OpenSsl::toDer<X509_REQ>(request.get(), &i2d_X509_REQ);
    if (der.isEmpty())
        *error = OpenSsl::lastError();
    return der;
}

QByteArray publicKeyDer(const KeyPair &key)
{
    return OpenSsl::toDer<EVP_PKEY>(key.handle(), &i2d_PUBKEY);
}

QByteArray coseSign1(
    const KeyPair &identityKey, const QString &deviceUuid, quint32 secTag, const QByteArray &body, QString *error)
{
    QByteArray nonce(16, Qt::Uninitialized);
    for (char &c : nonce)
        c = char(QRandomGenerator::global()->bounded(256));
    // sec_tags ≥ 2^31 are encoded as negative numbers, as the modem does.
    const QByteArray tag = QCborValue(qint64(qint32(secTag))).toCbor();
    const QCborArray message{9, QUuid::fromString(deviceUuid).toRfc4122(), tag,
        QCryptographicHash::hash(body, QCryptographicHash::Sha256), nonce};
    const QByteArray payload = QCborValue(QCborKnownTags::Signature, message).toCbor();
    const QByteArray protectedHeader = QCborMap{{1, -7}}.toCborValue().toCbor(); // alg: ES256
    const QByteArray toBeSigned
        = QCborArray{QStringLiteral("Signature1"), protectedHeader, QByteArray(), payload}.toCborValue().toCbor();

    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    size_t length = 0;
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, identityKey.handle()) != 1
        || EVP_DigestSign(ctx.get(), nullptr, &length, reinterpret_cast<const unsigned char *>(toBeSigned.constData()),
               size_t(toBeSigned.size()))
            != 1) {
        *error = OpenSsl::lastError();
        return {};
    }
    QByteArray der(qsizetype(length), Qt::Uninitialized);
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(der.data()), &length,
            reinterpret_cast<const unsigned char *>(toBeSigned.constData()), size_t(toBeSigned.size()))
        != 1) {
        *error = OpenSsl::lastError();
        return {};
    }
    // COSE wants the raw r‖s (32 + 32 bytes), OpenSSL gives DER.
    const auto *cursor = reinterpret_cast<const unsigned char *>(der.constData());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> signature(
        d2i_ECDSA_SIG(nullptr, &cursor, long(length)), &ECDSA_SIG_free);
    if (!signature) {
        *error = OpenSsl::lastError();
        return {};
    }
    QByteArray raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(signature.get()), reinterpret_cast<unsigned char *>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(signature.get()), reinterpret_cast<unsigned char *>(raw.data()) + 32, 32);

    const QCborArray sign1{protectedHeader, QCborMap{{4, QByteArray("\x21", 1)}}, payload, raw};
    return QCborValue(QCborTag(18), sign1).toCbor();
}

QByteArray responseToken(const QByteArray &body, const QByteArray &cose)
{
    const auto options = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
    return body.toBase64(options) + '.' + cose.toBase64(options);
}

} // namespace Onboarder::Sandbox::SimKeygen
