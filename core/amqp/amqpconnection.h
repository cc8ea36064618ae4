#pragma once

#include "amqp/amqpframefilter.h"
#include "common/secretbytes.h"

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>

#include <functional>
#include <proton/connection_driver.h>

class QIODevice;

namespace Onboarder {

// One AMQP 1.0 connection, client or server, driven from Qt's event loop: Qpid Proton's connection driver
// (no Proton threads, no Proton sockets, no Proton TLS) fed with the bytes of a QIODevice the caller
// opened and secured (a QSslSocket whose TLS is verified, a WebSocket stream, a proxy tunnel).
//
// The owner handles Proton's events (pn_event_t) in its handler: opening links, moving messages, settling.
// Changes made outside the handler (a message to send from a timer) take effect on schedule() or process().
//
// SASL: a server offers ANONYMOUS and/or PLAIN and decides PLAIN credentials itself (Proton's own SASL
// server cannot check a password without Cyrus); a client uses ANONYMOUS, or PLAIN with a user and password.
//
// Threads: the thread the object lives in, as its device.
class AmqpConnection final : public QObject
{
    Q_OBJECT

public:
    enum class Role { Client, Server };
    using Handler = std::function<void(pn_event_t *event)>;
    using PlainCheck = std::function<bool(const QString &user, const SecretBytes &password)>;

    // Takes the device (reparented to this). It must already be open (and, for TLS, encrypted).
    AmqpConnection(Role role, QIODevice *device, QObject *parent = nullptr);
    ~AmqpConnection() override;

    pn_connection_t *connection() const { return m_driver.connection; }
    pn_transport_t *transport() const { return m_driver.transport; }
    QIODevice *device() const { return m_device; }
    Role role() const { return m_role; }

    void setHandler(Handler handler) { m_handler = std::move(handler); }

    // Server side, before start(). Mechanisms offered: ANONYMOUS if allowed, PLAIN if a check is given.
    void setServerSasl(bool allowAnonymous, PlainCheck plainCheck);
    // Client side, before start(): PLAIN with these credentials, or ANONYMOUS when the user is empty. The
    // password is copied into Proton, which keeps it only until the SASL exchange is over.
    void setClientSasl(const QString &user, const SecretBytes &password);
    // Client side: the open frame's hostname and container id.
    void setClientIdentity(const QString &virtualHost, const QString &containerId);

    // Binds the driver and starts exchanging bytes (a client sends its headers at once).
    void start();
    // Runs the driver now: reads what the device holds, hands events to the handler, writes what Proton has.
    void process();
    // Runs the driver from the event loop soon (coalesced): for changes made outside the handler.
    void schedule();

    // The user name SASL authenticated (PLAIN user, or "anonymous"); empty before.
    QString authenticatedUser() const { return m_authenticatedUser; }
    bool isFinished() const { return m_finished; }

    // Closes the connection with an error condition (AMQP's close frame), then the device.
    void closeWithError(const char *condition, const QString &description);

Q_SIGNALS:
    // The transport ended (peer closed, device lost, protocol error); error says why, empty for a clean close.
    void finished(const QString &error);

private:
    friend struct AmqpSaslServer;

    void readFromDevice();
    bool moreToRead();
    void writeToDevice();
    void deviceClosed();
    void finish();

    Role m_role;
    QPointer<QIODevice> m_device;
    pn_connection_driver_t m_driver{};
    Handler m_handler;
    QTimer m_tick;
    bool m_started = false;
    bool m_processing = false;
    bool m_again = false;
    bool m_scheduled = false;
    bool m_finished = false;
    bool m_deviceClosed = false;

    bool m_allowAnonymous = true;
    PlainCheck m_plainCheck;
    QString m_authenticatedUser;
    AmqpFrameFilter m_filter; // the serving side's input (see AmqpFrameFilter)
    bool m_violationClosed = false; // the filter refused the peer's input and the connection is closing
};

} // namespace Onboarder
