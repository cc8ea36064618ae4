#pragma once

#include <QPointer>
#include <QStringList>
#include <QWidget>

#include <functional>

class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace Onboarder {

class Nrf91Modem;

// The Modem page's AT terminal: one command at a time, its answer and the modem's unsolicited lines in the
// order they came, a history (Up/Down), Copy and Clear. Commands that change the modem are confirmed first;
// credential writes and PINs are refused before anything is sent or kept (AtCommandPolicy).
class AtTerminalView final : public QWidget
{
    Q_OBJECT

public:
    explicit AtTerminalView(QWidget *parent = nullptr);

    void setModem(Nrf91Modem *modem);
    void setBlocked(bool blocked);
    // Set by tests: answers the "this changes the modem" question instead of a dialog.
    void setConfirmation(std::function<bool(const QString &)> confirm) { m_confirm = std::move(confirm); }

    QStringList history() const { return m_history; }
    QString transcript() const;
    bool isBusy() const { return m_busy; }

    // For tests.
    QLineEdit *input() const { return m_input; }
    QPushButton *sendButton() const { return m_send; }

public Q_SLOTS:
    void send();
    void copyAll();

Q_SIGNALS:
    void busyChanged(bool busy);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void append(const QString &line);
    void updateState();

    QPointer<Nrf91Modem> m_modem;
    QMetaObject::Connection m_urc;
    std::function<bool(const QString &)> m_confirm;
    QStringList m_history;
    int m_historyIndex = -1;
    bool m_busy = false;
    bool m_blocked = false;

    QPlainTextEdit *m_output;
    QLineEdit *m_input;
    QPushButton *m_send;
    QPushButton *m_copy;
    QPushButton *m_clear;
};

} // namespace Onboarder
