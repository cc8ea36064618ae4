#include "hub/keyrotation.h"

#include "hub/devicedraft.h"

#include <QCoreApplication>

#include <utility>

namespace Onboarder::KeyRotation {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(Onboarder::KeyRotation)
};

} // namespace

Result<DeviceIdentity> apply(const DeviceIdentity &device, Change change)
{
    if (device.authType != QStringLiteral("sas"))
        return fail(ErrorKind::Conflict, QStringLiteral("NotSasDevice"),
            Text::tr("The device \"%1\" authenticates with %2, not with SAS keys: it has no keys to change.")
                .arg(device.id, device.authType));
    DeviceIdentity changed = device;
    switch (change) {
    case Change::RegeneratePrimary: changed.primaryKey = DeviceDraft::randomKey(); break;
    case Change::RegenerateSecondary: changed.secondaryKey = DeviceDraft::randomKey(); break;
    case Change::Swap: std::swap(changed.primaryKey, changed.secondaryKey); break;
    }
    return changed;
}

QString consequence(const DeviceIdentity &device, Change change)
{
    QString text;
    switch (change) {
    case Change::RegeneratePrimary:
        text = Text::tr("A new primary key for \"%1\": whatever uses the old primary key (the device, its connection "
                        "strings, tokens signed with it) stops working.")
                   .arg(device.id);
        break;
    case Change::RegenerateSecondary:
        text = Text::tr("A new secondary key for \"%1\": whatever uses the old secondary key stops working.")
                   .arg(device.id);
        break;
    case Change::Swap:
        text = Text::tr("The primary and secondary keys of \"%1\" change places: whatever names a key as primary or "
                        "secondary now gets the other one.")
                   .arg(device.id);
        break;
    }
    if (device.connectionState == QStringLiteral("Connected"))
        text += u' '
            + Text::tr("The device is connected now: the hub closes its connection, and it must reconnect with a key "
                       "that still holds.");
    else
        text += u' ' + Text::tr("The device is not connected now.");
    return text;
}

} // namespace Onboarder::KeyRotation
