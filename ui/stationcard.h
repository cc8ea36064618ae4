#pragma once

#include "provisioning/provisioningjob.h"

#include <QFrame>

class QLabel;
class QProgressBar;
class QPushButton;

namespace Onboarder {

// One modem on the station page: its port, IMEI and device id, the step it is at with a progress bar,
// and at the end a pass or fail card; a failed card says why and what hub and modem hold now.
class StationCard final : public QFrame
{
    Q_OBJECT

public:
    enum class Status { Waiting, Running, Passed, Failed, Cancelled, Unplugged };

    explicit StationCard(const QString &port, QWidget *parent = nullptr);

    QString port() const { return m_port; }
    Status status() const { return m_status; }
    QString statusText() const;
    QString summaryText() const;
    QLabel *checkLabel() const { return m_check; }
    QPushButton *cancelButton() const { return m_cancel; }
    QPushButton *retryButton() const { return m_retry; }
    QPushButton *replaceButton() const { return m_replace; }

    void setRunning();
    void setIdentity(const ModemIdentity &identity, const QString &deviceId);
    void setStep(int index, const ProvisioningStep &step);
    void setDetail(const QString &text);
    void setResult(const ProvisioningReport &report);
    void setUnplugged(bool unplugged);

Q_SIGNALS:
    void cancelRequested();
    void retryRequested(bool replaceConflicting);

private:
    void setStatus(Status status);

    QString m_port;
    Status m_status = Status::Waiting;
    QLabel *m_title;
    QLabel *m_badge;
    QLabel *m_identity;
    QLabel *m_step;
    QProgressBar *m_progress;
    QLabel *m_summary;
    QLabel *m_check; // the modem check's verdict after a job
    QPushButton *m_cancel;
    QPushButton *m_retry;
    QPushButton *m_replace;
};

} // namespace Onboarder
