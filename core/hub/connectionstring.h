#pragma once

#include "common/result.h"
#include "common/secretbytes.h"

#include <QString>

namespace Onboarder {

// An IoT Hub connection string: `Key=Value` pairs separated by ';', value from the first '=' of its
// segment (so base64 padding survives), keys matched exactly (case-sensitive), order free.
// parse() is strict: duplicate, unknown or empty keys, a key that is not base64, or a mix of
// credentials are each rejected with their own code and sentence.
// The shared access key is kept in a SecretBytes: a copy of a ConnectionString holds a copy of the key of its own,
// and each is wiped when it goes. toString() gives the whole text, key included, for the keychain and exports only.
class ConnectionString final
{
public:
    enum class Kind {
        Service, // HostName + SharedAccessKeyName + SharedAccessKey (a hub's shared access policy)
        Device, // HostName + DeviceId + exactly one of SharedAccessKey | x509=true | SharedAccessSignature
        Module, // as Device, plus ModuleId
    };

    enum class Credential { SharedAccessKey, X509, SharedAccessSignature };

    static Result<ConnectionString> parse(const QString &text);

    // Builders for strings the app hands out; they produce what parse() accepts.
    static ConnectionString service(const QString &hostName, const QString &policyName, const QString &key);
    static ConnectionString deviceWithKey(const QString &hostName, const QString &deviceId, const QString &key);
    static ConnectionString deviceWithX509(const QString &hostName, const QString &deviceId);
    // A hand-over that stops working at expiry (seconds since 1970): a device-scoped SAS token signed with the
    // device's key, and no key; with a module id, the module's, signed with the module's key. Fails only for a key
    // that is not base64.
    static Result<ConnectionString> deviceWithExpiringToken(const QString &hostName, const QString &deviceId,
        const SecretBytes &key, qint64 expiry, const QString &moduleId = {});

    ConnectionString() = default;
    ConnectionString(const ConnectionString &other);
    ConnectionString &operator=(const ConnectionString &other);
    ConnectionString(ConnectionString &&) noexcept = default;
    ConnectionString &operator=(ConnectionString &&) noexcept = default;
    ~ConnectionString() = default;

    // The same credential for the device's module moduleId (a key or x509=true; a token is signed for one resource,
    // so a device's does not serve its module: use deviceWithExpiringToken with the module id).
    ConnectionString forModule(const QString &moduleId) const;

    Kind kind() const { return m_kind; }
    Credential credential() const { return m_credential; }

    QString hostName() const { return m_hostName; }
    QString hubName() const; // the first DNS label of HostName
    QString deviceId() const { return m_deviceId; }
    QString moduleId() const { return m_moduleId; }
    QString sharedAccessKeyName() const { return m_sharedAccessKeyName; }
    const SecretBytes &sharedAccessKey() const { return m_sharedAccessKey; } // base64 text
    QString sharedAccessSignature() const { return m_sharedAccessSignature; }
    QString gatewayHostName() const { return m_gatewayHostName; }
    bool isX509() const { return m_credential == Credential::X509; }

    // Canonical text: HostName, DeviceId, ModuleId, SharedAccessKeyName, SharedAccessKey,
    // SharedAccessSignature, x509, GatewayHostName — only the keys that are set.
    QString toString() const;
    // The same with SharedAccessKey and the token's signature replaced by a mask; safe to show and log.
    QString toMaskedString() const;

    static QString kindName(Kind kind); // translated: "hub (shared access policy)", "device", "module"

    friend bool operator==(const ConnectionString &, const ConnectionString &) = default;

private:
    QString build(bool masked) const;

    Kind m_kind = Kind::Service;
    Credential m_credential = Credential::SharedAccessKey;
    QString m_hostName;
    QString m_deviceId;
    QString m_moduleId;
    QString m_sharedAccessKeyName;
    SecretBytes m_sharedAccessKey;
    QString m_sharedAccessSignature;
    QString m_gatewayHostName;
};

} // namespace Onboarder
