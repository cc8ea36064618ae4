#include "mainwindow.h"

#include "common/appinfo.h"
#include "common/logging.h"
#include "common/settings.h"
#include "devicespage.h"
#include "dps/dpsstore.h"
#include "dpspage.h"
#include "hub/hubstore.h"
#include "hubspage.h"
#include "modempage.h"
#include "relaypage.h"
#include "stationpage.h"
#include "telemetrypage.h"

#include <QApplication>
#include <QCloseEvent>
#include <QHBoxLayout>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyle>

namespace Onboarder {

MainWindow::MainWindow(Settings &settings, HubStore &hubs, HubSession &session, CredentialStore &credentials,
    SecretStore &secrets, QWidget *parent)
    : QMainWindow(parent)
    , m_settings(settings)
    , m_hubs(hubs)
    , m_navigation(new QListWidget(this))
    , m_pages(new QStackedWidget(this))
    , m_hubsPage(new HubsPage(hubs, settings, this))
    , m_devicesPage(new DevicesPage(session, credentials, settings, this))
    , m_modemPage(new ModemPage(session, credentials, this))
    , m_relayPage(new RelayPage(hubs, secrets, credentials, this))
    , m_telemetryPage(new TelemetryPage(session, hubs, this))
    , m_dpsStore(new DpsStore(settings, secrets, this))
    , m_stationPage(new StationPage(hubs, *m_dpsStore, credentials, this))
    , m_dpsPage(new DpsPage(*m_dpsStore, credentials, this))
{
    m_navigation->setIconSize(QSize(24, 24));
    m_navigation->setFixedWidth(180);
    m_navigation->setFrameShape(QFrame::NoFrame);
    m_navigation->setAccessibleName(tr("Pages"));
    QPalette navPalette = m_navigation->palette();
    navPalette.setColor(QPalette::Base, navPalette.color(QPalette::Window).darker(104));
    m_navigation->setPalette(navPalette);

    addPage(m_hubsPage, tr("Hubs"), style()->standardIcon(QStyle::SP_DriveNetIcon));
    addPage(m_devicesPage, tr("Devices"), style()->standardIcon(QStyle::SP_ComputerIcon));
    addPage(m_telemetryPage, tr("Telemetry"), style()->standardIcon(QStyle::SP_FileDialogContentsView));
    addPage(m_modemPage, tr("Modem"), style()->standardIcon(QStyle::SP_DriveHDIcon));
    addPage(m_stationPage, tr("Station"), style()->standardIcon(QStyle::SP_DialogApplyButton));
    addPage(m_dpsPage, tr("Provisioning"), style()->standardIcon(QStyle::SP_FileDialogDetailedView));
    addPage(m_relayPage, tr("Relay"), style()->standardIcon(QStyle::SP_BrowserReload));

    auto *central = new QWidget(this);
    auto *layout = new QHBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_navigation);
    auto *pageFrame = new QWidget(central);
    auto *pageLayout = new QHBoxLayout(pageFrame);
    pageLayout->setContentsMargins(18, 14, 18, 10);
    pageLayout->addWidget(m_pages);
    layout->addWidget(pageFrame, 1);
    setCentralWidget(central);

    connect(m_navigation, &QListWidget::currentRowChanged, m_pages, &QStackedWidget::setCurrentIndex);
    const auto showMessage = [this](const QString &message) { statusBar()->showMessage(message, 8000); };
    connect(m_hubsPage, &HubsPage::statusMessage, this, showMessage);
    connect(m_devicesPage, &DevicesPage::statusMessage, this, showMessage);
    connect(m_modemPage, &ModemPage::statusMessage, this, showMessage);
    connect(m_relayPage, &RelayPage::statusMessage, this, showMessage);
    connect(m_telemetryPage, &TelemetryPage::statusMessage, this, showMessage);
    connect(m_dpsPage, &DpsPage::statusMessage, this, showMessage);
    connect(m_stationPage, &StationPage::statusMessage, this, showMessage);
    connect(&m_settings, &Settings::changed, this, &MainWindow::updateTitle);
    connect(&m_hubs, &HubStore::hubsChanged, this, &MainWindow::updateTitle);
    // Straight to the devices when there is a hub to work on; else where one is added.
    showPage(m_settings.currentHub().isEmpty() ? static_cast<QWidget *>(m_hubsPage) : m_devicesPage);

    createMenus();
    updateTitle();
    statusBar()->showMessage(tr("Ready"), 3000);

    if (!restoreGeometry(m_settings.mainWindowGeometry()))
        resize(980, 620);
}

void MainWindow::addPage(QWidget *page, const QString &title, const QIcon &icon)
{
    m_pages->addWidget(page);
    auto *item = new QListWidgetItem(icon, title, m_navigation);
    item->setSizeHint(QSize(0, 40));
}

void MainWindow::showPage(QWidget *page)
{
    m_navigation->setCurrentRow(m_pages->indexOf(page));
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QAction *addHub = file->addAction(tr("&Add Hub…"), m_hubsPage, &HubsPage::addHub);
    addHub->setShortcut(QKeySequence::New);
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Onboarder"), this, &MainWindow::showAbout);
}

void MainWindow::updateTitle()
{
    const QString current = m_settings.currentHub();
    setWindowTitle(current.isEmpty() ? tr("Onboarder") : tr("%1 — Onboarder").arg(current));
}

void MainWindow::showAbout()
{
    QMessageBox::about(this, tr("About Onboarder"),
        tr("<h3>Onboarder %1</h3><p>Onboards and monitors Azure IoT Hub devices: registers them, "
           "gives them credentials, writes those into nRF91 modems and relays their telemetry.</p>"
           "<p>Keys and connection strings are kept in the system keychain only.</p>")
            .arg(AppInfo::version()));
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (auto saved = m_settings.setMainWindowGeometry(saveGeometry()); !saved)
        qCWarning(lcUi).noquote() << saved.error().message; // closing all the same
    // A running relay first stops in order (what is in flight to the hub gets its acknowledgement, a few
    // seconds at most); the window closes once it has.
    if (m_relayPage->isRunning()) {
        event->ignore();
        if (!m_closingAfterRelay) {
            m_closingAfterRelay = true;
            connect(m_relayPage, &RelayPage::relayStopped, this, &QWidget::close, Qt::QueuedConnection);
            statusBar()->showMessage(tr("Stopping the relay before closing…"));
            m_relayPage->stop();
        }
        return;
    }
    event->accept();
}

} // namespace Onboarder
