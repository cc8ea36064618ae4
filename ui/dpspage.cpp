#include "dpspage.h"

#include "adddpsdialog.h"
#include "certificateauthoritiesview.h"
#include "common/continuation.h"
#include "credentials/credentialstore.h"
#include "dps/dpsclient.h"
#include "dps/dpsenrollment.h"
#include "dps/dpsregistration.h"
#include "dps/dpsstore.h"
#include "newenrollmentdialog.h"
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
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

namespace Onboarder {

namespace {

enum Column { IdColumn, AttestationColumn, StatusColumn, HubColumn, ColumnCount };
enum Tab { EnrollmentsTab, GroupsTab, CasTab };

QTableWidget *makeTable(const QStringList &headers, const QString &name, QWidget *parent)
{
    auto *table = new QTableWidget(0, int(headers.size()), parent);
    table->setHorizontalHeaderLabels(headers);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setSelectionMode(QAbstractItemView::SingleSelection);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->verticalHeader()->hide();
    table->horizontalHeader()->setSectionResizeMode(int(headers.size()) - 1, QHeaderView::Stretch);
    table->setColumnWidth(IdColumn, 220);
    table->setColumnWidth(AttestationColumn, 160);
    table->setAccessibleName(name);
    return table;
}

void setRow(QTableWidget *table, const QStringList &cells)
{
    const int row = table->rowCount();
    table->insertRow(row);
    for (int column = 0; column < cells.size(); ++column)
        table->setItem(row, column, new QTableWidgetItem(cells.at(column)));
}

QString attestation(const QJsonObject &enrollment)
{
    if (DpsEnrollment::isX509(enrollment))
        return DpsPage::tr("X.509 certificate");
    if (DpsEnrollment::isSymmetricKey(enrollment))
        return DpsPage::tr("Symmetric key");
    return DpsEnrollment::attestationType(enrollment);
}

} // namespace

DpsPage::DpsPage(DpsStore &store, CredentialStore &credentials, QWidget *parent)
    : QWidget(parent)
    , m_store(store)
    , m_credentials(credentials)
    , m_instances(new QComboBox(this))
    , m_tabs(new QTabWidget(this))
    , m_table(makeTable(
          {tr("Registration ID"), tr("Attestation"), tr("Status"), tr("Assigned hub")}, tr("Enrollments"), this))
    , m_groups(makeTable({tr("Group ID"), tr("Attestation"), tr("Status")}, tr("Enrollment groups"), this))
    , m_cas(new CertificateAuthoritiesView(credentials, this))
    , m_newEnrollment(new QPushButton(tr("New Enrollment…"), this))
    , m_newGroup(new QPushButton(tr("New Group…"), this))
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
    m_test->setToolTip(
        tr("Register the selected enrollment from this computer with its key or the certificate kept here"));
    m_groups->setColumnWidth(AttestationColumn, 280);
    m_tabs->addTab(m_table, tr("Individual Enrollments"));
    m_tabs->addTab(m_groups, tr("Enrollment Groups"));
    m_tabs->addTab(m_cas, tr("Certificate Authorities"));
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
    top->addWidget(m_newEnrollment);
    top->addWidget(m_newGroup);
    top->addWidget(m_test);
    top->addWidget(m_delete);
    auto *busy = new QHBoxLayout;
    busy->addWidget(m_progress, 1);
    busy->addWidget(m_cancel);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(header);
    layout->addLayout(top);
    layout->addWidget(m_tabs, 1);
    layout->addLayout(busy);
    layout->addWidget(m_status);

    connect(m_instances, &QComboBox::currentIndexChanged, this, &DpsPage::refresh);
    connect(m_refresh, &QPushButton::clicked, this, &DpsPage::refresh);
    connect(m_add, &QPushButton::clicked, this, &DpsPage::addDps);
    connect(m_test, &QPushButton::clicked, this, &DpsPage::testSelectedEnrollment);
    connect(m_delete, &QPushButton::clicked, this, &DpsPage::deleteSelectedEnrollment);
    connect(m_newEnrollment, &QPushButton::clicked, this, &DpsPage::newEnrollment);
    connect(m_newGroup, &QPushButton::clicked, this, [this] { newGroup(); });
    connect(m_cas, &CertificateAuthoritiesView::groupRequested, this, &DpsPage::newGroup);
    connect(m_cas, &CertificateAuthoritiesView::statusMessage, this, &DpsPage::statusMessage);
    connect(m_tabs, &QTabWidget::currentChanged, this,
        [this] { setBusy(m_progress->isVisible() ? m_progress->format() : QString()); });
    connect(m_groups, &QTableWidget::itemSelectionChanged, this,
        [this] { setBusy(m_progress->isVisible() ? m_progress->format() : QString()); });
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        if (m_registration)
            m_registration->cancel();
    });
    connect(m_table, &QTableWidget::itemSelectionChanged, this,
        [this] { setBusy(m_progress->isVisible() ? m_progress->format() : QString()); });
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
        m_groups->setRowCount(0);
        m_status->setText(tr("No DPS yet: add one with Add DPS…, or onboarder-cli dps add NAME --id-scope SCOPE < "
                             "connection-string-file."));
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
    const bool dps = m_instances->count() > 0;
    m_test->setEnabled(idle && m_tabs->currentIndex() == EnrollmentsTab && !selectedId().isEmpty());
    m_delete->setEnabled(idle && m_tabs->currentIndex() != CasTab && !selectedId().isEmpty());
    m_newEnrollment->setEnabled(idle && dps);
    m_newGroup->setEnabled(idle && dps);
}

QString DpsPage::selectedId() const
{
    const QTableWidget *table = m_tabs->currentIndex() == GroupsTab ? m_groups
        : m_tabs->currentIndex() == EnrollmentsTab                  ? m_table
                                                                    : nullptr;
    if (!table)
        return {};
    const auto rows = table->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : table->item(rows.first().row(), IdColumn)->text();
}

void DpsPage::withClient(const std::function<void(DpsClient &)> &body)
{
    const auto profile = m_store.find(m_instances->currentText());
    if (!profile)
        return;
    const quint64 generation = ++m_generation;
    whenFinished(m_store.connectionString(profile->name), this,
        [this, profile = *profile, body, generation](const Result<ConnectionString> &service) {
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
        whenFinished(client.query(DpsClient::Kind::Enrollment, {}, 200), this,
            [this, &client, generation, note](const Result<DpsQueryPage> &page) {
                if (generation != m_generation)
                    return;
                m_table->setRowCount(0);
                m_groups->setRowCount(0);
                if (!page) {
                    setBusy({});
                    m_status->setText(page.error().message);
                    return;
                }
                for (const auto &value : page->items) {
                    const QJsonObject enrollment = value.toObject();
                    setRow(m_table,
                        {DpsEnrollment::registrationId(enrollment), attestation(enrollment),
                            DpsEnrollment::isEnabled(enrollment) ? tr("Enabled") : tr("Disabled"),
                            DpsEnrollment::assignedHub(enrollment)});
                }
                const QString count = page->continuation.isEmpty()
                    ? tr("Enrollments: %1.").arg(page->items.size())
                    : tr("The first %1 enrollments; onboarder-cli dps enrollment list lists them all.")
                          .arg(page->items.size());
                setBusy(tr("Reading the enrollment groups…"));
                whenFinished(client.query(DpsClient::Kind::Group, {}, 200), this,
                    [this, generation, note, count](const Result<DpsQueryPage> &groups) {
                        if (generation != m_generation)
                            return;
                        setBusy({});
                        if (!groups) {
                            m_status->setText(groups.error().message);
                            return;
                        }
                        fillGroups(groups->items);
                        const QString both = count + u' ' + tr("Groups: %1.").arg(groups->items.size());
                        m_status->setText(note.isEmpty() ? both : note + u' ' + both);
                    });
            });
    });
}

void DpsPage::fillGroups(const QJsonArray &items)
{
    for (const auto &value : items) {
        const QJsonObject group = value.toObject();
        QString how = attestation(group);
        if (DpsEnrollment::hasSigningCertificates(group))
            how = tr("X.509 CA %1…").arg(DpsEnrollment::sha256Thumbprints(group).value(0).left(16));
        setRow(m_groups,
            {DpsEnrollment::groupId(group), how, DpsEnrollment::isEnabled(group) ? tr("Enabled") : tr("Disabled")});
    }
}

void DpsPage::newEnrollment()
{
    NewEnrollmentDialog dialog(NewEnrollmentDialog::Kind::Enrollment, m_credentials, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    if (const auto body = dialog.body())
        create(int(DpsClient::Kind::Enrollment), dialog.id(), *body);
}

void DpsPage::newGroup(const QString &caName)
{
    NewEnrollmentDialog dialog(NewEnrollmentDialog::Kind::Group, m_credentials, this);
    if (!caName.isEmpty())
        dialog.setCa(caName);
    if (dialog.exec() != QDialog::Accepted)
        return;
    if (const auto body = dialog.body())
        create(int(DpsClient::Kind::Group), dialog.id(), *body);
}

// Made only when nothing of that id exists: an existing enrollment is never replaced from here.
void DpsPage::create(int kind, const QString &id, const QJsonObject &body)
{
    const auto what = DpsClient::Kind(kind);
    setBusy(tr("Creating %1 \"%2\"…").arg(DpsClient::kindName(what), id));
    withClient([this, what, id, body](DpsClient &client) {
        const quint64 generation = m_generation;
        whenFinished(client.get(what, id), this,
            [this, &client, generation, what, id, body](const Result<QJsonObject> &existing) {
                if (generation != m_generation)
                    return; // another DPS was chosen meanwhile: client is gone
                if (existing || existing.error().kind != ErrorKind::NotFound) {
                    setBusy({});
                    m_status->setText(existing ? tr("DPS %1 has a %2 \"%3\" already; nothing was changed.")
                                                     .arg(m_instances->currentText(), DpsClient::kindName(what), id)
                                               : existing.error().message);
                    return;
                }
                whenFinished(client.put(what, id, body), this, [this, what, id](const Result<QJsonObject> &created) {
                    if (!created) {
                        setBusy({});
                        m_status->setText(created.error().message);
                        return;
                    }
                    const QString done = tr("Created %1 \"%2\".").arg(DpsClient::kindName(what), id);
                    Q_EMIT statusMessage(done);
                    m_tabs->setCurrentIndex(what == DpsClient::Kind::Group ? GroupsTab : EnrollmentsTab);
                    refreshShowing(done);
                });
            });
    });
}

void DpsPage::deleteSelectedEnrollment()
{
    const QString id = selectedId();
    if (id.isEmpty())
        return;
    const bool group = m_tabs->currentIndex() == GroupsTab;
    const auto kind = group ? DpsClient::Kind::Group : DpsClient::Kind::Enrollment;
    const QString question = group
        ? tr("Delete the enrollment group \"%1\" from DPS %2?\n\nIts devices can then no longer register. "
             "Devices already assigned to a hub stay there.")
        : tr("Delete the enrollment \"%1\" from DPS %2?\n\nThe device can then no longer register. A device "
             "already assigned to a hub stays there.");
    if (QMessageBox::question(this, group ? tr("Delete Enrollment Group") : tr("Delete Enrollment"),
            question.arg(id, m_instances->currentText()), QMessageBox::Cancel | QMessageBox::Yes, QMessageBox::Cancel)
        != QMessageBox::Yes)
        return;
    setBusy(tr("Deleting %1…").arg(id));
    withClient([this, id, kind](DpsClient &client) {
        whenFinished(client.remove(kind, id), this, [this, id, kind](const Result<void> &removed) {
            if (!removed) {
                setBusy({});
                m_status->setText(removed.error().message);
                return;
            }
            const QString done = tr("Deleted the %1 \"%2\".").arg(DpsClient::kindName(kind), id);
            Q_EMIT statusMessage(done);
            refreshShowing(done);
        });
    });
}

void DpsPage::testSelectedEnrollment()
{
    const QString id = selectedId();
    const auto profile = m_store.find(m_instances->currentText());
    if (id.isEmpty() || !profile || m_registration || m_tabs->currentIndex() != EnrollmentsTab)
        return;
    setBusy(tr("Reading the enrollment of %1…").arg(id));
    withClient([this, id, profile = *profile](DpsClient &client) {
        whenFinished(client.get(DpsClient::Kind::Enrollment, id), this,
            [this, id, profile](const Result<QJsonObject> &enrollment) {
                if (!enrollment) {
                    setBusy({});
                    m_status->setText(enrollment.error().message);
                    return;
                }
                const auto registerWith = [this, id, profile](const DpsRegistration::Credential &credential) {
                    m_registration = new DpsRegistration(this);
                    connect(m_registration, &DpsRegistration::progress, this,
                        [this](const QString &text) { setBusy(text); });
                    connect(m_registration, &DpsRegistration::finished, this,
                        [this, id](const Result<DpsAssignment> &result) {
                            m_registration->deleteLater();
                            m_registration = nullptr;
                            setBusy({});
                            if (!result) {
                                m_status->setText(result.error().message);
                                return;
                            }
                            const QString done = tr("%1 registered: assigned to hub %2 as device %3.")
                                                     .arg(id, result->assignedHub, result->deviceId);
                            m_status->setText(done);
                            refreshShowing(done);
                        });
                    setBusy(tr("Registering %1…").arg(id));
                    m_registration->start(profile, id, credential); // its keys are wiped as it goes
                };
                if (DpsEnrollment::isSymmetricKey(*enrollment)) {
                    DpsRegistration::Credential credential;
                    credential.symmetricKey = SecretBytes::fromString(DpsEnrollment::primarySymmetricKey(*enrollment));
                    return registerWith(credential);
                }
                // X.509: the certificate kept here for that id, with its key from the keychain.
                const auto records = m_credentials.records();
                const auto record = records ? std::find_if(records->cbegin(), records->cend(),
                                        [&id](const CredentialRecord &r) {
                                            return r.deviceId == id
                                                && (r.kind == CredentialRecord::Kind::X509SelfSigned
                                                    || r.kind == CredentialRecord::Kind::X509CaSigned);
                                        })
                                            : QList<CredentialRecord>::const_iterator();
                if (!records || record == records->cend()) {
                    setBusy({});
                    m_status->setText(
                        tr("No certificate and key are kept here for \"%1\": only the device can register with its "
                           "certificate.")
                            .arg(id));
                    return;
                }
                setBusy(tr("Reading the key of %1 from the keychain…").arg(id));
                whenFinished(m_credentials.deviceCredential(record->hub, id), this,
                    [this, id, registerWith](const Result<DeviceCredential> &kept) {
                        if (!kept) {
                            setBusy({});
                            m_status->setText(kept.error().message);
                            return;
                        }
                        DpsRegistration::Credential credential;
                        credential.certificatePem = kept->certificate.toPem();
                        credential.privateKeyPem = kept->key.privateKeyPem();
                        registerWith(credential);
                    });
            });
    });
}

} // namespace Onboarder
