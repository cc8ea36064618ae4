#include "hubprofile.h"

namespace Onboarder {

QString HubProfile::secretName() const
{
    return QStringLiteral("hub/") + name + QStringLiteral("/connection-string");
}

QUrl HubProfile::restBaseUrl() const
{
    QUrl url;
    url.setScheme(QStringLiteral("https"));
    url.setHost(hostName);
    if (effectiveRestPort() != defaultRestPort)
        url.setPort(effectiveRestPort());
    url.setPath(QStringLiteral("/"));
    return url;
}

} // namespace Onboarder
