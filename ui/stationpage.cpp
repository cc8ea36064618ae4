#include "stationpage.h"

#include "common/continuation.h"
#include "common/promise.h"
#include "credentials/credentialstore.h"
#include "dps/dpsclient.h"
#include "dps/dpsstore.h"
#include "fielderror.h"
#include "hub/hubclient.h"
#include "hub/hubstore.h"
#include "pageheader.h"
#include "provisioning/auditlog.h"
#include "provisioning/modemkeyledger.h"
#include "stationcard.h"
#include "twintags.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollArea>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QVBoxLayout>

namespace Onboarder {

namespace {

constexpr int cardColumns = 3;

} // namespace

StationPage::StationPage(HubStore &hubs, DpsStore &dpsInstances, CredentialStore &credentials, QWidget *parent)
    : QWidget(parent)
    , m_hubs(hubs)
    , m_credentials(credentials)
    , m_finder(new PortFinder(this))
    , m_dpsInstances(dpsInstances)
    , m_hub(new QComboBox(this))
    , m_template(new QLineEdit(QStringLiteral("nrf-{imei}"), this))
    , m_prefix(new QLineEdit(this))
    , m_auth(new QComboBox(this))
    , m_ca(new QLineEdit(this))
    , m_keyBirth(new QComboBox(this))
    , m_keepKey(new QCheckBox(tr("Keep the private key in the keychain"), this))
    , m_secTag(new QSpinBox(this))
    , m_secondaryTag(new QSpinBox(this))
    , m_twinTags(new QLineEdit(this))
    , m_registration(new QComboBox(this))
    , m_dps(new QComboBox(this))
    , m_enrollment(new QComboBox(this))
    , m_group(new QLineEdit(this))
    , m_testRegistration(new QCheckBox(tr("Test registration from this computer"), this))
    , m_operator(new QLineEdit(ProvisioningJob::defaultOperator(), this))
    , m_profileError(FieldError::create(this))
    , m_auto(new QCheckBox(tr("Start when a modem is plugged in"), this))
    , m_startAll(new QPushButton(tr("Provision All"), this))
    , m_tally(new QLabel(this))
    , m_cardArea(new QWidget(this))
    , m_cardGrid(new QGridLayout(m_cardArea))
    , m_empty(new QLabel(tr("No modem found. Plug in an nRF91 board; it appears here within a second."), this))
{
    auto *header = new PageHeader(tr("Provisioning Station"),
        tr("Modem after modem: register the device, make its key and certificate, flash them with "
           "the root CAs, verify every hash, and log what was done."),
        this);

    m_hub->setAccessibleName(tr("Hub"));
    m_template->setToolTip(
        tr("Placeholders: {imei}, {imei6} (last six digits), {uuid}, {serial} (USB serial number), {prefix}"));
    m_prefix->setPlaceholderText(tr("for {prefix}"));
    m_auth->addItem(tr("X.509 self-signed"), int(ProvisioningProfile::Auth::SelfSigned));
    m_auth->addItem(tr("X.509 signed by a CA (thumbprint in the hub)"), int(ProvisioningProfile::Auth::CaSigned));
    m_auth->addItem(tr("X.509 signed by a CA (CA-authenticated in the hub)"), -1);
    m_ca->setPlaceholderText(tr("CA name in the keychain"));
    m_keyBirth->addItem(tr("On this computer"), int(ProvisioningProfile::KeyBirth::Pc));
    m_keyBirth->addItem(
        tr("In the modem (%KEYGEN; the key never leaves it)"), int(ProvisioningProfile::KeyBirth::Modem));
    m_keepKey->setChecked(true);
    m_secTag->setRange(0, 2147483647);
    m_secTag->setValue(10);
    m_secondaryTag->setRange(-1, 2147483647);
    m_secondaryTag->setSpecialValueText(tr("none (both roots in the primary tag)"));
    m_secondaryTag->setValue(11);
    m_twinTags->setPlaceholderText(tr("site=bench-1, batch=7"));
    m_registration->addItem(tr("In the hub, by this station"), int(ProvisioningProfile::Registration::Hub));
    m_registration->addItem(
        tr("Through DPS (enrolled here, registered by the device)"), int(ProvisioningProfile::Registration::Dps));
    m_dps->setAccessibleName(tr("DPS"));
    m_dps->setPlaceholderText(tr("Add a DPS on the Provisioning page"));
    m_enrollment->addItem(tr("Individual enrollment per device"), int(ProvisioningProfile::Enrollment::Individual));
    m_enrollment->addItem(tr("Enrollment group of the CA"), int(ProvisioningProfile::Enrollment::Group));
    m_group->setPlaceholderText(tr("group id in DPS"));
    m_group->setAccessibleName(tr("Enrollment group"));
    m_testRegistration->setChecked(true);
    m_testRegistration->setToolTip(
        tr("Once flashed, register the device with DPS from here and check the hub device it gets."));
    m_operator->setAccessibleName(tr("Operator"));

    auto *form = new QFormLayout;
    m_form = form;
    auto *registrationRow = new QHBoxLayout;
    registrationRow->addWidget(m_registration, 2);
    registrationRow->addWidget(m_dps, 1);
    form->addRow(tr("Registration:"), registrationRow);
    m_enrollmentRow = new QWidget(this);
    auto *enrollmentRow = new QHBoxLayout(m_enrollmentRow);
    enrollmentRow->setContentsMargins(0, 0, 0, 0);
    enrollmentRow->addWidget(m_enrollment, 2);
    enrollmentRow->addWidget(m_group, 1);
    enrollmentRow->addWidget(m_testRegistration);
    form->addRow(tr("Enrollment:"), m_enrollmentRow);
    form->addRow(tr("Hub:"), m_hub);
    auto *idRow = new QHBoxLayout;
    idRow->addWidget(m_template, 2);
    idRow->addWidget(m_prefix, 1);
    form->addRow(tr("Device id:"), idRow);
    auto *authRow = new QHBoxLayout;
    authRow->addWidget(m_auth, 2);
    authRow->addWidget(m_ca, 1);
    form->addRow(tr("Authentication:"), authRow);
    auto *keyRow = new QHBoxLayout;
    keyRow->addWidget(m_keyBirth, 2);
    keyRow->addWidget(m_keepKey, 1);
    form->addRow(tr("Key made:"), keyRow);
    auto *tagRow = new QHBoxLayout;
    tagRow->addWidget(m_secTag);
    tagRow->addWidget(new QLabel(tr("Secondary tag:"), this));
    tagRow->addWidget(m_secondaryTag);
    tagRow->addStretch(1);
    form->addRow(tr("Security tag:"), tagRow);
    form->addRow(tr("Twin tags:"), m_twinTags);
    form->addRow(tr("Operator:"), m_operator);
    form->addRow(QString(), m_profileError);

    auto *load = new QPushButton(tr("Open Profile…"), this);
    auto *save = new QPushButton(tr("Save Profile…"), this);
    auto *exportButton = new QPushButton(tr("Export Audit Log…"), this);
    auto *actions = new QHBoxLayout;
    actions->addWidget(load);
    actions->addWidget(save);
    actions->addStretch(1);
    actions->addWidget(m_auto);
    actions->addWidget(m_startAll);
    m_startAll->setDefault(true);

    QFont tallyFont = m_tally->font();
    tallyFont.setPointSizeF(tallyFont.pointSizeF() * 1.15);
    tallyFont.setBold(true);
    m_tally->setFont(tallyFont);
    auto *tallyRow = new QHBoxLayout;
    tallyRow->addWidget(m_tally, 1);
    tallyRow->addWidget(exportButton);

    m_cardGrid->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_cardGrid->addWidget(m_empty, 0, 0, 1, cardColumns);
    m_empty->setWordWrap(true);
    auto *scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(m_cardArea);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(header);
    layout->addLayout(form);
    layout->addLayout(actions);
    layout->addLayout(tallyRow);
    layout->addWidget(scroll, 1);

    m_profileWidgets = {m_hub, m_template, m_prefix, m_auth, m_ca, m_keyBirth, m_keepKey, m_secTag, m_secondaryTag,
        m_twinTags, m_registration, m_dps, m_enrollment, m_group, m_testRegistration, load};
    for (QLineEdit *edit : {m_template, m_prefix, m_ca, m_twinTags, m_group})
        connect(edit, &QLineEdit::textChanged, this, &StationPage::updateProfileState);
    for (QComboBox *combo : {m_hub, m_auth, m_keyBirth, m_registration, m_dps, m_enrollment})
        connect(combo, &QComboBox::currentIndexChanged, this, &StationPage::updateProfileState);
    connect(m_testRegistration, &QCheckBox::toggled, this, &StationPage::updateProfileState);
    for (QSpinBox *spin : {m_secTag, m_secondaryTag})
        connect(spin, &QSpinBox::valueChanged, this, &StationPage::updateProfileState);
    connect(m_auto, &QCheckBox::toggled, this, [this](bool on) { m_autoStart = on; });
    connect(m_startAll, &QPushButton::clicked, this, &StationPage::startAll);
    connect(load, &QPushButton::clicked, this, &StationPage::loadProfile);
    connect(save, &QPushButton::clicked, this, &StationPage::saveProfile);
    connect(exportButton, &QPushButton::clicked, this, &StationPage::exportAudit);
    connect(&m_hubs, &HubStore::hubsChanged, this, &StationPage::fillHubs);
    connect(&m_dpsInstances, &DpsStore::instancesChanged, this, &StationPage::fillDps);
    connect(m_finder, &PortFinder::portsChanged, this, &StationPage::showPorts);

    fillHubs();
    fillDps();
    updateProfileState();
    updateTally();
    showPorts(m_finder->scan());
    m_finder->startWatching();
}

StationPage::~StationPage()
{
    for (ProvisioningJob *job : std::as_const(m_jobs)) {
        if (job)
            job->disconnect(this);
    }
}

void StationPage::fillHubs()
{
    const QString current = m_hub->currentText();
    QSignalBlocker blocker(m_hub);
    m_hub->clear();
    for (const HubProfile &hub : m_hubs.hubs())
        m_hub->addItem(hub.name);
    if (const int index = m_hub->findText(current); index >= 0)
        m_hub->setCurrentIndex(index);
    updateProfileState();
}

void StationPage::fillDps()
{
    const QString current = m_dps->currentText();
    QSignalBlocker blocker(m_dps);
    m_dps->clear();
    for (const DpsProfile &dps : m_dpsInstances.instances())
        m_dps->addItem(dps.name);
    if (const int index = m_dps->findText(current); index >= 0)
        m_dps->setCurrentIndex(index);
    updateProfileState();
}

Result<ProvisioningProfile> StationPage::profile() const
{
    ProvisioningProfile p;
    p.hub = m_hub->currentText();
    p.deviceIdTemplate = m_template->text().trimmed();
    p.prefix = m_prefix->text().trimmed();
    const int auth = m_auth->currentData().toInt();
    p.auth = auth == int(ProvisioningProfile::Auth::SelfSigned) ? ProvisioningProfile::Auth::SelfSigned
                                                                : ProvisioningProfile::Auth::CaSigned;
    p.hubAuth
        = auth == -1 ? ProvisioningProfile::HubAuth::CertificateAuthority : ProvisioningProfile::HubAuth::Thumbprint;
    p.caName = p.auth == ProvisioningProfile::Auth::CaSigned ? m_ca->text().trimmed() : QString();
    p.keyBirth = ProvisioningProfile::KeyBirth(m_keyBirth->currentData().toInt());
    p.keepKeyOnPc = m_keepKey->isChecked();
    p.secTag = quint32(m_secTag->value());
    p.secondarySecTag = m_secondaryTag->value() < 0 ? std::nullopt : std::optional(quint32(m_secondaryTag->value()));
    QString problem;
    p.twinTags = TwinTags::parse(m_twinTags->text(), &problem);
    p.registration = ProvisioningProfile::Registration(m_registration->currentData().toInt());
    if (p.registration == ProvisioningProfile::Registration::Dps) {
        p.hubAuth = ProvisioningProfile::HubAuth::Thumbprint; // DPS makes the hub device
        p.dps = m_dps->currentText();
        p.enrollment = ProvisioningProfile::Enrollment(m_enrollment->currentData().toInt());
        p.enrollmentGroup
            = p.enrollment == ProvisioningProfile::Enrollment::Group ? m_group->text().trimmed() : QString();
        p.testRegistration = m_testRegistration->isChecked() && p.keyBirth == ProvisioningProfile::KeyBirth::Pc;
        if (p.dps.isEmpty())
            return fail(
                ErrorKind::InvalidInput, QStringLiteral("ProfileNoDps"), tr("Add a DPS first (Provisioning page)."));
    }
    if (!problem.isEmpty())
        return fail(ErrorKind::InvalidInput, QStringLiteral("ProfileInvalidTwinTags"), problem);
    if (p.hub.isEmpty())
        return fail(ErrorKind::InvalidInput, QStringLiteral("ProfileNoHub"), tr("Add a hub first (Hubs page)."));
    if (auto ok = p.validate(); !ok)
        return std::unexpected(ok.error());
    return p;
}

void StationPage::setProfile(const ProvisioningProfile &p)
{
    if (m_hub->findText(p.hub) < 0)
        m_hub->addItem(p.hub);
    m_hub->setCurrentText(p.hub);
    m_template->setText(p.deviceIdTemplate);
    m_prefix->setText(p.prefix);
    m_auth->setCurrentIndex(p.auth == ProvisioningProfile::Auth::SelfSigned ? 0
            : p.hubAuth == ProvisioningProfile::HubAuth::Thumbprint         ? 1
                                                                            : 2);
    m_ca->setText(p.caName);
    m_keyBirth->setCurrentIndex(m_keyBirth->findData(int(p.keyBirth)));
    m_keepKey->setChecked(p.keepKeyOnPc);
    m_secTag->setValue(int(p.secTag));
    m_secondaryTag->setValue(p.secondarySecTag ? int(*p.secondarySecTag) : -1);
    m_twinTags->setText(TwinTags::format(p.twinTags));
    m_registration->setCurrentIndex(m_registration->findData(int(p.registration)));
    if (p.registration == ProvisioningProfile::Registration::Dps) {
        if (m_dps->findText(p.dps) < 0)
            m_dps->addItem(p.dps);
        m_dps->setCurrentText(p.dps);
        m_enrollment->setCurrentIndex(m_enrollment->findData(int(p.enrollment)));
        m_group->setText(p.enrollmentGroup);
        m_testRegistration->setChecked(p.testRegistration);
    }
    updateProfileState();
}

void StationPage::setOperatorName(const QString &name)
{
    m_operator->setText(name);
}

void StationPage::setAutoStart(bool on)
{
    m_auto->setChecked(on);
}

void StationPage::updateProfileState()
{
    const bool caSigned = m_auth->currentData().toInt() != int(ProvisioningProfile::Auth::SelfSigned);
    m_ca->setEnabled(caSigned && m_jobs.isEmpty());
    m_keepKey->setEnabled(
        m_keyBirth->currentData().toInt() == int(ProvisioningProfile::KeyBirth::Pc) && m_jobs.isEmpty());
    m_prefix->setEnabled(m_template->text().contains(QStringLiteral("{prefix}")) && m_jobs.isEmpty());
    const bool dps = m_registration->currentData().toInt() == int(ProvisioningProfile::Registration::Dps);
    m_dps->setVisible(dps);
    m_form->setRowVisible(m_enrollmentRow, dps);
    m_group->setEnabled(
        m_enrollment->currentData().toInt() == int(ProvisioningProfile::Enrollment::Group) && m_jobs.isEmpty());
    // A key born in the modem never leaves it: nothing here can register in its name.
    const bool keyHere = m_keyBirth->currentData().toInt() == int(ProvisioningProfile::KeyBirth::Pc);
    m_testRegistration->setEnabled(keyHere && m_jobs.isEmpty());
    if (!keyHere)
        m_testRegistration->setChecked(false);
    // "CA-authenticated in the hub" is for registering in the hub; through DPS, DPS decides.
    if (auto *model = qobject_cast<QStandardItemModel *>(m_auth->model()))
        model->item(2)->setEnabled(!dps);
    if (dps && m_auth->currentIndex() == 2)
        m_auth->setCurrentIndex(1);
    const auto checked = profile();
    FieldError::show(m_profileError, checked ? QString() : checked.error().message);
    m_startAll->setEnabled(checked.has_value() && std::any_of(m_cards.cbegin(), m_cards.cend(), [](StationCard *card) {
        return card->status() != StationCard::Status::Running && card->status() != StationCard::Status::Unplugged
            && card->status() != StationCard::Status::Passed;
    }));
}

QList<StationCard *> StationPage::cards() const
{
    QList<StationCard *> all = m_cards.values();
    std::sort(all.begin(), all.end(), [](StationCard *a, StationCard *b) { return a->port() < b->port(); });
    return all;
}

void StationPage::showPorts(const QList<ModemPort> &ports)
{
    QSet<QString> present;
    for (const ModemPort &port : ports) {
        if (port.role != ModemPort::Role::At && !port.extra)
            continue;
        present.insert(port.path);
        m_ports.insert(port.path, port);
        StationCard *card = m_cards.value(port.path);
        if (!card) {
            addCard(port);
            if (m_autoStart)
                start(port.path);
        } else if (card->status() == StationCard::Status::Unplugged) {
            card->setUnplugged(false);
            if (m_autoStart)
                start(port.path);
        }
    }
    for (StationCard *card : std::as_const(m_cards))
        card->setUnplugged(!present.contains(card->port()));
    updateProfileState();
}

StationCard *StationPage::addCard(const ModemPort &port)
{
    auto *card = new StationCard(port.path, m_cardArea);
    m_cards.insert(port.path, card);
    m_empty->hide();
    const int index = int(m_cards.size()) - 1;
    m_cardGrid->addWidget(card, 1 + index / cardColumns, index % cardColumns);
    connect(card, &StationCard::cancelRequested, this, [this, path = port.path] {
        if (ProvisioningJob *job = m_jobs.value(path))
            job->cancel();
    });
    connect(card, &StationCard::retryRequested, this, [this, path = port.path](bool replace) { start(path, replace); });
    return card;
}

void StationPage::startAll()
{
    for (StationCard *card : cards()) {
        if (card->status() == StationCard::Status::Waiting || card->status() == StationCard::Status::Failed
            || card->status() == StationCard::Status::Cancelled)
            start(card->port());
    }
}

void StationPage::start(const QString &port, bool replaceConflicting)
{
    if (m_jobs.contains(port))
        return;
    const auto checked = profile();
    if (!checked) {
        Q_EMIT statusMessage(checked.error().message);
        return;
    }
    StationCard *card = m_cards.value(port);
    if (!card) {
        ModemPort given;
        given.path = port;
        given.extra = true;
        card = addCard(m_ports.value(port, given));
    }
    card->setRunning();
    const bool dps = checked->registration == ProvisioningProfile::Registration::Dps;
    if (m_hubClient && m_hubClientName == checked->hub && (!dps || (m_dpsClient && m_dpsClientName == checked->dps)))
        return launch(port, *checked, replaceConflicting);
    // The connection strings come from the keychain (asynchronously); the card waits for them.
    m_jobs.insert(port, nullptr);
    updateProfileState();
    whenFinished(connectClients(*checked), this,
        [this, port, profile = *checked, replaceConflicting](const Result<void> &ready) {
            m_jobs.remove(port);
            if (!ready) {
                ProvisioningReport report;
                report.port = port;
                report.startedAt = report.finishedAt = QDateTime::currentDateTimeUtc();
                report.failure = ready.error();
                return finished(port, report);
            }
            launch(port, profile, replaceConflicting);
        });
}

QFuture<Result<void>> StationPage::connectClients(const ProvisioningProfile &profile)
{
    // Clients are replaced only while no job uses them (the profile is locked while jobs run).
    const auto idle = [this] {
        return std::all_of(m_jobs.cbegin(), m_jobs.cend(), [](ProvisioningJob *j) { return j == nullptr; });
    };
    const auto hubProfile = m_hubs.find(profile.hub);
    if (!hubProfile)
        return failedFuture<void>(
            {ErrorKind::NotFound, QStringLiteral("HubNotFound"), tr("The hub \"%1\" is gone.").arg(profile.hub)});
    std::optional<DpsProfile> dpsProfile;
    if (profile.registration == ProvisioningProfile::Registration::Dps) {
        dpsProfile = m_dpsInstances.find(profile.dps);
        if (!dpsProfile)
            return failedFuture<void>(
                {ErrorKind::NotFound, QStringLiteral("DpsNotFound"), tr("The DPS \"%1\" is gone.").arg(profile.dps)});
    }
    auto promise = std::make_shared<QPromise<Result<void>>>();
    promise->start();
    const auto finishWith = [promise](const Result<void> &result) {
        promise->addResult(result);
        promise->finish();
    };
    const auto connectDps = [this, dpsProfile, idle, finishWith] {
        if (!dpsProfile || (m_dpsClient && m_dpsClientName == dpsProfile->name))
            return finishWith({});
        whenFinished(m_dpsInstances.connectionString(dpsProfile->name), this,
            [this, dps = *dpsProfile, idle, finishWith](const Result<ConnectionString> &service) {
                if (!service)
                    return finishWith(std::unexpected(service.error()));
                if (idle()) {
                    m_dpsClient = std::make_unique<DpsClient>(dps, *service);
                    m_dpsClientName = dps.name;
                }
                finishWith({});
            });
    };
    if (m_hubClient && m_hubClientName == profile.hub) {
        connectDps();
    } else {
        whenFinished(m_hubs.connectionString(profile.hub), this,
            [this, hub = *hubProfile, idle, connectDps, finishWith](const Result<ConnectionString> &service) {
                if (!service)
                    return finishWith(std::unexpected(service.error()));
                if (idle()) {
                    m_hubClient = std::make_unique<HubClient>(hub, *service);
                    m_hubClientName = hub.name;
                }
                connectDps();
            });
    }
    return promise->future();
}

void StationPage::launch(const QString &port, const ProvisioningProfile &profile, bool replaceConflicting)
{
    ProvisioningOptions options;
    options.operatorName = m_operator->text().trimmed();
    options.usbSerial = m_ports.value(port).serialNumber;
    options.replaceConflicting = replaceConflicting;
    const auto hubProfile = m_hubs.find(profile.hub);
    auto *job = new ProvisioningJob(
        profile, port, *m_hubClient, hubProfile.value_or(HubProfile{}), m_credentials, options, this);
    if (profile.registration == ProvisioningProfile::Registration::Dps) {
        if (const auto dps = m_dpsInstances.find(profile.dps); dps && m_dpsClient && m_dpsClientName == dps->name)
            job->setDps(m_dpsClient.get(), *dps); // else the job explains that the DPS is not known
    }
    if (m_audit) // else the job's own, in the app data dir
        job->setAuditLog(m_audit);
    if (m_ledger)
        job->setLedger(m_ledger);
    m_jobs.insert(port, job);
    StationCard *card = m_cards.value(port);
    connect(job, &ProvisioningJob::stepChanged, card, &StationCard::setStep);
    connect(job, &ProvisioningJob::detail, card, &StationCard::setDetail);
    connect(job, &ProvisioningJob::identified, card, &StationCard::setIdentity);
    job->start().then(this, [this, port, job](const ProvisioningReport &report) {
        m_jobs.remove(port);
        job->deleteLater();
        finished(port, report);
    });
    updateProfileState();
    updateTally();
    for (QWidget *widget : std::as_const(m_profileWidgets))
        widget->setEnabled(false);
}

void StationPage::finished(const QString &port, const ProvisioningReport &report)
{
    if (StationCard *card = m_cards.value(port))
        card->setResult(report);
    m_reports.append(report);
    if (report.ok()) {
        ++m_passed;
        m_passedMs += report.startedAt.msecsTo(report.finishedAt);
    } else {
        ++m_failed;
    }
    if (m_jobs.isEmpty()) {
        for (QWidget *widget : std::as_const(m_profileWidgets))
            widget->setEnabled(true);
    }
    updateProfileState();
    updateTally();
    Q_EMIT statusMessage(report.failure ? tr("%1: %2").arg(port, report.failure->message)
                                        : tr("%1: %2 provisioned.").arg(port, report.deviceId));
    Q_EMIT jobFinished(report);
}

void StationPage::updateTally()
{
    QString text = tr("Passed %1 · Failed %2 · Running %3").arg(m_passed).arg(m_failed).arg(m_jobs.size());
    if (m_passed > 0)
        text += tr(" · %1 s per modem").arg(m_passedMs / 1000.0 / m_passed, 0, 'f', 1);
    m_tally->setText(text);
}

void StationPage::loadProfile()
{
    const QString path
        = QFileDialog::getOpenFileName(this, tr("Open Provisioning Profile"), {}, tr("Provisioning profiles (*.json)"));
    if (path.isEmpty())
        return;
    const auto loaded = ProvisioningProfile::load(path);
    if (!loaded) {
        QMessageBox::warning(this, tr("Open Provisioning Profile"), loaded.error().message);
        return;
    }
    setProfile(*loaded);
}

void StationPage::saveProfile()
{
    const auto checked = profile();
    if (!checked) {
        QMessageBox::warning(this, tr("Save Provisioning Profile"), checked.error().message);
        return;
    }
    QString path = QFileDialog::getSaveFileName(
        this, tr("Save Provisioning Profile"), QStringLiteral("profile.json"), tr("Provisioning profiles (*.json)"));
    if (path.isEmpty())
        return;
    if (auto saved = checked->save(path); !saved)
        QMessageBox::warning(this, tr("Save Provisioning Profile"), saved.error().message);
}

void StationPage::exportAudit()
{
    const AuditLog log(m_audit ? *m_audit : AuditLog(AuditLog::defaultDirectory()));
    const auto records = log.records();
    if (!records) {
        QMessageBox::warning(this, tr("Export Audit Log"), records.error().message);
        return;
    }
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export Audit Log"), QStringLiteral("provisioning-audit.csv"), tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(AuditLog::toCsv(*records)) < 0 || !file.commit()) {
        QMessageBox::warning(this, tr("Export Audit Log"), tr("Cannot write %1: %2").arg(path, file.errorString()));
        return;
    }
    Q_EMIT statusMessage(tr("%n audit record(s) exported to %1.", nullptr, int(records->size())).arg(path));
}

} // namespace Onboarder
