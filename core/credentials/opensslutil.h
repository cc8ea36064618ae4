#pragma once

// Small helpers shared by the OpenSSL-backed classes of core/credentials. Internal to core.

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <memory>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/types.h>

namespace Onboarder::OpenSsl {

struct BioFree
{
    void operator()(BIO *bio) const { BIO_free_all(bio); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

// Everything in a memory BIO. The caller wipes it when it held a secret.
QByteArray readAll(BIO *bio);

// The oldest error on OpenSSL's queue as text (and the queue cleared), or a generic phrase.
QString lastError();
void clearErrors();

// The first commonName of a distinguished name, and the whole name as RFC 2253 text.
QString commonName(const X509_NAME *name);
QString nameText(const X509_NAME *name);

// An OpenSSL object's DER encoding through its i2d_ function (i2d_X509, i2d_X509_REQ, …).
template<typename T> QByteArray toDer(const T *object, int (*encode)(const T *, unsigned char **))
{
    unsigned char *der = nullptr;
    const int length = object ? encode(object, &der) : 0;
    if (length <= 0)
        return {};
    QByteArray out(reinterpret_cast<const char *>(der), length);
    OPENSSL_free(der);
    return out;
}

// An OpenSSL object's PEM through its PEM_write_bio_ function (PEM_write_bio_X509, …).
template<typename T> QByteArray toPem(const T *object, int (*write)(BIO *, const T *))
{
    if (!object)
        return {};
    Bio bio(BIO_new(BIO_s_mem()));
    if (write(bio.get(), object) != 1)
        return {};
    return readAll(bio.get());
}

// A memory BIO over bytes that outlive it.
Bio memoryBio(QByteArrayView data);

} // namespace Onboarder::OpenSsl
