#pragma once

#include <QByteArray>
#include <QString>

namespace Onboarder {
class KeyPair;
}

namespace Onboarder::Sandbox {

// What %KEYGEN answers, built from real keys: a PKCS#10 CSR (DER, EC P-256, ecdsa-with-SHA256, KeyUsage
// in an extension request) and a COSE_Sign1 over [9, device UUID, sec_tag, SHA-256(CSR), nonce] signed
// with the modem's identity key, as the notes (docs/nrf91-at.md §5) decode them.
namespace SimKeygen {

// subject: "O=…,L=…,C=…,CN=…" as given to %KEYGEN; keyUsage: the optional bit string ("101010000"), bits in
// the X.509 KeyUsage order (digitalSignature first). Empty on failure, *error says why.
QByteArray csrDer(const KeyPair &key, const QString &subject, const QByteArray &keyUsage, QString *error);

// DER SubjectPublicKeyInfo of key (response_content 1).
QByteArray publicKeyDer(const KeyPair &key);

// COSE_Sign1 (CBOR tag 18) carrying the digest of body, signed with identityKey.
QByteArray coseSign1(
    const KeyPair &identityKey, const QString &deviceUuid, quint32 secTag, const QByteArray &body, QString *error);

// "<base64url body>.<base64url cose>", no padding.
QByteArray responseToken(const QByteArray &body, const QByteArray &cose);

} // namespace SimKeygen

} // namespace Onboarder::Sandbox
