#pragma once

#include "common/result.h"
#include "common/secretbytes.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>

namespace Onboarder {

// A Shared Access Signature token:
//   SharedAccessSignature sr=<url-encoded resource>&sig=<url-encoded base64 HMAC-SHA256>&se=<unix
//   seconds>[&skn=<policy>]
// The signature covers "<sr as transmitted>\n<se>" with the base64-decoded key; skn is not signed.
class SasToken final
{
public:
    // Builds a token for a resource URI as a person writes it (e.g. "myhub.azure-devices.net/devices/d1").
    // The key is the base64 text of a shared access key; a key that is not strict base64 is refused.
    // The key's bytes are decoded into a SecretBytes and wiped after signing.
    static Result<SasToken> create(
        const QString &resourceUri, const SecretBytes &base64Key, qint64 expiry, const QString &keyName = {});
    static Result<SasToken> create(
        const QString &resourceUri, const QString &base64Key, qint64 expiry, const QString &keyName = {});

    // The same, signed with the key's text itself as Event Hubs and Service Bus sign (the key is not decoded).
    static Result<SasToken> createWithKeyText(
        const QString &resourceUri, const SecretBytes &key, qint64 expiry, const QString &keyName = {});
    static Result<SasToken> createWithKeyText(
        const QString &resourceUri, const QString &key, qint64 expiry, const QString &keyName = {});

    // Parses a token; order of fields is free, sr/sig/se are required, only sr/sig/se/skn are allowed.
    static Result<SasToken> parse(const QString &token);

    // Percent-encodes a resource URI the way the Azure SDKs do (everything but A-Z a-z 0-9 - . _ ~, upper-case hex).
    static QString encodeResource(const QString &resourceUri);

    // base64(HMAC-SHA256(base64decode(key), stringToSign)); an empty result means the key is not base64.
    static QByteArray signature(const QByteArray &stringToSign, const QByteArray &keyBytes);
    // base64(HMAC-SHA256(keyBytes, message)), with the key read in place (OpenSSL; nothing keeps a copy of it). Also
    // a DPS group's device key.
    static QByteArray hmacSha256Base64(QByteArrayView message, QByteArrayView keyBytes);

    QString encodedResource() const { return m_encodedResource; } // sr exactly as in the token
    QString resource() const; // sr, percent-decoded
    QString signature() const { return m_signature; } // sig, percent-decoded (base64)
    qint64 expiry() const { return m_expiry; }
    QDateTime expiryTime() const;
    QString keyName() const { return m_keyName; }

    // True when expiry lies before now minus the allowed clock skew (IoT Hub allows five minutes).
    bool isExpired(const QDateTime &now = QDateTime::currentDateTimeUtc(), int skewSeconds = 300) const;

    // Recomputes the signature over the literal transmitted sr with the given base64 key.
    bool verify(const QString &base64Key) const;
    // The same with the key's text itself as the HMAC key, as Event Hubs and Service Bus sign (their SDKs do not
    // base64-decode the key); used for the Event Hub-compatible endpoint.
    bool verifyWithKeyText(const QString &key) const;

    QString toString() const;

private:
    QString m_encodedResource;
    QString m_signature;
    qint64 m_expiry = 0;
    QString m_keyName;
};

} // namespace Onboarder
