#pragma once

#include <QSslConfiguration>
#include <QStringList>
#include <QTcpServer>
#include <QWebSocketServer>

#include <functional>

class QSslSocket;
class QWebSocket;

namespace Onboarder::Sandbox {

// The sandbox hub's HTTPS port, as IoT Hub's 443: TLS first, then a look at the first request. A WebSocket
// upgrade to one of the AMQP paths (/$iothub/websocket as IoT Hub's service SDKs use it, /$servicebus/websocket
// as Event Hubs clients use it) with the AMQPWSB10 sub-protocol becomes an AMQP stream for the hook; every
// other connection is handed, encrypted and unread, to the HTTP server bound to this (the registry's REST API).
//
// A connection that does not finish its TLS handshake or send a request head within 10 s, or whose head is
// larger than 16 KB, is closed.
// Threads: the sandbox's main thread.
class RestFrontDoor final : public QTcpServer
{
    Q_OBJECT

public:
    using StreamHook = std::function<void(QWebSocket *socket)>;

    RestFrontDoor(const QSslConfiguration &tls, QObject *parent = nullptr);
    ~RestFrontDoor() override;

    // Called with each AMQP WebSocket once its handshake is done (the hook takes it).
    void setAmqpHook(StreamHook hook) { m_amqpHook = std::move(hook); }

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
};

} // namespace Onboarder::Sandbox
