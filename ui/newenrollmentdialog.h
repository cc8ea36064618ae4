#pragma once

#include "common/result.h"
#include "credentials/certificate.h"

#include <QDialog>
#include <QJsonObject>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace Onboarder {

class CredentialStore;

// A new individual enrollment or enrollment group for the Provisioning page, checked as typed:
// - an enrollment: its registration id (DPS's rules), attested by the X.509 certificate kept here for that id (its
//   CN is the id) or by symmetric keys that DPS makes;
// - a group: its id, admitting the devices signed by a CA kept here, or deriving each device's key from the
//   group's symmetric key;
// both with initial twin tags and enabled or not. The page creates it in DPS with body().
class NewEnrollmentDialog final : public QDialog
{
    Q_OBJECT

public:
    enum class Kind { Enrollment, Group };
    enum class Attestation { X509, SymmetricKey };

    NewEnrollmentDialog(Kind kind, CredentialStore &credentials, QWidget *parent = nullptr);

    void setId(const QString &id);
    void setAttestation(Attestation attestation);
    void setCa(const QString &caName); // Kind::Group with X.509
    void setTags(const QString &tags);
    void setEnabled(bool enabled);

    QString id() const;
    bool canCreate() const;
    // The enrollment or group as the DPS service API takes it (checked), or why not.
    Result<QJsonObject> body() const;

private:
    void revalidate();
    Result<Certificate> keptCertificate() const;

    Kind m_kind;
    CredentialStore &m_credentials;
    QLineEdit *m_id;
    QComboBox *m_attestation;
    QComboBox *m_ca;
    QLabel *m_found;
    QLineEdit *m_tags;
    QCheckBox *m_enabled;
    QLabel *m_error;
    QDialogButtonBox *m_buttons;
};

} // namespace Onboarder
