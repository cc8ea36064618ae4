#pragma once

#include "modem/modemcheck.h"

#include <QPointer>
#include <QWidget>

#include <optional>

class QCheckBox;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace Onboarder {

class Nrf91Modem;

// The Modem page's check: will this modem reach the hub? A tag to check, LTE switched on for the check only when
// asked, progress with Cancel, then the verdict in one line and the evidence under it.
class ModemCheckView final : public QWidget
{
    Q_OBJECT

public:
    explicit ModemCheckView(QWidget *parent = nullptr);
    ~ModemCheckView() override;

    void setModem(Nrf91Modem *modem); // null: disconnected
    void setKnownHashes(const QHash<QString, QString> &known) { m_known = known; }
    void setBlocked(bool blocked); // another operation uses the modem
    bool isRunning() const { return m_check != nullptr; }
    std::optional<ModemCheckReport> lastReport() const { return m_last; }

    // For tests.
    QPushButton *checkButton() const { return m_run; }
    QPushButton *cancelButton() const { return m_cancel; }
    QCheckBox *lteOnBox() const { return m_lteOn; }
    QSpinBox *tagBox() const { return m_tag; }
    QLabel *verdictLabel() const { return m_verdict; }
    QListWidget *evidenceList() const { return m_evidence; }

public Q_SLOTS:
    void runCheck();
    void cancel();

Q_SIGNALS:
    void busyChanged(bool busy);
    void finished(const Onboarder::ModemCheckReport &report);

private:
    void updateState();
    void show(const ModemCheckReport &report);

    QPointer<Nrf91Modem> m_modem;
    ModemCheck *m_check = nullptr;
    QHash<QString, QString> m_known;
    std::optional<ModemCheckReport> m_last;
    bool m_blocked = false;

    QSpinBox *m_tag;
    QCheckBox *m_lteOn;
    QPushButton *m_run;
    QPushButton *m_cancel;
    QProgressBar *m_progress;
    QLabel *m_step;
    QLabel *m_verdict;
    QListWidget *m_evidence;
};

} // namespace Onboarder
