#include "dpsregistration.h"

#include "common/logging.h"
#include "hub/sastoken.h"
#include "mqtt/mqttclient.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QUrlQuery>

namespace Onboarder {

namespace {

constexpr int defaultRetryAfterSeconds = 2;

} // namespace

QJsonObject DpsAssignment::toJson(const QString &registrationId) const
{
    return {{QStringLiteral("registrationId"), registrationId}, {QStringLiteral("status"), status},
        {QStringLiteral("substatus"), substatus}, {QStringLiteral("assignedHub"), assignedHub},
        {QStringLiteral("deviceId"), deviceId}};
}

DpsRegistration::DpsRegistration(QObject *parent)
    : QObject(parent)
{
    qRegisterMetaType<DpsAssignment>();
    m_poll.setSingleShot(true);
    connect(&m_poll, &QTimer::timeout, this, [this] {
        publish(QStringLiteral("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=%1&operationId=%2")
                    .arg(++m_rid)
                    .arg(m_operationId),
            " ");
    });
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        finish(fail(ErrorKind::Network, QStringLiteral("DpsTimeout"),
            tr("DPS %1 did not finish registering %2 within %3 s.")
                .arg(m_dps.name, m_registrationId)
                .arg(m_timeoutSeconds)));
    });
}

DpsRegistration::~DpsRegistration() = default;

Result<SecretBytes> DpsRegistration::deriveDeviceKey(const QString &groupKey, const QString &registrationId)
{
    // Decoded in place in the Latin-1 copy of the key, which is wiped with the decoded bytes.
    auto decoded = QByteArray::fromBase64Encoding(groupKey.toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
    const bool ok = bool(decoded);
    const SecretBytes keyBytes = SecretBytes::fromQByteArray(std::move(decoded.decoded));
    if (!ok || keyBytes.isEmpty())
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidGroupKey"),
            tr("The enrollment group's key is not base64."));
    return SecretBytes::fromQByteArray(SasToken::hmacSha256Base64(registrationId.toUtf8(), keyBytes.view()));
}

void DpsRegistration::start(const DpsProfile &dps, const QString &registrationId, const Credential &credential)
{
    m_client.reset();
    m_dps = dps;
    m_registrationId = registrationId;
    m_operationId.clear();
    m_rid = 0;
    m_done = false;

    m_client = std::make_unique<MqttClient>();
    m_client->setHostname(dps.deviceEndpoint());
    m_client->setPort(dps.effectiveMqttPort());
    m_client->setTlsEnabled(true);
    m_client->setCaFile(dps.caFile);
    m_client->setClientId(registrationId);
    m_client->setCleanSession(true);
    m_client->setUsername(QStringLiteral("%1/registrations/%2/api-version=%3")
                              .arg(dps.idScope, registrationId, QLatin1String(apiVersion)));
    if (!credential.certificatePem.isEmpty()) {
        if (auto set = m_client->setClientCertificate(credential.certificatePem, credential.privateKeyPem); !set)
            return finish(std::unexpected(set.error()));
    } else {
        const auto token = SasToken::create(dps.idScope + QStringLiteral("/registrations/") + registrationId,
            credential.symmetricKey, QDateTime::currentSecsSinceEpoch() + 3600, QStringLiteral("registration"));
        if (!token)
            return finish(std::unexpected(token.error()));
        m_client->setPassword(SecretBytes::fromString(token->toString()));
    }
    connect(m_client.get(), &MqttClient::connected, this, [this] {
        Q_EMIT progress(tr("Connected to %1; asking to register %2…").arg(m_dps.deviceEndpoint(), m_registrationId));
        if (auto subscribed = m_client->subscribe(QStringLiteral("$dps/registrations/res/#"), 1); !subscribed)
            finish(std::unexpected(subscribed.error()));
    });
    connect(m_client.get(), &MqttClient::subscribed, this, [this](const QString &) {
        publish(QStringLiteral("$dps/registrations/PUT/iotdps-register/?$rid=%1").arg(++m_rid),
            QJsonDocument(QJsonObject{{QStringLiteral("registrationId"), m_registrationId}})
                .toJson(QJsonDocument::Compact));
    });
    connect(m_client.get(), &MqttClient::messageReceived, this,
        [this](const MqttMessage &message) { onMessage(message.topic, message.payload); });
    connect(m_client.get(), &MqttClient::errorOccurred, this, [this](const Error &error) {
        if (m_done)
            return;
        if (error.kind == ErrorKind::AuthRefused)
            return finish(fail(ErrorKind::AuthRefused, QStringLiteral("DpsRefusedDevice"),
                tr("DPS %1 refused the connection of %2: it is not enrolled, its enrollment is disabled, or its "
                   "key or certificate is not the enrolled one (%3).")
                    .arg(m_dps.name, m_registrationId, error.message)));
        finish(std::unexpected(error));
    });
    Q_EMIT progress(
        tr("Connecting to %1:%2 as %3…").arg(dps.deviceEndpoint()).arg(dps.effectiveMqttPort()).arg(registrationId));
    m_deadline.start(m_timeoutSeconds * 1000);
    m_client->connectToHost();
}

void DpsRegistration::cancel()
{
    if (!m_done)
        finish(fail(ErrorKind::Cancelled, QStringLiteral("Cancelled"), tr("Cancelled.")));
}

void DpsRegistration::publish(const QString &topic, const QByteArray &body)
{
    if (m_done || !m_client)
        return;
    if (auto sent = m_client->publish(topic, body, 1); !sent)
        finish(std::unexpected(sent.error()));
}

void DpsRegistration::onMessage(const QString &topic, const QByteArray &payload)
{
    // $dps/registrations/res/{status}/?$rid={rid}&retry-after={seconds}
    static const QString prefix = QStringLiteral("$dps/registrations/res/");
    if (m_done || !topic.startsWith(prefix))
        return;
    const QString rest = topic.mid(prefix.size());
    const int status = rest.section(u'/', 0, 0).toInt();
    const QUrlQuery query(rest.section(u'?', 1));
    bool ok = false;
    int retryAfter = query.queryItemValue(QStringLiteral("retry-after")).toInt(&ok);
    if (!ok || retryAfter < 1)
        retryAfter = defaultRetryAfterSeconds;
    retryAfter = std::min(retryAfter, 30);
    const QJsonObject json = QJsonDocument::fromJson(payload).object();

    if (status == 202) {
        m_operationId = json.value(QStringLiteral("operationId")).toString(m_operationId);
        if (m_operationId.isEmpty())
            return finish(fail(ErrorKind::Internal, QStringLiteral("DpsNoOperation"),
                tr("DPS %1 accepted the registration of %2 but named no operation to follow.")
                    .arg(m_dps.name, m_registrationId)));
        Q_EMIT progress(tr("DPS is assigning %1; asking again in %2 s…").arg(m_registrationId).arg(retryAfter));
        m_poll.start(retryAfter * 1000);
        return;
    }
    if (status == 429 || status >= 500) {
        Q_EMIT progress(tr("DPS asks to wait %1 s…").arg(retryAfter));
        if (m_operationId.isEmpty()) // throttled before it began: ask to register again
            QTimer::singleShot(retryAfter * 1000, this, [this] {
                publish(QStringLiteral("$dps/registrations/PUT/iotdps-register/?$rid=%1").arg(++m_rid),
                    QJsonDocument(QJsonObject{{QStringLiteral("registrationId"), m_registrationId}})
                        .toJson(QJsonDocument::Compact));
            });
        else
            m_poll.start(retryAfter * 1000);
        return;
    }
    if (status >= 400) {
        const QString message = json.value(QStringLiteral("message")).toString();
        const int code = json.value(QStringLiteral("errorCode")).toInt();
        const bool refused = status == 401 || status == 403;
        return finish(fail(refused ? ErrorKind::AuthRefused
                : status == 404    ? ErrorKind::NotFound
                                   : ErrorKind::InvalidInput,
            code > 0 ? QStringLiteral("Dps%1").arg(code) : QStringLiteral("Dps%1").arg(status),
            refused ? tr("DPS %1 refused to register %2: it is not enrolled, or its key or certificate is not the "
                         "enrolled one (%3).")
                          .arg(m_dps.name, m_registrationId, message)
                    : tr("DPS %1 refused to register %2 (HTTP %3): %4")
                          .arg(m_dps.name, m_registrationId)
                          .arg(status)
                          .arg(message)));
    }
    const QJsonObject state = json.value(QStringLiteral("registrationState")).toObject();
    DpsAssignment assignment;
    assignment.status = state.value(QStringLiteral("status")).toString(json.value(QStringLiteral("status")).toString());
    assignment.substatus = state.value(QStringLiteral("substatus")).toString();
    assignment.assignedHub = state.value(QStringLiteral("assignedHub")).toString();
    assignment.deviceId = state.value(QStringLiteral("deviceId")).toString();
    assignment.registrationState = state;
    if (assignment.status == QLatin1String("assigning")) {
        m_poll.start(retryAfter * 1000);
        return;
    }
    if (assignment.status == QLatin1String("disabled"))
        return finish(fail(ErrorKind::AuthRefused, QStringLiteral("DpsEnrollmentDisabled"),
            tr("DPS %1 did not register %2: its enrollment is disabled.").arg(m_dps.name, m_registrationId)));
    if (assignment.status != QLatin1String("assigned"))
        return finish(fail(ErrorKind::InvalidInput, QStringLiteral("DpsRegistrationFailed"),
            tr("DPS %1 did not assign %2 (status %3): %4")
                .arg(m_dps.name, m_registrationId,
                    assignment.status.isEmpty() ? QStringLiteral("?") : assignment.status,
                    state.value(QStringLiteral("errorMessage")).toString())));
    qCInfo(lcHub) << "DPS" << m_dps.name << "assigned" << m_registrationId << "to" << assignment.assignedHub << "as"
                  << assignment.deviceId;
    finish(assignment);
}

void DpsRegistration::finish(const Result<DpsAssignment> &result)
{
    if (m_done)
        return;
    m_done = true;
    m_poll.stop();
    m_deadline.stop();
    if (m_client) {
        m_client->disconnect(this);
        m_client->disconnectFromHost();
        m_client.release()->deleteLater();
    }
    Q_EMIT finished(result);
}

} // namespace Onboarder
