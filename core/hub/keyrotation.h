#pragma once

#include "common/result.h"
#include "hub/hubclient.h"

#include <QString>

namespace Onboarder::KeyRotation {

// Changing a SAS device's keys, as a support person does when a key leaked or on schedule. IoT Hub has no
// "regenerate" call: the new key is made here (32 random bytes, as the hub makes them) and the device is written
// back under the ETag it was read with, so a change made in between is refused (PreconditionFailed), not lost.
enum class Change { RegeneratePrimary, RegenerateSecondary, Swap };

// The device as it is to be written: the key changed, everything else as read. Fails (NotSasDevice) for a device
// that does not authenticate with SAS keys.
Result<DeviceIdentity> apply(const DeviceIdentity &device, Change change);

// What the change breaks, in a sentence or two for the confirmation: who stops working, and whether the device is
// connected now (the hub then closes its connection, and it must reconnect with a key that still holds).
QString consequence(const DeviceIdentity &device, Change change);

// A self-signed X.509 device's new certificate (after cred generate --replace, or one made elsewhere): its thumbprint
// becomes the primary, and the primary so far moves to secondary, so that the device is taken with either certificate
// until it has the new one and the next replacement drops the old. Fails for a device that is not selfSigned
// (NotSelfSignedDevice) and for a thumbprint already registered as primary (ThumbprintUnchanged).
Result<DeviceIdentity> replaceThumbprint(const DeviceIdentity &device, const QString &thumbprint);
QString thumbprintConsequence(const DeviceIdentity &device, const QString &thumbprint);

} // namespace Onboarder::KeyRotation
