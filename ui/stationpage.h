#pragma once

#include "modem/portfinder.h"
#include "provisioning/provisioningjob.h"
#include "provisioning/provisioningprofile.h"

#include <QElapsedTimer>
#include <QHash>
#include <QWidget>

#include <memory>

class QCheckBox;
class QComboBox;
class QFormLayout;
class QGridLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace Onboarder {

class AuditLog;
class CredentialStore;
class DpsClient;
class DpsStore;
class HubClient;
class HubStore;
class ModemKeyLedger;
class StationCard;

// The provisioning station (issue #8): a profile, then one card per modem as modems are plugged in; each
// port runs its own ProvisioningJob, side by side, with its steps, a pass/fail card and a running tally. A profile
// registers each device in the hub, or enrolls it in a Device Provisioning Service (issue #19).
// Jobs are asynchronous on the GUI thread (serial and network I/O never block; keys are made in the
// background). The profile is locked while jobs run.
class StationPage final : public QWidget
{
    Q_OBJECT

public:
    StationPage(HubStore &hubs, DpsStore &dpsInstances, CredentialStore &credentials, QWidget *parent = nullptr);
    ~StationPage() override;

    Result<ProvisioningProfile> profile() const; // from the form, checked
    void setProfile(const ProvisioningProfile &profile);
    void setOperatorName(const QString &name);
    void setAutoStart(bool on);
    // Tests and benchmarks give their own audit log and ledger (default: the app data dir's, as the jobs make them).
    void setAuditLog(AuditLog *log) { m_audit = log; }
    void setLedger(ModemKeyLedger *ledger) { m_ledger = ledger; }

    PortFinder *portFinder() const { return m_finder; }
    QList<StationCard *> cards() const;
    StationCard *card(const QString &port) const { return m_cards.value(port); }
    int passed() const { return m_passed; }
    int failed() const { return m_failed; }
    int running() const { return int(m_jobs.size()); }
    QLabel *tallyLabel() const { return m_tally; }
    QLabel *profileError() const { return m_profileError; }
    QList<ProvisioningReport> reports() const { return m_reports; }

public Q_SLOTS:
    void startAll();
    void start(const QString &port, bool replaceConflicting = false);
    void loadProfile();
    void saveProfile();
    void exportAudit();

Q_SIGNALS:
    void statusMessage(const QString &message);
    void jobFinished(const Onboarder::ProvisioningReport &report);

private:
    void showPorts(const QList<ModemPort> &ports);
    StationCard *addCard(const ModemPort &port);
    void launch(const QString &port, const ProvisioningProfile &profile, bool replaceConflicting);
    void finished(const QString &port, const ProvisioningReport &report);
    void updateTally();
    void updateProfileState();
    void fillHubs();
    void fillDps();
    // The hub's (and the DPS's) service client for a profile, made once their connection strings are read.
    QFuture<Result<void>> connectClients(const ProvisioningProfile &profile);

    HubStore &m_hubs;
    CredentialStore &m_credentials;
    PortFinder *m_finder;
    AuditLog *m_audit = nullptr;
    ModemKeyLedger *m_ledger = nullptr;
    DpsStore &m_dpsInstances;
    std::unique_ptr<HubClient> m_hubClient; // for the profile's hub; kept while jobs use it
    QString m_hubClientName;
    std::unique_ptr<DpsClient> m_dpsClient; // for the profile's DPS (registration through DPS)
    QString m_dpsClientName;
    QHash<QString, StationCard *> m_cards;
    QHash<QString, ModemPort> m_ports;
    QHash<QString, ProvisioningJob *> m_jobs;
    QList<ProvisioningReport> m_reports;
    int m_passed = 0;
    int m_failed = 0;
    qint64 m_passedMs = 0;
    bool m_autoStart = false;

    QComboBox *m_hub;
    QLineEdit *m_template;
    QLineEdit *m_prefix;
    QComboBox *m_auth;
    QLineEdit *m_ca;
    QComboBox *m_keyBirth;
    QCheckBox *m_keepKey;
    QSpinBox *m_secTag;
    QSpinBox *m_secondaryTag;
    QLineEdit *m_twinTags;
    QComboBox *m_registration;
    QComboBox *m_dps;
    QComboBox *m_enrollment;
    QLineEdit *m_group;
    QCheckBox *m_testRegistration;
    QFormLayout *m_form = nullptr;
    QWidget *m_enrollmentRow = nullptr;
    QLineEdit *m_operator;
    QLabel *m_profileError;
    QCheckBox *m_auto;
    QPushButton *m_startAll;
    QLabel *m_tally;
    QWidget *m_cardArea;
    QGridLayout *m_cardGrid;
    QLabel *m_empty;
    QList<QWidget *> m_profileWidgets;
};

} // namespace Onboarder
