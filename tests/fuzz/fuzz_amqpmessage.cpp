// The decoding of AMQP 1.0 messages (core/amqp/amqpmessage.h, over Qpid Proton's codec): what a hub sends as
// telemetry events, cloud-to-device feedback and CBS or $management answers, and what the sandbox hub reads from
// clients. Promises: nothing crashes (an empty transfer once made Proton abort the process); a message that decodes
// is written back, the same way each time, in a form that decodes again to the same message: written once more, it
// is the same bytes.
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
    // What decodes is written back in a form that decodes again, the same way each time, and to the same message. A
    // message Proton decodes wrongly (a described value holding a described value, whose map lost an entry on each
    // trip: corpus/fuzz_amqpmessage/map-normal-form.bin) does not decode.
    const QByteArray encoded = message->encode();
    FUZZ_CHECK(!encoded.isEmpty());
    FUZZ_CHECK(message->encode() == encoded);
    const auto again = AmqpMessage::decode(encoded);
    FUZZ_CHECK(again.has_value());
    (void)again->bodyBytes();
    FUZZ_CHECK(again->applicationProperties.entries.size() == message->applicationProperties.entries.size());
    FUZZ_CHECK(again->messageAnnotations.entries.size() == message->messageAnnotations.entries.size());
    FUZZ_CHECK(again->encode() == encoded);
    return 0;
}
