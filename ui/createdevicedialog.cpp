#include "createdevicedialog.h"

#include "credentials/credentialstore.h"
#include "fielderror.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QStackedWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace Onboarder {

namespace {

// A field and the sentence under it, as one row of a form.
QWidget *withError(QWidget *field, QLabel *error, QWidget *extra = nullptr)
{
    auto *box = new QWidget(field->parentWidget());
    auto *column = new QVBoxLayout(box);
    column->setContentsMargins(0, 0, 0, 0);
    column->setSpacing(2);
    auto *row = new QHBoxLayout;
    row->addWidget(field, 1);
    if (extra)
        row->addWidget(extra);
    column->addLayout(row);
    column->addWidget(error);
    return box;
}

} // namespace

CreateDeviceDialog::CreateDeviceDialog(
    HubClient &client, CredentialStore &credentials, const QString &hubName, QWidget *parent)
    : QDialog(parent)
    , m_client(client)
    , m_credentials(credentials)
    , m_hubName(hubName)
    , m_id(new QLineEdit(this))
    , m_idError(FieldError::create(this))
    , m_auth(new QButtonGroup(this))
    , m_authPages(new QStackedWidget(this))
    , m_generateKeys(new QCheckBox(tr("Let the hub generate both keys"), this))
    , m_generateCertificate(
          new QCheckBox(tr("Make a key and certificate now (EC P-256, the key kept in the keychain)"), this))
    , m_thumbprints(new QWidget(this))
    , m_primaryKey(new QLineEdit(this))
    , m_primaryKeyError(FieldError::create(this))
    , m_secondaryKey(new QLineEdit(this))
    , m_secondaryKeyError(FieldError::create(this))
    , m_primaryThumbprint(new QLineEdit(this))
    , m_primaryThumbprintError(FieldError::create(this))
    , m_secondaryThumbprint(new QLineEdit(this))
    , m_secondaryThumbprintError(FieldError::create(this))
    , m_enabled(new QCheckBox(tr("Enabled: the device may connect as soon as it is registered"), this))
    , m_failure(FieldError::create(this))
    , m_progress(new QProgressBar(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("New Device"));
    setMinimumWidth(560);

    m_id->setPlaceholderText(tr("e.g. nrf-352656100000000"));
    m_id->setAccessibleName(tr("Device ID"));
    m_id->setMaxLength(128);

    auto *sas = new QRadioButton(tr("Symmetric key (SAS)"), this);
    auto *selfSigned = new QRadioButton(tr("X.509 self-signed"), this);
    auto *ca = new QRadioButton(tr("X.509 signed by a CA"), this);
    m_auth->addButton(sas, int(DeviceDraft::Auth::Sas));
    m_auth->addButton(selfSigned, int(DeviceDraft::Auth::SelfSigned));
    m_auth->addButton(ca, int(DeviceDraft::Auth::CertificateAuthority));
    sas->setChecked(true);
    auto *authRow = new QVBoxLayout;
    authRow->addWidget(sas);
    authRow->addWidget(selfSigned);
    authRow->addWidget(ca);

    // Symmetric keys.
    auto *sasPage = new QWidget(this);
    m_generateKeys->setChecked(true);
    for (QLineEdit *key : {m_primaryKey, m_secondaryKey}) {
        key->setEchoMode(QLineEdit::Password);
        key->setPlaceholderText(tr("base64, 16 to 64 bytes"));
    }
    m_primaryKey->setAccessibleName(tr("Primary key"));
    m_secondaryKey->setAccessibleName(tr("Secondary key"));
    auto *randomKeys = new QToolButton(this);
    randomKeys->setText(tr("Random Keys"));
    randomKeys->setToolTip(tr("Fill both fields with new random keys"));
    auto *sasForm = new QFormLayout(sasPage);
    sasForm->setContentsMargins(0, 0, 0, 0);
    sasForm->addRow(m_generateKeys);
    sasForm->addRow(tr("Primary key:"), withError(m_primaryKey, m_primaryKeyError, randomKeys));
    sasForm->addRow(tr("Secondary key:"), withError(m_secondaryKey, m_secondaryKeyError));

    // Self-signed certificate thumbprints.
    auto *selfSignedPage = new QWidget(this);
    m_primaryThumbprint->setPlaceholderText(tr("SHA-1 or SHA-256, hexadecimal"));
    m_primaryThumbprint->setAccessibleName(tr("Primary thumbprint"));
    m_secondaryThumbprint->setPlaceholderText(tr("optional"));
    m_secondaryThumbprint->setAccessibleName(tr("Secondary thumbprint"));
    auto *primaryFile = new QToolButton(this);
    primaryFile->setText(tr("From Certificate…"));
    auto *secondaryFile = new QToolButton(this);
    secondaryFile->setText(tr("From Certificate…"));
    auto *selfSignedColumn = new QVBoxLayout(selfSignedPage);
    selfSignedColumn->setContentsMargins(0, 0, 0, 0);
    selfSignedColumn->addWidget(m_generateCertificate);
    selfSignedColumn->addWidget(m_thumbprints);
    auto *selfSignedForm = new QFormLayout(m_thumbprints);
    selfSignedForm->setContentsMargins(0, 0, 0, 0);
    selfSignedForm->addRow(
        tr("Primary thumbprint:"), withError(m_primaryThumbprint, m_primaryThumbprintError, primaryFile));
    selfSignedForm->addRow(
        tr("Secondary thumbprint:"), withError(m_secondaryThumbprint, m_secondaryThumbprintError, secondaryFile));

    // CA-signed: nothing to enter.
    auto *caText
        = new QLabel(tr("The device presents a certificate whose subject (CN) is its device ID, signed by a CA "
                        "certificate that was uploaded to the hub and verified there."),
            this);
    caText->setWordWrap(true);

    m_authPages->addWidget(sasPage);
    m_authPages->addWidget(selfSignedPage);
    m_authPages->addWidget(caText);

    m_enabled->setChecked(true);
    m_progress->setRange(0, 0);
    m_progress->setTextVisible(false);
    m_progress->hide();
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Create"));

    auto *form = new QFormLayout;
    form->addRow(tr("Device &ID:"), withError(m_id, m_idError));
    form->addRow(tr("Authentication:"), authRow);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_authPages);
    layout->addWidget(m_enabled);
    layout->addStretch(1);
    layout->addWidget(m_failure);
    layout->addWidget(m_progress);
    layout->addWidget(m_buttons);

    connect(m_auth, &QButtonGroup::idClicked, this, [this](int id) {
        m_authPages->setCurrentIndex(id);
        revalidate();
    });
    for (QLineEdit *edit : {m_id, m_primaryKey, m_secondaryKey, m_primaryThumbprint, m_secondaryThumbprint})
        connect(edit, &QLineEdit::textChanged, this, &CreateDeviceDialog::revalidate);
    connect(m_generateKeys, &QCheckBox::toggled, this, &CreateDeviceDialog::revalidate);
    connect(m_generateCertificate, &QCheckBox::toggled, this, &CreateDeviceDialog::revalidate);
    connect(randomKeys, &QToolButton::clicked, this, [this] {
        m_generateKeys->setChecked(false);
        m_primaryKey->setText(DeviceDraft::randomKey());
        m_secondaryKey->setText(DeviceDraft::randomKey());
    });
    const auto browse = [this](bool secondary) {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Device Certificate"), {}, tr("Certificates (*.pem *.crt *.cer *.der);;All files (*)"));
        if (!path.isEmpty())
            takeThumbprintFromFile(path, secondary);
    };
    connect(primaryFile, &QToolButton::clicked, this, [browse] { browse(false); });
    connect(secondaryFile, &QToolButton::clicked, this, [browse] { browse(true); });
    connect(m_buttons, &QDialogButtonBox::accepted, this, &CreateDeviceDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &CreateDeviceDialog::reject);

    revalidate();
}

DeviceDraft CreateDeviceDialog::draft() const
{
    DeviceDraft d;
    d.id = m_id->text().trimmed();
    d.auth = DeviceDraft::Auth(m_auth->checkedId());
    d.enabled = m_enabled->isChecked();
    d.generateKeys = m_generateKeys->isChecked();
    d.generateCertificate = m_generateCertificate->isChecked();
    d.primaryKey = m_primaryKey->text().trimmed();
    d.secondaryKey = m_secondaryKey->text().trimmed();
    d.primaryThumbprint = m_primaryThumbprint->text().trimmed();
    d.secondaryThumbprint = m_secondaryThumbprint->text().trimmed();
    return d;
}

void CreateDeviceDialog::setDraft(const DeviceDraft &draft)
{
    m_id->setText(draft.id);
    m_auth->button(int(draft.auth))->setChecked(true);
    m_authPages->setCurrentIndex(int(draft.auth));
    m_enabled->setChecked(draft.enabled);
    m_generateKeys->setChecked(draft.generateKeys);
    m_generateCertificate->setChecked(draft.generateCertificate);
    m_primaryKey->setText(draft.primaryKey);
    m_secondaryKey->setText(draft.secondaryKey);
    m_primaryThumbprint->setText(draft.primaryThumbprint);
    m_secondaryThumbprint->setText(draft.secondaryThumbprint);
    revalidate();
}

QLabel *CreateDeviceDialog::errorLabel(DeviceDraft::Field field) const
{
    switch (field) {
    case DeviceDraft::Field::Id: return m_idError;
    case DeviceDraft::Field::PrimaryKey: return m_primaryKeyError;
    case DeviceDraft::Field::SecondaryKey: return m_secondaryKeyError;
    case DeviceDraft::Field::PrimaryThumbprint: return m_primaryThumbprintError;
    case DeviceDraft::Field::SecondaryThumbprint: return m_secondaryThumbprintError;
    }
    return m_failure;
}

QString CreateDeviceDialog::fieldError(DeviceDraft::Field field) const
{
    return errorLabel(field)->isVisible() || !errorLabel(field)->text().isEmpty() ? errorLabel(field)->text()
                                                                                  : QString();
}

QString CreateDeviceDialog::failure() const
{
    return m_failure->text();
}

bool CreateDeviceDialog::canCreate() const
{
    return !m_busy && draft().problems().isEmpty();
}

void CreateDeviceDialog::revalidate()
{
    const DeviceDraft d = draft();
    m_primaryKey->setEnabled(!d.generateKeys);
    m_secondaryKey->setEnabled(!d.generateKeys);
    m_thumbprints->setEnabled(!d.generateCertificate);
    // A field's problem is shown once the user has typed into it; an empty required field only
    // keeps Create disabled.
    const QList<std::pair<DeviceDraft::Field, QString>> fields{{DeviceDraft::Field::Id, d.id},
        {DeviceDraft::Field::PrimaryKey, d.primaryKey}, {DeviceDraft::Field::SecondaryKey, d.secondaryKey},
        {DeviceDraft::Field::PrimaryThumbprint, d.primaryThumbprint},
        {DeviceDraft::Field::SecondaryThumbprint, d.secondaryThumbprint}};
    for (const auto &[field, text] : fields)
        FieldError::show(errorLabel(field), text.isEmpty() ? QString() : d.problem(field));
    FieldError::show(m_failure, {});
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(canCreate());
}

void CreateDeviceDialog::takeThumbprintFromFile(const QString &path, bool secondary)
{
    const Result<QString> thumbprint = DeviceDraft::thumbprintFromCertificateFile(path);
    if (!thumbprint) {
        FieldError::show(
            errorLabel(secondary ? DeviceDraft::Field::SecondaryThumbprint : DeviceDraft::Field::PrimaryThumbprint),
            thumbprint.error().message);
        return;
    }
    m_auth->button(int(DeviceDraft::Auth::SelfSigned))->setChecked(true);
    m_authPages->setCurrentIndex(int(DeviceDraft::Auth::SelfSigned));
    thumbprintEdit(secondary)->setText(*thumbprint);
    revalidate();
}

void CreateDeviceDialog::setBusy(bool busy)
{
    m_busy = busy;
    m_progress->setVisible(busy);
    for (QWidget *widget :
        {static_cast<QWidget *>(m_id), static_cast<QWidget *>(m_authPages), static_cast<QWidget *>(m_enabled)})
        widget->setEnabled(!busy);
    for (QAbstractButton *button : m_auth->buttons())
        button->setEnabled(!busy);
    // One short request that cannot be taken back halfway: the dialog waits for its answer.
    m_buttons->button(QDialogButtonBox::Cancel)->setEnabled(!busy);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(canCreate());
}

void CreateDeviceDialog::accept()
{
    const DeviceDraft d = draft();
    if (!d.problems().isEmpty() || m_busy) {
        for (const DeviceDraft::Problem &problem : d.problems())
            FieldError::show(errorLabel(problem.field), problem.message);
        return;
    }
    setBusy(true);
    if (d.auth != DeviceDraft::Auth::SelfSigned || !d.generateCertificate) {
        registerDevice(d.toIdentity(), false);
        return;
    }
    // The key and certificate first (keychain and data dir), then the device with its thumbprint; if
    // the hub refuses the device, the credential is removed again, so nothing is left behind.
    m_credentials.generate(m_hubName, d.id, {}).then(this, [this, d](Result<CredentialRecord> made) {
        if (!made) {
            setBusy(false);
            FieldError::show(m_failure, made.error().message);
            return;
        }
        DeviceIdentity device = d.toIdentity();
        device.primaryThumbprint = made->thumbprintSha1;
        device.secondaryThumbprint.clear();
        registerDevice(device, true);
    });
}

void CreateDeviceDialog::registerDevice(const DeviceIdentity &device, bool madeCredential)
{
    m_client.createDevice(device).then(this, [this, madeCredential, id = device.id](Result<DeviceIdentity> created) {
        if (created) {
            setBusy(false);
            m_created = *created;
            QDialog::accept();
            return;
        }
        const Error &error = created.error();
        const bool aboutId = error.kind == ErrorKind::Conflict || error.code == QStringLiteral("ArgumentInvalid");
        if (!madeCredential) {
            setBusy(false);
            FieldError::show(aboutId ? m_idError : m_failure, error.message);
            return;
        }
        m_credentials.remove(m_hubName, id).then(this, [this, error, aboutId](Result<void> removed) {
            setBusy(false);
            const QString cleanup = removed
                ? tr("The key and certificate made for it were removed again.")
                : tr("The key and certificate made for it could not be removed: %1").arg(removed.error().message);
            FieldError::show(aboutId ? m_idError : m_failure, error.message + u' ' + cleanup);
        });
    });
}

} // namespace Onboarder
