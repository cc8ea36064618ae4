#include "devicespage.h"

#include "common/settings.h"
#include "createdevicedialog.h"
#include "devicelistmodel.h"
#include "devicepage.h"
#include "fielderror.h"
#include "hub/hubsession.h"
#include "pageheader.h"

#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressDialog>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStackedWidget>
#include <QStyle>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace Onboarder {

namespace {

enum StackIndex { ListIndex, MessageIndex, DeviceIndex };

} // namespace

DevicesPage::DevicesPage(HubSession &session, CredentialStore &credentials, Settings &settings, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_credentials(credentials)
    , m_settings(settings)
    , m_model(new DeviceListModel(this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_stack(new QStackedWidget(this))
    , m_listPane(new QWidget(this))
    , m_message(new QLabel(this))
    , m_retry(new QPushButton(tr("Try Again"), this))
    , m_filter(new QLineEdit(this))
    , m_status(new QComboBox(this))
    , m_queryError(FieldError::create(this))
    , m_view(new QTableView(this))
    , m_create(new QPushButton(tr("New Device…"), this))
    , m_importButton(new QPushButton(tr("Import…"), this))
    , m_refresh(new QPushButton(tr("Refresh"), this))
    , m_enable(new QPushButton(tr("Enable"), this))
    , m_disable(new QPushButton(tr("Disable"), this))
    , m_delete(new QPushButton(tr("Delete…"), this))
    , m_footer(new QLabel(this))
    , m_filterDelay(new QTimer(this))
    , m_devicePage(new DevicePage(session, credentials, settings, this))
{
    auto *header = new PageHeader(tr("Devices"),
        tr("The devices registered in the current hub. The filter runs on the hub, so it "
           "finds devices among any number."),
        this);

    setUpListPane();
    QWidget *messagePane = createMessagePane();
    m_stack->insertWidget(ListIndex, m_listPane);
    m_stack->insertWidget(MessageIndex, messagePane);
    m_stack->insertWidget(DeviceIndex, m_devicePage);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(header);
    layout->addWidget(m_stack, 1);

    connectSignals();

    m_model->setQuery(DeviceListQuery::fromFilter({}));
    m_model->setClient(m_session.client());
    updateSession();
}

// The list: filter row, actions, the table of devices and the footer that counts them.
void DevicesPage::setUpListPane()
{
    m_filter->setPlaceholderText(tr("Filter: the start of a device ID, or a condition such as tags.site = 'bench-1'"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setAccessibleName(tr("Filter"));
    m_status->addItem(tr("All devices"), int(DeviceListQuery::Status::Any));
    m_status->addItem(tr("Enabled"), int(DeviceListQuery::Status::Enabled));
    m_status->addItem(tr("Disabled"), int(DeviceListQuery::Status::Disabled));
    m_status->addItem(tr("Connected"), int(DeviceListQuery::Status::Connected));
    m_status->addItem(tr("Disconnected"), int(DeviceListQuery::Status::Disconnected));
    m_status->setAccessibleName(tr("Show"));
    m_filterDelay->setSingleShot(true);
    m_filterDelay->setInterval(300);

    m_create->setIcon(style()->standardIcon(QStyle::SP_FileDialogNewFolder));
    m_refresh->setIcon(style()->standardIcon(QStyle::SP_BrowserReload));
    m_refresh->setShortcut(QKeySequence::Refresh);
    m_delete->setIcon(style()->standardIcon(QStyle::SP_TrashIcon));

    auto *filterRow = new QHBoxLayout;
    filterRow->addWidget(m_filter, 1);
    filterRow->addWidget(m_status);
    filterRow->addWidget(m_refresh);

    auto *actions = new QHBoxLayout;
    actions->addWidget(m_create);
    actions->addWidget(m_importButton);
    actions->addStretch(1);
    actions->addWidget(m_enable);
    actions->addWidget(m_disable);
    actions->addWidget(m_delete);

    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(DeviceListModel::SortRole);
    m_proxy->setSortCaseSensitivity(Qt::CaseInsensitive);
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(-1, Qt::AscendingOrder); // the hub's order until the user asks for another
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 8);
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_view->horizontalHeader()->setSectionResizeMode(DeviceListModel::IdColumn, QHeaderView::Stretch);
    m_view->setColumnWidth(DeviceListModel::StatusColumn, 90);
    m_view->setColumnWidth(DeviceListModel::ConnectionColumn, 110);
    m_view->setColumnWidth(DeviceListModel::LastActivityColumn, 150);
    m_view->setColumnWidth(DeviceListModel::AuthColumn, 130);
    m_view->setColumnWidth(DeviceListModel::MessagesColumn, 70);
    m_view->setAccessibleName(tr("Devices"));
    m_view->setToolTip(tr("Double-click a device to open it. Sorting orders the devices loaded so far."));

    m_footer->setForegroundRole(QPalette::PlaceholderText);
    m_footer->setTextFormat(Qt::PlainText);

    auto *listLayout = new QVBoxLayout(m_listPane);
    listLayout->setContentsMargins(0, 0, 0, 0);
    listLayout->addLayout(filterRow);
    listLayout->addWidget(m_queryError);
    listLayout->addLayout(actions);
    listLayout->addWidget(m_view, 1);
    listLayout->addWidget(m_footer);
}

// Shown instead of the list when there is no hub or it cannot be reached: the reason and Try Again.
QWidget *DevicesPage::createMessagePane()
{
    auto *messagePane = new QWidget(this);
    m_message->setWordWrap(true);
    m_message->setAlignment(Qt::AlignCenter);
    m_message->setTextFormat(Qt::PlainText);
    auto *messageLayout = new QVBoxLayout(messagePane);
    messageLayout->addStretch(1);
    messageLayout->addWidget(m_message);
    auto *retryRow = new QHBoxLayout;
    retryRow->addStretch(1);
    retryRow->addWidget(m_retry);
    retryRow->addStretch(1);
    messageLayout->addLayout(retryRow);
    messageLayout->addStretch(2);

    return messagePane;
}

void DevicesPage::connectSignals()
{
    connect(m_filter, &QLineEdit::textChanged, m_filterDelay, qOverload<>(&QTimer::start));
    connect(m_filter, &QLineEdit::returnPressed, this, &DevicesPage::applyFilter);
    connect(m_filterDelay, &QTimer::timeout, this, &DevicesPage::applyFilter);
    connect(m_status, &QComboBox::currentIndexChanged, this, &DevicesPage::applyFilter);
    connect(m_refresh, &QPushButton::clicked, this, &DevicesPage::refresh);
    connect(m_create, &QPushButton::clicked, this, &DevicesPage::createDevice);
    connect(m_importButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Import Devices"), QString(), tr("Device lists (*.csv *.jsonl *.ndjson);;All files (*)"));
        if (!path.isEmpty())
            importFile(path);
    });
    connect(m_enable, &QPushButton::clicked, this, &DevicesPage::enableSelected);
    connect(m_disable, &QPushButton::clicked, this, &DevicesPage::disableSelected);
    connect(m_delete, &QPushButton::clicked, this, &DevicesPage::deleteSelected);
    connect(m_retry, &QPushButton::clicked, &m_session, &HubSession::reopen);
    connect(m_view, &QTableView::activated, this,
        [this](const QModelIndex &index) { openDevice(index.data(DeviceListModel::DeviceIdRole).toString()); });
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &DevicesPage::updateState);
    connect(m_model, &DeviceListModel::loadingChanged, this, &DevicesPage::updateFooter);
    connect(m_model, &DeviceListModel::totalCountChanged, this, &DevicesPage::updateFooter);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &DevicesPage::updateFooter);
    connect(m_model, &QAbstractItemModel::modelReset, this, &DevicesPage::updateFooter);
    connect(m_model, &DeviceListModel::queryFailed, this,
        [this](const Error &error) { FieldError::show(m_queryError, error.message); });
    connect(m_model, &DeviceListModel::refreshed, this, [this] { selectDevices(std::exchange(m_keepSelection, {})); });
    connect(&m_session, &HubSession::stateChanged, this, &DevicesPage::updateSession);
    connect(&m_session, &HubSession::clientChanged, m_model, &DeviceListModel::setClient);
    connect(m_devicePage, &DevicePage::backRequested, this, &DevicesPage::showList);
    connect(m_devicePage, &DevicePage::deviceChanged, this, &DevicesPage::refresh);
    connect(m_devicePage, &DevicePage::statusMessage, this, &DevicesPage::statusMessage);
}

void DevicesPage::updateSession()
{
    switch (m_session.state()) {
    case HubSession::State::NoHub:
        m_message->setText(tr("There is no current hub. Add one on the Hubs page, or make one current there."));
        m_retry->hide();
        m_stack->setCurrentIndex(MessageIndex);
        break;
    case HubSession::State::Opening:
        m_message->setText(tr("Opening the hub \"%1\"…").arg(m_session.profile().name));
        m_retry->hide();
        m_stack->setCurrentIndex(MessageIndex);
        break;
    case HubSession::State::Failed:
        m_message->setText(
            tr("Cannot open the hub \"%1\": %2").arg(m_session.profile().name, m_session.errorMessage()));
        m_retry->show();
        m_stack->setCurrentIndex(MessageIndex);
        break;
    case HubSession::State::Ready:
        if (m_stack->currentIndex() == MessageIndex)
            m_stack->setCurrentIndex(ListIndex);
        break;
    }
    updateState();
    updateFooter();
}

QStringList DevicesPage::selectedDeviceIds() const
{
    QStringList ids;
    for (const QModelIndex &index : m_view->selectionModel()->selectedRows())
        ids.append(index.data(DeviceListModel::DeviceIdRole).toString());
    return ids;
}

void DevicesPage::selectDevices(const QStringList &ids)
{
    QItemSelection selection;
    for (const QString &id : ids) {
        const int row = m_model->rowOf(id);
        if (row < 0)
            continue;
        const QModelIndex index = m_proxy->mapFromSource(m_model->index(row, 0));
        selection.select(index, index);
    }
    m_view->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

void DevicesPage::updateState()
{
    const bool ready = m_session.state() == HubSession::State::Ready;
    const bool selected = !m_view->selectionModel()->selectedRows().isEmpty();
    const bool busy = m_batch != nullptr || m_import != nullptr;
    m_create->setEnabled(ready && !busy);
    m_importButton->setEnabled(ready && !busy);
    m_refresh->setEnabled(ready);
    m_enable->setEnabled(ready && selected && !busy);
    m_disable->setEnabled(ready && selected && !busy);
    m_delete->setEnabled(ready && selected && !busy);
}

void DevicesPage::updateFooter()
{
    if (m_session.state() != HubSession::State::Ready) {
        m_footer->clear();
        return;
    }
    const QLocale locale;
    const int loaded = m_model->rowCount();
    const qint64 total = m_model->totalCount();
    QString text;
    if (total >= 0)
        text = total == 1 ? tr("1 device") : tr("%1 devices").arg(locale.toString(total));
    if (total < 0 || loaded < total)
        text += (text.isEmpty() ? QString() : tr(", ")) + tr("%1 loaded").arg(locale.toString(loaded));
    if (m_model->isLoading())
        text += tr(" · loading…");
    else if (m_model->hasMore())
        text += tr(" · scroll down for more");
    m_footer->setText(text);
}

void DevicesPage::applyFilter()
{
    m_filterDelay->stop();
    const auto status = DeviceListQuery::Status(m_status->currentData().toInt());
    const DeviceListQuery query = DeviceListQuery::fromFilter(m_filter->text(), status);
    m_status->setEnabled(!query.userQuery);
    m_queryError->hide();
    if (query.select == m_model->query().select)
        return;
    m_model->setQuery(query);
}

void DevicesPage::refresh()
{
    m_queryError->hide();
    m_keepSelection = selectedDeviceIds();
    m_model->refresh();
}

void DevicesPage::showList()
{
    m_stack->setCurrentIndex(m_session.state() == HubSession::State::Ready ? ListIndex : MessageIndex);
    m_view->setFocus();
}

void DevicesPage::openDevice(const QString &id)
{
    if (id.isEmpty() || !m_session.client())
        return;
    m_devicePage->open(id);
    m_stack->setCurrentIndex(DeviceIndex);
}

void DevicesPage::createDevice()
{
    if (!m_session.client())
        return;
    CreateDeviceDialog dialog(*m_session.client(), m_credentials, m_session.profile().name, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const QString id = dialog.createdDevice().id;
    Q_EMIT statusMessage(tr("Registered device \"%1\".").arg(id));
    m_keepSelection = {id};
    m_model->refresh();
    openDevice(id);
}

void DevicesPage::runBatch(DeviceBatch::Operation operation)
{
    HubClient *client = m_session.client();
    const QStringList ids = selectedDeviceIds();
    if (!client || ids.isEmpty() || m_batch)
        return;

    QString question;
    QString title;
    switch (operation) {
    case DeviceBatch::Operation::Enable:
        title = tr("Enable Devices");
        question = ids.size() == 1 ? tr("Enable the device \"%1\"? It can connect to the hub again.").arg(ids.first())
                                   : tr("Enable %1 devices? They can connect to the hub again.").arg(ids.size());
        break;
    case DeviceBatch::Operation::Disable:
        title = tr("Disable Devices");
        question = ids.size() == 1
            ? tr("Disable the device \"%1\"? It is disconnected and cannot connect until it is enabled again.")
                  .arg(ids.first())
            : tr("Disable %1 devices? They are disconnected and cannot connect until they are enabled again.")
                  .arg(ids.size());
        break;
    case DeviceBatch::Operation::Delete:
        title = tr("Delete Devices");
        question = ids.size() == 1
            ? tr("Delete the device \"%1\" from the hub?\n\nIts identity, keys and twin are gone for good; the device "
                 "cannot connect any more.")
                  .arg(ids.first())
            : tr("Delete %1 devices from the hub?\n\nTheir identities, keys and twins are gone for good; the devices "
                 "cannot connect any more.")
                  .arg(ids.size());
        break;
    }
    const auto yes = operation == DeviceBatch::Operation::Delete ? QMessageBox::Yes : QMessageBox::Ok;
    if (QMessageBox::question(this, title, question, QMessageBox::Cancel | yes, QMessageBox::Cancel) != yes)
        return;

    m_batch = new DeviceBatch(*client, operation, ids, this);
    auto *progress = new QProgressDialog(title, tr("Cancel"), 0, int(ids.size()), this);
    progress->setWindowTitle(title);
    progress->setWindowModality(Qt::WindowModal);
    progress->setMinimumDuration(300);
    progress->setAutoClose(false);
    progress->setAutoReset(false);
    progress->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_batch, &DeviceBatch::progress, progress, [progress](int done, int total) {
        progress->setValue(done);
        progress->setLabelText(tr("%1 of %2 devices…").arg(done).arg(total));
    });
    connect(progress, &QProgressDialog::canceled, m_batch, &DeviceBatch::cancel);
    connect(m_batch, &DeviceBatch::finished, progress, &QWidget::close);
    connect(m_batch, &DeviceBatch::finished, this, &DevicesPage::batchFinished);
    updateState();
    m_batch->start();
}

void DevicesPage::batchFinished()
{
    DeviceBatch *batch = std::exchange(m_batch, nullptr);
    batch->deleteLater();
    const QString summary = batch->summary();
    if (!batch->failures().isEmpty())
        QMessageBox::warning(this, tr("Devices"), summary);
    Q_EMIT statusMessage(summary.section(u'\n', 0, 0));
    m_keepSelection = batch->operation() == DeviceBatch::Operation::Delete ? QStringList() : batch->done();
    m_model->refresh();
    updateState();
}

void DevicesPage::importFile(const QString &path)
{
    HubClient *client = m_session.client();
    if (!client || m_batch || m_import)
        return;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        QMessageBox::warning(this, tr("Import Devices"), tr("Cannot read %1: %2").arg(path, file.errorString()));
        return;
    }
    const QByteArray content = file.readAll();
    const auto read = DeviceImport::read(content, DeviceImport::formatFor(path, content));
    if (!read) {
        QMessageBox::warning(this, tr("Import Devices"), read.error().message);
        return;
    }
    m_importPath = path;
    m_importRefused = read->problems;
    m_importSummary.clear();
    m_import = new DeviceImporter(*client, read->rows, this);
    const QString title = tr("Import Devices");
    auto *progress = new QProgressDialog(tr("Registering the devices of %1…").arg(QFileInfo(path).fileName()),
        tr("Cancel"), 0, int(read->rows.size()), this);
    progress->setWindowTitle(title);
    progress->setWindowModality(Qt::WindowModal);
    progress->setMinimumDuration(300);
    progress->setAutoClose(false);
    progress->setAutoReset(false);
    progress->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_import, &DeviceImporter::progress, progress, [progress](int done, int total) {
        progress->setValue(done);
        progress->setLabelText(tr("%1 of %2 devices sent…").arg(done).arg(total));
    });
    // Cancel lets the batch in flight finish; the same import run again picks up where it stopped.
    connect(progress, &QProgressDialog::canceled, m_import, &DeviceImporter::cancel);
    connect(m_import, &DeviceImporter::finished, progress, &QWidget::close);
    connect(m_import, &DeviceImporter::finished, this, &DevicesPage::importFinished);
    updateState();
    m_import->start();
}

void DevicesPage::importFinished()
{
    DeviceImporter *import = std::exchange(m_import, nullptr);
    import->deleteLater();
    const QList<ImportProblem> problems = m_importRefused + import->problems();
    const QString report = m_importPath + QStringLiteral(".report.csv");
    QString summary = tr("Created %1 devices; %2 existed already; %3 not imported.")
                          .arg(import->created())
                          .arg(import->existing())
                          .arg(problems.size());
    if (!problems.isEmpty()) {
        QFile out(report);
        const bool written = out.open(QIODevice::WriteOnly | QIODevice::Truncate)
            && out.write(DeviceImport::reportCsv(problems)) >= 0 && out.flush();
        summary += u' '
            + (written ? tr("Their reasons are in %1.").arg(report)
                       : tr("The report %1 could not be written.").arg(report));
    }
    const std::optional<Error> failure = import->failure();
    if (import->wasCancelled() || failure)
        summary += u' '
            + tr("Stopped after %1 of %2 rows%3; import the same file again to finish.")
                  .arg(import->processed())
                  .arg(import->total())
                  .arg(failure ? QStringLiteral(": ") + failure->message : QString());
    m_importSummary = summary;
    if (!problems.isEmpty() || failure) {
        QMessageBox box(QMessageBox::Warning, tr("Import Devices"), summary, QMessageBox::Ok, this);
        QStringList first;
        for (const ImportProblem &problem : problems.mid(0, 20))
            first.append(problem.message);
        box.setDetailedText(first.join(u'\n'));
        box.exec();
    }
    Q_EMIT statusMessage(summary);
    m_model->refresh();
    updateState();
}

} // namespace Onboarder
