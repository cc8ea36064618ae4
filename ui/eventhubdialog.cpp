#include "eventhubdialog.h"

#include "amqp/eventhubreader.h"
#include "common/continuation.h"
#include "fielderror.h"
#include "hub/hubstore.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace Onboarder {

EventHubDialog::EventHubDialog(HubStore &hubs, const QString &hubName, QWidget *parent)
    : QDialog(parent)
    , m_hubs(hubs)
    , m_hubName(hubName)
    , m_connectionString(new QLineEdit(this))
    , m_error(FieldError::create(this))
    , m_failure(FieldError::create(this))
    , m_progress(new QProgressBar(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this))
    , m_forget(new QPushButton(tr("Forget"), this))
{
    setWindowTitle(tr("Event Hub-Compatible Endpoint — %1").arg(hubName));
    const auto hub = hubs.find(hubName);
    const bool kept = hub && hub->eventHub;

    auto *intro = new QLabel(kept
            ? tr("Telemetry of hub \"%1\" is read with the Event Hub-compatible connection string kept in the system "
                 "keychain. Paste another one to replace it, or forget it to follow the hub's redirect again.")
                  .arg(hubName)
            : tr("Telemetry of hub \"%1\" is read through the hub's redirect, with its own key. Where that is not "
                 "allowed, "
                 "paste the hub's Event Hub-compatible connection string (Azure portal: the hub → Built-in endpoints); "
                 "it is "
                 "kept in the system keychain only.")
                  .arg(hubName),
        this);
    intro->setWordWrap(true);

    m_connectionString->setEchoMode(QLineEdit::Password);
    m_connectionString->setPlaceholderText(
        QStringLiteral("Endpoint=sb://…/;SharedAccessKeyName=…;SharedAccessKey=…;EntityPath=…"));
    m_connectionString->setAccessibleName(tr("Event Hub-compatible connection string"));
    m_progress->setRange(0, 0);
    m_progress->setTextVisible(true);
    m_progress->hide();

    auto *form = new QFormLayout;
    form->addRow(tr("&Connection string:"), m_connectionString);
    form->addRow(QString(), m_error);

    m_buttons->addButton(m_forget, QDialogButtonBox::DestructiveRole);
    m_forget->setVisible(kept);
    m_forget->setToolTip(tr("Remove the Event Hub-compatible connection string from the keychain"));

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(form);
    layout->addWidget(m_failure);
    layout->addWidget(m_progress);
    layout->addWidget(m_buttons);
    resize(560, sizeHint().height());

    connect(m_connectionString, &QLineEdit::textChanged, this, &EventHubDialog::revalidate);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &EventHubDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &EventHubDialog::reject);
    connect(m_forget, &QPushButton::clicked, this, &EventHubDialog::forget);
    revalidate();
}

void EventHubDialog::setConnectionString(const QString &text)
{
    m_connectionString->setText(text);
}

bool EventHubDialog::canSave() const
{
    return m_buttons->button(QDialogButtonBox::Save)->isEnabled();
}

void EventHubDialog::revalidate()
{
    const QString text = m_connectionString->text().trimmed();
    QString problem;
    if (!text.isEmpty()) {
        if (const auto parsed = EventHubEndpoint::parse(text); !parsed)
            problem = parsed.error().message;
    }
    FieldError::show(m_error, problem);
    FieldError::show(m_failure, QString());
    FieldError::fitHeight(this);
    m_buttons->button(QDialogButtonBox::Save)->setEnabled(!m_busy && !text.isEmpty() && problem.isEmpty());
}

void EventHubDialog::setBusy(bool busy, const QString &what)
{
    m_busy = busy;
    m_connectionString->setEnabled(!busy);
    m_forget->setEnabled(!busy);
    m_progress->setFormat(what);
    m_progress->setVisible(busy);
    if (busy)
        m_buttons->button(QDialogButtonBox::Save)->setEnabled(false);
    else
        revalidate();
}

void EventHubDialog::finish(const QString &error)
{
    setBusy(false);
    if (!error.isEmpty()) {
        FieldError::show(m_failure, error);
        FieldError::fitHeight(this);
        return;
    }
    m_connectionString->clear();
    QDialog::accept();
}

void EventHubDialog::accept()
{
    if (m_busy || !canSave())
        return;
    setBusy(true, tr("Saving the connection string in the system keychain…"));
    whenFinished(m_hubs.setEventHub(m_hubName, m_connectionString->text()), this,
        [this](const Result<void> &saved) { finish(saved ? QString() : saved.error().message); });
}

void EventHubDialog::forget()
{
    if (m_busy)
        return;
    setBusy(true, tr("Removing the connection string from the system keychain…"));
    whenFinished(m_hubs.setEventHub(m_hubName, QString()), this,
        [this](const Result<void> &removed) { finish(removed ? QString() : removed.error().message); });
}

} // namespace Onboarder
