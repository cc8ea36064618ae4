#include "devicemodulestab.h"

#include "exportdialog.h"
#include "hub/connectionstring.h"
#include "hub/hubclient.h"
#include "hub/hubsession.h"
#include "hub/identifiers.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace Onboarder {

namespace {

constexpr int progressDelayMs = 300;

QString activityText(const QDateTime &time)
{
    return time.isValid() ? QLocale().toString(time.toLocalTime(), QLocale::ShortFormat)
                          : DeviceModulesTab::tr("never");
}

} // namespace

DeviceModulesTab::DeviceModulesTab(HubSession &session, Settings &settings, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_settings(settings)
    , m_list(new QTreeWidget(this))
    , m_newId(new QLineEdit(this))
    , m_add(new QPushButton(tr("Add Module"), this))
    , m_delete(new QPushButton(tr("Delete Module…"), this))
    , m_handOver(new QPushButton(tr("Hand Over Connection String…"), this))
    , m_reload(new QPushButton(tr("Reload"), this))
    , m_problem(new QLabel(this))
    , m_progress(new QProgressBar(this))
    , m_cancel(new QPushButton(tr("Cancel"), this))
    , m_progressDelay(new QTimer(this))
    , m_twin(new QPlainTextEdit(this))
{
    m_list->setColumnCount(ColumnCount);
    m_list->setHeaderLabels(
        {tr("Module"), tr("Connection"), tr("Last Activity"), tr("Authentication"), tr("Managed By")});
    m_list->setRootIsDecorated(false);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->setUniformRowHeights(true);
    m_list->header()->setSectionResizeMode(IdColumn, QHeaderView::Stretch);
    for (int column = ConnectionColumn; column < ColumnCount; ++column)
        m_list->header()->setSectionResizeMode(column, QHeaderView::ResizeToContents);

    m_newId->setPlaceholderText(tr("New module id, e.g. sensor-reader"));
    m_newId->setClearButtonEnabled(true);
    m_add->setToolTip(tr("Adds a module identity with keys made by the hub"));
    m_delete->setToolTip(tr("Deletes the selected module with its keys and twin"));
    m_handOver->setToolTip(tr("Hands the selected module's connection string over: expiring, to the clipboard, "
                              "OpenPGP or a QR code"));
    m_problem->setWordWrap(true);
    m_problem->setStyleSheet(QStringLiteral("color: palette(highlight);"));
    m_problem->hide();
    m_progress->setRange(0, 0);
    m_progress->setMaximumHeight(m_progress->sizeHint().height() / 2 + 2);
    m_progress->setTextVisible(false);
    m_progress->hide();
    m_cancel->setToolTip(tr("Stop waiting for the hub. A change it already made stays made."));
    m_cancel->hide();
    m_progressDelay->setSingleShot(true);
    m_progressDelay->setInterval(progressDelayMs);
    m_twin->setReadOnly(true);
    m_twin->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_twin->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_twin->setPlaceholderText(tr("Select a module to see its twin."));

    auto *addRow = new QHBoxLayout;
    addRow->addWidget(m_newId, 1);
    addRow->addWidget(m_add);
    addRow->addSpacing(12);
    addRow->addWidget(m_delete);
    addRow->addWidget(m_handOver);
    addRow->addWidget(m_reload);

    auto *progressRow = new QHBoxLayout;
    progressRow->addWidget(m_progress, 1);
    progressRow->addWidget(m_cancel);

    auto *twinBox = new QWidget(this);
    auto *twinLayout = new QVBoxLayout(twinBox);
    twinLayout->setContentsMargins(0, 0, 0, 0);
    twinLayout->addWidget(new QLabel(tr("Module twin"), twinBox));
    twinLayout->addWidget(m_twin, 1);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_list);
    split->addWidget(twinBox);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(tr("A module has credentials and a twin of its own; it connects as "
                                    "{device}/{module}, only while its device is enabled."),
        this));
    layout->addLayout(addRow);
    layout->addWidget(m_problem);
    layout->addLayout(progressRow);
    layout->addWidget(split, 1);

    connect(m_add, &QPushButton::clicked, this, &DeviceModulesTab::addModule);
    connect(m_newId, &QLineEdit::returnPressed, this, &DeviceModulesTab::addModule);
    connect(m_newId, &QLineEdit::textChanged, this, &DeviceModulesTab::updateButtons);
    connect(m_delete, &QPushButton::clicked, this, &DeviceModulesTab::deleteSelected);
    connect(m_handOver, &QPushButton::clicked, this, &DeviceModulesTab::handOverSelected);
    connect(m_reload, &QPushButton::clicked, this, &DeviceModulesTab::reload);
    connect(m_cancel, &QPushButton::clicked, this, &DeviceModulesTab::cancel);
    connect(m_list, &QTreeWidget::itemSelectionChanged, this, [this] {
        updateButtons();
        loadTwin();
    });
    connect(m_progressDelay, &QTimer::timeout, this, [this] {
        m_progress->show();
        m_cancel->show();
    });
    updateButtons();
}

DeviceModulesTab::~DeviceModulesTab() = default;

void DeviceModulesTab::setDeviceId(const QString &id)
{
    m_id = id;
    m_loadedFor.clear();
    m_modules.clear();
    ++m_generation;
    idle();
    m_problem->hide();
    m_newId->clear();
    m_list->clear();
    m_twin->clear();
    updateButtons();
    if (isVisible())
        reload();
}

void DeviceModulesTab::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (!m_id.isEmpty() && m_loadedFor != m_id)
        reload();
}

QString DeviceModulesTab::selectedModule() const
{
    const QList<QTreeWidgetItem *> selected = m_list->selectedItems();
    return selected.isEmpty() ? QString() : selected.first()->text(IdColumn);
}

void DeviceModulesTab::updateButtons()
{
    const bool selected = !selectedModule().isEmpty();
    m_add->setEnabled(!m_id.isEmpty() && !m_newId->text().trimmed().isEmpty());
    m_delete->setEnabled(selected);
    m_handOver->setEnabled(selected);
    m_reload->setEnabled(!m_id.isEmpty());
}

void DeviceModulesTab::begin()
{
    if (m_busy++ == 0)
        m_progressDelay->start();
    setCursor(Qt::BusyCursor);
}

bool DeviceModulesTab::end(quint64 generation)
{
    if (generation != m_generation)
        return false; // cancelled, or another device: the tab is idle already
    if (--m_busy <= 0)
        idle();
    return true;
}

void DeviceModulesTab::idle()
{
    m_busy = 0;
    m_progressDelay->stop();
    m_progress->hide();
    m_cancel->hide();
    unsetCursor();
}

void DeviceModulesTab::cancel()
{
    ++m_generation; // the answers still to come are dropped
    idle();
    Q_EMIT statusMessage(tr("Stopped waiting for the hub."));
}

void DeviceModulesTab::showProblem(const QString &text)
{
    m_problem->setText(text);
    m_problem->setVisible(!text.isEmpty());
}

void DeviceModulesTab::reload()
{
    HubClient *client = m_session.client();
    if (!client || m_id.isEmpty())
        return;
    const QString select = selectedModule();
    const quint64 generation = m_generation;
    const QString deviceId = m_id;
    m_loadedFor = m_id;
    begin();
    // The answer may come after this tab is gone: it runs in the client's context and looks for the tab.
    QPointer<DeviceModulesTab> self(this);
    client->modules(deviceId).then(client, [this, self, generation, select](Result<QList<ModuleIdentity>> modules) {
        if (!self || !end(generation))
            return;
        if (!modules) {
            showProblem(modules.error().message);
            return;
        }
        showProblem({});
        m_modules = *modules;
        showModules(select);
    });
}

void DeviceModulesTab::showModules(const QString &select)
{
    const QSignalBlocker blocker(m_list);
    m_list->clear();
    for (const ModuleIdentity &m : std::as_const(m_modules)) {
        auto *item = new QTreeWidgetItem(m_list);
        item->setText(IdColumn, m.moduleId);
        item->setText(
            ConnectionColumn, m.connectionState == QStringLiteral("Connected") ? tr("Connected") : tr("Disconnected"));
        item->setText(ActivityColumn, activityText(m.lastActivity));
        item->setText(AuthColumn,
            m.authType == QStringLiteral("sas")                        ? tr("Shared access key")
                : m.authType == QStringLiteral("selfSigned")           ? tr("X.509 self-signed")
                : m.authType == QStringLiteral("certificateAuthority") ? tr("X.509 CA-signed")
                                                                       : tr("None"));
        item->setText(ManagedByColumn, m.managedBy);
        if (m.moduleId == select)
            item->setSelected(true);
    }
    if (m_modules.isEmpty()) {
        auto *item = new QTreeWidgetItem(m_list);
        item->setText(IdColumn, tr("This device has no modules."));
        item->setFlags(Qt::NoItemFlags);
    }
    updateButtons();
    loadTwin();
}

void DeviceModulesTab::loadTwin()
{
    HubClient *client = m_session.client();
    const QString moduleId = selectedModule();
    m_twin->clear();
    if (!client || moduleId.isEmpty())
        return;
    const quint64 generation = m_generation;
    begin();
    QPointer<DeviceModulesTab> self(this);
    client->moduleTwin(m_id, moduleId).then(client, [this, self, generation, moduleId](Result<DeviceTwin> twin) {
        if (!self || !end(generation) || selectedModule() != moduleId)
            return;
        m_twin->setPlainText(twin ? QString::fromUtf8(QJsonDocument(twin->document).toJson(QJsonDocument::Indented))
                                  : twin.error().message);
    });
}

void DeviceModulesTab::addModule()
{
    HubClient *client = m_session.client();
    const QString moduleId = m_newId->text().trimmed();
    if (!client || m_id.isEmpty() || moduleId.isEmpty())
        return;
    if (auto ok = Identifiers::validateModuleId(moduleId); !ok) {
        showProblem(ok.error().message);
        return;
    }
    ModuleIdentity module;
    module.deviceId = m_id;
    module.moduleId = moduleId;
    const quint64 generation = m_generation;
    begin();
    QPointer<DeviceModulesTab> self(this);
    client->createModule(module).then(client, [this, self, generation](Result<ModuleIdentity> created) {
        if (!self || !end(generation))
            return;
        if (!created) {
            showProblem(created.error().message);
            return;
        }
        showProblem({});
        m_newId->clear();
        Q_EMIT statusMessage(tr("Added module \"%1\" to \"%2\".").arg(created->moduleId, created->deviceId));
        m_modules.append(*created);
        std::sort(m_modules.begin(), m_modules.end(),
            [](const ModuleIdentity &a, const ModuleIdentity &b) { return a.moduleId < b.moduleId; });
        showModules(created->moduleId);
    });
}

void DeviceModulesTab::deleteSelected()
{
    HubClient *client = m_session.client();
    const QString moduleId = selectedModule();
    if (!client || moduleId.isEmpty())
        return;
    QMessageBox confirm(QMessageBox::Warning, tr("Delete Module"),
        tr("Delete module \"%1\" of \"%2\"? Its keys and twin go with it; a program that connects as this module "
           "is refused from then on.")
            .arg(moduleId, m_id),
        QMessageBox::Yes | QMessageBox::Cancel, this);
    confirm.setDefaultButton(QMessageBox::Cancel);
    confirm.button(QMessageBox::Yes)->setText(tr("Delete"));
    if (confirm.exec() != QMessageBox::Yes)
        return;
    const quint64 generation = m_generation;
    begin();
    QPointer<DeviceModulesTab> self(this);
    client->deleteModule(m_id, moduleId).then(client, [this, self, generation, moduleId](Result<void> deleted) {
        if (!self || !end(generation))
            return;
        if (!deleted) {
            showProblem(deleted.error().message);
            return;
        }
        showProblem({});
        Q_EMIT statusMessage(tr("Deleted module \"%1\" of \"%2\".").arg(moduleId, m_id));
        m_modules.removeIf([&moduleId](const ModuleIdentity &m) { return m.moduleId == moduleId; });
        showModules({});
    });
}

void DeviceModulesTab::handOverSelected()
{
    const QString moduleId = selectedModule();
    const auto found = std::find_if(
        m_modules.cbegin(), m_modules.cend(), [&moduleId](const ModuleIdentity &m) { return m.moduleId == moduleId; });
    if (found == m_modules.cend())
        return;
    const ModuleIdentity &module = *found; // copied into the expiry maker: the list may change while the dialog is open
    const QString host = m_session.profile().hostName;
    if (module.authType != QStringLiteral("sas")) {
        showProblem(tr("Module \"%1\" authenticates with a certificate: its connection string holds no secret to hand "
                       "over.")
                        .arg(moduleId));
        return;
    }
    const ConnectionString cs
        = ConnectionString::deviceWithKey(host, module.deviceId, module.primaryKey).forModule(moduleId);
    ExportDialog dialog(tr("the connection string of module \"%1\" of \"%2\"").arg(moduleId, module.deviceId),
        SecretBytes::fromString(cs.toString()), m_settings, this);
    // Expiring unless the user chooses otherwise: a module token, no key.
    dialog.offerExpiry([host, module](qint64 seconds) -> Result<SecretBytes> {
        auto made = ConnectionString::deviceWithExpiringToken(host, module.deviceId,
            SecretBytes::fromString(QString(module.primaryKey)), QDateTime::currentSecsSinceEpoch() + seconds,
            module.moduleId);
        if (!made)
            return std::unexpected(made.error());
        return SecretBytes::fromString(made->toString());
    });
    dialog.exec();
}

} // namespace Onboarder
