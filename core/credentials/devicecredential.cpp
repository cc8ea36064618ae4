#include "devicecredential.h"

namespace Onboarder {

Result<DeviceCredential> DeviceCredential::read(
    const QByteArray &certificate, QByteArrayView key, QByteArrayView keyPassword)
{
    auto cert = Certificate::fromData(certificate);
    if (!cert)
        return std::unexpected(cert.error());
    auto pair = KeyPair::fromData(key, keyPassword);
    if (!pair)
        return std::unexpected(pair.error());
    return DeviceCredential{*cert, std::move(*pair)};
}

Result<DeviceCredential> DeviceCredential::import(
    const QByteArray &certificate, QByteArrayView key, QByteArrayView keyPassword, Target target)
{
    auto credential = read(certificate, key, keyPassword);
    if (!credential)
        return credential;
    if (auto ok = credential->certificate.checkUsableWith(credential->key); !ok)
        return std::unexpected(ok.error());
    if (target == Target::Nrf9160) {
        if (auto ok = credential->key.checkModemCompatible(); !ok)
            return std::unexpected(ok.error());
    }
    return credential;
}

} // namespace Onboarder
