#pragma once

#include <QByteArray>
#include <QString>

#include <map>
#include <utility>

namespace Onboarder::Sandbox {

// One entry of the simulated modem's credential storage: the bytes between the quotes of the %CMNG
// write, untouched, and the SHA-256 the modem lists for them.
struct SimCredential
{
    QByteArray content;
    QByteArray password; // PKCS#8 password of an encrypted type-2 key, as written
    bool generated = false; // a %KEYGEN key: cannot be overwritten (519) or read
};

// What the simulated nRF9160 keeps: identity and the credential storage, persisted to a JSON file
// (optional) after every change, so that a test can restart the simulator and find what was flashed.
class ModemState final
{
public:
    using Key = std::pair<quint32, int>; // sec_tag, type
    static constexpr quint32 identityKeyTag = 4294967293u; // modem-owned: the device identity key (type 2)

    QString imei = QStringLiteral("352656100367872");
    QString manufacturer = QStringLiteral("Nordic Semiconductor ASA");
    QString model = QStringLiteral("nRF9160-SICA");
    QString firmware = QStringLiteral("mfw_nrf9160_1.3.5");
    QString modemUuid = QStringLiteral("25c95751-efa4-40d4-8b4a-1dcaab81fac9"); // %XMODEMUUID: the firmware build
    QString deviceUuid; // %KEYGEN's default CN
    std::map<Key, SimCredential> credentials;

    // Reads the file if it exists; a new state gets a device UUID and the modem-owned entries that real
    // modems list (tags ≥ 2147483648), so that hosts are tested against them.
    bool load(const QString &path, QString *error);
    bool save(QString *error) const; // no-op without a file
    QString path() const { return m_path; }

    qint64 storedBytes() const;

    static QString sha256Hex(const QByteArray &content); // upper-case, as the modem lists it

private:
    void addModemOwnedEntries();
    QString m_path;
};

} // namespace Onboarder::Sandbox
