#include "mqttclient.h"

#include "common/logging.h"
#include "credentials/certificate.h"
#include "credentials/keypair.h"
#include "mqtt/websocket.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMetaObject>
#include <QNetworkProxy>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTemporaryDir>

#include <MQTTAsync.h>
#include <algorithm>
#include <limits>
#include <mutex>
#include <openssl/x509.h>
#include <unordered_map>

namespace Onboarder {

namespace {

constexpr int connectTimeoutSeconds = 20;
constexpr int disconnectTimeoutMs = 1000; // lets QoS 1 messages in flight complete
constexpr qsizetype maxPayloadSize = 268435455; // MQTT's remaining-length limit
constexpr qsizetype maxStringSize = 65535; // MQTT's UTF-8 string limit
constexpr int maxTlsErrors = 8;
constexpr int probeTimeoutMs = 5000;

// Paho's callbacks get a registry id as their context, never a pointer: a callback that arrives after its
// client was destroyed, or after the client dropped that connection, finds no entry and is ignored. The
// lock is held while the call is posted, so the client cannot be destroyed in between; posting to a
// QObject is thread-safe, and Qt discards what is still queued for an object when it is destroyed.
class Registry
{
public:
    quint64 add(MqttClient *client)
    {
        std::lock_guard lock(m_mutex);
        const quint64 id = ++m_last;
        m_clients.emplace(id, client);
        return id;
    }

    void remove(quint64 id)
    {
        std::lock_guard lock(m_mutex);
        m_clients.erase(id);
    }

    template<typename Function> void post(void *context, Function function)
    {
        const auto id = quint64(reinterpret_cast<quintptr>(context));
        std::lock_guard lock(m_mutex);
        const auto it = m_clients.find(id);
        if (it == m_clients.end())
            return;
        MqttClient *client = it->second;
        QMetaObject::invokeMethod(
            client, [client, id, function = std::move(function)] { function(client, id); }, Qt::QueuedConnection);
    }

private:
    std::mutex m_mutex;
    std::unordered_map<quint64, MqttClient *> m_clients;
    quint64 m_last = 0;
};

Registry &registry()
{
    static auto *instance = new Registry; // never destroyed: a Paho thread may still call back during exit
    return *instance;
}

void *contextFor(quint64 session)
{
    return reinterpret_cast<void *>(static_cast<quintptr>(session));
}

void initializePaho()
{
    static std::once_flag once;
    std::call_once(once, [] {
        MQTTAsync_init_options options = MQTTAsync_init_options_initializer;
        options.do_openssl_init = 0; // OpenSSL 3 initialises itself, and Qt and our own code use it too
        MQTTAsync_global_init(&options);
        // Paho stops its two threads when the last handle is destroyed, and MQTTAsync_destroy then waits for them
        // (up to about a second). This idle handle, never connected and kept for the life of the process, keeps
        // them running so that destroying a client returns at once.
        static MQTTAsync idle = nullptr;
        MQTTAsync_create(&idle, "tcp://localhost:1883", "onboarder-idle", MQTTCLIENT_PERSISTENCE_NONE, nullptr);
    });
}

// MQTT 5 properties owned here; Paho copies what it is given.
class Properties
{
public:
    Properties() = default;
    Properties(const Properties &) = delete;
    Properties &operator=(const Properties &) = delete;
    ~Properties() { MQTTProperties_free(&m_properties); }

    void addUserProperty(const QByteArray &name, const QByteArray &value)
    {
        MQTTProperty property{};
        property.identifier = MQTTPROPERTY_CODE_USER_PROPERTY;
        property.value.data.data = const_cast<char *>(name.constData());
        property.value.data.len = int(name.size());
        property.value.value.data = const_cast<char *>(value.constData());
        property.value.value.len = int(value.size());
        MQTTProperties_add(&m_properties, &property);
    }

    void addFourByteInteger(MQTTPropertyCodes code, unsigned int value)
    {
        MQTTProperty property{};
        property.identifier = code;
        property.value.integer4 = value;
        MQTTProperties_add(&m_properties, &property);
    }

    MQTTProperties *get() { return &m_properties; }

private:
    MQTTProperties m_properties = MQTTProperties_initializer;
};

MqttUserProperties userPropertiesOf(const MQTTProperties &properties)
{
    MqttUserProperties result;
    for (int i = 0; i < properties.count; ++i) {
        const MQTTProperty &property = properties.array[i];
        if (property.identifier != MQTTPROPERTY_CODE_USER_PROPERTY)
            continue;
        result.append({QString::fromUtf8(property.value.data.data, property.value.data.len),
            QString::fromUtf8(property.value.value.data, property.value.value.len)});
    }
    return result;
}

// The broker's reason for refusing something, as a phrase that fits after a colon.
QString reasonText(int code, bool mqtt5)
{
    if (!mqtt5) {
        switch (code) {
        case 1: return MqttClient::tr("unacceptable protocol version");
        case 2: return MqttClient::tr("client identifier rejected");
        case 3: return MqttClient::tr("server unavailable");
        case 4: return MqttClient::tr("bad user name or password");
        case 5: return MqttClient::tr("not authorised");
        case 0x80: return MqttClient::tr("refused");
        default: return MqttClient::tr("unknown reason");
        }
    }
    switch (code) {
    case MQTTREASONCODE_UNSPECIFIED_ERROR: return MqttClient::tr("unspecified error");
    case MQTTREASONCODE_PROTOCOL_ERROR: return MqttClient::tr("protocol error");
    case MQTTREASONCODE_UNSUPPORTED_PROTOCOL_VERSION: return MqttClient::tr("unsupported protocol version");
    case MQTTREASONCODE_CLIENT_IDENTIFIER_NOT_VALID: return MqttClient::tr("client identifier not valid");
    case MQTTREASONCODE_BAD_USER_NAME_OR_PASSWORD: return MqttClient::tr("bad user name or password");
    case MQTTREASONCODE_NOT_AUTHORIZED: return MqttClient::tr("not authorised");
    case MQTTREASONCODE_SERVER_UNAVAILABLE: return MqttClient::tr("server unavailable");
    case MQTTREASONCODE_SERVER_BUSY: return MqttClient::tr("server busy");
    case MQTTREASONCODE_BANNED: return MqttClient::tr("banned");
    case MQTTREASONCODE_SERVER_SHUTTING_DOWN: return MqttClient::tr("server shutting down");
    case MQTTREASONCODE_BAD_AUTHENTICATION_METHOD: return MqttClient::tr("bad authentication method");
    case MQTTREASONCODE_KEEP_ALIVE_TIMEOUT: return MqttClient::tr("keep-alive timeout");
    case MQTTREASONCODE_SESSION_TAKEN_OVER: return MqttClient::tr("another connection took over the session");
    case MQTTREASONCODE_TOPIC_FILTER_INVALID: return MqttClient::tr("topic filter not valid");
    case MQTTREASONCODE_TOPIC_NAME_INVALID: return MqttClient::tr("topic name not valid");
    case MQTTREASONCODE_PACKET_TOO_LARGE: return MqttClient::tr("packet too large");
    case MQTTREASONCODE_QUOTA_EXCEEDED: return MqttClient::tr("quota exceeded");
    case MQTTREASONCODE_QOS_NOT_SUPPORTED: return MqttClient::tr("QoS not supported");
    case MQTTREASONCODE_CONNECTION_RATE_EXCEEDED: return MqttClient::tr("connection rate exceeded");
    default: {
        const char *name = MQTTReasonCode_toString(static_cast<MQTTReasonCodes>(code));
        return name ? QString::fromUtf8(name).toLower() : MqttClient::tr("unknown reason");
    }
    }
}

// "MQTT return code 5" (3.1.1 CONNACK), "MQTT return code 0x80" (3.1.1 SUBACK), "MQTT reason code 0x87" (5).
QString codeText(int code, bool mqtt5)
{
    if (mqtt5 || code >= 0x80) // 0x80: a 3.1.1 SUBACK's failure
        return MqttClient::tr("MQTT %1 code 0x%2")
            .arg(mqtt5 ? MqttClient::tr("reason") : MqttClient::tr("return"))
            .arg(code, 2, 16, QLatin1Char('0'));
    return MqttClient::tr("MQTT return code %1").arg(code);
}

bool isCredentialRefusal(int code, bool mqtt5)
{
    if (!mqtt5)
        return code == 4 || code == 5;
    return code == MQTTREASONCODE_BAD_USER_NAME_OR_PASSWORD || code == MQTTREASONCODE_NOT_AUTHORIZED
        || code == MQTTREASONCODE_BANNED || code == MQTTREASONCODE_BAD_AUTHENTICATION_METHOD;
}

// A CONNACK refusal: the broker answered and said no.
Error connectRefusedError(int code, bool mqtt5, const QString &endpoint)
{
    const QString why = MqttClient::tr("The broker at %1 refused the connection: %2 (%3).")
                            .arg(endpoint, reasonText(code, mqtt5), codeText(code, mqtt5));
    if ((!mqtt5 && code == 4) || (mqtt5 && code == MQTTREASONCODE_BAD_USER_NAME_OR_PASSWORD))
        return {ErrorKind::AuthRefused, QStringLiteral("BadUserNameOrPassword"), why};
    if (isCredentialRefusal(code, mqtt5))
        return {ErrorKind::AuthRefused, QStringLiteral("NotAuthorized"), why};
    if ((!mqtt5 && code == 2) || (mqtt5 && code == MQTTREASONCODE_CLIENT_IDENTIFIER_NOT_VALID))
        return {ErrorKind::InvalidInput, QStringLiteral("ClientIdRejected"), why};
    return {ErrorKind::Network, QStringLiteral("ConnectionRefused"), why};
}

// Whether a refusal may go away by itself (worth another automatic attempt).
bool isTransientRefusal(int code, bool mqtt5)
{
    if (!mqtt5)
        return code == 3;
    return code == MQTTREASONCODE_SERVER_UNAVAILABLE || code == MQTTREASONCODE_SERVER_BUSY
        || code == MQTTREASONCODE_SERVER_SHUTTING_DOWN || code == MQTTREASONCODE_CONNECTION_RATE_EXCEEDED;
}

QString pahoText(int rc)
{
    const char *text = MQTTAsync_strerror(rc);
    return text ? QString::fromUtf8(text) : QString::number(rc);
}

// OpenSSL's error lines read "<thread>:error:<code>:<library>:<function>:<reason>:<file>:<line>:<data>";
// the reason (and data, when there is some) is what a person can use.
QString openSslReason(const QString &line)
{
    const QStringList parts = line.split(u':');
    const qsizetype error = parts.indexOf(QStringLiteral("error"));
    if (error < 0 || parts.size() <= error + 4)
        return line;
    QString reason = parts.at(error + 4);
    const QString data = parts.mid(error + 7).join(u':').trimmed();
    if (!data.isEmpty())
        reason += QStringLiteral(" (") + data + u')';
    return reason;
}

Result<void> validateTopic(const QString &topic)
{
    if (topic.isEmpty() || topic.contains(u'+') || topic.contains(u'#') || topic.contains(QChar(0))
        || topic.toUtf8().size() > maxStringSize)
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidTopic"),
            MqttClient::tr("\"%1\" is not a topic one can publish to: a topic is 1 to 65535 bytes and has no "
                           "wildcards (+, #).")
                .arg(topic));
    return {};
}

Result<void> validateFilter(const QString &filter)
{
    bool valid = !filter.isEmpty() && !filter.contains(QChar(0)) && filter.toUtf8().size() <= maxStringSize;
    const QStringList levels = filter.split(u'/');
    for (qsizetype i = 0; valid && i < levels.size(); ++i) {
        const QString &level = levels.at(i);
        if (level.contains(u'#') && (level.size() != 1 || i != levels.size() - 1))
            valid = false;
        if (level.contains(u'+') && level.size() != 1)
            valid = false;
    }
    if (!valid)
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidTopicFilter"),
            MqttClient::tr("\"%1\" is not a valid topic filter: + must stand for a whole level, and # for the "
                           "last level only.")
                .arg(filter));
    return {};
}

Result<void> validateQos(int qos)
{
    if (qos < 0 || qos > 1)
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidQos"),
            MqttClient::tr("QoS %1 is not supported; use 0 or 1.").arg(qos));
    return {};
}

Result<void> writePrivateFile(const QString &path, const QByteArray &data)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::NewOnly, QFileDevice::ReadOwner | QFileDevice::WriteOwner)
        || file.write(data) != data.size() || !file.flush())
        return fail(ErrorKind::Internal, QStringLiteral("CredentialFileFailed"),
            MqttClient::tr("Could not write the client certificate for the MQTT connection to %1: %2.")
                .arg(QDir::toNativeSeparators(path), file.errorString()));
    return {};
}

} // namespace

// The Paho callbacks. Each runs on a Paho thread (or, for requests cancelled by MQTTAsync_destroy, inside
// that call): it copies what it needs out of Paho's structures and posts it to the client's thread. Paho's
// own lock may be held while they run, so they never call Paho.
class MqttClientBridge
{
public:
    static void connectionLost(void *context, char * /*cause*/)
    {
        registry().post(context, [](MqttClient *client, quint64 session) { client->onConnectionLost(session, -1); });
    }

    // MQTT 5: the broker sent DISCONNECT (Paho does not call connectionLost then).
    static void disconnected(void *context, MQTTProperties * /*properties*/, MQTTReasonCodes reasonCode)
    {
        const int code = reasonCode;
        registry().post(
            context, [code](MqttClient *client, quint64 session) { client->onConnectionLost(session, code); });
    }

    static int messageArrived(void *context, char *topicName, int topicLength, MQTTAsync_message *message)
    {
        MqttMessage copy;
        copy.topic = QString::fromUtf8(topicName, topicLength > 0 ? topicLength : qsizetype(qstrlen(topicName)));
        copy.payload = QByteArray(static_cast<const char *>(message->payload), message->payloadlen);
        copy.qos = message->qos;
        copy.retain = message->retained != 0;
        copy.userProperties = userPropertiesOf(message->properties);
        MQTTAsync_freeMessage(&message);
        MQTTAsync_free(topicName);
        registry().post(context,
            [copy = std::move(copy)](MqttClient *client, quint64 session) { client->onMessage(session, copy); });
        return 1; // taken
    }

    static void connectSucceeded(void *context, MQTTAsync_successData *response)
    {
        const bool sessionPresent = response && response->alt.connect.sessionPresent;
        registry().post(context,
            [sessionPresent](MqttClient *client, quint64 session) { client->onConnected(session, sessionPresent); });
    }

    static void connectSucceeded5(void *context, MQTTAsync_successData5 *response)
    {
        const bool sessionPresent = response && response->alt.connect.sessionPresent;
        registry().post(context,
            [sessionPresent](MqttClient *client, quint64 session) { client->onConnected(session, sessionPresent); });
    }

    static void connectFailed(void *context, MQTTAsync_failureData *response)
    {
        postConnectFailure(
            context, response ? response->code : MQTTASYNC_FAILURE, 0, response ? response->message : nullptr);
    }

    static void connectFailed5(void *context, MQTTAsync_failureData5 *response)
    {
        postConnectFailure(context, response ? response->code : MQTTASYNC_FAILURE,
            response ? int(response->reasonCode) : 0, response ? response->message : nullptr);
    }

    static void requestSucceeded(void *context, MQTTAsync_successData *response)
    {
        postRequestDone(context, response ? response->token : 0, 0);
    }

    static void requestSucceeded5(void *context, MQTTAsync_successData5 *response)
    {
        postRequestDone(context, response ? response->token : 0, 0);
    }

    static void subscribeSucceeded(void *context, MQTTAsync_successData *response)
    {
        postRequestDone(context, response ? response->token : 0, response ? response->alt.qos : 0);
    }

    static void subscribeSucceeded5(void *context, MQTTAsync_successData5 *response)
    {
        postRequestDone(context, response ? response->token : 0, response ? int(response->reasonCode) : 0);
    }

    static void requestFailed(void *context, MQTTAsync_failureData *response)
    {
        postRequestFailed(context, response ? response->token : 0, response ? response->code : MQTTASYNC_FAILURE, 0);
    }

    static void requestFailed5(void *context, MQTTAsync_failureData5 *response)
    {
        postRequestFailed(context, response ? response->token : 0, response ? response->code : MQTTASYNC_FAILURE,
            response ? int(response->reasonCode) : 0);
    }

    static void disconnectDone(void *context, MQTTAsync_successData *) { postDisconnectDone(context); }
    static void disconnectDone5(void *context, MQTTAsync_successData5 *) { postDisconnectDone(context); }
    static void disconnectFailed(void *context, MQTTAsync_failureData *) { postDisconnectDone(context); }
    static void disconnectFailed5(void *context, MQTTAsync_failureData5 *) { postDisconnectDone(context); }

    // OpenSSL's error queue, printed by Paho when a TLS step fails (ERR_print_errors_cb).
    static int tlsError(const char *text, size_t length, void *context)
    {
        const QString line = QString::fromUtf8(text, qsizetype(length)).trimmed();
        registry().post(context, [line](MqttClient *client, quint64 session) { client->onTlsError(session, line); });
        return 1; // go on with the next line
    }

private:
    static void postConnectFailure(void *context, int code, int reasonCode, const char *message)
    {
        const QString detail = message ? QString::fromUtf8(message) : QString();
        registry().post(context, [code, reasonCode, detail](MqttClient *client, quint64 session) {
            client->onConnectFailed(session, code, reasonCode, detail);
        });
    }

    static void postRequestDone(void *context, int token, int result)
    {
        registry().post(context,
            [token, result](MqttClient *client, quint64 session) { client->onRequestDone(session, token, result); });
    }

    static void postRequestFailed(void *context, int token, int code, int reasonCode)
    {
        registry().post(context, [token, code, reasonCode](MqttClient *client, quint64 session) {
            client->onRequestFailed(session, token, code, reasonCode);
        });
    }

    static void postDisconnectDone(void *context)
    {
        registry().post(context, [](MqttClient *client, quint64 session) { client->onDisconnectDone(session); });
    }
};

namespace {

// Response options for one request of a session: MQTT 5 and 3.1.1 take different callbacks.
MQTTAsync_responseOptions responseOptions(
    quint64 session, bool mqtt5, MQTTAsync_onSuccess *success, MQTTAsync_onSuccess5 *success5)
{
    MQTTAsync_responseOptions options = MQTTAsync_responseOptions_initializer;
    options.context = contextFor(session);
    if (mqtt5) {
        options.onSuccess5 = success5;
        options.onFailure5 = MqttClientBridge::requestFailed5;
    } else {
        options.onSuccess = success;
        options.onFailure = MqttClientBridge::requestFailed;
    }
    return options;
}

} // namespace

MqttClient::MqttClient(QObject *parent)
    : QObject(parent)
{
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, [this] {
        m_retrying = true;
        startAttempt();
    });
}

MqttClient::~MqttClient()
{
    m_reconnectTimer.stop();
    // MQTTAsync_destroy sends DISCONNECT itself when connected and nothing is waiting to be written (a queued
    // MQTTAsync_disconnect would be discarded by it unsent), then closes the socket; with Paho's threads kept alive
    // (initializePaho) it does not wait for anything but Paho's lock.
    destroyHandle();
    removeCredentialFiles();
}

Result<void> MqttClient::setClientCertificate(const QByteArray &certificatePem, const QByteArray &privateKeyPem)
{
    if (certificatePem.isEmpty() && privateKeyPem.isEmpty()) {
        m_clientCertificatePem.clear();
        m_clientKeyPem.clear();
        return {};
    }
    const auto chain = Certificate::listFromPem(certificatePem);
    if (!chain)
        return std::unexpected(chain.error());
    if (chain->isEmpty())
        return Onboarder::fail(ErrorKind::InvalidInput, QStringLiteral("NotPemCertificate"),
            tr("The client certificate is not a PEM certificate."));
    const auto key = KeyPair::fromPem(privateKeyPem);
    if (!key)
        return std::unexpected(key.error());
    if (!chain->first().matches(*key))
        return Onboarder::fail(ErrorKind::InvalidInput, QStringLiteral("CertificateKeyMismatch"),
            tr("The client certificate \"%1\" does not belong to the private key given with it.")
                .arg(chain->first().subjectCommonName()));
    m_clientCertificatePem = certificatePem;
    m_clientKeyPem = privateKeyPem;
    return {};
}

void MqttClient::setReconnectInterval(int minSeconds, int maxSeconds)
{
    m_reconnectMinSeconds = std::max(1, minSeconds);
    m_reconnectMaxSeconds = std::max(m_reconnectMinSeconds, maxSeconds);
}

int MqttClient::effectivePort() const
{
    if (m_port > 0)
        return m_port;
    if (!m_webSocketPath.isEmpty())
        return m_tlsEnabled ? 443 : 80;
    return m_tlsEnabled ? 8883 : 1883;
}

QString MqttClient::endpoint() const
{
    return m_active.hostname + u':' + QString::number(m_active.port);
}

void MqttClient::connectToHost()
{
    if (m_state == State::Connecting && m_reconnectTimer.isActive()) { // waiting to reconnect: do it now
        m_reconnectTimer.stop();
        startAttempt();
        return;
    }
    if (m_state != State::Disconnected)
        return;
    m_subscriptions.clear();
    m_retrying = false;
    m_backoffSeconds = 0;
    setState(State::Connecting);
    startAttempt();
}

void MqttClient::disconnectFromHost()
{
    m_reconnectTimer.stop();
    m_retrying = false;
    m_backoffSeconds = 0;
    m_subscriptions.clear();
    switch (m_state) {
    case State::Disconnected: return;
    case State::Connecting:
        destroyHandle();
        removeCredentialFiles();
        setState(State::Disconnected);
        return;
    case State::Connected: break;
    }
    if (m_disconnecting)
        return;
    m_disconnecting = true;
    const bool mqtt5 = m_active.mqtt5;
    MQTTAsync_disconnectOptions options = MQTTAsync_disconnectOptions_initializer;
    if (mqtt5) {
        const MQTTAsync_disconnectOptions options5 = MQTTAsync_disconnectOptions_initializer5;
        options = options5;
        options.onSuccess5 = MqttClientBridge::disconnectDone5;
        options.onFailure5 = MqttClientBridge::disconnectFailed5;
    } else {
        options.onSuccess = MqttClientBridge::disconnectDone;
        options.onFailure = MqttClientBridge::disconnectFailed;
    }
    options.timeout = disconnectTimeoutMs;
    options.context = contextFor(m_session);
    qCDebug(lcMqtt) << "disconnecting from" << endpoint();
    if (const int rc = MQTTAsync_disconnect(m_handle, &options); rc != MQTTASYNC_SUCCESS) {
        qCDebug(lcMqtt) << "MQTTAsync_disconnect:" << pahoText(rc);
        onDisconnectDone(m_session);
    }
}

void MqttClient::startAttempt()
{
    destroyHandle();
    removeCredentialFiles();
    m_tlsErrors.clear();
    initializePaho();

    m_active = {m_hostname, effectivePort(), m_tlsEnabled, m_protocolVersion == ProtocolVersion::Mqtt5, m_cleanSession,
        m_caFile, hasClientCertificate(), m_webSocketPath, m_httpProxy};
    m_session = registry().add(this);
    const quint64 session = m_session;
    const auto failLater = [this, session](const Error &error) {
        QMetaObject::invokeMethod(
            this,
            [this, session, error] {
                if (session == m_session)
                    endAttempt(error, false);
            },
            Qt::QueuedConnection);
    };

    if (m_active.hostname.isEmpty())
        return failLater(
            {ErrorKind::InvalidInput, QStringLiteral("MissingHostName"), tr("No MQTT broker host name is set.")});
    if (m_active.clientCertificate && !m_active.tls)
        return failLater({ErrorKind::InvalidInput, QStringLiteral("ClientCertificateNeedsTls"),
            tr("A client certificate can only be used with TLS; turn TLS on.")});
    if (!m_active.webSocketPath.isEmpty() && !m_active.webSocketPath.startsWith(u'/'))
        return failLater({ErrorKind::InvalidInput, QStringLiteral("InvalidWebSocketPath"),
            tr("The WebSocket path must start with \"/\" (IoT Hub's is %1).")
                .arg(QLatin1String(WebSocket::iotHubPath))});
    if (!m_active.httpProxy.isEmpty()
        && (m_active.httpProxy.scheme() != QStringLiteral("http") || m_active.httpProxy.host().isEmpty()))
        return failLater({ErrorKind::InvalidInput, QStringLiteral("InvalidProxy"),
            tr("The proxy must be given as http://host:port.")});
    if (m_active.tls && !m_active.caFile.isEmpty() && !QFileInfo(m_active.caFile).isReadable())
        return failLater({ErrorKind::NotFound, QStringLiteral("CaFileNotFound"),
            tr("The CA file %1 does not exist or cannot be read.").arg(QDir::toNativeSeparators(m_active.caFile))});

    const bool mqtt5 = m_active.mqtt5;
    const QString host = m_active.hostname.contains(u':') ? u'[' + m_active.hostname + u']' : m_active.hostname;
    const bool webSocket = !m_active.webSocketPath.isEmpty();
    const QByteArray scheme = webSocket ? (m_active.tls ? "wss://" : "ws://") : (m_active.tls ? "ssl://" : "tcp://");
    const QByteArray uri = scheme + host.toUtf8() + ':' + QByteArray::number(m_active.port)
        + (webSocket ? m_active.webSocketPath.toUtf8() : QByteArray());
    const QByteArray proxy = m_active.httpProxy.isEmpty()
        ? QByteArray()
        // host:port, without a scheme: Paho takes "http://" off the HTTP proxy, but not off the HTTPS one.
        : m_active.httpProxy.host().toUtf8() + ':' + QByteArray::number(m_active.httpProxy.port(80));
    const QByteArray clientId = m_clientId.toUtf8();

    MQTTAsync_createOptions createOptions = MQTTAsync_createOptions_initializer;
    createOptions.MQTTVersion = mqtt5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    MQTTAsync handle = nullptr;
    if (const int rc = MQTTAsync_createWithOptions(
            &handle, uri.constData(), clientId.constData(), MQTTCLIENT_PERSISTENCE_NONE, nullptr, &createOptions);
        rc != MQTTASYNC_SUCCESS)
        return failLater({ErrorKind::InvalidInput, QStringLiteral("InvalidConnectionSettings"),
            tr("Cannot connect to %1 as \"%2\": %3.").arg(endpoint(), m_clientId, pahoText(rc))});
    m_handle = handle;

    void *context = contextFor(session);
    MQTTAsync_setCallbacks(
        handle, context, MqttClientBridge::connectionLost, MqttClientBridge::messageArrived, nullptr);
    if (mqtt5)
        MQTTAsync_setDisconnected(handle, context, MqttClientBridge::disconnected);

    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    const QByteArray caFile = QFile::encodeName(m_active.caFile);
    QByteArray certificateFile;
    QByteArray keyFile;
    if (m_active.tls) {
        ssl.enableServerCertAuth = 1; // verify the chain …
        ssl.verify = 1; // … and the host name; neither can be turned off
        ssl.ssl_error_cb = MqttClientBridge::tlsError;
        ssl.ssl_error_context = context;
        if (!caFile.isEmpty()) {
            ssl.trustStore = caFile.constData();
            ssl.CApath = X509_get_default_cert_dir(); // the system's CAs too: the file adds one, it does not replace
        }
        if (m_active.clientCertificate) {
            if (auto written = writeCredentialFiles(); !written)
                return failLater(written.error());
            certificateFile = QFile::encodeName(m_credentialDir->filePath(QStringLiteral("client.pem")));
            keyFile = QFile::encodeName(m_credentialDir->filePath(QStringLiteral("client.key")));
            ssl.keyStore = certificateFile.constData();
            ssl.privateKey = keyFile.constData();
        }
    }

    const QByteArray username = m_username.toUtf8();
    Properties connectProperties;
    MQTTAsync_connectOptions options = MQTTAsync_connectOptions_initializer;
    if (mqtt5) {
        const MQTTAsync_connectOptions options5 = MQTTAsync_connectOptions_initializer5;
        options = options5;
        options.cleanstart = m_active.cleanSession ? 1 : 0;
        if (!m_active.cleanSession) // MQTT 3.1.1's persistent session: one that never expires
            connectProperties.addFourByteInteger(MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL, 0xFFFFFFFFu);
        options.connectProperties = connectProperties.get();
        options.onSuccess5 = MqttClientBridge::connectSucceeded5;
        options.onFailure5 = MqttClientBridge::connectFailed5;
    } else {
        options.MQTTVersion = MQTTVERSION_3_1_1;
        options.cleansession = m_active.cleanSession ? 1 : 0;
        options.onSuccess = MqttClientBridge::connectSucceeded;
        options.onFailure = MqttClientBridge::connectFailed;
    }
    options.context = context;
    options.keepAliveInterval = m_keepAlive;
    options.connectTimeout = connectTimeoutSeconds;
    options.automaticReconnect = 0; // ours, so that each attempt gets fresh credential files
    options.username = username.isEmpty() ? nullptr : username.constData();
    if (!m_password.isEmpty()) {
        options.binarypwd.data = m_password.constData(); // copied by Paho
        options.binarypwd.len = int(m_password.size());
    }
    options.ssl = m_active.tls ? &ssl : nullptr;
    if (!proxy.isEmpty()) {
        options.httpProxy = proxy.constData(); // ws:// and tcp://
        options.httpsProxy = proxy.constData(); // wss:// and ssl://
    }

    qCDebug(lcMqtt) << "connecting to" << endpoint() << "as" << m_clientId
                    << (m_active.tls ? "with TLS" : "without TLS") << (mqtt5 ? "MQTT 5" : "MQTT 3.1.1")
                    << (m_retrying ? "(reconnect)" : "");
    if (const int rc = MQTTAsync_connect(handle, &options); rc != MQTTASYNC_SUCCESS)
        return failLater({ErrorKind::InvalidInput, QStringLiteral("InvalidConnectionSettings"),
            tr("Cannot connect to %1: %2.").arg(endpoint(), pahoText(rc))});
}

Result<void> MqttClient::writeCredentialFiles()
{
    QString base = qEnvironmentVariable("XDG_RUNTIME_DIR");
    if (base.isEmpty() || !QFileInfo(base).isDir())
        base = QDir::tempPath();
    auto dir = std::make_unique<QTemporaryDir>(base + QStringLiteral("/onboarder-mqtt-XXXXXX")); // mkdtemp: 0700
    if (!dir->isValid())
        return Onboarder::fail(ErrorKind::Internal, QStringLiteral("CredentialFileFailed"),
            tr("Could not create a private directory in %1 for the client certificate: %2.")
                .arg(QDir::toNativeSeparators(base), dir->errorString()));
    QFile::setPermissions(dir->path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    m_credentialDir = std::move(dir);
    if (auto ok = writePrivateFile(m_credentialDir->filePath(QStringLiteral("client.pem")), m_clientCertificatePem);
        !ok)
        return ok;
    return writePrivateFile(m_credentialDir->filePath(QStringLiteral("client.key")), m_clientKeyPem);
}

void MqttClient::removeCredentialFiles()
{
    if (!m_credentialDir)
        return;
    QFile key(m_credentialDir->filePath(QStringLiteral("client.key")));
    if (key.open(QIODevice::ReadWrite)) { // overwrite before unlinking, for what it is worth
        key.write(QByteArray(key.size(), '\0'));
        key.flush();
        key.close();
    }
    if (!m_credentialDir->remove())
        qCWarning(lcMqtt) << "could not remove" << m_credentialDir->path();
    m_credentialDir.reset();
}

void MqttClient::destroyHandle()
{
    if (m_probe) {
        m_probe->disconnect(this);
        m_probe->abort();
        m_probe->deleteLater();
        m_probe = nullptr;
    }
    if (m_session) {
        registry().remove(m_session); // from now on this connection's callbacks are dropped
        m_session = 0;
    }
    if (m_handle) {
        MQTTAsync handle = m_handle;
        m_handle = nullptr;
        MQTTAsync_destroy(&handle);
    }
    m_requests.clear();
    m_disconnecting = false;
}

void MqttClient::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void MqttClient::scheduleReconnect()
{
    m_backoffSeconds
        = m_backoffSeconds == 0 ? m_reconnectMinSeconds : std::min(m_backoffSeconds * 2, m_reconnectMaxSeconds);
    qCInfo(lcMqtt) << "reconnecting to" << endpoint() << "in" << m_backoffSeconds << "s";
    m_reconnectTimer.start(m_backoffSeconds * 1000);
    setState(State::Connecting);
}

void MqttClient::endAttempt(const Error &error, bool retryable)
{
    destroyHandle();
    removeCredentialFiles();
    if (m_retrying && retryable && m_autoReconnect) {
        qCInfo(lcMqtt) << "reconnect failed:" << error.message;
        scheduleReconnect();
        return;
    }
    m_retrying = false;
    m_backoffSeconds = 0;
    qCDebug(lcMqtt) << "connection attempt failed:" << error.code << error.message;
    setState(State::Disconnected);
    Q_EMIT errorOccurred(error); // last, when the state is final: a slot may connect again
}

void MqttClient::onConnected(quint64 session, bool sessionPresent)
{
    if (session != m_session || m_state != State::Connecting)
        return;
    removeCredentialFiles();
    m_tlsErrors.clear();
    m_backoffSeconds = 0;
    const bool restore = m_retrying && !(sessionPresent && !m_active.cleanSession);
    m_retrying = false;
    qCDebug(lcMqtt) << "connected to" << endpoint() << (sessionPresent ? "(session present)" : "");
    setState(State::Connected);
    if (restore) {
        const QHash<QString, int> subscriptions = m_subscriptions;
        for (auto it = subscriptions.cbegin(); it != subscriptions.cend(); ++it) {
            if (auto sent = sendSubscribe(it.key(), it.value()); !sent)
                qCWarning(lcMqtt) << "could not restore the subscription to" << it.key() << sent.error().message;
        }
    }
    Q_EMIT connected();
}

void MqttClient::onConnectFailed(quint64 session, int code, int reasonCode, const QString &detail)
{
    if (session != m_session || m_state != State::Connecting)
        return;
    const bool mqtt5 = m_active.mqtt5;
    qCDebug(lcMqtt) << "connect failed: code" << code << "reason" << reasonCode << detail << m_tlsErrors;
    const int refusal = code > 0 ? code : reasonCode; // Paho passes the CONNACK code as `code`
    if (refusal > 0) {
        endAttempt(connectRefusedError(refusal, mqtt5, endpoint()), isTransientRefusal(refusal, mqtt5));
        return;
    }
    if (m_active.tls && !m_tlsErrors.isEmpty()) {
        const auto verification = std::find_if(m_tlsErrors.cbegin(), m_tlsErrors.cend(),
            [](const QString &line) { return line.contains(QLatin1String("certificate verify failed")); });
        if (verification != m_tlsErrors.cend()) {
            endAttempt({ErrorKind::Network, QStringLiteral("CertificateVerificationFailed"),
                           tr("The certificate of the broker at %1 failed verification (%2): it is not issued by a "
                              "trusted CA, or it has expired. Check the CA file.")
                               .arg(endpoint(), openSslReason(*verification))},
                false);
            return;
        }
        endAttempt({ErrorKind::Network, QStringLiteral("TlsHandshakeFailed"),
                       tr("The TLS handshake with the broker at %1 failed: %2.")
                           .arg(endpoint(), openSslReason(m_tlsErrors.constFirst()))},
            false);
        return;
    }
    if (detail.contains(QLatin1String("timeout"))) {
        endAttempt(
            {ErrorKind::Network, QStringLiteral("ConnectTimeout"),
                tr("The broker at %1 did not answer within %2 seconds.").arg(endpoint()).arg(connectTimeoutSeconds)},
            true);
        return;
    }
    if (m_active.tls) {
        // Paho checks the host name after the handshake and reports a mismatch no differently from a refused TCP
        // connection or a broker that drops the handshake: find out which it was.
        diagnoseTlsFailure();
        return;
    }
    if (detail.contains(QLatin1String("completion"))) { // CONNECT sent, then the connection was closed
        endAttempt(
            {ErrorKind::Network, QStringLiteral("ConnectionClosed"),
                tr("The broker at %1 closed the connection without answering. Does it expect TLS?").arg(endpoint())},
            true);
        return;
    }
    endAttempt({ErrorKind::Network, QStringLiteral("BrokerUnreachable"),
                   tr("The broker at %1 cannot be reached.").arg(endpoint())},
        true);
}

void MqttClient::diagnoseTlsFailure()
{
    auto *socket = new QSslSocket(this);
    m_probe = socket;
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    if (!m_active.caFile.isEmpty())
        configuration.addCaCertificates(QSslCertificate::fromPath(m_active.caFile, QSsl::Pem));
    configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
    socket->setSslConfiguration(configuration);
    socket->setPeerVerifyName(m_active.hostname);

    const quint64 session = m_session;
    const auto finish = [this, session, socket](const Error &error, bool retryable) {
        socket->disconnect(this);
        socket->abort();
        socket->deleteLater();
        if (session != m_session || m_probe != socket)
            return;
        m_probe = nullptr;
        endAttempt(error, retryable);
    };
    connect(socket, &QSslSocket::sslErrors, this, [this, finish](const QList<QSslError> &errors) {
        const bool hostName = std::any_of(errors.cbegin(), errors.cend(),
            [](const QSslError &error) { return error.error() == QSslError::HostNameMismatch; });
        if (hostName) {
            finish({ErrorKind::Network, QStringLiteral("CertificateHostNameMismatch"),
                       tr("The certificate of the broker at %1 failed verification: it is not valid for the host name "
                          "\"%2\".")
                           .arg(endpoint(), m_active.hostname)},
                false);
            return;
        }
        finish({ErrorKind::Network, QStringLiteral("CertificateVerificationFailed"),
                   tr("The certificate of the broker at %1 failed verification (%2).")
                       .arg(endpoint(), errors.isEmpty() ? QString() : errors.constFirst().errorString())},
            false);
    });
    connect(socket, &QSslSocket::encrypted, this, [this, finish] {
        // The broker's certificate is fine; the broker ended the connection during or right after the handshake.
        finish({ErrorKind::Network, QStringLiteral("TlsHandshakeFailed"),
                   m_active.clientCertificate
                       ? tr("The broker at %1 closed the TLS connection: it did not accept the client certificate.")
                             .arg(endpoint())
                       : tr("The broker at %1 closed the TLS connection: it may require a client certificate.")
                             .arg(endpoint())},
            false);
    });
    connect(socket, &QAbstractSocket::errorOccurred, this, [this, socket, finish](QAbstractSocket::SocketError error) {
        switch (error) {
        case QAbstractSocket::ConnectionRefusedError:
        case QAbstractSocket::HostNotFoundError:
        case QAbstractSocket::NetworkError:
        case QAbstractSocket::SocketTimeoutError:
            finish({ErrorKind::Network, QStringLiteral("BrokerUnreachable"),
                       tr("The broker at %1 cannot be reached.").arg(endpoint())},
                true);
            return;
        default:
            finish(
                {ErrorKind::Network, QStringLiteral("TlsHandshakeFailed"),
                    tr("The TLS handshake with the broker at %1 failed: %2.").arg(endpoint(), socket->errorString())},
                false);
        }
    });
    QTimer::singleShot(probeTimeoutMs, socket, [this, finish] {
        finish({ErrorKind::Network, QStringLiteral("BrokerUnreachable"),
                   tr("The broker at %1 cannot be reached.").arg(endpoint())},
            true);
    });
    if (!m_active.httpProxy.isEmpty())
        socket->setProxy(
            QNetworkProxy(QNetworkProxy::HttpProxy, m_active.httpProxy.host(), quint16(m_active.httpProxy.port(80))));
    socket->connectToHostEncrypted(m_active.hostname, quint16(m_active.port));
}

void MqttClient::onConnectionLost(quint64 session, int reasonCode)
{
    if (session != m_session || m_state != State::Connected)
        return;
    if (m_disconnecting) {
        onDisconnectDone(session);
        return;
    }
    Error error{ErrorKind::Network, QStringLiteral("ConnectionLost"),
        tr("The connection to the broker at %1 was lost.").arg(endpoint())};
    bool retryable = true;
    if (reasonCode >= MQTTREASONCODE_UNSPECIFIED_ERROR) {
        const QString why = tr("The broker at %1 closed the connection: %2 (%3).")
                                .arg(endpoint(), reasonText(reasonCode, true), codeText(reasonCode, true));
        const bool refused = isCredentialRefusal(reasonCode, true);
        error = {refused ? ErrorKind::AuthRefused : ErrorKind::Network, QStringLiteral("ClosedByBroker"), why};
        retryable = !refused && reasonCode != MQTTREASONCODE_SESSION_TAKEN_OVER;
    }
    qCInfo(lcMqtt) << error.message;
    destroyHandle();
    if (m_autoReconnect && retryable) {
        scheduleReconnect();
    } else {
        m_subscriptions.clear();
        setState(State::Disconnected);
    }
    Q_EMIT disconnected();
    Q_EMIT errorOccurred(error);
}

void MqttClient::onDisconnectDone(quint64 session)
{
    if (session != m_session || m_state != State::Connected)
        return;
    qCDebug(lcMqtt) << "disconnected from" << endpoint();
    destroyHandle();
    setState(State::Disconnected);
    Q_EMIT disconnected();
}

void MqttClient::onMessage(quint64 session, const MqttMessage &message)
{
    if (session != m_session)
        return;
    Q_EMIT messageReceived(message);
}

void MqttClient::onRequestDone(quint64 session, int pahoToken, int result)
{
    if (session != m_session)
        return;
    const auto it = m_requests.constFind(pahoToken);
    if (it == m_requests.cend())
        return; // QoS 0 publish: nothing to acknowledge
    const Request request = *it;
    m_requests.erase(it);
    switch (request.kind) {
    case Pending::Publish: Q_EMIT messageDelivered(request.token); return;
    case Pending::Subscribe:
        if (result
            >= MQTTREASONCODE_UNSPECIFIED_ERROR) { // a refusal reported as success (Paho does not, for one filter)
            m_requests.insert(pahoToken, request);
            onRequestFailed(session, pahoToken, result, result);
            return;
        }
        Q_EMIT subscribed(request.filter, result);
        return;
    case Pending::Unsubscribe: Q_EMIT unsubscribed(request.filter); return;
    }
}

void MqttClient::onRequestFailed(quint64 session, int pahoToken, int code, int reasonCode)
{
    if (session != m_session)
        return;
    const auto it = m_requests.constFind(pahoToken);
    if (it == m_requests.cend())
        return;
    const Request request = *it;
    m_requests.erase(it);
    const bool mqtt5 = m_active.mqtt5;
    // The broker's refusal: 0x80 in a 3.1.1 SUBACK (as `code`), a reason code ≥ 0x80 with MQTT 5.
    const int refusal = mqtt5 ? reasonCode : (code == 0x80 ? code : 0);
    if (code == MQTTASYNC_OPERATION_INCOMPLETE && refusal == 0)
        return; // cut short by the end of the connection, which is reported by itself

    switch (request.kind) {
    case Pending::Publish: {
        const Error error = refusal > 0
            ? Error{isCredentialRefusal(refusal, true) ? ErrorKind::AuthRefused : ErrorKind::Conflict,
                QStringLiteral("PublishRefused"),
                tr("The broker refused message %1: %2 (%3).")
                    .arg(request.token)
                    .arg(reasonText(refusal, mqtt5), codeText(refusal, mqtt5))}
            : Error{ErrorKind::Network, QStringLiteral("PublishFailed"),
                tr("Message %1 could not be sent: %2.").arg(request.token).arg(pahoText(code))};
        Q_EMIT errorOccurred(error);
        return;
    }
    case Pending::Subscribe: {
        m_subscriptions.remove(request.filter);
        const Error error = refusal > 0
            ? Error{ErrorKind::AuthRefused, QStringLiteral("SubscriptionRefused"),
                tr("The broker refused the subscription to %1: %2 (%3).")
                    .arg(request.filter, reasonText(refusal, mqtt5), codeText(refusal, mqtt5))}
            : Error{ErrorKind::Network, QStringLiteral("SubscribeFailed"),
                tr("The subscription to %1 could not be sent: %2.").arg(request.filter, pahoText(code))};
        Q_EMIT subscriptionFailed(request.filter, error);
        Q_EMIT errorOccurred(error);
        return;
    }
    case Pending::Unsubscribe:
        Q_EMIT errorOccurred({ErrorKind::Network, QStringLiteral("UnsubscribeFailed"),
            tr("Unsubscribing from %1 failed: %2.")
                .arg(request.filter, refusal > 0 ? reasonText(refusal, mqtt5) : pahoText(code))});
        return;
    }
}

void MqttClient::onTlsError(quint64 session, const QString &text)
{
    if (session == m_session && m_tlsErrors.size() < maxTlsErrors)
        m_tlsErrors.append(text);
}

Result<int> MqttClient::publish(
    const QString &topic, const QByteArray &payload, int qos, bool retain, const MqttUserProperties &userProperties)
{
    if (auto ok = validateTopic(topic); !ok)
        return std::unexpected(ok.error());
    if (auto ok = validateQos(qos); !ok)
        return std::unexpected(ok.error());
    if (payload.size() > maxPayloadSize)
        return Onboarder::fail(ErrorKind::InvalidInput, QStringLiteral("PayloadTooLarge"),
            tr("The message is too large for MQTT (%1 bytes).").arg(payload.size()));
    if (m_state != State::Connected || m_disconnecting)
        return Onboarder::fail(ErrorKind::Conflict, QStringLiteral("NotConnected"),
            tr("Not connected to the broker: the message to %1 was not sent.").arg(topic));
    const bool mqtt5 = m_active.mqtt5;
    if (!userProperties.isEmpty() && !mqtt5)
        return Onboarder::fail(ErrorKind::InvalidInput, QStringLiteral("UserPropertiesNeedMqtt5"),
            tr("User properties need MQTT 5; this connection uses MQTT 3.1.1."));

    const QByteArray topicUtf8 = topic.toUtf8();
    Properties properties;
    for (const auto &[name, value] : userProperties)
        properties.addUserProperty(name.toUtf8(), value.toUtf8());
    MQTTAsync_message message = MQTTAsync_message_initializer;
    message.payload = const_cast<char *>(payload.constData()); // copied by Paho
    message.payloadlen = int(payload.size());
    message.qos = qos;
    message.retained = retain ? 1 : 0;
    message.properties = *properties.get(); // copied by Paho; freed by `properties`

    MQTTAsync_responseOptions options
        = responseOptions(m_session, mqtt5, MqttClientBridge::requestSucceeded, MqttClientBridge::requestSucceeded5);
    if (const int rc = MQTTAsync_sendMessage(m_handle, topicUtf8.constData(), &message, &options);
        rc != MQTTASYNC_SUCCESS)
        return Onboarder::fail(ErrorKind::Network, QStringLiteral("PublishFailed"),
            tr("The message to %1 could not be sent: %2.").arg(topic, pahoText(rc)));
    m_lastToken = m_lastToken == std::numeric_limits<int>::max() ? 1 : m_lastToken + 1;
    if (qos > 0)
        m_requests.insert(options.token, {Pending::Publish, m_lastToken, {}, qos});
    return m_lastToken;
}

Result<void> MqttClient::subscribe(const QString &filter, int qos)
{
    if (auto ok = validateFilter(filter); !ok)
        return ok;
    if (auto ok = validateQos(qos); !ok)
        return ok;
    if (m_state != State::Connected || m_disconnecting)
        return Onboarder::fail(ErrorKind::Conflict, QStringLiteral("NotConnected"),
            tr("Not connected to the broker: cannot subscribe to %1.").arg(filter));
    if (auto sent = sendSubscribe(filter, qos); !sent)
        return sent;
    m_subscriptions.insert(filter, qos);
    return {};
}

Result<void> MqttClient::sendSubscribe(const QString &filter, int qos)
{
    const QByteArray filterUtf8 = filter.toUtf8();
    MQTTAsync_responseOptions options = responseOptions(
        m_session, m_active.mqtt5, MqttClientBridge::subscribeSucceeded, MqttClientBridge::subscribeSucceeded5);
    if (const int rc = MQTTAsync_subscribe(m_handle, filterUtf8.constData(), qos, &options); rc != MQTTASYNC_SUCCESS)
        return Onboarder::fail(ErrorKind::Network, QStringLiteral("SubscribeFailed"),
            tr("The subscription to %1 could not be sent: %2.").arg(filter, pahoText(rc)));
    m_requests.insert(options.token, {Pending::Subscribe, 0, filter, qos});
    return {};
}

Result<void> MqttClient::unsubscribe(const QString &filter)
{
    if (auto ok = validateFilter(filter); !ok)
        return ok;
    if (m_state != State::Connected || m_disconnecting)
        return Onboarder::fail(ErrorKind::Conflict, QStringLiteral("NotConnected"),
            tr("Not connected to the broker: cannot unsubscribe from %1.").arg(filter));
    m_subscriptions.remove(filter);
    const QByteArray filterUtf8 = filter.toUtf8();
    MQTTAsync_responseOptions options = responseOptions(
        m_session, m_active.mqtt5, MqttClientBridge::requestSucceeded, MqttClientBridge::requestSucceeded5);
    if (const int rc = MQTTAsync_unsubscribe(m_handle, filterUtf8.constData(), &options); rc != MQTTASYNC_SUCCESS)
        return Onboarder::fail(ErrorKind::Network, QStringLiteral("UnsubscribeFailed"),
            tr("Unsubscribing from %1 failed: %2.").arg(filter, pahoText(rc)));
    m_requests.insert(options.token, {Pending::Unsubscribe, 0, filter, 0});
    return {};
}

} // namespace Onboarder
