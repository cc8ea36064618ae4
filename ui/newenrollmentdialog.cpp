#include "newenrollmentdialog.h"

#include "credentials/credentialstore.h"
#include "dps/dpsenrollment.h"
#include "fielderror.h"
#include "hub/devicetwin.h"
#include "twintags.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace Onboarder {

NewEnrollmentDialog::NewEnrollmentDialog(Kind kind, CredentialStore &credentials, QWidget *parent)
    : QDialog(parent)
    , m_kind(kind)
    , m_credentials(credentials)
    , m_id(new QLineEdit(this))
    , m_attestation(new QComboBox(this))
    , m_ca(new QComboBox(this))
    , m_found(new QLabel(this))
    , m_tags(new QLineEdit(this))
    , m_enabled(new QCheckBox(tr("Enabled: devices may register"), this))
    , m_error(FieldError::create(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    const bool group = kind == Kind::Group;
    setWindowTitle(group ? tr("New Enrollment Group") : tr("New Enrollment"));
    auto *intro = new QLabel(group
            ? tr("An enrollment group admits every device whose certificate a CA signed, or whose key is "
                 "derived from the group's key.")
            : tr("An individual enrollment admits one device: by the certificate kept here for it (make one on "
                 "the Devices page or with onboarder-cli cred generate), or by keys that DPS makes."),
        this);
    intro->setWordWrap(true);
    m_id->setPlaceholderText(group ? tr("e.g. fleet-2026") : tr("e.g. nrf-352656100123456 (lower case)"));
    if (group) {
        m_attestation->addItem(tr("X.509: devices signed by a CA kept here"), int(Attestation::X509));
        m_attestation->addItem(
            tr("Symmetric key: each device's key derived from the group's"), int(Attestation::SymmetricKey));
    } else {
        m_attestation->addItem(tr("X.509: the certificate kept here for this id"), int(Attestation::X509));
        m_attestation->addItem(tr("Symmetric key (DPS makes the keys)"), int(Attestation::SymmetricKey));
    }
    if (const auto records = credentials.records()) {
        for (const CredentialRecord &record : *records) {
            if (record.kind == CredentialRecord::Kind::CertificateAuthority)
                m_ca->addItem(record.deviceId);
        }
    }
    m_ca->setPlaceholderText(tr("no CA is kept here"));
    m_found->setWordWrap(true);
    m_found->setTextFormat(Qt::PlainText);
    m_tags->setPlaceholderText(tr("site=bench-1, batch=7"));
    m_enabled->setChecked(true);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Create"));

    auto *form = new QFormLayout;
    form->addRow(group ? tr("&Group ID:") : tr("&Registration ID:"), m_id);
    form->addRow(tr("&Attestation:"), m_attestation);
    if (group)
        form->addRow(tr("&CA:"), m_ca);
    else
        m_ca->hide();
    form->addRow(QString(), m_found);
    form->addRow(tr("Initial twin &tags:"), m_tags);
    form->addRow(QString(), m_enabled);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(form);
    layout->addWidget(m_error);
    layout->addWidget(m_buttons);

    connect(m_id, &QLineEdit::textChanged, this, &NewEnrollmentDialog::revalidate);
    connect(m_tags, &QLineEdit::textChanged, this, &NewEnrollmentDialog::revalidate);
    connect(m_attestation, &QComboBox::currentIndexChanged, this, &NewEnrollmentDialog::revalidate);
    connect(m_ca, &QComboBox::currentIndexChanged, this, &NewEnrollmentDialog::revalidate);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    resize(560, sizeHint().height());
    revalidate();
}

void NewEnrollmentDialog::setId(const QString &id)
{
    m_id->setText(id);
}

void NewEnrollmentDialog::setAttestation(Attestation attestation)
{
    m_attestation->setCurrentIndex(m_attestation->findData(int(attestation)));
}

void NewEnrollmentDialog::setCa(const QString &caName)
{
    m_ca->setCurrentIndex(m_ca->findText(caName));
}

void NewEnrollmentDialog::setTags(const QString &tags)
{
    m_tags->setText(tags);
}

void NewEnrollmentDialog::setEnabled(bool enabled)
{
    m_enabled->setChecked(enabled);
}

QString NewEnrollmentDialog::id() const
{
    return m_id->text().trimmed();
}

bool NewEnrollmentDialog::canCreate() const
{
    return body().has_value();
}

Result<QJsonObject> NewEnrollmentDialog::body() const
{
    const QString id = this->id();
    const bool group = m_kind == Kind::Group;
    if (id.isEmpty())
        return fail(ErrorKind::InvalidInput, QStringLiteral("IdMissing"),
            group ? tr("Give the group an id.") : tr("Give the registration id."));
    if (!(group ? DpsEnrollment::isGroupId(id) : DpsEnrollment::isRegistrationId(id)))
        return fail(ErrorKind::InvalidInput, QStringLiteral("IdInvalid"),
            group ? tr("A group id takes letters, digits, '-', '.', '_' and ':', at most 128.")
                  : tr("A registration id takes lower-case letters, digits, '-', '.', '_' and ':', at most 128."));
    QString problem;
    const QJsonObject tags = TwinTags::parse(m_tags->text(), &problem);
    if (!problem.isEmpty())
        return fail(ErrorKind::InvalidInput, QStringLiteral("TagsInvalid"), problem);
    DpsEnrollment::Options options;
    options.enabled = m_enabled->isChecked();
    if (!tags.isEmpty())
        options.initialTwin = DeviceTwin::Change::tagsOnly(tags).toJson();
    const bool x509 = m_attestation->currentData().toInt() == int(Attestation::X509);
    if (!x509)
        return group ? DpsEnrollment::groupSymmetricKey(id, options)
                     : DpsEnrollment::individualSymmetricKey(id, options);
    if (group) {
        const QString ca = m_ca->currentText();
        if (ca.isEmpty())
            return fail(ErrorKind::NotFound, QStringLiteral("NoCa"),
                tr("No CA is kept here: import one with onboarder-cli cred import-ca, or use a symmetric key."));
        QFile file(m_credentials.caCertificatePath(ca));
        if (!file.open(QIODevice::ReadOnly))
            return fail(ErrorKind::NotFound, QStringLiteral("CaUnreadable"),
                tr("The certificate of CA \"%1\" cannot be read: %2").arg(ca, file.errorString()));
        const auto certificate = Certificate::fromPem(file.readAll());
        if (!certificate)
            return std::unexpected(certificate.error());
        return DpsEnrollment::groupX509(id, certificate->toPem(), options);
    }
    const auto certificate = keptCertificate();
    if (!certificate)
        return std::unexpected(certificate.error());
    return DpsEnrollment::individualX509(id, certificate->toPem(), options);
}

// The certificate kept here for the id (any hub's credential of that id): DPS takes the registration id from its CN.
Result<Certificate> NewEnrollmentDialog::keptCertificate() const
{
    const QString id = this->id();
    const auto records = m_credentials.records();
    if (!records)
        return std::unexpected(records.error());
    for (const CredentialRecord &record : *records) {
        if (record.deviceId == id
            && (record.kind == CredentialRecord::Kind::X509SelfSigned
                || record.kind == CredentialRecord::Kind::X509CaSigned))
            return m_credentials.certificate(record.hub, record.deviceId);
    }
    return fail(ErrorKind::NotFound, QStringLiteral("NoCredential"),
        tr("No certificate is kept here for \"%1\": make one on the Devices page or with onboarder-cli cred generate "
           "%1, "
           "or use a symmetric key.")
            .arg(id));
}

void NewEnrollmentDialog::revalidate()
{
    const bool x509 = m_attestation->currentData().toInt() == int(Attestation::X509);
    m_ca->setEnabled(x509);
    const auto checked = body();
    if (checked && x509 && m_kind == Kind::Group)
        m_found->setText(tr("Devices whose certificate CA \"%1\" signed.").arg(m_ca->currentText()));
    else if (checked && x509)
        m_found->setText(tr("Certificate kept here, SHA-256 %1….").arg(keptCertificate()->thumbprintSha256().left(24)));
    else
        m_found->setText(
            x509 ? QString() : tr("DPS makes the keys; a device registers with its key (a group's member: derived)."));
    // An empty id is not an error to show while the dialog is fresh.
    FieldError::show(m_error, checked || id().isEmpty() ? QString() : checked.error().message);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(checked.has_value());
    FieldError::fitHeight(this);
}

} // namespace Onboarder
