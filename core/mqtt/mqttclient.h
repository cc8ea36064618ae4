#pragma once

#include "common/result.h"
#include "mqtt/mqttmessage.h"

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>
#include <QUrl>

#include <memory>

class QSslSocket;
class QTemporaryDir;

namespace Onboarder {

// One MQTT connection, Qt style, over the Paho MQTT C asynchronous library (MQTTAsync). The API follows
// QMqttClient closely so that Qt MQTT could replace Paho later.
//
// Threads: use the object from the thread it lives in (its owner thread) only. Paho calls back on its own
// threads; every callback copies its data and re-posts it to the owner thread, so every signal is emitted
// there and no object state is touched from a Paho thread. Callbacks that arrive after the object is gone
// are dropped (they find the connection no longer registered).
//
// Connecting: the settings (host, port, credentials, TLS, …) are read by connectToHost(); changing them
// while connected takes effect on the next connection. connectToHost() returns at once; the outcome is
// connected(), or the state going back to Disconnected and errorOccurred(). errorOccurred() always comes
// last, once the state is final (a slot may call connectToHost() again); a lost connection gives
// stateChanged(), disconnected(), errorOccurred() in that order.
//
// TLS: the server certificate and its host name are always verified; there is no way to turn that off.
// The CA file, when set, is trusted in addition to the system's CAs. Paho reports a host name mismatch, a
// refused TCP connection and a broker that drops the handshake alike; then a QSslSocket connection (same
// CAs, same verification) finds out which it was before errorOccurred() tells. Paho (OpenSSL) reads a client
// certificate and private key from files only, so while a connection is being established they are
// written to a private directory (0700; files 0600; under $XDG_RUNTIME_DIR when set, else the temp
// directory) and removed (the key overwritten first) as soon as the connection attempt has completed.
//
// Reconnect (off by default): after a connection is lost, the client reconnects after minimum seconds,
// doubling the wait up to the maximum while attempts fail for network reasons; a refusal (credentials,
// certificate) ends the attempts with errorOccurred(). While waiting the state is Connecting. After a
// reconnect the subscriptions are sent again unless the broker kept the session. The first connection is
// never retried: the caller decides what to do with its error.
//
// Publishing: publish() returns a token; messageDelivered(token) follows when the broker acknowledged a
// QoS 1 message (PUBACK). QoS 0 messages are not acknowledged. Messages not delivered when the connection
// ends (disconnected()) are abandoned: resend them after the reconnect if needed.
//
// Secrets: the password and private key are never logged nor put in an error message.
class MqttClient final : public QObject
{
    Q_OBJECT
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(QString hostname READ hostname WRITE setHostname)
    Q_PROPERTY(int port READ port WRITE setPort)
    Q_PROPERTY(QString clientId READ clientId WRITE setClientId)
    Q_PROPERTY(QString username READ username WRITE setUsername)
    Q_PROPERTY(ProtocolVersion protocolVersion READ protocolVersion WRITE setProtocolVersion)
    Q_PROPERTY(bool cleanSession READ cleanSession WRITE setCleanSession)
    Q_PROPERTY(int keepAlive READ keepAlive WRITE setKeepAlive)
    Q_PROPERTY(bool tlsEnabled READ isTlsEnabled WRITE setTlsEnabled)
    Q_PROPERTY(QString caFile READ caFile WRITE setCaFile)
    Q_PROPERTY(bool autoReconnect READ autoReconnect WRITE setAutoReconnect)

public:
    enum class State {
        Disconnected,
        Connecting, // a connection attempt runs, or a reconnect is scheduled
        Connected,
    };
    Q_ENUM(State)

    enum class ProtocolVersion {
        Mqtt311 = 4, // what IoT Hub speaks
        Mqtt5 = 5,
    };
    Q_ENUM(ProtocolVersion)

    explicit MqttClient(QObject *parent = nullptr);
    ~MqttClient() override; // closes the connection (DISCONNECT); returns at once; emits nothing

    QString hostname() const { return m_hostname; }
    void setHostname(const QString &hostname) { m_hostname = hostname; }
    int port() const { return m_port; } // 0: 1883, or 8883 with TLS (WebSockets: 80, or 443 with TLS)
    void setPort(int port) { m_port = port; }
    QString clientId() const { return m_clientId; }
    void setClientId(const QString &clientId) { m_clientId = clientId; }
    QString username() const { return m_username; }
    void setUsername(const QString &username) { m_username = username; }
    // A secret (e.g. an IoT Hub SAS token): there is deliberately no getter. Empty: no password.
    void setPassword(const QByteArray &password) { m_password = password; }
    bool hasPassword() const { return !m_password.isEmpty(); }
    ProtocolVersion protocolVersion() const { return m_protocolVersion; }
    void setProtocolVersion(ProtocolVersion version) { m_protocolVersion = version; }
    // 3.1.1: Clean Session. 5: Clean Start, and when false a session that never expires (3.1.1 semantics).
    bool cleanSession() const { return m_cleanSession; }
    void setCleanSession(bool clean) { m_cleanSession = clean; }
    int keepAlive() const { return m_keepAlive; } // seconds
    void setKeepAlive(int seconds) { m_keepAlive = seconds; }

    bool isTlsEnabled() const { return m_tlsEnabled; }
    void setTlsEnabled(bool enabled) { m_tlsEnabled = enabled; }
    QString caFile() const { return m_caFile; } // PEM; trusted in addition to the system CAs
    void setCaFile(const QString &path) { m_caFile = path; }
    // The client certificate (PEM, optionally followed by its chain) and its unencrypted private key (PEM).
    // Checked here: both must parse and the certificate must be the key's. Empty arguments clear them.
    Result<void> setClientCertificate(const QByteArray &certificatePem, const QByteArray &privateKeyPem);
    bool hasClientCertificate() const { return !m_clientCertificatePem.isEmpty(); }

    // MQTT over WebSockets on this path (IoT Hub: WebSocket::iotHubPath, port 443); empty: plain MQTT.
    QString webSocketPath() const { return m_webSocketPath; }
    void setWebSocketPath(const QString &path) { m_webSocketPath = path; }
    // An HTTP proxy (http://host:port) that the connection is tunnelled through with CONNECT; TLS and the
    // checks of the broker's certificate and name stay end to end. Empty: none.
    QUrl httpProxy() const { return m_httpProxy; }
    void setHttpProxy(const QUrl &proxy) { m_httpProxy = proxy; }

    bool autoReconnect() const { return m_autoReconnect; }
    void setAutoReconnect(bool enabled) { m_autoReconnect = enabled; }
    int reconnectMinSeconds() const { return m_reconnectMinSeconds; }
    int reconnectMaxSeconds() const { return m_reconnectMaxSeconds; }
    void setReconnectInterval(int minSeconds, int maxSeconds); // clamped to 1 ≤ min ≤ max

    State state() const { return m_state; }

    void connectToHost(); // does nothing when connected or connecting; while waiting to reconnect: now
    void disconnectFromHost(); // also cancels a connection attempt or a scheduled reconnect

    // QoS 0 or 1 (IoT Hub closes the connection on QoS 2). User properties need MQTT 5.
    // Fails at once when not connected or when the topic or QoS is invalid.
    Result<int> publish(const QString &topic, const QByteArray &payload, int qos = 0, bool retain = false,
        const MqttUserProperties &userProperties = {});
    // The outcome follows as subscribed(), or subscriptionFailed() with errorOccurred().
    Result<void> subscribe(const QString &filter, int qos = 0);
    Result<void> unsubscribe(const QString &filter);

Q_SIGNALS:
    void stateChanged(Onboarder::MqttClient::State state);
    void connected();
    void disconnected(); // a connection that was established has ended (by either side)
    void messageReceived(const Onboarder::MqttMessage &message);
    void messageDelivered(int token); // PUBACK for a QoS 1 publish
    void subscribed(const QString &filter, int grantedQos);
    void subscriptionFailed(const QString &filter, const Onboarder::Error &error);
    void unsubscribed(const QString &filter);
    // Every failure: connection refused or lost, TLS, subscription or publish refused.
    void errorOccurred(const Onboarder::Error &error);

private:
    friend class MqttClientBridge; // the Paho callbacks (mqttclient.cpp)

    enum class Pending { Publish, Subscribe, Unsubscribe };
    struct Request
    {
        Pending kind = Pending::Publish;
        int token = 0; // ours (publish)
        QString filter; // subscribe, unsubscribe
        int qos = 0; // subscribe
    };

    // The settings the current connection (attempt) was made with: changing them applies to the next one.
    struct Active
    {
        QString hostname;
        int port = 0;
        bool tls = false;
        bool mqtt5 = false;
        bool cleanSession = true;
        QString caFile;
        bool clientCertificate = false;
        QString webSocketPath;
        QUrl httpProxy;
    };

    int effectivePort() const;
    QString endpoint() const; // host:port of the current connection, for messages
    void startAttempt();
    Result<void> writeCredentialFiles();
    void removeCredentialFiles();
    void destroyHandle();
    void setState(State state);
    void scheduleReconnect();
    void endAttempt(const Error &error, bool retryable);
    void diagnoseTlsFailure();
    Result<void> sendSubscribe(const QString &filter, int qos);

    // Called on the owner thread, re-posted from Paho's threads; `session` tells stale callbacks apart.
    void onConnected(quint64 session, bool sessionPresent);
    void onConnectFailed(quint64 session, int code, int reasonCode, const QString &detail);
    void onConnectionLost(quint64 session, int reasonCode);
    void onDisconnectDone(quint64 session);
    void onMessage(quint64 session, const MqttMessage &message);
    void onRequestDone(quint64 session, int pahoToken, int result);
    void onRequestFailed(quint64 session, int pahoToken, int code, int reasonCode);
    void onTlsError(quint64 session, const QString &text);

    // Settings
    QString m_hostname;
    int m_port = 0;
    QString m_clientId;
    QString m_username;
    QByteArray m_password;
    ProtocolVersion m_protocolVersion = ProtocolVersion::Mqtt311;
    bool m_cleanSession = true;
    int m_keepAlive = 60;
    bool m_tlsEnabled = false;
    QString m_caFile;
    QString m_webSocketPath;
    QUrl m_httpProxy;
    QByteArray m_clientCertificatePem;
    QByteArray m_clientKeyPem;
    bool m_autoReconnect = false;
    int m_reconnectMinSeconds = 1;
    int m_reconnectMaxSeconds = 60;

    // Connection
    Active m_active;
    State m_state = State::Disconnected;
    void *m_handle = nullptr; // MQTTAsync
    quint64 m_session = 0; // registry id of m_handle's callbacks; 0: none
    bool m_retrying = false; // the current attempt is an automatic reconnect
    bool m_disconnecting = false;
    int m_backoffSeconds = 0;
    QTimer m_reconnectTimer;
    std::unique_ptr<QTemporaryDir> m_credentialDir;
    QStringList m_tlsErrors; // OpenSSL's reasons for the current attempt
    QPointer<QSslSocket> m_probe; // finds out why a TLS connection failed when Paho cannot tell
    QHash<int, Request> m_requests; // by Paho token
    QHash<QString, int> m_subscriptions; // filter → requested QoS, restored after a reconnect
    int m_lastToken = 0;
};

} // namespace Onboarder
