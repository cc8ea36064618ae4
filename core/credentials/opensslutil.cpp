#include "opensslutil.h"

#include <openssl/err.h>
#include <openssl/x509.h>

namespace Onboarder::OpenSsl {

QByteArray readAll(BIO *bio)
{
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return size > 0 ? QByteArray(data, size) : QByteArray();
}

QString lastError()
{
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0)
        return QStringLiteral("unknown OpenSSL error");
    char text[256] = {};
    ERR_error_string_n(code, text, sizeof text);
    return QString::fromLatin1(text);
}

void clearErrors()
{
    ERR_clear_error();
}

QString commonName(const X509_NAME *name)
{
    const int index = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
    if (index < 0)
        return {};
    const ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
    unsigned char *utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, data);
    if (length < 0)
        return {};
    const QString text = QString::fromUtf8(reinterpret_cast<const char *>(utf8), length);
    OPENSSL_free(utf8);
    return text;
}

QString nameText(const X509_NAME *name)
{
    if (!name)
        return {};
    Bio bio(BIO_new(BIO_s_mem()));
    if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
        return {};
    return QString::fromUtf8(readAll(bio.get()));
}

Bio memoryBio(QByteArrayView data)
{
    return Bio(BIO_new_mem_buf(data.isNull() ? "" : data.data(), int(data.size()))); // OpenSSL refuses a null buffer
}

} // namespace Onboarder::OpenSsl
