#pragma once

#include "amqp/cloudtodeviceclient.h"

#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTimer;
class QTreeWidget;
class QTreeWidgetItem;

namespace Onboarder {

class HubSession;

// The device page's "Messages to device" tab: compose a cloud-to-device message (payload, application
// properties, message id, expiry, acknowledgement), check it as IoT Hub would before anything is sent, send it
// over AMQP without blocking (progress and cancel when it takes a while), list what was sent here with the
// feedback that came back for each (matched by message id), show the device's queue depth and purge its queue
// after asking.
class DeviceMessagesTab final : public QWidget
{
    Q_OBJECT

public:
    enum SentColumn { SentTimeColumn, SentIdColumn, SentAckColumn, SentStatusColumn, SentColumnCount };
    static constexpr int StatusCodeRole
        = Qt::UserRole; // on the status cell: Sending, Sent, Failed, or the feedback's code

    explicit DeviceMessagesTab(HubSession &session, QWidget *parent = nullptr);
    ~DeviceMessagesTab() override;

    // Another device: the sent list and the connection are dropped.
    void setDeviceId(const QString &id);
    // The queue depth as the registry last said it; -1: not known.
    void setQueueDepth(int depth);

    // The message as composed, before a message id is made up for it.
    C2dMessageDraft draft() const;
    bool isSending() const { return m_sending != nullptr; }

    // For tests.
    QPlainTextEdit *payloadEdit() const { return m_payload; }
    QTableWidget *propertyTable() const { return m_properties; }
    QLineEdit *messageIdEdit() const { return m_messageId; }
    QSpinBox *expiryBox() const { return m_expiry; }
    QComboBox *ackBox() const { return m_ack; }
    QPushButton *sendButton() const { return m_send; }
    QPushButton *cancelButton() const { return m_cancel; }
    QPushButton *purgeButton() const { return m_purge; }
    QLabel *problem() const { return m_problem; }
    QLabel *queueDepth() const { return m_queue; }
    QTreeWidget *sentList() const { return m_sent; }
    QLabel *status() const { return m_status; }
    void addProperty(const QString &name, const QString &value);

public Q_SLOTS:
    void send();
    void cancel();
    void purge(); // asks first

Q_SIGNALS:
    // The queue depth may have changed: the page asks the registry again.
    void refreshRequested();
    void statusMessage(const QString &message);

private:
    struct Sending;
    void validate();
    void sendOpened(const std::shared_ptr<Sending> &sending);
    void finishSending(const std::shared_ptr<Sending> &sending, const Result<QString> &result);
    void onFeedback(const C2dFeedback &feedback);
    void dropClient();
    void setItemStatus(QTreeWidgetItem *item, const QString &code, const QString &text, const QString &details = {});

    HubSession &m_session;
    QString m_id;
    QPlainTextEdit *m_payload;
    QLabel *m_size;
    QTableWidget *m_properties;
    QPushButton *m_addProperty;
    QPushButton *m_removeProperty;
    QLineEdit *m_messageId;
    QSpinBox *m_expiry;
    QComboBox *m_ack;
    QLabel *m_problem;
    QPushButton *m_send;
    QProgressBar *m_progress;
    QPushButton *m_cancel;
    QLabel *m_status;
    QLabel *m_queue;
    QPushButton *m_refreshQueue;
    QPushButton *m_purge;
    QTreeWidget *m_sent;
    QTimer *m_progressDelay;
    std::unique_ptr<CloudToDeviceClient> m_client; // open once a message was sent; listens for feedback when asked
    bool m_clientOpen = false;
    bool m_listening = false;
    std::shared_ptr<Sending> m_sending;
    int m_depth = -1;
    bool m_purging = false;
};

} // namespace Onboarder
