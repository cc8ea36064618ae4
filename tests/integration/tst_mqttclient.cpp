// MqttClient against a real mosquitto: round trips, MQTT 5 user properties, refusals, TLS, client
// certificates, broker crash and reconnect, threads, destruction.
#include "mosquittofixture.h"
#include "mqtt/mqttclient.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QMutex>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <functional>
#include <memory>

using namespace Onboarder;

namespace {

bool waitUntil(const std::function<bool()> &condition, int timeoutMs = 5000)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!condition()) {
        if (deadline.hasExpired())
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
        QThread::msleep(2);
    }
    return true;
}

// Lets the event loop run for a while (for things that must not happen).
void settle(int ms)
{
    waitUntil([] { return false; }, ms);
}

// A client and everything it signalled. Every slot runs as a direct connection, so a signal emitted on a Paho
// thread would run it there: `offThread` counts those.
struct Probe
{
    QThread *owner = QThread::currentThread();
    int offThread = 0;
    int connectedCount = 0;
    int disconnectedCount = 0;
    QList<MqttClient::State> states;
    QList<Error> errors;
    QList<MqttMessage> messages;
    QList<int> delivered;
    QList<std::pair<QString, int>> subscribed;
    QList<std::pair<QString, Error>> subscriptionFailures;
    QStringList unsubscribed;
    std::unique_ptr<MqttClient> client = std::make_unique<MqttClient>(); // last: destroyed first

    Probe()
    {
        MqttClient *c = client.get();
        const auto on = [this, c](auto signal, auto slot) {
            QObject::connect(
                c, signal, c,
                [this, slot](auto... args) {
                    if (QThread::currentThread() != owner)
                        ++offThread;
                    slot(args...);
                },
                Qt::DirectConnection);
        };
        on(&MqttClient::stateChanged, [this](MqttClient::State state) { states.append(state); });
        on(&MqttClient::connected, [this] { ++connectedCount; });
        on(&MqttClient::disconnected, [this] { ++disconnectedCount; });
        on(&MqttClient::errorOccurred, [this](const Error &error) { errors.append(error); });
        on(&MqttClient::messageReceived, [this](const MqttMessage &message) { messages.append(message); });
        on(&MqttClient::messageDelivered, [this](int token) { delivered.append(token); });
        on(&MqttClient::subscribed, [this](const QString &filter, int qos) { subscribed.append({filter, qos}); });
        on(&MqttClient::subscriptionFailed, [this](const QString &filter, const Error &error) {
            subscriptionFailures.append({filter, error});
        });
        on(&MqttClient::unsubscribed, [this](const QString &filter) { unsubscribed.append(filter); });
    }

    MqttClient *operator->() { return client.get(); }

    bool waitConnected(int count = 1, int timeoutMs = 5000)
    {
        return waitUntil([&] { return connectedCount >= count || (!errors.isEmpty() && count == 1); }, timeoutMs)
            && connectedCount >= count;
    }

    bool waitError(int timeoutMs = 5000)
    {
        return waitUntil([&] { return !errors.isEmpty(); }, timeoutMs);
    }

    void start(const QString &host, int port, MqttClient::ProtocolVersion version)
    {
        client->setHostname(host);
        client->setPort(port);
        client->setProtocolVersion(version);
        client->connectToHost();
    }

    bool connectTo(const QString &host, int port, MqttClient::ProtocolVersion version)
    {
        start(host, port, version);
        return waitConnected();
    }

    bool settled() const { return connectedCount > 0 || !errors.isEmpty(); }

    bool subscribeAndWait(const QString &filter, int qos)
    {
        const qsizetype before = subscribed.size();
        return client->subscribe(filter, qos).has_value() && waitUntil([&] { return subscribed.size() > before; });
    }

    QString lastError() const
    {
        return errors.isEmpty() ? QString() : errors.last().code + u' ' + errors.last().message;
    }
};

bool waitAllSettled(std::initializer_list<Probe *> probes, int timeoutMs = 6000)
{
    return waitUntil(
        [&] { return std::all_of(probes.begin(), probes.end(), [](Probe *p) { return p->settled(); }); }, timeoutMs);
}

int clientNumber = 0;

std::unique_ptr<Probe> makeProbe(MqttClient::ProtocolVersion version = MqttClient::ProtocolVersion::Mqtt311)
{
    auto probe = std::make_unique<Probe>();
    (*probe)->setClientId(QStringLiteral("tst-mqttclient-%1").arg(++clientNumber));
    (*probe)->setProtocolVersion(version);
    return probe;
}

// Log lines of the process while a test runs (to prove that no secret is logged).
QStringList capturedLog;
QtMessageHandler previousHandler = nullptr;

void captureMessage(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    capturedLog.append(message);
    if (previousHandler)
        previousHandler(type, context, message);
}

} // namespace

class tst_MqttClient : public QObject
{
    Q_OBJECT

    // Paho 1.3's receive thread looks at sockets opened meanwhile only when its select() returns, which it
    // does when data arrives or after one second; so a connection opened while another is (or just was) open
    // takes one to two seconds. To keep this test fast, one connection receives a small message every 20 ms
    // (while the test waits), which ends those selects early. The tests also open connections in parallel.
    MosquittoFixture m_wakerBroker;
    std::unique_ptr<MqttClient> m_waker;
    QTimer m_wakeTimer;

    static std::unique_ptr<Probe> probe(MqttClient::ProtocolVersion version = MqttClient::ProtocolVersion::Mqtt311)
    {
        return makeProbe(version);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(QStringLiteral("onboarder.mqtt.debug=true"));
        previousHandler = qInstallMessageHandler(captureMessage);

        QVERIFY2(m_wakerBroker.start(), qPrintable(m_wakerBroker.errorString()));
        m_waker = std::make_unique<MqttClient>();
        m_waker->setHostname(QStringLiteral("127.0.0.1"));
        m_waker->setPort(m_wakerBroker.port());
        m_waker->setClientId(QStringLiteral("tst-mqttclient-waker"));
        m_waker->connectToHost();
        QVERIFY(waitUntil([&] { return m_waker->state() == MqttClient::State::Connected; }));
        QVERIFY(m_waker->subscribe(QStringLiteral("wake"), 0).has_value());
        connect(&m_wakeTimer, &QTimer::timeout, this, [this] { (void)m_waker->publish(QStringLiteral("wake"), "."); });
        m_wakeTimer.start(20);
    }

    void cleanupTestCase()
    {
        m_wakeTimer.stop();
        m_waker.reset();
    }

    void roundTripQos0AndQos1_data()
    {
        QTest::addColumn<MqttClient::ProtocolVersion>("version");
        QTest::newRow("3.1.1") << MqttClient::ProtocolVersion::Mqtt311;
        QTest::newRow("5") << MqttClient::ProtocolVersion::Mqtt5;
    }

    void roundTripQos0AndQos1()
    {
        QFETCH(MqttClient::ProtocolVersion, version);
        MosquittoFixture broker;
        QVERIFY2(broker.start(), qPrintable(broker.errorString()));

        auto subscriber = probe(version);
        auto publisher = probe(version);
        auto late = probe(version);
        subscriber->start(QStringLiteral("127.0.0.1"), broker.port(), version);
        publisher->start(QStringLiteral("localhost"), broker.port(), version);
        late->start(QStringLiteral("127.0.0.1"), broker.port(), version);
        QVERIFY(waitAllSettled({subscriber.get(), publisher.get(), late.get()}));
        QVERIFY2(subscriber->connectedCount == 1, qPrintable(subscriber->lastError()));
        QVERIFY2(publisher->connectedCount == 1, qPrintable(publisher->lastError()));
        QVERIFY2(late->connectedCount == 1, qPrintable(late->lastError()));
        QCOMPARE((*subscriber)->state(), MqttClient::State::Connected);
        QCOMPARE(subscriber->states, (QList{MqttClient::State::Connecting, MqttClient::State::Connected}));

        QVERIFY(subscriber->subscribeAndWait(QStringLiteral("test/#"), 1));
        QCOMPARE(subscriber->subscribed.constFirst(), std::pair(QStringLiteral("test/#"), 1));

        const auto qos0 = (*publisher)->publish(QStringLiteral("test/zero"), "payload zero", 0);
        QVERIFY(qos0.has_value());
        const QByteArray binary("\x00\x01\xff binary", 10);
        const auto qos1 = (*publisher)->publish(QStringLiteral("test/one"), binary, 1);
        QVERIFY(qos1.has_value());
        QVERIFY(*qos1 != *qos0);

        QVERIFY(waitUntil([&] { return subscriber->messages.size() == 2; }));
        QCOMPARE(subscriber->messages.at(0).topic, QStringLiteral("test/zero"));
        QCOMPARE(subscriber->messages.at(0).payload, QByteArray("payload zero"));
        QCOMPARE(subscriber->messages.at(0).qos, 0);
        QCOMPARE(subscriber->messages.at(1).topic, QStringLiteral("test/one"));
        QCOMPARE(subscriber->messages.at(1).payload, binary);
        QCOMPARE(subscriber->messages.at(1).qos, 1);
        QVERIFY(!subscriber->messages.at(1).retain);

        // PUBACK for the QoS 1 message only.
        QVERIFY(waitUntil([&] { return publisher->delivered.contains(*qos1); }));
        QCOMPARE(publisher->delivered, QList{*qos1});

        // Settings changed while connected apply to the next connection only.
        const auto other = version == MqttClient::ProtocolVersion::Mqtt5 ? MqttClient::ProtocolVersion::Mqtt311
                                                                         : MqttClient::ProtocolVersion::Mqtt5;
        (*publisher)->setProtocolVersion(other);
        (*publisher)->setHostname(QStringLiteral("elsewhere.invalid"));

        // Retained: a late subscriber gets it with the retain flag.
        const auto retained = (*publisher)->publish(QStringLiteral("test/retained"), "kept", 1, true);
        QVERIFY(waitUntil([&] { return publisher->delivered.contains(*retained); }));
        QVERIFY(late->subscribeAndWait(QStringLiteral("test/retained"), 0));
        QVERIFY(waitUntil([&] { return !late->messages.isEmpty(); }));
        QVERIFY(late->messages.constFirst().retain);
        QCOMPARE(late->messages.constFirst().payload, QByteArray("kept"));

        QVERIFY((*subscriber)->unsubscribe(QStringLiteral("test/#")).has_value());
        QVERIFY(waitUntil([&] { return subscriber->unsubscribed == QStringList{QStringLiteral("test/#")}; }));

        (*publisher)->disconnectFromHost();
        QVERIFY(waitUntil([&] { return publisher->disconnectedCount == 1; }));
        QCOMPARE((*publisher)->state(), MqttClient::State::Disconnected);
        QCOMPARE(publisher->states.constLast(), MqttClient::State::Disconnected);

        // And connect again, with the new settings.
        (*publisher)->setHostname(QStringLiteral("127.0.0.1"));
        (*publisher)->connectToHost();
        QVERIFY2(publisher->waitConnected(2), qPrintable(publisher->lastError()));
        QVERIFY((*publisher)->publish(QStringLiteral("test/again"), "again", 0).has_value());

        for (auto *p : {subscriber.get(), publisher.get(), late.get()}) {
            QVERIFY2(p->errors.isEmpty(), qPrintable(p->lastError()));
            QCOMPARE(p->offThread, 0);
        }
    }

    void userPropertiesRoundTrip()
    {
        MosquittoFixture broker;
        QVERIFY2(broker.start(), qPrintable(broker.errorString()));
        const auto v5 = MqttClient::ProtocolVersion::Mqtt5;
        auto client = probe(v5);
        auto old = probe();
        client->start(QStringLiteral("127.0.0.1"), broker.port(), v5);
        old->start(QStringLiteral("127.0.0.1"), broker.port(), MqttClient::ProtocolVersion::Mqtt311);
        QVERIFY(waitAllSettled({client.get(), old.get()}));
        QVERIFY2(client->connectedCount == 1 && old->connectedCount == 1,
            qPrintable(client->lastError() + old->lastError()));
        QVERIFY(client->subscribeAndWait(QStringLiteral("props/+"), 1));

        const MqttUserProperties properties{
            {QStringLiteral("iothub-creation-time-utc"), QStringLiteral("2024-05-01T10:00:00Z")},
            {QStringLiteral("dup"), QStringLiteral("first")}, {QStringLiteral("dup"), QStringLiteral("second")},
            {QStringLiteral("ünïcødé"), QString()}};
        const auto token = (*client)->publish(QStringLiteral("props/a"), "{}", 1, false, properties);
        QVERIFY(token.has_value());
        QVERIFY(waitUntil([&] { return !client->messages.isEmpty() && client->delivered.contains(*token); }));
        QCOMPARE(client->messages.constFirst().userProperties, properties);

        // Without properties there are none.
        QVERIFY((*client)->publish(QStringLiteral("props/b"), "x", 0).has_value());
        QVERIFY(waitUntil([&] { return client->messages.size() == 2; }));
        QVERIFY(client->messages.at(1).userProperties.isEmpty());

        // MQTT 3.1.1 has no user properties: refused rather than dropped.
        const auto refused = (*old)->publish(QStringLiteral("props/c"), "x", 1, false, properties);
        QCOMPARE(refused.error().code, QStringLiteral("UserPropertiesNeedMqtt5"));
        QCOMPARE(client->offThread + old->offThread, 0);
    }

    void wrongPasswordIsAuthRefused_data()
    {
        QTest::addColumn<MqttClient::ProtocolVersion>("version");
        QTest::addColumn<QString>("codeText");
        // mosquitto 2.0 answers a wrong password with "not authorised" (5 / 0x87), not "bad user name or password".
        QTest::newRow("3.1.1") << MqttClient::ProtocolVersion::Mqtt311 << QStringLiteral("MQTT return code 5");
        QTest::newRow("5") << MqttClient::ProtocolVersion::Mqtt5 << QStringLiteral("MQTT reason code 0x87");
    }

    void wrongPasswordIsAuthRefused()
    {
        QFETCH(MqttClient::ProtocolVersion, version);
        QFETCH(QString, codeText);
        const QByteArray password = TestSupport::randomKey().toLatin1();
        const QByteArray wrong = TestSupport::randomKey().toLatin1();
        MosquittoFixture broker;
        MosquittoFixture::Options options;
        options.users = {{QStringLiteral("device-1"), password}};
        QVERIFY2(broker.start(options), qPrintable(broker.errorString()));
        capturedLog.clear();

        auto refused = probe(version);
        (*refused)->setUsername(QStringLiteral("device-1"));
        (*refused)->setPassword(wrong);
        auto accepted = probe(version);
        (*accepted)->setUsername(QStringLiteral("device-1"));
        (*accepted)->setPassword(password);
        auto anonymous = probe(version);
        for (Probe *p : {refused.get(), accepted.get(), anonymous.get()})
            p->start(QStringLiteral("127.0.0.1"), broker.port(), version);
        QVERIFY(waitAllSettled({refused.get(), accepted.get(), anonymous.get()}));
        QCOMPARE(refused->errors.size(), 1);
        const Error error = refused->errors.constFirst();
        QCOMPARE(error.kind, ErrorKind::AuthRefused);
        QVERIFY2(error.message.contains(codeText), qPrintable(error.message));
        QCOMPARE(refused->connectedCount, 0);
        QCOMPARE(refused->disconnectedCount, 0);
        QCOMPARE((*refused)->state(), MqttClient::State::Disconnected);
        QCOMPARE(refused->states, (QList{MqttClient::State::Connecting, MqttClient::State::Disconnected}));
        settle(100);
        QCOMPARE(refused->errors.size(), 1); // one refusal, no retries

        // The right password, and no anonymous access.
        QVERIFY2(accepted->connectedCount == 1, qPrintable(accepted->lastError()));
        QCOMPARE(anonymous->connectedCount, 0);
        QCOMPARE(anonymous->errors.constFirst().kind, ErrorKind::AuthRefused);

        for (const QString &line : std::as_const(capturedLog)) {
            QVERIFY2(!line.contains(QString::fromLatin1(password)) && !line.contains(QString::fromLatin1(wrong)),
                qPrintable(line));
        }
        QVERIFY(!error.message.contains(QString::fromLatin1(wrong)));
        QCOMPARE(refused->offThread + accepted->offThread + anonymous->offThread, 0);
    }

    void tlsVerifiesTheServer()
    {
        MosquittoFixture broker;
        MosquittoFixture::Options options;
        options.tls = true;
        QVERIFY2(broker.start(options), qPrintable(broker.errorString()));
        const auto v311 = MqttClient::ProtocolVersion::Mqtt311;

        // The right CA, by IP address and by name (both are in the server certificate); another CA; the system
        // CAs alone; plain MQTT to the TLS port.
        std::vector<std::unique_ptr<Probe>> good;
        for (const QString &host : {QStringLiteral("127.0.0.1"), QStringLiteral("localhost")}) {
            good.push_back(probe());
            (*good.back())->setTlsEnabled(true);
            (*good.back())->setCaFile(broker.caFile());
            good.back()->start(host, broker.tlsPort(), v311);
        }
        std::vector<std::unique_ptr<Probe>> bad;
        for (const QString &caFile : {broker.writeOtherCaFile(), QString()}) {
            bad.push_back(probe());
            (*bad.back())->setTlsEnabled(true);
            (*bad.back())->setCaFile(caFile);
            bad.back()->start(QStringLiteral("127.0.0.1"), broker.tlsPort(), v311);
        }
        auto plain = probe();
        plain->start(QStringLiteral("127.0.0.1"), broker.tlsPort(), v311);
        QVERIFY(waitAllSettled({good[0].get(), good[1].get(), bad[0].get(), bad[1].get(), plain.get()}));

        for (const auto &client : good) {
            QVERIFY2(client->connectedCount == 1, qPrintable(client->lastError()));
            QVERIFY(client->subscribeAndWait(QStringLiteral("tls/x"), 1));
            const auto token = (*client)->publish(QStringLiteral("tls/x"), "over TLS", 1);
            QVERIFY(waitUntil([&] { return client->delivered.contains(*token) && client->messages.size() == 1; }));
            QCOMPARE(client->offThread, 0);
        }
        for (const auto &client : bad) {
            QCOMPARE(client->connectedCount, 0);
            const Error error = client->errors.constFirst();
            QCOMPARE(error.kind, ErrorKind::Network);
            QCOMPARE(error.code, QStringLiteral("CertificateVerificationFailed"));
            QVERIFY2(error.message.contains(QStringLiteral("certificate")), qPrintable(error.message));
            QCOMPARE((*client)->state(), MqttClient::State::Disconnected);
            QCOMPARE(client->offThread, 0);
        }
        QCOMPARE(plain->connectedCount, 0);
        QCOMPARE(plain->errors.constFirst().code, QStringLiteral("ConnectionClosed"));
    }

    void tlsVerifiesTheHostName()
    {
        // A certificate from the right CA, but for another name: refused.
        MosquittoFixture broker;
        MosquittoFixture::Options options;
        options.tls = true;
        options.serverDnsNames = {QStringLiteral("broker.invalid")};
        options.serverIpAddresses = {};
        QVERIFY2(broker.start(options), qPrintable(broker.errorString()));
        auto client = probe();
        (*client)->setTlsEnabled(true);
        (*client)->setCaFile(broker.caFile());
        QVERIFY(
            !client->connectTo(QStringLiteral("127.0.0.1"), broker.tlsPort(), MqttClient::ProtocolVersion::Mqtt311));
        QCOMPARE(client->connectedCount, 0);
        QCOMPARE(client->errors.constFirst().kind, ErrorKind::Network);
        QCOMPARE(client->errors.constFirst().code, QStringLiteral("CertificateHostNameMismatch"));
        QVERIFY2(
            client->errors.constFirst().message.contains(QStringLiteral("not valid for the host name \"127.0.0.1\"")),
            qPrintable(client->lastError()));
        QCOMPARE(client->offThread, 0);
    }

    void clientCertificate()
    {
        MosquittoFixture broker;
        MosquittoFixture::Options options;
        options.clientCertificates = true;
        QVERIFY2(broker.start(options), qPrintable(broker.errorString()));
        const auto credentials = broker.issueClientCertificate(QStringLiteral("device-cert-1"));
        capturedLog.clear();

        // The key files go to $XDG_RUNTIME_DIR: point it to a directory of the test's.
        QTemporaryDir runtime;
        const QByteArray savedRuntime = qgetenv("XDG_RUNTIME_DIR");
        qputenv("XDG_RUNTIME_DIR", QFile::encodeName(runtime.path()));
        const auto restoreRuntime = qScopeGuard([&] {
            if (savedRuntime.isEmpty())
                qunsetenv("XDG_RUNTIME_DIR");
            else
                qputenv("XDG_RUNTIME_DIR", savedRuntime);
        });

        auto client = probe();
        QCOMPARE((*client)
                     ->setClientCertificate(
                         credentials.certificatePem, broker.issueClientCertificate(QStringLiteral("x")).privateKeyPem)
                     .error()
                     .code,
            QStringLiteral("CertificateKeyMismatch"));
        QVERIFY((*client)->setClientCertificate(credentials.certificatePem, credentials.privateKeyPem).has_value());
        (*client)->setTlsEnabled(true);
        (*client)->setCaFile(broker.caFile());
        (*client)->setHostname(QStringLiteral("localhost"));
        (*client)->setPort(broker.certPort());
        (*client)->connectToHost();

        // While connecting: one private directory with the two files, owner-only.
        const QStringList dirs = QDir(runtime.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        QCOMPARE(dirs.size(), 1);
        QVERIFY(dirs.constFirst().startsWith(QStringLiteral("onboarder-mqtt-")));
        const QString dir = runtime.filePath(dirs.constFirst());
        const auto groupOrOther = QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ExeGroup
            | QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther;
        QCOMPARE(QFile::permissions(dir) & groupOrOther, QFileDevice::Permissions());
        const QString keyFile = dir + QStringLiteral("/client.key");
        QCOMPARE(QFile::permissions(keyFile) & (groupOrOther | QFileDevice::ExeOwner), QFileDevice::Permissions());
        QCOMPARE(TestSupport::filesContaining(runtime.path(), credentials.privateKeyPem), QStringList{keyFile});

        QVERIFY2(client->waitConnected(), qPrintable(client->lastError()));
        // Connected: the files are gone, and mosquitto took the certificate's name as the user name.
        QVERIFY(QDir(runtime.path()).isEmpty());
        QVERIFY2(broker.log().contains(QStringLiteral("u'device-cert-1'")), qPrintable(broker.log()));
        QVERIFY(client->subscribeAndWait(QStringLiteral("cert/#"), 1));

        // Without a certificate the broker refuses the TLS connection; the files are gone after failures too.
        auto without = probe();
        (*without)->setTlsEnabled(true);
        (*without)->setCaFile(broker.caFile());
        auto refused = probe();
        QVERIFY((*refused)->setClientCertificate(credentials.certificatePem, credentials.privateKeyPem).has_value());
        (*refused)->setTlsEnabled(true);
        (*refused)->setCaFile(broker.writeOtherCaFile());
        without->start(QStringLiteral("localhost"), broker.certPort(), MqttClient::ProtocolVersion::Mqtt311);
        refused->start(QStringLiteral("localhost"), broker.certPort(), MqttClient::ProtocolVersion::Mqtt311);
        QVERIFY(waitAllSettled({without.get(), refused.get()}));
        QCOMPARE(without->connectedCount, 0);
        QCOMPARE(without->errors.constFirst().kind, ErrorKind::Network);
        QVERIFY2(without->errors.constFirst().message.contains(QStringLiteral("client certificate")),
            qPrintable(without->lastError()));
        QCOMPARE(refused->connectedCount, 0);
        QCOMPARE(refused->errors.constFirst().code, QStringLiteral("CertificateVerificationFailed"));
        QVERIFY(QDir(runtime.path()).isEmpty());

        for (const QString &line : std::as_const(capturedLog))
            QVERIFY2(!line.contains(QStringLiteral("PRIVATE KEY")), qPrintable(line));
        QCOMPARE(client->offThread + without->offThread + refused->offThread, 0);
    }

    void reconnectsAfterBrokerCrash()
    {
        MosquittoFixture broker;
        QVERIFY2(broker.start(), qPrintable(broker.errorString()));
        const auto v311 = MqttClient::ProtocolVersion::Mqtt311;

        auto resilient = probe();
        (*resilient)->setAutoReconnect(true);
        (*resilient)->setReconnectInterval(1, 2);
        (*resilient)->setKeepAlive(5);
        auto fragile = probe();
        resilient->start(QStringLiteral("127.0.0.1"), broker.port(), v311);
        fragile->start(QStringLiteral("127.0.0.1"), broker.port(), v311);
        QVERIFY(waitAllSettled({resilient.get(), fragile.get()}));
        QVERIFY(resilient->connectedCount == 1 && fragile->connectedCount == 1);
        QVERIFY(resilient->subscribeAndWait(QStringLiteral("crash/#"), 1));

        broker.kill();
        QVERIFY(waitUntil([&] { return resilient->disconnectedCount == 1 && fragile->disconnectedCount == 1; }));
        QCOMPARE(resilient->errors.constFirst().code, QStringLiteral("ConnectionLost"));
        QCOMPARE(fragile->errors.constFirst().code, QStringLiteral("ConnectionLost"));
        QCOMPARE((*fragile)->state(), MqttClient::State::Disconnected);
        QCOMPARE((*resilient)->state(), MqttClient::State::Connecting); // waiting to reconnect
        QVERIFY(!(*resilient)->publish(QStringLiteral("crash/x"), "lost", 1).has_value());

        QVERIFY2(broker.restart(), qPrintable(broker.errorString()));
        QVERIFY2(resilient->waitConnected(2, 8000), qPrintable(resilient->lastError()));
        QCOMPARE((*resilient)->state(), MqttClient::State::Connected);
        // The subscription is restored; publishing works again.
        QVERIFY(waitUntil([&] { return resilient->subscribed.size() == 2; }));
        const auto token = (*resilient)->publish(QStringLiteral("crash/x"), "after restart", 1);
        QVERIFY(token.has_value());
        QVERIFY(waitUntil([&] { return resilient->delivered.contains(*token) && resilient->messages.size() == 1; }));
        QCOMPARE(resilient->messages.constFirst().payload, QByteArray("after restart"));

        settle(200);
        QCOMPARE(fragile->connectedCount, 1); // no reconnect when not asked for
        QCOMPARE(resilient->errors.size(), 1);

        // connectToHost() while waiting for a reconnect: at once, not after the (long) wait.
        (*resilient)->setReconnectInterval(60, 120);
        broker.kill();
        QVERIFY(waitUntil([&] { return resilient->disconnectedCount == 2; }));
        QVERIFY2(broker.restart(), qPrintable(broker.errorString()));
        QCOMPARE((*resilient)->state(), MqttClient::State::Connecting);
        (*resilient)->connectToHost();
        QVERIFY2(resilient->waitConnected(3, 5000), qPrintable(resilient->lastError()));
        QCOMPARE(resilient->offThread + fragile->offThread, 0);
    }

    void subscriptionRefused_data()
    {
        QTest::addColumn<MqttClient::ProtocolVersion>("version");
        QTest::newRow("3.1.1") << MqttClient::ProtocolVersion::Mqtt311;
        QTest::newRow("5") << MqttClient::ProtocolVersion::Mqtt5;
    }

    void subscriptionRefused()
    {
        QFETCH(MqttClient::ProtocolVersion, version);
        MosquittoFixture broker;
        MosquittoFixture::Options options;
        options.deniedSubscriptions = {QStringLiteral("secret/#")};
        QVERIFY2(broker.start(options), qPrintable(broker.errorString()));
        auto client = probe(version);
        QVERIFY(client->connectTo(QStringLiteral("127.0.0.1"), broker.port(), version));

        QVERIFY((*client)->subscribe(QStringLiteral("secret/x"), 1).has_value());
        QVERIFY(client->waitError());
        const Error error = client->errors.constFirst();
        QCOMPARE(error.kind, ErrorKind::AuthRefused);
        QCOMPARE(error.code, QStringLiteral("SubscriptionRefused"));
        QVERIFY2(error.message.contains(QStringLiteral("the subscription to secret/x")), qPrintable(error.message));
        QCOMPARE(client->subscriptionFailures.size(), 1);
        QCOMPARE(client->subscriptionFailures.constFirst().first, QStringLiteral("secret/x"));
        QVERIFY(client->subscribed.isEmpty());

        // The connection stays up and other subscriptions work.
        QVERIFY(client->subscribeAndWait(QStringLiteral("open/x"), 1));
        QCOMPARE((*client)->state(), MqttClient::State::Connected);
        QCOMPARE(client->offThread, 0);
    }

    void brokerUnreachable()
    {
        const int closedPort = MosquittoFixture::freePorts(1).constFirst();
        for (bool tls : {false, true}) {
            auto client = probe();
            (*client)->setTlsEnabled(tls);
            QVERIFY(!client->connectTo(QStringLiteral("127.0.0.1"), closedPort, MqttClient::ProtocolVersion::Mqtt311));
            const Error error = client->errors.constFirst();
            QCOMPARE(error.kind, ErrorKind::Network);
            QCOMPARE(error.code, QStringLiteral("BrokerUnreachable"));
            QVERIFY2(error.message.contains(QStringLiteral("127.0.0.1:%1").arg(closedPort)), qPrintable(error.message));
            QCOMPARE((*client)->state(), MqttClient::State::Disconnected);
            QCOMPARE(client->connectedCount + client->disconnectedCount, 0);
        }
    }

    void refusesInvalidUse()
    {
        auto client = probe();
        QCOMPARE((*client)->publish(QStringLiteral("a/b"), "x").error().code, QStringLiteral("NotConnected"));
        QCOMPARE((*client)->subscribe(QStringLiteral("a/#")).error().code, QStringLiteral("NotConnected"));
        QCOMPARE((*client)->publish(QStringLiteral("a/+"), "x").error().code, QStringLiteral("InvalidTopic"));
        QCOMPARE((*client)->publish(QString(), "x").error().code, QStringLiteral("InvalidTopic"));
        QCOMPARE((*client)->publish(QStringLiteral("a"), "x", 2).error().code, QStringLiteral("InvalidQos"));
        QCOMPARE((*client)->subscribe(QStringLiteral("a/#/b")).error().code, QStringLiteral("InvalidTopicFilter"));
        QCOMPARE((*client)->subscribe(QStringLiteral("a/b+")).error().code, QStringLiteral("InvalidTopicFilter"));
        QCOMPARE((*client)->setClientCertificate("nope", "nope").error().kind, ErrorKind::InvalidInput);

        // Settings errors come as errorOccurred, never from inside connectToHost().
        (*client)->connectToHost();
        QVERIFY(client->errors.isEmpty());
        QVERIFY(client->waitError());
        QCOMPARE(client->errors.constFirst().code, QStringLiteral("MissingHostName"));
        QCOMPARE((*client)->state(), MqttClient::State::Disconnected);
    }

    void signalsArriveOnTheOwnerThread()
    {
        // The client lives in a worker thread: every signal must be emitted there, not on a Paho thread and
        // not on the main thread.
        MosquittoFixture broker;
        QVERIFY2(broker.start(), qPrintable(broker.errorString()));
        QThread worker;
        worker.start();
        auto *client = new MqttClient;
        client->moveToThread(&worker);

        QMutex mutex;
        QList<QThread *> threads;
        QStringList seen;
        const auto record = [&](const QString &what) {
            QMutexLocker lock(&mutex);
            threads.append(QThread::currentThread());
            seen.append(what);
        };
        connect(
            client, &MqttClient::connected, client, [&] { record(QStringLiteral("connected")); }, Qt::DirectConnection);
        connect(
            client, &MqttClient::subscribed, client, [&] { record(QStringLiteral("subscribed")); },
            Qt::DirectConnection);
        connect(
            client, &MqttClient::messageReceived, client, [&] { record(QStringLiteral("message")); },
            Qt::DirectConnection);
        connect(
            client, &MqttClient::messageDelivered, client, [&] { record(QStringLiteral("delivered")); },
            Qt::DirectConnection);
        connect(
            client, &MqttClient::disconnected, client, [&] { record(QStringLiteral("disconnected")); },
            Qt::DirectConnection);
        connect(
            client, &MqttClient::errorOccurred, client, [&] { record(QStringLiteral("error")); }, Qt::DirectConnection);

        const auto inWorker = [&](const std::function<void()> &function) {
            QMetaObject::invokeMethod(client, function, Qt::BlockingQueuedConnection);
        };
        const auto saw = [&](const QString &what) {
            return waitUntil([&] {
                QMutexLocker lock(&mutex);
                return seen.contains(what);
            });
        };
        inWorker([&] {
            client->setHostname(QStringLiteral("127.0.0.1"));
            client->setPort(broker.port());
            client->connectToHost();
        });
        QVERIFY(saw(QStringLiteral("connected")));
        bool sent = false;
        inWorker([&] { sent = client->subscribe(QStringLiteral("thread/x"), 1).has_value(); });
        QVERIFY(sent);
        QVERIFY(saw(QStringLiteral("subscribed")));
        inWorker([&] { sent = client->publish(QStringLiteral("thread/x"), "hello", 1).has_value(); });
        QVERIFY(sent);
        QVERIFY(saw(QStringLiteral("message")));
        QVERIFY(saw(QStringLiteral("delivered")));
        broker.kill();
        QVERIFY(saw(QStringLiteral("disconnected")));
        QVERIFY(saw(QStringLiteral("error")));

        inWorker([&] { delete client; });
        worker.quit();
        worker.wait();
        QMutexLocker lock(&mutex);
        QCOMPARE(threads.size(), seen.size());
        for (QThread *thread : std::as_const(threads))
            QCOMPARE(thread, &worker);
    }

    void destroyingIsQuickAndSafe()
    {
        MosquittoFixture broker;
        QVERIFY2(broker.start(), qPrintable(broker.errorString()));
        const auto v5 = MqttClient::ProtocolVersion::Mqtt5;

        // Connected, with a subscription and QoS 1 messages in flight; and connected, idle.
        auto connected = probe(v5);
        auto idle = probe(v5);
        const QString busyId = (*connected)->clientId();
        const QString idleId = (*idle)->clientId();
        connected->start(QStringLiteral("127.0.0.1"), broker.port(), v5);
        idle->start(QStringLiteral("127.0.0.1"), broker.port(), v5);
        QVERIFY(waitAllSettled({connected.get(), idle.get()}));
        QVERIFY(connected->connectedCount == 1 && idle->connectedCount == 1);
        QVERIFY(connected->subscribeAndWait(QStringLiteral("gone/#"), 1));
        for (int i = 0; i < 20; ++i)
            QVERIFY((*connected)->publish(QStringLiteral("gone/x"), QByteArray(1000, 'x'), 1).has_value());
        QElapsedTimer timer;
        timer.start();
        connected.reset();
        idle.reset();
        QVERIFY2(timer.elapsed() < 200, qPrintable(QString::number(timer.elapsed())));
        settle(200); // callbacks of the destroyed clients arrive now and are dropped
        // The idle one said goodbye (DISCONNECT). The busy one did too unless a write was still pending; then Paho
        // just closes the socket, maybe in the middle of a packet (mosquitto 2.0.11 logs that as "disconnected due
        // to out of memory").
        const auto gone = [&](const QString &id, bool clean) {
            const QString log = broker.log();
            return log.contains(QStringLiteral("Client %1 disconnected.").arg(id))
                || (!clean
                    && (log.contains(QStringLiteral("Client %1 disconnected").arg(id))
                        || log.contains(QStringLiteral("Client %1 closed its connection.").arg(id))));
        };
        QVERIFY2(waitUntil([&] { return gone(idleId, true) && gone(busyId, false); }), qPrintable(broker.log()));

        // In the middle of connecting.
        auto connecting = probe();
        (*connecting)->setHostname(QStringLiteral("127.0.0.1"));
        (*connecting)->setPort(broker.port());
        (*connecting)->connectToHost();
        QCOMPARE((*connecting)->state(), MqttClient::State::Connecting);
        timer.restart();
        connecting.reset();
        QVERIFY(timer.elapsed() < 200);

        // While waiting to reconnect.
        auto waiting = probe();
        (*waiting)->setAutoReconnect(true);
        QVERIFY(waiting->connectTo(QStringLiteral("127.0.0.1"), broker.port(), MqttClient::ProtocolVersion::Mqtt311));
        broker.kill();
        QVERIFY(waitUntil([&] { return waiting->disconnectedCount == 1; }));
        QCOMPARE((*waiting)->state(), MqttClient::State::Connecting);
        timer.restart();
        waiting.reset();
        QVERIFY(timer.elapsed() < 200);

        // Disconnecting and destroying at once.
        QVERIFY(broker.restart());
        auto leaving = probe();
        QVERIFY(leaving->connectTo(QStringLiteral("127.0.0.1"), broker.port(), MqttClient::ProtocolVersion::Mqtt311));
        (*leaving)->disconnectFromHost();
        leaving.reset();
        settle(200);
    }
};

QTEST_GUILESS_MAIN(tst_MqttClient)
#include "tst_mqttclient.moc"
