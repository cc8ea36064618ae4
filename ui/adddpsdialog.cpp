#include "adddpsdialog.h"

#include "common/continuation.h"
#include "dps/dpsstore.h"
#include "fielderror.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace Onboarder {

AddDpsDialog::AddDpsDialog(DpsStore &store, QWidget *parent)
    : QDialog(parent)
    , m_store(store)
    , m_name(new QLineEdit(this))
    , m_connectionString(new QLineEdit(this))
    , m_idScope(new QLineEdit(this))
    , m_address(new QLineEdit(this))
    , m_restPort(new QSpinBox(this))
    , m_mqttPort(new QSpinBox(this))
    , m_caFile(new QLineEdit(this))
    , m_error(FieldError::create(this))
    , m_failure(FieldError::create(this))
    , m_progress(new QProgressBar(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("Add Device Provisioning Service"));
    auto *intro = new QLabel(
        tr("Paste the connection string of one of the DPS's shared access policies (Azure portal: the DPS → "
           "Shared access policies, e.g. provisioningserviceowner) and its ID scope (its Overview page). "
           "The connection string is kept in the system keychain only."),
        this);
    intro->setWordWrap(true);
    m_connectionString->setEchoMode(QLineEdit::Password);
    m_connectionString->setPlaceholderText(
        QStringLiteral("HostName=…azure-devices-provisioning.net;SharedAccessKeyName=…;SharedAccessKey=…"));
    m_idScope->setPlaceholderText(QStringLiteral("0ne00ABCDEF"));
    m_address->setPlaceholderText(tr("Azure's hosts"));
    for (QSpinBox *port : {m_restPort, m_mqttPort}) {
        port->setRange(0, 65535);
        port->setSpecialValueText(tr("default"));
    }
    m_caFile->setPlaceholderText(tr("system CAs only"));
    m_progress->setRange(0, 0);
    m_progress->setFormat(tr("Saving the key in the system keychain…"));
    m_progress->setTextVisible(true);
    m_progress->hide();

    auto *form = new QFormLayout;
    form->addRow(tr("&Name:"), m_name);
    form->addRow(tr("&Connection string:"), m_connectionString);
    form->addRow(tr("&ID scope:"), m_idScope);
    auto *sandbox = new QGroupBox(tr("A sandbox or private endpoint"), this);
    auto *sandboxForm = new QFormLayout(sandbox);
    sandboxForm->addRow(tr("&Address:"), m_address);
    sandboxForm->addRow(tr("&REST port:"), m_restPort);
    sandboxForm->addRow(tr("&MQTT port:"), m_mqttPort);
    sandboxForm->addRow(tr("C&A file:"), m_caFile);

    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Add"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(form);
    layout->addWidget(sandbox);
    layout->addWidget(m_error);
    layout->addWidget(m_failure);
    layout->addWidget(m_progress);
    layout->addWidget(m_buttons);
    resize(560, sizeHint().height());

    for (QLineEdit *edit : {m_name, m_connectionString, m_idScope, m_address, m_caFile})
        connect(edit, &QLineEdit::textChanged, this, &AddDpsDialog::revalidate);
    for (QSpinBox *port : {m_restPort, m_mqttPort})
        connect(port, &QSpinBox::valueChanged, this, &AddDpsDialog::revalidate);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &AddDpsDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &AddDpsDialog::reject);
    revalidate();
}

void AddDpsDialog::setName(const QString &name)
{
    m_name->setText(name);
}
void AddDpsDialog::setConnectionString(const QString &text)
{
    m_connectionString->setText(text);
}
void AddDpsDialog::setIdScope(const QString &scope)
{
    m_idScope->setText(scope);
}

void AddDpsDialog::setSandbox(const QString &address, int restPort, int mqttPort, const QString &caFile)
{
    m_address->setText(address);
    m_restPort->setValue(restPort);
    m_mqttPort->setValue(mqttPort);
    m_caFile->setText(caFile);
}

bool AddDpsDialog::canAdd() const
{
    return m_buttons->button(QDialogButtonBox::Ok)->isEnabled();
}

DpsEndpoint AddDpsDialog::endpoint() const
{
    return DpsEndpoint{m_idScope->text().trimmed(), m_restPort->value(), m_mqttPort->value(),
        m_address->text().trimmed(), m_caFile->text().trimmed()};
}

void AddDpsDialog::revalidate()
{
    FieldError::show(m_failure, QString());
    const bool typed = !m_name->text().isEmpty() && !m_connectionString->text().isEmpty();
    const auto checked = m_store.validate(m_name->text().trimmed(), m_connectionString->text().trimmed(), endpoint());
    // Nothing typed yet is not an error to show.
    FieldError::show(m_error, typed && !checked ? checked.error().message : QString());
    FieldError::fitHeight(this);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(typed && checked.has_value() && !m_busy);
}

void AddDpsDialog::setBusy(bool busy)
{
    m_busy = busy;
    for (QWidget *field : std::initializer_list<QWidget *>{
             m_name, m_connectionString, m_idScope, m_address, m_restPort, m_mqttPort, m_caFile})
        field->setEnabled(!busy);
    m_progress->setVisible(busy);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(!busy);
}

void AddDpsDialog::accept()
{
    if (m_busy || !canAdd())
        return;
    setBusy(true);
    whenFinished(m_store.add(m_name->text().trimmed(), m_connectionString->text().trimmed(), endpoint()), this,
        [this](const Result<DpsProfile> &added) {
            setBusy(false);
            if (!added) {
                revalidate();
                FieldError::show(m_failure, added.error().message);
                FieldError::fitHeight(this);
                return;
            }
            m_added = *added;
            m_connectionString->clear();
            QDialog::accept();
        });
}

} // namespace Onboarder
