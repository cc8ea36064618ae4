#pragma once

// What the sandbox's mosquitto plugin reads from a client before it trusts it: the SAS token given as the MQTT
// password and the IoT Hub username ({host}/{deviceId}[/{moduleId}]/?api-version=…), and the base64 and HMAC
// helpers that check a token's signature. In a header of its own, without Qt (the plugin runs inside mosquitto),
// so that tests/fuzz/fuzz_pluginauth.cpp can feed it what a hostile client would send.

#include <algorithm>
#include <cctype>
#include <ctime>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <optional>
#include <string>
#include <vector>

namespace Onboarder::SandboxPlugin {

inline constexpr long defaultClockSkewSeconds = 300; // IoT Hub accepts tokens up to five minutes past their expiry

inline std::string lower(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return text;
}

inline bool startsWith(const std::string &text, const std::string &prefix)
{
    return text.compare(0, prefix.size(), prefix) == 0;
}

inline std::string percentDecode(const std::string &text)
{
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && std::isxdigit((unsigned char)text[i + 1])
            && std::isxdigit((unsigned char)text[i + 2])) {
            out.push_back(char(std::stoi(text.substr(i + 1, 2), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

inline std::optional<std::string> base64Decode(const std::string &text)
{
    if (text.empty() || text.size() % 4 != 0)
        return std::nullopt;
    std::string out(text.size() / 4 * 3, '\0');
    const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(out.data()),
        reinterpret_cast<const unsigned char *>(text.data()), int(text.size()));
    if (length < 0)
        return std::nullopt;
    size_t padding = 0;
    if (text.back() == '=')
        padding = text[text.size() - 2] == '=' ? 2 : 1;
    out.resize(size_t(length) - padding);
    return out;
}

inline std::string base64Encode(const unsigned char *data, size_t size)
{
    std::string out(4 * ((size + 2) / 3) + 1, '\0');
    const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()), data, int(size));
    out.resize(size_t(length));
    return out;
}

inline std::string hmacBase64(const std::string &key, const std::string &message)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char *>(message.data()),
        message.size(), digest, &length);
    return base64Encode(digest, length);
}

inline bool equalConstantTime(const std::string &a, const std::string &b)
{
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

struct SasToken
{
    std::string encodedResource; // as transmitted
    std::string signature; // decoded
    long long expiry = 0;
    std::string keyName;
};

inline std::optional<SasToken> parseToken(const std::string &text)
{
    const std::string prefix = "SharedAccessSignature ";
    if (!startsWith(text, prefix))
        return std::nullopt;
    SasToken token;
    bool haveSr = false, haveSig = false, haveSe = false;
    size_t start = prefix.size();
    while (start <= text.size()) {
        size_t end = text.find('&', start);
        if (end == std::string::npos)
            end = text.size();
        const std::string field = text.substr(start, end - start);
        const size_t eq = field.find('=');
        if (eq == std::string::npos)
            return std::nullopt;
        const std::string name = field.substr(0, eq), value = field.substr(eq + 1);
        if (name == "sr") {
            token.encodedResource = value;
            haveSr = true;
        } else if (name == "sig") {
            token.signature = percentDecode(value);
            haveSig = true;
        } else if (name == "se") {
            try {
                token.expiry = std::stoll(value);
            } catch (...) {
                return std::nullopt;
            }
            haveSe = true;
        } else if (name == "skn") {
            token.keyName = percentDecode(value);
        } else {
            return std::nullopt;
        }
        start = end + 1;
    }
    if (!haveSr || !haveSig || !haveSe)
        return std::nullopt;
    return token;
}

// True when the token is signed with one of the base64 keys and has not expired beyond the skew.
inline bool tokenValid(
    const SasToken &token, const std::vector<std::string> &keys, long clockSkewSeconds = defaultClockSkewSeconds)
{
    if (token.expiry + clockSkewSeconds < (long long)std::time(nullptr))
        return false;
    const std::string toSign = token.encodedResource + "\n" + std::to_string(token.expiry);
    for (const std::string &key : keys) {
        const auto raw = base64Decode(key);
        if (raw && equalConstantTime(hmacBase64(*raw, toSign), token.signature))
            return true;
    }
    return false;
}

// username: {host}/{deviceId}[/{moduleId}][/][?query] or the older …/api-version=… form without '?'.
inline std::vector<std::string> usernamePath(const std::string &username)
{
    std::string path = username.substr(0, username.find('?'));
    const size_t legacy = path.find("/api-version=");
    if (legacy != std::string::npos)
        path = path.substr(0, legacy);
    std::vector<std::string> parts;
    size_t start = 0;
    while (start < path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string::npos)
            end = path.size();
        if (end > start)
            parts.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

} // namespace Onboarder::SandboxPlugin
