#pragma once

#include "common/result.h"
#include "modem/modemcredential.h"
#include "modem/modemcsr.h"

#include <QFuture>
#include <QObject>

#include <functional>
#include <optional>

namespace Onboarder {

class Nrf91Modem;

// What a %CMNG list says about one (tag, type) against the bytes we expect there.
struct Verification
{
    enum class Outcome {
        Match, // the modem's SHA-256 equals ours
        Mismatch, // something else is stored there
        Absent, // nothing is stored there
        NoHash, // stored, but the firmware lists no hashes (< 1.3.2): cannot be compared
    };
    Outcome outcome = Outcome::Absent;
    QString modemSha256;
    QString localSha256;
};

// The modem's credential storage through %CMNG (docs/nrf91-at.md §4): list, read
// where the modem allows it, write with the PEM quoted as the modem expects, delete, verify by SHA-256,
// and keys generated inside the modem (%KEYGEN). Changes switch the modem to offline mode first and
// back to its previous mode after, also when they fail. Reserved tags and unreadable types are refused
// before anything is sent; every +CME ERROR becomes a sentence (ModemError).
class ModemCredentialStore final : public QObject
{
    Q_OBJECT

public:
    // How a file's text becomes the bytes between the quotes.
    enum class ContentForm {
        Normalized, // LF line ends, no trailing white space: what nrfcredstore and Cellular Monitor send
        Verbatim, // the bytes as they are (CR LF and a trailing newline kept)
    };

    explicit ModemCredentialStore(Nrf91Modem &modem, QObject *parent = nullptr);
    ~ModemCredentialStore() override;

    // Entries sorted by tag and type; the modem's own tags (≥ 2147483648) only when asked for.
    QFuture<Result<QList<ModemCredential>>> list(
        std::optional<quint32> tag = {}, std::optional<int> type = {}, bool includeModemOwned = false);
    QFuture<Result<QByteArray>> read(quint32 tag, int type);
    QFuture<Result<Verification>> verify(quint32 tag, int type, const QByteArray &content);

    // Write (replacing what is there) and verify; offline mode around it.
    QFuture<Result<ModemCredential>> write(
        quint32 tag, int type, const QByteArray &content, const QByteArray &password = {});
    QFuture<Result<void>> remove(quint32 tag, int type);
    // A new EC P-256 key in the modem (type 2 in tag) and its CSR, checked; the subject is CN=commonName.
    QFuture<Result<ModemCsr>> generateKey(quint32 tag, const QString &commonName);

    // The single steps, without the switch to offline mode, for jobs that switch once around several.
    QFuture<Result<void>> writeEntry(quint32 tag, int type, const QByteArray &content, const QByteArray &password = {});
    QFuture<Result<ModemCredential>> writeAndVerifyEntry(
        quint32 tag, int type, const QByteArray &content, const QByteArray &password = {});

    // The bytes to write for a file's text, checked for the type: certificates must be PEM certificates,
    // keys PEM keys, a PSK hex; no double quote or NUL (the AT syntax has no escape for them).
    static Result<QByteArray> prepare(int type, const QByteArray &text, ContentForm form = ContentForm::Normalized);
    static QString sha256Hex(const QByteArray &content); // upper-case, as the modem lists it
    static Result<void> checkUserTag(qint64 tag);

    static constexpr int writeTimeoutMs = 10000;
    static constexpr int keygenTimeoutMs = 30000;

private:
    template<typename T> QFuture<Result<T>> offline(const std::function<QFuture<Result<T>>()> &work);
    static QString where(quint32 tag, int type);

    Nrf91Modem &m_modem;
};

} // namespace Onboarder
