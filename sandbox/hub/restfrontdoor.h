#pragma once

#include "httprequestframing.h"

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
//
// REST requests are judged on their heads before the HTTP server reads their bodies (it keeps a body in
// memory until it is complete): every request of the connection, one after the other, is followed
// (HttpRequestFraming) and handed to the gate, which may refuse it (the owner's authorisation, from the
// headers); then a body longer than bodyLimit is refused with 413. A refused request is answered here and
// the connection closed, its body unread. A body of unknown length (Transfer-Encoding) gets 411.
// Threads: the sandbox's main thread.
class RestFrontDoor final : public QTcpServer
{
    Q_OBJECT

public:
    using StreamHook = std::function<void(QWebSocket *socket)>;
    using SocketHook = std::function<void(QSslSocket *socket)>;

    // An answer the front door gives instead of the HTTP server.
    struct Refusal
    {
        int status = 400;
        QByteArray contentType;
        QByteArray body;
        QList<std::pair<QByteArray, QByteArray>> headers;
    };
    // Judges a request by its head; nullopt lets it through. tooLarge: its body exceeds bodyLimit (the
    // gate's refusal, if any, comes first: an unauthorised caller learns nothing about limits).
    using Gate = std::function<std::optional<Refusal>(const HttpRequestFraming::Head &head, bool tooLarge)>;
    static constexpr qint64 defaultBodyLimit = 1024 * 1024;

    RestFrontDoor(const QSslConfiguration &tls, QObject *parent = nullptr);
    ~RestFrontDoor() override;

    // Called with each AMQP WebSocket once its handshake is done (the hook takes it).
    void setAmqpHook(StreamHook hook) { m_amqpHook = std::move(hook); }
    // Called with each MQTT-over-WebSockets connection, TLS done and its upgrade request unread (the hook takes it).
    void setMqttHook(SocketHook hook) { m_mqttHook = std::move(hook); }

    void setGate(Gate gate) { m_gate = std::move(gate); }
    void setBodyLimit(qint64 bytes) { m_bodyLimit = bytes; }

    static const QStringList &amqpPaths();
    static constexpr const char *AmqpSubprotocol = "AMQPWSB10";

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    void inspect(QSslSocket *socket);
    void webSocketReady();
    void watchRequests(QSslSocket *socket);
    static void refuse(QSslSocket *socket, const Refusal &refusal);

    QSslConfiguration m_tls;
    QWebSocketServer m_webSockets;
    StreamHook m_amqpHook;
    SocketHook m_mqttHook;
    Gate m_gate;
    qint64 m_bodyLimit = defaultBodyLimit;
};

} // namespace Onboarder::Sandbox
