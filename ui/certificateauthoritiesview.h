#pragma once

#include "common/result.h"

#include <QWidget>

class QLabel;
class QPushButton;
class QTableWidget;

namespace Onboarder {

class CredentialStore;

// The CAs imported into the keychain (onboarder-cli cred import-ca), for the Provisioning page: name, subject,
// SHA-256 thumbprint, expiry. From a CA's context menu (or the buttons): the verification certificate that proves
// to IoT Hub or DPS that this computer holds the CA's key (the portals' proof of possession), and a new enrollment
// group that admits the devices the CA signs.
class CertificateAuthoritiesView final : public QWidget
{
    Q_OBJECT

public:
    explicit CertificateAuthoritiesView(CredentialStore &credentials, QWidget *parent = nullptr);

    QTableWidget *table() const { return m_table; }
    QString selectedCa() const;
    QStringList names() const;

public Q_SLOTS:
    void reload();
    // Asks for the portal's verification code and a file, then writes the certificate.
    void createVerificationCertificate();
    // The same without asking: signed with the CA's key from the keychain (in the background), written to path
    // (which must not exist). The outcome is verificationWritten() or a message in the status line.
    void writeVerificationCertificate(const QString &caName, const QString &code, const QString &path);

Q_SIGNALS:
    void groupRequested(const QString &caName);
    void verificationWritten(const QString &path, const QString &thumbprintSha1);
    void statusMessage(const QString &message);

private:
    void showContextMenu(const QPoint &position);
    void updateButtons();

    CredentialStore &m_credentials;
    QTableWidget *m_table;
    QPushButton *m_verification;
    QPushButton *m_group;
    QLabel *m_status;
    bool m_busy = false;
};

} // namespace Onboarder
