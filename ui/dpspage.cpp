#include "dpspage.h"

#include "adddpsdialog.h"
#include "common/continuation.h"
#include "dps/dpsclient.h"
#include "dps/dpsregistration.h"
#include "dps/dpsstore.h"
#include "pageheader.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace Onboarder {

namespace {

enum Column { IdColumn, AttestationColumn, StatusColumn, HubColumn, ColumnCount };

QString attestation(const QJsonObject &enrollment)
{
    const QString type = enrollment.value(QStringLiteral("attestation")).toObject().value(QStringLiteral("type")).toString();
    if (type == QLatin1String("x509"))
        return DpsPage::tr("X.509 certificate");
    if (type == QLatin1String("symmetricKey"))
        return DpsPage::tr("Symmetric key");
    return type;
}

} // namespace

DpsPage::DpsPage(DpsStore &store, QWidget *parent)
    : QWidget(parent)
    , m_store(store)
    , m_instances(new QComboBox(this))
    , m_table(new QTableWidget(0, ColumnCount, this))
    , m_add(new QPushButton(tr("Add DPS…"), this))
    , m_refresh(new QPushButton(tr("Refresh"), this))
    , m_test(new QPushButton(tr("Test Registration"), this))
    , m_delete(new QPushButton(tr("Delete"), this))
    , m_cancel(new QPushButton(tr("Cancel"), this))
    , m_progress(new QProgressBar(this))
    , m_status(new QLabel(this))
{
    auto *header = new PageHeader(tr("Provisioning"),
                                  tr("Device Provisioning Services and their enrollments. A test registration registers the "
                                     "selected device from this computer exactly as the device will, before it ships."),
                                  this);
    m_instances->setAccessibleName(tr("Device Provisioning Service"));
    m_instances->setMinimumContentsLength(24);
    m_test->setToolTip(tr("Register the selected enrollment from this computer with its key or the certificate kept here"));
    m_table->setHorizontalHeaderLabels({tr("Registration ID"), tr("Attestation"), tr("Status"), tr("Assigned hub")});
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(HubColumn, QHeaderView::Stretch);
    m_table->setColumnWidth(IdColumn, 220);
    m_table->setColumnWidth(AttestationColumn, 160);
    m_table->setAccessibleName(tr("Enrollments"));
    m_progress->setRange(0, 0);
    m_progress->setTextVisible(true);
    m_status->setWordWrap(true);
    m_status->setTextFormat(Qt::PlainText);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("DPS:"), this));
    top->addWidget(m_instances);
    top->addWidget(m_refresh);
    top->addWidget(m_add);
    top->addStretch(1);
    top->addWidget(m_test);
    top->addWidget(m_delete);
    auto *busy = new QHBoxLayout;
    busy->addWidget(m_progress, 1);
    busy->addWidget(m_cancel);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(header);
    layout->addLayout(top);
    layout->addWidget(m_table, 1);
    layout->addLayout(busy);
    layout->addWidget(m_status);

    connect(m_instances, &QComboBox::currentIndexChanged, this, &DpsPage::refresh);
    connect(m_refresh, &QPushButton::clicked, this, &DpsPage::refresh);
    connect(m_add, &QPushButton::clicked, this, &DpsPage::addDps);
    connect(m_test, &QPushButton::clicked, this, &DpsPage::testSelectedEnrollment);
    connect(m_delete, &QPushButton::clicked, this, &DpsPage::deleteSelectedEnrollment);
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        if (m_registration)
            m_registration->cancel();
    });
    connect(m_table, &QTableWidget::itemSelectionChanged, this, [this] { setBusy(m_progress->isVisible() ? m_progress->format() : QString()); });
    connect(&m_store, &DpsStore::instancesChanged, this, &DpsPage::reloadInstances);
    reloadInstances();
}

DpsPage::~DpsPage() = default;

void DpsPage::reloadInstances()
{
    const QString current = m_instances->currentText();
    const QSignalBlocker blocker(m_instances);
    m_instances->clear();
    for (const DpsProfile &dps : m_store.instances())
        m_instances->addItem(dps.name);
    m_instances->setCurrentIndex(std::max(0, m_instances->findText(current)));
    if (m_instances->count() == 0) {
        m_table->setRowCount(0);
        m_status->setText(tr("No DPS yet: add one with Add DPS…, or onboarder-cli dps add NAME --id-scope SCOPE < connection-string-file."));
        setBusy({});
        return;
    }
    refresh();
}

void DpsPage::addDps()
{
    AddDpsDialog dialog(m_store, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    reloadInstances();
    m_instances->setCurrentIndex(m_instances->findText(dialog.addedDps().name));
    Q_EMIT statusMessage(tr("Added DPS \"%1\"; its key is in the system keychain.").arg(dialog.addedDps().name));
}

void DpsPage::setBusy(const QString &what)
{
    m_progress->setVisible(!what.isEmpty());
    m_progress->setFormat(what);
    m_cancel->setVisible(!what.isEmpty() && m_registration);
    const bool idle = what.isEmpty();
    m_refresh->setEnabled(idle && m_instances->count() > 0);
    m_instances->setEnabled(idle);
    m_test->setEnabled(idle && !selectedId().isEmpty());
    m_delete->setEnabled(idle && !selectedId().isEmpty());
}

QString DpsPage::selectedId() const
{
    const auto rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : m_table->item(rows.first().row(), IdColumn)->text();
}

void DpsPage::withClient(std::function<void(DpsClient &)> body)
{
    const auto profile = m_store.find(m_instances->currentText());
    if (!profile)
        return;
    const quint64 generation = ++m_generation;
    whenFinished(m_store.connectionString(profile->name), this, [this, profile = *profile, body, generation](const Result<ConnectionString> &service) {
        if (generation != m_generation)
            return;
        if (!service) {
            setBusy({});
            m_status->setText(service.error().message);
            return;
        }
        m_client = std::make_unique<DpsClient>(profile, *service);
        body(*m_client);
    });
}

void DpsPage::refresh()
{
    refreshShowing({});
}

void DpsPage::refreshShowing(const QString &note)
{
    if (m_instances->count() == 0)
        return;
    setBusy(tr("Reading the enrollments…"));
    withClient([this, note](DpsClient &client) {
        const quint64 generation = m_generation;
        whenFinished(client.query(DpsClient::Kind::Enrollment, {}, 200), this, [this, generation, note](const Result<DpsQueryPage> &page) {
            if (generation != m_generation)
                return;
            m_table->setRowCount(0);
            if (!page) {
                setBusy({});
                m_status->setText(page.error().message);
                return;
            }
            for (const QJsonValue &value : page->items) {
                const QJsonObject enrollment = value.toObject();
                const int row = m_table->rowCount();
                m_table->insertRow(row);
                m_table->setItem(row, IdColumn, new QTableWidgetItem(enrollment.value(QStringLiteral("registrationId")).toString()));
                m_table->setItem(row, AttestationColumn, new QTableWidgetItem(attestation(enrollment)));
                const bool enabled = enrollment.value(QStringLiteral("provisioningStatus")).toString() != QLatin1String("disabled");
                m_table->setItem(row, StatusColumn, new QTableWidgetItem(enabled ? tr("Enabled") : tr("Disabled")));
                m_table->setItem(row, HubColumn, new QTableWidgetItem(enrollment.value(QStringLiteral("registrationState")).toObject()
                                                                          .value(QStringLiteral("assignedHub")).toString()));
            }
            const QString count = page->continuation.isEmpty()
                ? tr("Enrollments: %1.").arg(page->items.size())
                : tr("The first %1 enrollments; onboarder-cli dps enrollment list lists them all.").arg(page->items.size());
            m_status->setText(note.isEmpty() ? count : note + u' ' + count);
            setBusy({});
        });
    });
}

void DpsPage::deleteSelectedEnrollment()
{
    const QString id = selectedId();
    if (id.isEmpty())
        return;
    if (QMessageBox::question(this, tr("Delete Enrollment"),
                              tr("Delete the enrollment \"%1\" from DPS %2?\n\nThe device can then no longer register. A device "
                                 "already assigned to a hub stays there.")
                                  .arg(id, m_instances->currentText()),
                              QMessageBox::Cancel | QMessageBox::Yes, QMessageBox::Cancel)
        != QMessageBox::Yes)
        return;
    setBusy(tr("Deleting %1…").arg(id));
    withClient([this, id](DpsClient &client) {
        whenFinished(client.remove(DpsClient::Kind::Enrollment, id), this, [this, id](const Result<void> &removed) {
            if (!removed) {
                setBusy({});
                m_status->setText(removed.error().message);
                return;
            }
            Q_EMIT statusMessage(tr("Deleted the enrollment \"%1\".").arg(id));
            refreshShowing(tr("Deleted the enrollment \"%1\".").arg(id));
        });
    });
}

void DpsPage::testSelectedEnrollment()
{
    const QString id = selectedId();
    const auto profile = m_store.find(m_instances->currentText());
    if (id.isEmpty() || !profile || m_registration)
        return;
    setBusy(tr("Reading the enrollment of %1…").arg(id));
    withClient([this, id, profile = *profile](DpsClient &client) {
        whenFinished(client.get(DpsClient::Kind::Enrollment, id), this, [this, id, profile](const Result<QJsonObject> &enrollment) {
            if (!enrollment) {
                setBusy({});
                m_status->setText(enrollment.error().message);
                return;
            }
            const QJsonObject attestationJson = enrollment->value(QStringLiteral("attestation")).toObject();
            if (attestationJson.value(QStringLiteral("type")).toString() != QLatin1String("symmetricKey")) {
                setBusy({});
                m_status->setText(tr("A test registration of an X.509 enrollment needs the device's key: use onboarder-cli dps register %1, "
                                     "which takes the certificate and key kept here.")
                                      .arg(id));
                return;
            }
            DpsRegistration::Credential credential;
            credential.symmetricKey = attestationJson.value(QStringLiteral("symmetricKey")).toObject().value(QStringLiteral("primaryKey")).toString();
            m_registration = new DpsRegistration(this);
            connect(m_registration, &DpsRegistration::progress, this, [this](const QString &text) { setBusy(text); });
            connect(m_registration, &DpsRegistration::finished, this, [this, id](const Result<DpsAssignment> &result) {
                m_registration->deleteLater();
                m_registration = nullptr;
                setBusy({});
                if (!result) {
                    m_status->setText(result.error().message);
                    return;
                }
                const QString done = tr("%1 registered: assigned to hub %2 as device %3.").arg(id, result->assignedHub, result->deviceId);
                m_status->setText(done);
                refreshShowing(done);
            });
            setBusy(tr("Registering %1…").arg(id));
            m_registration->start(profile, id, credential);
            credential.symmetricKey.fill(u'\0');
        });
    });
}

} // namespace Onboarder
