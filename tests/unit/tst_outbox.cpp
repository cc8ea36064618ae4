// Outbox: order per device, the limit (all or nothing), durability across a reopen.
#include "relay/outbox.h"

#include <QTemporaryDir>
#include <QTest>

using namespace Onboarder;

namespace {

RelayMessage message(const QString &device, const QByteArray &payload)
{
    RelayMessage m;
    m.deviceId = device;
    m.payload = payload;
    m.receivedMs = 1000;
    return m;
}

QByteArrayList payloads(const QList<RelayMessage> &messages)
{
    QByteArrayList list;
    for (const RelayMessage &m : messages)
        list.append(m.payload);
    return list;
}

} // namespace

class tst_Outbox : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

private Q_SLOTS:
    void keepsOrderPerDevice()
    {
        auto outbox = Outbox::open(m_dir.filePath(QStringLiteral("order.db")), 100);
        QVERIFY2(outbox.has_value(), outbox ? "" : qPrintable(outbox.error().message));
        QList<RelayMessage> batch{
            message(QStringLiteral("a"), "a1"), message(QStringLiteral("b"), "b1"), message(QStringLiteral("a"), "a2")};
        batch[0].properties = {{QStringLiteral("k"), QStringLiteral("v")}};
        QVERIFY((*outbox)->append(batch).has_value());
        QVERIFY(batch[0].id > 0 && batch[1].id > batch[0].id && batch[2].id > batch[1].id);
        QList<RelayMessage> more{message(QStringLiteral("a"), "a3")};
        QVERIFY((*outbox)->append(more).has_value());
        QCOMPARE((*outbox)->depth(), 4);

        const auto a = (*outbox)->peek(QStringLiteral("a"), 0, 10);
        QVERIFY(a.has_value());
        QCOMPARE(payloads(*a), (QByteArrayList{"a1", "a2", "a3"}));
        QCOMPARE(a->first().properties, batch[0].properties);
        QCOMPARE(a->first().receivedMs, 1000);
        // After an id, with a limit: the drain's cursor.
        QCOMPARE(payloads(*(*outbox)->peek(QStringLiteral("a"), a->first().id, 1)), (QByteArrayList{"a2"}));
        QCOMPARE(payloads(*(*outbox)->peek(QStringLiteral("b"), 0, 10)), (QByteArrayList{"b1"}));

        QVERIFY((*outbox)->remove({a->at(0).id, a->at(1).id}).has_value());
        QCOMPARE((*outbox)->depth(), 2);
        QCOMPARE(payloads(*(*outbox)->peek(QStringLiteral("a"), 0, 10)), (QByteArrayList{"a3"}));
        const auto devices = *(*outbox)->devices();
        QCOMPARE(devices, (QHash<QString, qint64>{{QStringLiteral("a"), 1}, {QStringLiteral("b"), 1}}));
    }

    void refusesWhatDoesNotFit()
    {
        auto outbox = Outbox::open(m_dir.filePath(QStringLiteral("limit.db")), 3);
        QVERIFY(outbox.has_value());
        QList<RelayMessage> two{message(QStringLiteral("d"), "1"), message(QStringLiteral("d"), "2")};
        QVERIFY((*outbox)->append(two).has_value());
        QList<RelayMessage> another2{message(QStringLiteral("d"), "3"), message(QStringLiteral("d"), "4")};
        const auto refused = (*outbox)->append(another2);
        QVERIFY(!refused.has_value());
        QCOMPARE(refused.error().code, QStringLiteral("OutboxFull"));
        QCOMPARE(another2[0].id, 0); // nothing of the batch stored
        QCOMPARE((*outbox)->depth(), 2);
        QList<RelayMessage> one{message(QStringLiteral("d"), "3")};
        QVERIFY((*outbox)->append(one).has_value());
        QVERIFY((*outbox)->isFull());
        QVERIFY((*outbox)->remove({two[0].id}).has_value());
        QVERIFY(!(*outbox)->isFull());
    }

    // The second opener of an outbox (another relay) is refused, told who holds it; once the holder has
    // closed it, it opens.
    void oneOpenerAtATime()
    {
        const QString path = m_dir.filePath(QStringLiteral("locked.db"));
        auto first = Outbox::open(path, 100);
        QVERIFY(first.has_value());
        const auto second = Outbox::open(path, 100);
        QVERIFY(!second.has_value());
        QCOMPARE(second.error().code, QStringLiteral("OutboxInUse"));
        QCOMPARE(second.error().kind, ErrorKind::Conflict);
        QVERIFY2(second.error().message.contains(
                     QStringLiteral("(process %1), since ").arg(QCoreApplication::applicationPid())),
            qPrintable(second.error().message));
        first->reset();
        QVERIFY(Outbox::open(path, 100).has_value());
    }

    void survivesReopen()
    {
        const QString path = m_dir.filePath(QStringLiteral("durable.db"));
        qint64 lastId = 0;
        {
            auto outbox = Outbox::open(path, 1000);
            QVERIFY(outbox.has_value());
            QList<RelayMessage> batch;
            for (int i = 0; i < 50; ++i)
                batch.append(message(QStringLiteral("dev"), QByteArray::number(i)));
            QVERIFY((*outbox)->append(batch).has_value());
            QVERIFY((*outbox)->remove({batch[0].id}).has_value());
            lastId = batch.last().id;
        }
        auto outbox = Outbox::open(path, 1000);
        QVERIFY(outbox.has_value());
        QCOMPARE((*outbox)->depth(), 49);
        const auto all = (*outbox)->peek(QStringLiteral("dev"), 0, 100);
        QCOMPARE(all->size(), 49);
        QCOMPARE(all->first().payload, QByteArray("1"));
        QCOMPARE(all->last().id, lastId);
        // Ids keep growing after a reopen (AUTOINCREMENT), so order holds across restarts.
        QList<RelayMessage> next{message(QStringLiteral("dev"), "new")};
        QVERIFY((*outbox)->append(next).has_value());
        QVERIFY(next[0].id > lastId);
    }

    void keepsDeadLettersApartAndLetsThemBeInspected()
    {
        const QString path = m_dir.filePath(QStringLiteral("dead.db"));
        QCOMPARE(Outbox::inspect(path).error().code, QStringLiteral("OutboxNotFound"));
        auto outbox = Outbox::open(path, 10);
        QVERIFY(outbox.has_value());
        DeadLetter big{0, QStringLiteral("d1"), QStringLiteral("sensors/d1/telemetry"), QByteArray(300000, 'x'), 1000,
            QStringLiteral("TooLarge"), QStringLiteral("too large")};
        DeadLetter none{0, {}, QStringLiteral("sensors/+bad/telemetry"), QByteArray(), 2000,
            QStringLiteral("Unroutable"), QStringLiteral("no device")};
        QVERIFY((*outbox)->deadLetter(big).has_value());
        QVERIFY((*outbox)->deadLetter(none).has_value());
        QVERIFY(big.id > 0 && none.id > big.id);
        QCOMPARE((*outbox)->depth(), 0); // not messages to send
        QCOMPARE(*(*outbox)->deadLetterCount(), 2);

        // Read by another opener while the relay's handle holds the lock.
        QVERIFY(!Outbox::open(path, 10).has_value());
        auto inspector = Outbox::inspect(path);
        QVERIFY2(inspector.has_value(), inspector ? "" : qPrintable(inspector.error().message));
        const auto letters = (*inspector)->deadLetters();
        QVERIFY(letters.has_value());
        QCOMPARE(letters->size(), 2);
        QCOMPARE(letters->at(0).payload.size(), 300000);
        QCOMPARE(letters->at(0).reasonCode, QStringLiteral("TooLarge"));
        QCOMPARE(letters->at(1).deviceId, QString());
        QCOMPARE(letters->at(1).receivedMs, 2000);
        QCOMPARE(*(*inspector)->purgeDeadLetters(), 2);
        QCOMPARE(*(*outbox)->deadLetterCount(), 0);
    }

    void reportsAnUnusablePath()
    {
        const auto outbox = Outbox::open(QStringLiteral("/proc/no/such/outbox.db"), 10);
        QVERIFY(!outbox.has_value());
        QCOMPARE(outbox.error().code, QStringLiteral("OutboxUnwritable"));
    }
};

QTEST_GUILESS_MAIN(tst_Outbox)
#include "tst_outbox.moc"
