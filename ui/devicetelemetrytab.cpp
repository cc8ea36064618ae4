#include "devicetelemetrytab.h"

#include "hub/hubsession.h"
#include "telemetryview.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QShowEvent>
#include <QTimer>
#include <QVBoxLayout>

namespace Onboarder {

namespace {

constexpr int refreshIntervalMs = 15000;

} // namespace

DeviceTelemetryTab::DeviceTelemetryTab(HubSession &session, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_dot(new QLabel(this))
    , m_connection(new QLabel(this))
    , m_summary(new QLabel(this))
    , m_pause(new QPushButton(tr("&Pause"), this))
    , m_clear(new QPushButton(tr("Clear"), this))
    , m_list(new TelemetryView(this))
    , m_feed(new TelemetryFeed(session.hubs(), this))
    , m_refresh(new QTimer(this))
{
    m_dot->setText(QStringLiteral("●"));
    m_dot->setAccessibleName(tr("Connection state"));
    m_connection->setTextFormat(Qt::PlainText);
    m_connection->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_connection->setAccessibleName(tr("Connection state"));
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setWordWrap(true);
    m_pause->setCheckable(true);
    m_pause->setToolTip(tr("Stop updating the list; the count goes on."));
    m_clear->setToolTip(tr("Empty the list (reading goes on)."));
    m_list->setDeviceColumnVisible(false);
    m_refresh->setInterval(refreshIntervalMs);

    auto *top = new QHBoxLayout;
    top->addWidget(m_dot);
    top->addWidget(m_connection, 1);
    top->addWidget(m_pause);
    top->addWidget(m_clear);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_summary);
    layout->addWidget(m_list, 1);

    connect(m_feed, &TelemetryFeed::eventsReceived, this, [this](const QList<TelemetryEvent> &events) {
        if (!m_pause->isChecked())
            m_list->append(events);
        updateSummary();
    });
    connect(m_feed, &TelemetryFeed::stateChanged, this, &DeviceTelemetryTab::updateSummary);
    connect(m_pause, &QPushButton::toggled, this, &DeviceTelemetryTab::updateSummary);
    connect(m_clear, &QPushButton::clicked, m_list, &TelemetryView::clear);
    connect(m_refresh, &QTimer::timeout, this, &DeviceTelemetryTab::refreshRequested);
    connect(&m_session, &HubSession::stateChanged, this, [this] {
        stop(); // another hub: the device page goes back to the list
        m_list->clear();
    });
    setConnectionState(false, QString());
    updateSummary();
}

DeviceTelemetryTab::~DeviceTelemetryTab()
{
    m_feed->disconnect(this);
}

bool DeviceTelemetryTab::isReading() const
{
    return m_feed->isRunning();
}

bool DeviceTelemetryTab::isListening() const
{
    return m_feed->state() == EventHubReader::State::Listening;
}

qint64 DeviceTelemetryTab::received() const
{
    return m_feed->received();
}

void DeviceTelemetryTab::setDeviceId(const QString &id)
{
    if (id == m_id)
        return;
    stop();
    m_id = id;
    m_list->clear();
    m_pause->setChecked(false);
    setConnectionState(false, QString());
    if (isVisible())
        start();
    updateSummary();
}

void DeviceTelemetryTab::setConnectionState(bool connected, const QString &sentence)
{
    m_connection->setText(sentence.isEmpty() ? tr("Connection state not known yet") : sentence);
    QPalette palette = m_dot->palette();
    palette.setColor(QPalette::WindowText,
        sentence.isEmpty() ? palette.color(QPalette::PlaceholderText)
            : connected    ? QColor(0x2e, 0x7d, 0x32)
                           : QColor(0x75, 0x75, 0x75));
    m_dot->setPalette(palette);
}

void DeviceTelemetryTab::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (!event->spontaneous()) // not when the window is restored: reading went on while it was minimized
        start();
}

void DeviceTelemetryTab::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    if (!event->spontaneous())
        stop();
}

void DeviceTelemetryTab::start()
{
    if (m_id.isEmpty() || m_feed->isRunning())
        return;
    m_list->clear();
    EventHubReader::Options options;
    options.deviceId = m_id;
    m_feed->start(m_session.profile(), options);
    m_refresh->start();
    Q_EMIT refreshRequested();
}

void DeviceTelemetryTab::stop()
{
    m_refresh->stop();
    m_feed->stop();
}

void DeviceTelemetryTab::updateSummary()
{
    m_summary->setText(m_feed->summary(tr("Not reading: the tab reads while it is shown."),
        tr("Reading what %1 sends to hub %2, from now on.").arg(m_id, m_session.profile().name),
        m_list->model()->rowCount(), m_pause->isChecked()));
}

} // namespace Onboarder
