#include "amqp/websocketstream.h"

#include <QWebSocket>

#include <cstring>

namespace Onboarder {

WebSocketStream::WebSocketStream(QWebSocket *socket, QObject *parent)
    : QIODevice(parent)
    , m_socket(socket)
{
    socket->setParent(this);
    connect(socket, &QWebSocket::binaryMessageReceived, this, &WebSocketStream::received);
    connect(socket, &QWebSocket::textMessageReceived, this, [this] {
        if (m_socket)
            m_socket->close(QWebSocketProtocol::CloseCodeDatatypeNotSupported,
                QStringLiteral("AMQP frames travel in binary messages"));
    });
    connect(socket, &QWebSocket::disconnected, this, &WebSocketStream::socketGone);
    connect(socket, &QWebSocket::bytesWritten, this, &QIODevice::bytesWritten);
    QIODevice::open(QIODevice::ReadWrite | QIODevice::Unbuffered);
}

WebSocketStream::~WebSocketStream()
{
    if (m_socket)
        m_socket->disconnect(this);
}

qint64 WebSocketStream::bytesAvailable() const
{
    return m_buffer.size() - m_readOffset + QIODevice::bytesAvailable();
}

qint64 WebSocketStream::bytesToWrite() const
{
    return m_socket ? m_socket->bytesToWrite() : 0;
}

void WebSocketStream::close()
{
    if (!isOpen())
        return;
    QIODevice::close(); // aboutToClose first: the reader hears it before anything else happens
    if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->close(QWebSocketProtocol::CloseCodeNormal);
}

qint64 WebSocketStream::readData(char *data, qint64 maxSize)
{
    const qint64 count = qMin<qint64>(maxSize, m_buffer.size() - m_readOffset);
    if (count <= 0)
        return isOpen() && m_socket && m_socket->isValid() ? 0 : -1;
    std::memcpy(data, m_buffer.constData() + m_readOffset, size_t(count));
    m_readOffset += count;
    if (m_readOffset == m_buffer.size()) {
        m_buffer.clear();
        m_readOffset = 0;
    } else if (m_readOffset > 64 * 1024 && m_readOffset * 2 > m_buffer.size()) {
        m_buffer.remove(0, m_readOffset);
        m_readOffset = 0;
    }
    return count;
}

qint64 WebSocketStream::writeData(const char *data, qint64 size)
{
    if (!m_socket || !m_socket->isValid())
        return -1;
    // QWebSocket frames a message at once and writes it to its TCP socket's buffer: never a partial write.
    return m_socket->sendBinaryMessage(QByteArray(data, size)) == size ? size : -1;
}

void WebSocketStream::received(const QByteArray &message)
{
    if (bytesAvailable() + message.size() > MaxBuffered) {
        // The reader stopped reading and the peer kept sending: better to end than to grow without bound.
        m_socket->close(
            QWebSocketProtocol::CloseCodeTooMuchData, QStringLiteral("The peer sent more than the reader can hold"));
        return;
    }
    m_buffer += message;
    Q_EMIT readyRead();
}

void WebSocketStream::socketGone()
{
    if (isOpen())
        QIODevice::close();
}

} // namespace Onboarder
