#include "modemcheckview.h"

#include "common/continuation.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace Onboarder {

ModemCheckView::ModemCheckView(QWidget *parent)
    : QWidget(parent)
    , m_tag(new QSpinBox(this))
    , m_lteOn(new QCheckBox(tr("Switch LTE on for the check"), this))
    , m_run(new QPushButton(tr("Check Modem"), this))
    , m_cancel(new QPushButton(tr("Cancel"), this))
    , m_progress(new QProgressBar(this))
    , m_step(new QLabel(this))
    , m_verdict(new QLabel(this))
    , m_evidence(new QListWidget(this))
{
    m_tag->setRange(-1, INT_MAX);
    m_tag->setValue(10);
    m_tag->setSpecialValueText(tr("none"));
    m_tag->setAccessibleName(tr("Security tag to check"));
    m_tag->setToolTip(
        tr("The security tag the device's firmware connects with: its root CA, certificate and key are checked"));
    m_lteOn->setToolTip(
        tr("When LTE is off (flight mode), switch it on (AT+CFUN=1) for the check and back to the mode it "
           "was in afterwards. The modem then registers with the network: do it only where that is "
           "allowed."));
    m_progress->setRange(0, 0);
    m_progress->setMaximumHeight(10);
    m_progress->setTextVisible(false);
    m_progress->hide();
    m_cancel->hide();
    m_step->setTextFormat(Qt::PlainText);
    QFont big = m_verdict->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    m_verdict->setFont(big);
    m_verdict->setTextFormat(Qt::PlainText);
    m_verdict->setWordWrap(true);
    m_verdict->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_verdict->setText(tr("Not checked yet. Connect to a modem and check whether it can reach the hub: SIM, network, "
                          "signal, clock and credentials."));
    m_evidence->setAccessibleName(tr("What the check found"));
    m_evidence->setWordWrap(true);
    m_evidence->setSelectionMode(QAbstractItemView::ExtendedSelection);

    auto *row = new QHBoxLayout;
    row->addWidget(new QLabel(tr("Tag:"), this));
    row->addWidget(m_tag);
    row->addWidget(m_lteOn);
    row->addStretch(1);
    row->addWidget(m_run);
    row->addWidget(m_cancel);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(row);
    layout->addWidget(m_progress);
    layout->addWidget(m_step);
    layout->addWidget(m_verdict);
    layout->addWidget(m_evidence, 1);

    connect(m_run, &QPushButton::clicked, this, &ModemCheckView::runCheck);
    connect(m_cancel, &QPushButton::clicked, this, &ModemCheckView::cancel);
    updateState();
}

ModemCheckView::~ModemCheckView()
{
    if (m_check)
        m_check->cancel();
}

void ModemCheckView::setModem(Nrf91Modem *modem)
{
    if (m_check && modem != m_modem)
        m_check->cancel();
    m_modem = modem;
    updateState();
}

void ModemCheckView::setBlocked(bool blocked)
{
    m_blocked = blocked;
    updateState();
}

void ModemCheckView::updateState()
{
    const bool running = m_check != nullptr;
    m_run->setEnabled(m_modem && m_modem->isOpen() && !running && !m_blocked);
    m_tag->setEnabled(!running);
    m_lteOn->setEnabled(!running);
    m_cancel->setVisible(running);
    m_progress->setVisible(running);
}

void ModemCheckView::runCheck()
{
    if (!m_modem || m_check || m_blocked)
        return;
    ModemCheckOptions options;
    if (m_tag->value() >= 0)
        options.secTag = quint32(m_tag->value());
    options.switchLteOn = m_lteOn->isChecked();
    options.knownHashes = m_known;
    m_check = new ModemCheck(*m_modem, this);
    connect(m_check, &ModemCheck::progress, m_step, &QLabel::setText);
    m_verdict->setText(tr("Checking…"));
    m_verdict->setStyleSheet({});
    m_evidence->clear();
    updateState();
    Q_EMIT busyChanged(true);
    whenFinished(m_check->run(options), this, [this](Result<ModemCheckReport> report) {
        m_check->deleteLater();
        m_check = nullptr;
        m_step->clear();
        if (report) {
            m_last = *report;
            show(*report);
        } else {
            m_verdict->setText(report.error().kind == ErrorKind::Cancelled
                    ? tr("Check cancelled.")
                    : tr("The check stopped: %1").arg(report.error().message));
            m_verdict->setStyleSheet({});
        }
        updateState();
        Q_EMIT busyChanged(false);
        if (report)
            Q_EMIT finished(*report);
    });
}

void ModemCheckView::cancel()
{
    if (m_check)
        m_check->cancel();
}

void ModemCheckView::show(const ModemCheckReport &report)
{
    QString text = report.verdictText;
    if (!text.isEmpty())
        text[0] = text[0].toUpper();
    m_verdict->setText(text);
    m_verdict->setStyleSheet(report.ready() ? QStringLiteral("color: #1a7f37;") : QStringLiteral("color: #b35900;"));
    m_evidence->clear();
    m_evidence->addItems(report.evidence);
}

} // namespace Onboarder
