// What the sandbox's mosquitto plugin reads from a connecting client before it trusts it
// (sandbox/hub/plugin/pluginauth.h): the MQTT password as a SAS token and the username as IoT Hub's
// {host}/{deviceId}[/{moduleId}]/?api-version=…; and its base64 helpers. Promises: nothing crashes (inside
// mosquitto a crash takes the broker down with every device on it); a token that parses has its three required
// fields and is never valid for a key that did not sign it; a username's path parts are never empty and never
// hold a '/'; base64 decoding undoes encoding.
#include "fuzzcheck.h"
#include "pluginauth.h"

#include <cstddef>
#include <cstdint>

using namespace Onboarder::SandboxPlugin;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string text(reinterpret_cast<const char *>(data), size);

    if (const auto token = parseToken(text)) {
        FUZZ_CHECK(startsWith(text, "SharedAccessSignature "));
        // Signed with another key: never valid, whatever the token says.
        const std::string key = "c2FuZGJveC1mdXp6LWtleS1ub3QtdGhlLXNpZ25lcg==";
        const std::string toSign = token->encodedResource + "\n" + std::to_string(token->expiry);
        const auto raw = base64Decode(key);
        FUZZ_CHECK(raw.has_value());
        if (hmacBase64(*raw, toSign) != token->signature)
            FUZZ_CHECK(!tokenValid(*token, {key}));
    }

    for (const std::string &part : usernamePath(text)) {
        FUZZ_CHECK(!part.empty());
        FUZZ_CHECK(part.find('/') == std::string::npos);
        FUZZ_CHECK(part.find('?') == std::string::npos);
    }

    (void)percentDecode(text);
    if (const auto decoded = base64Decode(text))
        FUZZ_CHECK(decoded->size() <= text.size());
    const std::string encoded = base64Encode(data, size);
    const auto decoded = base64Decode(encoded);
    if (size > 0) {
        FUZZ_CHECK(decoded.has_value());
        FUZZ_CHECK(*decoded == text);
    }
    return 0;
}
