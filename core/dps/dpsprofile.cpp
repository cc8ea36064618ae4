#include "dpsprofile.h"

namespace Onboarder {

QString DpsProfile::secretName() const
{
    return QStringLiteral("dps/") + name + QStringLiteral("/connection-string");
}

QUrl DpsProfile::serviceBaseUrl() const
{
    QUrl url;
    url.setScheme(QStringLiteral("https"));
    url.setHost(address.isEmpty() ? hostName : address);
    if (effectiveRestPort() != defaultRestPort)
        url.setPort(effectiveRestPort());
    url.setPath(QStringLiteral("/"));
    return url;
}

QString DpsProfile::deviceEndpoint() const
{
    return address.isEmpty() ? QString::fromLatin1(globalDeviceEndpoint) : address;
}

} // namespace Onboarder
