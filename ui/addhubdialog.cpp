#include "addhubdialog.h"

#include "fielderror.h"
#include "hub/connectionstring.h"
#include "hub/hubstore.h"
#include "hub/identifiers.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

namespace Onboarder {

namespace {

bool isEndpointError(const QString &code)
{
    return code == QStringLiteral("InvalidPort") || code.startsWith(QStringLiteral("CaFile"));
}

} // namespace

AddHubDialog::AddHubDialog(HubStore &hubs, QWidget *parent)
    : QDialog(parent)
    , m_hubs(hubs)
    , m_name(new QLineEdit(this))
    , m_nameError(FieldError::create(this))
    , m_connectionString(new QLineEdit(this))
    , m_reveal(new QToolButton(this))
    , m_paste(new QToolButton(this))
    , m_connectionStringError(FieldError::create(this))
    , m_summary(new QLabel(this))
    , m_advanced(new QGroupBox(tr("Custom endpoint (sandbox or gateway)"), this))
    , m_restPort(new QSpinBox(this))
    , m_mqttPort(new QSpinBox(this))
    , m_amqpPort(new QSpinBox(this))
    , m_caFile(new QLineEdit(this))
    , m_endpointError(FieldError::create(this))
    , m_network(new QGroupBox(tr("Network"), this))
    , m_webSockets(new QCheckBox(tr("MQTT and AMQP over &WebSockets (port 443)"), this))
    , m_proxy(new QLineEdit(this))
    , m_proxyError(FieldError::create(this))
    , m_failure(FieldError::create(this))
    , m_progress(new QProgressBar(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("Add Hub"));
    setMinimumWidth(560);

    auto *intro = new QLabel(tr("Paste the connection string of one of the hub's shared access policies. In the Azure "
                                "portal: IoT Hub → Security settings → Shared access policies → iothubowner → "
                                "Primary connection string."),
        this);
    intro->setWordWrap(true);

    setUpEndpointGroup();
    setUpNetworkGroup();
    QFormLayout *form = createHubForm();

    m_progress->setRange(0, 0);
    m_progress->setTextVisible(false);
    m_progress->hide();

    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Add"));

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addSpacing(6);
    layout->addLayout(form);
    layout->addWidget(m_advanced);
    layout->addWidget(m_network);
    layout->addWidget(m_failure);
    layout->addWidget(m_progress);
    layout->addStretch(1);
    layout->addWidget(m_buttons);

    connectFields();
    revalidate();
}

// The name and the connection string, each with its message right below it.
QFormLayout *AddHubDialog::createHubForm()
{
    m_name->setPlaceholderText(tr("e.g. production"));
    m_name->setAccessibleName(tr("Hub name"));

    m_connectionString->setEchoMode(QLineEdit::Password);
    m_connectionString->setPlaceholderText(
        QStringLiteral("HostName=….azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=…"));
    m_connectionString->setAccessibleName(tr("Connection string"));
    m_connectionString->setClearButtonEnabled(true);

    m_reveal->setCheckable(true);
    m_reveal->setText(tr("Show"));
    m_reveal->setToolTip(tr("Show or hide the connection string"));
    m_paste->setText(tr("Paste"));
    m_paste->setToolTip(tr("Paste the connection string from the clipboard"));

    auto *csRow = new QHBoxLayout;
    csRow->addWidget(m_connectionString, 1);
    csRow->addWidget(m_reveal);
    csRow->addWidget(m_paste);

    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setForegroundRole(QPalette::PlaceholderText);

    // Each field with its message right below it; hidden messages take no room.
    auto *nameColumn = new QVBoxLayout;
    nameColumn->setSpacing(2);
    nameColumn->addWidget(m_name);
    nameColumn->addWidget(m_nameError);
    auto *csColumn = new QVBoxLayout;
    csColumn->setSpacing(2);
    csColumn->addLayout(csRow);
    csColumn->addWidget(m_connectionStringError);
    csColumn->addWidget(m_summary);
    auto *nameLabel = new QLabel(tr("&Name:"), this);
    nameLabel->setBuddy(m_name);
    auto *csLabel = new QLabel(tr("&Connection string:"), this);
    csLabel->setBuddy(m_connectionString);

    auto *form = new QFormLayout;
    form->addRow(nameLabel, nameColumn);
    form->addRow(csLabel, csColumn);
    return form;
}

// The custom endpoint (sandbox or gateway): ports and a CA of its own.
void AddHubDialog::setUpEndpointGroup()
{
    m_restPort->setRange(0, 65535);
    m_restPort->setSpecialValueText(tr("443 (Azure)"));
    m_mqttPort->setRange(0, 65535);
    m_mqttPort->setSpecialValueText(tr("8883 (Azure)"));
    m_amqpPort->setRange(0, 65535);
    m_amqpPort->setSpecialValueText(tr("5671 (Azure)"));
    m_caFile->setPlaceholderText(tr("System certificates"));
    auto *browse = new QToolButton(this);
    browse->setText(tr("Browse…"));
    auto *caRow = new QHBoxLayout;
    caRow->addWidget(m_caFile, 1);
    caRow->addWidget(browse);

    auto *caColumn = new QVBoxLayout;
    caColumn->setSpacing(2);
    caColumn->addLayout(caRow);
    caColumn->addWidget(m_endpointError);
    auto *caLabel = new QLabel(tr("Trusted &CA:"), this);
    caLabel->setBuddy(m_caFile);
    auto *advancedForm = new QFormLayout(m_advanced);
    advancedForm->addRow(tr("&REST port:"), m_restPort);
    advancedForm->addRow(tr("&MQTT port:"), m_mqttPort);
    advancedForm->addRow(tr("AM&QP port:"), m_amqpPort);
    advancedForm->addRow(caLabel, caColumn);
    m_advanced->setCheckable(true);
    m_advanced->setChecked(false);
    connect(browse, &QToolButton::clicked, this, &AddHubDialog::browseCaFile);
}

void AddHubDialog::setUpNetworkGroup()
{
    m_webSockets->setToolTip(
        tr("For networks that let only HTTPS out: every connection to this hub then uses port 443 (the "
           "REST port of a custom endpoint)."));
    m_proxy->setPlaceholderText(tr("None: connect directly"));
    m_proxy->setToolTip(
        tr("An HTTP proxy that tunnels with CONNECT, as http://HOST:PORT. REST, MQTT and AMQP all go through it."));
    auto *proxyColumn = new QVBoxLayout;
    proxyColumn->setSpacing(2);
    proxyColumn->addWidget(m_proxy);
    proxyColumn->addWidget(m_proxyError);
    auto *proxyLabel = new QLabel(tr("HTTP &proxy:"), this);
    proxyLabel->setBuddy(m_proxy);
    auto *networkForm = new QFormLayout(m_network);
    networkForm->addRow(m_webSockets);
    networkForm->addRow(proxyLabel, proxyColumn);
}

void AddHubDialog::connectFields()
{
    connect(m_name, &QLineEdit::textChanged, this, &AddHubDialog::revalidate);
    connect(m_connectionString, &QLineEdit::textChanged, this, &AddHubDialog::revalidate);
    connect(m_restPort, &QSpinBox::valueChanged, this, &AddHubDialog::revalidate);
    connect(m_mqttPort, &QSpinBox::valueChanged, this, &AddHubDialog::revalidate);
    connect(m_amqpPort, &QSpinBox::valueChanged, this, &AddHubDialog::revalidate);
    connect(m_caFile, &QLineEdit::textChanged, this, &AddHubDialog::revalidate);
    connect(m_proxy, &QLineEdit::textChanged, this, &AddHubDialog::revalidate);
    connect(m_advanced, &QGroupBox::toggled, this, &AddHubDialog::revalidate);
    connect(m_reveal, &QToolButton::toggled, this, [this](bool shown) {
        m_connectionString->setEchoMode(shown ? QLineEdit::Normal : QLineEdit::Password);
        m_reveal->setText(shown ? tr("Hide") : tr("Show"));
    });
    connect(m_paste, &QToolButton::clicked, this,
        [this] { m_connectionString->setText(QApplication::clipboard()->text().trimmed()); });
    connect(m_buttons, &QDialogButtonBox::accepted, this, &AddHubDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &AddHubDialog::reject);
}

void AddHubDialog::setName(const QString &name)
{
    m_name->setText(name);
}

void AddHubDialog::setConnectionString(const QString &text)
{
    m_connectionString->setText(text);
}

void AddHubDialog::setNetwork(bool webSockets, const QString &proxy)
{
    m_webSockets->setChecked(webSockets);
    m_proxy->setText(proxy);
}

void AddHubDialog::setEndpoint(int restPort, int mqttPort, const QString &caFile, int amqpPort)
{
    m_advanced->setChecked(true);
    m_restPort->setValue(restPort);
    m_mqttPort->setValue(mqttPort);
    m_amqpPort->setValue(amqpPort);
    m_caFile->setText(caFile);
}

QString AddHubDialog::nameError() const
{
    return m_nameError->text();
}

QString AddHubDialog::connectionStringError() const
{
    return m_connectionStringError->text();
}

bool AddHubDialog::canAdd() const
{
    return m_buttons->button(QDialogButtonBox::Ok)->isEnabled();
}

HubEndpoint AddHubDialog::endpoint() const
{
    // The custom endpoint counts only while its group is checked; the network settings always.
    HubEndpoint endpoint;
    if (m_advanced->isChecked()) {
        endpoint.restPort = m_restPort->value();
        endpoint.mqttPort = m_mqttPort->value();
        endpoint.caFile = m_caFile->text().trimmed();
        endpoint.amqpPort = m_amqpPort->value();
    }
    endpoint.webSockets = m_webSockets->isChecked();
    const QString proxy = m_proxy->text().trimmed();
    if (!proxy.isEmpty())
        endpoint.proxy = QUrl(proxy, QUrl::StrictMode);
    return endpoint;
}

void AddHubDialog::revalidate()
{
    FieldError::show(m_failure, QString());
    const QString name = m_name->text();
    const QString text = m_connectionString->text();

    // A field the user has not touched yet shows no complaint, only the greyed Add button.
    QString nameProblem;
    if (!name.isEmpty()) {
        if (auto ok = Identifiers::validateHubProfileName(name); !ok)
            nameProblem = ok.error().message;
        else if (m_hubs.find(name))
            nameProblem = tr("A hub named \"%1\" exists already.").arg(name);
    }
    FieldError::show(m_nameError, nameProblem);

    QString csProblem;
    m_summary->clear();
    if (!text.isEmpty()) {
        if (const auto parsed = ConnectionString::parse(text); !parsed) {
            csProblem = parsed.error().message;
        } else if (parsed->kind() != ConnectionString::Kind::Service) {
            csProblem = tr("This is a %1 connection string. A hub needs a shared access policy's connection string, "
                           "with SharedAccessKeyName.")
                            .arg(ConnectionString::kindName(parsed->kind()));
        } else {
            m_summary->setText(tr("Hub %1 on %2, policy %3.")
                                   .arg(parsed->hubName(), parsed->hostName(), parsed->sharedAccessKeyName()));
        }
    }
    FieldError::show(m_connectionStringError, csProblem);

    QString endpointProblem;
    const auto all = m_hubs.validate(name, text, endpoint());
    if (!all && isEndpointError(all.error().code) && nameProblem.isEmpty() && csProblem.isEmpty())
        endpointProblem = all.error().message;
    FieldError::show(m_endpointError, endpointProblem);
    FieldError::show(
        m_proxyError, !all && all.error().code == QLatin1String("ProxyInvalid") ? all.error().message : QString());

    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(all.has_value() && !m_busy);
}

void AddHubDialog::setBusy(bool busy)
{
    m_busy = busy;
    m_name->setEnabled(!busy);
    m_connectionString->setEnabled(!busy);
    m_paste->setEnabled(!busy);
    m_advanced->setEnabled(!busy);
    m_network->setEnabled(!busy);
    m_progress->setVisible(busy);
    m_progress->setFormat(tr("Saving the key in the system keychain…"));
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(!busy);
}

void AddHubDialog::accept()
{
    if (m_busy || !canAdd())
        return;
    setBusy(true);
    m_hubs.add(m_name->text(), m_connectionString->text(), endpoint()).then(this, [this](Result<HubProfile> added) {
        setBusy(false);
        if (!added) {
            FieldError::show(m_failure, added.error().message);
            revalidate();
            FieldError::show(m_failure, added.error().message);
            return;
        }
        m_added = *added;
        m_connectionString->clear();
        QDialog::accept();
    });
}

void AddHubDialog::browseCaFile()
{
    const QString file = QFileDialog::getOpenFileName(
        this, tr("Trusted CA certificate"), QString(), tr("PEM certificates (*.pem *.crt);;All files (*)"));
    if (!file.isEmpty())
        m_caFile->setText(file);
}

} // namespace Onboarder
