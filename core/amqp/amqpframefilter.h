#pragma once

#include <QByteArray>
#include <QSet>

#include <cstddef>

namespace Onboarder {

// Between a peer's bytes and Proton, on the serving side: drops the frames a peer sends on a channel after it ended
// that channel's session, until it begins one there again. The official Azure SDKs (rhea) sometimes settle
// deliveries (a disposition) after they sent the session's end; Proton then closes the whole connection with
// "no such channel", while Azure ignores such a frame.
// It also drops a frame that is not an AMQP frame (a SASL frame, type 1) once the AMQP layer has begun (its protocol
// header has passed): Proton 0.37 hands such a frame to its SASL code all the same, and each sasl-init there keeps a
// copy of the mechanism it names without freeing the one before, so a peer repeating it grows the server's memory
// without bound (found by fuzz_amqpendpoint).
// And it reads the fields of attach, detach and transfer, to refuse the transfer Proton 0.37 cannot take: a first
// transfer of a delivery without a delivery-id (or with a delivery-id that is not a uint) trips an assertion in
// pn_do_transfer that ends the whole process (found by fuzz_amqpendpoint). Such a frame is a protocol violation
// (violation()): nothing from it on reaches Proton, and the connection is closed with amqp:decode-error.
// Everything else passes unchanged and in order: protocol headers ("AMQP" + 4 bytes), SASL frames during the SASL
// layer, empty (heartbeat) frames, and frames that cannot be classified (Proton judges those). The bytes are the
// peer's, untrusted: sizes are checked, never trusted for allocation.
class AmqpFrameFilter final
{
public:
    // Takes in the peer's next bytes; what is to reach Proton is appended to output().
    void feed(const char *data, size_t size);
    QByteArray &output() { return m_output; }
    qint64 droppedFrames() const { return m_dropped; }
    // Why the peer's bytes stopped being passed on (empty while they are): a transfer Proton could not take.
    QString violation() const { return m_violation; }

private:
    bool classify(); // decides the frame at the front of m_pending once enough of it is there
    // Attach, detach and transfer: how a link's deliveries continue; false (and m_violation) for a transfer Proton
    // would assert on, or fields that are not what the standard says.
    bool followLinks(quint64 code, quint16 channel, const uchar *fields, qsizetype size, quint32 count);

    QByteArray m_pending; // bytes not classified yet (the start of a header or frame)
    QByteArray m_output;
    QSet<quint16> m_ended; // channels whose session the peer ended
    QSet<quint64> m_continuing; // (channel << 32 | handle) of links whose last transfer said more is to come
    qsizetype m_gather = 32; // bytes to gather before classify() can decide (a performative's fields: more)
    QString m_violation;
    bool m_amqpLayer = false; // the AMQP protocol header (protocol id 0) has passed
    quint64 m_passing = 0; // bytes of the current frame still to pass through
    quint64 m_skipping = 0; // bytes of the current frame still to drop
    qint64 m_dropped = 0;
};

} // namespace Onboarder
