// RelayConfig: the documented keys, defaults, and an error that names the key for each mistake;
// MessageMapper: device ids from topics and payloads, properties.
#include "relay/messagemapper.h"
#include "relay/relayconfig.h"

#include <QTest>

using namespace Onboarder;

namespace {

// JSON written with single quotes (raw strings confuse moc): the quotes become double quotes.
inline QByteArray J(const char *text)
{
    return QByteArray(text).replace('\'', '"');
}

QByteArray minimal(const QByteArray &extra = {})
{
    return J("{'hub': 'sb', 'source': {'url': 'mqtt://127.0.0.1:1883', 'topics': ['sensors/+/telemetry']},"
             "              'deviceIdFromTopic': 'sensors/{deviceId}/telemetry'")
        + extra + "}";
}

MqttMessage message(const QString &topic, const QByteArray &payload)
{
    MqttMessage m;
    m.topic = topic;
    m.payload = payload;
    m.qos = 1;
    return m;
}

} // namespace

class tst_RelayConfig : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaults()
    {
        const auto config = RelayConfig::parse(minimal(), QStringLiteral("/etc/onboarder"));
        QVERIFY2(config.has_value(), config ? "" : qPrintable(config.error().message));
        QCOMPARE(config->hub, QStringLiteral("sb"));
        QCOMPARE(config->sourcePort(), 1883);
        QVERIFY(!config->sourceUsesTls());
        QCOMPARE(config->sourceClientId, QStringLiteral("onboarder-relay-sb"));
        QCOMPARE(config->autoRegister, false);
        QCOMPARE(config->deviceAuth, RelayConfig::DeviceAuth::Sas);
        QCOMPARE(config->outboxPath, QStringLiteral("/etc/onboarder/relay-outbox.db"));
        QCOMPARE(config->outboxMaxMessages, 1000000);
        QCOMPARE(config->idleTimeoutSeconds, 300);
        QCOMPARE(config->hubKeepAliveSeconds, 120);
        QVERIFY(!config->hasSourcePassword());
    }

    void everything()
    {
        const auto config = RelayConfig::parse(
            J("{'hub': 'h', 'source': {'url': 'mqtts://broker.local', 'username': 'u',"
              "            'passwordFile': 'secret/pw', 'caFile': '/ca.pem', 'clientId': 'gw-1', 'topics': ['a/#', "
              "'b/+/c']},"
              "            'deviceIdFromPayload': 'meta.id', 'properties': {'kind': '$.type', 'fixed': 'yes'},"
              "            'autoRegister': true, 'deviceAuth': 'x509', 'autoRegisterCa': 'bench',"
              "            'idleTimeoutSeconds': 5, 'tokenLifetimeSeconds': 600,"
              "            'outbox': {'path': '/var/lib/r.db', 'maxMessages': 10}, 'metricsIntervalMs': 250,"
              "            'hubConnection': {'webSockets': true, 'proxy': 'http://proxy.corp:3128', "
              "'keepAliveSeconds': 25}}"),
            QStringLiteral("/etc"));
        QVERIFY2(config.has_value(), config ? "" : qPrintable(config.error().message));
        // Every key given is read, none falls back to its default.
        QCOMPARE(config->hub, QStringLiteral("h"));
        QVERIFY(config->sourceUsesTls());
        QCOMPARE(config->sourceUrl.host(), QStringLiteral("broker.local"));
        QCOMPARE(config->sourcePort(), 8883);
        QCOMPARE(config->sourceUsername, QStringLiteral("u"));
        QCOMPARE(config->sourcePasswordFile, QStringLiteral("/etc/secret/pw"));
        QCOMPARE(config->sourceCaFile, QStringLiteral("/ca.pem"));
        QCOMPARE(config->sourceClientId, QStringLiteral("gw-1"));
        QCOMPARE(config->topics, (QStringList{QStringLiteral("a/#"), QStringLiteral("b/+/c")}));
        QCOMPARE(config->deviceIdFromPayload, QStringLiteral("meta.id"));
        QVERIFY(config->deviceIdFromTopic.isEmpty());
        QCOMPARE(config->properties.size(), 2);
        QMap<QString, RelayConfig::Property> properties;
        for (const RelayConfig::Property &property : config->properties)
            properties.insert(property.name, property);
        QCOMPARE(properties.value(QStringLiteral("kind")).source, RelayConfig::Property::Source::PayloadField);
        QCOMPARE(properties.value(QStringLiteral("kind")).value, QStringLiteral("type"));
        QCOMPARE(properties.value(QStringLiteral("fixed")).source, RelayConfig::Property::Source::Constant);
        QCOMPARE(properties.value(QStringLiteral("fixed")).value, QStringLiteral("yes"));
        QVERIFY(config->autoRegister);
        QCOMPARE(config->deviceAuth, RelayConfig::DeviceAuth::X509);
        QCOMPARE(config->autoRegisterCa, QStringLiteral("bench"));
        QCOMPARE(config->idleTimeoutSeconds, 5);
        QCOMPARE(config->tokenLifetimeSeconds, 600);
        QCOMPARE(config->outboxPath, QStringLiteral("/var/lib/r.db"));
        QCOMPARE(config->outboxMaxMessages, 10);
        QCOMPARE(config->metricsIntervalMs, 250);
        QVERIFY(config->hubWebSockets);
        QCOMPARE(config->hubProxy, QUrl(QStringLiteral("http://proxy.corp:3128")));
        QCOMPARE(config->hubKeepAliveSeconds, 25);
    }

    void errorsNameTheKey_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("not json") << QByteArray("{") << QStringLiteral("not valid JSON");
        QTest::newRow("no hub") << QByteArray(J("{'source': {}}")) << QStringLiteral("\"hub\"");
        QTest::newRow("unknown key") << minimal(J(", 'outbx': {}")) << QStringLiteral("\"outbx\"");
        QTest::newRow("clear password") << QByteArray(
            J("{'hub': 'h', 'source': {'url': 'mqtt://x', 'password': 'p', 'topics': ['a']},"
              "            'deviceIdFromTopic': '{deviceId}'}"))
                                        << QStringLiteral("source.passwordFile");
        QTest::newRow("bad scheme") << QByteArray(
            J("{'hub': 'h', 'source': {'url': 'http://x', 'topics': ['a']}, 'deviceIdFromTopic': '{deviceId}'}"))
                                    << QStringLiteral("\"source.url\"");
        QTest::newRow("password in url") << QByteArray(
            J("{'hub': 'h', 'source': {'url': 'mqtt://u:p@x', 'topics': ['a']}, 'deviceIdFromTopic': '{deviceId}'}"))
                                         << QStringLiteral("\"source.url\"");
        QTest::newRow("no topics") << QByteArray(
            J("{'hub': 'h', 'source': {'url': 'mqtt://x', 'topics': []}, 'deviceIdFromTopic': '{deviceId}'}"))
                                   << QStringLiteral("\"source.topics\"");
        QTest::newRow("bad filter") << QByteArray(
            J("{'hub': 'h', 'source': {'url': 'mqtt://x', 'topics': ['a/#/b']}, 'deviceIdFromTopic': '{deviceId}'}"))
                                    << QStringLiteral("a/#/b");
        QTest::newRow("no device id") << QByteArray(J("{'hub': 'h', 'source': {'url': 'mqtt://x', 'topics': ['a']}}"))
                                      << QStringLiteral("\"deviceIdFromTopic\"");
        QTest::newRow("both device ids") << minimal(J(", 'deviceIdFromPayload': 'id'"))
                                         << QStringLiteral("exactly one");
        QTest::newRow("pattern without id") << QByteArray(
            J("{'hub': 'h', 'source': {'url': 'mqtt://x', 'topics': ['a']}, 'deviceIdFromTopic': 'a/{x}'}"))
                                            << QStringLiteral("{deviceId}");
        QTest::newRow("pattern wildcard") << QByteArray(
            J("{'hub': 'h', 'source': {'url': 'mqtt://x', 'topics': ['a']}, 'deviceIdFromTopic': '+/{deviceId}'}"))
                                          << QStringLiteral("not a filter");
        QTest::newRow("capture not in pattern")
            << minimal(J(", 'properties': {'site': '{site}'}")) << QStringLiteral("\"properties.site\"");
        QTest::newRow("system property") << minimal(J(", 'properties': {'$.ct': 'x'}"))
                                         << QStringLiteral("\"properties.$.ct\"");
        QTest::newRow("autoRegister type")
            << minimal(J(", 'autoRegister': 'yes'")) << QStringLiteral("\"autoRegister\"");
        QTest::newRow("deviceAuth") << minimal(J(", 'deviceAuth': 'psk'")) << QStringLiteral("\"deviceAuth\"");
        QTest::newRow("autoRegisterCa without x509")
            << minimal(J(", 'autoRegister': true, 'autoRegisterCa': 'bench'")) << QStringLiteral("\"autoRegisterCa\"");
        QTest::newRow("autoRegisterCa without autoRegister")
            << minimal(J(", 'deviceAuth': 'x509', 'autoRegisterCa': 'bench'")) << QStringLiteral("\"autoRegisterCa\"");
        QTest::newRow("idle zero") << minimal(J(", 'idleTimeoutSeconds': 0"))
                                   << QStringLiteral("\"idleTimeoutSeconds\"");
        QTest::newRow("idle fraction") << minimal(J(", 'idleTimeoutSeconds': 1.5"))
                                       << QStringLiteral("\"idleTimeoutSeconds\"");
        QTest::newRow("outbox max") << minimal(J(", 'outbox': {'maxMessages': -1}"))
                                    << QStringLiteral("\"outbox.maxMessages\"");
        QTest::newRow("outbox key") << minimal(J(", 'outbox': {'size': 1}")) << QStringLiteral("\"outbox.size\"");
        QTest::newRow("two passwords") << QByteArray(
            J("{'hub': 'h', 'source': {'url': 'mqtt://x', 'passwordFile': 'a', 'passwordKeychain': 'b',"
              "            'topics': ['a']}, 'deviceIdFromTopic': '{deviceId}'}"))
                                       << QStringLiteral("exclude");
        QTest::newRow("hubConnection type")
            << minimal(J(", 'hubConnection': true")) << QStringLiteral("\"hubConnection\"");
        QTest::newRow("webSockets type") << minimal(J(", 'hubConnection': {'webSockets': 'yes'}"))
                                         << QStringLiteral("\"hubConnection.webSockets\"");
        QTest::newRow("proxy scheme") << minimal(J(", 'hubConnection': {'proxy': 'socks5://p:1080'}"))
                                      << QStringLiteral("http://HOST:PORT");
        QTest::newRow("proxy password") << minimal(J(", 'hubConnection': {'proxy': 'http://u:p@proxy:3128'}"))
                                        << QStringLiteral("no sign-in");
        QTest::newRow("keep-alive above IoT Hub's limit") << minimal(J(", 'hubConnection': {'keepAliveSeconds': 1178}"))
                                                          << QStringLiteral("\"hubConnection.keepAliveSeconds\"");
        QTest::newRow("hubConnection key")
            << minimal(J(", 'hubConnection': {'port': 443}")) << QStringLiteral("\"hubConnection.port\"");
        QTest::newRow("ca without tls") << QByteArray(
            J("{'hub': 'h', 'source': {'url': 'mqtt://x', 'caFile': 'a', 'topics': ['a']},"
              "            'deviceIdFromTopic': '{deviceId}'}"))
                                        << QStringLiteral("\"source.caFile\"");
    }

    void errorsNameTheKey()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, mentions);
        const auto config = RelayConfig::parse(json, QStringLiteral("/tmp"));
        QVERIFY(!config.has_value());
        QCOMPARE(config.error().code, QStringLiteral("InvalidRelayConfig"));
        QCOMPARE(config.error().kind, ErrorKind::InvalidInput);
        QVERIFY2(config.error().message.contains(mentions), qPrintable(config.error().message));
    }

    void mapsTopicsAndProperties()
    {
        const auto config
            = RelayConfig::parse(J("{'hub': 'h', 'source': {'url': 'mqtt://x', 'topics': ['#']},"
                                   "            'deviceIdFromTopic': 'site/{site}/{deviceId}/telemetry',"
                                   "            'properties': {'site': '{site}', 'kind': '$.type', 'relay': 'yes'}}"),
                QStringLiteral("/"));
        QVERIFY2(config.has_value(), config ? "" : qPrintable(config.error().message));
        const MessageMapper mapper(*config);
        const auto mapped
            = mapper.map(message(QStringLiteral("site/berlin/s-1/telemetry"), J("{'type': 'temp', 'v': 1}")), 42);
        QVERIFY(mapped.has_value());
        QCOMPARE(mapped->deviceId, QStringLiteral("s-1"));
        QCOMPARE(mapped->receivedMs, 42);
        QCOMPARE(mapped->properties,
            (MqttUserProperties{{QStringLiteral("kind"), QStringLiteral("temp")},
                {QStringLiteral("relay"), QStringLiteral("yes")},
                {QStringLiteral("site"), QStringLiteral("berlin")}})); // by name
        // Not the pattern's shape, a literal level that differs, an id the hub refuses.
        QCOMPARE(
            mapper.map(message(QStringLiteral("site/berlin/s-1"), "{}"), 0).error().code, QStringLiteral("Unroutable"));
        QVERIFY(!mapper.map(message(QStringLiteral("site/berlin/s-1/status"), "{}"), 0).has_value());
        QVERIFY(!mapper.map(message(QStringLiteral("site/berlin/bad id/telemetry"), "{}"), 0).has_value());
        // A payload that is not JSON: the payload property is left out, the message still goes.
        const auto raw = mapper.map(message(QStringLiteral("site/x/s-2/telemetry"), "21.5"), 0);
        QVERIFY(raw.has_value());
        QCOMPARE(raw->properties.size(), 2);
    }

    void mapsPayloadIds()
    {
        const auto config = RelayConfig::parse(J("{'hub': 'h', 'source': {'url': 'mqtt://x', 'topics': ['#']},"
                                                 "            'deviceIdFromPayload': 'meta.id'}"),
            QStringLiteral("/"));
        QVERIFY(config.has_value());
        const MessageMapper mapper(*config);
        QCOMPARE(mapper.map(message(QStringLiteral("any"), J("{'meta': {'id': 'p-7'}}")), 0)->deviceId,
            QStringLiteral("p-7"));
        QVERIFY(!mapper.map(message(QStringLiteral("any"), J("{'id': 'p-7'}")), 0).has_value());
        QVERIFY(!mapper.map(message(QStringLiteral("any"), "not json"), 0).has_value());
        // IoT Hub takes "+" and "#" in a device id, but they cannot stand in the device's MQTT topic.
        for (const char *id : {"a+b", "a#"}) {
            const auto refused
                = mapper.map(message(QStringLiteral("any"), "{\"meta\": {\"id\": \"" + QByteArray(id) + "\"}}"), 0);
            QVERIFY(!refused.has_value());
            QCOMPARE(refused.error().code, QStringLiteral("Unroutable"));
            QVERIFY2(refused.error().message.contains(QStringLiteral("MQTT")), qPrintable(refused.error().message));
        }
    }
};

QTEST_GUILESS_MAIN(tst_RelayConfig)
#include "tst_relayconfig.moc"
