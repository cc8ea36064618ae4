#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace Onboarder {

// Bodies and readings of the DPS service API's enrollments (individual enrollments and enrollment groups,
// api-version 2021-10-01), in the service's own JSON shapes; shared by the command line, the Provisioning page and
// the provisioning station so that all of them enroll a device the same way.
namespace DpsEnrollment {

struct Options
{
    QJsonObject initialTwin; // {"tags": {…}, "properties": {"desired": {…}}}; empty: none
    bool enabled = true;
};

// An individual enrollment attested by the device's certificate (DPS takes the registration id from its CN);
// the hub device gets the same id.
QJsonObject individualX509(
    const QString &registrationId, const QByteArray &certificatePem, const Options &options = {});
// An individual enrollment with symmetric keys that DPS makes.
QJsonObject individualSymmetricKey(const QString &registrationId, const Options &options = {});
// An enrollment group that admits every device whose certificate chains to caCertificatePem.
QJsonObject groupX509(const QString &groupId, const QByteArray &caCertificatePem, const Options &options = {});
// An enrollment group with symmetric keys that DPS makes; a device's key is derived from the group's.
QJsonObject groupSymmetricKey(const QString &groupId, const Options &options = {});
// An individual enrollment's body whose hub device gets another id than the registration id.
QJsonObject withDeviceId(QJsonObject body, const QString &deviceId);
// An initial twin as DPS takes it ({"tags": …, "properties": {"desired": …}}) from what a person wrote: that shape,
// or desired properties at the top as a twin is often written ({"tags": …, "desired": …}).
QJsonObject initialTwinFrom(QJsonObject twin);

// "x509", "symmetricKey", "tpm" (what the enrollment's attestation is).
QString attestationType(const QJsonObject &item);
bool isSymmetricKey(const QJsonObject &item);
bool isX509(const QJsonObject &item);
// The primary key DPS made for a symmetric-key enrollment (empty for others, and for a list DPS sent without keys).
QString primarySymmetricKey(const QJsonObject &item);
// True for an X.509 enrollment group (signing certificates), false for an individual one (client certificates).
bool hasSigningCertificates(const QJsonObject &item);
// The SHA-256 thumbprints (upper-case hex) of the certificates an X.509 attestation holds, primary first, as DPS
// reports them in each certificate's "info".
QStringList sha256Thumbprints(const QJsonObject &item);
bool isEnabled(const QJsonObject &item);
// What DPS calls it: an individual enrollment's (or a registration state's) registration id, a group's id.
QString registrationId(const QJsonObject &item);
QString groupId(const QJsonObject &item);
// "enabled" or "disabled" as DPS wrote it (empty when it did not).
QString provisioningStatus(const QJsonObject &item);
// The hub DPS assigned the enrollment's device to (empty: not registered yet).
QString assignedHub(const QJsonObject &item);
// The SHA-1 thumbprint of an X.509 attestation's primary certificate, as DPS reports it in its "info".
QString primarySha1Thumbprint(const QJsonObject &item);
// The enrollment or group with the symmetric keys of its attestation replaced by a mask: safe to show.
QJsonObject masked(QJsonObject item);
// A device's key derived from a symmetric-key group's (DpsRegistration::deriveDeviceKey), as onboarder-cli
// dps group device-key prints it: {"group", "registrationId", "deviceKey"}.
QJsonObject deviceKeyJson(const QString &group, const QString &registration, const QString &deviceKey);
// DPS's rules for a registration id: lower-case letters, digits, '-', '.', '_' and ':', 1 to 128 of them. A group's id
// takes upper-case letters too (isGroupId).
bool isRegistrationId(const QString &id);
bool isGroupId(const QString &id);

} // namespace DpsEnrollment

} // namespace Onboarder
