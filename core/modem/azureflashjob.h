#pragma once

#include "common/result.h"
#include "common/secretbytes.h"

#include <QByteArray>
#include <QDateTime>
#include <QFuture>
#include <QObject>
#include <QStringList>

#include <memory>
#include <optional>

namespace Onboarder {

struct DeviceCredential;
class ModemCredentialStore;
struct ModemCredential;
class Nrf91Modem;

// What the nRF Connect SDK's Azure IoT Hub library needs in the modem (docs/nrf91-at.md
// §8): in the primary tag (CONFIG_MQTT_HELPER_SEC_TAG) DigiCert Global Root G2, the device certificate and
// its private key; Microsoft RSA Root Certificate Authority 2017 in the secondary tag
// (CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG), or, without one, next to DigiCert Global Root G2 in the primary
// tag's root CA entry. These are the roots Azure names for IoT Hub and DPS since Baltimore CyberTrust Root
// expired (2025-05-12).
struct AzureCredentialSet
{
    quint32 tag = 10;
    std::optional<quint32> secondaryTag;
    QByteArray deviceCertificate; // PEM
    SecretBytes deviceKey; // PEM
    SecretBytes keyPassword; // for an encrypted key
    // The key is in the modem already (made there by %KEYGEN, or flashed before and kept nowhere else):
    // deviceKey stays empty, and the job only checks that the modem lists modemKeySha256 for it.
    bool keyInModem = false;
    QString modemKeySha256;

    // The one place a set for a device is put together (the Modem page, onboarder-cli modem flash-azure, the
    // provisioning station): the tags the firmware reads (secondaryTag empty: both roots in tag) and the device's
    // certificate with its private key, as read from the keychain (CredentialStore::deviceCredential) ...
    static AzureCredentialSet forDevice(
        quint32 tag, std::optional<quint32> secondaryTag, const DeviceCredential &credential);
    // ... or as PEM (files given on the command line, an encrypted key with its password; a key made for the
    // station) ...
    static AzureCredentialSet forDevice(quint32 tag, std::optional<quint32> secondaryTag, QByteArray certificatePem,
        SecretBytes keyPem, SecretBytes keyPassword = {});
    // ... or with the key in the modem already: only the certificate is written, and the modem must list the key
    // as modemKeySha256.
    static AzureCredentialSet forKeyInModem(
        quint32 tag, std::optional<quint32> secondaryTag, QByteArray certificatePem, const QString &modemKeySha256);
};

// One (tag, type) the job writes, and what the modem holds there as far as the job knows.
struct FlashSlot
{
    enum class State {
        Pending, // not looked at yet
        Flashed, // holds exactly the planned bytes (SHA-256 verified)
        Unverified, // written, but the firmware lists no hashes
        Different, // holds something else (what was there before)
        Absent, // holds nothing
        Unknown, // the modem could not be asked (the line dropped)
    };
    quint32 tag = 0;
    int type = 0;
    QString label; // "DigiCert Global Root G2", "device certificate", …
    QString expectedSha256; // of the planned bytes
    QString modemSha256; // what the modem last listed; empty when absent or unknown
    State state = State::Pending;

    static QString stateName(State state); // stable, for JSON: "flashed", "different", …
};

struct FlashReport
{
    QList<FlashSlot> slots;
    std::optional<Error> failure; // empty: everything is on the modem and verified
    QStringList warnings; // certificates flashed that expire soon (or expired, when allowed); sentences
    int previousMode = -1; // the functional mode before (−1: never read)
    bool modeRestored = false;
    qint64 bytesSent = 0;
    qint64 bytesReceived = 0;

    bool ok() const { return !failure; }
};

// Flashes an Azure credential set into a modem: reads what is stored, switches to offline mode, writes
// each credential (skipping ones already stored byte for byte) and verifies it by SHA-256, then restores
// the previous functional mode. Reports progress per step and can be cancelled between steps (a write is
// never cut in half: the AT host would wedge). When it fails part-way, the report says exactly what the
// modem holds now: asked again where the modem still answers, from what the job saw where it does not.
class AzureFlashJob final : public QObject
{
    Q_OBJECT

public:
    // Takes the set (move-only: its key is a SecretBytes).
    AzureFlashJob(Nrf91Modem &modem, AzureCredentialSet set, QObject *parent = nullptr);
    ~AzureFlashJob() override;

    // Checks the set (PEM, tags) and builds the plan; nothing is sent.
    Result<QList<FlashSlot>> plan();
    void setForce(bool force) { m_force = force; } // write even what is stored already
    // Flash a root CA that has expired (plan() refuses one otherwise: a device that trusts only roots
    // past their end cannot reach the hub). Reported in FlashReport::warnings.
    void setAllowExpiredRoots(bool allow) { m_allowExpiredRoots = allow; }
    // The time certificates are judged at (default: when plan() runs).
    void setNow(const QDateTime &now) { m_now = now; }
    // A certificate that expires within this many days is flashed with a warning.
    static constexpr int expiryWarningDays = 30;

    QFuture<FlashReport> start();
    void cancel() { m_cancelled = true; }

    // The root CAs Onboarder ships (RootCertificates), as PEM.
    static QByteArray digiCertGlobalRootG2();
    static QByteArray microsoftRsaRootCa2017();

Q_SIGNALS:
    void progress(int step, int steps, const QString &text);

private:
    struct Planned
    {
        FlashSlot slot;
        QByteArray content; // a certificate
        bool secret = false;
        bool inModem = false; // never written: must be there already
        // The private key (secret slots): one buffer that copies of the plan share, wiped when the last goes.
        std::shared_ptr<const SecretBytes> key = {};
    };

    void readBefore();
    void goOffline();
    void writeNext(qsizetype index);
    void restoreMode();
    void finish(const std::optional<Error> &failure);
    void settle(const QList<ModemCredential> &now);
    void step(const QString &text);
    bool stopIfCancelled();

    Nrf91Modem &m_modem;
    ModemCredentialStore *m_store = nullptr;
    AzureCredentialSet m_set;
    QList<Planned> m_plan;
    FlashReport m_report;
    std::optional<Error> m_failure;
    qsizetype m_inFlight = -1;
    int m_step = 0;
    bool m_force = false;
    bool m_allowExpiredRoots = false;
    QDateTime m_now;
    QStringList m_warnings;
    bool m_cancelled = false;
    bool m_started = false;
    std::shared_ptr<QPromise<FlashReport>> m_promise;
    qint64 m_sentAtStart = 0;
    qint64 m_receivedAtStart = 0;
};

} // namespace Onboarder
