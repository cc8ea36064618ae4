#pragma once

#include "common/result.h"
#include "mqtt/mqttmessage.h"
#include "mqtt/mqttpacket.h"
#include "mqtt/websocket.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QNetworkProxy>
#include <QObject>
#include <QSet>
#include <QSslCertificate>
#include <QSslKey>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <optional>

class QSslSocket;
class QTcpSocket;

namespace Onboarder {

// An MQTT 3.1.1 client that lives entirely on its owner's thread's event loop (QTcpSocket, or QSslSocket
// for TLS with verification always on, an optional extra CA and an optional client certificate held in
// memory); there is no other thread. The relay uses it on both sides:
//
// - The local broker: QoS 1 messages are acknowledged by the owner, not by a library: PUBACK goes out
//   only when acknowledge() is called. MqttClient (Paho) cannot do that: Paho sends PUBACK before the
//   application sees the message, so a crash in between loses it. With a stable client id and clean
//   session off, a message that was not acknowledged is sent again by the broker after a reconnect
//   (DUP), also after a crash.
// - The hub, one session per device: QoS 1 publishes whose PUBACK is reported as published(). Paho's
//   asynchronous library keeps one queue of commands for all its clients and searches it for every
//   publish, which makes a thousand device sessions in one process cost quadratic time; here each
//   session is a socket of its own on the event loop. A publish not acknowledged when the connection
//   ends is forgotten (disconnected()): the owner sends it again on the next connection.
//
// Flow control of received messages is the broker's: it sends at most its in-flight limit (mosquitto:
// max_inflight_messages, 20 by default) of unacknowledged QoS 1 messages, and queues the rest for the
// session. The owner limits its own publishes in flight.
//
// Reconnect: after a lost connection or a failed attempt it tries again after 1 s, doubling up to
// 30 s; a refusal by the broker (bad credentials, not authorised) also retries, at the longest interval,
// unless the owner calls disconnectFromHost() on the error. The subscriptions are sent again on every
// connection. The API follows QMqttClient.
//
// Acknowledgements belong to the connection a message came on: acknowledge() of a message from an
// earlier connection does nothing (the broker sends that message again: at-least-once).
//
// Threads: one thread, the one it was created in (its timers are members, not children: it cannot be moved), where
// its sockets live and its signals are emitted; none of its methods may be called from another. The relay makes its
// sessions on its own thread (a worker thread under RelayThread).
class MqttSession final : public QObject
{
    Q_OBJECT

public:
    enum class State { Disconnected, Connecting, Connected };
    Q_ENUM(State)

    explicit MqttSession(QObject *parent = nullptr);
    ~MqttSession() override;

    void setHostname(const QString &hostname) { m_hostname = hostname; }
    void setPort(int port) { m_port = port; }
    void setClientId(const QString &clientId) { m_clientId = clientId; }
    void setUsername(const QString &username) { m_username = username; }
    void setPassword(const QByteArray &password) { m_password = password; } // no getter: a secret
    void setCleanSession(bool clean) { m_cleanSession = clean; }
    void setKeepAlive(int seconds) { m_keepAlive = seconds; }
    void setTlsEnabled(bool enabled) { m_tls = enabled; }
    void setCaFile(const QString &path) { m_caFile = path; }
    // A client certificate for TLS, its key kept in memory only (never written to a file).
    void setClientCertificate(const QSslCertificate &certificate, const QSslKey &key);
    // The filters subscribed (QoS 1) on every connection.
    void setSubscriptions(const QStringList &filters) { m_filters = filters; }
    // MQTT over WebSockets (sub-protocol "mqtt") on this path, e.g. WebSocket::iotHubPath; empty: plain MQTT.
    void setWebSocketPath(const QByteArray &path) { m_webSocketPath = path; }
    // The proxy the connection goes through (an HTTP proxy tunnels it with CONNECT; TLS, and the check of
    // the broker's certificate and name, stay end to end). Unset: the application's proxy (none by default).
    void setProxy(const QNetworkProxy &proxy) { m_proxy = proxy; }
    // How error messages name the other side ("the local broker 127.0.0.1:1883"); default host:port.
    void setPeerName(const QString &name) { m_peerName = name; }

    State state() const { return m_state; }
    int unacknowledged() const { return int(m_unacknowledged.size()); }
    int publishesInFlight() const { return int(m_publishes.size()); }

    void connectToHost();
    // Sends DISCONNECT (the broker keeps the session when clean session is off) and stops reconnecting.
    void disconnectFromHost();

    // PUBACK for a QoS 1 message of the current connection; false when the message came on an earlier
    // connection (the broker will send it again) or was acknowledged already.
    bool acknowledge(const MqttMessage &message);
    // A QoS 1 PUBLISH on the current connection; its packet id, which published() reports once the
    // broker acknowledged it.
    Result<quint16> publish(const QString &topic, const QByteArray &payload);

Q_SIGNALS:
    void stateChanged(Onboarder::MqttSession::State state);
    void connected(bool sessionPresent);
    void disconnected(); // a connection that was up ended; publishes in flight were not acknowledged
    void subscribed(const QString &filter, int grantedQos); // 0x80 (refused) is reported as errorOccurred
    void messageReceived(const Onboarder::MqttMessage &message);
    void published(quint16 packetId);
    void errorOccurred(const Onboarder::Error &error);

private:
    void startConnection();
    void onSocketConnected();
    void sendConnect();
    bool takeWebSocketData(const QByteArray &data); // false: nothing (more) to read now
    void onReadyRead();
    void onSocketGone();
    void closeSocket();
    void scheduleReconnect(int seconds);
    // The other side refused us (CONNACK, WebSocket upgrade): closed, retried at the longest interval.
    void refused(const QString &code, const QString &message, ErrorKind kind = ErrorKind::Network);
    void setState(State state);
    void send(const QByteArray &packet);
    quint16 nextPacketId();
    bool handlePacket(const MqttPacket::Frame &frame); // false: close the connection
    bool malformed(const MqttPacket::Frame &frame);
    void reportError(const QString &code, const QString &message, ErrorKind kind = ErrorKind::Network);
    QString peerName() const;

    QString m_hostname;
    int m_port = 1883;
    QString m_clientId;
    QString m_username;
    QByteArray m_password;
    bool m_cleanSession = false;
    int m_keepAlive = 30;
    bool m_tls = false;
    QString m_caFile;
    QSslCertificate m_certificate;
    QSslKey m_key;
    QStringList m_filters;
    QString m_peerName;
    QByteArray m_webSocketPath;
    std::optional<QNetworkProxy> m_proxy;

    State m_state = State::Disconnected;
    QTcpSocket *m_socket = nullptr;
    QByteArray m_buffer;
    enum class Framing { Raw, Upgrading, Framed };
    Framing m_framing = Framing::Raw;
    QByteArray m_webSocketKey;
    QByteArray m_webSocketHead;
    WebSocket::Decoder m_webSocketDecoder;
    quint64 m_connection = 0; // generation; acknowledgements of older ones are dropped
    bool m_wanted = false; // connectToHost() called and not disconnectFromHost()
    int m_backoff = 1;
    quint16 m_lastPacketId = 0;
    QHash<quint16, QString> m_pendingSubscriptions; // packet id → filter
    QSet<quint16> m_unacknowledged; // packet ids of QoS 1 messages given out
    QSet<quint16> m_publishes; // packet ids of our QoS 1 publishes awaiting PUBACK
    QTimer m_reconnectTimer;
    QTimer m_pingTimer;
    QElapsedTimer m_lastReceived;
};

} // namespace Onboarder
