#include "relaypage.h"

#include "common/continuation.h"
#include "credentials/secretstore.h"
#include "fielderror.h"
#include "hub/hubstore.h"
#include "pageheader.h"
#include "relay/relay.h"
#include "relay/relayconfig.h"
#include "relay/relaythread.h"
#include "relaycharts.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFontMetrics>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHash>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QSplitter>
#include <QStyle>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace Onboarder {

namespace {

// The relay's state words (stable names in its metrics and JSON) as the page shows them.
QString stateText(const QString &state)
{
    static const QHash<QString, const char *> texts{
        {QStringLiteral("resolving"), QT_TRANSLATE_NOOP("Onboarder::RelayPage", "resolving")},
        {QStringLiteral("connecting"), QT_TRANSLATE_NOOP("Onboarder::RelayPage", "connecting")},
        {QStringLiteral("connected"), QT_TRANSLATE_NOOP("Onboarder::RelayPage", "connected")},
        {QStringLiteral("waiting"), QT_TRANSLATE_NOOP("Onboarder::RelayPage", "waiting")},
        {QStringLiteral("idle"), QT_TRANSLATE_NOOP("Onboarder::RelayPage", "idle")},
        {QStringLiteral("subscribed"), QT_TRANSLATE_NOOP("Onboarder::RelayPage", "subscribed")},
        {QStringLiteral("disconnected"), QT_TRANSLATE_NOOP("Onboarder::RelayPage", "disconnected")},
    };
    const auto found = texts.constFind(state);
    return found == texts.cend() ? state : QCoreApplication::translate("Onboarder::RelayPage", *found);
}

QString preview(const QByteArray &payload)
{
    QString text = QString::fromUtf8(payload).simplified();
    return text.size() > 80 ? text.left(79) + u'…' : text;
}

QString clockTime(qint64 ms)
{
    return ms ? QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("HH:mm:ss")) : QString();
}

QString clockTimeWithMs(qint64 ms)
{
    return ms ? QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("HH:mm:ss.zzz")) : QString();
}

} // namespace

RelayPage::RelayPage(HubStore &hubs, SecretStore &secrets, CredentialStore &credentials, QWidget *parent)
    : QWidget(parent)
    , m_hubs(hubs)
    , m_secrets(secrets)
    , m_credentials(credentials)
    , m_relay(new RelayThread(this))
    , m_monitor(new HubTelemetryMonitor)
    , m_path(new QLineEdit(this))
    , m_editor(new QPlainTextEdit(this))
    , m_configError(FieldError::create(this))
    , m_save(new QPushButton(tr("Save"), this))
    , m_start(new QPushButton(tr("Start"), this))
    , m_stop(new QPushButton(tr("Stop"), this))
    , m_summary(new QLabel(this))
    , m_table(new QTableWidget(this))
    , m_sentDetails(new QPlainTextEdit(this))
    , m_hubDetails(new QPlainTextEdit(this))
    , m_detailsPane(new QWidget(this))
    , m_hubSummary(new QLabel(this))
    , m_charts(new RelayCharts(this))
{
    auto *header = new PageHeader(tr("Relay"),
        tr("Forwards what local sensors publish to a local MQTT broker to the hub, each sensor "
           "as its own device, without losing a message when the network or a broker fails."),
        this);
    QHBoxLayout *pathRow = createPathRow();
    QWidget *detailsPane = createDetailsPane();
    QWidget *tablePane = createTablePane();
    QWidget *configPane = createConfigPane();
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(configPane);
    splitter->addWidget(tablePane);
    splitter->addWidget(detailsPane);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 3);
    splitter->setStretchFactor(2, 1);
    splitter->setSizes({90, 260, 110}); // scaled to the space there is: most of it for the table
    m_detailsPane->hide(); // until a device is selected: the table gets the room

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(header);
    layout->addLayout(pathRow);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_charts);
    layout->addWidget(m_summary);

    connectMonitor();
    connectRelay();
    updateState();
}

QHBoxLayout *RelayPage::createPathRow()
{
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

    connect(browse, &QToolButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Relay Configuration"), {}, tr("JSON files (*.json);;All files (*)"));
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

    return pathRow;
}

// The configuration editor (with its error line) and the summary line under the charts.
QWidget *RelayPage::createConfigPane()
{
    m_editor->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_editor->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_editor->setAccessibleName(tr("Relay configuration"));
    m_editor->setPlaceholderText(
        tr("{ \"hub\": \"sandbox\", \"source\": { \"url\": \"mqtt://127.0.0.1:1883\", \"topics\": "
           "[\"sensors/+/telemetry\"] }, \"deviceIdFromTopic\": \"sensors/{deviceId}/telemetry\" }"));
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setWordWrap(true);

    auto *configPane = new QWidget(this);
    auto *configLayout = new QVBoxLayout(configPane);
    configLayout->setContentsMargins(0, 0, 0, 0);
    configLayout->addWidget(m_editor, 1);
    configLayout->addWidget(m_configError);
    return configPane;
}

// One row per relayed device, with what the hub received under it.
QWidget *RelayPage::createTablePane()
{
    m_table->setColumnCount(ColumnCount);
    m_table->setHorizontalHeaderLabels({tr("Device"), tr("State"), tr("Last Message"), tr("In"), tr("Out"),
        tr("Waiting"), tr("At Hub"), tr("Last at Hub"), tr("Last Payload")});
    m_table->horizontalHeaderItem(HubCountColumn)
        ->setToolTip(tr("Messages the hub received from the device since the relay started"));
    m_table->horizontalHeaderItem(HubLastColumn)->setToolTip(tr("When the hub received the device's last message"));
    m_table->horizontalHeaderItem(OutColumn)->setToolTip(tr("Messages the hub acknowledged to the relay"));
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setSortingEnabled(true);
    m_table->setWordWrap(false); // one line per device; the payload preview is cut at the column's end
    QHeaderView *columns = m_table->horizontalHeader();
    columns->setSectionResizeMode(PayloadColumn, QHeaderView::Stretch);
    // Wide enough for the values and for the translated title (German titles are longer), the payload
    // preview taking the rest; the sorted column's arrow may cover the end of a long title.
    const QFontMetrics headerFont = columns->fontMetrics();
    const int padding = 2 * columns->style()->pixelMetric(QStyle::PM_HeaderMargin) + 12;
    const auto fit = [this, &headerFont, padding](int column, int minimum) {
        const int title = headerFont.horizontalAdvance(m_table->horizontalHeaderItem(column)->text()) + padding;
        m_table->setColumnWidth(column, std::max(minimum, title));
    };
    const int time = m_table->fontMetrics().horizontalAdvance(QStringLiteral("00:00:00")) + padding;
    fit(DeviceColumn, 140);
    fit(StateColumn, 90);
    fit(LastColumn, time);
    fit(HubLastColumn, time);
    for (int column : {InColumn, OutColumn, WaitingColumn, HubCountColumn})
        fit(column, 56);
    m_table->setAccessibleName(tr("Relayed devices"));

    auto *tablePane = new QWidget(this);
    auto *tableLayout = new QVBoxLayout(tablePane);
    tableLayout->setContentsMargins(0, 0, 0, 0);
    tableLayout->addWidget(m_table, 1);
    tableLayout->addWidget(m_hubSummary);

    connect(m_table, &QTableWidget::itemSelectionChanged, this, &RelayPage::showDetails);

    return tablePane;
}

QWidget *RelayPage::createDetailsPane()
{
    // The selected device: its last message as the relay took it, and as the hub received it.
    const QFont fixed = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    for (QPlainTextEdit *details : {m_sentDetails, m_hubDetails}) {
        details->setReadOnly(true);
        details->setFont(fixed);
        details->setLineWrapMode(QPlainTextEdit::WidgetWidth);
        details->setMaximumBlockCount(200);
    }
    m_sentDetails->setAccessibleName(tr("Last message sent"));
    m_hubDetails->setAccessibleName(tr("Last message received by the hub"));
    m_sentDetails->setPlaceholderText(tr("Select a device to compare its last message with what the hub received."));
    m_hubDetails->setPlaceholderText(
        tr("The selected device's last message as the hub received it, with its properties."));
    auto *sentTitle = new QLabel(tr("Sent by the relay"), this);
    auto *hubTitle = new QLabel(tr("Received by the hub"), this);
    for (QLabel *title : {sentTitle, hubTitle}) {
        QFont bold = title->font();
        bold.setBold(true);
        title->setFont(bold);
    }
    QWidget *detailsPane = m_detailsPane;
    auto *detailsLayout = new QGridLayout(detailsPane);
    detailsLayout->setContentsMargins(0, 0, 0, 0);
    detailsLayout->addWidget(sentTitle, 0, 0);
    detailsLayout->addWidget(hubTitle, 0, 1);
    detailsLayout->addWidget(m_sentDetails, 1, 0);
    detailsLayout->addWidget(m_hubDetails, 1, 1);
    detailsLayout->setColumnStretch(0, 1);
    detailsLayout->setColumnStretch(1, 1);
    m_hubSummary->setTextFormat(Qt::PlainText);
    m_hubSummary->setWordWrap(true);
    m_hubSummary->setAccessibleName(tr("Received by the hub"));
    m_hubSummary->setToolTip(tr("The relay counts what the hub acknowledged once per metrics interval; the hub's "
                                "side is counted as it arrives, so it may be ahead by what was in flight."));
    return detailsPane;
}

void RelayPage::connectMonitor()
{
    // The monitor lives on its own thread: a burst of telemetry costs the GUI thread nothing but the
    // coalesced updates. Its signals arrive here queued.
    m_monitorThread.setObjectName(QStringLiteral("hub-monitor"));
    m_monitor->moveToThread(&m_monitorThread);
    connect(m_monitor, &HubTelemetryMonitor::updated, this, &RelayPage::showHubTelemetry);
    connect(m_monitor, &HubTelemetryMonitor::stateChanged, this, &RelayPage::showHubState);
    connect(m_monitor, &HubTelemetryMonitor::errorOccurred, this, [this](const Error &error) {
        m_hubNote = error.message;
        showHubSummary();
        showDetails();
    });
}

void RelayPage::connectRelay()
{
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
    connect(m_relay, &RelayThread::startFailed, this, [this](const Error &error) {
        stopMonitor();
        fail(error.message);
    });
    connect(m_relay, &RelayThread::stopped, this, [this] {
        stopMonitor();
        m_summary->setText(tr("Stopped. What the relay had taken is in its outbox; the local broker keeps the rest "
                              "for the next start."));
        updateState();
        Q_EMIT relayStopped();
    });
}

// The RelayThread (a child) stops a relay that still runs: what was taken is stored and acknowledged, the
// local broker keeps the rest for the next start. The monitor is deleted on its own thread.
RelayPage::~RelayPage()
{
    if (m_monitorThread.isRunning()) {
        QMetaObject::invokeMethod(
            m_monitor, [monitor = m_monitor] { delete monitor; }, Qt::BlockingQueuedConnection);
        m_monitorThread.quit();
        m_monitorThread.wait();
    } else {
        delete m_monitor;
    }
}

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
    auto found = m_hubs.find(config.hub);
    if (!found)
        return; // validate() said so
    const HubProfile profile = std::move(*found);
    m_starting = true;
    m_summary->setText(tr("Starting: reading the hub's key and the broker's password from the keychain…"));
    updateState();
    m_hubs.connectionString(config.hub).then(this, [this, config, profile](Result<ConnectionString> service) {
        if (!service) {
            fail(service.error().message);
            return;
        }
        Relay::sourcePassword(config, m_secrets)
            .then(this, [this, config, profile, service = *service](Result<SecretBytes> password) {
                if (!password) {
                    fail(password.error().message);
                    return;
                }
                m_table->setRowCount(0);
                m_rows.clear();
                m_sent.clear();
                m_charts->clear();
                m_last = {};
                // started() or startFailed(); the password goes to the relay's thread and is wiped there.
                m_relay->start(config, profile, service, &m_credentials, std::move(*password));
                startMonitor(profile, service);
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

void RelayPage::startMonitor(const HubProfile &profile, const ConnectionString &service)
{
    m_atHub.clear();
    m_hubTotal = 0;
    m_hubNote.clear();
    if (!m_monitorThread.isRunning())
        m_monitorThread.start();
    // The connection strings go to the monitor's thread in memory only. The Event Hub-compatible one is used when the
    // user kept one for the hub, else the monitor follows the hub's redirect.
    whenFinished(
        m_hubs.eventHubConnectionString(profile.name), this, [this, profile, service](const Result<QString> &eventHub) {
            if (!eventHub) {
                m_hubNote = eventHub.error().message;
                showHubSummary();
                return;
            }
            QMetaObject::invokeMethod(m_monitor, [monitor = m_monitor, profile, service, eventHub = *eventHub] {
                monitor->start(profile, service, eventHub);
            });
        });
    showHubSummary();
    showDetails();
}

void RelayPage::stopMonitor()
{
    QMetaObject::invokeMethod(m_monitor, &HubTelemetryMonitor::stop); // its last counts come before it stops
}

int RelayPage::rowFor(const QString &deviceId)
{
    if (QTableWidgetItem *item = m_rows.value(deviceId))
        return item->row();
    const int row = m_table->rowCount();
    m_table->insertRow(row);
    for (int column = 0; column < ColumnCount; ++column)
        m_table->setItem(row, column, new QTableWidgetItem);
    m_table->item(row, DeviceColumn)->setText(deviceId);
    m_rows.insert(deviceId, m_table->item(row, DeviceColumn));
    return row;
}

QString RelayPage::selectedDevice() const
{
    const QList<QTableWidgetItem *> selected = m_table->selectedItems();
    for (QTableWidgetItem *item : selected) {
        if (item->column() == DeviceColumn)
            return item->text();
    }
    return {};
}

void RelayPage::showHubState(HubTelemetryMonitor::State state)
{
    m_hubState = state;
    if (state == HubTelemetryMonitor::State::Listening)
        m_hubNote.clear();
    showHubSummary();
}

void RelayPage::showHubSummary()
{
    const QLocale locale;
    QString text
        = tr("%1 sent · %2 received by the hub").arg(locale.toString(m_last.outTotal), locale.toString(m_hubTotal));
    if (m_hubState == HubTelemetryMonitor::State::Failed || m_hubState == HubTelemetryMonitor::State::Connecting) {
        text += QStringLiteral(" · ") + (m_hubNote.isEmpty() ? HubTelemetryMonitor::stateText(m_hubState) : m_hubNote);
    }
    m_hubSummary->setText(text);
}

void RelayPage::showHubTelemetry(const HubTelemetry &update)
{
    m_hubTotal = update.total;
    const QString selected = selectedDevice();
    bool selectedChanged = false;
    m_table->setSortingEnabled(false);
    for (const HubTelemetry::Device &device : update.devices) {
        m_atHub.insert(device.id, device);
        const int row = rowFor(device.id);
        m_table->item(row, HubCountColumn)->setData(Qt::DisplayRole, device.received);
        m_table->item(row, HubLastColumn)->setText(clockTime(device.last.receivedMs));
        m_table->item(row, PayloadColumn)
            ->setToolTip(tr("Sent: %1\nReceived by the hub: %2")
                             .arg(preview(m_sent.value(device.id).payload), preview(device.last.payload)));
        selectedChanged = selectedChanged || device.id == selected;
    }
    m_table->setSortingEnabled(true);
    // While the relay runs, the summary follows its metrics, so that both counts are taken together.
    if (m_relay->state() != RelayThread::State::Running)
        showHubSummary();
    if (selectedChanged)
        showDetails();
}

void RelayPage::showDetails()
{
    const QString id = selectedDevice();
    m_detailsPane->setVisible(!id.isEmpty());
    if (id.isEmpty()) {
        m_sentDetails->clear();
        m_hubDetails->clear();
        return;
    }
    const Sent sent = m_sent.value(id);
    const QString sentText = sent.timeMs == 0
        ? tr("%1: nothing sent yet.").arg(id)
        : tr("%1 · taken from the local broker at %2").arg(id, clockTimeWithMs(sent.timeMs)) + u'\n'
            + QString::fromUtf8(sent.payload);
    if (m_sentDetails->toPlainText() != sentText)
        m_sentDetails->setPlainText(sentText);

    QString hubText;
    if (const auto found = m_atHub.constFind(id); found == m_atHub.cend()) {
        hubText = m_hubNote.isEmpty() ? tr("%1: nothing received by the hub yet.").arg(id) : m_hubNote;
    } else {
        const HubTelemetry::Device &device = *found;
        hubText = tr("%1 · received at %2 · %3 received in all")
                      .arg(id, clockTimeWithMs(device.last.receivedMs), QLocale().toString(device.received))
            + u'\n' + QString::fromUtf8(device.last.payload);
        if (device.last.truncated)
            hubText += u'…';
        if (!device.last.properties.isEmpty()) {
            hubText += QStringLiteral("\n\n") + tr("Properties:");
            for (const auto &[name, value] : device.last.properties)
                hubText += QStringLiteral("\n  ") + name + QStringLiteral(": ") + value;
        }
    }
    if (m_hubDetails->toPlainText() != hubText)
        m_hubDetails->setPlainText(hubText);
}

void RelayPage::showMetrics(const RelayMetrics &metrics)
{
    m_last = metrics;
    m_charts->add(metrics);
    const QLocale locale;
    const QString selected = selectedDevice();
    bool selectedChanged = false;
    m_table->setSortingEnabled(false);
    for (const RelayMetrics::Device &device : metrics.devices) {
        const int row = rowFor(device.id);
        m_table->item(row, StateColumn)
            ->setText(device.lastError.isEmpty() ? stateText(device.state) : device.lastError);
        m_table->item(row, LastColumn)->setText(clockTime(device.lastMessageMs));
        m_table->item(row, InColumn)->setData(Qt::DisplayRole, device.in);
        m_table->item(row, OutColumn)->setData(Qt::DisplayRole, device.out);
        m_table->item(row, WaitingColumn)->setData(Qt::DisplayRole, device.waiting);
        m_table->item(row, PayloadColumn)->setText(preview(device.lastPayload));
        if (device.lastMessageMs != 0)
            m_sent.insert(device.id, {device.lastPayload, device.lastMessageMs});
        selectedChanged = selectedChanged || device.id == selected;
    }
    m_table->setSortingEnabled(true);
    showHubSummary();
    if (selectedChanged)
        showDetails();
    QString summary
        = tr("Broker %1 · %2 in, %3 delivered · %4 msg/s in, %5 msg/s out · outbox %6 of %7 · %8 hub sessions · "
             "latency p50 %9 ms")
              .arg(stateText(metrics.sourceState), locale.toString(metrics.inTotal), locale.toString(metrics.outTotal))
              .arg(metrics.inPerSecond, 0, 'f', 1)
              .arg(metrics.outPerSecond, 0, 'f', 1)
              .arg(locale.toString(metrics.outboxDepth), locale.toString(metrics.outboxLimit))
              .arg(metrics.sessions)
              .arg(metrics.latencyP50Ms, 0, 'f', 1);
    if (metrics.outboxFull)
        summary += tr(" · the outbox is full: %1 messages are held at the broker until the hub takes some")
                       .arg(metrics.held);
    if (metrics.deadLetters > 0)
        summary += tr(" · %1 set aside that the hub can never take (onboarder-cli relay dead-letters)")
                       .arg(metrics.deadLetters);
    m_summary->setText(summary);
}

} // namespace Onboarder
