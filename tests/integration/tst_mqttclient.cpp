// MqttClient against a real mosquitto: round trips (QoS 0 and 1, retained), MQTT 5 user properties, refusals, TLS,
// client certificates from memory, session resume, keep-alive, oversize packets, broker-initiated disconnects,
// broker crash and reconnect, threads, destruction.
#include "mosquittofixture.h"
#include "mqtt/mqttclient.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QMutex>
#include <QTcpServer>
#include <QTcpSocket>
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

// A client and everything it signalled. Every slot runs as a direct connection, so a signal emitted on another
// thread would run it there: `offThread` counts those.
struct Probe
{
    QThread *owner = QThread::currentThread();
    int offThread = 0;
    int connectedCount = 0;
    QList<bool> sessionPresent; // per connection
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
        on(&MqttClient::connected, [this](bool present) {
            ++connectedCount;
            sessionPresent.append(present);
        });
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

// The rows of a test that runs with MQTT 3.1.1 and with MQTT 5.
void bothVersions()
{
    QTest::addColumn<MqttClient::ProtocolVersion>("version");
    QTest::newRow("3.1.1") << MqttClient::ProtocolVersion::Mqtt311;
    QTest::newRow("5") << MqttClient::ProtocolVersion::Mqtt5;
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

    static std::unique_ptr<Probe> probe(MqttClient::ProtocolVersion version = MqttClient::ProtocolVersion::Mqtt311)
    {
        return makeProbe(version);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(QStringLiteral("onboarder.mqtt.debug=true"));
        previousHandler = qInstallMessageHandler(captureMessage);
    }

    void roundTripQos0AndQos1_data() { bothVersions(); }

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
        (*refused)->setPassword(Onboarder::SecretBytes::fromView(wrong));
        auto accepted = probe(version);
        (*accepted)->setUsername(QStringLiteral("device-1"));
        (*accepted)->setPassword(Onboarder::SecretBytes::fromView(password));
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

        // The key stays in memory: nothing is written to $XDG_RUNTIME_DIR or the temp directory (both pointed to
        // directories of the test's) while connecting, nor after.
        QTemporaryDir runtime;
        QTemporaryDir temp;
        const QByteArray savedRuntime = qgetenv("XDG_RUNTIME_DIR");
        const QByteArray savedTemp = qgetenv("TMPDIR");
        qputenv("XDG_RUNTIME_DIR", QFile::encodeName(runtime.path()));
        qputenv("TMPDIR", QFile::encodeName(temp.path()));
        const auto restoreEnvironment = qScopeGuard([&] {
            for (const auto &[name, saved] :
                {std::pair("XDG_RUNTIME_DIR", savedRuntime), std::pair("TMPDIR", savedTemp)}) {
                if (saved.isEmpty())
                    qunsetenv(name);
                else
                    qputenv(name, saved);
            }
        });
        const auto nothingOnDisk = [&] { return QDir(runtime.path()).isEmpty() && QDir(temp.path()).isEmpty(); };

        auto client = probe();
        QCOMPARE((*client)
                     ->setClientCertificate(credentials.certificatePem,
                         SecretBytes::fromView(broker.issueClientCertificate(QStringLiteral("x")).privateKeyPem))
                     .error()
                     .code,
            QStringLiteral("CertificateKeyMismatch"));
        QVERIFY((*client)
                    ->setClientCertificate(credentials.certificatePem, SecretBytes::fromView(credentials.privateKeyPem))
                    .has_value());
        (*client)->setTlsEnabled(true);
        (*client)->setCaFile(broker.caFile());
        (*client)->setHostname(QStringLiteral("localhost"));
        (*client)->setPort(broker.certPort());
        (*client)->connectToHost();
        QVERIFY(nothingOnDisk());

        QVERIFY2(client->waitConnected(), qPrintable(client->lastError()));
        // Connected: mosquitto took the certificate's name as the user name.
        QVERIFY(nothingOnDisk());
        QVERIFY2(broker.log().contains(QStringLiteral("u'device-cert-1'")), qPrintable(broker.log()));
        QVERIFY(client->subscribeAndWait(QStringLiteral("cert/#"), 1));

        // Without a certificate the broker refuses the TLS connection; the files are gone after failures too.
        auto without = probe();
        (*without)->setTlsEnabled(true);
        (*without)->setCaFile(broker.caFile());
        auto refused = probe();
        QVERIFY((*refused)
                    ->setClientCertificate(credentials.certificatePem, SecretBytes::fromView(credentials.privateKeyPem))
                    .has_value());
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
        QVERIFY(nothingOnDisk());

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
        QCOMPARE(fragile->errors.size(), 1);
        // Attempts while the broker was down said why they failed; nothing else went wrong.
        for (const Error &error : resilient->errors.sliced(1))
            QVERIFY2(
                error.code == QStringLiteral("BrokerUnreachable") || error.code == QStringLiteral("ConnectionClosed"),
                qPrintable(error.code + u' ' + error.message));

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

    void subscriptionRefused_data() { bothVersions(); }

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

    void sessionResumes_data() { bothVersions(); }

    void sessionResumes()
    {
        // Clean session off: the broker keeps the subscription and the QoS 1 messages that arrive while the client
        // is away, and says so (session present); clean session on ends it.
        QFETCH(MqttClient::ProtocolVersion, version);
        MosquittoFixture broker;
        QVERIFY2(broker.start(), qPrintable(broker.errorString()));
        auto publisher = probe(version);
        auto kept = probe(version);
        (*kept)->setCleanSession(false);
        QVERIFY2(publisher->connectTo(QStringLiteral("127.0.0.1"), broker.port(), version),
            qPrintable(publisher->lastError()));
        QVERIFY2(kept->connectTo(QStringLiteral("127.0.0.1"), broker.port(), version), qPrintable(kept->lastError()));
        QCOMPARE(kept->sessionPresent, QList{false});
        QVERIFY(kept->subscribeAndWait(QStringLiteral("resume/#"), 1));
        (*kept)->disconnectFromHost();
        QVERIFY(waitUntil([&] { return kept->disconnectedCount == 1; }));

        for (int i = 0; i < 5; ++i) {
            const auto token = (*publisher)->publish(QStringLiteral("resume/x"), QByteArray::number(i), 1);
            QVERIFY(token.has_value());
            QVERIFY(waitUntil([&] { return publisher->delivered.contains(*token); }));
        }
        (*kept)->connectToHost();
        QVERIFY2(kept->waitConnected(2), qPrintable(kept->lastError()));
        QCOMPARE(kept->sessionPresent, (QList{false, true}));
        QVERIFY(waitUntil([&] { return kept->messages.size() == 5; }));
        for (int i = 0; i < 5; ++i)
            QCOMPARE(kept->messages.at(i).payload, QByteArray::number(i));

        // A clean session: what was kept is gone, and so is what arrived meanwhile.
        (*kept)->disconnectFromHost();
        QVERIFY(waitUntil([&] { return kept->disconnectedCount == 2; }));
        const auto token = (*publisher)->publish(QStringLiteral("resume/x"), "dropped", 1);
        QVERIFY(waitUntil([&] { return publisher->delivered.contains(*token); }));
        (*kept)->setCleanSession(true);
        (*kept)->connectToHost();
        QVERIFY2(kept->waitConnected(3), qPrintable(kept->lastError()));
        QCOMPARE(kept->sessionPresent.constLast(), false);
        settle(300);
        QCOMPARE(kept->messages.size(), 5);
        QVERIFY2(kept->errors.isEmpty() && publisher->errors.isEmpty(), qPrintable(kept->lastError()));
    }

    void keepAlive()
    {
        // An idle connection stays up past 1.5 × the keep-alive (PINGREQ), and a broker that stops answering (a
        // hung host: SIGSTOP) is taken as lost.
        MosquittoFixture broker;
        QVERIFY2(broker.start(), qPrintable(broker.errorString()));
        auto client = probe();
        (*client)->setKeepAlive(1);
        QVERIFY(client->connectTo(QStringLiteral("127.0.0.1"), broker.port(), MqttClient::ProtocolVersion::Mqtt311));
        settle(3500);
        QCOMPARE((*client)->state(), MqttClient::State::Connected);
        QVERIFY2(client->errors.isEmpty(), qPrintable(client->lastError()));

        broker.freeze(true);
        const auto thaw = qScopeGuard([&] { broker.freeze(false); });
        QVERIFY(waitUntil([&] { return client->disconnectedCount == 1; }, 6000));
        QCOMPARE(client->errors.constFirst().code, QStringLiteral("KeepAliveTimeout"));
        QCOMPARE((*client)->state(), MqttClient::State::Disconnected);
    }

    void oversizePackets_data() { bothVersions(); }

    void oversizePackets()
    {
        // A broker that takes packets of at most 2,000 bytes. MQTT 5 tells the client in CONNACK, which refuses a
        // larger message itself and keeps the connection; with 3.1.1 the broker closes the connection.
        QFETCH(MqttClient::ProtocolVersion, version);
        MosquittoFixture broker;
        MosquittoFixture::Options options;
        options.extraConfig = "max_packet_size 2000\n";
        QVERIFY2(broker.start(options), qPrintable(broker.errorString()));
        auto client = probe(version);
        QVERIFY2(
            client->connectTo(QStringLiteral("127.0.0.1"), broker.port(), version), qPrintable(client->lastError()));
        QVERIFY(client->subscribeAndWait(QStringLiteral("big/#"), 1));
        const auto fits = (*client)->publish(QStringLiteral("big/fits"), QByteArray(1500, 'f'), 1);
        QVERIFY(fits.has_value());
        QVERIFY(waitUntil([&] { return client->delivered.contains(*fits) && client->messages.size() == 1; }));

        const auto tooLarge = (*client)->publish(QStringLiteral("big/large"), QByteArray(5000, 'l'), 1);
        if (version == MqttClient::ProtocolVersion::Mqtt5) {
            QVERIFY(!tooLarge.has_value());
            QCOMPARE(tooLarge.error().code, QStringLiteral("PacketTooLarge"));
            QVERIFY2(tooLarge.error().message.contains(QStringLiteral("2000")), qPrintable(tooLarge.error().message));
            settle(200);
            QCOMPARE((*client)->state(), MqttClient::State::Connected);
            QVERIFY2(client->errors.isEmpty(), qPrintable(client->lastError()));
        } else {
            QVERIFY(tooLarge.has_value());
            QVERIFY(waitUntil([&] { return client->disconnectedCount == 1; }));
            QCOMPARE(client->errors.constFirst().code, QStringLiteral("ConnectionLost"));
            QVERIFY(!client->delivered.contains(*tooLarge));
        }
        QCOMPARE(client->messages.size(), 1);
    }

    void brokerEndsATakenOverSession_data() { bothVersions(); }

    void brokerEndsATakenOverSession()
    {
        // A second connection with the same client id: the broker ends the first, and the second stays. mosquitto
        // 2.0.11 closes the connection without a DISCONNECT, also with MQTT 5 (see disconnectWithAReason for one
        // that says why).
        QFETCH(MqttClient::ProtocolVersion, version);
        MosquittoFixture broker;
        QVERIFY2(broker.start(), qPrintable(broker.errorString()));
        auto first = probe(version);
        auto second = probe(version);
        (*second)->setClientId((*first)->clientId());
        QVERIFY2(first->connectTo(QStringLiteral("127.0.0.1"), broker.port(), version), qPrintable(first->lastError()));
        QVERIFY2(
            second->connectTo(QStringLiteral("127.0.0.1"), broker.port(), version), qPrintable(second->lastError()));
        QVERIFY(waitUntil([&] { return first->disconnectedCount == 1 && !first->errors.isEmpty(); }));
        QCOMPARE(first->errors.constFirst().code, QStringLiteral("ConnectionLost"));
        QCOMPARE((*first)->state(), MqttClient::State::Disconnected);
        settle(200);
        QCOMPARE((*second)->state(), MqttClient::State::Connected);
        QCOMPARE(second->disconnectedCount, 0);
    }

    void disconnectWithAReason_data()
    {
        QTest::addColumn<QByteArray>("disconnect");
        QTest::addColumn<QString>("code");
        QTest::addColumn<ErrorKind>("kind");
        QTest::addColumn<QString>("words");
        QTest::addColumn<int>("attempts");
        // MQTT 5 §3.14: DISCONNECT, reason code, properties (a reason string, 0x1F).
        QTest::newRow("session taken over")
            << QByteArray::fromHex("e00f8e0d1f000a74616b656e206f766572") << QStringLiteral("ClosedByBroker")
            << ErrorKind::Network << QStringLiteral("took over the session, \"taken over\" (MQTT reason code 0x8e)")
            << 1;
        QTest::newRow("not authorised") << QByteArray::fromHex("e00187") << QStringLiteral("ClosedByBroker")
                                        << ErrorKind::AuthRefused
                                        << QStringLiteral("not authorised (MQTT reason code 0x87)") << 1;
        QTest::newRow("server shutting down")
            << QByteArray::fromHex("e0028b00") << QStringLiteral("ClosedByBroker") << ErrorKind::Network
            << QStringLiteral("server shutting down (MQTT reason code 0x8b)") << 2;
    }

    void disconnectWithAReason()
    {
        // An MQTT 5 broker that accepts the connection and then ends it with a DISCONNECT and a reason code. The
        // client says why; with reconnecting on, it comes back only when the reason may pass (a server shutting down),
        // not after a takeover (two clients with one id would push each other out for ever) and not when it is not
        // authorised (that waits for the longest interval).
        QFETCH(QByteArray, disconnect);
        QFETCH(QString, code);
        QFETCH(ErrorKind, kind);
        QFETCH(QString, words);
        QFETCH(int, attempts);
        QTcpServer broker;
        QVERIFY(broker.listen(QHostAddress::LocalHost));
        int connections = 0;
        connect(&broker, &QTcpServer::newConnection, this, [&] {
            QTcpSocket *socket = broker.nextPendingConnection();
            ++connections;
            connect(socket, &QTcpSocket::readyRead, socket, [socket, disconnect] {
                if (socket->readAll().startsWith('\x10')) // CONNECT: CONNACK (5: no properties), then DISCONNECT
                    socket->write(QByteArray::fromHex("2003000000") + disconnect);
            });
        });
        auto client = probe(MqttClient::ProtocolVersion::Mqtt5);
        (*client)->setAutoReconnect(true);
        (*client)->setReconnectInterval(1, 30);
        QVERIFY(
            client->connectTo(QStringLiteral("127.0.0.1"), broker.serverPort(), MqttClient::ProtocolVersion::Mqtt5));
        QVERIFY(waitUntil([&] { return !client->errors.isEmpty(); }));
        const Error error = client->errors.constFirst();
        QCOMPARE(error.code, code);
        QCOMPARE(error.kind, kind);
        QVERIFY2(error.message.contains(words), qPrintable(error.message));
        QCOMPARE(client->disconnectedCount, 1);
        settle(1500);
        QCOMPARE(connections, attempts);
        (*client)->disconnectFromHost();
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
        QCOMPARE((*client)->setClientCertificate("nope", SecretBytes::fromView("nope")).error().kind,
            ErrorKind::InvalidInput);

        // Settings errors come as errorOccurred, never from inside connectToHost().
        (*client)->connectToHost();
        QVERIFY(client->errors.isEmpty());
        QVERIFY(client->waitError());
        QCOMPARE(client->errors.constFirst().code, QStringLiteral("MissingHostName"));
        QCOMPARE((*client)->state(), MqttClient::State::Disconnected);
    }

    void signalsArriveOnTheOwnerThread()
    {
        // The client lives in a worker thread: every signal must be emitted there, not on the main thread.
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
        settle(200);
        // The idle one said goodbye (DISCONNECT). The busy one did too, but when its socket still held unsent
        // publishes, the goodbye may have been cut off with them (mosquitto 2.0.11 logs a packet cut short as
        // "disconnected due to out of memory").
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
