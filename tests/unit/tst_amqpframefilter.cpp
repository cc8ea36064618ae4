// AmqpFrameFilter: the serving side drops frames a peer sends on a channel after ending its session (as rhea, the
// Azure SDKs' AMQP library, sometimes does with a late disposition) and passes everything else, in order, however
// the bytes are cut.
#include "amqp/amqpframefilter.h"

#include <QRandomGenerator>
#include <QTest>
#include <QtEndian>

using Onboarder::AmqpFrameFilter;

namespace {

// An AMQP frame on channel with a described performative (smallulong code) and an arbitrary body after it.
QByteArray frame(quint16 channel, quint8 code, const QByteArray &body = QByteArrayLiteral("\x45"), int type = 0)
{
    QByteArray performative = QByteArray("\x00\x53", 2) + char(code) + body;
    QByteArray out(8, '\0');
    qToBigEndian<quint32>(quint32(8 + performative.size()), out.data());
    out[4] = 2;
    out[5] = char(type);
    qToBigEndian<quint16>(channel, out.data() + 6);
    return out + performative;
}

// The same with an ulong descriptor (0x80 + 8 bytes), which peers may use too.
QByteArray longFrame(quint16 channel, quint64 code)
{
    QByteArray performative("\x00\x80", 2);
    QByteArray number(8, '\0');
    qToBigEndian<quint64>(code, number.data());
    performative += number + QByteArrayLiteral("\x45");
    QByteArray out(8, '\0');
    qToBigEndian<quint32>(quint32(8 + performative.size()), out.data());
    out[4] = 2;
    qToBigEndian<quint16>(channel, out.data() + 6);
    return out + performative;
}

// The fields of attach (name, handle), detach (handle) and transfer (handle, delivery-id, tag, format, settled, more)
// as a list8, after which body may follow (a transfer's payload). deliveryId < 0: null.
QByteArray list8(const QByteArray &fields, int count)
{
    return QByteArray(1, char(0xc0)) + char(fields.size() + 1) + char(count) + fields;
}
QByteArray uintField(quint32 value)
{
    QByteArray out(1, char(0x70));
    out.resize(5);
    qToBigEndian<quint32>(value, out.data() + 1);
    return out;
}
QByteArray attachFields(quint32 handle)
{
    return list8(QByteArray("\xa1\x04link", 6) + uintField(handle), 2);
}
QByteArray detachFields(quint32 handle)
{
    return list8(uintField(handle), 1);
}
QByteArray transferFields(quint32 handle, qint64 deliveryId, bool more)
{
    return list8(uintField(handle) + (deliveryId < 0 ? QByteArray(1, char(0x40)) : uintField(quint32(deliveryId)))
            + QByteArray("\xa0\x01t", 3) + QByteArray(1, char(0x43)) + QByteArray(1, char(0x42))
            + QByteArray(1, char(more ? 0x41 : 0x42)),
        6);
}

QByteArray filtered(const QByteArray &stream, int maxChunk, qint64 *dropped = nullptr)
{
    AmqpFrameFilter filter;
    QRandomGenerator random(quint32(maxChunk) * 7919u);
    for (qsizetype at = 0; at < stream.size();) {
        const qsizetype n = std::min<qsizetype>(stream.size() - at, 1 + random.bounded(maxChunk));
        filter.feed(stream.constData() + at, size_t(n));
        at += n;
    }
    if (dropped)
        *dropped = filter.droppedFrames();
    return filter.output();
}

constexpr quint8 begin = 0x11, attach = 0x12, flow = 0x13, transfer = 0x14, disposition = 0x15, detach = 0x16,
                 end = 0x17;

} // namespace

class tst_AmqpFrameFilter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void lateFramesOnAnEndedChannelAreDropped_data()
    {
        QTest::addColumn<int>("maxChunk");
        for (int chunk : {1, 2, 3, 7, 13, 64, 4096})
            QTest::newRow(qPrintable(QStringLiteral("chunks of up to %1").arg(chunk))) << chunk;
    }

    void lateFramesOnAnEndedChannelAreDropped()
    {
        QFETCH(int, maxChunk);
        const QByteArray saslHeader("AMQP\x03\x01\x00\x00", 8);
        const QByteArray amqpHeader("AMQP\x00\x01\x00\x00", 8);
        const QByteArray heartbeat = QByteArray("\x00\x00\x00\x08\x02\x00\x00\x00", 8);
        const QByteArray big(70000, 'x'); // a transfer larger than any chunk
        QByteArray kept;
        QByteArray stream;
        const auto keep = [&](const QByteArray &bytes) {
            kept += bytes;
            stream += bytes;
        };
        keep(saslHeader);
        keep(frame(0, 0x41, QByteArrayLiteral("\x45"), 1)); // sasl-init (a SASL frame)
        keep(amqpHeader);
        keep(frame(0, 0x10)); // open
        keep(frame(5, begin));
        keep(frame(5, attach, attachFields(0)));
        keep(frame(5, transfer, transferFields(0, 0, false) + big));
        keep(frame(3, begin));
        keep(frame(5, detach, detachFields(0)));
        keep(frame(5, end));
        stream += frame(5, disposition); // late: rhea settles after ending the session
        stream += longFrame(5, flow); // late, ulong descriptor
        keep(heartbeat);
        keep(frame(3, disposition)); // another channel: untouched
        keep(longFrame(5, begin)); // the channel is begun again: its frames pass once more
        keep(frame(5, disposition));
        keep(frame(0, begin));
        keep(frame(0, end));
        keep(frame(0, 0x18)); // close: the connection's, on channel 0 though that session ended

        qint64 dropped = 0;
        const QByteArray out = filtered(stream, maxChunk, &dropped);
        QCOMPARE(dropped, 2);
        QCOMPARE(out.size(), kept.size());
        QVERIFY(out == kept);
    }

    void saslFramesAfterTheAmqpHeaderAreDropped_data() { lateFramesOnAnEndedChannelAreDropped_data(); }

    void saslFramesAfterTheAmqpHeaderAreDropped()
    {
        // A sasl-init again once the AMQP layer has begun: Proton 0.37 would take it and leak the mechanism's name
        // each time (fuzz_amqpendpoint found it). During the SASL layer such frames pass, as they must.
        QFETCH(int, maxChunk);
        const QByteArray saslInit = frame(0, 0x41, QByteArrayLiteral("\x45"), 1);
        QByteArray kept = QByteArray("AMQP\x03\x01\x00\x00", 8) + saslInit + QByteArray("AMQP\x00\x01\x00\x00", 8)
            + frame(0, 0x10) + frame(1, begin);
        QByteArray stream = kept;
        for (int i = 0; i < 3; ++i)
            stream += saslInit;
        stream += frame(1, attach, QByteArrayLiteral("\x45"), 7); // nor any other type but AMQP's
        const QByteArray tail = frame(1, end) + frame(0, 0x18);
        kept += tail;
        stream += tail;
        qint64 dropped = 0;
        QCOMPARE(filtered(stream, maxChunk, &dropped), kept);
        QCOMPARE(dropped, 4);
    }

    void aFirstTransferWithoutADeliveryIdEndsTheInput_data() { lateFramesOnAnEndedChannelAreDropped_data(); }

    void aFirstTransferWithoutADeliveryIdEndsTheInput()
    {
        // Proton 0.37 asserts (and the process ends) on the first transfer of a delivery without a delivery-id, or
        // with one that is not a uint (fuzz_amqpendpoint found it). Continuations may leave it out; a link attached
        // again starts afresh.
        QFETCH(int, maxChunk);
        const QByteArray head = QByteArray("AMQP\x00\x01\x00\x00", 8) + frame(0, 0x10) + frame(1, begin)
            + frame(1, attach, attachFields(7));
        const QByteArray valid = head + frame(1, transfer, transferFields(7, 0, true) + "part one")
            + frame(1, transfer, transferFields(7, -1, true) + "two") // a continuation: no id needed
            + frame(1, transfer, transferFields(7, -1, false) + "three")
            + frame(1, transfer, transferFields(7, 1, false)) + frame(1, transfer, transferFields(7, 2, true))
            + frame(1, detach, detachFields(7)) + frame(1, attach, attachFields(7));
        AmqpFrameFilter filter;
        filter.feed(valid.constData(), size_t(valid.size()));
        QVERIFY2(filter.violation().isEmpty(), qPrintable(filter.violation()));
        QCOMPARE(filtered(valid, maxChunk), valid);

        const QByteArray tail = frame(1, end) + frame(0, 0x18);
        QByteArray wrongType = transferFields(7, 0, false);
        wrongType[8] = char(0x41); // the delivery-id a boolean, as in the input the fuzzer found (after 3 + 5 bytes)
        for (const QByteArray &refused : {frame(1, transfer, transferFields(7, -1, false)), // after a re-attach
                 frame(1, transfer, wrongType)}) {
            AmqpFrameFilter broken;
            const QByteArray stream = valid + refused + tail;
            for (qsizetype at = 0; at < stream.size(); at += maxChunk)
                broken.feed(stream.constData() + at, size_t(std::min<qsizetype>(maxChunk, stream.size() - at)));
            QVERIFY(!broken.violation().isEmpty());
            QCOMPARE(broken.output(), valid); // nothing from the refused frame on
        }
        // A performative whose fields are no list, or run past the frame, is refused too.
        AmqpFrameFilter noList;
        const QByteArray notAList = head + frame(1, transfer, QByteArrayLiteral("\x41"));
        noList.feed(notAList.constData(), size_t(notAList.size()));
        QVERIFY(!noList.violation().isEmpty());
        AmqpFrameFilter pastTheEnd;
        const QByteArray overlong = head + frame(1, transfer, QByteArray("\xc0\xff\x06", 3) + uintField(7));
        pastTheEnd.feed(overlong.constData(), size_t(overlong.size()));
        QVERIFY(!pastTheEnd.violation().isEmpty());
    }

    void shortFramesAtTheEndOfAReadAreDecidedAtOnce()
    {
        // A header and a frame shorter than what the filter gathers to decide, in one read: both go on now (a peer
        // that then waits for the answer must not wait for bytes that never come).
        AmqpFrameFilter filter;
        const QByteArray bytes = QByteArray("AMQP\x00\x01\x00\x00", 8) + frame(0, 0x10);
        filter.feed(bytes.constData(), size_t(bytes.size()));
        QCOMPARE(filter.output(), bytes);
        const QByteArray two = frame(0, begin) + frame(0, end);
        filter.feed(two.constData(), size_t(two.size()));
        QCOMPARE(filter.output(), bytes + two);
    }

    void everythingElsePassesUnchanged_data() { lateFramesOnAnEndedChannelAreDropped_data(); }

    void everythingElsePassesUnchanged()
    {
        // Many frames of every size around the 32 bytes the filter gathers, none on an ended channel.
        QFETCH(int, maxChunk);
        QRandomGenerator random(42);
        QByteArray stream("AMQP\x00\x01\x00\x00", 8);
        quint32 deliveryId = 0;
        for (int i = 0; i < 3000; ++i) {
            const quint8 code = quint8(0x10 + random.bounded(7)); // open … detach, never end
            const quint16 channel = quint16(random.bounded(4));
            const QByteArray body(int(random.bounded(60)), char(random.bounded(256)));
            // The link performatives with the fields they must have; the others with any bytes.
            stream += code == attach ? frame(channel, code, attachFields(random.bounded(3)))
                : code == detach     ? frame(channel, code, detachFields(random.bounded(3)))
                : code == transfer ? frame(channel, code, transferFields(random.bounded(3), deliveryId++, false) + body)
                                   : frame(channel, code, body);
        }
        QCOMPARE(filtered(stream, maxChunk), stream);
    }

    void whatCannotBeClassifiedPassesWhole()
    {
        // An extended header too long to look into, a frame too short for a descriptor, a frame size below 8: all
        // reach Proton unchanged (it answers malformed input itself).
        QByteArray extended = frame(1, end);
        extended[4] = 12; // data offset 48 bytes
        extended += QByteArray(40, '\0');
        qToBigEndian<quint32>(quint32(extended.size()), extended.data());
        QByteArray tiny("\x00\x00\x00\x09\x02\x00\x00\x01\x00", 9);
        const QByteArray stream = extended + tiny + frame(1, disposition);
        QCOMPARE(filtered(stream, 5), stream);
    }
};

QTEST_APPLESS_MAIN(tst_AmqpFrameFilter)
#include "tst_amqpframefilter.moc"
