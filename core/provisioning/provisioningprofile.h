#pragma once

#include "common/result.h"

#include <QCoreApplication>
#include <QJsonObject>
#include <QString>

#include <optional>

namespace Onboarder {

struct ModemIdentity;

// How a provisioning station turns a modem into a hub device (docs/cli.md, "Provisioning
// profile"). Saved as JSON; holds names, never a secret: the hub's connection string and a CA's key
// stay in the keychain under the names the profile gives.
//
//   { "hub": "NAME", "deviceIdTemplate": "nrf-{imei}", "prefix": "",
//     "auth": "x509-self-signed" | "x509-ca", "ca": "<CA name in the keychain>",
//     "hubAuth": "thumbprint" | "ca",            // x509-ca: register by thumbprint or as CA-authenticated
//     "keyBirth": "pc" | "modem", "keepKeyOnPc": true,
//     "keyType": "ec-p256", "validityDays": 365,
//     "secTag": 10, "secondarySecTag": 11,       // null: both roots in secTag
//     "twinTags": { "site": "bench-1" } }
struct ProvisioningProfile
{
    Q_DECLARE_TR_FUNCTIONS(ProvisioningProfile)

public:
    enum class Auth { SelfSigned, CaSigned };
    enum class HubAuth { Thumbprint, CertificateAuthority };
    enum class KeyBirth { Pc, Modem };

    QString hub;
    QString deviceIdTemplate = QStringLiteral("nrf-{imei}");
    QString prefix; // {prefix}
    Auth auth = Auth::SelfSigned;
    QString caName;                          // Auth::CaSigned
    HubAuth hubAuth = HubAuth::Thumbprint;   // Auth::SelfSigned is always Thumbprint
    KeyBirth keyBirth = KeyBirth::Pc;
    bool keepKeyOnPc = true; // KeyBirth::Pc: keep the private key in the keychain after the flash
    int validityDays = 365;
    quint32 secTag = 10;                     // the nRF Connect SDK Azure sample's CONFIG_MQTT_HELPER_SEC_TAG
    std::optional<quint32> secondarySecTag = 11;
    QJsonObject twinTags;

    // Reads and checks every key, with the key's name in the message; unknown keys are refused (a typo
    // must not silently fall back to a default).
    static Result<ProvisioningProfile> fromJson(const QJsonObject &json);
    static Result<ProvisioningProfile> load(const QString &filePath);
    QJsonObject toJson() const;
    Result<void> save(const QString &filePath) const;

    Result<void> validate() const;

    // The device id for a modem: {imei}, {imei6} (its last six digits), {uuid}, {serial} (the USB serial
    // number of the board), {prefix}; checked against IoT Hub's rules for device ids.
    Result<QString> deviceId(const ModemIdentity &identity, const QString &usbSerial = {}) const;

    // The hub authentication the device gets: "selfSigned" (thumbprint) or "certificateAuthority".
    QString hubAuthType() const;

    static QString authName(Auth auth);         // "x509-self-signed", "x509-ca"
    static QString keyBirthName(KeyBirth birth); // "pc", "modem"
    static QString hubAuthName(HubAuth auth);    // "thumbprint", "ca"

    friend bool operator==(const ProvisioningProfile &, const ProvisioningProfile &) = default;
};

} // namespace Onboarder
