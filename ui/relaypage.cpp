#include "relaypage.h"

#include "credentials/secretstore.h"
#include "hub/hubstore.h"
#include "pageheader.h"
#include "fielderror.h"
#include "relay/relay.h"
#include "relay/relayconfig.h"
#include "relay/relaythread.h"
#include "relaycharts.h"

#include <QDateTime>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QSplitter>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace Onboarder {

namespace {

enum Column { DeviceColumn, StateColumn, LastColumn, InColumn, OutColumn, WaitingColumn, PayloadColumn, ColumnCount };

QString preview(const QByteArray &payload)
{
    QString text = QString::fromUtf8(payload).simplified();
    return text.size() > 80 ? text.left(79) + u'…' : text;
}

} // namespace

RelayPage::RelayPage(HubStore &hubs, SecretStore &secrets, CredentialStore &credentials, QWidget *parent)
    : QWidget(parent)
    , m_hubs(hubs)
    , m_secrets(secrets)
    , m_credentials(credentials)
    , m_relay(new RelayThread(this))
    , m_path(new QLineEdit(this))
    , m_editor(new QPlainTextEdit(this))
    , m_configError(FieldError::create(this))
    , m_save(new QPushButton(tr("Save"), this))
    , m_start(new QPushButton(tr("Start"), this))
    , m_stop(new QPushButton(tr("Stop"), this))
    , m_summary(new QLabel(this))
    , m_table(new QTableWidget(this))
    , m_charts(new RelayCharts(this))
{
    auto *header = new PageHeader(tr("Relay"),
                                  tr("Forwards what local sensors publish to a local MQTT broker to the hub, each sensor "
                                     "as its own device, without losing a message when the network or a broker fails."),
                                  this);
    m_path->setPlaceholderText(tr("relay configuration (JSON)"));
    m_path->setAccessibleName(tr("Configuration file"));
    auto *browse = new QToolButton(this);
    browse->setText(tr("Open…"));
    auto *pathRow = new QHBoxLayout;
    pathRow->addWidget(new QLabel(tr("Configuration:"), this));
    pathRow->addWidget(m_path, 1);
    pathRow->addWidget(browse);
    pathRow->addWidget(m_save);
    pathRow->addSpacing(12);
    pathRow->addWidget(m_start);
    pathRow->addWidget(m_stop);

    m_editor->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_editor->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_editor->setAccessibleName(tr("Relay configuration"));
    m_editor->setPlaceholderText(tr("{ \"hub\": \"sandbox\", \"source\": { \"url\": \"mqtt://127.0.0.1:1883\", \"topics\": "
                                    "[\"sensors/+/telemetry\"] }, \"deviceIdFromTopic\": \"sensors/{deviceId}/telemetry\" }"));
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setWordWrap(true);

    m_table->setColumnCount(ColumnCount);
    m_table->setHorizontalHeaderLabels({tr("Device"), tr("State"), tr("Last Message"), tr("In"), tr("Out"), tr("Waiting"),
                                        tr("Last Payload")});
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAlternatingRowColors(true);
    m_table->setSortingEnabled(true);
    m_table->setWordWrap(false); // one line per device; the payload preview is cut at the column's end
    m_table->horizontalHeader()->setSectionResizeMode(PayloadColumn, QHeaderView::Stretch);
    m_table->setColumnWidth(DeviceColumn, 170);
    m_table->setColumnWidth(StateColumn, 100);
    m_table->setColumnWidth(LastColumn, 90);
    for (int column : {InColumn, OutColumn, WaitingColumn})
        m_table->setColumnWidth(column, 70);
    m_table->setAccessibleName(tr("Relayed devices"));

    auto *configPane = new QWidget(this);
    auto *configLayout = new QVBoxLayout(configPane);
    configLayout->setContentsMargins(0, 0, 0, 0);
    configLayout->addWidget(m_editor, 1);
    configLayout->addWidget(m_configError);
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(configPane);
    splitter->addWidget(m_table);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 2);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(header);
    layout->addLayout(pathRow);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_charts);
    layout->addWidget(m_summary);

    connect(browse, &QToolButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Relay Configuration"), {}, tr("JSON files (*.json);;All files (*)"));
        if (!path.isEmpty())
            setConfigPath(path);
    });
    connect(m_path, &QLineEdit::editingFinished, this, &RelayPage::load);
    connect(m_save, &QPushButton::clicked, this, &RelayPage::save);
    connect(m_start, &QPushButton::clicked, this, &RelayPage::start);
    connect(m_stop, &QPushButton::clicked, this, &RelayPage::stop);
    connect(m_editor, &QPlainTextEdit::textChanged, this, [this] {
        if (!m_configError->text().isEmpty())
            validate();
        updateState();
    });

    connect(m_relay, &RelayThread::metricsUpdated, this, &RelayPage::showMetrics);
    connect(m_relay, &RelayThread::errorOccurred, this, [this](const Error &error) {
        m_summary->setText(error.message);
        Q_EMIT statusMessage(error.message);
    });
    connect(m_relay, &RelayThread::started, this, [this] {
        m_starting = false;
        m_summary->setText(tr("Running."));
        updateState();
    });
    connect(m_relay, &RelayThread::startFailed, this, [this](const Error &error) { fail(error.message); });
    connect(m_relay, &RelayThread::stopped, this, [this] {
        m_summary->setText(tr("Stopped. What the relay had taken is in its outbox; the local broker keeps the rest "
                              "for the next start."));
        updateState();
        Q_EMIT relayStopped();
    });
    updateState();
}

// The RelayThread (a child) stops a relay that still runs: what was taken is stored and acknowledged, the
// local broker keeps the rest for the next start.
RelayPage::~RelayPage() = default;

void RelayPage::setConfigPath(const QString &path)
{
    m_path->setText(path);
    load();
}

void RelayPage::load()
{
    const QString path = m_path->text().trimmed();
    if (path.isEmpty())
        return;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        FieldError::show(m_configError, tr("Cannot read %1: %2").arg(path, file.errorString()));
        return;
    }
    m_editor->setPlainText(QString::fromUtf8(file.readAll()));
    validate();
}

bool RelayPage::validate()
{
    const QString base = m_path->text().isEmpty() ? QString() : QFileInfo(m_path->text()).absolutePath();
    const Result<RelayConfig> config = RelayConfig::parse(m_editor->toPlainText().toUtf8(), base);
    QString problem = config ? QString() : config.error().message;
    if (config && !m_hubs.find(config->hub))
        problem = tr("There is no hub named \"%1\" here; add it on the Hubs page.").arg(config->hub);
    FieldError::show(m_configError, problem);
    return problem.isEmpty();
}

bool RelayPage::save()
{
    const QString path = m_path->text().trimmed();
    if (path.isEmpty()) {
        FieldError::show(m_configError, tr("Choose the file to save the configuration in."));
        return false;
    }
    if (!validate())
        return false;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(m_editor->toPlainText().toUtf8()) < 0 || !file.commit()) {
        FieldError::show(m_configError, tr("Cannot write %1: %2").arg(path, file.errorString()));
        return false;
    }
    Q_EMIT statusMessage(tr("Saved %1.").arg(path));
    return true;
}

bool RelayPage::isRunning() const
{
    return m_relay->isActive();
}

void RelayPage::fail(const QString &message)
{
    m_starting = false;
    m_summary->setText(message);
    Q_EMIT statusMessage(message);
    updateState();
}

void RelayPage::updateState()
{
    const bool running = isRunning();
    m_start->setEnabled(!running && !m_starting && !m_editor->toPlainText().trimmed().isEmpty());
    m_stop->setEnabled(m_relay->state() == RelayThread::State::Running);
    m_editor->setReadOnly(running || m_starting);
    m_path->setEnabled(!running && !m_starting);
}

void RelayPage::start()
{
    if (isRunning() || m_starting || !validate())
        return;
    const QString base = m_path->text().isEmpty() ? QString() : QFileInfo(m_path->text()).absolutePath();
    const RelayConfig config = *RelayConfig::parse(m_editor->toPlainText().toUtf8(), base);
    const HubProfile profile = *m_hubs.find(config.hub);
    m_starting = true;
    m_summary->setText(tr("Starting: reading the hub's key and the broker's password from the keychain…"));
    updateState();
    m_hubs.connectionString(config.hub).then(this, [this, config, profile](Result<ConnectionString> service) {
        if (!service) {
            fail(service.error().message);
            return;
        }
        Relay::sourcePassword(config, m_secrets).then(this, [this, config, profile, service = *service](Result<QByteArray> password) {
            if (!password) {
                fail(password.error().message);
                return;
            }
            m_table->setRowCount(0);
            m_rows.clear();
            m_charts->clear();
            m_relay->start(config, profile, service, &m_credentials, *password); // started() or startFailed()
            password->fill('\0');
        });
    });
}

void RelayPage::stop()
{
    if (!isRunning())
        return;
    m_summary->setText(tr("Stopping: waiting for the hub to acknowledge what is in flight…"));
    m_stop->setEnabled(false);
    m_relay->stop();
    updateState();
}

void RelayPage::showMetrics(const RelayMetrics &metrics)
{
    m_last = metrics;
    m_charts->add(metrics);
    const QLocale locale;
    m_table->setSortingEnabled(false);
    for (const RelayMetrics::Device &device : metrics.devices) {
        int row;
        if (QTableWidgetItem *item = m_rows.value(device.id)) {
            row = item->row();
        } else {
            row = m_table->rowCount();
            m_table->insertRow(row);
            for (int column = 0; column < ColumnCount; ++column)
                m_table->setItem(row, column, new QTableWidgetItem);
            m_table->item(row, DeviceColumn)->setText(device.id);
            m_rows.insert(device.id, m_table->item(row, DeviceColumn));
        }
        m_table->item(row, StateColumn)->setText(device.lastError.isEmpty() ? device.state : device.lastError);
        m_table->item(row, LastColumn)->setText(
            device.lastMessageMs ? QDateTime::fromMSecsSinceEpoch(device.lastMessageMs).toString(QStringLiteral("HH:mm:ss")) : QString());
        m_table->item(row, InColumn)->setData(Qt::DisplayRole, device.in);
        m_table->item(row, OutColumn)->setData(Qt::DisplayRole, device.out);
        m_table->item(row, WaitingColumn)->setData(Qt::DisplayRole, device.waiting);
        m_table->item(row, PayloadColumn)->setText(preview(device.lastPayload));
    }
    m_table->setSortingEnabled(true);
    QString summary = tr("Broker %1 · %2 in, %3 delivered · %4 msg/s in, %5 msg/s out · outbox %6 of %7 · %8 hub sessions · "
                         "latency p50 %9 ms")
                          .arg(metrics.sourceState, locale.toString(metrics.inTotal), locale.toString(metrics.outTotal))
                          .arg(metrics.inPerSecond, 0, 'f', 1)
                          .arg(metrics.outPerSecond, 0, 'f', 1)
                          .arg(locale.toString(metrics.outboxDepth), locale.toString(metrics.outboxLimit))
                          .arg(metrics.sessions)
                          .arg(metrics.latencyP50Ms, 0, 'f', 1);
    if (metrics.outboxFull)
        summary += tr(" · the outbox is full: %1 messages are held at the broker until the hub takes some").arg(metrics.held);
    if (metrics.unroutable > 0)
        summary += tr(" · %1 without a device id were dropped").arg(metrics.unroutable);
    m_summary->setText(summary);
}

} // namespace Onboarder
