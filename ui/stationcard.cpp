#include "stationcard.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace Onboarder {

StationCard::StationCard(const QString &port, QWidget *parent)
    : QFrame(parent)
    , m_port(port)
    , m_title(new QLabel(port, this))
    , m_badge(new QLabel(this))
    , m_identity(new QLabel(this))
    , m_step(new QLabel(this))
    , m_progress(new QProgressBar(this))
    , m_summary(new QLabel(this))
    , m_check(new QLabel(this))
    , m_cancel(new QPushButton(tr("Cancel"), this))
    , m_retry(new QPushButton(tr("Retry"), this))
    , m_replace(new QPushButton(tr("Replace and Retry"), this))
{
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    setMinimumWidth(300);
    setAccessibleName(tr("Modem on %1").arg(port));
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_title->setTextFormat(Qt::PlainText);
    m_badge->setAlignment(Qt::AlignCenter);
    m_badge->setMargin(3);
    m_badge->setAutoFillBackground(true);
    m_check->hide();
    for (QLabel *label : {m_identity, m_step, m_summary, m_check}) {
        label->setTextFormat(Qt::PlainText);
        label->setWordWrap(true);
        label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    }
    m_progress->setRange(0, int(ProvisioningStep::all().size()));
    m_progress->setTextVisible(false);
    m_progress->setMaximumHeight(10);
    m_replace->setToolTip(tr("The hub has a device of this id with other credentials: give it the ones made here."));

    auto *top = new QHBoxLayout;
    top->addWidget(m_title, 1);
    top->addWidget(m_badge);
    auto *buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(m_replace);
    buttons->addWidget(m_retry);
    buttons->addWidget(m_cancel);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_identity);
    layout->addWidget(m_progress);
    layout->addWidget(m_step);
    layout->addWidget(m_summary, 1);
    layout->addWidget(m_check);
    layout->addLayout(buttons);

    connect(m_cancel, &QPushButton::clicked, this, &StationCard::cancelRequested);
    connect(m_retry, &QPushButton::clicked, this, [this] { Q_EMIT retryRequested(false); });
    connect(m_replace, &QPushButton::clicked, this, [this] { Q_EMIT retryRequested(true); });
    m_identity->setText(tr("Waiting to start"));
    setStatus(Status::Waiting);
}

QString StationCard::statusText() const
{
    switch (m_status) {
    case Status::Waiting: return tr("Waiting");
    case Status::Running: return tr("Running");
    case Status::Passed: return tr("Passed");
    case Status::Failed: return tr("Failed");
    case Status::Cancelled: return tr("Cancelled");
    case Status::Unplugged: return tr("Unplugged");
    }
    return {};
}

QString StationCard::summaryText() const
{
    return m_summary->text();
}

void StationCard::setStatus(Status status)
{
    m_status = status;
    m_badge->setText(statusText());
    QColor background;
    switch (status) {
    case Status::Passed: background = QColor(0x1e, 0x7d, 0x32); break;
    case Status::Failed: background = QColor(0xb3, 0x26, 0x1e); break;
    case Status::Running: background = QColor(0x15, 0x65, 0xc0); break;
    default: background = QColor(0x75, 0x75, 0x75); break;
    }
    QPalette palette = m_badge->palette();
    palette.setColor(QPalette::Window, background);
    palette.setColor(QPalette::WindowText, Qt::white);
    m_badge->setPalette(palette);
    const bool running = status == Status::Running;
    m_cancel->setVisible(running);
    m_retry->setVisible(status == Status::Failed || status == Status::Cancelled);
    if (status != Status::Failed)
        m_replace->hide();
}

void StationCard::setRunning()
{
    m_progress->setValue(0);
    m_summary->clear();
    m_check->clear();
    m_check->hide();
    m_step->clear();
    setStatus(Status::Running);
}

void StationCard::setIdentity(const ModemIdentity &identity, const QString &deviceId)
{
    m_identity->setText(
        tr("IMEI %1 · %2 · %3\nDevice %4").arg(identity.imei, identity.model, identity.firmware, deviceId));
}

void StationCard::setStep(int index, const ProvisioningStep &step)
{
    if (step.state == ProvisioningStep::State::Running) {
        m_progress->setValue(index);
        m_step->setText(ProvisioningStep::title(step.id) + u'…');
    } else if (step.state == ProvisioningStep::State::Done || step.state == ProvisioningStep::State::Skipped) {
        m_progress->setValue(index + 1);
    }
}

void StationCard::setDetail(const QString &text)
{
    if (m_status == Status::Running)
        m_step->setText(text);
}

void StationCard::setResult(const ProvisioningReport &report)
{
    const double seconds = report.startedAt.msecsTo(report.finishedAt) / 1000.0;
    if (report.modemCheck) {
        m_check->setText(tr("Will it connect? %1").arg(report.modemCheck->verdictText));
        m_check->setToolTip(report.modemCheck->evidence.join(u'\n'));
        m_check->setProperty("verdict", ModemCheckReport::verdictName(report.modemCheck->verdict));
        m_check->setStyleSheet(
            report.modemCheck->ready() ? QStringLiteral("color: #1a7f37;") : QStringLiteral("color: #b35900;"));
    } else {
        m_check->setText(
            report.modemCheckError.isEmpty() ? QString() : tr("Modem check: %1").arg(report.modemCheckError));
        m_check->setToolTip({});
        m_check->setStyleSheet({});
    }
    m_check->setVisible(!m_check->text().isEmpty());
    if (report.ok()) {
        setStatus(Status::Passed);
        m_progress->setValue(m_progress->maximum());
        m_step->setText(tr("Done in %1 s").arg(seconds, 0, 'f', 1));
        if (report.throughDps()) {
            m_summary->setText(
                tr("%1 enrolled in DPS %2 (%3)\n%4\nCertificate %5…\nModem: %6 credentials verified in tag %7")
                    .arg(report.deviceId, report.dpsName, ProvisioningReport::enrollmentName(report.enrollment),
                        report.assignedHub.isEmpty() ? tr("Not registered from the bench")
                                                     : tr("Registered: hub %1").arg(report.assignedHub),
                        report.thumbprintSha256.left(24))
                    .arg(report.flash ? report.flash->slots.size() : 0)
                    .arg(report.secTag));
            return;
        }
        m_summary->setText(
            tr("%1 in hub %2 (%3)\nCertificate %4…\nModem: %5 credentials verified in tag %6")
                .arg(report.deviceId, report.hubName, ProvisioningReport::hubDeviceName(report.hubDevice),
                    report.thumbprintSha256.left(24))
                .arg(report.flash ? report.flash->slots.size() : 0)
                .arg(report.secTag));
        return;
    }
    setStatus(report.cancelled() ? Status::Cancelled : Status::Failed);
    const auto failedStep = std::find_if(report.steps.cbegin(), report.steps.cend(), [](const ProvisioningStep &s) {
        return s.state == ProvisioningStep::State::Failed || s.state == ProvisioningStep::State::Cancelled;
    });
    m_step->setText(failedStep != report.steps.cend()
            ? tr("Stopped at: %1").arg(ProvisioningStep::title(failedStep->id))
            : QString());
    const Error failure = report.failure.value_or(
        Error{ErrorKind::Internal, QStringLiteral("Unfinished"), tr("The job ended without a result.")});
    m_summary->setText(failure.message + QStringLiteral("\n\n") + report.stateSummary().join(u'\n'));
    m_replace->setVisible(
        failure.code == QStringLiteral("DeviceConflict") || failure.code == QStringLiteral("EnrollmentConflict"));
    m_replace->setToolTip(failure.code == QStringLiteral("EnrollmentConflict")
            ? tr("DPS has an enrollment of this id with another certificate: give it the one made here.")
            : tr("The hub has a device of this id with other credentials: give it the ones made here."));
}

void StationCard::setUnplugged(bool unplugged)
{
    if (unplugged && m_status != Status::Running)
        setStatus(Status::Unplugged);
    else if (!unplugged && m_status == Status::Unplugged)
        setStatus(Status::Waiting);
}

} // namespace Onboarder
