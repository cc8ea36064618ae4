#pragma once

#include <QCoreApplication>
#include <QString>

#include <optional>

namespace Onboarder {

// One entry of the modem's credential storage as %CMNG lists it.
struct ModemCredential
{
    quint32 tag = 0;
    int type = 0;
    QString sha256; // upper-case hex of the stored bytes; empty when the firmware lists no hashes (< 1.3.2)

    friend bool operator==(const ModemCredential &, const ModemCredential &) = default;
};

// The %CMNG credential types, their numbers and their names on the command line (docs/cli.md, modem credential types).
class CredentialType final
{
    Q_DECLARE_TR_FUNCTIONS(CredentialType)

public:
    enum : int {
        RootCa = 0,
        ClientCert = 1,
        ClientKey = 2,
        Psk = 3,
        PskIdentity = 4,
        PublicKey = 5,
        IdentityPublicKey = 6,
    };

    static constexpr quint32 lastUserTag = 2147483647u; // tags above belong to the modem

    // "root-ca", "client-cert", … ; "type-N" for the modem's own types.
    static QString name(int type);
    // A name or a number from 0 to 6.
    static std::optional<int> fromName(const QString &text);
    static QString description(int type); // translated: "root CA certificate"
    static bool isReadable(int type) { return type == RootCa || type == PskIdentity; }
    static bool isUserTag(qint64 tag) { return tag >= 0 && tag <= qint64(lastUserTag); }
};

} // namespace Onboarder
