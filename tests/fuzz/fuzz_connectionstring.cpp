// The parsers of credential text a person pastes or a peer sends: IoT Hub connection strings, SAS tokens (also
// what the sandbox's REST and AMQP faces read from a request) and Event Hub-compatible connection strings.
// Promises: nothing crashes; what parses, printed canonically, parses to the same thing; a masked connection
// string carries neither the key nor the token's signature.
#include "amqp/eventhubreader.h"
#include "fuzzcheck.h"
#include "hub/connectionstring.h"
#include "hub/sastoken.h"

#include <QUrl>

#include <cstddef>
#include <cstdint>

using namespace Onboarder;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString text = QString::fromUtf8(reinterpret_cast<const char *>(data), qsizetype(size));

    if (const auto parsed = ConnectionString::parse(text)) {
        const auto again = ConnectionString::parse(parsed->toString());
        FUZZ_CHECK(again.has_value());
        FUZZ_CHECK(*again == *parsed);
        const QString masked = parsed->toMaskedString();
        if (!parsed->sharedAccessKey().isEmpty())
            FUZZ_CHECK(
                !masked.contains(QStringLiteral("SharedAccessKey=") + parsed->sharedAccessKey().exposeAsString()));
        if (!parsed->sharedAccessSignature().isEmpty()) {
            if (const auto token = SasToken::parse(parsed->sharedAccessSignature());
                token && !token->signature().isEmpty())
                FUZZ_CHECK(!masked.contains(QStringLiteral("sig=") + token->signature())
                    && !masked.contains(
                        QStringLiteral("sig=") + QString::fromLatin1(QUrl::toPercentEncoding(token->signature()))));
        }
    }

    if (const auto token = SasToken::parse(text)) {
        const auto again = SasToken::parse(token->toString());
        FUZZ_CHECK(again.has_value());
        FUZZ_CHECK(again->encodedResource() == token->encodedResource());
        FUZZ_CHECK(again->signature() == token->signature());
        FUZZ_CHECK(again->expiry() == token->expiry());
        FUZZ_CHECK(again->keyName() == token->keyName());
        (void)token->resource();
        (void)token->isExpired();
    }

    if (const auto endpoint = EventHubEndpoint::parse(text)) {
        FUZZ_CHECK(!endpoint->host.isEmpty());
        FUZZ_CHECK(endpoint->port > 0);
    }
    return 0;
}
