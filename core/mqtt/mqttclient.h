#pragma once

#include "common/result.h"
#include "common/secretbytes.h"
#include "mqtt/mqttmessage.h"
#include "mqtt/mqttpacket.h"
#include "mqtt/websocket.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QSet>
#include <QSslCertificate>
#include <QSslKey>
#include <QString>
#include <QTimer>
#include <QUrl>

#include <algorithm>

class QSslError;
class QTcpSocket;

namespace Onboarder {

// The project's one MQTT client: MQTT 3.1.1, and MQTT 5 where the project needs it (user properties, reason
// codes), on Qt's sockets in the owner thread's event loop; there is no thread of its own and no library under
// it. The wire format is MqttPacket's. It serves the relay (the local broker and one session per device), the
// DPS registration, the sandbox's mediator and telemetry ingest, and the sensor simulator. The API follows
// QMqttClient.
//
// Threads: one thread, the one it lives in (its owner thread), where its sockets live and every signal is emitted;
// none of its methods may be called from another. It may be moved to another thread before connectToHost().
//
// Connecting: the settings (host, port, credentials, TLS, …) are read by connectToHost(); changing them while
// connected takes effect on the next connection. connectToHost() returns at once; the outcome is connected(), or
// the state going back to Disconnected (or to Connecting when a reconnect is scheduled) and errorOccurred().
// errorOccurred() always comes last, once the state is final (a slot may call connectToHost() or
// disconnectFromHost() on it); a lost connection gives stateChanged(), disconnected(), errorOccurred() in that
// order.
//
// Transport: TCP, or TLS (QSslSocket), optionally as MQTT over WebSockets (sub-protocol "mqtt") and through an
// HTTP proxy (CONNECT; TLS and the check of the broker's name stay end to end). TLS always verifies the broker's
// certificate and host name; there is no way to turn that off. The CA file, when set, is trusted in addition to
// the system's CAs. A client certificate and its key are held in memory only: nothing is written to a file.
//
// Reconnect (off by default): when on, a failed attempt (also the first) or a lost connection is tried again after
// the shortest interval, doubling up to the longest while attempts fail for network reasons; a refusal by the
// broker (credentials, not authorised) is tried again at the longest interval, unless the owner calls
// disconnectFromHost() on its errorOccurred(). While waiting the state is Connecting. The subscriptions are sent
// again on every connection. When off, a failure ends in Disconnected.
//
// Publishing: publish() returns a token; messageDelivered(token) follows when the broker acknowledged a QoS 1
// message (PUBACK). QoS 0 messages are not acknowledged. Messages not acknowledged when the connection ends
// (disconnected()) are abandoned: the owner sends them again on the next connection if it needs to.
//
// Receiving: QoS 1 messages are acknowledged (PUBACK) once messageReceived() has returned, or, with manual
// acknowledgement, only when the owner calls acknowledge(): the relay acknowledges a message to its local broker
// only after it is stored, so a crash in between cannot lose it (the broker sends it again, marked DUP).
// Acknowledgements belong to the connection a message came on: acknowledge() of a message of an earlier
// connection does nothing (the broker sends that message again: at-least-once). Flow control of received
// messages is the broker's (its in-flight limit).
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
        Mqtt311 = MqttPacket::level311, // what IoT Hub speaks
        Mqtt5 = MqttPacket::level5,
    };
    Q_ENUM(ProtocolVersion)

    explicit MqttClient(QObject *parent = nullptr);
    ~MqttClient() override; // says goodbye (DISCONNECT) when connected; returns at once; emits nothing

    QString hostname() const { return m_hostname; }
    void setHostname(const QString &hostname) { m_hostname = hostname; }
    int port() const { return m_port; } // 0: 1883, or 8883 with TLS (WebSockets: 80, or 443 with TLS)
    void setPort(int port) { m_port = port; }
    QString clientId() const { return m_clientId; }
    void setClientId(const QString &clientId) { m_clientId = clientId; }
    QString username() const { return m_username; }
    void setUsername(const QString &username) { m_username = username; }
    // A secret (e.g. an IoT Hub SAS token): there is deliberately no getter. Empty: no password.
    void setPassword(SecretBytes password) { m_password = std::move(password); }
    bool hasPassword() const { return !m_password.isEmpty(); }
    ProtocolVersion protocolVersion() const { return m_protocolVersion; }
    void setProtocolVersion(ProtocolVersion version) { m_protocolVersion = version; }
    // 3.1.1: Clean Session. 5: Clean Start, and when false a session that never expires (3.1.1 semantics).
    bool cleanSession() const { return m_cleanSession; }
    void setCleanSession(bool clean) { m_cleanSession = clean; }
    int keepAlive() const { return m_keepAlive; } // seconds, 1–65535; a broker's (MQTT 5) overrides it
    void setKeepAlive(int seconds) { m_keepAlive = std::clamp(seconds, 1, 65535); }

    bool isTlsEnabled() const { return m_tlsEnabled; }
    void setTlsEnabled(bool enabled) { m_tlsEnabled = enabled; }
    QString caFile() const { return m_caFile; } // PEM; trusted in addition to the system CAs
    void setCaFile(const QString &path) { m_caFile = path; }
    // The client certificate (PEM, optionally followed by its chain) and its unencrypted private key (PEM).
    // Checked here: both must parse and the certificate must be the key's. Empty arguments clear them.
    Result<void> setClientCertificate(const QByteArray &certificatePem, const SecretBytes &privateKeyPem);
    bool hasClientCertificate() const { return !m_certificate.isNull(); }

    // MQTT over WebSockets on this path (IoT Hub: WebSocket::iotHubPath, port 443); empty: plain MQTT.
    QString webSocketPath() const { return m_webSocketPath; }
    void setWebSocketPath(const QString &path) { m_webSocketPath = path; }
    // An HTTP proxy (http://host:port) that the connection is tunnelled through with CONNECT; TLS and the
    // checks of the broker's certificate and name stay end to end. Empty: none (not even the application's).
    QUrl httpProxy() const { return m_httpProxy; }
    void setHttpProxy(const QUrl &proxy) { m_httpProxy = proxy; }
    // How error messages name the other side ("the local broker 127.0.0.1:1883"); default "the broker at
    // host:port".
    void setPeerName(const QString &name) { m_peerName = name; }

    bool autoReconnect() const { return m_autoReconnect; }
    void setAutoReconnect(bool enabled) { m_autoReconnect = enabled; }
    int reconnectMinSeconds() const { return m_reconnectMinSeconds; }
    int reconnectMaxSeconds() const { return m_reconnectMaxSeconds; }
    void setReconnectInterval(int minSeconds, int maxSeconds); // clamped to 1 ≤ min ≤ max

    // Off (the default): a QoS 1 message is acknowledged when messageReceived() returns. On: by acknowledge().
    void setManualAcknowledgement(bool manual) { m_manualAcknowledgement = manual; }

    State state() const { return m_state; }
    int unacknowledged() const { return int(m_unacknowledged.size()); } // QoS 1 messages given out, not acked
    int publishesInFlight() const { return int(m_publishes.size()); } // QoS 1 publishes awaiting PUBACK

    void connectToHost(); // does nothing when connected or connecting; while waiting to reconnect: now
    void disconnectFromHost(); // also cancels a connection attempt or a scheduled reconnect

    // QoS 0 or 1 (IoT Hub closes the connection on QoS 2). User properties need MQTT 5.
    // Fails at once when not connected, when the topic or QoS is invalid, or when the packet is larger than the
    // broker takes (MQTT 5 tells its limit).
    Result<int> publish(const QString &topic, const QByteArray &payload, int qos = 0, bool retain = false,
        const MqttUserProperties &userProperties = {});
    // Remembered and sent on this and every later connection; fails at once when disconnected (and not waiting
    // to reconnect) or when the filter or QoS is invalid. The outcome follows as subscribed(), or
    // subscriptionFailed() with errorOccurred().
    Result<void> subscribe(const QString &filter, int qos = 0);
    Result<void> unsubscribe(const QString &filter);
    // PUBACK for a QoS 1 message of the current connection (manual acknowledgement); false when the message came
    // on an earlier connection (the broker will send it again) or was acknowledged already.
    bool acknowledge(const MqttMessage &message);

Q_SIGNALS:
    void stateChanged(Onboarder::MqttClient::State state);
    void connected(bool sessionPresent);
    void disconnected(); // a connection that was established has ended (by either side)
    void messageReceived(const Onboarder::MqttMessage &message);
    void messageDelivered(int token); // PUBACK for a QoS 1 publish
    void subscribed(const QString &filter, int grantedQos);
    void subscriptionFailed(const QString &filter, const Onboarder::Error &error);
    void unsubscribed(const QString &filter);
    // Every failure: connection refused or lost, TLS, subscription or publish refused.
    void errorOccurred(const Onboarder::Error &error);

private:
    // The settings the current connection (attempt) was made with: changing them applies to the next one.
    struct Active
    {
        QString hostname;
        int port = 0;
        bool tls = false;
        int level = MqttPacket::level311;
        QString webSocketPath;
        QUrl httpProxy;
    };
    struct Pending
    {
        enum Kind { Subscribe, Unsubscribe } kind = Subscribe;
        QString filter;
    };
    enum class Framing { Raw, Upgrading, Framed };

    bool mqtt5() const { return m_active.level >= MqttPacket::level5; }
    int effectivePort() const;
    QString peerName() const;
    void startAttempt();
    void onSocketConnected();
    void sendConnect();
    void onSslErrors(const QList<QSslError> &errors);
    void onSocketError();
    void onReadyRead();
    bool takeWebSocketData(const QByteArray &data); // false: nothing (more) to read now
    bool handlePacket(const MqttPacket::Frame &frame); // false: the connection was closed
    bool onConnack(const MqttPacket::Frame &frame);
    bool onPublish(const MqttPacket::Frame &frame);
    bool onPuback(const MqttPacket::Frame &frame);
    bool onSuback(const MqttPacket::Frame &frame, bool unsubscribe);
    bool protocolError(const QString &what);
    void onPingTimer();
    // Ends the socket and the connection: retryable failures are tried again when reconnecting is on, refusals at
    // the longest interval; then error (if any) is reported, last.
    void endConnection(const Error &error, bool retryable, bool refusal = false);
    void closeSocket();
    void setState(State state);
    void scheduleReconnect(int seconds);
    void send(const QByteArray &packet);
    quint16 nextPacketId();
    void sendSubscribe(const QString &filter, int qos);
    void forgetExchanges(); // subscriptions, publishes and received messages awaiting an acknowledgement

    // Settings
    QString m_hostname;
    int m_port = 0;
    QString m_clientId;
    QString m_username;
    SecretBytes m_password;
    ProtocolVersion m_protocolVersion = ProtocolVersion::Mqtt311;
    bool m_cleanSession = true;
    int m_keepAlive = 60;
    bool m_tlsEnabled = false;
    QString m_caFile;
    QString m_webSocketPath;
    QUrl m_httpProxy;
    QString m_peerName;
    QSslCertificate m_certificate;
    QList<QSslCertificate> m_chain; // intermediates sent after the certificate
    QSslKey m_key;
    bool m_autoReconnect = false;
    int m_reconnectMinSeconds = 1;
    int m_reconnectMaxSeconds = 30;
    bool m_manualAcknowledgement = false;

    // Connection
    Active m_active;
    State m_state = State::Disconnected;
    QTcpSocket *m_socket = nullptr;
    bool m_handshakeDone = false; // TCP (and TLS) up; CONNECT sent or WebSocket upgrade asked for
    QList<QSslError> m_sslErrors; // why the broker's certificate was refused, for the error
    QByteArray m_buffer;
    Framing m_framing = Framing::Raw;
    QByteArray m_webSocketKey;
    QByteArray m_webSocketHead;
    WebSocket::Decoder m_webSocketDecoder;
    quint64 m_connection = 0; // generation; acknowledgements of older ones are dropped
    bool m_wanted = false; // connectToHost() called and not disconnectFromHost(), reconnecting on
    int m_backoffSeconds = 1;
    quint32 m_maximumPacketSize = 0; // the broker's (MQTT 5); 0: the protocol's
    quint16 m_lastPacketId = 0;
    int m_lastToken = 0;
    QHash<quint16, Pending> m_pendingRequests; // SUBSCRIBE / UNSUBSCRIBE by packet id
    QHash<QString, int> m_subscriptions; // filter → QoS, sent on every connection
    QSet<quint16> m_unacknowledged; // packet ids of QoS 1 messages given out
    QHash<quint16, int> m_publishes; // packet id → token of our QoS 1 publishes awaiting PUBACK
    QTimer m_reconnectTimer;
    QTimer m_pingTimer;
    QTimer m_connectTimer;
    QElapsedTimer m_lastReceived;
    int m_effectiveKeepAlive = 60;
};

} // namespace Onboarder
