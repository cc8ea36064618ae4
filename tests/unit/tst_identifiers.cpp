// Device/module ids, policy names, host names and hub profile names (iothub.md section 3).
#include "hub/identifiers.h"

#include <QTest>

using namespace Onboarder;

namespace {

QString repeated(QChar c, qsizetype n)
{
    return QString(n, c);
}

QString fromCodePoint(char32_t c)
{
    return QString::fromUcs4(&c, 1);
}

} // namespace

class TestIdentifiers : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void deviceAndModuleIds_data()
    {
        QTest::addColumn<QString>("id");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QString>("messagePart"); // what the message must name when invalid

        QTest::newRow("empty (0)") << QString() << false << QStringLiteral("empty");
        QTest::newRow("1 char") << QStringLiteral("a") << true << QString();
        QTest::newRow("1 digit") << QStringLiteral("7") << true << QString();
        QTest::newRow("128 chars") << repeated(u'x', 128) << true << QString();
        QTest::newRow("129 chars") << repeated(u'x', 129) << false << QStringLiteral("129");
        QTest::newRow("129 chars names the limit") << repeated(u'x', 129) << false << QStringLiteral("128");
        QTest::newRow("1000 chars") << repeated(u'A', 1000) << false << QStringLiteral("1000");
        QTest::newRow("letters and digits") << QStringLiteral("AZaz09") << true << QString();
        QTest::newRow("typical") << QStringLiteral("sensor-01.floor_2") << true << QString();

        // Every allowed special character, alone and between letters.
        const QString specials = QStringLiteral("-:.+%_#*?!(),=@;$'");
        QCOMPARE(specials.size(), 18);
        for (const QChar c : specials) {
            QTest::addRow("special %s", qPrintable(QString(c)))
                << (QStringLiteral("a") + c + QStringLiteral("b")) << true << QString();
            QTest::addRow("special %s alone", qPrintable(QString(c))) << QString(c) << true << QString();
        }
        QTest::newRow("all specials") << specials << true << QString();

        // Disallowed ASCII: the message names the character and its 1-based position.
        QTest::newRow("space") << QStringLiteral("ab cd") << false << QStringLiteral("U+0020 at position 3");
        QTest::newRow("slash") << QStringLiteral("a/b") << false << QStringLiteral("\"/\" (U+002F) at position 2");
        QTest::newRow("backslash") << QStringLiteral("a\\b") << false
                                   << QStringLiteral("\"\\\" (U+005C) at position 2");
        QTest::newRow("ampersand") << QStringLiteral("&a") << false << QStringLiteral("\"&\" (U+0026) at position 1");
        QTest::newRow("double quote") << QStringLiteral("a\"") << false << QStringLiteral("(U+0022) at position 2");
        QTest::newRow("less than") << QStringLiteral("x<y") << false << QStringLiteral("\"<\" (U+003C)");
        QTest::newRow("brackets") << QStringLiteral("x[1]") << false << QStringLiteral("\"[\" (U+005B) at position 2");
        QTest::newRow("braces") << QStringLiteral("x{") << false << QStringLiteral("\"{\" (U+007B)");
        QTest::newRow("tilde") << QStringLiteral("x~") << false << QStringLiteral("\"~\" (U+007E)");
        QTest::newRow("backtick") << QStringLiteral("x`") << false << QStringLiteral("\"`\" (U+0060)");
        QTest::newRow("caret") << QStringLiteral("x^") << false << QStringLiteral("\"^\" (U+005E)");
        QTest::newRow("pipe") << QStringLiteral("x|") << false << QStringLiteral("\"|\" (U+007C)");
        QTest::newRow("tab") << QStringLiteral("x\ty") << false << QStringLiteral("U+0009 at position 2");
        QTest::newRow("newline") << QStringLiteral("x\n") << false << QStringLiteral("U+000A at position 2");
        QTest::newRow("first offender wins") << QStringLiteral("ok/ /") << false << QStringLiteral("at position 3");

        // Non-ASCII, positions counted in characters (code points), not UTF-16 units.
        QTest::newRow("e acute") << QStringLiteral("caf\u00e9") << false
                                 << QStringLiteral("\"\u00e9\" (U+00E9) at position 4");
        QTest::newRow("umlaut first") << QStringLiteral("\u00fcber") << false
                                      << QStringLiteral("(U+00FC) at position 1");
        QTest::newRow("cyrillic") << QStringLiteral("d\u0435v") << false << QStringLiteral("(U+0435) at position 2");
        QTest::newRow("emoji") << (QStringLiteral("a") + fromCodePoint(U'\U0001F600') + QStringLiteral("b/")) << false
                               << QStringLiteral("(U+1F600) at position 2");
        QTest::newRow("emoji after a letter")
            << (QStringLiteral("x") + fromCodePoint(U'\U0001F600')) << false << QStringLiteral("at position 2");
        QTest::newRow("fullwidth digit") << QStringLiteral("\uff11") << false << QStringLiteral("(U+FF11)");
        QTest::newRow("non-breaking space")
            << QStringLiteral("a\u00a0b") << false << QStringLiteral("U+00A0 at position 2");
        // 128 non-ASCII characters are within the length but still refused for their characters.
        QTest::newRow("128 non-ASCII") << repeated(QChar(0x00e9), 128) << false << QStringLiteral("position 1");
        // Length is counted in characters (code points): 128 emoji are 256 UTF-16 units, still within the
        // length, so the complaint is about the character; 129 emoji are too long.
        QString emoji;
        for (int i = 0; i < 128; ++i)
            emoji += fromCodePoint(U'\U0001F600');
        QTest::newRow("128 emoji") << emoji << false << QStringLiteral("(U+1F600) at position 1");
        QTest::newRow("129 emoji") << (emoji + fromCodePoint(U'\U0001F600')) << false
                                   << QStringLiteral("129 characters long");
    }

    void deviceAndModuleIds()
    {
        QFETCH(QString, id);
        QFETCH(bool, valid);
        QFETCH(QString, messagePart);

        const auto device = Identifiers::validateDeviceId(id);
        const auto module = Identifiers::validateModuleId(id);
        QCOMPARE(device.has_value(), valid);
        QCOMPARE(module.has_value(), valid);
        if (valid)
            return;
        QCOMPARE(device.error().code, QStringLiteral("InvalidDeviceId"));
        QCOMPARE(module.error().code, QStringLiteral("InvalidModuleId"));
        QCOMPARE(device.error().kind, ErrorKind::InvalidInput);
        QCOMPARE(module.error().kind, ErrorKind::InvalidInput);
        QVERIFY2(device.error().message.contains(messagePart), qPrintable(device.error().message));
        QVERIFY2(module.error().message.contains(messagePart), qPrintable(module.error().message));
        QVERIFY2(device.error().message.contains(QStringLiteral("device ID")), qPrintable(device.error().message));
        QVERIFY2(module.error().message.contains(QStringLiteral("module ID")), qPrintable(module.error().message));
        QVERIFY(device.error().message.endsWith(u'.'));
    }

    void tooLongSaysLengthAndLimit()
    {
        const auto result = Identifiers::validateDeviceId(repeated(u'd', 200));
        QVERIFY(!result);
        QCOMPARE(
            result.error().message, QStringLiteral("The device ID is 200 characters long; at most 128 are allowed."));
    }

    void policyNames_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QString>("messagePart");

        QTest::newRow("empty") << QString() << false << QStringLiteral("empty");
        QTest::newRow("1 char") << QStringLiteral("p") << true << QString();
        QTest::newRow("iothubowner") << QStringLiteral("iothubowner") << true << QString();
        QTest::newRow("registryReadWrite") << QStringLiteral("registryReadWrite") << true << QString();
        QTest::newRow("provisioningserviceowner") << QStringLiteral("provisioningserviceowner") << true << QString();
        QTest::newRow("all specials") << QStringLiteral("a_b-c@d.e") << true << QString();
        QTest::newRow("256 chars") << repeated(u'p', 256) << true << QString();
        QTest::newRow("257 chars") << repeated(u'p', 257) << false
                                   << QStringLiteral("257 characters long; at most 256");
        QTest::newRow("space") << QStringLiteral("my policy") << false << QStringLiteral("U+0020 at position 3");
        QTest::newRow("colon") << QStringLiteral("a:b") << false << QStringLiteral("\":\" (U+003A) at position 2");
        QTest::newRow("parenthesis") << QStringLiteral("encode('Me')") << false
                                     << QStringLiteral("\"(\" (U+0028) at position 7");
        QTest::newRow("plus") << QStringLiteral("a+b") << false << QStringLiteral("\"+\"");
        QTest::newRow("non-ASCII") << QStringLiteral("r\u00f6le") << false << QStringLiteral("(U+00F6) at position 2");
    }

    void policyNames()
    {
        QFETCH(QString, name);
        QFETCH(bool, valid);
        QFETCH(QString, messagePart);
        const auto result = Identifiers::validatePolicyName(name);
        QCOMPARE(result.has_value(), valid);
        if (valid)
            return;
        QCOMPARE(result.error().code, QStringLiteral("InvalidPolicyName"));
        QCOMPARE(result.error().kind, ErrorKind::InvalidInput);
        QVERIFY2(result.error().message.contains(messagePart), qPrintable(result.error().message));
    }

    void hostNames_data()
    {
        QTest::addColumn<QString>("hostName");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QString>("messagePart");

        QTest::newRow("azure") << QStringLiteral("contoso.azure-devices.net") << true << QString();
        QTest::newRow("minimal") << QStringLiteral("a.b") << true << QString();
        QTest::newRow("underscore and digits") << QStringLiteral("my_hub-01.example.org") << true << QString();
        QTest::newRow("upper case") << QStringLiteral("MyExampleHub.azure-devices.net") << true << QString();
        QTest::newRow("253 chars") << (repeated(u'h', 249) + QStringLiteral(".net")) << true << QString();
        QTest::newRow("254 chars") << (repeated(u'h', 250) + QStringLiteral(".net")) << false
                                   << QStringLiteral("254 characters long; at most 253");
        QTest::newRow("empty") << QString() << false << QStringLiteral("empty");
        QTest::newRow("no dot") << QStringLiteral("contoso") << false << QStringLiteral("no dot");
        QTest::newRow("leading dot") << QStringLiteral(".azure-devices.net") << false << QStringLiteral("empty part");
        QTest::newRow("trailing dot") << QStringLiteral("contoso.") << false << QStringLiteral("empty part");
        QTest::newRow("two dots") << QStringLiteral("contoso..net") << false << QStringLiteral("empty part");
        QTest::newRow("scheme") << QStringLiteral("https://contoso.azure-devices.net") << false
                                << QStringLiteral("\":\" (U+003A) at position 6");
        QTest::newRow("port") << QStringLiteral("contoso.azure-devices.net:443") << false << QStringLiteral("\":\"");
        QTest::newRow("space") << QStringLiteral("contoso .net") << false << QStringLiteral("U+0020 at position 8");
        QTest::newRow("non-ASCII") << QStringLiteral("m\u00fcnchen.example") << false
                                   << QStringLiteral("(U+00FC) at position 2");
    }

    void hostNames()
    {
        QFETCH(QString, hostName);
        QFETCH(bool, valid);
        QFETCH(QString, messagePart);
        const auto result = Identifiers::validateHostName(hostName);
        QCOMPARE(result.has_value(), valid);
        if (valid)
            return;
        QCOMPARE(result.error().code, QStringLiteral("InvalidHostName"));
        QCOMPARE(result.error().kind, ErrorKind::InvalidInput);
        QVERIFY2(result.error().message.contains(messagePart), qPrintable(result.error().message));
    }

    void hubProfileNames_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QString>("messagePart");

        QTest::newRow("empty (0)") << QString() << false << QStringLiteral("empty");
        QTest::newRow("1 letter") << QStringLiteral("a") << true << QString();
        QTest::newRow("1 digit") << QStringLiteral("1") << true << QString();
        QTest::newRow("64 chars") << repeated(u'n', 64) << true << QString();
        QTest::newRow("65 chars") << repeated(u'n', 65) << false << QStringLiteral("65 characters long; at most 64");
        QTest::newRow("all specials") << QStringLiteral("a.b_c-d") << true << QString();
        QTest::newRow("specials at end") << QStringLiteral("a._-") << true << QString();
        QTest::newRow("starts with dot") << QStringLiteral(".hidden") << false << QStringLiteral("starts with \".\"");
        QTest::newRow("starts with dash") << QStringLiteral("-bad") << false << QStringLiteral("starts with \"-\"");
        QTest::newRow("starts with underscore") << QStringLiteral("_x") << false << QStringLiteral("starts with \"_\"");
        QTest::newRow("space") << QStringLiteral("bad name") << false << QStringLiteral("U+0020 at position 4");
        QTest::newRow("slash") << QStringLiteral("a/b") << false << QStringLiteral("\"/\" (U+002F) at position 2");
        QTest::newRow("at sign") << QStringLiteral("a@b") << false << QStringLiteral("\"@\"");
        QTest::newRow("non-ASCII") << QStringLiteral("\u00e9t\u00e9") << false
                                   << QStringLiteral("(U+00E9) at position 1");
    }

    void hubProfileNames()
    {
        QFETCH(QString, name);
        QFETCH(bool, valid);
        QFETCH(QString, messagePart);
        const auto result = Identifiers::validateHubProfileName(name);
        QCOMPARE(result.has_value(), valid);
        if (valid)
            return;
        QCOMPARE(result.error().code, QStringLiteral("InvalidHubProfileName"));
        QCOMPARE(result.error().kind, ErrorKind::InvalidInput);
        QVERIFY2(result.error().message.contains(messagePart), qPrintable(result.error().message));
    }
};

QTEST_GUILESS_MAIN(TestIdentifiers)
#include "tst_identifiers.moc"
