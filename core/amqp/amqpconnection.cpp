#include "amqpconnection.h"

#include <QAbstractSocket>
#include <QIODevice>
#include <QMetaObject>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <proton/condition.h>
#include <proton/connection.h>
#include <proton/event.h>
#include <proton/sasl.h>
#include <proton/sasl_plugin.h>
#include <proton/transport.h>

namespace Onboarder {

namespace {

int64_t nowMs()
{
    using namespace std::chrono;
    // Proton only compares the values it is given; a monotonic clock keeps a wall-clock jump from
    // closing every idle connection at once.
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count() + 1;
}

QString conditionText(pn_condition_t *condition)
{
    if (!condition || !pn_condition_is_set(condition))
        return {};
    const char *name = pn_condition_get_name(condition);
    const char *description = pn_condition_get_description(condition);
    QString text = QString::fromUtf8(name ? name : "");
    if (description && *description)
        text += QStringLiteral(": ") + QString::fromUtf8(description);
    return text;
}

} // namespace

// The server side of SASL as a Proton SASL implementation: ANONYMOUS and PLAIN, PLAIN's credentials decided
// by the connection's owner. Proton calls these while it reads the peer's SASL frames.
struct AmqpSaslServer
{
    static AmqpConnection *owner(pn_transport_t *transport)
    {
        return static_cast<AmqpConnection *>(pnx_sasl_get_context(transport));
    }

    static void freeImpl(pn_transport_t *) { }

    static const char *listMechanisms(pn_transport_t *transport)
    {
        const AmqpConnection *connection = owner(transport);
        const bool plain = connection && connection->m_plainCheck;
        const bool anonymous = connection && connection->m_allowAnonymous;
        if (plain && anonymous)
            return "PLAIN ANONYMOUS";
        if (plain)
            return "PLAIN";
        return anonymous ? "ANONYMOUS" : "";
    }

    static bool initServer(pn_transport_t *transport)
    {
        pnx_sasl_set_desired_state(transport, SASL_POSTED_MECHANISMS);
        return true;
    }

    static bool initClient(pn_transport_t *) { return false; }
    static void prepareWrite(pn_transport_t *) { }

    static void processInit(pn_transport_t *transport, const char *mechanismOrNull, const pn_bytes_t *received)
    {
        AmqpConnection *connection = owner(transport);
        // A sasl-init without a mechanism decodes to null (found by fuzz_amqpendpoint): refused like an unknown one.
        const char *mechanism = mechanismOrNull ? mechanismOrNull : "";
        bool accepted = false;
        QString user;
        if (connection && std::strcmp(mechanism, "ANONYMOUS") == 0 && connection->m_allowAnonymous) {
            accepted = true;
            user = QStringLiteral("anonymous");
        } else if (connection && std::strcmp(mechanism, "PLAIN") == 0 && connection->m_plainCheck && received) {
            // PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd. Read in place in Proton's frame; only the password
            // is copied, into a SecretBytes.
            const QByteArrayView response(received->start, qsizetype(received->size));
            const qsizetype first = response.indexOf('\0');
            const qsizetype second = first < 0 ? -1 : response.indexOf('\0', first + 1);
            if (second > first) {
                user = QString::fromUtf8(response.sliced(first + 1, second - first - 1));
                const SecretBytes password = SecretBytes::fromView(response.sliced(second + 1));
                accepted = connection->m_plainCheck(user, password);
            }
        }
        if (accepted) {
            connection->m_authenticatedUser = user;
            const QByteArray name = user.toUtf8();
            pnx_sasl_set_succeeded(transport, name.constData(), nullptr);
        } else {
            pnx_sasl_set_failed(transport);
        }
        pnx_sasl_set_desired_state(transport, SASL_POSTED_OUTCOME);
    }

    static void processResponse(pn_transport_t *transport, const pn_bytes_t *)
    {
        pnx_sasl_set_failed(transport); // neither mechanism has a second step
        pnx_sasl_set_desired_state(transport, SASL_POSTED_OUTCOME);
    }

    static bool processMechanisms(pn_transport_t *, const char *) { return false; }
    static void processChallenge(pn_transport_t *, const pn_bytes_t *) { }
    static void processOutcome(pn_transport_t *, const pn_bytes_t *) { }
    static bool canEncrypt(pn_transport_t *) { return false; }
    static ssize_t maxEncryptSize(pn_transport_t *) { return 0; }
    static ssize_t encode(pn_transport_t *, pn_bytes_t, pn_bytes_t *) { return 0; }
    static ssize_t decode(pn_transport_t *, pn_bytes_t, pn_bytes_t *) { return 0; }

    static const pnx_sasl_implementation implementation;
};

const pnx_sasl_implementation AmqpSaslServer::implementation = {
    &AmqpSaslServer::freeImpl,
    &AmqpSaslServer::listMechanisms,
    &AmqpSaslServer::initServer,
    &AmqpSaslServer::initClient,
    &AmqpSaslServer::prepareWrite,
    &AmqpSaslServer::processInit,
    &AmqpSaslServer::processResponse,
    &AmqpSaslServer::processMechanisms,
    &AmqpSaslServer::processChallenge,
    &AmqpSaslServer::processOutcome,
    &AmqpSaslServer::canEncrypt,
    &AmqpSaslServer::maxEncryptSize,
    &AmqpSaslServer::encode,
    &AmqpSaslServer::decode,
};

AmqpConnection::AmqpConnection(Role role, QIODevice *device, QObject *parent)
    : QObject(parent)
    , m_role(role)
    , m_device(device)
{
    pn_connection_driver_init(&m_driver, nullptr, nullptr);
    if (m_role == Role::Server)
        pn_transport_set_server(m_driver.transport);
    device->setParent(this);
    connect(device, &QIODevice::readyRead, this, &AmqpConnection::process);
    if (auto *socket = qobject_cast<QAbstractSocket *>(device))
        connect(socket, &QAbstractSocket::disconnected, this, &AmqpConnection::deviceClosed);
    else
        connect(device, &QIODevice::aboutToClose, this, &AmqpConnection::deviceClosed);
    m_tick.setSingleShot(true);
    connect(&m_tick, &QTimer::timeout, this, &AmqpConnection::process);
}

AmqpConnection::~AmqpConnection()
{
    m_handler = nullptr;
    if (m_device)
        m_device->disconnect(this);
    pn_connection_driver_destroy(&m_driver);
}

void AmqpConnection::setServerSasl(bool allowAnonymous, PlainCheck plainCheck)
{
    m_allowAnonymous = allowAnonymous;
    m_plainCheck = std::move(plainCheck);
    pn_sasl_t *sasl = pn_sasl(m_driver.transport);
    pn_sasl_set_allow_insecure_mechs(sasl, true); // TLS is below Proton, where it cannot see it
    pnx_sasl_set_implementation(m_driver.transport, &AmqpSaslServer::implementation, this);
}

// NOLINTNEXTLINE(readability-make-member-function-const): it changes the Proton connection it owns
void AmqpConnection::setClientSasl(const QString &user, const SecretBytes &password)
{
    pn_sasl_t *sasl = pn_sasl(m_driver.transport);
    pn_sasl_set_allow_insecure_mechs(sasl, true); // TLS is below Proton, where it cannot see it
    if (user.isEmpty()) {
        pn_sasl_allowed_mechs(sasl, "ANONYMOUS");
        return;
    }
    pn_sasl_allowed_mechs(sasl, "PLAIN");
    pn_connection_set_user(m_driver.connection, user.toUtf8().constData());
    // data() ends with a '\0'. Proton copies it and wipes its copy when done.
    pn_connection_set_password(m_driver.connection, password.data());
}

// NOLINTNEXTLINE(readability-make-member-function-const): it changes the Proton connection it owns
void AmqpConnection::setClientIdentity(const QString &virtualHost, const QString &containerId)
{
    pn_connection_set_hostname(m_driver.connection, virtualHost.toUtf8().constData());
    pn_connection_set_container(m_driver.connection, containerId.toUtf8().constData());
}

void AmqpConnection::start()
{
    if (m_started)
        return;
    m_started = true;
    pn_connection_driver_bind(&m_driver);
    process();
}

void AmqpConnection::schedule()
{
    if (m_scheduled || m_finished)
        return;
    m_scheduled = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_scheduled = false;
            process();
        },
        Qt::QueuedConnection);
}

void AmqpConnection::closeWithError(const char *condition, const QString &description)
{
    if (m_finished)
        return;
    pn_condition_t *local = pn_connection_condition(m_driver.connection);
    pn_condition_set_name(local, condition);
    pn_condition_set_description(local, description.toUtf8().constData());
    pn_connection_close(m_driver.connection);
    schedule();
}

void AmqpConnection::readFromDevice()
{
    if (m_role == Role::Server) {
        // The peer's bytes go through the frame filter (frames on channels it ended are dropped), then to Proton
        // as far as it has room.
        QByteArray &ready = m_filter.output();
        for (;;) {
            if (ready.isEmpty()) {
                if (!m_device || m_device->bytesAvailable() <= 0)
                    return;
                char chunk[16384];
                const qint64 read = m_device->read(chunk, qint64(sizeof chunk));
                if (read <= 0)
                    return;
                m_filter.feed(chunk, size_t(read));
                if (!m_filter.violation().isEmpty() && !m_violationClosed) {
                    // What came before it still reaches Proton (below); then the connection ends, saying why.
                    m_violationClosed = true;
                    closeWithError("amqp:decode-error", m_filter.violation());
                }
                continue;
            }
            const pn_rwbytes_t buffer = pn_connection_driver_read_buffer(&m_driver);
            if (buffer.size == 0)
                return; // Proton's input is full (or closed): events first, then more
            const size_t n = std::min(buffer.size, size_t(ready.size()));
            std::memcpy(buffer.start, ready.constData(), n);
            ready.remove(0, qsizetype(n));
            pn_connection_driver_read_done(&m_driver, n);
            m_again = true;
        }
    }
    while (m_device && m_device->bytesAvailable() > 0) {
        const pn_rwbytes_t buffer = pn_connection_driver_read_buffer(&m_driver);
        if (buffer.size == 0)
            return; // Proton's input is full (or closed): events first, then more
        const qint64 read = m_device->read(buffer.start, qint64(buffer.size));
        if (read <= 0)
            return;
        pn_connection_driver_read_done(&m_driver, size_t(read));
        m_again = true;
    }
}

bool AmqpConnection::moreToRead()
{
    return m_device && !m_deviceClosed && (m_device->bytesAvailable() > 0 || !m_filter.output().isEmpty())
        && pn_connection_driver_read_buffer(&m_driver).size > 0;
}

void AmqpConnection::writeToDevice()
{
    for (;;) {
        const pn_bytes_t pending = pn_connection_driver_write_buffer(&m_driver);
        if (pending.size == 0)
            break;
        if (!m_device || m_deviceClosed) {
            pn_connection_driver_write_done(&m_driver, pending.size); // nowhere to go
            continue;
        }
        const qint64 written = m_device->write(pending.start, qint64(pending.size));
        if (written <= 0) {
            pn_connection_driver_write_close(&m_driver);
            break;
        }
        pn_connection_driver_write_done(&m_driver, size_t(written));
    }
    // Hand what was written to the network now: a peer that closes its side right after its close frame
    // (TCP half-close) makes Qt close the socket on the next read, and what is still buffered then is lost.
    if (auto *socket = qobject_cast<QAbstractSocket *>(m_device.data()); socket && socket->bytesToWrite() > 0)
        socket->flush();
}

void AmqpConnection::process()
{
    if (!m_started || m_finished)
        return;
    if (m_processing) {
        m_again = true;
        return;
    }
    m_processing = true;
    QPointer<AmqpConnection> alive(this);
    do {
        m_again = false;
        readFromDevice();
        while (pn_event_t *event = pn_connection_driver_next_event(&m_driver)) {
            if (m_handler)
                m_handler(event);
            if (!alive)
                return;
            m_again = true;
        }
        writeToDevice();
        if (pn_connection_driver_read_closed(&m_driver) && !m_deviceClosed
            && !pn_connection_driver_write_closed(&m_driver)) {
            // Proton stopped reading on its own (bytes it could not decode): nothing the peer sends now will be
            // understood, so the connection ends here instead of lingering half open.
            pn_connection_driver_write_close(&m_driver);
            m_again = true;
        }
        // Bytes still waiting in the device once Proton had room again: Qt signals readyRead only for new data,
        // so they are read now rather than left (a peer's detach or close among them) unread.
    } while ((m_again || moreToRead()) && !pn_connection_driver_finished(&m_driver));
    m_processing = false;

    if (pn_connection_driver_write_closed(&m_driver) && m_device && !m_deviceClosed) {
        // Everything Proton had to say is written: let the device send it and close.
        if (auto *socket = qobject_cast<QAbstractSocket *>(m_device.data()))
            socket->disconnectFromHost();
        else
            m_device->close(); // a stream (WebSocket) sends what it holds before its close
    }
    if (pn_connection_driver_finished(&m_driver)) {
        finish();
        return;
    }
    const int64_t now = nowMs();
    const int64_t deadline = pn_transport_tick(m_driver.transport, now);
    // Bytes still in the device that Proton had no room for: Qt signals readyRead only for new data, so they are
    // read on a timer (soon) rather than whenever the peer next sends something, which may be never (a detach
    // waiting for its answer).
    const bool unread = m_device && !m_deviceClosed && (m_device->bytesAvailable() > 0 || !m_filter.output().isEmpty());
    if (deadline > 0 || unread)
        m_tick.start(unread ? 10 : int(std::clamp<int64_t>(deadline - now, 1, 3600000)));
}

void AmqpConnection::deviceClosed()
{
    if (m_deviceClosed)
        return;
    m_deviceClosed = true;
    if (m_finished)
        return;
    if (!m_started) {
        finish();
        return;
    }
    readFromDevice();
    pn_connection_driver_read_close(&m_driver);
    pn_connection_driver_write_close(&m_driver);
    process();
}

void AmqpConnection::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    m_tick.stop();
    QString error = conditionText(pn_transport_condition(m_driver.transport));
    if (error.isEmpty())
        error = conditionText(pn_connection_remote_condition(m_driver.connection));
    if (m_device && !m_deviceClosed) {
        if (auto *socket = qobject_cast<QAbstractSocket *>(m_device.data()))
            socket->disconnectFromHost();
        else
            m_device->close();
    }
    Q_EMIT finished(error);
}

} // namespace Onboarder
