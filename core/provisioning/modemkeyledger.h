#pragma once

#include "common/result.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QString>

#include <optional>

namespace Onboarder {

// Which key in which modem belongs to which certificate, for keys the PC does not hold (born in the modem
// by %KEYGEN, or born on the PC and forgotten after the flash). The modem lists its keys by SHA-256 only,
// so this pairing is the one way a re-run knows that the key in a modem's tag still goes with the
// certificate kept here, and need not be made again. Nothing here is secret: hashes and names. A JSON
// file in the app data dir (provisioning/modem-keys.json), written atomically under a lock file.
class ModemKeyLedger final
{
    Q_DECLARE_TR_FUNCTIONS(ModemKeyLedger)

public:
    struct Entry
    {
        QString hub;
        QString deviceId;
        QString imei;
        quint32 secTag = 0;
        QString keySha256; // what the modem lists for (secTag, type 2)
        QString certificateSha256; // the thumbprint of the certificate made for that key
        QDateTime recordedAt;
    };

    explicit ModemKeyLedger(const QString &filePath);
    static QString defaultPath(); // <data dir>/provisioning/modem-keys.json

    std::optional<Entry> find(const QString &hub, const QString &deviceId) const;
    Result<void> put(const Entry &entry);

private:
    QString m_filePath;
};

} // namespace Onboarder
