#include "opensslutil.h"

#include <openssl/err.h>

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

} // namespace Onboarder::OpenSsl
