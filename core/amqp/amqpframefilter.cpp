#include "amqpframefilter.h"

#include <QtEndian>

#include <algorithm>

namespace Onboarder {

namespace {

constexpr quint64 performativeBegin = 0x11;
constexpr quint64 performativeEnd = 0x17;
constexpr quint64 performativeOpen = 0x10; // open and close are the connection's, whatever channel they come on
constexpr quint64 performativeClose = 0x18;
constexpr int frameTypeAmqp = 0;

} // namespace

void AmqpFrameFilter::feed(const char *data, size_t size)
{
    for (;;) {
        // Whole headers and frames already gathered are decided first.
        while (m_passing == 0 && m_skipping == 0 && !m_pending.isEmpty() && classify()) { }
        if (size == 0)
            return; // bytes gathered but not enough to decide wait for the next feed()
        if (m_passing > 0) {
            const size_t n = size_t(std::min<quint64>(m_passing, size));
            m_output.append(data, qsizetype(n));
            m_passing -= n;
            data += n;
            size -= n;
            continue;
        }
        if (m_skipping > 0) {
            const size_t n = size_t(std::min<quint64>(m_skipping, size));
            m_skipping -= n;
            data += n;
            size -= n;
            continue;
        }
        // At the start of a header or frame: gather just enough to decide (32 bytes always do).
        const size_t n = size_t(std::min<qsizetype>(32 - m_pending.size(), qsizetype(size)));
        m_pending.append(data, qsizetype(n));
        data += n;
        size -= n;
        if (m_pending.size() >= 32 && !classify()) { // cannot happen; never spin
            m_output.append(m_pending);
            m_pending.clear();
        }
    }
}

bool AmqpFrameFilter::classify()
{
    const auto *bytes = reinterpret_cast<const uchar *>(m_pending.constData());
    const qsizetype have = m_pending.size();
    if (have < 8)
        return false;
    if (m_pending.startsWith("AMQP")) { // a protocol header (AMQP, SASL or TLS), 8 bytes
        if (bytes[4] == 0)
            m_amqpLayer = true;
        m_output.append(m_pending.left(8));
        m_pending.remove(0, 8);
        return true;
    }
    const quint32 frameSize = qFromBigEndian<quint32>(bytes);
    const int dataOffset = bytes[4] * 4;
    const int type = bytes[5];
    const quint16 channel = qFromBigEndian<quint16>(bytes + 6);
    bool drop = m_amqpLayer && type != frameTypeAmqp && frameSize >= 8; // a SASL frame in the AMQP layer
    const qsizetype at = dataOffset;
    // Only an AMQP frame with room for a descriptor, whose descriptor lies within the first 32 bytes, is looked
    // into; anything else passes whole (Proton judges it).
    if (type == frameTypeAmqp && dataOffset >= 8 && quint64(frameSize) >= quint64(at) + 3 && at + 10 <= 32) {
        // The performative's descriptor: 0x00 then a smallulong (0x53 c) or ulong (0x80 + 8 bytes).
        const qsizetype descriptorEnd
            = std::min<qsizetype>(at + (have > at + 1 && bytes[at + 1] == 0x80 ? 10 : 3), qsizetype(frameSize));
        if (have < descriptorEnd)
            return false;
        if (bytes[at] == 0x00) {
            quint64 code = ~quint64(0);
            if (bytes[at + 1] == 0x53)
                code = bytes[at + 2];
            else if (bytes[at + 1] == 0x80 && descriptorEnd == at + 10)
                code = qFromBigEndian<quint64>(bytes + at + 2);
            const bool connectionLevel = code == performativeOpen || code == performativeClose; // always on
            if (code == performativeBegin)
                m_ended.remove(channel);
            else if (!connectionLevel && m_ended.contains(channel))
                drop = true;
            else if (code == performativeEnd)
                m_ended.insert(channel);
        }
    }
    // The frame, whole: what is gathered, and the rest as it comes.
    const quint64 total = std::max<quint64>(frameSize, 8);
    const quint64 gathered = std::min<quint64>(total, quint64(have));
    if (drop) {
        ++m_dropped;
        m_skipping = total - gathered;
    } else {
        m_output.append(m_pending.left(qsizetype(gathered)));
        m_passing = total - gathered;
    }
    m_pending.remove(0, qsizetype(gathered)); // what follows starts the next header or frame
    return true;
}

} // namespace Onboarder
