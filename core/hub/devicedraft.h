#pragma once

#include "common/result.h"
#include "hub/hubclient.h"

#include <QList>
#include <QString>

namespace Onboarder {

// A device about to be registered, as a person fills it in (the Create Device dialog): each problem is
// found before anything goes to the hub and named with the field it belongs to.
struct DeviceDraft
{
    enum class Auth { Sas, SelfSigned, CertificateAuthority };
    enum class Field { Id, PrimaryKey, SecondaryKey, PrimaryThumbprint, SecondaryThumbprint };

    struct Problem
    {
        Field field;
        QString message;
    };

    QString id;
    Auth auth = Auth::Sas;
    bool enabled = true;
    bool generateKeys = true; // Sas: the hub generates both keys
    QString primaryKey; // Sas with given keys: base64 of 16–64 bytes
    QString secondaryKey;
    bool generateCertificate = false; // SelfSigned: a key and certificate are made now (no thumbprints given)
    QString primaryThumbprint; // SelfSigned: SHA-1 (40) or SHA-256 (64) hex digits
    QString secondaryThumbprint; // optional

    QList<Problem> problems() const;
    QString problem(Field field) const; // empty: none
    DeviceIdentity toIdentity() const; // only meaningful without problems()

    // The SHA-1 thumbprint (Azure's format) of the first certificate in a PEM or DER file.
    static Result<QString> thumbprintFromCertificateFile(const QString &path);
    // Base64 of 32 random bytes, the size of the keys the hub generates.
    static QString randomKey();
};

} // namespace Onboarder
