#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QString>

namespace Onboarder {

// A module identity as the registry returns it: a device's module, with credentials of its own (IoT Hub
// /devices/{id}/modules/{moduleId}). It has no status of its own: it connects only while its device is enabled.
struct ModuleIdentity
{
    QString deviceId;
    QString moduleId;
    QString generationId;
    QString etag;
    QString managedBy; // IoT Edge writes it for modules it deploys; empty for modules a person made
    QString authType = QStringLiteral("sas"); // sas | selfSigned | certificateAuthority | none
    QString primaryKey; // sas: empty asks the hub to generate them
    QString secondaryKey;
    QString primaryThumbprint; // selfSigned: SHA-1 or SHA-256, hex
    QString secondaryThumbprint;
    QString connectionState; // Connected | Disconnected
    QDateTime connectionStateUpdated;
    QDateTime lastActivity; // invalid: never

    static ModuleIdentity fromJson(const QJsonObject &json);
    QJsonObject toJson() const; // the writable fields, for PUT
    // What was read, in the registry's shape; a SAS module's keys masked unless revealKeys (onboarder-cli module show).
    QJsonObject toRecordJson(bool revealKeys) const;
};

} // namespace Onboarder
