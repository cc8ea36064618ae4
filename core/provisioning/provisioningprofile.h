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
//     "twinTags": { "site": "bench-1" },
//     "registration": "hub" | "dps",             // dps: enrolled in a Device Provisioning Service, which makes the
//     "dps": "<DPS name>",                       //   hub device when the device registers (the nRF SDK's flow)
//     "enrollment": "individual" | "group", "enrollmentGroup": "<group id>",
//     "testRegistration": true }                 // dps: register from the bench once flashed, check the hub device
struct ProvisioningProfile
{
    Q_DECLARE_TR_FUNCTIONS(ProvisioningProfile)

public:
    enum class Auth { SelfSigned, CaSigned };
    enum class HubAuth { Thumbprint, CertificateAuthority };
    enum class KeyBirth { Pc, Modem };
    enum class Registration { Hub, Dps };
    enum class Enrollment { Individual, Group };

    QString hub;
    QString deviceIdTemplate = QStringLiteral("nrf-{imei}");
    QString prefix; // {prefix}
    Auth auth = Auth::SelfSigned;
    QString caName; // Auth::CaSigned
    HubAuth hubAuth = HubAuth::Thumbprint; // Auth::SelfSigned is always Thumbprint
    KeyBirth keyBirth = KeyBirth::Pc;
    bool keepKeyOnPc = true; // KeyBirth::Pc: keep the private key in the keychain after the flash
    int validityDays = 365;
    quint32 secTag = 10; // the nRF Connect SDK Azure sample's CONFIG_MQTT_HELPER_SEC_TAG
    std::optional<quint32> secondarySecTag = 11;
    QJsonObject twinTags;
    // Registration::Dps: the job enrolls the device (or checks that the group's CA signs its certificate) instead of
    // registering it in the hub; "hub" is then the hub DPS assigns it to, where the test registration's device is
    // checked and under whose name the credentials are kept.
    Registration registration = Registration::Hub;
    QString dps; // the DPS instance's local name (dps add)
    Enrollment enrollment = Enrollment::Individual;
    QString enrollmentGroup; // Enrollment::Group: the group's id in DPS
    bool testRegistration = false; // Registration::Dps (default there: keyBirth pc); needs the key on this computer

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

    static QString authName(Auth auth); // "x509-self-signed", "x509-ca"
    static QString keyBirthName(KeyBirth birth); // "pc", "modem"
    static QString hubAuthName(HubAuth auth); // "thumbprint", "ca"
    static QString registrationName(Registration registration); // "hub", "dps"
    static QString enrollmentName(Enrollment enrollment); // "individual", "group"

    friend bool operator==(const ProvisioningProfile &, const ProvisioningProfile &) = default;
};

} // namespace Onboarder
