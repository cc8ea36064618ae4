#pragma once

#include "credentials/certificate.h"
#include "credentials/keypair.h"
#include "modem/nrf91modem.h"
#include "testsupport.h"

#include <memory>

namespace TestSupport {

// The error message of a failed result, for QVERIFY2 (which evaluates its message even on success).
template<typename T> QByteArray why(const Onboarder::Result<T> &result)
{
    return result ? QByteArray() : result.error().message.toUtf8();
}

// A modem object opened on port, or a test failure.
inline std::unique_ptr<Onboarder::Nrf91Modem> openModem(
    const QString &port, const Onboarder::SerialSettings &settings = {})
{
    auto modem = std::make_unique<Onboarder::Nrf91Modem>();
    const auto opened = await(modem->open(port, settings));
    if (!opened)
        qWarning("cannot open %s: %s", qPrintable(port), qPrintable(opened.error().message));
    return opened ? std::move(modem) : nullptr;
}

struct DeviceCredentials
{
    QByteArray certificatePem;
    QByteArray keyPem;
};

// A self-signed EC P-256 device certificate for id; extraNames subject alternative names make it larger.
inline DeviceCredentials deviceCredentials(const QString &id, int extraNames = 0)
{
    auto key = Onboarder::KeyPair::generate(Onboarder::KeyPair::Type::EcP256);
    Onboarder::Certificate::Request request;
    request.commonName = id;
    for (int i = 0; i < extraNames; ++i)
        request.dnsNames.append(QStringLiteral("name-%1.devices.example.invalid").arg(i));
    auto cert = Onboarder::Certificate::selfSigned(*key, request);
    return {cert->toPem(), key->privateKeyPem().exposeForWire()};
}

inline QByteArray amazonRootCa1()
{
    QFile file(sourcePath(QStringLiteral("tests/data/amazon-root-ca-1.pem")));
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace TestSupport
