#pragma once

#include "common/result.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <functional>
#include <optional>

namespace Onboarder {

// One credential the app made or imported: whose, what, where it is kept, since when. Nothing here is
// secret: the key itself is in the keychain under keychainEntry (or on the device).
struct CredentialRecord
{
    enum class Kind {
        X509SelfSigned, // device certificate signed by its own key (hub auth "selfSigned")
        X509CaSigned, // device certificate signed by an imported CA (hub auth "certificateAuthority")
        SymmetricKey, // a device's SAS keys (hub auth "sas")
        CertificateAuthority, // an imported CA that signs device certificates (hub empty, deviceId = CA name)
    };
    enum class KeyLocation {
        Keychain, // the private or symmetric key is in the OS keychain under keychainEntry
        Device, // the key was born on the device (CSR) and never left it
    };

    QString hub; // the hub profile's name; empty for a CA
    QString deviceId; // the device id; the CA's name for a CA
    Kind kind = Kind::X509SelfSigned;
    KeyLocation keyLocation = KeyLocation::Keychain;
    QString keyType; // "EC P-256", "RSA 2048"…; empty for symmetric keys
    QString keychainEntry; // empty when the key is on the device
    QString certificateFile; // absolute path of the certificate (PEM); empty for symmetric keys
    QString thumbprintSha1;
    QString thumbprintSha256;
    QString issuer; // the issuing CA's name (CaSigned) or the certificate's issuer CN
    QDateTime notAfter; // the certificate's expiry (UTC)
    QDateTime createdAt; // when the app made or imported it (UTC)
    QString madeBy; // what made it when not a person: "relay" (auto-registration); empty: made or imported by hand

    static QString kindName(Kind kind); // stable: "x509-self-signed", "x509-ca-signed", "symmetric-key", "ca"
    static std::optional<Kind> kindFromName(const QString &name);

    QJsonObject toJson() const;
    static std::optional<CredentialRecord> fromJson(const QJsonObject &json);

    friend bool operator==(const CredentialRecord &, const CredentialRecord &) = default;
};

// Which device has which credential: a JSON file (credentials/inventory.json in the app data dir),
// written atomically. One record per (hub, deviceId, kind class): a device has at most one X.509
// credential and one symmetric-key record; a CA name is unique.
class CredentialInventory final
{
public:
    explicit CredentialInventory(const QString &filePath);

    QString filePath() const { return m_filePath; }

    // Reads the file; a missing file is an empty inventory. InventoryUnreadable when it is damaged.
    Result<void> load();
    QList<CredentialRecord> records() const { return m_records; }

    std::optional<CredentialRecord> x509(const QString &hub, const QString &deviceId) const;
    std::optional<CredentialRecord> symmetricKey(const QString &hub, const QString &deviceId) const;
    std::optional<CredentialRecord> certificateAuthority(const QString &name) const;

    // Adds the record or replaces the one in its slot, and saves (after reloading: other processes may
    // have written meanwhile).
    Result<void> put(const CredentialRecord &record);
    // Removes the record in that slot, and saves; false when there was none.
    Result<bool> remove(const CredentialRecord &slot);

private:
    static bool sameSlot(const CredentialRecord &a, const CredentialRecord &b);
    // Reloads, applies change (false: nothing changed) and saves, under a lock file.
    Result<bool> edit(const std::function<bool(QList<CredentialRecord> &)> &change);
    Result<void> save() const;

    QString m_filePath;
    QList<CredentialRecord> m_records;
};

} // namespace Onboarder
