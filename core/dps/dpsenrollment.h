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
// DPS's rules for a registration id: lower-case letters, digits, '-', '.', '_' and ':', 1 to 128 of them. A group's id
// takes upper-case letters too (isGroupId).
bool isRegistrationId(const QString &id);
bool isGroupId(const QString &id);

} // namespace DpsEnrollment

} // namespace Onboarder
