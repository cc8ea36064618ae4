#include "hubspage.h"

#include "addhubdialog.h"
#include "common/settings.h"
#include "eventhubdialog.h"
#include "hub/hubstore.h"
#include "hublistmodel.h"
#include "pageheader.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStackedWidget>
#include <QStyle>
#include <QTableView>
#include <QVBoxLayout>

namespace Onboarder {

HubsPage::HubsPage(HubStore &hubs, Settings &settings, QWidget *parent)
    : QWidget(parent)
    , m_hubs(hubs)
    , m_settings(settings)
    , m_model(new HubListModel(hubs, settings, this))
    , m_stack(new QStackedWidget(this))
    , m_view(new QTableView(this))
    , m_add(new QPushButton(tr("Add Hub…"), this))
    , m_remove(new QPushButton(tr("Remove"), this))
    , m_makeCurrent(new QPushButton(tr("Make Current"), this))
    , m_eventHub(new QPushButton(tr("Event Hub…"), this))
    , m_details(new QLabel(this))
{
    auto *header = new PageHeader(tr("Hubs"),
        tr("The IoT hubs this computer works with. Their connection strings are kept in the "
           "system keychain, never in files."),
        this);

    m_add->setIcon(style()->standardIcon(QStyle::SP_FileDialogNewFolder));
    m_add->setDefault(true);
    m_remove->setIcon(style()->standardIcon(QStyle::SP_TrashIcon));
    m_makeCurrent->setIcon(style()->standardIcon(QStyle::SP_DialogApplyButton));
    m_makeCurrent->setToolTip(tr("Pages and command-line calls without --hub work on the current hub"));
    m_eventHub->setToolTip(tr("Read the hub's telemetry with its Event Hub-compatible connection string instead of "
                              "through the hub's redirect"));

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_add);
    buttons->addWidget(m_makeCurrent);
    buttons->addWidget(m_eventHub);
    buttons->addWidget(m_remove);
    buttons->addStretch(1);

    auto *proxy = new QSortFilterProxyModel(this);
    proxy->setSourceModel(m_model);
    proxy->setSortRole(HubListModel::SortRole);
    proxy->setSortCaseSensitivity(Qt::CaseInsensitive);
    m_view->setModel(proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(HubListModel::NameColumn, Qt::AscendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setAlternatingRowColors(true);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setSectionResizeMode(HubListModel::HostColumn, QHeaderView::Stretch);
    m_view->horizontalHeader()->setSectionResizeMode(HubListModel::EndpointColumn, QHeaderView::ResizeToContents);
    m_view->setColumnWidth(HubListModel::NameColumn, 160);
    m_view->setColumnWidth(HubListModel::PolicyColumn, 140);
    m_view->setAccessibleName(tr("Hubs"));

    // Shown instead of the empty table: a centred column of fixed width, so that the wrapped text
    // gets the height it needs (labels placed with an alignment flag lose height-for-width).
    auto *empty = new QWidget(this);
    auto *column = new QWidget(empty);
    column->setFixedWidth(460);
    auto *columnLayout = new QVBoxLayout(column);
    auto *emptyTitle = new QLabel(tr("No hubs yet"), column);
    QFont emptyFont = emptyTitle->font();
    emptyFont.setPointSizeF(emptyFont.pointSizeF() * 1.3);
    emptyTitle->setFont(emptyFont);
    emptyTitle->setAlignment(Qt::AlignCenter);
    auto *emptyText = new QLabel(tr("Add a hub by pasting the connection string of one of its shared access policies "
                                    "(for example iothubowner), from the Azure portal or from the sandbox hub."),
        column);
    emptyText->setWordWrap(true);
    emptyText->setAlignment(Qt::AlignCenter);
    auto *emptyAdd = new QPushButton(tr("Add Hub…"), column);
    auto *buttonRow = new QHBoxLayout;
    buttonRow->addStretch(1);
    buttonRow->addWidget(emptyAdd);
    buttonRow->addStretch(1);
    columnLayout->addWidget(emptyTitle);
    columnLayout->addWidget(emptyText);
    columnLayout->addSpacing(8);
    columnLayout->addLayout(buttonRow);
    auto *centreRow = new QHBoxLayout;
    centreRow->addStretch(1);
    centreRow->addWidget(column);
    centreRow->addStretch(1);
    auto *emptyLayout = new QVBoxLayout(empty);
    emptyLayout->addStretch(1);
    emptyLayout->addLayout(centreRow);
    emptyLayout->addStretch(2);

    m_stack->addWidget(m_view);
    m_stack->addWidget(empty);

    m_details->setWordWrap(true);
    m_details->setTextFormat(Qt::PlainText);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setForegroundRole(QPalette::PlaceholderText);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(header);
    layout->addLayout(buttons);
    layout->addWidget(m_stack, 1);
    layout->addWidget(m_details);

    connect(m_add, &QPushButton::clicked, this, &HubsPage::addHub);
    connect(emptyAdd, &QPushButton::clicked, this, &HubsPage::addHub);
    connect(m_remove, &QPushButton::clicked, this, &HubsPage::removeSelectedHub);
    connect(m_makeCurrent, &QPushButton::clicked, this, &HubsPage::makeSelectedHubCurrent);
    connect(m_eventHub, &QPushButton::clicked, this, &HubsPage::editSelectedHubsEventHub);
    connect(m_view, &QTableView::doubleClicked, this, &HubsPage::makeSelectedHubCurrent);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &HubsPage::updateState);
    connect(m_model, &QAbstractItemModel::modelReset, this, &HubsPage::updateState);
    connect(&m_settings, &Settings::changed, this, &HubsPage::updateState);

    updateState();
    if (!m_settings.currentHub().isEmpty())
        selectHub(m_settings.currentHub());
}

QString HubsPage::selectedHub() const
{
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : rows.first().data(HubListModel::NameRole).toString();
}

void HubsPage::selectHub(const QString &name)
{
    const auto *proxy = static_cast<QSortFilterProxyModel *>(m_view->model());
    const int row = m_model->rowOf(name);
    if (row < 0)
        return;
    m_view->selectRow(proxy->mapFromSource(m_model->index(row, 0)).row());
}

void HubsPage::updateState()
{
    m_stack->setCurrentIndex(m_model->rowCount() == 0 ? 1 : 0);
    const QString name = selectedHub();
    m_remove->setEnabled(!name.isEmpty());
    m_makeCurrent->setEnabled(!name.isEmpty() && name != m_settings.currentHub());
    m_remove->setVisible(m_model->rowCount() > 0);
    m_makeCurrent->setVisible(m_model->rowCount() > 0);
    m_eventHub->setEnabled(!name.isEmpty());
    m_eventHub->setVisible(m_model->rowCount() > 0);
    m_add->setVisible(m_model->rowCount() > 0);

    const auto hub = name.isEmpty() ? std::nullopt : m_hubs.find(name);
    if (!hub) {
        m_details->setText(m_model->rowCount() > 0 ? tr("Select a hub to see where its key is kept.") : QString());
        return;
    }
    QString text = tr("%1 · %2 · REST port %3 · MQTT port %4 · key in the keychain as \"%5\"")
                       .arg(hub->name, hub->restBaseUrl().toString())
                       .arg(hub->effectiveRestPort())
                       .arg(hub->effectiveMqttPort())
                       .arg(hub->secretName());
    if (!hub->caFile.isEmpty())
        text += tr(" · trusts %1").arg(hub->caFile);
    if (hub->eventHub)
        text += tr(" · telemetry through its Event Hub-compatible connection string, in the keychain as \"%1\"")
                    .arg(hub->eventHubSecretName());
    m_details->setText(text);
}

void HubsPage::addHub()
{
    AddHubDialog dialog(m_hubs, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const HubProfile added = dialog.addedHub();
    selectHub(added.name);
    Q_EMIT statusMessage(tr("Added hub \"%1\"; its key is in the system keychain.").arg(added.name));
    if (m_settings.currentHub().isEmpty()) {
        if (auto made = m_settings.setCurrentHub(added.name); !made)
            Q_EMIT statusMessage(made.error().message); // added all the same, not current
    }
}

void HubsPage::removeSelectedHub()
{
    const QString name = selectedHub();
    if (name.isEmpty())
        return;
    const auto answer = QMessageBox::question(this, tr("Remove Hub"),
        tr("Remove the hub \"%1\" from this computer?\n\nIts connection string is deleted from the keychain. The hub "
           "and its devices in Azure are not touched.")
            .arg(name),
        QMessageBox::Cancel | QMessageBox::Yes, QMessageBox::Cancel);
    if (answer != QMessageBox::Yes)
        return;
    m_remove->setEnabled(false);
    m_hubs.remove(name).then(this, [this, name](Result<void> removed) {
        if (!removed) {
            QMessageBox::warning(this, tr("Remove Hub"), removed.error().message);
            updateState();
            return;
        }
        Q_EMIT statusMessage(tr("Removed hub \"%1\".").arg(name));
    });
}

void HubsPage::editSelectedHubsEventHub()
{
    const QString name = selectedHub();
    if (name.isEmpty())
        return;
    const auto before = m_hubs.find(name);
    const bool kept = before && before->eventHub;
    EventHubDialog dialog(m_hubs, name, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const auto after = m_hubs.find(name);
    const bool keptNow = after && after->eventHub;
    if (keptNow)
        Q_EMIT statusMessage(
            tr("Hub \"%1\": telemetry is read with its Event Hub-compatible connection string, which is in the "
               "system keychain.")
                .arg(name));
    else if (kept)
        Q_EMIT statusMessage(tr("Hub \"%1\": telemetry is read through the hub's redirect again.").arg(name));
    updateState();
}

void HubsPage::makeSelectedHubCurrent()
{
    const QString name = selectedHub();
    if (name.isEmpty())
        return;
    if (auto saved = m_settings.setCurrentHub(name); !saved) {
        Q_EMIT statusMessage(saved.error().message);
        return;
    }
    Q_EMIT statusMessage(tr("\"%1\" is now the current hub.").arg(name));
}

} // namespace Onboarder
