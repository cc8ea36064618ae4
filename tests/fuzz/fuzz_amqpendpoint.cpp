// Feeds the sandbox hub's AMQP endpoint (AmqpEndpoint over AmqpConnection and Proton: what every client on the
// AMQP port or the WebSocket path reaches first) with mutated copies of a real client's byte stream, and checks
// that nothing crashes and the endpoint keeps its promises:
//   - whatever arrives, a connection whose peer is gone is forgotten (no peer left behind);
//   - the endpoint still serves a well-behaved client afterwards (CBS token accepted, links attached).
// The seed stream is recorded from a scripted client talking to the endpoint: protocol header, SASL ANONYMOUS,
// open, begin, $cbs links and a put-token, a $management READ, an Event Hub receiver with a selector filter,
// a cloud-to-device sender and its message, the feedback receiver.
// Usage: fuzz_amqpendpoint [--cases N] [--seed S]
#include "amqp/amqpconnection.h"
#include "amqp/amqpmessage.h"
#include "amqp/amqpvalue.h"
#include "amqpendpoint.h"
#include "cloudtodevice.h"
#include "eventlog.h"
#include "hub/sastoken.h"
#include "registry.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QIODevice>
#include <QPointer>
#include <QRandomGenerator>
#include <QSslConfiguration>
#include <QStringList>
#include <QTemporaryDir>

#include <cstdio>
#include <cstdlib>
#include <cstring>
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

// One end of an in-memory byte pipe: what the other end writes arrives here (on the next turn of the event
// loop, as from a socket); close() is the peer going away.
class MemoryStream final : public QIODevice
{
public:
    MemoryStream() { open(QIODevice::ReadWrite | QIODevice::Unbuffered); }
    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override { return m_in.size() + QIODevice::bytesAvailable(); }

    QPointer<MemoryStream> peer;
    QByteArray *record = nullptr; // where what this end writes is also kept

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
        if (record)
            *record += bytes;
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

[[noreturn]] void failed(const char *what, quint32 seed, qsizetype caseNumber)
{
    std::fprintf(
        stderr, "fuzz_amqpendpoint: %s (seed %u, case %lld)\n", what, seed, static_cast<long long>(caseNumber));
    std::exit(1);
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

// A client that does what the SDKs do, in one go; returns how far it got (stages reached) and records its bytes.
struct ScriptedClient
{
    QString serviceKey;
    QByteArray recorded;
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

// Runs the scripted client against the endpoint over a memory pipe; returns its stages and recorded bytes.
ScriptedClient runScriptedClient(AmqpEndpoint &endpoint, const QString &serviceKey)
{
    ScriptedClient script;
    script.serviceKey = serviceKey;
    QPointer<MemoryStream> serverEnd = new MemoryStream;
    QPointer<MemoryStream> clientEnd = new MemoryStream;
    serverEnd->peer = clientEnd;
    clientEnd->peer = serverEnd;
    clientEnd->record = &script.recorded;
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

QByteArray mutate(const QByteArray &seed, QRandomGenerator &random)
{
    QByteArray bytes = seed;
    const int edits = 1 + int(random.bounded(6));
    for (int i = 0; i < edits && !bytes.isEmpty(); ++i) {
        const qsizetype at = qsizetype(random.bounded(quint32(bytes.size())));
        switch (random.bounded(9)) {
        case 0: // size-preserving: frame sizes stay right, so the mutation reaches the frame's body
        case 1: bytes[at] = char(bytes.at(at) ^ (1 << random.bounded(8))); break;
        case 2: {
            static const char interesting[] = {0x00, char(0xff), 0x7f, char(0x80), 0x40, char(0xa1), char(0xb1),
                char(0xc0), char(0xd0), char(0xe0), char(0xf0)};
            bytes[at] = interesting[random.bounded(int(sizeof interesting))];
            break;
        }
        case 3: // a 32-bit size or count set to something extreme
            if (at + 4 <= bytes.size()) {
                const quint32 values[] = {0, 1, 0x7fffffff, 0xffffffff, quint32(bytes.size()), 0x10000};
                const quint32 v = values[random.bounded(int(std::size(values)))];
                for (int b = 0; b < 4; ++b)
                    bytes[at + b] = char((v >> (24 - 8 * b)) & 0xff);
            }
            break;
        case 4: bytes.truncate(at); break;
        case 5: bytes.remove(at, qsizetype(random.bounded(64)) + 1); break;
        case 6: {
            QByteArray noise(qsizetype(random.bounded(32)) + 1, Qt::Uninitialized);
            for (char &c : noise)
                c = char(random.bounded(256));
            bytes.insert(at, noise);
            break;
        }
        case 7: { // a stretch repeated (frames sent twice: a second open, a second attach of the same name)
            const qsizetype length = qMin<qsizetype>(qsizetype(random.bounded(256)) + 1, bytes.size() - at);
            bytes.insert(at, bytes.mid(at, length));
            break;
        }
        default: { // a stretch moved elsewhere (frames out of order)
            const qsizetype length = qMin<qsizetype>(qsizetype(random.bounded(128)) + 1, bytes.size() - at);
            const QByteArray moved = bytes.mid(at, length);
            bytes.remove(at, length);
            bytes.insert(qsizetype(random.bounded(quint32(bytes.size() + 1))), moved);
            break;
        }
        }
    }
    return bytes;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    qsizetype cases = 500;
    quint32 seed = QRandomGenerator::global()->generate();
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i + 1 < args.size(); i += 2) {
        if (args.at(i) == QLatin1String("--cases"))
            cases = args.at(i + 1).toLongLong();
        else if (args.at(i) == QLatin1String("--seed"))
            seed = args.at(i + 1).toUInt();
    }
    std::printf("fuzz_amqpendpoint: %lld cases, seed %u\n", static_cast<long long>(cases), seed);
    std::fflush(stdout);

    QTemporaryDir dir;
    Registry registry;
    if (!dir.isValid() || !registry.open(dir.filePath(QStringLiteral("registry.db"))))
        failed("cannot open a registry", seed, -1);
    EventLog events;
    if (!events.open(dir.filePath(QStringLiteral("eventhub.db")), EventLog::Options{}))
        failed("cannot open an event log", seed, -1);
    CloudToDevice cloudToDevice(registry);
    const auto service = registry.policy(QStringLiteral("service"));
    if (!service)
        failed("the registry has no service policy", seed, -1);
    AmqpEndpoint endpoint(
        registry, events, cloudToDevice, QSslConfiguration::defaultConfiguration(), HostName, EventHub);

    const ScriptedClient reference = runScriptedClient(endpoint, service->primaryKey);
    if ((reference.stages & 19) != 19 || reference.recorded.size() < 200)
        failed("the scripted client did not get through (CBS, events link, management): the seed stream is not real",
            seed, -1);
    if (endpoint.peerCount() != 0)
        failed("a closed connection is still a peer", seed, -1);

    QRandomGenerator random(seed);
    for (qsizetype n = 0; n < cases; ++n) {
        const QByteArray input = random.bounded(20) == 0 ? reference.recorded : mutate(reference.recorded, random);
        auto *serverEnd = new MemoryStream;
        endpoint.adopt(serverEnd);
        QPointer<MemoryStream> alive(serverEnd);
        // In chunks of any size, as TCP may cut it.
        for (qsizetype at = 0; at < input.size() && alive;) {
            const qsizetype chunk = qMin<qsizetype>(input.size() - at, qsizetype(random.bounded(512)) + 1);
            alive->feed(input.mid(at, chunk));
            at += chunk;
            if (random.bounded(4) == 0)
                settle();
        }
        settle();
        if (alive)
            alive->close();
        settle();
        if (endpoint.peerCount() != 0)
            failed("a connection whose peer went away is still held by the endpoint", seed, n);
    }

    // Still serving.
    const ScriptedClient after = runScriptedClient(endpoint, service->primaryKey);
    if ((after.stages & 19) != 19)
        failed("after the fuzzed input, a well-behaved client is no longer served", seed, cases);
    std::printf("fuzz_amqpendpoint: %lld cases, no defect; seed stream %lld bytes\n", static_cast<long long>(cases),
        static_cast<long long>(reference.recorded.size()));
    return 0;
}
