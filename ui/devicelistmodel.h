#pragma once

#include "common/result.h"
#include "hub/devicelistquery.h"
#include "hub/hubclient.h"
#include "hub/querypager.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QPointer>

namespace Onboarder {

// The devices of a hub that match a query, fetched a page at a time as the view scrolls
// (canFetchMore/fetchMore over the query's continuation), so that a hub of 100k devices opens as
// fast as one of ten. Filtering is the query's job (on the server); sorting a proxy's, over the
// rows loaded so far.
class DeviceListModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        IdColumn,
        StatusColumn,
        ConnectionColumn,
        LastActivityColumn,
        AuthColumn,
        MessagesColumn,
        ColumnCount
    };
    enum Role { SortRole = Qt::UserRole + 1, DeviceIdRole };

    explicit DeviceListModel(QObject *parent = nullptr);

    // A new client or query starts over with the first page; null or an empty query shows nothing.
    void setClient(HubClient *client);
    void setQuery(const DeviceListQuery &query);
    DeviceListQuery query() const { return m_query; }
    void setPageSize(int rows) { m_pageSize = qBound(1, rows, 1000); }

    // Loads again as many rows as are loaded now, keeping them on screen until the new ones are
    // here; refreshed() says when (views restore their selection by id then).
    void refresh();

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex &parent = {}) const override;
    void fetchMore(const QModelIndex &parent = {}) override;

    bool isLoading() const { return m_loading; }
    bool hasMore() const { return !m_pager.continuation().isEmpty(); }
    qint64 totalCount() const { return m_total; } // -1: not known (yet)
    int rowOf(const QString &deviceId) const; // -1: not loaded
    const DeviceSummary &deviceAt(int row) const { return m_rows.at(row); }

Q_SIGNALS:
    void loadingChanged(bool loading);
    void totalCountChanged(qint64 total);
    void queryFailed(const Onboarder::Error &error);
    void refreshed();

private:
    void restart();
    void setLoading(bool loading);
    void requestPage(int pageSize, quint64 generation);
    void countDevices(quint64 generation);

    QPointer<HubClient> m_client;
    DeviceListQuery m_query;
    QList<DeviceSummary> m_rows;
    mutable QHash<QString, int> m_rowOfId; // built on first rowOf() after a change
    QueryPager m_pager; // where the rows loaded so far end
    bool m_started = false; // the first page was asked for
    bool m_loading = false;
    int m_pageSize = 200;
    qint64 m_total = -1;
    quint64 m_generation = 0; // answers to an older query or client are dropped
};

} // namespace Onboarder
