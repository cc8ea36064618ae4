#include "amqpframefilter.h"

#include <QtEndian>

#include <algorithm>
#include <optional>

namespace Onboarder {

namespace {

constexpr quint64 performativeBegin = 0x11;
constexpr quint64 performativeEnd = 0x17;
constexpr quint64 performativeOpen = 0x10; // open and close are the connection's, whatever channel they come on
constexpr quint64 performativeClose = 0x18;
constexpr int frameTypeAmqp = 0;
constexpr quint64 performativeAttach = 0x12;
constexpr quint64 performativeTransfer = 0x14;
constexpr quint64 performativeDetach = 0x16;
constexpr qsizetype maxLookedInto = 64 * 1024; // a performative larger than this is refused (real ones: < 2 KiB)

// AMQP 1.0 encoded values in a performative's fields, read from untrusted bytes: the few the filter needs, and a step
// over any other one.
class FieldReader
{
public:
    FieldReader(const uchar *data, qsizetype size)
        : m_data(data)
        , m_size(size)
    { }

    // Steps over one value of any type; false when it is malformed or runs past the end.
    bool skip(int depth = 0)
    {
        if (!need(1) || depth > 16)
            return false;
        const uchar constructor = m_data[m_at++];
        if (constructor == 0x00) // described: the descriptor, then the value
            return skip(depth + 1) && skip(depth + 1);
        qsizetype length = 0;
        switch (constructor >> 4) {
        case 0x4: length = 0; break;
        case 0x5: length = 1; break;
        case 0x6: length = 2; break;
        case 0x7: length = 4; break;
        case 0x8: length = 8; break;
        case 0x9: length = 16; break;
        case 0xa: // variable width, compound and array with a 1-byte size
        case 0xc:
        case 0xe:
            if (!need(1))
                return false;
            length = m_data[m_at++];
            break;
        case 0xb: // the same with a 4-byte size
        case 0xd:
        case 0xf:
            if (!need(4))
                return false;
            length = qsizetype(qFromBigEndian<quint32>(m_data + m_at));
            m_at += 4;
            break;
        default: return false;
        }
        if (!need(length))
            return false;
        m_at += length;
        return true;
    }

    // A uint (or null: no value); false for another type.
    bool readUint(std::optional<quint32> *value)
    {
        *value = std::nullopt;
        if (!need(1))
            return false;
        switch (m_data[m_at]) {
        case 0x40: ++m_at; return true;
        case 0x43:
            ++m_at;
            *value = 0;
            return true;
        case 0x52:
            if (!need(2))
                return false;
            *value = m_data[m_at + 1];
            m_at += 2;
            return true;
        case 0x70:
            if (!need(5))
                return false;
            *value = qFromBigEndian<quint32>(m_data + m_at + 1);
            m_at += 5;
            return true;
        default: return false;
        }
    }

    // A boolean (or null: no value); false for another type.
    bool readBool(std::optional<bool> *value)
    {
        *value = std::nullopt;
        if (!need(1))
            return false;
        switch (m_data[m_at]) {
        case 0x40: ++m_at; return true;
        case 0x41:
            ++m_at;
            *value = true;
            return true;
        case 0x42:
            ++m_at;
            *value = false;
            return true;
        case 0x56:
            if (!need(2) || m_data[m_at + 1] > 1)
                return false;
            *value = m_data[m_at + 1] == 1;
            m_at += 2;
            return true;
        default: return false;
        }
    }

private:
    bool need(qsizetype n) const { return n >= 0 && m_at + n <= m_size; }

    const uchar *m_data;
    qsizetype m_size;
    qsizetype m_at = 0;
};

quint64 linkKey(quint16 channel, quint32 handle)
{
    return quint64(channel) << 32 | handle;
}

} // namespace

void AmqpFrameFilter::feed(const char *data, size_t size)
{
    for (;;) {
        if (!m_violation.isEmpty())
            return; // nothing more of this peer's goes on
        // Whole headers and frames already gathered are decided first.
        while (m_passing == 0 && m_skipping == 0 && !m_pending.isEmpty() && classify() && m_violation.isEmpty()) { }
        if (!m_violation.isEmpty())
            return; // the rest of what is gathered, and what comes, stays here
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
        // At the start of a header or frame: gather just enough to decide (32 bytes, or the performative's fields
        // of a frame that is looked into).
        const size_t n
            = size_t(std::max<qsizetype>(0, std::min<qsizetype>(m_gather - m_pending.size(), qsizetype(size))));
        m_pending.append(data, qsizetype(n));
        data += n;
        size -= n;
        if (m_pending.size() >= m_gather && !classify() && m_pending.size() >= m_gather) { // never spin
            m_output.append(m_pending);
            m_pending.clear();
        }
    }
}

bool AmqpFrameFilter::classify()
{
    const auto *bytes = reinterpret_cast<const uchar *>(m_pending.constData());
    const qsizetype have = m_pending.size();
    m_gather = 32;
    if (!m_violation.isEmpty() || have < 8)
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
    // Only an AMQP frame with room for a descriptor is looked into; anything else passes whole (Proton judges it).
    if (type == frameTypeAmqp && dataOffset >= 8 && quint64(frameSize) >= quint64(at) + 3) {
        // The performative's descriptor: 0x00 then a smallulong (0x53 c) or ulong (0x80 + 8 bytes).
        const qsizetype descriptorNeed = std::min<qsizetype>(at + 10, qsizetype(frameSize));
        if (have < descriptorNeed) {
            m_gather = descriptorNeed;
            return false;
        }
        const qsizetype descriptorEnd
            = std::min<qsizetype>(at + (bytes[at + 1] == 0x80 ? 10 : 3), qsizetype(frameSize));
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
            if (code == performativeBegin || code == performativeEnd) {
                for (auto link = m_continuing.begin(); link != m_continuing.end();)
                    link = quint16(*link >> 32) == channel ? m_continuing.erase(link) : std::next(link);
            }
            if (!drop && (code == performativeAttach || code == performativeDetach || code == performativeTransfer)) {
                // The list of fields after the descriptor: list0, list8 (size, count) or list32.
                const qsizetype list = descriptorEnd;
                if (have < list + 1) {
                    m_gather = list + 1;
                    return false;
                }
                const uchar constructor = bytes[list];
                const qsizetype header = constructor == 0xc0 ? 3 : constructor == 0xd0 ? 9 : 1;
                if (have < list + header) {
                    m_gather = list + header;
                    return false;
                }
                quint64 listSize = 0; // the bytes after the size field: count and fields
                quint32 count = 0;
                if (constructor == 0xc0) {
                    listSize = bytes[list + 1];
                    count = bytes[list + 2];
                } else if (constructor == 0xd0) {
                    listSize = qFromBigEndian<quint32>(bytes + list + 1);
                    count = qFromBigEndian<quint32>(bytes + list + 5);
                } else if (constructor != 0x45) { // list0: no fields
                    m_violation = QStringLiteral("The fields of a performative are not a list.");
                    return true;
                }
                const qsizetype countSize = constructor == 0xc0 ? 1 : constructor == 0xd0 ? 4 : 0;
                const quint64 end = quint64(list) + 1
                    + (constructor == 0xd0        ? 4
                            : constructor == 0xc0 ? 1
                                                  : 0)
                    + (constructor == 0x45 ? 0 : listSize);
                if (end > frameSize || end > quint64(maxLookedInto)
                    || (constructor != 0x45 && listSize < quint64(countSize))) {
                    m_violation = QStringLiteral("A performative's fields run past its frame or are too large.");
                    return true;
                }
                if (quint64(have) < end) {
                    m_gather = qsizetype(end);
                    return false;
                }
                const qsizetype fieldsAt = list + header;
                if (!followLinks(code, channel, bytes + fieldsAt, qsizetype(end) - fieldsAt, count))
                    return true; // a violation: nothing of it passes
            }
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

bool AmqpFrameFilter::followLinks(quint64 code, quint16 channel, const uchar *fields, qsizetype size, quint32 count)
{
    FieldReader reader(fields, size);
    std::optional<quint32> handle;
    const auto broken = [this](const QString &why) {
        m_violation = why;
        return false;
    };
    if (code == performativeAttach) {
        // name, handle: a link attached on a handle starts with no delivery under way.
        if (count < 2 || !reader.skip() || !reader.readUint(&handle) || !handle)
            return broken(QStringLiteral("An attach without a valid handle."));
        m_continuing.remove(linkKey(channel, *handle));
        return true;
    }
    if (code == performativeDetach) {
        if (count < 1 || !reader.readUint(&handle) || !handle)
            return broken(QStringLiteral("A detach without a valid handle."));
        m_continuing.remove(linkKey(channel, *handle));
        return true;
    }
    // transfer: handle, delivery-id, delivery-tag, message-format, settled, more, rcv-settle-mode, state, resume,
    // aborted, batchable.
    std::optional<quint32> deliveryId;
    std::optional<bool> more;
    std::optional<bool> aborted;
    if (count < 1 || !reader.readUint(&handle) || !handle)
        return broken(QStringLiteral("A transfer without a valid handle."));
    if (count >= 2 && !reader.readUint(&deliveryId))
        return broken(QStringLiteral("A transfer whose delivery-id is not a uint."));
    for (quint32 field = 2; field < std::min<quint32>(count, 10); ++field) {
        const bool ok = field == 5 ? reader.readBool(&more) : field == 9 ? reader.readBool(&aborted) : reader.skip();
        if (!ok)
            return broken(QStringLiteral("A transfer with a malformed field %1.").arg(field));
    }
    const quint64 key = linkKey(channel, *handle);
    if (!m_continuing.contains(key) && !deliveryId)
        return broken(QStringLiteral("The first transfer of a delivery carries no delivery-id."));
    if (more.value_or(false) && !aborted.value_or(false))
        m_continuing.insert(key);
    else
        m_continuing.remove(key);
    return true;
}

} // namespace Onboarder
