#include "devicemessagestab.h"

#include "fielderror.h"
#include "hub/hubclient.h"
#include "hub/hubsession.h"
#include "hub/hubstore.h"

#include <QComboBox>
#include <QDateTime>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QTimer>
#include <QTreeWidget>
#include <QUuid>
#include <QVBoxLayout>

namespace Onboarder {

namespace {

constexpr int progressDelayMs = 300;
constexpr int maxExpirySeconds = 48 * 3600;

} // namespace

// One message on its way: the draft with its message id, and its row in the sent list.
struct DeviceMessagesTab::Sending
{
    QString deviceId;
    C2dMessageDraft draft;
    QTreeWidgetItem *item = nullptr;
    bool handed = false; // given to the hub's connection: cancelling cannot promise it was not taken
};

DeviceMessagesTab::DeviceMessagesTab(HubSession &session, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_payload(new QPlainTextEdit(this))
    , m_size(new QLabel(this))
    , m_properties(new QTableWidget(0, 2, this))
    , m_addProperty(new QPushButton(tr("Add Property"), this))
    , m_removeProperty(new QPushButton(tr("Remove"), this))
    , m_messageId(new QLineEdit(this))
    , m_expiry(new QSpinBox(this))
    , m_ack(new QComboBox(this))
    , m_problem(FieldError::create(this))
    , m_send(new QPushButton(tr("Send"), this))
    , m_progress(new QProgressBar(this))
    , m_cancel(new QPushButton(tr("Cancel"), this))
    , m_status(new QLabel(this))
    , m_queue(new QLabel(this))
    , m_refreshQueue(new QPushButton(tr("Refresh"), this))
    , m_purge(new QPushButton(tr("Purge Queue…"), this))
    , m_sent(new QTreeWidget(this))
    , m_progressDelay(new QTimer(this))
{
    m_payload->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_payload->setTabChangesFocus(true);
    m_payload->setPlaceholderText(tr("The message's payload, e.g. {\"command\": \"reboot\"}; sent as UTF-8 text."));
    m_payload->setAccessibleName(tr("Payload"));
    m_size->setTextFormat(Qt::PlainText);
    m_properties->setHorizontalHeaderLabels({tr("Name"), tr("Value")});
    m_properties->horizontalHeader()->setStretchLastSection(true);
    m_properties->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Interactive);
    m_properties->setColumnWidth(0, 160);
    m_properties->verticalHeader()->hide();
    m_properties->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_properties->setAccessibleName(tr("Application properties"));
    m_properties->setMinimumHeight(m_properties->fontMetrics().height() * 6);
    m_messageId->setPlaceholderText(tr("Made up when empty (a new UUID)"));
    m_messageId->setAccessibleName(tr("Message id"));
    m_messageId->setClearButtonEnabled(true);
    m_expiry->setRange(0, maxExpirySeconds);
    m_expiry->setSingleStep(60);
    m_expiry->setSuffix(tr(" s"));
    m_expiry->setSpecialValueText(tr("The hub's default (1 hour)"));
    m_expiry->setToolTip(
        tr("How long the hub keeps the message for a device that is not connected (at most 48 hours)."));
    m_expiry->setAccessibleName(tr("Expiry"));
    m_ack->addItem(tr("Full: whether delivered or not"), QStringLiteral("full"));
    m_ack->addItem(tr("Positive: when delivered"), QStringLiteral("positive"));
    m_ack->addItem(tr("Negative: when not delivered"), QStringLiteral("negative"));
    m_ack->addItem(tr("None"), QStringLiteral("none"));
    m_ack->setToolTip(tr("The feedback the hub gives about the message: Success when the device took it, Expired, "
                         "Rejected or delivery count exceeded when it did not."));
    m_ack->setAccessibleName(tr("Feedback"));
    m_send->setDefault(true);
    m_progress->setRange(0, 0); // busy
    m_progress->setTextVisible(false);
    m_progress->setMaximumHeight(m_send->sizeHint().height() * 2 / 3);
    m_progress->hide();
    m_cancel->setToolTip(tr("Stop sending. A message the hub already took cannot be taken back."));
    m_cancel->hide();
    m_status->setTextFormat(Qt::PlainText);
    m_status->setWordWrap(true);
    m_queue->setTextFormat(Qt::PlainText);
    m_queue->setAccessibleName(tr("Queue depth"));
    m_purge->setToolTip(tr("Drop every message waiting for the device; it will never get them."));
    m_sent->setColumnCount(SentColumnCount);
    m_sent->setHeaderLabels({tr("Sent"), tr("Message id"), tr("Feedback"), tr("Status")});
    m_sent->setRootIsDecorated(false);
    m_sent->setUniformRowHeights(true);
    m_sent->setAccessibleName(tr("Sent messages"));
    m_sent->header()->setStretchLastSection(true);
    m_sent->setColumnWidth(SentTimeColumn, m_sent->fontMetrics().horizontalAdvance(QStringLiteral("00:00:00")) + 24);
    m_sent->setColumnWidth(SentIdColumn, m_sent->fontMetrics().horizontalAdvance(QStringLiteral("0")) * 38);
    m_sent->setColumnWidth(SentAckColumn, m_sent->fontMetrics().horizontalAdvance(tr("Positive")) + 32);
    m_progressDelay->setSingleShot(true);
    m_progressDelay->setInterval(progressDelayMs);

    // Compose, on the left.
    auto *propertyButtons = new QHBoxLayout;
    propertyButtons->addWidget(m_addProperty);
    propertyButtons->addWidget(m_removeProperty);
    propertyButtons->addStretch(1);
    auto *form = new QFormLayout;
    form->addRow(tr("Message id:"), m_messageId);
    form->addRow(tr("Expiry:"), m_expiry);
    form->addRow(tr("Feedback:"), m_ack);
    auto *sendRow = new QHBoxLayout;
    sendRow->addWidget(m_progress, 1);
    sendRow->addWidget(m_cancel);
    sendRow->addStretch(0);
    sendRow->addWidget(m_send);
    auto *compose = new QGroupBox(tr("New Message"), this);
    auto *composeLayout = new QVBoxLayout(compose);
    auto *payloadRow = new QHBoxLayout;
    payloadRow->addWidget(new QLabel(tr("Payload:"), compose), 1);
    payloadRow->addWidget(m_size);
    composeLayout->addLayout(payloadRow);
    composeLayout->addWidget(m_payload, 2);
    composeLayout->addWidget(new QLabel(tr("Application properties:"), compose));
    composeLayout->addWidget(m_properties, 1);
    composeLayout->addLayout(propertyButtons);
    composeLayout->addLayout(form);
    composeLayout->addWidget(m_problem);
    composeLayout->addLayout(sendRow);

    // The queue and what was sent, on the right.
    auto *queueRow = new QHBoxLayout;
    queueRow->addWidget(m_queue, 1);
    queueRow->addWidget(m_refreshQueue);
    queueRow->addWidget(m_purge);
    auto *history = new QGroupBox(tr("Sent from Here"), this);
    auto *historyLayout = new QVBoxLayout(history);
    historyLayout->addLayout(queueRow);
    historyLayout->addWidget(m_status);
    historyLayout->addWidget(m_sent, 1);

    auto *layout = new QHBoxLayout(this);
    layout->addWidget(compose, 4);
    layout->addWidget(history, 5);

    connect(m_payload, &QPlainTextEdit::textChanged, this, &DeviceMessagesTab::validate);
    connect(m_properties, &QTableWidget::itemChanged, this, &DeviceMessagesTab::validate);
    connect(m_messageId, &QLineEdit::textChanged, this, &DeviceMessagesTab::validate);
    connect(m_addProperty, &QPushButton::clicked, this, [this] {
        addProperty({}, {});
        m_properties->setCurrentCell(m_properties->rowCount() - 1, 0);
        m_properties->editItem(m_properties->item(m_properties->rowCount() - 1, 0));
    });
    connect(m_removeProperty, &QPushButton::clicked, this, [this] {
        if (m_properties->currentRow() >= 0)
            m_properties->removeRow(m_properties->currentRow());
        validate();
    });
    connect(m_send, &QPushButton::clicked, this, &DeviceMessagesTab::send);
    connect(m_cancel, &QPushButton::clicked, this, &DeviceMessagesTab::cancel);
    connect(m_purge, &QPushButton::clicked, this, &DeviceMessagesTab::purge);
    connect(m_refreshQueue, &QPushButton::clicked, this, &DeviceMessagesTab::refreshRequested);
    connect(m_progressDelay, &QTimer::timeout, this, [this] {
        m_progress->show();
        m_cancel->show();
    });
    connect(&m_session, &HubSession::stateChanged, this, [this] {
        cancel();
        dropClient(); // another hub
    });
    setQueueDepth(-1);
    validate();
}

DeviceMessagesTab::~DeviceMessagesTab()
{
    m_sending.reset();
    if (m_client)
        m_client->disconnect(this);
}

void DeviceMessagesTab::setDeviceId(const QString &id)
{
    if (id == m_id)
        return;
    cancel();
    dropClient();
    m_id = id;
    m_sent->clear();
    m_status->clear();
    FieldError::show(m_problem, {});
    setQueueDepth(-1);
    validate();
}

void DeviceMessagesTab::setQueueDepth(int depth)
{
    m_depth = depth;
    m_queue->setText(
        depth < 0 ? tr("Waiting for the device: …") : tr("Waiting for the device: %n message(s)", nullptr, depth));
    m_purge->setEnabled(!m_id.isEmpty() && !m_purging && depth != 0);
}

void DeviceMessagesTab::addProperty(const QString &name, const QString &value)
{
    const int row = m_properties->rowCount();
    m_properties->insertRow(row);
    m_properties->setItem(row, 0, new QTableWidgetItem(name));
    m_properties->setItem(row, 1, new QTableWidgetItem(value));
    validate();
}

C2dMessageDraft DeviceMessagesTab::draft() const
{
    C2dMessageDraft draft;
    draft.payload = m_payload->toPlainText().toUtf8();
    for (int row = 0; row < m_properties->rowCount(); ++row) {
        const QTableWidgetItem *name = m_properties->item(row, 0);
        const QTableWidgetItem *value = m_properties->item(row, 1);
        const QString n = name ? name->text().trimmed() : QString();
        const QString v = value ? value->text() : QString();
        if (n.isEmpty() && v.isEmpty())
            continue; // an empty row is no property
        draft.properties.append({n, v});
    }
    draft.messageId = m_messageId->text().trimmed();
    draft.expirySeconds = m_expiry->value();
    draft.ack = m_ack->currentData().toString();
    return draft;
}

void DeviceMessagesTab::validate()
{
    const C2dMessageDraft message = draft();
    m_size->setText(
        tr("%1 of %2 bytes")
            .arg(QLocale().toString(message.payload.size()), QLocale().toString(C2dMessageDraft::maxBytes)));
    const auto valid = message.validate();
    FieldError::show(m_problem, valid ? QString() : valid.error().message);
    m_send->setEnabled(valid.has_value() && !m_sending && !m_id.isEmpty());
}

void DeviceMessagesTab::send()
{
    if (m_sending || m_id.isEmpty())
        return;
    C2dMessageDraft message = draft();
    // Everything IoT Hub would refuse is said before anything is sent.
    if (const auto valid = message.validate(); !valid) {
        FieldError::show(m_problem, valid.error().message);
        return;
    }
    if (message.messageId.isEmpty())
        message.messageId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    const HubProfile profile = m_session.profile();
    if (profile.name.isEmpty()) {
        FieldError::show(m_problem, tr("No hub is current: choose one on the Hubs page."));
        return;
    }
    FieldError::show(m_problem, {});
    auto *item = new QTreeWidgetItem;
    item->setText(SentTimeColumn, QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss")));
    item->setToolTip(SentTimeColumn, QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs));
    item->setText(SentIdColumn, message.messageId);
    item->setToolTip(SentIdColumn, message.messageId);
    item->setText(SentAckColumn,
        message.ack == QLatin1String("full")           ? tr("Full")
            : message.ack == QLatin1String("positive") ? tr("Positive")
            : message.ack == QLatin1String("negative") ? tr("Negative")
                                                       : tr("None"));
    m_sent->insertTopLevelItem(0, item);
    setItemStatus(item, QStringLiteral("Sending"), tr("Sending…"));

    auto sending = std::make_shared<Sending>(Sending{m_id, message, item});
    m_sending = sending;
    m_send->setEnabled(false);
    m_status->setText(tr("Sending message %1 to %2…").arg(message.messageId, m_id));
    m_progressDelay->start();
    if (m_client && m_clientOpen) {
        sendOpened(sending);
        return;
    }
    // The hub's connection string is read from the keychain and goes to the client in memory only.
    m_session.hubs()
        .connectionString(profile.name)
        .then(this, [this, sending, profile](Result<ConnectionString> service) {
            if (sending != m_sending)
                return; // cancelled
            if (!service)
                return finishSending(sending, std::unexpected(service.error()));
            dropClient();
            m_client = std::make_unique<CloudToDeviceClient>();
            connect(m_client.get(), &CloudToDeviceClient::feedbackReceived, this, &DeviceMessagesTab::onFeedback);
            connect(m_client.get(), &CloudToDeviceClient::errorOccurred, this, [this](const Error &error) {
                // The connection or one of its links ended: the next message opens a new connection.
                dropClient();
                if (const std::shared_ptr<Sending> sending = m_sending)
                    return finishSending(sending, std::unexpected(error));
                m_status->setText(tr("The connection to the hub ended: %1").arg(error.message));
            });
            // The client's futures end when it closes, which may be after this tab is gone: their continuations run in
            // the client's context, and look for the tab.
            QPointer<DeviceMessagesTab> self(this);
            m_client->open(profile, *service).then(m_client.get(), [this, self, sending](Result<void> opened) {
                if (!self || sending != m_sending)
                    return;
                if (!opened) {
                    dropClient();
                    return finishSending(sending, std::unexpected(opened.error()));
                }
                m_clientOpen = true;
                sendOpened(sending);
            });
        });
}

void DeviceMessagesTab::sendOpened(const std::shared_ptr<Sending> &sending)
{
    if (sending->draft.ack != QLatin1String("none") && !m_listening) {
        // Feedback records are handed to whoever reads them: read only once a message asks for one.
        m_client->listenForFeedback();
        m_listening = true;
    }
    sending->handed = true;
    QPointer<DeviceMessagesTab> self(this);
    m_client->send(sending->deviceId, sending->draft).then(m_client.get(), [this, self, sending](Result<QString> sent) {
        if (!self || sending != m_sending)
            return;
        finishSending(sending, sent);
    });
}

void DeviceMessagesTab::finishSending(const std::shared_ptr<Sending> &sending, const Result<QString> &result)
{
    m_sending.reset();
    m_progressDelay->stop();
    m_progress->hide();
    m_cancel->hide();
    validate();
    if (!result) {
        setItemStatus(sending->item, QStringLiteral("Failed"), tr("Not sent"), result.error().message);
        FieldError::show(m_problem, result.error().message);
        m_status->setText(tr("Message %1 was not sent.").arg(sending->draft.messageId));
        if (result.error().kind == ErrorKind::AuthRefused || result.error().kind == ErrorKind::Network)
            dropClient();
        return;
    }
    const QString &ack = sending->draft.ack;
    setItemStatus(sending->item, QStringLiteral("Sent"), tr("Taken by the hub"),
        ack == QLatin1String("none")           ? tr("No feedback was asked for.")
            : ack == QLatin1String("negative") ? tr("Feedback comes only if it is not delivered.")
                                               : tr("Waiting for the hub's feedback."));
    m_status->setText(tr("Hub %1 took message %2 for %3.").arg(m_session.profile().name, *result, sending->deviceId));
    Q_EMIT statusMessage(tr("Sent message %1 to \"%2\".").arg(*result, sending->deviceId));
    Q_EMIT refreshRequested();
}

void DeviceMessagesTab::cancel()
{
    if (!m_sending)
        return;
    const std::shared_ptr<Sending> sending = std::exchange(m_sending, {});
    m_progressDelay->stop();
    m_progress->hide();
    m_cancel->hide();
    dropClient(); // what it still holds is not sent
    setItemStatus(sending->item, QStringLiteral("Cancelled"), tr("Cancelled"),
        sending->handed ? tr("The hub may have taken it before it was cancelled.") : tr("It was not sent."));
    m_status->setText(sending->handed
            ? tr("Stopped waiting for the hub; message %1 may still reach the device.").arg(sending->draft.messageId)
            : tr("Message %1 was not sent.").arg(sending->draft.messageId));
    validate();
    Q_EMIT refreshRequested();
}

void DeviceMessagesTab::onFeedback(const C2dFeedback &feedback)
{
    for (int i = 0; i < m_sent->topLevelItemCount(); ++i) {
        QTreeWidgetItem *item = m_sent->topLevelItem(i);
        if (item->text(SentIdColumn) != feedback.originalMessageId)
            continue;
        const QString &code = feedback.statusCode;
        const QString text = code == QLatin1String("Success") ? tr("Success")
            : code == QLatin1String("Expired")                ? tr("Expired")
            : code == QLatin1String("Rejected")               ? tr("Rejected")
            : code == QLatin1String("DeliveryCountExceeded")  ? tr("Delivery count exceeded")
            : code == QLatin1String("Purged")                 ? tr("Purged")
                                                              : code;
        setItemStatus(item, code, text,
            tr("%1 at %2")
                .arg(feedback.description,
                    QLocale().toString(feedback.enqueuedTime.toLocalTime(), QLocale::ShortFormat)));
        const QString &id = feedback.originalMessageId;
        const QString &device = feedback.deviceId;
        m_status->setText(code == QLatin1String("Success") ? tr("Message %1 reached %2.").arg(id, device)
                : code == QLatin1String("Expired")         ? tr("Message %1 expired before %2 took it.").arg(id, device)
                : code == QLatin1String("Rejected")        ? tr("%2 rejected message %1.").arg(id, device)
                : code == QLatin1String("DeliveryCountExceeded")
                ? tr("Message %1 was offered to %2 too often without being completed.").arg(id, device)
                : tr("Feedback for message %1: %2").arg(id, code));
        Q_EMIT refreshRequested();
        return;
    }
}

void DeviceMessagesTab::setItemStatus(
    QTreeWidgetItem *item, const QString &code, const QString &text, const QString &details)
{
    item->setText(SentStatusColumn, text);
    item->setData(SentStatusColumn, StatusCodeRole, code);
    item->setToolTip(SentStatusColumn, details.isEmpty() ? text : text + u'\n' + details);
    QStyle::StandardPixmap icon = QStyle::SP_BrowserReload;
    if (code == QLatin1String("Success"))
        icon = QStyle::SP_DialogApplyButton;
    else if (code == QLatin1String("Sent"))
        icon = QStyle::SP_ArrowRight;
    else if (code == QLatin1String("Failed") || code == QLatin1String("Rejected") || code == QLatin1String("Expired")
        || code == QLatin1String("DeliveryCountExceeded"))
        icon = QStyle::SP_MessageBoxCritical;
    else if (code == QLatin1String("Cancelled") || code == QLatin1String("Purged"))
        icon = QStyle::SP_MessageBoxWarning;
    item->setIcon(SentStatusColumn, style()->standardIcon(icon));
}

void DeviceMessagesTab::dropClient()
{
    m_clientOpen = false;
    m_listening = false;
    if (!m_client)
        return;
    m_client->disconnect(this);
    // It may be the sender of the signal being handled: deleted once that returned.
    m_client.release()->deleteLater();
}

void DeviceMessagesTab::purge()
{
    HubClient *client = m_session.client();
    if (!client || m_id.isEmpty() || m_purging)
        return;
    const QString id = m_id;
    QMessageBox box(QMessageBox::Warning, tr("Purge Queue"),
        m_depth > 0 ? tr("Drop the %n message(s) waiting for \"%1\"?", nullptr, m_depth).arg(id)
                    : tr("Drop every message waiting for \"%1\"?").arg(id),
        QMessageBox::Yes | QMessageBox::Cancel, this);
    box.setInformativeText(tr("The device will never get them, and this cannot be undone."));
    box.button(QMessageBox::Yes)->setText(tr("Purge"));
    box.setDefaultButton(QMessageBox::Cancel);
    if (box.exec() != QMessageBox::Yes)
        return;
    m_purging = true;
    m_purge->setEnabled(false);
    m_status->setText(tr("Purging the queue of %1…").arg(id));
    QPointer<DeviceMessagesTab> self(this); // the answer may come after the tab is gone: see DevicePage::reloadDevice
    client->purgeCloudToDeviceQueue(id).then(client, [this, self, id](Result<int> purged) {
        if (!self)
            return;
        m_purging = false;
        if (id != m_id)
            return;
        setQueueDepth(m_depth);
        if (!purged) {
            m_status->setText(tr("The queue was not purged: %1").arg(purged.error().message));
            return;
        }
        m_status->setText(tr("%n message(s) for %1 purged.", nullptr, *purged).arg(id));
        Q_EMIT statusMessage(m_status->text());
        Q_EMIT refreshRequested();
    });
}

} // namespace Onboarder
