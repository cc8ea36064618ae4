#include "modempage.h"

#include "atterminalview.h"
#include "credentials/credentialstore.h"
#include "hub/hubsession.h"
#include "modem/modemcredential.h"
#include "modem/modemcredentialstore.h"
#include "modem/nrf91modem.h"
#include "modemcheckview.h"
#include "pageheader.h"

#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QPointer>
#include <QProgressDialog>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

namespace Onboarder {

namespace {

constexpr int pathRole = Qt::UserRole + 1;

QString portText(const ModemPort &port)
{
    QString text = port.path;
    if (!port.board.isEmpty())
        text += QStringLiteral(" — ") + port.board;
    else if (!port.description.isEmpty())
        text += QStringLiteral(" — ") + port.description;
    if (port.role == ModemPort::Role::At && !port.board.isEmpty())
        text += ModemPage::tr(" (AT port)");
    else if (port.role == ModemPort::Role::Other)
        text += ModemPage::tr(" (not the AT port)");
    return text;
}

QString slotStateText(FlashSlot::State state)
{
    switch (state) {
    case FlashSlot::State::Pending: return ModemPage::tr("not looked at");
    case FlashSlot::State::Flashed: return ModemPage::tr("written and verified");
    case FlashSlot::State::Unverified: return ModemPage::tr("written, not verifiable (firmware lists no hashes)");
    case FlashSlot::State::Different: return ModemPage::tr("holds something else");
    case FlashSlot::State::Absent: return ModemPage::tr("empty");
    case FlashSlot::State::Unknown: return ModemPage::tr("unknown (the modem did not answer)");
    }
    return {};
}

} // namespace

ModemPage::ModemPage(HubSession &session, CredentialStore &credentials, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_credentials(credentials)
    , m_finder(new PortFinder(this))
    , m_ports(new QListWidget(this))
    , m_connect(new QPushButton(tr("Connect"), this))
    , m_identity(new QLabel(this))
    , m_status(new QLabel(this))
    , m_table(new QTableWidget(this))
    , m_refresh(new QPushButton(tr("Refresh"), this))
    , m_writeTag(new QSpinBox(this))
    , m_writeType(new QComboBox(this))
    , m_write(new QPushButton(tr("Write from File…"), this))
    , m_delete(new QPushButton(tr("Delete"), this))
    , m_flashDevice(new QComboBox(this))
    , m_flashTag(new QSpinBox(this))
    , m_flashSecondary(new QSpinBox(this))
    , m_flash(new QPushButton(tr("Flash Azure Credentials…"), this))
    , m_tabs(new QTabWidget(this))
    , m_checkView(new ModemCheckView(this))
    , m_terminal(new AtTerminalView(this))
{
    auto *header = new PageHeader(tr("Modem"),
        tr("An nRF91 modem on a serial port: its identity, the credentials in its security "
           "tags, and the Azure credentials of a device written into them."),
        this);

    m_ports->setAccessibleName(tr("Serial ports"));
    m_ports->setMaximumHeight(110);
    auto *portRow = new QHBoxLayout;
    portRow->addWidget(m_ports, 1);
    auto *portButtons = new QVBoxLayout;
    portButtons->addWidget(m_connect);
    portButtons->addStretch(1);
    portRow->addLayout(portButtons);

    m_identity->setTextFormat(Qt::PlainText);
    m_identity->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_identity->setWordWrap(true);
    m_status->setTextFormat(Qt::PlainText);
    m_status->setWordWrap(true);

    m_table->setColumnCount(3);
    m_table->setHorizontalHeaderLabels({tr("Tag"), tr("Type"), tr("SHA-256")});
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
    m_table->setColumnWidth(0, 90);
    m_table->setColumnWidth(1, 150);
    m_table->setAccessibleName(tr("Stored credentials"));

    m_writeTag->setRange(
        0, int(CredentialType::lastUserTag > quint32(INT_MAX) ? INT_MAX : CredentialType::lastUserTag));
    m_writeTag->setValue(10);
    for (int type = CredentialType::RootCa; type <= CredentialType::IdentityPublicKey; ++type)
        m_writeType->addItem(CredentialType::name(type), type);
    auto *writeRow = new QHBoxLayout;
    writeRow->addWidget(m_refresh);
    writeRow->addStretch(1);
    writeRow->addWidget(new QLabel(tr("Tag:"), this));
    writeRow->addWidget(m_writeTag);
    writeRow->addWidget(new QLabel(tr("Type:"), this));
    writeRow->addWidget(m_writeType);
    writeRow->addWidget(m_write);
    writeRow->addWidget(m_delete);

    auto *flashBox = new QGroupBox(tr("Azure IoT Hub credentials"), this);
    m_flashDevice->setAccessibleName(tr("Device"));
    m_flashDevice->setMinimumContentsLength(24);
    m_flashTag->setRange(0, INT_MAX);
    m_flashTag->setValue(10);
    m_flashSecondary->setRange(-1, INT_MAX);
    m_flashSecondary->setValue(11);
    m_flashSecondary->setSpecialValueText(tr("none"));
    auto *flashRow = new QHBoxLayout(flashBox);
    flashRow->addWidget(new QLabel(tr("Device:"), this));
    flashRow->addWidget(m_flashDevice, 1);
    flashRow->addWidget(new QLabel(tr("Tag:"), this));
    flashRow->addWidget(m_flashTag);
    flashRow->addWidget(new QLabel(tr("Secondary tag:"), this));
    flashRow->addWidget(m_flashSecondary);
    flashRow->addWidget(m_flash);
    m_flash->setToolTip(
        tr("DigiCert Global Root G2, the device certificate and its key into the tag; Microsoft RSA "
           "Root Certificate Authority 2017 into the secondary tag, as the nRF Connect SDK's Azure IoT Hub "
           "library expects"));

    auto *credentialsTab = new QWidget(this);
    auto *credentialsLayout = new QVBoxLayout(credentialsTab);
    credentialsLayout->addWidget(m_table, 1);
    credentialsLayout->addLayout(writeRow);
    credentialsLayout->addWidget(flashBox);
    m_tabs->addTab(credentialsTab, tr("Credentials"));
    m_tabs->addTab(m_checkView, tr("Check"));
    m_tabs->addTab(m_terminal, tr("Terminal"));

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(header);
    layout->addLayout(portRow);
    layout->addWidget(m_identity);
    layout->addWidget(m_tabs, 1);
    layout->addWidget(m_status);

    m_checkView->setKnownHashes(ModemCheck::knownRootHashes());
    const auto sideBusy = [this](bool busy) {
        m_sideBusy = busy;
        updateState();
    };
    connect(m_checkView, &ModemCheckView::busyChanged, this, sideBusy);
    connect(m_terminal, &AtTerminalView::busyChanged, this, sideBusy);
    connect(m_checkView, &ModemCheckView::finished, this, [this](const ModemCheckReport &report) {
        Q_EMIT statusMessage(tr("Modem check: %1").arg(report.verdictText));
    });

    connect(m_finder, &PortFinder::portsChanged, this, &ModemPage::showPorts);
    connect(m_connect, &QPushButton::clicked, this, [this] {
        if (isConnected()) {
            disconnectModem();
        } else if (QListWidgetItem *item = m_ports->currentItem()) {
            connectToPort(item->data(pathRole).toString());
        }
    });
    connect(m_ports, &QListWidget::itemDoubleClicked, this, [this](QListWidgetItem *item) {
        if (!isConnected())
            connectToPort(item->data(pathRole).toString());
    });
    connect(m_ports, &QListWidget::currentRowChanged, this, &ModemPage::updateState);
    connect(m_table, &QTableWidget::itemSelectionChanged, this, &ModemPage::updateState);
    connect(m_refresh, &QPushButton::clicked, this, &ModemPage::refreshCredentials);
    connect(m_write, &QPushButton::clicked, this, &ModemPage::chooseFileAndWrite);
    connect(m_delete, &QPushButton::clicked, this, &ModemPage::deleteSelected);
    connect(m_flash, &QPushButton::clicked, this, &ModemPage::flashAzure);
    connect(&m_credentials, &CredentialStore::credentialsChanged, this, &ModemPage::updateFlashDevices);
    connect(&m_session, &HubSession::stateChanged, this, &ModemPage::updateFlashDevices);

    showPorts(m_finder->scan());
    m_finder->startWatching();
    updateFlashDevices();
    showIdentity();
    updateState();
}

ModemPage::~ModemPage()
{
    if (m_job)
        m_job->cancel();
}

bool ModemPage::isConnected() const
{
    return m_modem && m_modem->isOpen();
}

void ModemPage::showPorts(const QList<ModemPort> &ports)
{
    const QString current = m_ports->currentItem() ? m_ports->currentItem()->data(pathRole).toString() : QString();
    m_ports->clear();
    int preferred = -1;
    for (const ModemPort &port : ports) {
        auto *item = new QListWidgetItem(portText(port), m_ports);
        item->setData(pathRole, port.path);
        item->setToolTip(
            port.serialNumber.isEmpty() ? port.path : tr("%1, serial number %2").arg(port.path, port.serialNumber));
        if (port.path == current
            || (preferred < 0 && current.isEmpty() && (port.role == ModemPort::Role::At || port.extra)))
            preferred = m_ports->count() - 1;
    }
    if (ports.isEmpty())
        m_status->setText(isConnected() ? m_status->text() : tr("No serial port found. Plug the modem in by USB."));
    if (preferred >= 0)
        m_ports->setCurrentRow(preferred);
    updateState();
}

void ModemPage::setBusy(bool busy, const QString &status)
{
    m_busy = busy;
    if (!status.isEmpty())
        m_status->setText(status);
    setCursor(busy ? Qt::BusyCursor : Qt::ArrowCursor);
    updateState();
}

void ModemPage::fail(const QString &message)
{
    setBusy(false);
    m_status->setText(message);
    Q_EMIT statusMessage(message);
}

void ModemPage::updateState()
{
    const bool connected = isConnected();
    Nrf91Modem *usable = connected ? m_modem.get() : nullptr;
    m_checkView->setModem(usable);
    m_terminal->setModem(usable);
    m_checkView->setBlocked(m_busy || m_terminal->isBusy());
    m_terminal->setBlocked(m_busy || m_checkView->isRunning());
    const bool busy = m_busy || m_sideBusy; // the check or the terminal uses the modem too
    m_connect->setText(connected ? tr("Disconnect") : tr("Connect"));
    m_connect->setEnabled(!busy && (connected || m_ports->currentItem()));
    m_ports->setEnabled(!connected && !busy);
    m_refresh->setEnabled(connected && !busy);
    m_write->setEnabled(connected && !busy);
    m_delete->setEnabled(connected && !busy && !m_table->selectedItems().isEmpty());
    m_flash->setEnabled(connected && !busy && m_flashDevice->count() > 0 && m_flashDevice->currentData().isValid());
}

void ModemPage::updateFlashDevices()
{
    const QString current = m_flashDevice->currentText();
    m_flashDevice->clear();
    const QString hub = m_session.profile().name;
    const auto records = m_credentials.records();
    if (records) {
        for (const CredentialRecord &record : *records) {
            const bool x509 = record.kind == CredentialRecord::Kind::X509SelfSigned
                || record.kind == CredentialRecord::Kind::X509CaSigned;
            if (x509 && record.hub == hub && record.keyLocation == CredentialRecord::KeyLocation::Keychain)
                m_flashDevice->addItem(record.deviceId, record.deviceId);
        }
    }
    if (m_flashDevice->count() == 0)
        m_flashDevice->addItem(
            hub.isEmpty() ? tr("no current hub") : tr("no device of \"%1\" has a key here").arg(hub));
    else if (const int index = m_flashDevice->findText(current); index >= 0)
        m_flashDevice->setCurrentIndex(index);
    updateState();
}

void ModemPage::showIdentity()
{
    if (!isConnected())
        m_identity->setText(tr("Not connected. Choose the modem's port and press Connect."));
}

void ModemPage::connectToPort(const QString &path)
{
    if (m_busy || path.isEmpty())
        return;
    disconnectModem();
    m_modem = std::make_unique<Nrf91Modem>();
    Nrf91Modem *modem = m_modem.get();
    connect(modem, &Nrf91Modem::lost, this, [this](const Error &error) {
        if (m_job)
            return; // the flash report says what happened
        fail(error.message);
        disconnectModem();
    });
    setBusy(true, tr("Opening %1…").arg(path));
    modem->open(path).then(this, [this, modem, path](Result<void> opened) {
        if (modem != m_modem.get())
            return;
        if (!opened) {
            fail(opened.error().message);
            m_modem.reset();
            updateState();
            return;
        }
        m_store = std::make_unique<ModemCredentialStore>(*modem);
        modem->identity().then(this, [this, modem, path](Result<ModemIdentity> identity) {
            if (modem != m_modem.get())
                return;
            if (!identity) {
                fail(identity.error().message);
                return;
            }
            const ModemIdentity &id = *identity;
            modem->functionalMode().then(this, [this, modem, id, path](Result<int> mode) {
                if (modem != m_modem.get())
                    return;
                QString modeText = mode ? QString::number(*mode) : mode.error().message;
                if (mode && *mode == 0)
                    modeText = tr("0 (off)");
                else if (mode && *mode == 1)
                    modeText = tr("1 (normal)");
                else if (mode && *mode == 4)
                    modeText = tr("4 (offline, flight mode)");
                m_identity->setText(
                    tr("IMEI %1 · %2 %3 · firmware %4%5 · functional mode %6")
                        .arg(id.imei, id.manufacturer, id.model, id.firmware,
                            id.modemUuid.isEmpty() ? QString() : tr(" · UUID %1").arg(id.modemUuid), modeText));
                setBusy(false, tr("Connected to %1.").arg(path));
                refreshCredentials();
            });
        });
    });
}

void ModemPage::disconnectModem()
{
    if (m_job)
        return; // a flash finishes (or is cancelled) first
    // Deleted later, not now: this may run inside one of the modem's own signals (lost()).
    if (m_store)
        m_store.release()->deleteLater();
    if (m_modem) {
        m_modem->cancel();
        m_modem->close();
        m_modem.release()->deleteLater();
    }
    m_table->setRowCount(0);
    m_busy = false;
    showIdentity();
    updateState();
}

void ModemPage::refreshCredentials()
{
    if (!m_store || m_busy)
        return;
    setBusy(true, tr("Reading the stored credentials…"));
    Nrf91Modem *modem = m_modem.get();
    m_store->list().then(this, [this, modem](Result<QList<ModemCredential>> listed) {
        if (modem != m_modem.get())
            return;
        if (!listed) {
            fail(listed.error().message);
            return;
        }
        m_table->setRowCount(int(listed->size()));
        for (int row = 0; row < listed->size(); ++row) {
            const ModemCredential &entry = listed->at(row);
            auto *tag = new QTableWidgetItem(QString::number(entry.tag));
            tag->setData(Qt::UserRole, entry.tag);
            auto *type = new QTableWidgetItem(CredentialType::name(entry.type));
            type->setData(Qt::UserRole, entry.type);
            m_table->setItem(row, 0, tag);
            m_table->setItem(row, 1, type);
            m_table->setItem(row, 2,
                new QTableWidgetItem(entry.sha256.isEmpty() ? tr("(not listed by this firmware)") : entry.sha256));
        }
        setBusy(false,
            listed->isEmpty() ? tr("The modem stores no credentials in user tags.")
                              : tr("%1 credentials stored.").arg(listed->size()));
    });
}

void ModemPage::chooseFileAndWrite()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Credential File"), {}, tr("PEM files (*.pem *.crt *.key);;All files (*)"));
    if (!path.isEmpty())
        writeFromFile(quint32(m_writeTag->value()), m_writeType->currentData().toInt(), path);
}

void ModemPage::writeFromFile(quint32 tag, int type, const QString &path)
{
    if (!m_store || m_busy)
        return;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        fail(tr("Cannot read %1: %2").arg(path, file.errorString()));
        return;
    }
    const Result<QByteArray> content = ModemCredentialStore::prepare(type, file.readAll());
    if (!content) {
        fail(content.error().message);
        return;
    }
    setBusy(true, tr("Writing %1 into tag %2…").arg(CredentialType::name(type)).arg(tag));
    Nrf91Modem *modem = m_modem.get();
    m_store->write(tag, type, *content).then(this, [this, modem, tag, type](Result<ModemCredential> written) {
        if (modem != m_modem.get())
            return;
        if (!written) {
            fail(written.error().message);
            return;
        }
        setBusy(false);
        Q_EMIT statusMessage(tr("Wrote %1 into tag %2 and verified it.").arg(CredentialType::name(type)).arg(tag));
        refreshCredentials();
    });
}

void ModemPage::deleteSelected()
{
    const QList<QTableWidgetItem *> selected = m_table->selectedItems();
    if (!m_store || m_busy || selected.isEmpty())
        return;
    const int row = selected.first()->row();
    const auto tag = m_table->item(row, 0)->data(Qt::UserRole).value<quint32>();
    const int type = m_table->item(row, 1)->data(Qt::UserRole).toInt();
    if (QMessageBox::question(this, tr("Delete Credential"),
            tr("Delete the %1 in security tag %2 from the modem? A device that uses this tag cannot "
               "connect until it is written again.")
                .arg(CredentialType::name(type))
                .arg(tag),
            QMessageBox::Cancel | QMessageBox::Yes, QMessageBox::Cancel)
        != QMessageBox::Yes)
        return;
    setBusy(true, tr("Deleting…"));
    Nrf91Modem *modem = m_modem.get();
    m_store->remove(tag, type).then(this, [this, modem](Result<void> removed) {
        if (modem != m_modem.get())
            return;
        if (!removed) {
            fail(removed.error().message);
            return;
        }
        setBusy(false);
        refreshCredentials();
    });
}

void ModemPage::flashAzure()
{
    const QString deviceId = m_flashDevice->currentData().toString();
    const QString hub = m_session.profile().name;
    if (!m_modem || m_busy || deviceId.isEmpty())
        return;
    const quint32 tag = quint32(m_flashTag->value());
    const std::optional<quint32> secondary
        = m_flashSecondary->value() < 0 ? std::nullopt : std::optional<quint32>(quint32(m_flashSecondary->value()));
    const QString question = secondary
        ? tr(
            "Write the Azure credentials of \"%1\" into the modem: DigiCert Global Root G2, the device certificate and "
            "its key into tag %2, Microsoft RSA Root Certificate Authority 2017 into tag %3?\n\nWhat these tags hold "
            "now "
            "is replaced. The "
            "modem goes offline meanwhile and returns to its mode afterwards.")
              .arg(deviceId)
              .arg(tag)
              .arg(*secondary)
        : tr("Write the Azure credentials of \"%1\" into the modem: both root CAs, the device certificate and its key "
             "into tag %2?\n\nWhat this tag holds now is replaced. The modem goes offline meanwhile and returns to its "
             "mode afterwards.")
              .arg(deviceId)
              .arg(tag);
    if (QMessageBox::question(
            this, tr("Flash Azure Credentials"), question, QMessageBox::Cancel | QMessageBox::Yes, QMessageBox::Cancel)
        != QMessageBox::Yes)
        return;

    setBusy(true, tr("Reading the credentials of \"%1\" from the keychain…").arg(deviceId));
    m_credentials.deviceCredential(hub, deviceId)
        .then(this, [this, tag, secondary, deviceId](Result<DeviceCredential> credential) {
            if (!credential) {
                fail(credential.error().message);
                return;
            }
            if (!m_modem) {
                fail(tr("The modem was disconnected."));
                return;
            }
            m_job = new AzureFlashJob(*m_modem, AzureCredentialSet::forDevice(tag, secondary, *credential), this);
            const auto planned = m_job->plan();
            if (!planned) {
                m_job->deleteLater();
                m_job = nullptr;
                fail(planned.error().message);
                return;
            }
            auto *progress = new QProgressDialog(tr("Flashing…"), tr("Cancel"), 0, 1, this);
            progress->setWindowTitle(tr("Flash Azure Credentials"));
            progress->setWindowModality(Qt::WindowModal);
            progress->setMinimumDuration(300);
            progress->setAutoClose(false);
            progress->setAutoReset(false);
            progress->setAttribute(Qt::WA_DeleteOnClose);
            connect(m_job, &AzureFlashJob::progress, progress, [progress](int step, int steps, const QString &text) {
                progress->setMaximum(steps);
                progress->setValue(step);
                progress->setLabelText(text);
            });
            AzureFlashJob *job = m_job;
            const QPointer<QProgressDialog> shown = progress;
            connect(progress, &QProgressDialog::canceled, job, &AzureFlashJob::cancel);
            job->start().then(this, [this, job, shown, deviceId](FlashReport report) {
                if (shown)
                    shown->close();
                job->deleteLater();
                m_job = nullptr;
                m_lastFlash = report;
                QStringList lines;
                for (const FlashSlot &slot : report.slots)
                    lines.append(tr("tag %1, %2: %3").arg(slot.tag).arg(slot.label, slotStateText(slot.state)));
                QString summary = report.ok()
                    ? tr("The Azure credentials of \"%1\" are on the modem and verified.").arg(deviceId)
                    : tr("Flashing stopped: %1").arg(report.failure->message);
                for (const QString &warning : report.warnings)
                    summary += u' ' + tr("Warning: %1").arg(warning);
                setBusy(false, summary);
                Q_EMIT statusMessage(summary);
                if (!report.ok())
                    QMessageBox::warning(this, tr("Flash Azure Credentials"),
                        summary + QStringLiteral("\n\n") + tr("What the modem holds now:") + u'\n' + lines.join(u'\n')
                            + (report.modeRestored ? QString() : u'\n' + tr("Its functional mode was not restored.")));
                if (isConnected())
                    refreshCredentials();
            });
        });
}

} // namespace Onboarder
