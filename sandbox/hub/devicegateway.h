#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QObject>
#include <QSslConfiguration>
#include <QSslServer>

namespace Onboarder::Sandbox {

class Registry;

// The device port of the sandbox hub (what IoT Hub serves on 8883): TLS with the sandbox's server
// certificate, asking every device for a client certificate without requiring one, as IoT Hub does
// (mosquitto can only require or not ask). A device that shows a certificate whose SHA-1 or SHA-256
// thumbprint is registered for it (selfSigned) gets its MQTT CONNECT password replaced by an
// assertion the broker's plugin checks; the TLS handshake itself proved that it holds the key.
// A certificateAuthority device is accepted when its certificate's CN is its id and the certificate
// chains (through what it presented) to a CA the hub trusts.
// Everything else passes through unchanged to the broker, which authenticates it.
// The same port serves MQTT over WebSockets as IoT Hub does on 443 (GET /$iothub/websocket, sub-protocol
// "mqtt"): a connection whose first bytes are an HTTP GET is upgraded and unframed here.
// Threads: the sandbox's main thread.
class DeviceGateway final : public QObject
{
    Q_OBJECT

public:
    DeviceGateway(Registry &registry, const QSslConfiguration &tls, const QByteArray &secret, quint16 brokerPort,
        QObject *parent = nullptr);

    Result<quint16> listen(quint16 port);
    // Serves a device connection accepted elsewhere (TLS done, nothing read yet): MQTT, or MQTT over
    // WebSockets from the REST port's /$iothub/websocket, as IoT Hub serves both on 443.
    void adopt(QSslSocket *device);

    // CAs the hub trusts for certificateAuthority devices (on Azure: uploaded and verified CA certificates).
    void setTrustedCas(const QList<QSslCertificate> &cas) { m_trustedCas = cas; }

    // The password the plugin accepts for an X.509-authenticated device.
    static QByteArray assertion(const QByteArray &secret, const QString &deviceId);

    // Replaces the password of an MQTT 3.1.1 or 5 CONNECT packet; an empty result if it is not one.
    static QByteArray withPassword(const QByteArray &connectPacket, const QByteArray &password, QString *clientId);

private:
    void accept();

    Registry &m_registry;
    QSslServer m_server;
    bool certificateAccepted(
        const QString &deviceId, const QSslCertificate &leaf, const QList<QSslCertificate> &chain) const;

    QByteArray m_secret;
    QList<QSslCertificate> m_trustedCas;
    quint16 m_brokerPort = 0;
};

} // namespace Onboarder::Sandbox
