#pragma once

#include <QByteArray>
#include <QIODevice>
#include <QPointer>
#include <QWebSocket>

namespace Onboarder {

// A WebSocket seen as a byte stream, for AMQP over WebSockets (sub-protocol AMQPWSB10): what the peer sends
// in binary messages is read as one continuous stream, and what is written goes out as binary messages.
// Message boundaries mean nothing to AMQP, so none are kept. A text message is a protocol error: the
// WebSocket is closed with 1003 (unsupported data).
//
// The stream takes the (connected) WebSocket and owns it. When the WebSocket goes, the stream closes
// (aboutToClose), which is how its reader (AmqpConnection) learns that the peer is gone; close() sends the
// WebSocket close frame after what was written.
//
// Threads: the thread the WebSocket lives in.
class WebSocketStream final : public QIODevice
{
    Q_OBJECT

public:
    explicit WebSocketStream(QWebSocket *socket, QObject *parent = nullptr);
    ~WebSocketStream() override;

    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override;
    qint64 bytesToWrite() const override;
    void close() override;

    QWebSocket *webSocket() const { return m_socket; }
    // Most bytes buffered from the peer before reading stops (the peer is then held back by TCP).
    static constexpr qint64 MaxBuffered = 4 * 1024 * 1024;

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    qint64 writeData(const char *data, qint64 size) override;

private:
    void received(const QByteArray &message);
    void socketGone();

    QPointer<QWebSocket> m_socket;
    QByteArray m_buffer;
    qsizetype m_readOffset = 0;
};

} // namespace Onboarder
