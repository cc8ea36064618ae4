#pragma once

#include "common/result.h"
#include "credentials/certificate.h"

#include <QDateTime>
#include <QList>

namespace Onboarder::Sandbox {

// Checks a device's certificate path as IoT Hub and DPS do for CA-signed devices: from the leaf, through
// the certificates the device presented, to one of the trusted CAs (verified CA certificates of the hub,
// a group's signing certificates). Every certificate on the way must be within its validity; every one
// that signs another (intermediates and the trusted CA) must be a CA by RFC 5280: version 3 with
// basicConstraints CA:TRUE (a v1 self-signed certificate is no CA, whatever OpenSSL's X509_check_ca
// grants it), and its pathLenConstraint must allow the intermediates below it.
class CertificatePath final
{
public:
    static constexpr int maxIntermediates = 5;

    // presented: the leaf first, then what the device sent after it, in order. A sentence on failure.
    static Result<void> verify(const QList<Certificate> &presented, const QList<Certificate> &trusted,
        const QDateTime &now = QDateTime::currentDateTimeUtc());

    // Version 3 and basicConstraints CA:TRUE.
    static bool isCa(const Certificate &certificate);
    // basicConstraints pathLenConstraint; -1 when it sets none.
    static int pathLength(const Certificate &certificate);
};

} // namespace Onboarder::Sandbox
