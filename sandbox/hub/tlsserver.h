#pragma once

#include <QMetaObject>
#include <QSslServer>
#include <QSslSocket>

namespace Onboarder::Sandbox {

// Makes a QSslServer keep accepting connections whatever its clients do, as a hub must.
//
// QSslServer (Qt 6.4) stops accepting while its pending connections and those still in their TLS handshake reach
// maxPendingConnections (30), and starts again only when a finished connection is taken from it. When the
// handshakes that filled it fail instead (clients that gave up: a relay's sessions after a hub outage, a port
// scanner), it drops them but never accepts again, and the port is dead until the process restarts. So: room for a
// thousand devices connecting at once, and accepting resumes whenever a socket that failed its handshake is gone.
// Threads: the server's.
inline void keepAccepting(QSslServer &server)
{
    server.setMaxPendingConnections(1024);
    QObject::connect(&server, &QSslServer::errorOccurred, &server, [&server](QSslSocket *socket) {
        if (socket->isEncrypted())
            return; // a connection that was handed over: no longer the server's
        // QSslServer forgets the socket when it is destroyed (its own connection, made before this one); resume then.
        QObject::connect(socket, &QObject::destroyed, &server, [&server] {
            QMetaObject::invokeMethod(
                &server, [&server] { server.resumeAccepting(); }, Qt::QueuedConnection);
        });
    });
}

} // namespace Onboarder::Sandbox
