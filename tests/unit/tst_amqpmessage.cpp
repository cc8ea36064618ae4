// AmqpMessage: what decodes is what the peer sent, and written again it reads back the same. A described value whose
// value is itself described, which Proton 0.37 decodes into a wrong tree (the entry after it in a map moves into it),
// is refused rather than read wrong (found by fuzz_amqpmessage: a map lost an entry on every trip).
#include "amqp/amqpmessage.h"
#include "amqp/amqpvalue.h"

#include <QTest>

using namespace Onboarder;

namespace {

QVariant described(quint64 code, const QVariant &value)
{
    return QVariant::fromValue(AmqpDescribed{QVariant::fromValue(code), value});
}

} // namespace

class tst_AmqpMessage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Application properties {"a": described(1, described(2, "x")), "b": "y"} as a peer writes them, by hand: Proton
    // reads "b" into the described value and leaves "y" without a key.
    void aDescribedValueHoldingADescribedValueIsRefused()
    {
        const QByteArray wire = QByteArray::fromHex("005374"
                                                    "c11304"
                                                    "a10161"
                                                    "005301"
                                                    "005302a10178"
                                                    "a10162"
                                                    "a10179");
        QVERIFY(!AmqpMessage::decode(wire).has_value());
    }

    // The same written by AmqpMessage itself, in the body and in a message annotation.
    void aNestedDescribedValueIsRefusedWhereverItIs()
    {
        AmqpMessage inBody;
        inBody.body = QVariantList{described(1, described(2, QStringLiteral("x"))), QStringLiteral("after")};
        inBody.bodyIsValue = true;
        QVERIFY(!AmqpMessage::decode(inBody.encode()).has_value());

        AmqpMessage inAnnotation;
        inAnnotation.messageAnnotations.insertSymbol("x-opt-a", described(1, described(2, 3)));
        inAnnotation.messageAnnotations.insertSymbol("x-opt-b", QStringLiteral("b"));
        inAnnotation.body = QByteArray("payload");
        QVERIFY(!AmqpMessage::decode(inAnnotation.encode()).has_value());
    }

    // A null key, described values and what follows them survive any number of trips, entry for entry.
    void nullKeysAndDescribedValuesKeepEveryEntry()
    {
        AmqpMessage message;
        message.messageId = QStringLiteral("m-1");
        message.applicationProperties.entries.append({QVariant(), described(96, QStringLiteral("v"))});
        message.applicationProperties.insertString(QString(), QStringLiteral("empty key"));
        message.applicationProperties.insertString(QStringLiteral("k"),
            QVariant::fromValue(AmqpDescribed{
                QVariant::fromValue(Amqp::symbol("com.example:d")), QVariantList{described(7, 8), QVariant()}}));
        message.applicationProperties.insertString(QStringLiteral("last"), 42);
        message.body = QByteArray("hello");

        const QByteArray encoded = message.encode();
        QVERIFY(!encoded.isEmpty());
        QByteArray bytes = encoded;
        for (int trip = 0; trip < 3; ++trip) {
            const auto decoded = AmqpMessage::decode(bytes);
            QVERIFY(decoded.has_value());
            QCOMPARE(decoded->applicationProperties.entries.size(), 4);
            QVERIFY(!decoded->applicationProperties.entries.at(0).first.isValid());
            QCOMPARE(decoded->applicationProperties.value(QStringLiteral("last")).toInt(), 42);
            QCOMPARE(decoded->bodyBytes(), QByteArray("hello"));
            bytes = decoded->encode();
            QCOMPARE(bytes, encoded);
        }
    }
};

QTEST_APPLESS_MAIN(tst_AmqpMessage)
#include "tst_amqpmessage.moc"
