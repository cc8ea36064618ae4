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
        keep(frame(5, attach));
        keep(frame(5, transfer, QByteArrayLiteral("\x45") + big));
        keep(frame(3, begin));
        keep(frame(5, detach));
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
        for (int i = 0; i < 3000; ++i) {
            const quint8 code = quint8(0x10 + random.bounded(7)); // open … detach, never end
            stream += frame(
                quint16(random.bounded(4)), code, QByteArray(int(random.bounded(60)), char(random.bounded(256))));
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
