#pragma once

#include "credentials/certificate.h"

#include <QByteArray>
#include <QList>
#include <QString>

namespace Onboarder {

// The root CAs Azure IoT Hub's TLS chains end in, shipped with the app (resources/certs, compiled
// into the core as the Qt resource ":/certs/<file>"): what a device (the nRF9160's root-ca %CMNG
// slot) must trust to reach a hub.
//   DigiCert Global Root G2        the hub's current root (Azure moved to it in 2023)
//   Baltimore CyberTrust Root      the hub's former root; expired 2025-05-12, kept to recognise it on old devices
//   Microsoft RSA Root CA 2017     Microsoft's own root, Azure's second root for IoT Hub and DPS
class RootCertificates final
{
public:
    struct Entry
    {
        QString fileName; // e.g. "digicert-global-root-g2.pem"
        QString resourcePath; // ":/certs/digicert-global-root-g2.pem"
        Certificate certificate;

        QString subject() const { return certificate.subject(); }
        QDateTime expires() const { return certificate.notAfter(); }
        bool isExpired(const QDateTime &now = QDateTime::currentDateTimeUtc()) const { return now > expires(); }
    };

    static QStringList fileNames(); // in the order above
    static QList<Entry> all();
    static Result<Entry> find(const QString &fileName);
    // The PEM of every bundled root, one after the other (a CA file for TLS clients).
    static QByteArray bundlePem();
};

} // namespace Onboarder
