// Connection strings (iothub.md section 1): strict parsing with one error code per problem,
// the kinds, canonical and masked output.
#include "hub/connectionstring.h"
#include "hub/sastoken.h"
#include "testsupport.h"

#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTest>
#include <QUrl>

#include <algorithm>

using namespace Onboarder;

namespace {

const QString host = QStringLiteral("contoso.azure-devices.net");
// V6 of iothub.md 2.6: a real device token; its sig must never show in masked output.
const QString tokenSig = QStringLiteral("SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4%3D");
const QString deviceToken = QStringLiteral("SharedAccessSignature sr=iot-hub-for-test.azure-devices.net%2Fdevices%2F"
                                           "iot-device-for-test&sig=SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4%3D"
                                           "&se=1471940363");

} // namespace

class TestConnectionString : public QObject
{
    Q_OBJECT

    // Fresh random keys each run (32 bytes as IoT Hub makes them, 16 and 48 as DPS allows): no message
    // and no masked text may ever contain one.
    QString m_key;
    QString m_key16;
    QString m_key48;

    QString with(const char *pattern) const
    {
        return QString::fromUtf8(pattern)
            .replace(QStringLiteral("<key>"), m_key)
            .replace(QStringLiteral("<key16>"), m_key16)
            .replace(QStringLiteral("<key48>"), m_key48)
            .replace(QStringLiteral("<token>"), deviceToken);
    }

    static QString randomKey(int bytes)
    {
        QByteArray data(bytes, Qt::Uninitialized);
        for (char &c : data)
            c = char(QRandomGenerator::global()->bounded(256));
        return QString::fromLatin1(data.toBase64());
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_key = TestSupport::randomKey();
        m_key16 = randomKey(16);
        m_key48 = randomKey(48);
        QVERIFY(m_key.endsWith(u'=') && !m_key.endsWith(QStringLiteral("==")));
        QVERIFY(m_key16.endsWith(QStringLiteral("==")));
        QVERIFY(!m_key48.contains(u'='));
    }

    void valid_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<ConnectionString::Kind>("kind");
        QTest::addColumn<ConnectionString::Credential>("credential");
        QTest::addColumn<QString>("deviceId");
        QTest::addColumn<QString>("moduleId");
        QTest::addColumn<QString>("policy");
        QTest::addColumn<QString>("gateway");

        using K = ConnectionString::Kind;
        using C = ConnectionString::Credential;
        QTest::newRow("service") << with(
            "HostName=contoso.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=<key>")
                                 << K::Service << C::SharedAccessKey << QString() << QString()
                                 << QStringLiteral("iothubowner") << QString();
        QTest::newRow("service, trailing ;")
            << with("HostName=contoso.azure-devices.net;SharedAccessKeyName=registryReadWrite;SharedAccessKey=<key>;")
            << K::Service << C::SharedAccessKey << QString() << QString() << QStringLiteral("registryReadWrite")
            << QString();
        QTest::newRow("service with token")
            << with("HostName=contoso.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessSignature=<token>")
            << K::Service << C::SharedAccessSignature << QString() << QString() << QStringLiteral("iothubowner")
            << QString();
        QTest::newRow("device key") << with("HostName=contoso.azure-devices.net;DeviceId=dev-1;SharedAccessKey=<key>")
                                    << K::Device << C::SharedAccessKey << QStringLiteral("dev-1") << QString()
                                    << QString() << QString();
        QTest::newRow("device x509") << with("HostName=contoso.azure-devices.net;DeviceId=dev-1;x509=true") << K::Device
                                     << C::X509 << QStringLiteral("dev-1") << QString() << QString() << QString();
        QTest::newRow("device token") << with(
            "HostName=contoso.azure-devices.net;DeviceId=dev-1;SharedAccessSignature=<token>")
                                      << K::Device << C::SharedAccessSignature << QStringLiteral("dev-1") << QString()
                                      << QString() << QString();
        QTest::newRow("device via policy") << with(
            "HostName=contoso.azure-devices.net;DeviceId=dev-1;SharedAccessKeyName=device;SharedAccessKey=<key>")
                                           << K::Device << C::SharedAccessKey << QStringLiteral("dev-1") << QString()
                                           << QStringLiteral("device") << QString();
        QTest::newRow("module key") << with(
            "HostName=contoso.azure-devices.net;DeviceId=dev-1;ModuleId=mod-1;SharedAccessKey=<key>")
                                    << K::Module << C::SharedAccessKey << QStringLiteral("dev-1")
                                    << QStringLiteral("mod-1") << QString() << QString();
        QTest::newRow("module x509") << with(
            "HostName=contoso.azure-devices.net;DeviceId=dev-1;ModuleId=$edgeHub;x509=true")
                                     << K::Module << C::X509 << QStringLiteral("dev-1") << QStringLiteral("$edgeHub")
                                     << QString() << QString();
        QTest::newRow("module token") << with(
            "HostName=contoso.azure-devices.net;DeviceId=dev-1;ModuleId=mod-1;SharedAccessSignature=<token>")
                                      << K::Module << C::SharedAccessSignature << QStringLiteral("dev-1")
                                      << QStringLiteral("mod-1") << QString() << QString();
        QTest::newRow("device with gateway FQDN") << with(
            "HostName=contoso.azure-devices.net;DeviceId=dev-1;SharedAccessKey=<key>;GatewayHostName=edge.lan.example")
                                                  << K::Device << C::SharedAccessKey << QStringLiteral("dev-1")
                                                  << QString() << QString() << QStringLiteral("edge.lan.example");
        QTest::newRow("device with gateway LAN name")
            << with("HostName=contoso.azure-devices.net;DeviceId=dev-1;x509=true;GatewayHostName=mygateway")
            << K::Device << C::X509 << QStringLiteral("dev-1") << QString() << QString() << QStringLiteral("mygateway");
        QTest::newRow("module with gateway address")
            << with("GatewayHostName=192.168.1.10;HostName=contoso.azure-devices.net;DeviceId=d;ModuleId=m;"
                    "SharedAccessKey=<key>")
            << K::Module << C::SharedAccessKey << QStringLiteral("d") << QStringLiteral("m") << QString()
            << QStringLiteral("192.168.1.10");
        QTest::newRow("device id with every special")
            << with("HostName=contoso.azure-devices.net;DeviceId=-:.+%_#*?!(),=@$';SharedAccessKey=<key>") << K::Device
            << C::SharedAccessKey << QStringLiteral("-:.+%_#*?!(),=@$'") << QString() << QString() << QString();
        QTest::newRow("order: key first")
            << with("SharedAccessKey=<key>;DeviceId=dev-1;HostName=contoso.azure-devices.net") << K::Device
            << C::SharedAccessKey << QStringLiteral("dev-1") << QString() << QString() << QString();
        QTest::newRow("short key") << QStringLiteral(
            "HostName=contoso.azure-devices.net;DeviceId=d;SharedAccessKey=YQ==")
                                   << K::Device << C::SharedAccessKey << QStringLiteral("d") << QString() << QString()
                                   << QString();
    }

    void valid()
    {
        QFETCH(QString, text);
        QFETCH(ConnectionString::Kind, kind);
        QFETCH(ConnectionString::Credential, credential);
        QFETCH(QString, deviceId);
        QFETCH(QString, moduleId);
        QFETCH(QString, policy);
        QFETCH(QString, gateway);

        const auto cs = ConnectionString::parse(text);
        QVERIFY2(cs, cs ? "" : qPrintable(cs.error().code + u' ' + cs.error().message));
        QCOMPARE(cs->kind(), kind);
        QCOMPARE(cs->credential(), credential);
        QCOMPARE(cs->isX509(), credential == ConnectionString::Credential::X509);
        QCOMPARE(cs->hostName(), host);
        QCOMPARE(cs->hubName(), QStringLiteral("contoso"));
        QCOMPARE(cs->deviceId(), deviceId);
        QCOMPARE(cs->moduleId(), moduleId);
        QCOMPARE(cs->sharedAccessKeyName(), policy);
        QCOMPARE(cs->gatewayHostName(), gateway);
        if (credential == ConnectionString::Credential::SharedAccessSignature) {
            QCOMPARE(cs->sharedAccessSignature(), deviceToken); // '=' and the space inside the value survive
            QVERIFY(cs->sharedAccessKey().isEmpty());
        } else if (credential == ConnectionString::Credential::SharedAccessKey) {
            QVERIFY(text.contains(QStringLiteral("SharedAccessKey=") + cs->sharedAccessKey().exposeAsString() + u';')
                || text.endsWith(QStringLiteral("SharedAccessKey=") + cs->sharedAccessKey().exposeAsString()));
            QVERIFY(cs->sharedAccessKey().view().endsWith('=')); // base64 padding survives the split
        }

        // Canonical text parses back to the same value, and is stable.
        const auto again = ConnectionString::parse(cs->toString());
        QVERIFY2(again, again ? "" : qPrintable(again.error().message));
        QCOMPARE(*again, *cs);
        QCOMPARE(again->toString(), cs->toString());

        // The masked text names everything but the secrets.
        const QString masked = cs->toMaskedString();
        QVERIFY(!masked.contains(m_key));
        QVERIFY(!masked.contains(tokenSig));
        QVERIFY(!masked.contains(QStringLiteral("SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4")));
        QVERIFY(masked.contains(host));
        if (!deviceId.isEmpty())
            QVERIFY(masked.contains(QStringLiteral("DeviceId=") + deviceId));
        if (credential == ConnectionString::Credential::SharedAccessKey)
            QVERIFY2(masked.contains(QStringLiteral("SharedAccessKey=********")), qPrintable(masked));
    }

    void equalsInsideValues()
    {
        // A key that is mostly padding and a token full of '=': both come out whole.
        const auto cs = ConnectionString::parse(
            QStringLiteral("HostName=h.azure-devices.net;DeviceId=a=b==;SharedAccessKey=YQ=="));
        QVERIFY(cs);
        QCOMPARE(cs->deviceId(), QStringLiteral("a=b=="));
        QCOMPARE(cs->sharedAccessKey().exposeAsString(), QStringLiteral("YQ=="));
        const auto token
            = ConnectionString::parse(with("HostName=h.azure-devices.net;DeviceId=d;SharedAccessSignature=<token>"));
        QVERIFY(token);
        QCOMPARE(token->sharedAccessSignature(), deviceToken);
        QVERIFY(SasToken::parse(token->sharedAccessSignature())
                    ->verify(QStringLiteral("+XLy+MVZ+aTeOnVzN2kLeB16O+kSxmz6g3rS6fAf6rw=")));
    }

    void orderDoesNotMatter()
    {
        QStringList parts{QStringLiteral("HostName=contoso.azure-devices.net"), QStringLiteral("DeviceId=dev-1"),
            QStringLiteral("ModuleId=mod-1"), QStringLiteral("SharedAccessKey=") + m_key,
            QStringLiteral("GatewayHostName=edge.example")};
        std::sort(parts.begin(), parts.end());
        const auto first = ConnectionString::parse(parts.join(u';'));
        QVERIFY(first);
        const QString canonical = QStringLiteral("HostName=contoso.azure-devices.net;DeviceId=dev-1;ModuleId=mod-1;"
                                                 "SharedAccessKey=%1;GatewayHostName=edge.example")
                                      .arg(m_key);
        QCOMPARE(first->toString(), canonical);
        int permutations = 0;
        do {
            const auto cs = ConnectionString::parse(parts.join(u';'));
            QVERIFY2(cs, qPrintable(parts.join(u';')));
            QCOMPARE(*cs, *first);
            QCOMPARE(cs->toString(), canonical);
            ++permutations;
        } while (std::next_permutation(parts.begin(), parts.end()));
        QCOMPARE(permutations, 120);
    }

    void canonicalOrderOfEveryKey()
    {
        const auto cs = ConnectionString::parse(
            with("x509=true;GatewayHostName=gw;ModuleId=m;DeviceId=d;HostName=h.azure-devices.net"));
        QVERIFY(cs);
        QCOMPARE(cs->toString(),
            QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;ModuleId=m;x509=true;GatewayHostName=gw"));
        const auto viaPolicy = ConnectionString::parse(
            with("SharedAccessKey=<key>;SharedAccessKeyName=device;DeviceId=d;HostName=h.azure-devices.net"));
        QVERIFY(viaPolicy);
        QCOMPARE(viaPolicy->toString(),
            with("HostName=h.azure-devices.net;DeviceId=d;SharedAccessKeyName=device;SharedAccessKey=<key>"));
    }

    void maskedOutput()
    {
        const auto service = ConnectionString::parse(
            with("HostName=contoso.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=<key>"));
        QVERIFY(service);
        QCOMPARE(service->toMaskedString(),
            QStringLiteral(
                "HostName=contoso.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=********"));
        QCOMPARE(service->sharedAccessKey().exposeAsString(), m_key); // the accessor still has it

        // In a token only the signature is masked; sr and se stay readable.
        const auto device = ConnectionString::parse(
            with("HostName=contoso.azure-devices.net;DeviceId=d;SharedAccessSignature=<token>"));
        QVERIFY(device);
        QCOMPARE(device->toMaskedString(),
            QStringLiteral("HostName=contoso.azure-devices.net;DeviceId=d;SharedAccessSignature=SharedAccessSignature "
                           "sr=iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test&sig=********"
                           "&se=1471940363"));
        // Field order of the token is kept; skn survives.
        const auto reordered = ConnectionString::parse(QStringLiteral(
            "HostName=contoso.azure-devices.net;SharedAccessKeyName=p;SharedAccessSignature=SharedAccessSignature "
            "sig=abc%3D&se=1&skn=p&sr=contoso.azure-devices.net"));
        QVERIFY(reordered);
        QVERIFY2(reordered->toMaskedString().endsWith(
                     QStringLiteral("SharedAccessSignature sig=********&se=1&skn=p&sr=contoso.azure-devices.net")),
            qPrintable(reordered->toMaskedString()));

        // X.509 has nothing to mask.
        const auto x509 = ConnectionString::deviceWithX509(host, QStringLiteral("d"));
        QCOMPARE(x509.toMaskedString(), x509.toString());
    }

    void builders()
    {
        const auto service = ConnectionString::service(host, QStringLiteral("iothubowner"), m_key);
        QCOMPARE(service.kind(), ConnectionString::Kind::Service);
        QCOMPARE(service.toString(),
            with("HostName=contoso.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=<key>"));
        QCOMPARE(*ConnectionString::parse(service.toString()), service);

        const auto device = ConnectionString::deviceWithKey(host, QStringLiteral("dev-1"), m_key);
        QCOMPARE(device.kind(), ConnectionString::Kind::Device);
        QCOMPARE(device.credential(), ConnectionString::Credential::SharedAccessKey);
        QCOMPARE(device.toString(), with("HostName=contoso.azure-devices.net;DeviceId=dev-1;SharedAccessKey=<key>"));
        QCOMPARE(*ConnectionString::parse(device.toString()), device);

        const auto x509 = ConnectionString::deviceWithX509(host, QStringLiteral("dev-1"));
        QVERIFY(x509.isX509());
        QCOMPARE(x509.toString(), QStringLiteral("HostName=contoso.azure-devices.net;DeviceId=dev-1;x509=true"));
        QCOMPARE(*ConnectionString::parse(x509.toString()), x509);
    }

    void anExpiringHandOverCarriesATokenAndNoKey()
    {
        const qint64 expiry = QDateTime::currentSecsSinceEpoch() + 3600;
        const auto handOver = ConnectionString::deviceWithExpiringToken(
            host, QStringLiteral("dev-1:a+b"), SecretBytes::fromString(QString(m_key)), expiry);
        QVERIFY(handOver);
        QCOMPARE(handOver->kind(), ConnectionString::Kind::Device);
        QCOMPARE(handOver->credential(), ConnectionString::Credential::SharedAccessSignature);
        const QString text = handOver->toString();
        QVERIFY2(!text.contains(QStringLiteral("SharedAccessKey")), qPrintable(text));
        QVERIFY(!text.contains(m_key));
        QVERIFY(text.startsWith(QStringLiteral(
            "HostName=contoso.azure-devices.net;DeviceId=dev-1:a+b;SharedAccessSignature=SharedAccessSignature sr=")));
        // The token is the device's own, as a device SDK signs it: the device's resource, no policy, that expiry,
        // signed with the device's key.
        const auto token = SasToken::parse(handOver->sharedAccessSignature());
        QVERIFY(token);
        QCOMPARE(token->resource(), QStringLiteral("contoso.azure-devices.net/devices/dev-1:a+b"));
        QVERIFY(token->keyName().isEmpty());
        QCOMPARE(token->expiry(), expiry);
        QVERIFY(token->verify(m_key));
        QVERIFY(!token->verify(TestSupport::randomKey()));
        // What it parses back to is the same, and the masked form hides the signature.
        const auto parsed = ConnectionString::parse(text);
        QVERIFY2(parsed, parsed ? "" : qPrintable(parsed.error().message));
        QCOMPARE(*parsed, *handOver);
        QVERIFY(!handOver->toMaskedString().contains(QString::fromLatin1(QUrl::toPercentEncoding(token->signature()))));
        QVERIFY(!handOver->toMaskedString().contains(token->signature()));

        const auto notBase64 = ConnectionString::deviceWithExpiringToken(
            host, QStringLiteral("d"), SecretBytes::fromString(QStringLiteral("not base64!")), expiry);
        QVERIFY(!notBase64);
    }

    void aModulesConnectionStrings()
    {
        // A module's key, or its certificate: the device's string with the module's id.
        const ConnectionString keyed
            = ConnectionString::deviceWithKey(host, QStringLiteral("gw-1"), m_key).forModule(QStringLiteral("reader"));
        QCOMPARE(keyed.kind(), ConnectionString::Kind::Module);
        QCOMPARE(keyed.toString(),
            QStringLiteral("HostName=contoso.azure-devices.net;DeviceId=gw-1;ModuleId=reader;SharedAccessKey=")
                + m_key);
        QCOMPARE(*ConnectionString::parse(keyed.toString()), keyed);
        const ConnectionString x509
            = ConnectionString::deviceWithX509(host, QStringLiteral("gw-1")).forModule(QStringLiteral("reader"));
        QCOMPARE(x509.toString(),
            QStringLiteral("HostName=contoso.azure-devices.net;DeviceId=gw-1;ModuleId=reader;x509=true"));
        QCOMPARE(*ConnectionString::parse(x509.toString()), x509);

        // An expiring hand-over of a module: a token for the module's resource, signed with the module's key.
        const qint64 expiry = QDateTime::currentSecsSinceEpoch() + 600;
        const auto handOver = ConnectionString::deviceWithExpiringToken(
            host, QStringLiteral("gw-1"), SecretBytes::fromString(QString(m_key)), expiry, QStringLiteral("reader"));
        QVERIFY(handOver);
        QCOMPARE(handOver->kind(), ConnectionString::Kind::Module);
        QCOMPARE(handOver->moduleId(), QStringLiteral("reader"));
        QVERIFY(!handOver->toString().contains(m_key));
        const auto token = SasToken::parse(handOver->sharedAccessSignature());
        QVERIFY(token);
        QCOMPARE(token->resource(), QStringLiteral("contoso.azure-devices.net/devices/gw-1/modules/reader"));
        QVERIFY(token->verify(m_key));
        QCOMPARE(*ConnectionString::parse(handOver->toString()), *handOver);
    }

    void hubName_data()
    {
        QTest::addColumn<QString>("hostName");
        QTest::addColumn<QString>("hubName");
        QTest::newRow("azure") << QStringLiteral("contoso.azure-devices.net") << QStringLiteral("contoso");
        QTest::newRow("china cloud") << QStringLiteral("my-hub.azure-devices.cn") << QStringLiteral("my-hub");
        QTest::newRow("two labels") << QStringLiteral("sandbox.local") << QStringLiteral("sandbox");
        QTest::newRow("case kept") << QStringLiteral("MyExampleHub.azure-devices.net")
                                   << QStringLiteral("MyExampleHub");
        // A sandbox hub reached by address: the address is the name (not its first byte).
        QTest::newRow("ip literal") << QStringLiteral("127.0.0.1") << QStringLiteral("127.0.0.1");
    }

    void hubName()
    {
        QFETCH(QString, hostName);
        QFETCH(QString, hubName);
        const auto cs = ConnectionString::parse(
            QStringLiteral("HostName=%1;SharedAccessKeyName=p;SharedAccessKey=YQ==").arg(hostName));
        QVERIFY(cs);
        QCOMPARE(cs->hubName(), hubName);
    }

    void kindNames()
    {
        const QString service = ConnectionString::kindName(ConnectionString::Kind::Service);
        const QString device = ConnectionString::kindName(ConnectionString::Kind::Device);
        const QString module = ConnectionString::kindName(ConnectionString::Kind::Module);
        QCOMPARE(device, QStringLiteral("device"));
        QCOMPARE(module, QStringLiteral("module"));
        QVERIFY(service.contains(QStringLiteral("hub")));
        QVERIFY(service != device && device != module && service != module);
    }

    void malformed_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("messagePart"); // something the sentence must say

        const auto row = [this](const char *name, const char *text, const char *code, const char *part) {
            QTest::newRow(name) << with(text) << QString::fromUtf8(code) << QString::fromUtf8(part);
        };

        // Shape of the text.
        row("empty", "", "Empty", "empty");
        row("only spaces", "   ", "Empty", "white space");
        row("leading space", " HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=<key>", "SurroundingWhitespace",
            "white space");
        row("trailing newline", "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=<key>\n",
            "SurroundingWhitespace", "white space");
        row("empty segment in the middle", "HostName=h.azure-devices.net;;DeviceId=d;SharedAccessKey=<key>",
            "EmptySegment", "Part 2");
        row("leading ;", ";HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=<key>", "EmptySegment", "Part 1");
        row("two trailing ;", "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=<key>;;", "EmptySegment",
            "Part 4");
        row("only ;", ";", "EmptySegment", "Part 1");
        row("segment without =", "HostName=h.azure-devices.net;DeviceId;SharedAccessKey=<key>", "SegmentWithoutEquals",
            "Part 2");
        row("bare key pasted", "<key>", "UnknownKey", "Part 1");
        row("bare 16-byte key pasted", "<key16>", "UnknownKey", "Part 1");
        row("bare 48-byte key pasted", "<key48>", "SegmentWithoutEquals", "Part 1");
        row("key pasted after host", "HostName=h.azure-devices.net;<key16>", "UnknownKey", "Part 2");
        row("key pasted with a space", "HostName=h.azure-devices.net; <key>", "WhitespaceInKey", "Part 2");
        row("empty key", "HostName=h.azure-devices.net;=d;SharedAccessKey=<key>", "EmptyKey", "Part 2");
        row("space before key", "HostName=h.azure-devices.net; DeviceId=d;SharedAccessKey=<key>", "WhitespaceInKey",
            "\"DeviceId\"");
        row("space after key", "HostName =h.azure-devices.net;DeviceId=d;SharedAccessKey=<key>", "WhitespaceInKey",
            "\"HostName\"");

        // Keys.
        row("lower-case hostname", "hostname=h.azure-devices.net;DeviceId=d;SharedAccessKey=<key>", "UnknownKey",
            "Did you mean HostName?");
        row("wrong case DeviceID", "HostName=h.azure-devices.net;DeviceID=d;SharedAccessKey=<key>", "UnknownKey",
            "Did you mean DeviceId?");
        row("wrong case key name", "HostName=h.azure-devices.net;DeviceId=d;sharedaccesskey=<key>", "UnknownKey",
            "Did you mean SharedAccessKey?");
        row("upper-case X509", "HostName=h.azure-devices.net;DeviceId=d;X509=true", "UnknownKey", "Did you mean x509?");
        row("unknown key", "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=<key>;Foo=bar", "UnknownKey",
            "\"Foo\"");
        row("legacy X509Cert", "HostName=h.azure-devices.net;DeviceId=d;X509Cert=true", "UnknownKey", "\"X509Cert\"");
        row("UseProvisioning (C SDK only)",
            "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=<key>;UseProvisioning=true", "UnknownKey",
            "\"UseProvisioning\"");
        row("duplicate DeviceId", "HostName=h.azure-devices.net;DeviceId=d;DeviceId=e;SharedAccessKey=<key>",
            "DuplicateKey", "DeviceId");
        row("duplicate key", "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=<key>;SharedAccessKey=<key>",
            "DuplicateKey", "SharedAccessKey");
        row("empty DeviceId", "HostName=h.azure-devices.net;DeviceId=;SharedAccessKey=<key>", "EmptyValue", "DeviceId");
        row("empty SharedAccessKey", "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=", "EmptyValue",
            "SharedAccessKey");
        row("space around value", "HostName=h.azure-devices.net;DeviceId= d;SharedAccessKey=<key>", "WhitespaceInValue",
            "DeviceId");
        row("space after key value", "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=<key> ;x509=true",
            "WhitespaceInValue", "SharedAccessKey");

        // HostName.
        row("no HostName", "SharedAccessKeyName=iothubowner;SharedAccessKey=<key>", "MissingHostName", "HostName");
        row("HostName without dot", "HostName=contoso;SharedAccessKeyName=iothubowner;SharedAccessKey=<key>",
            "InvalidHostName", "no dot");
        row("HostName as URL", "HostName=https://contoso.azure-devices.net;DeviceId=d;SharedAccessKey=<key>",
            "InvalidHostName", "\":\" (U+003A) at position 6");
        row("HostName with empty label", "HostName=contoso..net;DeviceId=d;x509=true", "InvalidHostName", "empty part");

        // Identities.
        row("ModuleId without DeviceId", "HostName=h.azure-devices.net;ModuleId=m;SharedAccessKey=<key>",
            "MissingDeviceId", "ModuleId");
        row("x509 without DeviceId", "HostName=h.azure-devices.net;x509=true", "MissingDeviceId", "DeviceId");
        row("token without DeviceId or policy", "HostName=h.azure-devices.net;SharedAccessSignature=<token>",
            "MissingSharedAccessKeyName", "SharedAccessKeyName");
        row("bad DeviceId char", "HostName=h.azure-devices.net;DeviceId=dev/1;SharedAccessKey=<key>", "InvalidDeviceId",
            "\"/\" (U+002F) at position 4");
        row("DeviceId non-ASCII", "HostName=h.azure-devices.net;DeviceId=g\xc3\xa9r\xc3\xa4t;x509=true",
            "InvalidDeviceId", "(U+00E9) at position 2");
        row("DeviceId 129 chars",
            "HostName=h.azure-devices.net;DeviceId="
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx;x509=true",
            "InvalidDeviceId", "129 characters long; at most 128");
        row("bad ModuleId", "HostName=h.azure-devices.net;DeviceId=d;ModuleId=m m;SharedAccessKey=<key>",
            "InvalidModuleId", "U+0020 at position 2");
        row("bad policy name", "HostName=h.azure-devices.net;SharedAccessKeyName=my policy;SharedAccessKey=<key>",
            "InvalidPolicyName", "U+0020 at position 3");

        // Credentials.
        row("key not base64", "HostName=h.azure-devices.net;SharedAccessKeyName=p;SharedAccessKey=not*base64",
            "KeyNotBase64", "base64");
        row("key without padding", "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=cGFzc3dvcmQ",
            "KeyNotBase64", "base64");
        row("key with stray bits",
            "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=cGFzc3dvcmR=", "KeyNotBase64", "base64");
        row("key base64url", "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=ab-_", "KeyNotBase64", "base64");
        row("key and x509", "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=<key>;x509=true",
            "MixedCredentials", "SharedAccessKey and x509=true");
        row("key and token",
            "HostName=h.azure-devices.net;DeviceId=d;SharedAccessSignature=<token>;SharedAccessKey=<key>",
            "MixedCredentials", "SharedAccessKey and SharedAccessSignature");
        row("token and x509", "HostName=h.azure-devices.net;DeviceId=d;x509=true;SharedAccessSignature=<token>",
            "MixedCredentials", "SharedAccessSignature and x509=true");
        row("all three",
            "HostName=h.azure-devices.net;DeviceId=d;x509=true;SharedAccessSignature=<token>;SharedAccessKey=<key>",
            "MixedCredentials", "SharedAccessKey, SharedAccessSignature and x509=true");
        row("device without credential", "HostName=h.azure-devices.net;DeviceId=d", "MissingCredential",
            "SharedAccessKey");
        row("module without credential", "HostName=h.azure-devices.net;DeviceId=d;ModuleId=m", "MissingCredential",
            "x509=true");
        row("only HostName", "HostName=h.azure-devices.net", "MissingCredential", "SharedAccessKeyName");
        row("only HostName and gateway", "HostName=h.azure-devices.net;GatewayHostName=gw", "MissingCredential",
            "DeviceId");
        row("x509=True", "HostName=h.azure-devices.net;DeviceId=d;x509=True", "InvalidX509Value", "\"true\"");
        row("x509=false", "HostName=h.azure-devices.net;DeviceId=d;x509=false", "InvalidX509Value", "\"true\"");
        row("x509=1", "HostName=h.azure-devices.net;DeviceId=d;x509=1", "InvalidX509Value", "\"true\"");
        row("key without policy or device", "HostName=h.azure-devices.net;SharedAccessKey=<key>",
            "MissingSharedAccessKeyName", "SharedAccessKeyName");
        row("policy without key", "HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner",
            "MissingSharedAccessKey", "SharedAccessKey");
        row("device policy without key", "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKeyName=device;x509=true",
            "MissingSharedAccessKey", "SharedAccessKey");
        row("device policy with token",
            "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKeyName=device;SharedAccessSignature=<token>",
            "MissingSharedAccessKey", "SharedAccessKey");
        row("token without prefix", "HostName=h.azure-devices.net;DeviceId=d;SharedAccessSignature=sr=h&sig=abc&se=1",
            "InvalidSharedAccessSignature", "SharedAccessSignature");
        row("token without sig",
            "HostName=h.azure-devices.net;DeviceId=d;SharedAccessSignature=SharedAccessSignature sr=h&se=1",
            "InvalidSharedAccessSignature", "\"sig\"");
        row("token with bad expiry",
            "HostName=h.azure-devices.net;DeviceId=d;SharedAccessSignature=SharedAccessSignature sr=h&sig=abc&se=soon",
            "InvalidSharedAccessSignature", "(se)");

        // Gateway.
        row("gateway with port", "HostName=h.azure-devices.net;DeviceId=d;x509=true;GatewayHostName=edge:8883",
            "InvalidGatewayHostName", "position 5");
        row("gateway with trailing dot", "HostName=h.azure-devices.net;DeviceId=d;x509=true;GatewayHostName=edge.",
            "InvalidGatewayHostName", "dot");
        row("gateway on a hub string",
            "HostName=h.azure-devices.net;SharedAccessKeyName=p;SharedAccessKey=<key>;GatewayHostName=edge",
            "UnexpectedGatewayHostName", "GatewayHostName");
    }

    void malformed()
    {
        QFETCH(QString, text);
        QFETCH(QString, code);
        QFETCH(QString, messagePart);

        const auto cs = ConnectionString::parse(text);
        QVERIFY2(!cs, qPrintable(QStringLiteral("accepted: ") + (cs ? cs->toMaskedString() : QString())));
        QCOMPARE(cs.error().code, code);
        QCOMPARE(cs.error().kind, ErrorKind::InvalidInput);
        const QString &message = cs.error().message;
        QVERIFY2(message.contains(messagePart), qPrintable(message));
        QVERIFY2(message.endsWith(u'.') || message.endsWith(u'?'), qPrintable(message));
        QVERIFY2(
            !message.contains(QRegularExpression(QStringLiteral("%[0-9]"))), qPrintable(message)); // every %n filled in
        // The key and the token's signature never show.
        for (const QString &key : {m_key, m_key16, m_key48}) {
            QVERIFY2(!message.contains(key), qPrintable(message));
            QVERIFY2(!message.contains(key.left(key.indexOf(u'='))), qPrintable(message));
        }
        QVERIFY2(!message.contains(QStringLiteral("SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4")), qPrintable(message));
    }

    // Problems with the key itself, whatever they are, never echo the key.
    void keyNeverInMessages()
    {
        const QStringList patterns{
            QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=%1*"),
            QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=%1="),
            QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey= %1"),
            QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=%1 "),
            QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=%1;SharedAccessKey=%1"),
            QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;sharedaccesskey=%1"),
            QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=%1;x509=true"),
            QStringLiteral("HostName=h.azure-devices.net;SharedAccessKey=%1"),
            QStringLiteral("SharedAccessKey=%1"),
            QStringLiteral("%1"),
            QStringLiteral(" %1"),
            QStringLiteral("%1;HostName=h.azure-devices.net"),
            QStringLiteral("HostName=h.azure-devices.net;%1"),
            QStringLiteral("HostName=h.azure-devices.net; %1"),
            QStringLiteral("HostName=h.azure-devices.net;%1 =x"),
            QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=%1;Extra=%1"),
            QStringLiteral("HostName=h.azure-devices.net;DeviceId=%1;x509=true"),
            QStringLiteral("HostName=%1;DeviceId=d;x509=true"),
            QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;ModuleId=%1;x509=true"),
            QStringLiteral("HostName=h.azure-devices.net;SharedAccessKeyName=%1;SharedAccessKey=YQ=="),
            QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;x509=%1"),
            QStringLiteral("HostName=h.azure-devices.net;DeviceId=d;x509=true;GatewayHostName=%1"),
            QStringLiteral(
                "HostName=h.azure-devices.net;DeviceId=d;SharedAccessSignature=SharedAccessSignature sr=h&sig=%1&se=x"),
            QStringLiteral(
                "HostName=h.azure-devices.net;DeviceId=d;SharedAccessSignature=SharedAccessSignature sr=h&%1&se=1"),
        };
        for (const QString &key : {m_key, m_key16, m_key48}) {
            for (const QString &pattern : patterns) {
                const QString text = pattern.arg(key);
                const auto cs = ConnectionString::parse(text);
                if (cs)
                    continue; // e.g. a key without '/' is a well-formed DeviceId; only messages matter here
                QVERIFY2(!cs.error().message.contains(key), qPrintable(pattern + u' ' + cs.error().message));
                QVERIFY2(!cs.error().message.contains(key.left(key.indexOf(u'='))),
                    qPrintable(pattern + u' ' + cs.error().message));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestConnectionString)
#include "tst_connectionstring.moc"
