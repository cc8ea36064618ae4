#pragma once

#include <QSslConfiguration>
#include <QStringList>
#include <QTcpServer>
#include <QWebSocketServer>

#include <functional>

class QSslSocket;
class QWebSocket;

namespace Onboarder::Sandbox {

// The sandbox hub's HTTPS port, as IoT Hub's 443: TLS first, then a look at the first request.
//   - A WebSocket upgrade to /$iothub/websocket asking for sub-protocol "mqtt" (device SDKs' MQTT over
//     WebSockets) is handed, unread, to the MQTT hook (the device gateway, which speaks WebSocket itself);
//   - one to /$iothub/websocket (service SDKs) or /$servicebus/websocket (Event Hubs clients) with AMQPWSB10
//     becomes an AMQP stream for the AMQP hook;
//   - every other connection is handed, encrypted and unread, to the HTTP server bound to this (REST).
//
// A connection that does not finish its TLS handshake or send a request head within 10 s, or whose head is
// larger than 16 KB, is closed.
// Threads: the sandbox's main thread.
class RestFrontDoor final : public QTcpServer
{
    Q_OBJECT

public:
    using StreamHook = std::function<void(QWebSocket *socket)>;
    using SocketHook = std::function<void(QSslSocket *socket)>;

    RestFrontDoor(const QSslConfiguration &tls, QObject *parent = nullptr);
    ~RestFrontDoor() override;

    // Called with each AMQP WebSocket once its handshake is done (the hook takes it).
    void setAmqpHook(StreamHook hook) { m_amqpHook = std::move(hook); }
    // Called with each MQTT-over-WebSockets connection, TLS done and its upgrade request unread (the hook takes it).
    void setMqttHook(SocketHook hook) { m_mqttHook = std::move(hook); }

    static const QStringList &amqpPaths();
    static constexpr const char *AmqpSubprotocol = "AMQPWSB10";

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    void inspect(QSslSocket *socket);
    void webSocketReady();

    QSslConfiguration m_tls;
    QWebSocketServer m_webSockets;
    StreamHook m_amqpHook;
    SocketHook m_mqttHook;
};

} // namespace Onboarder::Sandbox
