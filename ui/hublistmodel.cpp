#include "hublistmodel.h"

#include "common/settings.h"
#include "hub/hubstore.h"

#include <QApplication>
#include <QFont>
#include <QStyle>

namespace Onboarder {

HubListModel::HubListModel(HubStore &hubs, Settings &settings, QObject *parent)
    : QAbstractTableModel(parent)
    , m_store(hubs)
    , m_settings(settings)
    , m_hubs(hubs.hubs())
{
    connect(&m_store, &HubStore::hubsChanged, this, &HubListModel::reload);
    connect(&m_settings, &Settings::changed, this, [this](const QString &key) {
        if (key.startsWith(QStringLiteral("hubs")) && !m_hubs.isEmpty())
            Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1),
                {Qt::FontRole, Qt::DecorationRole, Qt::ToolTipRole});
    });
}

int HubListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_hubs.size());
}

int HubListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant HubListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const HubProfile &hub = m_hubs.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case SortRole:
        switch (index.column()) {
        case NameColumn: return hub.name;
        case HostColumn: return hub.hostName;
        case PolicyColumn: return hub.policyName;
        case EndpointColumn:
            if (hub.isDefaultEndpoint())
                return tr("Azure");
            return hub.caFile.isEmpty()
                ? tr("REST %1 · MQTT %2").arg(hub.effectiveRestPort()).arg(hub.effectiveMqttPort())
                : tr("REST %1 · MQTT %2 · own CA").arg(hub.effectiveRestPort()).arg(hub.effectiveMqttPort());
        default: break;
        }
        break;
    case NameRole: return hub.name;
    case Qt::DecorationRole:
        if (index.column() == NameColumn && hub.name == m_settings.currentHub())
            return QApplication::style()->standardIcon(QStyle::SP_DialogApplyButton);
        break;
    case Qt::ToolTipRole:
        if (index.column() == EndpointColumn && !hub.caFile.isEmpty())
            return tr("Trusts the CA in %1 for this hub").arg(hub.caFile);
        if (hub.name == m_settings.currentHub())
            return tr("The current hub: commands without --hub work on it");
        break;
    case Qt::FontRole:
        if (hub.name == m_settings.currentHub()) {
            QFont bold;
            bold.setBold(true);
            return bold;
        }
        break;
    default: break;
    }
    return {};
}

QVariant HubListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn: return tr("Name");
    case HostColumn: return tr("Host");
    case PolicyColumn: return tr("Access policy");
    case EndpointColumn: return tr("Endpoint");
    default: return {};
    }
}

int HubListModel::rowOf(const QString &name) const
{
    for (int row = 0; row < m_hubs.size(); ++row) {
        if (m_hubs.at(row).name == name)
            return row;
    }
    return -1;
}

void HubListModel::reload()
{
    beginResetModel();
    m_hubs = m_store.hubs();
    endResetModel();
}

} // namespace Onboarder
