#pragma once

#include "hub/hubprofile.h"

#include <QAbstractTableModel>

namespace Onboarder {

class HubStore;
class Settings;

// The hubs of a HubStore, one row each.
class HubListModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { NameColumn, HostColumn, PolicyColumn, EndpointColumn, ColumnCount };
    enum Role { SortRole = Qt::UserRole + 1, NameRole };

    HubListModel(HubStore &hubs, Settings &settings, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    HubProfile hubAt(int row) const { return m_hubs.at(row); }
    int rowOf(const QString &name) const;

    void reload();

private:
    HubStore &m_store;
    Settings &m_settings;
    QList<HubProfile> m_hubs;
};

} // namespace Onboarder
