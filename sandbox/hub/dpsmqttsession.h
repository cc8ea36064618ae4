#pragma once

#include "dps.h"

#include <QByteArray>
#include <QList>
#include <QString>

namespace Onboarder::Sandbox {

// One device's MQTT 3.1.1 conversation with the sandbox DPS, without the socket (so it can be fuzzed):
// bytes in, bytes out. What DPS's MQTT face serves: CONNECT (client id = registration id, user name
// "{idScope}/registrations/{registrationId}/api-version=…", password = SAS token or empty for X.509),
// SUBSCRIBE to $dps/registrations/res/#, PUBLISH to $dps/registrations/PUT/iotdps-register/?$rid=… and
// $dps/registrations/GET/iotdps-get-operationstatus/?$rid=…&operationId=…, PINGREQ, DISCONNECT.
// Answers are published (QoS 0) on $dps/registrations/res/{status}/?$rid=…[&retry-after=…].
// Anything else (another packet type, another topic, a malformed packet) ends the connection, as DPS does.
class DpsMqttSession final
{
public:
    // chainDer: the certificate chain the device presented in its TLS handshake (leaf first), if any.
    DpsMqttSession(Dps &dps, QList<QByteArray> chainDer);

    // Takes bytes from the device; returns bytes for it. After closed() is true, nothing more is read.
    QByteArray feed(const QByteArray &bytes);
    bool closed() const { return m_closed; }
    bool connected() const { return m_connected; }
    int keepAliveSeconds() const { return m_keepAlive; }
    QString registrationId() const { return m_registrationId; }

    static constexpr qsizetype MaxPacket = 256 * 1024;

private:
    QByteArray handle(quint8 header, const QByteArray &body);
    QByteArray connect(const QByteArray &body);
    QByteArray subscribe(const QByteArray &body);
    QByteArray publish(quint8 header, const QByteArray &body);

    Dps &m_dps;
    QList<QByteArray> m_chainDer;
    QByteArray m_buffer;
    QString m_idScope;
    QString m_registrationId;
    QString m_password;
    int m_keepAlive = 0;
    bool m_connected = false;
    bool m_subscribed = false;
    bool m_closed = false;
};

} // namespace Onboarder::Sandbox
