#include "hubprofile.h"

#include <QCoreApplication>

namespace Onboarder {

QString HubProfile::secretName() const
{
    return QStringLiteral("hub/") + name + QStringLiteral("/connection-string");
}

QString HubProfile::eventHubSecretName() const
{
    return QStringLiteral("hub/") + name + QStringLiteral("/event-hub-connection-string");
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

std::optional<QNetworkProxy> HubProfile::networkProxy() const
{
    if (proxy.isEmpty())
        return std::nullopt;
    return QNetworkProxy(QNetworkProxy::HttpProxy, proxy.host(), quint16(proxy.port(80)));
}

QString HubProfile::checkProxy(const QUrl &proxy)
{
    if (!proxy.isValid() || proxy.scheme() != QLatin1String("http") || proxy.host().isEmpty()
        || !(proxy.path().isEmpty() || proxy.path() == QLatin1String("/")) || proxy.hasQuery() || proxy.hasFragment())
        return QCoreApplication::translate("HubProfile", "A proxy is given as http://HOST:PORT, not \"%1\".")
            .arg(proxy.toString());
    if (!proxy.userInfo().isEmpty())
        return QCoreApplication::translate("HubProfile",
            "The proxy must not hold a user name or password: only proxies without "
            "authentication are supported, and a password has no place in settings.");
    return {};
}

} // namespace Onboarder
