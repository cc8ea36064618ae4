// The decoding of AMQP 1.0 messages (core/amqp/amqpmessage.h, over Qpid Proton's codec): what a hub sends as
// telemetry events, cloud-to-device feedback and CBS or $management answers, and what the sandbox hub reads from
// clients. Promises: nothing crashes (an empty transfer once made Proton abort the process); a message that decodes,
// encoded and decoded again, encodes to the same bytes.
#include "amqp/amqpmessage.h"
#include "fuzzcheck.h"

#include <cstddef>
#include <cstdint>

using namespace Onboarder;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const auto message = AmqpMessage::decode(reinterpret_cast<const char *>(data), size);
    if (!message)
        return 0;
    (void)message->bodyBytes();
    // A body that is a described value is what Proton makes of a section it does not know (a descriptor other than
    // data, amqp-sequence or amqp-value): no peer sends that, and it is not written back as it came.
    if (message->body.metaType() == QMetaType::fromType<AmqpDescribed>())
        return 0;
    const QByteArray encoded = message->encode();
    FUZZ_CHECK(!encoded.isEmpty());
    const auto again = AmqpMessage::decode(encoded);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->encode() == encoded);
    return 0;
}
