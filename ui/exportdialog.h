#pragma once

#include "common/result.h"
#include "common/secretbytes.h"
#include "credentials/devicecredential.h"

#include <QDialog>
#include <QImage>

#include <functional>
#include <optional>

class QButtonGroup;
class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QStackedWidget;

namespace Onboarder {

class SecureClipboard;
class Settings;

// Hands a secret to someone without leaving it lying around: a connection string (or a device's
// certificate and key) goes to the clipboard that clears itself, to an OpenPGP-encrypted file for one
// recipient, to a password-protected PKCS#12 file (certificate and key only), to a QR code shown only
// after a warning, or, only when the user ticks that they want exactly that, to a plaintext file.
// Every file is new and readable by its owner only (0600).
class ExportDialog final : public QDialog
{
    Q_OBJECT

public:
    enum class Method { Clipboard, OpenPgp, Pkcs12, QrCode, Plaintext };
    Q_ENUM(Method)

    // A text secret, e.g. a device's primary connection string; what: "the primary connection string of dev-1".
    ExportDialog(const QString &what, SecretBytes secret, Settings &settings, QWidget *parent = nullptr);
    // A device's certificate and private key.
    ExportDialog(
        const QString &what, const DeviceCredential &credential, Settings &settings, QWidget *parent = nullptr);
    ~ExportDialog() override;

    // Makes what is exported for a validity: seconds > 0, a text that stops working that long after it is made (a
    // connection string with a SAS token instead of the key); 0, the secret itself. Offered, the dialog lets the user
    // choose how long the export stays valid, one day unless they choose otherwise: the safer hand-over is the
    // default, on every path out (clipboard, OpenPGP, QR code, plaintext file).
    using ValidityMaker = std::function<Result<SecretBytes>(qint64 seconds)>;
    void offerExpiry(ValidityMaker make);

    // For tests and callers that hold the values.
    void setValiditySeconds(qint64 seconds); // one of the offered ones; 0: no expiry
    qint64 validitySeconds() const; // 0 without an expiry (or none offered)
    void setMethod(Method method);
    Method method() const;
    void setRecipient(const QString &recipient);
    void setGnupgHome(const QString &home) { m_gnupgHome = home; } // empty: the user's
    void setOutputPath(const QString &path);
    void setPkcs12Password(const QString &password, const QString &repeated);
    void setPlaintextConfirmed(bool confirmed);
    QString outcome() const; // what the last export did, or why it did not
    bool outcomeIsError() const { return m_failed; }
    bool isBusy() const { return m_busy; }
    bool isQrCodeShown() const;
    QImage qrCodeImage() const; // 5 pixels a module, quiet zone included; null unless shown
    SecureClipboard *clipboard() const { return m_clipboard; }
    QPushButton *exportButton() const { return m_export; }

public Q_SLOTS:
    void runExport();

private:
    void build(bool hasCredential);
    void updateState();
    void browseOutput();
    void browseRecipient();
    void showQrCode();
    void finish(bool ok, const QString &message);
    QString problem() const; // why Export is disabled now; empty: it is not
    // What leaves: a copy of the secret, the credential's PEM, or what the validity maker makes for the chosen
    // validity (its expiry then in m_expiresAt).
    Result<SecretBytes> secretBytes();
    QString expiryNote() const; // " It stops working at …" after an expiring export; empty otherwise

    Settings &m_settings;
    QString m_what;
    SecretBytes m_secret;
    std::optional<DeviceCredential> m_credential;
    ValidityMaker m_makeForValidity;
    QDateTime m_expiresAt; // of the last expiring export
    QString m_gnupgHome;
    bool m_busy = false;
    bool m_failed = false;

    QButtonGroup *m_methods = nullptr;
    QWidget *m_validityRow = nullptr;
    QComboBox *m_validity = nullptr;
    QLabel *m_validityNote = nullptr;
    QStackedWidget *m_pages = nullptr;
    QLineEdit *m_recipient = nullptr;
    QLineEdit *m_output = nullptr;
    QWidget *m_outputRow = nullptr;
    QLineEdit *m_password = nullptr;
    QLineEdit *m_repeat = nullptr;
    QCheckBox *m_confirmPlaintext = nullptr;
    QLabel *m_qrWarning = nullptr;
    QPushButton *m_showQr = nullptr;
    QLabel *m_qrImage = nullptr;
    QLabel *m_problem = nullptr;
    QLabel *m_outcome = nullptr;
    QProgressBar *m_progress = nullptr;
    QPushButton *m_export = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    SecureClipboard *m_clipboard = nullptr;
};

} // namespace Onboarder
