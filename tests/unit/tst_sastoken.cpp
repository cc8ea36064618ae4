// SAS tokens: the published vectors (iothub.md 2.6), parsing, expiry, and a cross-check of the
// signature against an independent HMAC implementation (the openssl binary).
#include "hub/sastoken.h"
#include "testsupport.h"

#include <QProcess>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTest>
#include <QTimeZone>

using namespace Onboarder;

namespace {

// The key of vectors V6–V8, C1 and C2 (az CLI unit tests).
const QString cliKey = QStringLiteral("+XLy+MVZ+aTeOnVzN2kLeB16O+kSxmz6g3rS6fAf6rw=");
// The key of V9, C3 and C4 (DPS docs), 64 bytes.
const QString dpsDocKey
    = QStringLiteral("18RQk/hOPJR9EbsJlk2j8WA6vWaj/yi+oaYg7zmxfQNdOyMSu+SJ8O7TSlZhDJCYmn4rzEiVKIzNiVAWjLxrGA==");
// base64("password"), V1 and V2.
const QString passwordKey = QStringLiteral("cGFzc3dvcmQ=");

// Percent-encoding written out independently of the code under test: unreserved bytes stay.
QString referenceEncode(const QString &text)
{
    QString out;
    for (const char byte : text.toUtf8()) {
        const auto c = static_cast<unsigned char>(byte);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
            || c == '_' || c == '~') {
            out += QLatin1Char(char(c));
        } else {
            out += QStringLiteral("%%1").arg(uint(c), 2, 16, QLatin1Char('0')).toUpper();
        }
    }
    return out;
}

QString sigForToken(const QString &base64)
{
    QString text = base64;
    text.replace(u'+', QStringLiteral("%2B")).replace(u'/', QStringLiteral("%2F")).replace(u'=', QStringLiteral("%3D"));
    return text;
}

struct OpensslResult
{
    bool ok = false;
    QByteArray base64;
    QString error;
};

// HMAC-SHA256 by the openssl binary; the string to sign goes in on stdin.
OpensslResult opensslHmac(const QByteArray &keyBytes, const QByteArray &message)
{
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
        {QStringLiteral("dgst"), QStringLiteral("-sha256"), QStringLiteral("-mac"), QStringLiteral("HMAC"),
            QStringLiteral("-macopt"), QStringLiteral("hexkey:") + QString::fromLatin1(keyBytes.toHex())});
    if (!openssl.waitForStarted(10000))
        return {false, {}, QStringLiteral("openssl did not start")};
    openssl.write(message);
    openssl.closeWriteChannel();
    if (!openssl.waitForFinished(10000) || openssl.exitCode() != 0)
        return {false, {}, QString::fromLocal8Bit(openssl.readAllStandardError())};
    // "HMAC-SHA2-256(stdin)= <hex>"; the wording differs between versions, the hex is the last word.
    const QByteArray line = openssl.readAllStandardOutput().trimmed();
    const QByteArray hex = line.mid(line.lastIndexOf(' ') + 1);
    if (hex.size() != 64)
        return {false, {}, QStringLiteral("unexpected openssl output: ") + QString::fromLatin1(line)};
    return {true, QByteArray::fromHex(hex).toBase64(), {}};
}

QString randomResource(QRandomGenerator &random)
{
    // Plain characters, every reserved and unsafe ASCII character, and non-ASCII up to the astral planes.
    static const QList<QString> pool = [] {
        QList<QString> list;
        for (const QChar c : QStringLiteral("abcxyzABCXYZ0189-._~/!*'();:@&=+$,?#[]% \"<>\\^`{|}"))
            list.append(QString(c));
        list << QStringLiteral("\u00e9") << QStringLiteral("\u00fc") << QStringLiteral("\u00df")
             << QStringLiteral("\u6f22") << QStringLiteral("\u0416") << QStringLiteral("\U0001F600")
             << QStringLiteral("\t");
        return list;
    }();
    QString text = QStringLiteral("hub%1.azure-devices.net/devices/").arg(random.bounded(1000));
    const int length = random.bounded(1, 40);
    for (int i = 0; i < length; ++i)
        text += pool.at(random.bounded(qsizetype(pool.size())));
    return text;
}

} // namespace

class TestSasToken : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // V1: the raw HMAC, through the static helper that takes the base64 key.
    void rawSignatureV1()
    {
        QCOMPARE(SasToken::signature("string-to-sign", passwordKey.toLatin1()),
            QByteArray("o1n1hiIVgzVA2+krq9ty1Z4xsIJKJZP3dYT8MOi65Y4="));
        QCOMPARE(SasToken::signature("uri\n12345", passwordKey.toLatin1()),
            QByteArray("kcWxXAK2OAaAoq2oCkaGzX2NMqDB8nCyNuq2fPYCDhk="));
    }

    // V10 uses the same primitive: a DPS group key derives a device key from the registration id.
    void rawSignatureDerivesDpsDeviceKeyV10()
    {
        QCOMPARE(SasToken::signature("sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6",
                     "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw=="),
            QByteArray("Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc="));
    }

    void rawSignatureRefusesBadKeys()
    {
        QVERIFY(SasToken::signature("x", QByteArray()).isEmpty());
        QVERIFY(SasToken::signature("x", "key").isEmpty()); // V3/V4's non-canonical key
        QVERIFY(SasToken::signature("x", "not*base64").isEmpty());
    }

    void createMatchesVectors_data()
    {
        QTest::addColumn<QString>("resource");
        QTest::addColumn<QString>("key");
        QTest::addColumn<qint64>("expiry");
        QTest::addColumn<QString>("keyName");
        QTest::addColumn<QString>("encodedResource");
        QTest::addColumn<QString>("sig");
        QTest::addColumn<QString>("token");

        QTest::newRow("V2") << QStringLiteral("uri") << passwordKey << qint64(12345) << QStringLiteral("encode('Me')")
                            << QStringLiteral("uri") << QStringLiteral("kcWxXAK2OAaAoq2oCkaGzX2NMqDB8nCyNuq2fPYCDhk=")
                            << QStringLiteral(
                                   "SharedAccessSignature sr=uri&sig=kcWxXAK2OAaAoq2oCkaGzX2NMqDB8nCyNuq2fPYCDhk%3D"
                                   "&se=12345&skn=encode%28%27Me%27%29");
        QTest::newRow("V6 device") << QStringLiteral("iot-hub-for-test.azure-devices.net/devices/iot-device-for-test")
                                   << cliKey << qint64(1471940363) << QString()
                                   << QStringLiteral(
                                          "iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test")
                                   << QStringLiteral("SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4=")
                                   << QStringLiteral(
                                          "SharedAccessSignature sr=iot-hub-for-test.azure-devices.net%2Fdevices%2F"
                                          "iot-device-for-test&sig=SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4%3D"
                                          "&se=1471940363");
        QTest::newRow("V7 service") << QStringLiteral("iot-hub-for-test.azure-devices.net") << cliKey
                                    << qint64(1471940363) << QStringLiteral("iothubowner")
                                    << QStringLiteral("iot-hub-for-test.azure-devices.net")
                                    << QStringLiteral("770sPjjYxRYpNz8/hEN7XR5XU5KDGYGTinSP8YyeTXw=")
                                    << QStringLiteral(
                                           "SharedAccessSignature sr=iot-hub-for-test.azure-devices.net"
                                           "&sig=770sPjjYxRYpNz8%2FhEN7XR5XU5KDGYGTinSP8YyeTXw%3D&se=1471940363"
                                           "&skn=iothubowner");
        QTest::newRow("V8 module")
            << QStringLiteral("iot-hub-for-test.azure-devices.net/devices/iot-device-for-test/modules/module-for-test")
            << cliKey << qint64(1471940363) << QStringLiteral("iothubowner")
            << QStringLiteral(
                   "iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test%2Fmodules%2Fmodule-for-test")
            << QStringLiteral("JwAxBBBPYA0E/THdnrXzUfBfuZ7deH6pppCniJ23Uu0=")
            << QStringLiteral(
                   "SharedAccessSignature sr=iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test"
                   "%2Fmodules%2Fmodule-for-test&sig=JwAxBBBPYA0E%2FTHdnrXzUfBfuZ7deH6pppCniJ23Uu0%3D"
                   "&se=1471940363&skn=iothubowner");
        QTest::newRow("V9 64-byte key") << QStringLiteral("MyExampleHub.azure-devices.net/devices/my-symkey-device")
                                        << dpsDocKey << qint64(1663119026) << QString()
                                        << QStringLiteral("MyExampleHub.azure-devices.net%2Fdevices%2Fmy-symkey-device")
                                        << QStringLiteral("f+wW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM=")
                                        << QStringLiteral(
                                               "SharedAccessSignature sr=MyExampleHub.azure-devices.net%2Fdevices%2F"
                                               "my-symkey-device&sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D"
                                               "&se=1663119026");
    }

    void createMatchesVectors()
    {
        QFETCH(QString, resource);
        QFETCH(QString, key);
        QFETCH(qint64, expiry);
        QFETCH(QString, keyName);
        QFETCH(QString, encodedResource);
        QFETCH(QString, sig);
        QFETCH(QString, token);

        const auto created = SasToken::create(resource, key, expiry, keyName);
        QVERIFY2(created, created ? "" : qPrintable(created.error().message));
        QCOMPARE(created->encodedResource(), encodedResource);
        QCOMPARE(created->resource(), resource);
        QCOMPARE(created->signature(), sig);
        QCOMPARE(created->expiry(), expiry);
        QCOMPARE(created->keyName(), keyName);
        QCOMPARE(created->toString(), token);
        QVERIFY(created->verify(key));

        // The published token parses back to the same fields and round-trips exactly.
        const auto parsed = SasToken::parse(token);
        QVERIFY2(parsed, parsed ? "" : qPrintable(parsed.error().message));
        QCOMPARE(parsed->encodedResource(), encodedResource);
        QCOMPARE(parsed->resource(), resource);
        QCOMPARE(parsed->signature(), sig);
        QCOMPARE(parsed->expiry(), expiry);
        QCOMPARE(parsed->keyName(), keyName);
        QCOMPARE(parsed->toString(), token);
        QVERIFY(parsed->verify(key));
    }

    // V2 as Node emits it (skn before se): skn is not part of what is signed.
    void v2SknIsNotSigned()
    {
        const QString nodeToken
            = QStringLiteral("SharedAccessSignature sr=uri&sig=kcWxXAK2OAaAoq2oCkaGzX2NMqDB8nCyNuq2fPYCDhk%3D"
                             "&skn=encode%28%27Me%27%29&se=12345");
        const auto parsed = SasToken::parse(nodeToken);
        QVERIFY(parsed);
        QCOMPARE(parsed->keyName(), QStringLiteral("encode('Me')"));
        QCOMPARE(parsed->signature(), QStringLiteral("kcWxXAK2OAaAoq2oCkaGzX2NMqDB8nCyNuq2fPYCDhk="));
        QVERIFY(parsed->verify(passwordKey));

        // Another skn, or none at all: the signature is the same and still verifies.
        const auto otherSkn = SasToken::parse(
            QString(nodeToken).replace(QStringLiteral("encode%28%27Me%27%29"), QStringLiteral("someoneElse")));
        QVERIFY(otherSkn);
        QCOMPARE(otherSkn->keyName(), QStringLiteral("someoneElse"));
        QVERIFY(otherSkn->verify(passwordKey));
        const auto withName
            = SasToken::create(QStringLiteral("uri"), passwordKey, 12345, QStringLiteral("encode('Me')"));
        const auto withoutName = SasToken::create(QStringLiteral("uri"), passwordKey, 12345);
        QVERIFY(withName && withoutName);
        QCOMPARE(withName->signature(), withoutName->signature());
        QVERIFY(!withoutName->toString().contains(QStringLiteral("skn")));

        // What is signed does matter.
        QVERIFY(!SasToken::parse(QString(nodeToken).replace(QStringLiteral("se=12345"), QStringLiteral("se=12346")))
                     ->verify(passwordKey));
        QVERIFY(!SasToken::parse(QString(nodeToken).replace(QStringLiteral("sr=uri"), QStringLiteral("sr=url")))
                     ->verify(passwordKey));
        QVERIFY(!parsed->verify(cliKey));
    }

    // C1–C4: the signature covers sr exactly as transmitted, whatever its encoding.
    void verifyUsesLiteralSr_data()
    {
        QTest::addColumn<QString>("sr");
        QTest::addColumn<QString>("key");
        QTest::addColumn<qint64>("expiry");
        QTest::addColumn<QString>("sig");
        QTest::addColumn<QString>("resource");

        const QString device = QStringLiteral("iot-hub-for-test.azure-devices.net/devices/iot-device-for-test");
        QTest::newRow("C1 lower-case escapes")
            << QStringLiteral("iot-hub-for-test.azure-devices.net%2fdevices%2fiot-device-for-test") << cliKey
            << qint64(1471940363) << QStringLiteral("kpPd03nBPQvmGX6lLUYgpB+VZN9uuoqsIw+8g4CkkAY=") << device;
        QTest::newRow("C2 unencoded") << device << cliKey << qint64(1471940363)
                                      << QStringLiteral("3ZVnwcW6hiKciEZp6HeoEhQco1VZW0ecoGb3AWBxelQ=") << device;
        QTest::newRow("V6 upper-case escapes")
            << QStringLiteral("iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test") << cliKey
            << qint64(1471940363) << QStringLiteral("SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4=") << device;
        const QString registration = QStringLiteral("0ne00111111/registrations/my-symkey-device");
        QTest::newRow("C3 DPS upper") << QStringLiteral("0ne00111111%2Fregistrations%2Fmy-symkey-device") << dpsDocKey
                                      << qint64(1663952627)
                                      << QStringLiteral("8VPprb8BiTkuVE0hBqHm/SVrzVpdD8VZcXugntdbhuU=") << registration;
        QTest::newRow("C4 DPS lower") << QStringLiteral("0ne00111111%2fregistrations%2fmy-symkey-device") << dpsDocKey
                                      << qint64(1663952627)
                                      << QStringLiteral("6GqlY2Tr8xDlSYE04oQcdEH7vznSt2LcTUobz9BmpAY=") << registration;
    }

    void verifyUsesLiteralSr()
    {
        QFETCH(QString, sr);
        QFETCH(QString, key);
        QFETCH(qint64, expiry);
        QFETCH(QString, sig);
        QFETCH(QString, resource);

        const QString text = QStringLiteral("SharedAccessSignature sr=%1&sig=%2&se=%3")
                                 .arg(sr, sigForToken(sig), QString::number(expiry));
        const auto token = SasToken::parse(text);
        QVERIFY2(token, token ? "" : qPrintable(token.error().message));
        QCOMPARE(token->encodedResource(), sr); // kept exactly, escapes' case included
        QCOMPARE(token->resource(), resource);
        QCOMPARE(token->signature(), sig);
        QVERIFY(token->verify(key));
        QCOMPARE(token->toString(), text);

        // The same resource differently encoded is a different string to sign.
        const QString recoded = sr.contains(QStringLiteral("%2f"))
            ? QString(sr).replace(QStringLiteral("%2f"), QStringLiteral("%2F"))
            : QString(sr).replace(QStringLiteral("%2F"), QStringLiteral("%2f"));
        if (recoded != sr) {
            const auto other = SasToken::parse(QString(text).replace(sr, recoded));
            QVERIFY(other);
            QCOMPARE(other->resource(), resource);
            QVERIFY(!other->verify(key));
        }
        // A lenient or wrong key never verifies.
        QVERIFY(!token->verify(passwordKey));
        QVERIFY(!token->verify(QString()));
        QVERIFY(!token->verify(key.chopped(1)));
    }

    // V3–V5 only work with a lenient base64 decoder; this implementation refuses such keys.
    void createRefusesNonCanonicalKeys_data()
    {
        QTest::addColumn<QString>("key");
        QTest::newRow("empty") << QString();
        QTest::newRow("V3/V4 'key'") << QStringLiteral("key");
        QTest::newRow("V5 'fakeKey'") << QStringLiteral("fakeKey");
        QTest::newRow("star") << QStringLiteral("not*base64");
        QTest::newRow("missing padding") << QStringLiteral("cGFzc3dvcmQ");
        QTest::newRow("stray bits") << QStringLiteral("cGFzc3dvcmR=");
        QTest::newRow("too much padding") << QStringLiteral("YWJj====");
        QTest::newRow("padding only") << QStringLiteral("====");
        QTest::newRow("base64url") << QStringLiteral("-_-_");
        QTest::newRow("inner space") << QStringLiteral("YW Jj");
        QTest::newRow("trailing newline") << QStringLiteral("YWJj\n");
        QTest::newRow("non-ASCII") << QStringLiteral("YWJ\u00e9");
    }

    void createRefusesNonCanonicalKeys()
    {
        QFETCH(QString, key);
        const auto token = SasToken::create(QStringLiteral("h.azure-devices.net"), key, 1000);
        QVERIFY(!token);
        QCOMPARE(token.error().code, QStringLiteral("KeyNotBase64"));
        QCOMPARE(token.error().kind, ErrorKind::InvalidInput);
        if (key.size() > 4) // shorter ones ("key") are ordinary words of the sentence
            QVERIFY(!token.error().message.contains(key));
    }

    void createRefusesOtherInput()
    {
        const auto noResource = SasToken::create(QString(), passwordKey, 1000);
        QVERIFY(!noResource);
        QCOMPARE(noResource.error().code, QStringLiteral("EmptyResource"));
        const auto negative = SasToken::create(QStringLiteral("uri"), passwordKey, -1);
        QVERIFY(!negative);
        QCOMPARE(negative.error().code, QStringLiteral("InvalidExpiry"));
    }

    void encodeResource_data()
    {
        QTest::addColumn<QString>("resource");
        QTest::addColumn<QString>("encoded");
        QTest::newRow("unreserved stay") << QStringLiteral("AZaz09-._~") << QStringLiteral("AZaz09-._~");
        QTest::newRow("slash upper hex") << QStringLiteral("h/devices/d") << QStringLiteral("h%2Fdevices%2Fd");
        QTest::newRow("space is %20") << QStringLiteral("a b") << QStringLiteral("a%20b");
        QTest::newRow("reserved") << QStringLiteral("!*'();:@&=+$,/?#[]%")
                                  << QStringLiteral("%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D%25");
        QTest::newRow("UTF-8") << QStringLiteral("d\u00e9v\u6f22") << QStringLiteral("d%C3%A9v%E6%BC%A2");
        QTest::newRow("astral") << QStringLiteral("\U0001F600") << QStringLiteral("%F0%9F%98%80");
    }

    void encodeResource()
    {
        QFETCH(QString, resource);
        QFETCH(QString, encoded);
        QCOMPARE(SasToken::encodeResource(resource), encoded);
        QCOMPARE(referenceEncode(resource), encoded);
    }

    void parseAcceptsAnyOrder()
    {
        const auto token
            = SasToken::parse(QStringLiteral("SharedAccessSignature se=1663119026&skn=device"
                                             "&sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D"
                                             "&sr=MyExampleHub.azure-devices.net%2Fdevices%2Fmy-symkey-device"));
        QVERIFY(token);
        QCOMPARE(token->keyName(), QStringLiteral("device"));
        QVERIFY(token->verify(dpsDocKey));
        // toString emits the canonical order sr, sig, se, skn.
        QCOMPARE(token->toString(),
            QStringLiteral("SharedAccessSignature sr=MyExampleHub.azure-devices.net%2Fdevices%2F"
                           "my-symkey-device&sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D"
                           "&se=1663119026&skn=device"));
        QCOMPARE(SasToken::parse(token->toString())->toString(), token->toString());
    }

    void parseEdgeCasesThatAreValid()
    {
        // se=0 is a number (long expired); an unencoded '=' in sig belongs to the value (first '=' splits).
        const auto token = SasToken::parse(QStringLiteral("SharedAccessSignature sr=h&sig=abc=&se=0"));
        QVERIFY(token);
        QCOMPARE(token->expiry(), qint64(0));
        QCOMPARE(token->signature(), QStringLiteral("abc="));
        // A lower-case escape in sig decodes the same.
        const auto lower = SasToken::parse(QStringLiteral("SharedAccessSignature sr=h&sig=a%2bb%2fc%3d&se=1"));
        QVERIFY(lower);
        QCOMPARE(lower->signature(), QStringLiteral("a+b/c="));
        // An unencoded '+' in sig is a base64 '+', not a space.
        QCOMPARE(SasToken::parse(QStringLiteral("SharedAccessSignature sr=h&sig=a+b&se=1"))->signature(),
            QStringLiteral("a+b"));
        // The largest expiry that fits.
        QCOMPARE(SasToken::parse(QStringLiteral("SharedAccessSignature sr=h&sig=s&se=999999999999999999"))->expiry(),
            Q_INT64_C(999999999999999999));
        // resource() decodes UTF-8 escapes.
        QCOMPARE(
            SasToken::parse(QStringLiteral("SharedAccessSignature sr=h%2Fdevices%2Fd%C3%A9v&sig=s&se=1"))->resource(),
            QStringLiteral("h/devices/d\u00e9v"));
    }

    void parseErrors_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("messagePart");

        const QString sig = QStringLiteral("c2VjcmV0U2lnbmF0dXJl"); // must never show in a message
        const auto token
            = [](const QString &fields) -> QString { return QStringLiteral("SharedAccessSignature ") + fields; };

        QTest::newRow("empty") << QString() << QStringLiteral("NotASasToken") << QString();
        QTest::newRow("no prefix") << (QStringLiteral("sr=h&sig=") + sig + QStringLiteral("&se=1"))
                                   << QStringLiteral("NotASasToken") << QString();
        QTest::newRow("prefix lower case")
            << (QStringLiteral("sharedaccesssignature sr=h&sig=") + sig + QStringLiteral("&se=1"))
            << QStringLiteral("NotASasToken") << QString();
        QTest::newRow("prefix without space")
            << (QStringLiteral("SharedAccessSignaturesr=h&sig=") + sig + QStringLiteral("&se=1"))
            << QStringLiteral("NotASasToken") << QString();
        QTest::newRow("prefix only") << QStringLiteral("SharedAccessSignature") << QStringLiteral("NotASasToken")
                                     << QString();
        QTest::newRow("prefix and space only") << token(QString()) << QStringLiteral("NotASasToken") << QString();
        QTest::newRow("leading space") << (QStringLiteral(" ")
            + token(QStringLiteral("sr=h&sig=") + sig + QStringLiteral("&se=1")))
                                       << QStringLiteral("NotASasToken") << QString();
        QTest::newRow("double space") << token(QStringLiteral(" sr=h&sig=") + sig + QStringLiteral("&se=1"))
                                      << QStringLiteral("UnexpectedWhitespace") << QString();
        QTest::newRow("space in field") << token(QStringLiteral("sr=h&sig=") + sig + QStringLiteral(" &se=1"))
                                        << QStringLiteral("UnexpectedWhitespace") << QString();
        QTest::newRow("trailing newline") << token(QStringLiteral("sr=h&sig=") + sig + QStringLiteral("&se=1\n"))
                                          << QStringLiteral("UnexpectedWhitespace") << QString();
        QTest::newRow("missing sr") << token(QStringLiteral("sig=") + sig + QStringLiteral("&se=1"))
                                    << QStringLiteral("MissingField") << QStringLiteral("\"sr\"");
        QTest::newRow("missing sig") << token(QStringLiteral("sr=h&se=1")) << QStringLiteral("MissingField")
                                     << QStringLiteral("\"sig\"");
        QTest::newRow("missing se") << token(QStringLiteral("sr=h&sig=") + sig) << QStringLiteral("MissingField")
                                    << QStringLiteral("\"se\"");
        QTest::newRow("duplicate sr") << token(QStringLiteral("sr=h&sr=h&sig=") + sig + QStringLiteral("&se=1"))
                                      << QStringLiteral("DuplicateField") << QStringLiteral("\"sr\"");
        QTest::newRow("duplicate sig") << token(
            QStringLiteral("sr=h&sig=") + sig + QStringLiteral("&sig=") + sig + QStringLiteral("&se=1"))
                                       << QStringLiteral("DuplicateField") << QStringLiteral("\"sig\"");
        QTest::newRow("unknown field") << token(QStringLiteral("sr=h&sig=") + sig + QStringLiteral("&se=1&foo=bar"))
                                       << QStringLiteral("UnknownField") << QStringLiteral("\"foo\"");
        QTest::newRow("upper-case name") << token(QStringLiteral("SR=h&sig=") + sig + QStringLiteral("&se=1"))
                                         << QStringLiteral("UnknownField") << QStringLiteral("\"SR\"");
        QTest::newRow("empty sr") << token(QStringLiteral("sr=&sig=") + sig + QStringLiteral("&se=1"))
                                  << QStringLiteral("EmptyField") << QStringLiteral("\"sr\"");
        QTest::newRow("empty sig") << token(QStringLiteral("sr=h&sig=&se=1")) << QStringLiteral("EmptyField")
                                   << QStringLiteral("\"sig\"");
        QTest::newRow("empty se") << token(QStringLiteral("sr=h&sig=") + sig + QStringLiteral("&se="))
                                  << QStringLiteral("EmptyField") << QStringLiteral("\"se\"");
        QTest::newRow("empty skn") << token(QStringLiteral("sr=h&sig=") + sig + QStringLiteral("&se=1&skn="))
                                   << QStringLiteral("EmptyField") << QStringLiteral("\"skn\"");
        QTest::newRow("empty field") << token(QStringLiteral("sr=h&&sig=") + sig + QStringLiteral("&se=1"))
                                     << QStringLiteral("MalformedField") << QStringLiteral("Field 2");
        QTest::newRow("trailing &") << token(QStringLiteral("sr=h&sig=") + sig + QStringLiteral("&se=1&"))
                                    << QStringLiteral("MalformedField") << QStringLiteral("Field 4");
        QTest::newRow("field without =") << token(QStringLiteral("sr=h&") + sig + QStringLiteral("&se=1"))
                                         << QStringLiteral("MalformedField") << QStringLiteral("Field 2");
        QTest::newRow("field without name") << token(QStringLiteral("sr=h&=") + sig + QStringLiteral("&se=1"))
                                            << QStringLiteral("MalformedField") << QStringLiteral("Field 2");
        QTest::newRow("broken escape in sr") << token(QStringLiteral("sr=h%2&sig=") + sig + QStringLiteral("&se=1"))
                                             << QStringLiteral("InvalidEncoding") << QStringLiteral("\"sr\"");
        QTest::newRow("non-hex escape in sig") << token(QStringLiteral("sr=h&sig=") + sig + QStringLiteral("%zz&se=1"))
                                               << QStringLiteral("InvalidEncoding") << QStringLiteral("\"sig\"");
        const QStringList badExpiries{QStringLiteral("abc"), QStringLiteral("-1"), QStringLiteral("+5"),
            QStringLiteral("1.5"), QStringLiteral("1e9"), QStringLiteral("0x10"), QStringLiteral("0123"),
            QStringLiteral("9999999999999999999"), QStringLiteral("\uff11\uff12")};
        for (const QString &se : badExpiries) {
            QTest::addRow("se=%s", qPrintable(se))
                << token(QStringLiteral("sr=h&sig=") + sig + QStringLiteral("&se=") + se)
                << QStringLiteral("InvalidExpiry") << QStringLiteral("(se)");
        }
    }

    void parseErrors()
    {
        QFETCH(QString, text);
        QFETCH(QString, code);
        QFETCH(QString, messagePart);
        const auto token = SasToken::parse(text);
        QVERIFY(!token);
        QCOMPARE(token.error().code, code);
        QCOMPARE(token.error().kind, ErrorKind::InvalidInput);
        QVERIFY2(token.error().message.contains(messagePart), qPrintable(token.error().message));
        QVERIFY2(
            !token.error().message.contains(QStringLiteral("c2VjcmV0U2lnbmF0dXJl")), qPrintable(token.error().message));
    }

    void expiryAndSkew()
    {
        const auto token = SasToken::create(QStringLiteral("h.azure-devices.net"), passwordKey, 1'000'000);
        QVERIFY(token);
        const auto at = [](qint64 seconds) { return QDateTime::fromSecsSinceEpoch(seconds, QTimeZone::utc()); };
        QCOMPARE(token->expiryTime(), at(1'000'000));
        QCOMPARE(token->expiryTime().timeSpec(), Qt::UTC);
        QCOMPARE(token->expiryTime().toString(Qt::ISODate), QStringLiteral("1970-01-12T13:46:40Z"));

        // Default skew: five minutes.
        QVERIFY(!token->isExpired(at(999'000)));
        QVERIFY(!token->isExpired(at(1'000'000)));
        QVERIFY(!token->isExpired(at(1'000'300)));
        QVERIFY(token->isExpired(at(1'000'301)));
        // Explicit skew.
        QVERIFY(!token->isExpired(at(1'000'000), 0));
        QVERIFY(token->isExpired(at(1'000'001), 0));
        QVERIFY(!token->isExpired(at(1'003'600), 3600));
        QVERIFY(token->isExpired(at(1'003'601), 3600));
        // The same instant in another time zone is the same instant.
        QVERIFY(token->isExpired(at(1'000'301).toTimeZone(QTimeZone(3600 * 5))));
        QVERIFY(!token->isExpired(at(1'000'300).toTimeZone(QTimeZone(-3600 * 8))));
        // The default "now": a token from 1970 is expired, one for next year is not.
        QVERIFY(token->isExpired());
        const auto future = SasToken::create(
            QStringLiteral("h.azure-devices.net"), passwordKey, QDateTime::currentSecsSinceEpoch() + 365 * 24 * 3600);
        QVERIFY(future);
        QVERIFY(!future->isExpired());
    }

    // The signature agrees with an independent HMAC-SHA256 (the openssl binary) for random keys,
    // resources (reserved characters, non-ASCII) and expiries.
    void signatureMatchesOpenssl()
    {
        REQUIRE_TOOL("openssl");

        const quint32 seed = QRandomGenerator::global()->generate();
        QRandomGenerator random(seed);
        const QByteArray context = "seed " + QByteArray::number(seed);
        for (int round = 0; round < 50; ++round) {
            // 1–100 key bytes: covers keys shorter and longer than the SHA-256 block (64 bytes).
            QByteArray keyBytes(random.bounded(1, 101), Qt::Uninitialized);
            for (char &b : keyBytes)
                b = char(random.bounded(256));
            const QString key = QString::fromLatin1(keyBytes.toBase64());
            const QString resource = randomResource(random);
            const qint64 expiry = qint64(random.generate64() % (Q_INT64_C(1) << 40));
            const QString keyName = random.bounded(2) ? QStringLiteral("iothubowner") : QString();

            const auto token = SasToken::create(resource, key, expiry, keyName);
            QVERIFY2(token, context.constData());
            QCOMPARE(token->encodedResource(), referenceEncode(resource));
            QCOMPARE(token->resource(), resource);

            const QByteArray stringToSign = referenceEncode(resource).toUtf8() + '\n' + QByteArray::number(expiry);
            const OpensslResult reference = opensslHmac(keyBytes, stringToSign);
            QVERIFY2(reference.ok, qPrintable(reference.error));
            const QByteArray where
                = context + " round " + QByteArray::number(round) + ": " + stringToSign.toPercentEncoding();
            QVERIFY2(token->signature().toLatin1() == reference.base64, where.constData());
            QCOMPARE(SasToken::signature(stringToSign, key.toLatin1()), reference.base64);

            // The emitted token parses back and verifies with the same key only.
            const auto parsed = SasToken::parse(token->toString());
            QVERIFY2(parsed, parsed ? "" : qPrintable(parsed.error().message));
            QCOMPARE(parsed->signature(), token->signature());
            QCOMPARE(parsed->resource(), resource);
            QCOMPARE(parsed->keyName(), keyName);
            QVERIFY(parsed->verify(key));
            QVERIFY(!parsed->verify(passwordKey));
        }
    }
};

QTEST_GUILESS_MAIN(TestSasToken)
#include "tst_sastoken.moc"
