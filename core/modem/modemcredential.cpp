#include "modemcredential.h"

#include <QStringList>

namespace Onboarder {

namespace {

const QStringList &names()
{
    static const QStringList list{QStringLiteral("root-ca"), QStringLiteral("client-cert"),
        QStringLiteral("client-key"), QStringLiteral("psk"), QStringLiteral("psk-identity"),
        QStringLiteral("public-key"), QStringLiteral("identity-public-key")};
    return list;
}

} // namespace

QString CredentialType::name(int type)
{
    return type >= 0 && type < names().size() ? names().at(type) : QStringLiteral("type-%1").arg(type);
}

std::optional<int> CredentialType::fromName(const QString &text)
{
    if (const qsizetype index = names().indexOf(text.toLower()); index >= 0)
        return int(index);
    bool ok = false;
    const int number = text.toInt(&ok);
    if (ok && number >= 0 && number < names().size())
        return number;
    return std::nullopt;
}

QString CredentialType::description(int type)
{
    switch (type) {
    case RootCa: return tr("root CA certificate");
    case ClientCert: return tr("client certificate");
    case ClientKey: return tr("client private key");
    case Psk: return tr("pre-shared key");
    case PskIdentity: return tr("PSK identity");
    case PublicKey: return tr("public key");
    case IdentityPublicKey: return tr("device identity public key");
    case 7: return tr("reserved");
    case 8: return tr("endorsement key");
    case 9: return tr("ownership key");
    case 10: return tr("Nordic identity root CA");
    case 11: return tr("Nordic public key");
    default: return tr("type %1").arg(type);
    }
}

} // namespace Onboarder
