#include "devicelistmodel.h"

#include "common/continuation.h"
#include "hub/devicecheck.h"

#include <QApplication>
#include <QDateTime>
#include <QLocale>
#include <QPalette>

#include <memory>

namespace Onboarder {

DeviceListModel::DeviceListModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

void DeviceListModel::setClient(HubClient *client)
{
    if (client == m_client && !m_rows.isEmpty())
        return;
    m_client = client;
    restart();
}

void DeviceListModel::setQuery(const DeviceListQuery &query)
{
    m_query = query;
    restart();
}

void DeviceListModel::restart()
{
    ++m_generation;
    beginResetModel();
    m_rows.clear();
    m_rows.squeeze();
    m_rowOfId.clear();
    m_pager = {};
    m_started = false;
    endResetModel();
    setLoading(false);
    if (m_total != -1) {
        m_total = -1;
        Q_EMIT totalCountChanged(m_total);
    }
    if (!m_client || m_query.select.isEmpty())
        return;
    m_started = true;
    m_pager = QueryPager(m_client, m_query.select);
    requestPage(m_pageSize, m_generation); // counts the devices once the first page is here
}

void DeviceListModel::refresh()
{
    if (!m_client || m_query.select.isEmpty())
        return;
    if (!m_started) {
        restart();
        return;
    }
    const quint64 generation = ++m_generation; // answers of pages in flight are dropped
    // So the reading goes on where the rows on screen end, whatever a page in flight would have moved it to.
    m_pager = m_pager.detached();
    const int wanted = qMax(int(m_rows.size()), m_pageSize);
    setLoading(true);
    // As many rows as are loaded now, again from the first; those on screen stay until all are here.
    QueryPager reading(m_client, m_query.select);
    auto rows = std::make_shared<QList<DeviceSummary>>();
    whenFinished(reading.collect(wanted,
                     [rows](const QJsonArray &twins) {
                         for (const auto &twin : twins)
                             rows->append(DeviceSummary::fromTwin(twin.toObject()));
                     }),
        this, [this, generation, reading, rows](const Result<QueryPage> &read) {
            if (generation != m_generation)
                return;
            setLoading(false);
            if (!read) {
                Q_EMIT queryFailed(read.error());
                return;
            }
            beginResetModel();
            m_rows = std::move(*rows);
            m_rowOfId.clear();
            m_pager = reading;
            endResetModel();
            Q_EMIT refreshed();
        });
    countDevices(generation);
}

void DeviceListModel::countDevices(quint64 generation)
{
    if (m_query.count.isEmpty() || !m_client)
        return;
    whenFinished(m_client->countDevices(m_query.count), this, [this, generation](Result<qint64> count) {
        if (generation != m_generation || !count)
            return; // the count is a nicety; the list itself reports failures
        m_total = *count;
        Q_EMIT totalCountChanged(m_total);
    });
}

void DeviceListModel::requestPage(int pageSize, quint64 generation)
{
    setLoading(true);
    whenFinished(m_pager.next(pageSize), this, [this, generation](Result<QueryPage> page) {
        if (generation != m_generation)
            return;
        setLoading(false);
        if (!page) {
            Q_EMIT queryFailed(page.error());
            return;
        }
        // The count is asked for after the first page, not beside it: the page is what the user waits for.
        if (m_rows.isEmpty() && m_total < 0)
            countDevices(generation);
        if (page->items.isEmpty())
            return;
        const int first = int(m_rows.size());
        beginInsertRows({}, first, first + int(page->items.size()) - 1);
        m_rows.reserve(first + page->items.size());
        for (const auto &twin : page->items)
            m_rows.append(DeviceSummary::fromTwin(twin.toObject()));
        if (!m_rowOfId.isEmpty())
            for (int row = first; row < m_rows.size(); ++row)
                m_rowOfId.insert(m_rows.at(row).id, row);
        endInsertRows();
    });
}

bool DeviceListModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && m_client && !m_loading && m_started && !m_pager.continuation().isEmpty();
}

void DeviceListModel::fetchMore(const QModelIndex &parent)
{
    if (canFetchMore(parent))
        requestPage(m_pageSize, m_generation);
}

void DeviceListModel::setLoading(bool loading)
{
    if (loading == m_loading)
        return;
    m_loading = loading;
    Q_EMIT loadingChanged(loading);
}

int DeviceListModel::rowOf(const QString &deviceId) const
{
    if (m_rowOfId.isEmpty() && !m_rows.isEmpty()) {
        m_rowOfId.reserve(m_rows.size());
        for (int row = 0; row < m_rows.size(); ++row)
            m_rowOfId.insert(m_rows.at(row).id, row);
    }
    return m_rowOfId.value(deviceId, -1);
}

int DeviceListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int DeviceListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DeviceListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const DeviceSummary &device = m_rows.at(index.row());
    if (role == DeviceIdRole)
        return device.id;
    if (role == Qt::ForegroundRole && !device.enabled)
        return QApplication::palette().brush(QPalette::Disabled, QPalette::Text);
    if (role == Qt::TextAlignmentRole && index.column() == MessagesColumn)
        return int(Qt::AlignRight | Qt::AlignVCenter);

    switch (index.column()) {
    case IdColumn:
        if (role == Qt::DisplayRole || role == SortRole)
            return device.id;
        break;
    case StatusColumn:
        if (role == Qt::DisplayRole)
            return device.enabled ? tr("Enabled") : tr("Disabled");
        if (role == SortRole)
            return device.enabled;
        break;
    case ConnectionColumn:
        if (role == Qt::DisplayRole)
            return device.connected ? tr("Connected") : tr("Disconnected");
        if (role == SortRole)
            return device.connected;
        break;
    case LastActivityColumn: {
        if (role == SortRole)
            return device.lastActivityMs;
        if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
            break;
        if (device.lastActivityMs == 0)
            return tr("Never");
        const QDateTime time = QDateTime::fromMSecsSinceEpoch(device.lastActivityMs, Qt::UTC);
        if (role == Qt::ToolTipRole)
            return ago(time, QDateTime::currentDateTimeUtc());
        return QLocale().toString(time.toLocalTime(), QLocale::ShortFormat);
    }
    case AuthColumn:
        if (role == Qt::DisplayRole || role == SortRole) {
            switch (device.auth) {
            case DeviceSummary::Auth::Sas: return tr("SAS key");
            case DeviceSummary::Auth::SelfSigned: return tr("X.509 self-signed");
            case DeviceSummary::Auth::CertificateAuthority: return tr("X.509 CA");
            case DeviceSummary::Auth::None: return tr("None");
            }
        }
        break;
    case MessagesColumn:
        if (role == Qt::DisplayRole || role == SortRole)
            return device.cloudToDeviceMessageCount;
        if (role == Qt::ToolTipRole)
            return tr("Cloud-to-device messages waiting for the device");
        break;
    default: break;
    }
    return {};
}

QVariant DeviceListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case IdColumn: return tr("Device ID");
    case StatusColumn: return tr("Status");
    case ConnectionColumn: return tr("Connection");
    case LastActivityColumn: return tr("Last Activity");
    case AuthColumn: return tr("Authentication");
    case MessagesColumn: return tr("Queued");
    default: return {};
    }
}

} // namespace Onboarder
