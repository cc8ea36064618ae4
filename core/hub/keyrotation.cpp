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

namespace {

QString connectionSentence(const DeviceIdentity &device)
{
    return device.connectionState == QStringLiteral("Connected")
        ? Text::tr("The device is connected now: the hub closes its connection, and it must reconnect with a "
                   "credential that still holds.")
        : Text::tr("The device is not connected now.");
}

} // namespace

Result<DeviceIdentity> replaceThumbprint(const DeviceIdentity &device, const QString &thumbprint)
{
    if (device.authType != QStringLiteral("selfSigned"))
        return fail(ErrorKind::Conflict, QStringLiteral("NotSelfSignedDevice"),
            Text::tr("The device \"%1\" authenticates with %2: only a self-signed X.509 device is registered by its "
                     "certificate's thumbprint.")
                .arg(device.id, device.authType));
    const QString upper = thumbprint.toUpper();
    if (upper == device.primaryThumbprint.toUpper())
        return fail(ErrorKind::Conflict, QStringLiteral("ThumbprintUnchanged"),
            Text::tr("%1 is already the primary thumbprint of \"%2\".").arg(upper, device.id));
    DeviceIdentity changed = device;
    changed.secondaryThumbprint = device.primaryThumbprint;
    changed.primaryThumbprint = upper;
    return changed;
}

QString thumbprintConsequence(const DeviceIdentity &device, const QString &thumbprint)
{
    QString text = Text::tr("The certificate %1 becomes the primary of \"%2\"; the primary so far (%3) stays as "
                            "secondary, so the device is taken with either until the next replacement.")
                       .arg(thumbprint.toUpper(), device.id, device.primaryThumbprint);
    if (!device.secondaryThumbprint.isEmpty()
        && device.secondaryThumbprint.compare(thumbprint, Qt::CaseInsensitive) != 0)
        text += u' ' + Text::tr("The secondary so far (%1) is no longer accepted.").arg(device.secondaryThumbprint);
    return text + u' ' + connectionSentence(device);
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
    return text + u' ' + connectionSentence(device);
}

} // namespace Onboarder::KeyRotation
