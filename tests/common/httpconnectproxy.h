#pragma once

// An HTTP proxy that only tunnels (CONNECT host:port), on 127.0.0.1, on the test's thread: what a
// gateway behind a corporate proxy goes through. It records each tunnel's target so a test can tell
// that a connection really went through it.

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QStringList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrl>

namespace TestSupport {

class HttpConnectProxy final : public QObject
{
public:
    bool listen() { return m_server.listen(QHostAddress::LocalHost); }
    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server.serverPort())); }
    QStringList targets() const { return m_targets; } // "host:port" of each CONNECT, in order
    // Resolves name to address for the tunnels, as a proxy's own DNS would: a name only the proxy knows
    // proves that a client reached it through the proxy, since the client alone cannot.
    void mapHost(const QString &name, const QString &address) { m_hosts.insert(name, address); }
    // Holding: what the far side sends is not passed on (a link that stalls: acknowledgements never come).
    void setHolding(bool holding) { m_holding = holding; }
    // Every tunnel cut at once, as a network that drops (the clients see their connection reset).
    void dropAll()
    {
        for (QTcpSocket *client : findChildren<QTcpSocket *>(QString(), Qt::FindDirectChildrenOnly))
            client->abort();
    }

    HttpConnectProxy()
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *client = m_server.nextPendingConnection())
                serve(client);
        });
    }

private:
    struct Request : QObject
    {
        using QObject::QObject;
        QByteArray head;
        bool tunnelling = false;
    };

    void serve(QTcpSocket *client)
    {
        client->setParent(this);
        auto *state = new Request(client); // deleted with the socket
        connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
        connect(client, &QTcpSocket::readyRead, this, [this, client, state] {
            if (state->tunnelling)
                return; // the upstream side reads
            state->head += client->readAll();
            const qsizetype end = state->head.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            const QList<QByteArray> request = state->head.left(state->head.indexOf("\r\n")).split(' ');
            const QByteArray rest = state->head.mid(end + 4);
            state->tunnelling = true;
            const int colon = int(request.value(1).lastIndexOf(':'));
            if (request.value(0) != "CONNECT" || colon < 0) {
                client->write("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
                client->disconnectFromHost();
                return;
            }
            const QString host = QString::fromLatin1(request.at(1).left(colon));
            const quint16 port = request.at(1).mid(colon + 1).toUShort();
            m_targets.append(QString::fromLatin1(request.at(1)));
            auto *upstream = new QTcpSocket(client);
            connect(upstream, &QTcpSocket::connected, client, [client, upstream, rest] {
                client->write("HTTP/1.1 200 Connection established\r\n\r\n");
                if (!rest.isEmpty())
                    upstream->write(rest);
                upstream->write(client->readAll());
                connect(client, &QTcpSocket::readyRead, upstream,
                    [client, upstream] { upstream->write(client->readAll()); });
            });
            connect(upstream, &QTcpSocket::readyRead, client, [this, client, upstream] {
                if (!m_holding)
                    client->write(upstream->readAll());
            });
            connect(upstream, &QTcpSocket::errorOccurred, client, [client] {
                if (client->state() == QAbstractSocket::ConnectedState)
                    client->disconnectFromHost();
            });
            connect(upstream, &QTcpSocket::disconnected, client, [client] { client->disconnectFromHost(); });
            connect(client, &QTcpSocket::disconnected, upstream, [upstream] { upstream->disconnectFromHost(); });
            upstream->connectToHost(m_hosts.value(host, host), port);
        });
    }

    QTcpServer m_server;
    QStringList m_targets;
    QHash<QString, QString> m_hosts;
    bool m_holding = false;
};

} // namespace TestSupport
