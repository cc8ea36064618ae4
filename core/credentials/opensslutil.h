#pragma once

// Small helpers shared by the OpenSSL-backed classes of core/credentials. Internal to core.

#include <QByteArray>
#include <QString>

#include <memory>

#include <openssl/bio.h>
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

// The first common name (CN) of a distinguished name, as UTF-8 text; empty when it has none.
QString commonName(X509_NAME *name);

} // namespace Onboarder::OpenSsl
