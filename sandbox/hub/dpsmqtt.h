#pragma once

#include "common/result.h"

#include <QObject>
#include <QSslConfiguration>
#include <QSslServer>

namespace Onboarder::Sandbox {

class Dps;

// The DPS's MQTT port: TLS with the DPS's certificate, asking every device for a client certificate without
// requiring one (X.509 attestation); each connection is a DpsMqttSession. The same MQTT over WebSockets
// (wss://…:443/$iothub/websocket, sub-protocol mqtt, as DPS serves it) arrives through adoptWebSocket from
// the DPS's HTTPS port.
// Threads: the sandbox's main thread.
class DpsMqtt final : public QObject
{
    Q_OBJECT

public:
    DpsMqtt(Dps &dps, const QSslConfiguration &tls, QObject *parent = nullptr);
    Result<quint16> listen(const QHostAddress &address, quint16 port);
    // Serves a connection whose TLS is done and whose WebSocket upgrade request is still unread.
    void adoptWebSocket(QSslSocket *socket);

private:
    void accept();
    void serve(QSslSocket *socket, bool webSocket);

    Dps &m_dps;
    QSslServer m_server;
};

} // namespace Onboarder::Sandbox
