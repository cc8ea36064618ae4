#include "telemetrypage.h"

#include "hub/hubsession.h"
#include "hub/hubstore.h"
#include "pageheader.h"

#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace Onboarder {

TelemetryPage::TelemetryPage(HubSession &session, HubStore &hubs, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_device(new QLineEdit(this))
    , m_consumerGroup(new QLineEdit(QStringLiteral("$Default"), this))
    , m_from(new QComboBox(this))
    , m_start(new QPushButton(tr("&Start"), this))
    , m_pause(new QPushButton(tr("&Pause"), this))
    , m_export(new QPushButton(tr("E&xport…"), this))
    , m_summary(new QLabel(this))
    , m_list(new TelemetryView(this))
    , m_feed(new TelemetryFeed(hubs, this))
{
    m_device->setPlaceholderText(tr("All devices"));
    m_device->setClearButtonEnabled(true);
    m_device->setAccessibleName(tr("Device"));
    m_consumerGroup->setAccessibleName(tr("Consumer group"));
    m_consumerGroup->setToolTip(
        tr("The consumer group of the hub's Event Hub-compatible endpoint. Readers in one group share "
           "what they read; another group reads everything again."));
    m_from->addItem(tr("From now"));
    m_from->addItem(tr("From the oldest kept"));
    m_pause->setCheckable(true);
    m_pause->setEnabled(false);
    m_export->setToolTip(
        tr("Save the messages in the list (the newest %1) as JSON Lines.").arg(TelemetryFeed::capacity));
    m_summary->setWordWrap(true);

    auto *controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Device:"), this));
    controls->addWidget(m_device, 2);
    controls->addWidget(new QLabel(tr("Consumer group:"), this));
    controls->addWidget(m_consumerGroup, 1);
    controls->addWidget(m_from);
    controls->addWidget(m_start);
    controls->addWidget(m_pause);
    controls->addWidget(m_export);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(new PageHeader(tr("Telemetry"),
        tr("What the current hub receives from its devices, as it arrives (its Event Hub-compatible "
           "endpoint, as Azure IoT Explorer reads it)."),
        this));
    layout->addLayout(controls);
    layout->addWidget(m_summary);
    layout->addWidget(m_list, 1);

    connect(m_start, &QPushButton::clicked, this, [this] {
        if (m_feed->isRunning())
            stop();
        else
            start();
    });
    connect(m_pause, &QPushButton::toggled, this, [this](bool paused) {
        m_paused = paused;
        updateSummary();
    });
    connect(m_export, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export Telemetry"), QStringLiteral("telemetry.jsonl"), tr("JSON Lines (*.jsonl)"));
        if (path.isEmpty())
            return;
        const QString error = exportTo(path);
        Q_EMIT statusMessage(
            error.isEmpty() ? tr("%n message(s) saved to %1.", nullptr, model()->rowCount()).arg(path) : error);
    });
    connect(m_feed, &TelemetryFeed::eventsReceived, this, &TelemetryPage::onEvents);
    connect(m_feed, &TelemetryFeed::stateChanged, this, &TelemetryPage::onStateChanged);
    connect(&m_session, &HubSession::stateChanged, this, [this] {
        if (m_feed->isRunning())
            stop(); // another hub: what was read belongs to the old one
        updateSummary();
    });
    updateSummary();
}

TelemetryPage::~TelemetryPage()
{
    m_feed->disconnect(this);
}

void TelemetryPage::start()
{
    m_list->clear();
    EventHubReader::Options options;
    options.deviceId = m_device->text().trimmed();
    options.consumerGroup
        = m_consumerGroup->text().trimmed().isEmpty() ? QStringLiteral("$Default") : m_consumerGroup->text().trimmed();
    options.start = m_from->currentIndex() == 1 ? EventHubReader::Start::Oldest : EventHubReader::Start::Now;
    m_feed->start(m_session.profile(), options);
}

void TelemetryPage::stop()
{
    m_feed->stop();
    onStateChanged();
}

void TelemetryPage::onEvents(const QList<TelemetryEvent> &events)
{
    if (!m_paused)
        m_list->append(events);
    updateSummary();
}

void TelemetryPage::onStateChanged()
{
    const bool running = m_feed->isRunning();
    m_start->setText(running ? tr("&Stop") : tr("&Start"));
    m_pause->setEnabled(running);
    if (!running)
        m_pause->setChecked(false);
    updateSummary();
}

void TelemetryPage::updateSummary()
{
    const QString hub = m_session.profile().name;
    m_summary->setText(m_feed->summary(
        hub.isEmpty() ? tr("No hub is current.") : tr("Not reading. Start reads what hub %1 receives.").arg(hub),
        tr("Reading what hub %1 receives.").arg(hub), model()->rowCount(), m_paused));
}

} // namespace Onboarder
