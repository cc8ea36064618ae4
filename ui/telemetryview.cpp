#include "telemetryview.h"

#include "common/continuation.h"
#include "hub/hubstore.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPlainTextEdit>
#include <QPointer>
#include <QSaveFile>
#include <QSplitter>
#include <QTableView>
#include <QTimer>

#include <functional>
#include <memory>

namespace Onboarder {

namespace {

// The reader and the batching of its events, on the feed's worker thread.
class TelemetryWorker final : public QObject
{
public:
    using Deliver = std::function<void(QList<TelemetryEvent>, qint64)>;
    using Report = std::function<void(EventHubReader::State, QString)>;

    TelemetryWorker(Deliver deliver, Report report)
        : m_deliver(std::move(deliver))
        , m_report(std::move(report))
        , m_batch(this) // a child: it moves to the worker thread with the worker
    {
        m_batch.setInterval(TelemetryFeed::batchIntervalMs);
        connect(&m_batch, &QTimer::timeout, this, [this] {
            if (m_pending.isEmpty())
                return;
            m_deliver(std::exchange(m_pending, {}), m_total);
        });
    }

    void start(const HubProfile &hub, const ConnectionString &service, const QString &eventHub,
        const EventHubReader::Options &options)
    {
        m_reader = std::make_unique<EventHubReader>();
        connect(m_reader.get(), &EventHubReader::eventReceived, this, [this](const TelemetryEvent &event) {
            ++m_total;
            m_pending.append(event);
            if (m_pending.size() > TelemetryFeed::capacity) // a list keeps no more anyway
                m_pending.remove(0, m_pending.size() - TelemetryFeed::capacity);
        });
        connect(m_reader.get(), &EventHubReader::stateChanged, this, [this](EventHubReader::State state) {
            m_report(state, state == EventHubReader::State::Failed ? m_reader->lastError().message : QString());
        });
        connect(m_reader.get(), &EventHubReader::errorOccurred, this, [this](const Error &error) {
            if (m_reader->state() != EventHubReader::State::Failed)
                m_report(EventHubReader::State::Connecting, error.message); // dropped: it reconnects
        });
        m_batch.start();
        m_reader->start(hub, service, eventHub, options);
    }

    void stop()
    {
        m_batch.stop();
        if (!m_pending.isEmpty())
            m_deliver(std::exchange(m_pending, {}), m_total);
        m_reader.reset();
    }

private:
    Deliver m_deliver;
    Report m_report;
    std::unique_ptr<EventHubReader> m_reader;
    QList<TelemetryEvent> m_pending;
    qint64 m_total = 0;
    QTimer m_batch;
};

QString oneLine(QString text)
{
    text.replace(u'\n', u' ');
    return text.size() > 200 ? text.left(200) + QStringLiteral("…") : text;
}

} // namespace

TelemetryModel::TelemetryModel(int capacity, QObject *parent)
    : QAbstractTableModel(parent)
    , m_capacity(capacity)
{ }

int TelemetryModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_events.size());
}

int TelemetryModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString TelemetryModel::bodyText(const TelemetryEvent &event, bool pretty)
{
    const QJsonDocument json = QJsonDocument::fromJson(event.body);
    if (!json.isNull())
        return QString::fromUtf8(json.toJson(pretty ? QJsonDocument::Indented : QJsonDocument::Compact)).trimmed();
    QString text = QString::fromUtf8(event.body);
    if (text.toUtf8() == event.body)
        return text;
    return QStringLiteral("0x") + QString::fromLatin1(event.body.toHex(pretty ? ' ' : '\0'));
}

QVariant TelemetryModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_events.size()))
        return {};
    const TelemetryEvent &event = m_events.at(size_t(index.row()));
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case TimeColumn: return event.enqueuedTime.toLocalTime().toString(QStringLiteral("HH:mm:ss.zzz"));
        case DeviceColumn: return event.deviceId;
        case PositionColumn: return QStringLiteral("%1 · %2").arg(event.partition).arg(event.sequenceNumber);
        case PayloadColumn: return oneLine(bodyText(event, false));
        default: return {};
        }
    }
    if (role == Qt::ToolTipRole && index.column() == TimeColumn)
        return event.enqueuedTime.toUTC().toString(Qt::ISODateWithMs);
    return {};
}

QVariant TelemetryModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn: return tr("Enqueued");
    case DeviceColumn: return tr("Device");
    case PositionColumn: return tr("Partition · Seq.");
    case PayloadColumn: return tr("Payload");
    default: return {};
    }
}

void TelemetryModel::append(const QList<TelemetryEvent> &events)
{
    if (events.isEmpty())
        return;
    // What would be dropped at once is not inserted at all.
    const qsizetype first = std::max<qsizetype>(0, events.size() - m_capacity);
    const int incoming = int(events.size() - first);
    const int overflow = int(m_events.size()) + incoming - m_capacity;
    if (overflow > 0) {
        beginRemoveRows({}, 0, overflow - 1);
        m_events.erase(m_events.begin(), m_events.begin() + overflow);
        endRemoveRows();
    }
    beginInsertRows({}, int(m_events.size()), int(m_events.size()) + incoming - 1);
    for (qsizetype i = first; i < events.size(); ++i)
        m_events.push_back(events.at(i));
    endInsertRows();
}

void TelemetryModel::clear()
{
    beginResetModel();
    m_events.clear();
    endResetModel();
}

TelemetryFeed::TelemetryFeed(HubStore &hubs, QObject *parent)
    : QObject(parent)
    , m_hubs(hubs)
{
    m_thread.setObjectName(QStringLiteral("telemetry"));
}

TelemetryFeed::~TelemetryFeed()
{
    stop();
    m_thread.quit();
    m_thread.wait();
}

void TelemetryFeed::start(const HubProfile &hub, const EventHubReader::Options &options)
{
    stop();
    if (hub.name.isEmpty())
        return setFailed(tr("No hub is current: choose one on the Hubs page."));
    m_received = 0;
    m_error.clear();
    m_hubName = hub.name;
    m_state = EventHubReader::State::Connecting;
    Q_EMIT stateChanged();
    if (!m_thread.isRunning())
        m_thread.start();
    const quint64 generation = ++m_generation;
    QPointer<TelemetryFeed> feed(this);
    // The connection string is read from the keychain (asynchronously) and goes to the worker in memory only.
    // The Event Hub-compatible connection string, when the user kept one for the hub, is read there instead of
    // following the hub's redirect.
    whenFinished(m_hubs.eventHubConnectionString(hub.name), this,
        [this, feed, hub, options, generation](const Result<QString> &eventHub) {
            if (!feed || generation != m_generation)
                return;
            if (!eventHub) {
                onState(EventHubReader::State::Failed, eventHub.error().message);
                return;
            }
            whenFinished(m_hubs.connectionString(hub.name), this,
                [this, feed, hub, options, generation, eventHub = *eventHub](const Result<ConnectionString> &service) {
                    if (!feed || generation != m_generation)
                        return;
                    if (!service) {
                        onState(EventHubReader::State::Failed, service.error().message);
                        return;
                    }
                    auto *worker = new TelemetryWorker(
                        [feed, generation](QList<TelemetryEvent> events, qint64 total) {
                            QMetaObject::invokeMethod(feed, [feed, generation, events = std::move(events), total] {
                                if (feed && generation == feed->m_generation)
                                    feed->onBatch(events, total);
                            });
                        },
                        [feed, generation](EventHubReader::State state, const QString &error) {
                            QMetaObject::invokeMethod(feed, [feed, generation, state, error] {
                                if (feed && generation == feed->m_generation)
                                    feed->onState(state, error);
                            });
                        });
                    worker->moveToThread(&m_thread);
                    m_worker = worker;
                    QMetaObject::invokeMethod(worker, [worker, hub, service = *service, eventHub, options] {
                        worker->start(hub, service, eventHub, options);
                    });
                });
        });
}

void TelemetryFeed::stop()
{
    ++m_generation;
    if (m_worker) {
        auto *worker = static_cast<TelemetryWorker *>(m_worker);
        m_worker = nullptr;
        QMetaObject::invokeMethod(worker, [worker] {
            worker->stop();
            delete worker;
        });
    }
    if (m_state != EventHubReader::State::Failed && m_state != EventHubReader::State::Stopped) {
        m_state = EventHubReader::State::Stopped;
        Q_EMIT stateChanged();
    }
}

void TelemetryFeed::setFailed(const QString &error)
{
    stop();
    onState(EventHubReader::State::Failed, error);
}

QString TelemetryFeed::summary(const QString &stopped, const QString &listening, int listed, bool paused) const
{
    QString state;
    switch (m_state) {
    case EventHubReader::State::Stopped: state = stopped; break;
    case EventHubReader::State::Connecting:
        state
            = m_error.isEmpty() ? tr("Connecting to hub %1…").arg(m_hubName) : tr("Connecting again: %1").arg(m_error);
        break;
    case EventHubReader::State::Listening: state = listening; break;
    case EventHubReader::State::Failed: state = m_error; break;
    }
    QString counts = tr("%n message(s) received", nullptr, int(qMin<qint64>(m_received, INT_MAX)));
    if (paused)
        counts += tr(" · paused: the list is not updated, the count goes on");
    else if (m_received > listed && listed >= capacity)
        counts += tr(" (the list keeps the newest %1)").arg(capacity);
    return state + QStringLiteral(" · ") + counts;
}

void TelemetryFeed::onBatch(const QList<TelemetryEvent> &events, qint64 total)
{
    m_received = total;
    Q_EMIT eventsReceived(events);
}

void TelemetryFeed::onState(EventHubReader::State state, const QString &error)
{
    m_state = state;
    m_error = error;
    Q_EMIT stateChanged();
}

TelemetryView::TelemetryView(QWidget *parent)
    : QWidget(parent)
    , m_view(new QTableView(this))
    , m_model(new TelemetryModel(TelemetryFeed::capacity, this))
    , m_details(new QPlainTextEdit(this))
{
    m_view->setModel(m_model);
    m_view->setAccessibleName(tr("Messages"));
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setColumnWidth(
        TelemetryModel::TimeColumn, m_view->fontMetrics().horizontalAdvance(QStringLiteral("00:00:00.000")) + 24);
    m_view->setColumnWidth(TelemetryModel::DeviceColumn, 200);
    m_view->setColumnWidth(TelemetryModel::PositionColumn, 110);
    m_view->setWordWrap(false);
    m_details->setReadOnly(true);
    m_details->setAccessibleName(tr("Message details"));
    m_details->setPlaceholderText(tr("Select a message to see its payload and properties."));
    m_details->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));

    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(m_view);
    splitter->addWidget(m_details);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setChildrenCollapsible(false);

    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);

    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &TelemetryView::showDetails);
}

void TelemetryView::append(const QList<TelemetryEvent> &events)
{
    const bool atEnd = !m_view->currentIndex().isValid();
    m_model->append(events);
    if (atEnd)
        m_view->scrollToBottom();
}

void TelemetryView::clear()
{
    m_model->clear();
    m_details->clear();
}

void TelemetryView::setDeviceColumnVisible(bool visible)
{
    m_view->setColumnHidden(TelemetryModel::DeviceColumn, !visible);
}

void TelemetryView::showDetails()
{
    const QModelIndex current = m_view->currentIndex();
    if (!current.isValid()) {
        m_details->clear();
        return;
    }
    const TelemetryEvent &event = m_model->eventAt(current.row());
    QStringList lines;
    lines << tr("Device: %1").arg(event.deviceId)
          << tr("Enqueued: %1").arg(event.enqueuedTime.toUTC().toString(Qt::ISODateWithMs))
          << tr("Partition %1, sequence number %2, offset %3")
                 .arg(event.partition)
                 .arg(event.sequenceNumber)
                 .arg(event.offset);
    if (!event.contentType.isEmpty())
        lines << tr("Content type: %1 %2").arg(event.contentType, event.contentEncoding);
    if (!event.messageId.isEmpty())
        lines << tr("Message id: %1").arg(event.messageId);
    lines << QString() << tr("Payload:") << TelemetryModel::bodyText(event, true) << QString()
          << tr("Application properties:");
    for (const auto &[name, value] : event.properties)
        lines << QStringLiteral("  %1 = %2").arg(name, value);
    if (event.properties.isEmpty())
        lines << tr("  (none)");
    lines << QString() << tr("System properties:");
    for (const auto &[name, value] : event.systemProperties)
        lines << QStringLiteral("  %1 = %2").arg(name, value);
    m_details->setPlainText(lines.join(u'\n'));
}

QString TelemetryView::exportTo(const QString &path) const
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return tr("Cannot write %1: %2").arg(path, file.errorString());
    for (int row = 0; row < m_model->rowCount(); ++row) {
        file.write(QJsonDocument(m_model->eventAt(row).toJson()).toJson(QJsonDocument::Compact) + '\n');
    }
    if (!file.commit())
        return tr("Cannot write %1: %2").arg(path, file.errorString());
    return {};
}

} // namespace Onboarder
