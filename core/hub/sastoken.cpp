#include "sastoken.h"

#include <QCoreApplication>

#include <algorithm>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <optional>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(Onboarder::SasToken)
};

constexpr QLatin1StringView prefix("SharedAccessSignature ");
constexpr qsizetype maxExpiryDigits = 18; // keeps se inside qint64

std::unexpected<Error> invalid(const QString &code, const QString &message)
{
    return fail(ErrorKind::InvalidInput, code, message);
}

// The key bytes of a shared access key given as canonical base64 (padding present, no stray bits,
// nothing but the base64 alphabet); nullopt for anything else, including an empty key. (Text that is not ASCII
// fails the decoding.) Decoded in place in a copy of the text, which is wiped with the bytes.
std::optional<SecretBytes> decodeStrictBase64(QByteArrayView text)
{
    if (text.isEmpty())
        return std::nullopt;
    auto decoded = QByteArray::fromBase64Encoding(text.toByteArray(), QByteArray::AbortOnBase64DecodingErrors);
    const bool ok = bool(decoded);
    SecretBytes key = SecretBytes::fromQByteArray(std::move(decoded.decoded));
    if (!ok || key.isEmpty())
        return std::nullopt;
    // Canonical: encoding the bytes again gives the very text (fromRawData: no copy of the key).
    const SecretBytes again = SecretBytes::fromQByteArray(QByteArray::fromRawData(key.data(), key.size()).toBase64());
    if (again.view() != text)
        return std::nullopt;
    return key;
}

QByteArray hmacBase64(QByteArrayView message, QByteArrayView keyBytes)
{
    return SasToken::hmacSha256Base64(message, keyBytes);
}

QByteArray stringToSign(const QString &encodedResource, qint64 expiry)
{
    return encodedResource.toUtf8() + '\n' + QByteArray::number(expiry);
}

// Unreserved characters (A-Z a-z 0-9 - . _ ~) stay; every other UTF-8 byte becomes %XX, upper-case hex.
QString percentEncode(const QString &text)
{
    return QString::fromLatin1(text.toUtf8().toPercentEncoding());
}

QString percentDecode(const QString &text)
{
    return QString::fromUtf8(QByteArray::fromPercentEncoding(text.toUtf8()));
}

bool isHexDigit(QChar c)
{
    return (c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f') || (c >= u'A' && c <= u'F');
}

// Every '%' starts a complete escape.
bool isWellFormedPercentEncoding(QStringView text)
{
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text.at(i) != u'%')
            continue;
        if (i + 2 >= text.size() || !isHexDigit(text.at(i + 1)) || !isHexDigit(text.at(i + 2)))
            return false;
        i += 2;
    }
    return true;
}

// se as transmitted must be exactly decimal(expiry), because the signature covers the literal text.
std::optional<qint64> parseExpiry(QStringView text)
{
    if (text.isEmpty() || text.size() > maxExpiryDigits)
        return std::nullopt;
    for (const QChar c : text) {
        if (c < u'0' || c > u'9')
            return std::nullopt;
    }
    if (text.size() > 1 && text.front() == u'0')
        return std::nullopt;
    bool ok = false;
    const qint64 value = text.toLongLong(&ok);
    if (!ok)
        return std::nullopt;
    return value;
}

// Whether an unknown field name may appear in a message: only what looks like a name, never a fragment
// of a signature or key.
bool isSafeToShow(QStringView name)
{
    const auto isLetter = [](QChar c) { return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z'); };
    return !name.isEmpty() && name.size() <= 16 && std::all_of(name.begin(), name.end(), isLetter);
}

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    if (a.size() != b.size())
        return false;
    unsigned char difference = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        difference |= static_cast<unsigned char>(a.at(i) ^ b.at(i));
    return difference == 0;
}

} // namespace

QByteArray SasToken::hmacSha256Base64(QByteArrayView message, QByteArrayView keyBytes)
{
    // OpenSSL reads the key in place (QMessageAuthenticationCode would keep copies of it that nobody wipes).
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    const auto *data = reinterpret_cast<const unsigned char *>(message.isNull() ? "" : message.data());
    if (!HMAC(EVP_sha256(), keyBytes.isNull() ? "" : keyBytes.data(), int(keyBytes.size()), data,
            size_t(message.size()), digest, &length))
        return {};
    return QByteArray(reinterpret_cast<const char *>(digest), qsizetype(length)).toBase64();
}

Result<SasToken> SasToken::create(
    const QString &resourceUri, const QString &base64Key, qint64 expiry, const QString &keyName)
{
    return create(resourceUri, SecretBytes::fromString(QString(base64Key)), expiry, keyName);
}

Result<SasToken> SasToken::createWithKeyText(
    const QString &resourceUri, const QString &key, qint64 expiry, const QString &keyName)
{
    return createWithKeyText(resourceUri, SecretBytes::fromString(QString(key)), expiry, keyName);
}

Result<SasToken> SasToken::create(
    const QString &resourceUri, const SecretBytes &base64Key, qint64 expiry, const QString &keyName)
{
    if (resourceUri.isEmpty())
        return invalid(QStringLiteral("EmptyResource"), Text::tr("The resource URI of the token is empty."));
    if (expiry < 0)
        return invalid(QStringLiteral("InvalidExpiry"),
            Text::tr("The expiry of the token must be seconds since 1970, not a negative number."));
    const auto key = decodeStrictBase64(base64Key.view());
    if (!key)
        return invalid(QStringLiteral("KeyNotBase64"),
            Text::tr("The shared access key is not valid base64. A key is base64 text such as the Azure "
                     "portal shows, usually 44 characters ending in \"=\"."));

    SasToken token;
    token.m_encodedResource = encodeResource(resourceUri);
    token.m_expiry = expiry;
    token.m_keyName = keyName;
    token.m_signature = QString::fromLatin1(hmacBase64(stringToSign(token.m_encodedResource, expiry), key->view()));
    return token;
}

Result<SasToken> SasToken::createWithKeyText(
    const QString &resourceUri, const SecretBytes &key, qint64 expiry, const QString &keyName)
{
    if (resourceUri.isEmpty())
        return invalid(QStringLiteral("EmptyResource"), Text::tr("The resource URI of the token is empty."));
    if (expiry < 0 || key.isEmpty())
        return invalid(QStringLiteral("InvalidExpiry"),
            Text::tr("The expiry of the token must be seconds since 1970, not a negative number."));
    SasToken token;
    token.m_encodedResource = encodeResource(resourceUri);
    token.m_expiry = expiry;
    token.m_keyName = keyName;
    token.m_signature = QString::fromLatin1(hmacBase64(stringToSign(token.m_encodedResource, expiry), key.view()));
    return token;
}

Result<SasToken> SasToken::parse(const QString &token)
{
    if (!token.startsWith(prefix) || token.size() == prefix.size())
        return invalid(QStringLiteral("NotASasToken"),
            Text::tr("This is not a Shared Access Signature token. A token starts with "
                     "\"SharedAccessSignature \" followed by the fields sr, sig and se, separated by \"&\"."));
    const QStringView fields = QStringView(token).mid(prefix.size());
    for (const QChar c : fields) {
        if (c.isSpace())
            return invalid(QStringLiteral("UnexpectedWhitespace"),
                Text::tr("The token contains white space after \"SharedAccessSignature \"; a token has "
                         "exactly one space, after that word."));
    }

    SasToken result;
    std::optional<QStringView> sr, sig, se, skn;
    qsizetype position = 0;
    for (const QStringView field : fields.split(u'&')) {
        ++position;
        if (field.isEmpty())
            return invalid(QStringLiteral("MalformedField"),
                Text::tr("Field %1 of the token is empty; fields are separated by a single \"&\".")
                    .arg(QString::number(position)));
        const qsizetype equals = field.indexOf(u'=');
        if (equals <= 0)
            return invalid(QStringLiteral("MalformedField"),
                Text::tr("Field %1 of the token is not of the form name=value.").arg(QString::number(position)));
        const QStringView name = field.left(equals);
        const QStringView value = field.mid(equals + 1);
        std::optional<QStringView> *slot = name == u"sr" ? &sr
            : name == u"sig"                             ? &sig
            : name == u"se"                              ? &se
            : name == u"skn"                             ? &skn
                                                         : nullptr;
        if (!slot) {
            if (!isSafeToShow(name))
                return invalid(QStringLiteral("UnknownField"),
                    Text::tr("Field %1 of the token is unknown; only sr, sig, se and skn are allowed (in lower "
                             "case).")
                        .arg(QString::number(position)));
            return invalid(QStringLiteral("UnknownField"),
                Text::tr("The token has an unknown field \"%1\"; only sr, sig, se and skn are allowed "
                         "(in lower case).")
                    .arg(name.toString()));
        }
        if (slot->has_value())
            return invalid(QStringLiteral("DuplicateField"),
                Text::tr("The token has the field \"%1\" more than once.").arg(name.toString()));
        if (value.isEmpty())
            return invalid(
                QStringLiteral("EmptyField"), Text::tr("The field \"%1\" of the token is empty.").arg(name.toString()));
        if (slot != &se && !isWellFormedPercentEncoding(value))
            return invalid(QStringLiteral("InvalidEncoding"),
                Text::tr("The field \"%1\" of the token has a \"%\" that is not followed by two hex digits.")
                    .arg(name.toString()));
        *slot = value;
    }

    if (!sr)
        return invalid(QStringLiteral("MissingField"),
            Text::tr("The token has no field \"%1\"; sr, sig and se are required.").arg(QStringLiteral("sr")));
    if (!sig)
        return invalid(QStringLiteral("MissingField"),
            Text::tr("The token has no field \"%1\"; sr, sig and se are required.").arg(QStringLiteral("sig")));
    if (!se)
        return invalid(QStringLiteral("MissingField"),
            Text::tr("The token has no field \"%1\"; sr, sig and se are required.").arg(QStringLiteral("se")));

    const auto expiry = parseExpiry(*se);
    if (!expiry)
        return invalid(QStringLiteral("InvalidExpiry"),
            Text::tr("The expiry (se) of the token must be whole seconds since 1970, written as decimal "
                     "digits without sign or leading zeros."));

    result.m_encodedResource = sr->toString();
    result.m_signature = percentDecode(sig->toString());
    result.m_expiry = *expiry;
    if (skn)
        result.m_keyName = percentDecode(skn->toString());
    return result;
}

QString SasToken::encodeResource(const QString &resourceUri)
{
    return percentEncode(resourceUri);
}

QByteArray SasToken::signature(const QByteArray &stringToSign, const QByteArray &keyBytes)
{
    const auto key = decodeStrictBase64(QByteArrayView(keyBytes));
    if (!key)
        return {};
    return hmacBase64(stringToSign, key->view());
}

QString SasToken::resource() const
{
    return percentDecode(m_encodedResource);
}

QDateTime SasToken::expiryTime() const
{
    return QDateTime::fromSecsSinceEpoch(m_expiry, Qt::UTC);
}

bool SasToken::isExpired(const QDateTime &now, int skewSeconds) const
{
    return m_expiry < now.toSecsSinceEpoch() - skewSeconds;
}

bool SasToken::verify(const QString &base64Key) const
{
    const auto key = decodeStrictBase64(SecretBytes::fromString(QString(base64Key)).view());
    if (!key)
        return false;
    const QByteArray expected = hmacBase64(stringToSign(m_encodedResource, m_expiry), key->view());
    return constantTimeEquals(expected, m_signature.toUtf8());
}

bool SasToken::verifyWithKeyText(const QString &key) const
{
    const SecretBytes bytes = SecretBytes::fromString(QString(key));
    const QByteArray expected = hmacBase64(stringToSign(m_encodedResource, m_expiry), bytes.view());
    return constantTimeEquals(expected, m_signature.toUtf8());
}

QString SasToken::toString() const
{
    QString text = prefix + QStringLiteral("sr=") + m_encodedResource + QStringLiteral("&sig=")
        + percentEncode(m_signature) + QStringLiteral("&se=") + QString::number(m_expiry);
    if (!m_keyName.isEmpty())
        text += QStringLiteral("&skn=") + percentEncode(m_keyName);
    return text;
}

} // namespace Onboarder
