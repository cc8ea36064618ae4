#include "atterminalview.h"

#include "common/continuation.h"
#include "modem/atcommandpolicy.h"
#include "modem/nrf91modem.h"

#include <QApplication>
#include <QClipboard>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace Onboarder {

namespace {
constexpr int historyLimit = 100;
constexpr int answerTimeoutMs = 10000;
} // namespace

AtTerminalView::AtTerminalView(QWidget *parent)
    : QWidget(parent)
    , m_output(new QPlainTextEdit(this))
    , m_input(new QLineEdit(this))
    , m_send(new QPushButton(tr("Send"), this))
    , m_copy(new QPushButton(tr("Copy All"), this))
    , m_clear(new QPushButton(tr("Clear"), this))
{
    const QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    m_output->setReadOnly(true);
    m_output->setFont(mono);
    m_output->setMaximumBlockCount(5000);
    m_output->setAccessibleName(tr("Modem output"));
    m_output->setPlaceholderText(tr("Answers and unsolicited lines appear here. Lines from the modem start with \"<\", "
                                    "unsolicited ones with \"~\"."));
    m_input->setFont(mono);
    m_input->setPlaceholderText(tr("AT command, e.g. AT+CEREG?"));
    m_input->setAccessibleName(tr("AT command"));
    m_input->installEventFilter(this);

    auto *row = new QHBoxLayout;
    row->addWidget(m_input, 1);
    row->addWidget(m_send);
    row->addWidget(m_copy);
    row->addWidget(m_clear);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_output, 1);
    layout->addLayout(row);

    connect(m_send, &QPushButton::clicked, this, &AtTerminalView::send);
    connect(m_input, &QLineEdit::returnPressed, this, &AtTerminalView::send);
    connect(m_copy, &QPushButton::clicked, this, &AtTerminalView::copyAll);
    connect(m_clear, &QPushButton::clicked, m_output, &QPlainTextEdit::clear);
    updateState();
}

void AtTerminalView::setModem(Nrf91Modem *modem)
{
    if (modem == m_modem && (modem || !m_urc)) {
        updateState();
        return;
    }
    disconnect(m_urc);
    m_modem = modem;
    if (modem)
        m_urc = connect(modem, &Nrf91Modem::unsolicited, this,
            [this](const QByteArray &line) { append(QStringLiteral("~ ") + QString::fromLatin1(line)); });
    updateState();
}

void AtTerminalView::setBlocked(bool blocked)
{
    m_blocked = blocked;
    updateState();
}

void AtTerminalView::updateState()
{
    const bool usable = m_modem && m_modem->isOpen() && !m_busy && !m_blocked;
    m_send->setEnabled(usable);
    m_input->setEnabled(m_modem && m_modem->isOpen() && !m_blocked);
}

QString AtTerminalView::transcript() const
{
    return m_output->toPlainText();
}

void AtTerminalView::append(const QString &line)
{
    m_output->appendPlainText(line);
}

void AtTerminalView::copyAll()
{
    QApplication::clipboard()->setText(m_output->toPlainText());
}

void AtTerminalView::send()
{
    if (!m_modem || !m_modem->channel() || m_busy || m_blocked)
        return;
    const QByteArray command = m_input->text().trimmed().toLatin1();
    if (command.isEmpty())
        return;
    const AtCommandPolicy policy = AtCommandPolicy::of(command);
    if (policy.kind == AtCommandPolicy::Kind::NotAt || policy.kind == AtCommandPolicy::Kind::CarriesSecret) {
        // Neither sent nor kept: the line is cleared so that a typed secret does not linger either.
        append(tr("! Not sent: %1").arg(policy.reason));
        if (policy.kind == AtCommandPolicy::Kind::CarriesSecret)
            m_input->clear();
        return;
    }
    if (policy.kind == AtCommandPolicy::Kind::Changes) {
        const QString question = tr("%1\n\nSend %2?").arg(policy.reason, QString::fromLatin1(command));
        const bool yes = m_confirm ? m_confirm(question)
                                   : QMessageBox::question(this, tr("AT Terminal"), question,
                                         QMessageBox::Cancel | QMessageBox::Yes, QMessageBox::Cancel)
                == QMessageBox::Yes;
        if (!yes) {
            append(tr("! Not sent: %1").arg(QString::fromLatin1(command)));
            return;
        }
    }
    const QString text = QString::fromLatin1(command);
    m_history.removeAll(text);
    m_history.append(text);
    while (m_history.size() > historyLimit)
        m_history.removeFirst();
    m_historyIndex = -1;
    m_input->clear();
    append(QStringLiteral("> ") + text);
    m_busy = true;
    updateState();
    Q_EMIT busyChanged(true);
    const auto answer = m_modem->channel()->send(
        AtCommand(command).expecting(AtCommandPolicy::answerPrefix(command)).answeringText().timeout(answerTimeoutMs));
    whenFinished(answer, this, [this](Result<AtResponse> response) {
        m_busy = false;
        if (!response) {
            append(tr("! %1").arg(response.error().message));
        } else {
            for (const QByteArray &line : response->lines)
                append(QStringLiteral("< ") + QString::fromLatin1(line));
            append(QStringLiteral("< ") + QString::fromLatin1(response->finalLine));
        }
        updateState();
        Q_EMIT busyChanged(false);
        m_input->setFocus();
    });
}

bool AtTerminalView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_input && event->type() == QEvent::KeyPress && !m_history.isEmpty()) {
        const int key = static_cast<QKeyEvent *>(event)->key();
        if (key == Qt::Key_Up || key == Qt::Key_Down) {
            if (m_historyIndex < 0)
                m_historyIndex = int(m_history.size());
            m_historyIndex = std::clamp(m_historyIndex + (key == Qt::Key_Up ? -1 : 1), 0, int(m_history.size()));
            m_input->setText(m_historyIndex < m_history.size() ? m_history.at(m_historyIndex) : QString());
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace Onboarder
