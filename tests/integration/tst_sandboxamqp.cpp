// The sandbox hub's AMQP endpoint under bad input, in-process: garbage instead of a protocol header, a header
// followed by malformed frames, random frames (seeded, printed), a failed SASL PLAIN, an unknown link address and an
// oversized message. Each ends that connection (malformed bytes), or that link with an AMQP error condition; the
// sandbox keeps serving.
#include "amqp/amqpclient.h"
#include "amqp/amqpmessage.h"
#include "hub/connectionstring.h"
#include "hub/sastoken.h"
#include "inprocesshub.h"
#include "sandboxhub.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QTest>

#include <proton/connection.h>
#include <proton/connection_driver.h>
#include <proton/link.h>

using namespace Onboarder;

class tst_SandboxAmqp : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    TestSupport::InProcessHub m_hub;
    HubProfile m_profile;

    // Sends bytes on a fresh TLS connection and returns what came back before the sandbox closed it (or 5 s).
    QByteArray exchange(const QByteArray &bytes, int waitMs = 5000)
    {
        QSslSocket socket;
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setCaCertificates(tls.caCertificates() + QSslCertificate::fromPath(m_profile.caFile));
        socket.setSslConfiguration(tls);
        // The sandbox runs in this thread: wait with the event loop turning, never with waitFor…().
        QSignalSpy encrypted(&socket, &QSslSocket::encrypted);
        socket.connectToHostEncrypted(m_profile.hostName, quint16(m_profile.amqpPort));
        if (!encrypted.wait(5000))
            return "no TLS: " + socket.errorString().toUtf8();
        socket.write(bytes);
        QByteArray received;
        QDeadlineTimer deadline(waitMs);
        while (socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
            QTest::qWait(20);
            received += socket.readAll();
        }
        received += socket.readAll();
        return received;
    }

    // The sandbox still takes a client's whole exchange: open, token, a sender.
    void stillServes()
    {
        AmqpClient client;
        QSignalSpy opened(&client, &AmqpClient::opened);
        AmqpClient::Endpoint endpoint;
        endpoint.host = m_profile.hostName;
        endpoint.port = quint16(m_profile.amqpPort);
        endpoint.caFile = m_profile.caFile;
        client.open(std::move(endpoint));
        QVERIFY(opened.wait(10000));
    }

    QString ownerToken(const QString &resource) const
    {
        const auto owner = ConnectionString::parse(m_hub->ownerConnectionString());
        return SasToken::create(
            resource, owner->sharedAccessKey(), QDateTime::currentSecsSinceEpoch() + 600, owner->sharedAccessKeyName())
            ->toString();
    }

private Q_SLOTS:
    void initTestCase()
    {
        const QString started = m_hub.start(m_dir.filePath(QStringLiteral("hub")));
        QVERIFY2(started.isEmpty(), qPrintable(started));
        m_profile = m_hub.profile();
        QVERIFY(m_profile.amqpPort > 0);
    }

    void garbageInsteadOfAHeader()
    {
        const QByteArray answer = exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        // Proton answers with its own protocol header (what it would speak) and closes.
        QVERIFY2(answer.startsWith("AMQP"), answer.toHex().constData());
        stillServes();
    }

    void malformedFramesEndTheConnection()
    {
        // A proper start (protocol header and open, as Proton's own client writes them), then a begin frame whose
        // list says 255 bytes and 5 fields but ends after 2 bytes.
        pn_connection_driver_t driver;
        pn_connection_driver_init(&driver, nullptr, nullptr);
        pn_connection_open(driver.connection);
        QByteArray hello;
        for (;;) {
            while (pn_connection_driver_next_event(&driver)) { }
            const pn_bytes_t out = pn_connection_driver_write_buffer(&driver);
            if (out.size == 0)
                break;
            hello.append(out.start, qsizetype(out.size));
            pn_connection_driver_write_done(&driver, out.size);
        }
        pn_connection_driver_destroy(&driver);
        QVERIFY(hello.startsWith(QByteArray("AMQP\x00\x01\x00\x00", 8)));
        const QByteArray frame = QByteArray::fromHex("0000000e02000000") + QByteArray::fromHex("005311c0ff05");
        // Proton stops reading at the first undecodable frame and the sandbox drops that connection at once (the
        // framing error is in its log); a client waiting for more would otherwise hang.
        QElapsedTimer closing;
        closing.start();
        const QByteArray answer = exchange(hello + frame);
        QVERIFY2(closing.elapsed() < 4000, qPrintable(QString::number(closing.elapsed())));
        QVERIFY2(answer.startsWith(QByteArray("AMQP\x00\x01\x00\x00", 8)), answer.toHex().constData());
        QVERIFY2(!answer.contains(QByteArray::fromHex("005311")), answer.toHex().constData()); // no session was begun

        // Garbage before any open: dropped at once as well.
        closing.restart();
        exchange(QByteArray("AMQP\x00\x01\x00\x00", 8) + frame);
        QVERIFY2(closing.elapsed() < 4000, qPrintable(QString::number(closing.elapsed())));
        stillServes();
    }

    void randomFramesNeverStopTheSandbox()
    {
        const quint32 seed = QRandomGenerator::global()->generate();
        qInfo("seed %u", seed);
        QRandomGenerator random(seed);
        const QByteArray header("AMQP\x00\x01\x00\x00", 8);
        for (int round = 0; round < 40; ++round) {
            QByteArray bytes = header;
            const int frames = 1 + int(random.bounded(4));
            for (int f = 0; f < frames; ++f) {
                const int size = 12 + int(random.bounded(120));
                QByteArray frame(size, Qt::Uninitialized);
                for (char &c : frame)
                    c = char(random.bounded(256));
                frame[0] = char(size >> 24);
                frame[1] = char(size >> 16);
                frame[2] = char(size >> 8);
                frame[3] = char(size);
                frame[4] = 2; // doff: a header of 8 bytes
                frame[5] = 0; // AMQP frame
                frame[8] = 0; // a described type follows (most often: a wrong one)
                bytes += frame;
            }
            exchange(bytes, 200); // a frame cut short leaves the connection waiting for the rest: fine
        }
        stillServes();
    }

    void saslInitWithoutAMechanismIsRefused()
    {
        // Found by fuzz_amqpendpoint: a sasl-init whose mechanism is null (not a symbol) crashed the sandbox.
        // SASL header, then sasl-init (0x41) as a list of one field, null.
        const QByteArray saslHeader("AMQP\x03\x01\x00\x00", 8);
        const QByteArray init = QByteArray::fromHex("0000000f02010000") + QByteArray::fromHex("005341c0020140");
        const QByteArray answer = exchange(saslHeader + init, 3000);
        QVERIFY2(answer.startsWith(saslHeader), answer.toHex().constData());
        // sasl-mechanisms (0x40), then sasl-outcome (0x44) with code 1 (auth: the credentials were refused).
        QVERIFY2(answer.contains(QByteArray::fromHex("005340")), answer.toHex().constData());
        QVERIFY2(answer.contains(QByteArray::fromHex("005344")), answer.toHex().constData());
        stillServes();
    }

    void failedPlainIsRefused()
    {
        AmqpClient client;
        QSignalSpy closed(&client, &AmqpClient::closed);
        AmqpClient::Endpoint endpoint;
        endpoint.host = m_profile.hostName;
        endpoint.port = quint16(m_profile.amqpPort);
        endpoint.caFile = m_profile.caFile;
        endpoint.plainUser = QStringLiteral("iothubowner@sas.root.sandbox");
        endpoint.plainPassword = SecretBytes::fromView("SharedAccessSignature sr=x&sig=bm90IGl0&se=1&skn=iothubowner");
        client.open(std::move(endpoint));
        QVERIFY(closed.wait(10000));
        const Error error = closed.at(0).at(0).value<Error>();
        QCOMPARE(error.kind, ErrorKind::AuthRefused);
        stillServes();
    }

    void unknownAddressAndOversizedMessageCloseTheirLink()
    {
        AmqpClient client;
        QSignalSpy opened(&client, &AmqpClient::opened);
        QSignalSpy linkClosed(&client, &AmqpClient::linkClosed);
        AmqpClient::Endpoint endpoint;
        endpoint.host = m_profile.hostName;
        endpoint.port = quint16(m_profile.amqpPort);
        endpoint.caFile = m_profile.caFile;
        client.open(std::move(endpoint));
        QVERIFY(opened.wait(10000));

        pn_link_t *nowhere = client.openReceiver(QStringLiteral("no/such/node"));
        QVERIFY(nowhere);
        QTRY_VERIFY_WITH_TIMEOUT(!linkClosed.isEmpty(), 10000);
        QCOMPARE(linkClosed.at(0).at(1).toString(), QStringLiteral("amqp:not-found"));

        bool put = false;
        client.putToken(m_profile.hostName, ownerToken(m_profile.hostName),
            [&put](Result<void> result) { put = result.has_value(); });
        QTRY_VERIFY_WITH_TIMEOUT(put, 10000);
        pn_link_t *sender = client.openSender(QStringLiteral("/messages/devicebound"));
        QSignalSpy credit(&client, &AmqpClient::creditAvailable);
        QVERIFY(credit.wait(10000));
        AmqpMessage huge;
        huge.to = QStringLiteral("/devices/anyone/messages/devicebound");
        huge.body = QByteArray(300 * 1024, 'x');
        Amqp::send(sender, huge);
        client.schedule();
        QTRY_VERIFY_WITH_TIMEOUT(linkClosed.size() >= 2, 10000);
        QCOMPARE(linkClosed.at(1).at(1).toString(), QStringLiteral("amqp:link:message-size-exceeded"));
        stillServes();
    }
};

QTEST_GUILESS_MAIN(tst_SandboxAmqp)
#include "tst_sandboxamqp.moc"
