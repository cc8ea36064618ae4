// The sandbox hub's AMQP endpoint (sandbox/hub/amqpendpoint.h: AmqpEndpoint over AmqpConnection and Proton, what
// every client on the AMQP port or the WebSocket path reaches first), fed what a client sends on one connection: the
// first input byte chooses the size of the pieces the rest comes in (1 + 2 × its value), and the event loop turns
// after every fourth piece, then the client goes away. Promises: nothing crashes; whatever arrived, the connection
// whose peer is gone is forgotten (no peer left behind); the endpoint still serves a well-behaved client afterwards
// (CBS token accepted, events link attached, $management answered), and forgets it too once it is gone.
// The seed stream is what a scripted Proton client sends (the same as ScriptedClient below): protocol header, SASL
// ANONYMOUS, open, begin, $cbs links and two put-tokens, a $management READ, an Event Hub receiver with a selector
// filter, a cloud-to-device sender and its message, the feedback receiver, close. Its tokens are signed with the
// service policy's key that the harness gives the hub (ServiceKey), and expire in 2100.
#include "amqp/amqpconnection.h"
#include "amqp/amqpmessage.h"
#include "amqp/amqpvalue.h"
#include "amqpendpoint.h"
#include "cloudtodevice.h"
#include "eventlog.h"
#include "fuzzcheck.h"
#include "hub/sastoken.h"
#include "registry.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QIODevice>
#include <QPointer>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QSslConfiguration>
#include <QStringList>
#include <QTemporaryDir>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <proton/codec.h>
#include <proton/connection.h>
#include <proton/delivery.h>
#include <proton/event.h>
#include <proton/link.h>
#include <proton/session.h>
#include <proton/terminus.h>

using namespace Onboarder;
using namespace Onboarder::Sandbox;

namespace {

const QString HostName = QStringLiteral("fuzz-hub.azure-devices.net");
const QString EventHub = QStringLiteral("iothub-ehub-fuzz");
// The service policy's primary key, as the seed corpus's tokens were signed with it.
const QString ServiceKey = QStringLiteral("c2VydmljZS1wb2xpY3ktcHJpbWFyeS1rZXktb2YtZnV6ei1odWI=");

// One end of an in-memory byte pipe: what the other end writes arrives here (on the next turn of the event
// loop, as from a socket); close() is the peer going away.
class MemoryStream final : public QIODevice
{
public:
    MemoryStream() { open(QIODevice::ReadWrite | QIODevice::Unbuffered); }
    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override { return m_in.size() + QIODevice::bytesAvailable(); }

    QPointer<MemoryStream> peer;

    // The peer hears of it on the next turn, as of a TCP FIN.
    void close() override
    {
        if (!isOpen())
            return;
        QIODevice::close();
        if (peer)
            QMetaObject::invokeMethod(
                peer.data(),
                [target = peer] {
                    if (target)
                        target->close();
                },
                Qt::QueuedConnection);
    }

    void feed(const QByteArray &bytes)
    {
        if (!isOpen())
            return;
        m_in += bytes;
        Q_EMIT readyRead();
    }

protected:
    qint64 readData(char *data, qint64 max) override
    {
        const qint64 count = qMin<qint64>(max, m_in.size());
        if (count == 0)
            return isOpen() ? 0 : -1;
        std::memcpy(data, m_in.constData(), size_t(count));
        m_in.remove(0, count);
        return count;
    }
    qint64 writeData(const char *data, qint64 size) override
    {
        const QByteArray bytes(data, size);
        if (peer)
            QMetaObject::invokeMethod(
                peer.data(),
                [target = peer, bytes] {
                    if (target)
                        target->feed(bytes);
                },
                Qt::QueuedConnection);
        return size;
    }

private:
    QByteArray m_in;
};

void settle()
{
    for (int i = 0; i < 4; ++i) {
        QCoreApplication::processEvents(QEventLoop::AllEvents);
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    }
}

[[noreturn]] void harnessFailed(const char *what)
{
    std::fprintf(stderr, "fuzz_amqpendpoint: %s\n", what);
    std::abort();
}

QString token(const QString &resource, const QString &key, const QString &policy)
{
    const auto made = SasToken::create(resource, key, QDateTime::currentSecsSinceEpoch() + 3600, policy);
    return made ? made->toString() : QString();
}

pn_link_t *openLink(pn_session_t *session, bool sender, const char *name, const QString &address)
{
    pn_link_t *link = sender ? pn_sender(session, name) : pn_receiver(session, name);
    const QByteArray bytes = address.toUtf8();
    pn_terminus_set_address(sender ? pn_link_target(link) : pn_link_source(link), bytes.constData());
    pn_terminus_set_address(sender ? pn_link_source(link) : pn_link_target(link), "fuzz-client");
    return link;
}

// A client that does what the SDKs do, in one go; how far it got is in stages.
struct ScriptedClient
{
    QString serviceKey;
    int stages
        = 0; // bits: 1 CBS answered 200, 2 events link attached by the peer, 4 READ sent, 8 C2D sent, 16 READ answered
    bool cbsSent = false;
    bool laterLinksOpened = false;
    pn_link_t *cbsSender = nullptr;
    pn_link_t *managementSender = nullptr;
    pn_link_t *c2dSender = nullptr;
    pn_link_t *events = nullptr;

    void handle(pn_event_t *event)
    {
        switch (pn_event_type(event)) {
        case PN_LINK_FLOW: {
            pn_link_t *link = pn_event_link(event);
            if (link == cbsSender && !cbsSent && pn_link_credit(link) > 0) {
                cbsSent = true;
                for (const QString &audience : {HostName, QStringLiteral("sb://%1/%2").arg(HostName, EventHub)}) {
                    AmqpMessage put;
                    put.messageId = QString(QStringLiteral("put-") + audience);
                    put.replyTo = QStringLiteral("cbs-replies");
                    put.applicationProperties.insertString(QStringLiteral("operation"), QStringLiteral("put-token"));
                    put.applicationProperties.insertString(
                        QStringLiteral("type"), QStringLiteral("servicebus.windows.net:sastoken"));
                    put.applicationProperties.insertString(QStringLiteral("name"), audience);
                    put.body = token(audience, serviceKey, QStringLiteral("service"));
                    put.bodyIsValue = true;
                    Amqp::send(link, put);
                }
            } else if (link == managementSender && pn_link_credit(link) > 0 && pn_link_queued(link) == 0
                && !(stages & 4)) {
                stages |= 4;
                AmqpMessage read;
                read.messageId = QStringLiteral("mgmt-1");
                read.replyTo = QStringLiteral("mgmt-replies");
                read.applicationProperties.insertString(QStringLiteral("operation"), QStringLiteral("READ"));
                read.applicationProperties.insertString(QStringLiteral("name"), EventHub);
                read.applicationProperties.insertString(
                    QStringLiteral("type"), QStringLiteral("com.microsoft:partition"));
                read.applicationProperties.insertString(QStringLiteral("partition"), QStringLiteral("0"));
                read.body = QVariantList{};
                Amqp::send(link, read);
            } else if (link == c2dSender && pn_link_credit(link) > 0 && !(stages & 8)) {
                stages |= 8;
                AmqpMessage message;
                message.messageId = QStringLiteral("c2d-1");
                message.to = QStringLiteral("/devices/fuzz-device/messages/devicebound");
                message.applicationProperties.insertString(QStringLiteral("colour"), QStringLiteral("blue"));
                message.messageAnnotations.insertSymbol("iothub-ack", QStringLiteral("full"));
                message.body = QByteArray("hello");
                Amqp::send(link, message);
            }
            break;
        }
        case PN_DELIVERY: {
            pn_delivery_t *delivery = pn_event_delivery(event);
            pn_link_t *link = pn_delivery_link(delivery);
            if (pn_link_is_receiver(link) && !pn_delivery_partial(delivery) && pn_delivery_readable(delivery)) {
                const auto bytes = Amqp::receive(delivery);
                const auto message = bytes ? AmqpMessage::decode(*bytes) : std::nullopt;
                pn_delivery_update(delivery, PN_ACCEPTED);
                pn_delivery_settle(delivery);
                const QString name = QString::fromUtf8(pn_link_name(link));
                if (message && name == QLatin1String("cbs-receiver")
                    && message->applicationProperties.value(QStringLiteral("status-code")).toInt() == 200)
                    stages |= 1;
                if (message && name == QLatin1String("mgmt-receiver"))
                    stages |= 16;
                if (stages & 1 && !laterLinksOpened)
                    openLaterLinks(pn_link_session(link));
            } else if (pn_link_is_sender(link) && pn_delivery_updated(delivery)) {
                pn_delivery_settle(delivery);
            }
            break;
        }
        case PN_LINK_REMOTE_OPEN:
            if (pn_event_link(event) == events)
                stages |= 2;
            break;
        default: break;
        }
    }

    void openLaterLinks(pn_session_t *session)
    {
        laterLinksOpened = true;
        managementSender = openLink(session, true, "mgmt-sender", QStringLiteral("$management"));
        pn_link_t *managementReceiver = openLink(session, false, "mgmt-receiver", QStringLiteral("$management"));
        pn_terminus_set_address(pn_link_target(managementReceiver), "mgmt-replies");
        events = openLink(
            session, false, "events", QStringLiteral("%1/ConsumerGroups/$Default/Partitions/0").arg(EventHub));
        AmqpMap filter;
        filter.insertSymbol("apache.org:selector-filter:string",
            QVariant::fromValue(AmqpDescribed{QVariant::fromValue(AmqpSymbol{"apache.org:selector-filter:string"}),
                QStringLiteral("amqp.annotation.x-opt-offset > '-1'")}));
        Amqp::write(pn_terminus_filter(pn_link_source(events)), QVariant::fromValue(filter));
        c2dSender = openLink(session, true, "c2d", QStringLiteral("/messages/devicebound"));
        pn_link_t *feedback = openLink(session, false, "feedback", QStringLiteral("/messages/servicebound/feedback"));
        pn_link_t *redirected = openLink(session, false, "redirected", QStringLiteral("messages/events"));
        for (pn_link_t *link : {managementSender, managementReceiver, events, c2dSender, feedback, redirected}) {
            pn_link_open(link);
            if (pn_link_is_receiver(link))
                pn_link_flow(link, 10);
        }
    }
};

// Runs the scripted client against the endpoint over a memory pipe; returns how far it got.
ScriptedClient runScriptedClient(AmqpEndpoint &endpoint, const QString &serviceKey)
{
    ScriptedClient script;
    script.serviceKey = serviceKey;
    QPointer<MemoryStream> serverEnd = new MemoryStream;
    QPointer<MemoryStream> clientEnd = new MemoryStream;
    serverEnd->peer = clientEnd;
    clientEnd->peer = serverEnd;
    endpoint.adopt(serverEnd.data());
    AmqpConnection client(AmqpConnection::Role::Client, clientEnd);
    client.setClientSasl({}, {});
    client.setClientIdentity(HostName, QStringLiteral("fuzz-client"));
    client.setHandler([&script](pn_event_t *event) { script.handle(event); });
    pn_connection_open(client.connection());
    pn_session_t *session = pn_session(client.connection());
    pn_session_open(session);
    script.cbsSender = openLink(session, true, "cbs-sender", QStringLiteral("$cbs"));
    pn_link_t *cbsReceiver = openLink(session, false, "cbs-receiver", QStringLiteral("$cbs"));
    pn_terminus_set_address(pn_link_target(cbsReceiver), "cbs-replies");
    pn_link_open(script.cbsSender);
    pn_link_open(cbsReceiver);
    pn_link_flow(cbsReceiver, 10);
    client.start();
    for (int turn = 0; turn < 200 && !((script.stages & 19) == 19); ++turn)
        settle();
    pn_connection_close(client.connection());
    client.schedule();
    settle();
    if (clientEnd)
        clientEnd->close();
    settle();
    return script;
}

// A hub with its AMQP endpoint, made once: each input is a connection of its own, and a connection leaves nothing
// behind in the endpoint once it is gone (the first promise), nor elsewhere: the hub has no device, so a
// cloud-to-device message is refused, and the event log stays empty.
struct Harness
{
    QTemporaryDir dir;
    Registry registry;
    EventLog events;
    std::optional<CloudToDevice> cloudToDevice;
    std::optional<AmqpEndpoint> endpoint;

    Harness()
    {
        const QString registryPath = dir.filePath(QStringLiteral("registry.db"));
        if (!dir.isValid() || !registry.open(registryPath))
            harnessFailed("cannot open a registry");
        {
            // The registry makes its policies' keys at random; the seed stream needs the service policy's fixed.
            QSqlDatabase database = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("fuzz-keys"));
            database.setDatabaseName(registryPath);
            if (!database.open())
                harnessFailed("cannot open the registry's database");
            QSqlQuery query(database);
            query.prepare(QStringLiteral("UPDATE policies SET primary_key = ? WHERE name = 'service'"));
            query.addBindValue(ServiceKey);
            if (!query.exec() || query.numRowsAffected() != 1)
                harnessFailed("cannot set the service policy's key");
        }
        QSqlDatabase::removeDatabase(QStringLiteral("fuzz-keys"));
        const auto service = registry.policy(QStringLiteral("service"));
        if (!service || service->primaryKey != ServiceKey)
            harnessFailed("the registry's service policy does not have the seed corpus's key");
        if (!events.open(dir.filePath(QStringLiteral("eventhub.db")), EventLog::Options{}))
            harnessFailed("cannot open an event log");
        cloudToDevice.emplace(registry);
        endpoint.emplace(
            registry, events, *cloudToDevice, QSslConfiguration::defaultConfiguration(), HostName, EventHub);
        // The well-behaved client gets through before any input (else the harness, not the endpoint, is broken).
        if ((runScriptedClient(*endpoint, ServiceKey).stages & 19) != 19 || endpoint->peerCount() != 0)
            harnessFailed("the scripted client did not get through (CBS, events link, management)");
    }
};

Harness *harness = nullptr;

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static QCoreApplication *application = new QCoreApplication(*argc, *argv);
    Q_UNUSED(application)
    static Harness made;
    harness = &made;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const qsizetype pieceSize = 1 + 2 * qsizetype(data[0]);
    const QByteArray input(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    AmqpEndpoint &endpoint = *harness->endpoint;

    auto *serverEnd = new MemoryStream;
    endpoint.adopt(serverEnd);
    QPointer<MemoryStream> alive(serverEnd);
    qsizetype pieces = 0;
    for (qsizetype at = 0; at < input.size() && alive; at += pieceSize) {
        alive->feed(input.mid(at, pieceSize));
        if (++pieces % 4 == 0)
            settle();
    }
    settle();
    if (alive)
        alive->close();
    settle();
    FUZZ_CHECK(endpoint.peerCount() == 0);

    FUZZ_CHECK((runScriptedClient(endpoint, ServiceKey).stages & 19) == 19);
    FUZZ_CHECK(endpoint.peerCount() == 0);
    return 0;
}
