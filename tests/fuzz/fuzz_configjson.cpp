// The JSON documents the project reads from files a person or another program writes: relay configurations
// (core/relay/relayconfig.h), provisioning profiles (core/provisioning/provisioningprofile.h), a twin as edited in
// the GUI (core/hub/devicetwin.h) and the records of the credential inventory. Promises: nothing crashes; what is
// refused says why; a provisioning profile that loads, saved and loaded again, is the same profile; an edited twin
// that is accepted, shown again for editing, is accepted as the same change.
#include "credentials/credentialinventory.h"
#include "fuzzcheck.h"
#include "hub/devicetwin.h"
#include "provisioning/provisioningprofile.h"
#include "relay/relayconfig.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <cstddef>
#include <cstdint>

using namespace Onboarder;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));

    if (const auto config = RelayConfig::parse(bytes, QStringLiteral("/nonexistent/relay")); !config)
        FUZZ_CHECK(!config.error().message.isEmpty());

    const QJsonDocument document = QJsonDocument::fromJson(bytes);
    if (!document.isObject())
        return 0;
    const QJsonObject object = document.object();

    if (const auto profile = ProvisioningProfile::fromJson(object)) {
        const QJsonObject saved = profile->toJson();
        const auto again = ProvisioningProfile::fromJson(saved);
        FUZZ_CHECK(again.has_value());
        FUZZ_CHECK(again->toJson() == saved);
    } else {
        FUZZ_CHECK(!profile.error().message.isEmpty());
    }

    if (const auto change = DeviceTwin::parseEditable(object)) {
        const auto again = DeviceTwin::parseEditable(
            {{QStringLiteral("tags"), change->tags}, {QStringLiteral("desired"), change->desired}});
        FUZZ_CHECK(again.has_value());
        FUZZ_CHECK(again->toJson() == change->toJson());
    } else {
        FUZZ_CHECK(!change.error().message.isEmpty());
    }

    (void)CredentialRecord::fromJson(object);
    return 0;
}
