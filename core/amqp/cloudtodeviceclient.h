#pragma once

#include "common/result.h"
#include "hub/connectionstring.h"
#include "hub/hubprofile.h"

#include <QDateTime>
#include <QFuture>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QPromise>

#include <memory>
#include <utility>

struct pn_link_t;
struct pn_delivery_t;

namespace Onboarder {

class AmqpClient;

// A cloud-to-device message as the support person composes it.
struct C2dMessageDraft
{
    QByteArray payload;
    QList<std::pair<QString, QString>> properties;
    QString messageId; // empty: a new UUID
    QString correlationId;
    QString contentType;
    QString contentEncoding;
    QString ack = QStringLiteral("none"); // none | positive | negative | full
    int expirySeconds = 0; // 0: the hub's default (one hour on Azure)

    static constexpr int maxBytes = 65536; // IoT Hub: body and properties together

    // Everything IoT Hub would refuse, said before anything is sent (InvalidInput).
    Result<void> validate() const;
};

// One feedback record: what became of a message sent with an acknowledgement.
struct C2dFeedback
{
    QString originalMessageId;
    QString deviceId;
    QString statusCode; // Success, Expired, DeliveryCountExceeded, Rejected, Purged
    QString description;
    QDateTime enqueuedTime;

    // The record in the hub's words (originalMessageId, deviceId, statusCode, description, enqueuedTimeUtc), as
    // onboarder-cli c2d feedback prints it.
    QJsonObject toJson() const;
};

// Cloud-to-device messages and their feedback over the hub's AMQP service endpoint (5671): claims-based security
// with a token of the hub's policy (ServiceConnect), a sender to /messages/devicebound and, when asked, a
// receiver on /messages/serviceBound/feedback. The hub's refusals come back as IoT Hub names them
// (DeviceNotFound, DeviceMaximumQueueDepthExceeded, MessageTooLarge, Unauthorized).
// Threads: the thread it lives on; nothing blocks.
class CloudToDeviceClient final : public QObject
{
    Q_OBJECT

public:
    explicit CloudToDeviceClient(QObject *parent = nullptr);
    ~CloudToDeviceClient() override;

    // Connects and puts the token; the future ends when the hub took it (or with why not).
    QFuture<Result<void>> open(const HubProfile &hub, const ConnectionString &service);
    void close();

    // Sends one message; the future gives its message id once the hub accepted it.
    QFuture<Result<QString>> send(const QString &deviceId, const C2dMessageDraft &message);
    // Starts receiving feedback records (feedbackReceived); records already waiting at the hub come first.
    void listenForFeedback();

Q_SIGNALS:
    void feedbackReceived(const Onboarder::C2dFeedback &feedback);
    void errorOccurred(const Onboarder::Error &error); // the connection ended or feedback could not be read

private:
    void onDeliveryUpdated(
        pn_delivery_t *delivery, quint64 outcome, const QString &condition, const QString &description);
    void flush();

    std::unique_ptr<AmqpClient> m_client;
    HubProfile m_hub;
    pn_link_t *m_sender = nullptr;
    pn_link_t *m_feedback = nullptr;
    struct Pending
    {
        QString deviceId;
        QString messageId;
        QByteArray encoded;
        std::shared_ptr<QPromise<Result<QString>>> promise;
    };
    QList<Pending> m_queue; // waiting for credit
    QHash<pn_delivery_t *, Pending> m_inFlight;
    std::shared_ptr<QPromise<Result<void>>> m_opening;
    bool m_ready = false;
};

} // namespace Onboarder

Q_DECLARE_METATYPE(Onboarder::C2dFeedback)
