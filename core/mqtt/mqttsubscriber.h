#pragma once

#include "common/result.h"
#include "mqtt/mqttmessage.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>

class QSslSocket;
class QTcpSocket;

namespace Onboarder {

// A subscribing MQTT 3.1.1 client whose QoS 1 messages are acknowledged by its owner, not by the
// library: PUBACK goes out only when acknowledge() is called. MqttClient (Paho) cannot do that: Paho
// sends PUBACK before the application sees the message, so a crash in between loses it. This client
// is what a store-and-forward relay needs: with a stable client id and clean session off, a message
// that was not acknowledged is sent again by the broker after a reconnect (DUP), also after a crash.
//
// It runs on its owner's thread's event loop (QTcpSocket, or QSslSocket for TLS with verification
// always on and an optional extra CA); there is no other thread. The API follows QMqttClient.
//
// Flow control is the broker's: it sends at most its in-flight limit (mosquitto: max_inflight_messages,
// 20 by default) of unacknowledged QoS 1 messages, and queues the rest for the session (mosquitto:
// max_queued_messages, 1000 by default: raise it for a relay, see packaging/systemd/README).
//
// Reconnect: after a lost connection or a failed attempt it tries again after 1 s, doubling up to
// 30 s; a refusal by the broker (bad credentials, not authorised) also retries, at the longest interval,
// since a relay must not give up. The subscriptions are sent again on every connection.
//
// Acknowledgements belong to the connection a message came on: acknowledge() of a message from an
// earlier connection does nothing (the broker sends that message again: at-least-once).
class MqttSubscriber final : public QObject
{
    Q_OBJECT

public:
    enum class State { Disconnected, Connecting, Connected };
    Q_ENUM(State)

    explicit MqttSubscriber(QObject *parent = nullptr);
    ~MqttSubscriber() override;

    void setHostname(const QString &hostname) { m_hostname = hostname; }
    void setPort(int port) { m_port = port; }
    void setClientId(const QString &clientId) { m_clientId = clientId; }
    void setUsername(const QString &username) { m_username = username; }
    void setPassword(const QByteArray &password) { m_password = password; } // no getter: a secret
    void setCleanSession(bool clean) { m_cleanSession = clean; }
    void setKeepAlive(int seconds) { m_keepAlive = seconds; }
    void setTlsEnabled(bool enabled) { m_tls = enabled; }
    void setCaFile(const QString &path) { m_caFile = path; }
    // The filters subscribed (QoS 1) on every connection.
    void setSubscriptions(const QStringList &filters) { m_filters = filters; }

    State state() const { return m_state; }
    int unacknowledged() const { return int(m_unacknowledged.size()); }

    void connectToHost();
    // Sends DISCONNECT (the broker keeps the session when clean session is off) and stops reconnecting.
    void disconnectFromHost();

    // PUBACK for a QoS 1 message of the current connection; false when the message came on an earlier
    // connection (the broker will send it again) or was acknowledged already.
    bool acknowledge(const MqttMessage &message);

Q_SIGNALS:
    void stateChanged(Onboarder::MqttSubscriber::State state);
    void connected(bool sessionPresent);
    void subscribed(const QString &filter, int grantedQos); // 0x80 (refused) is reported as errorOccurred
    void messageReceived(const Onboarder::MqttMessage &message);
    void errorOccurred(const Onboarder::Error &error);

private:
    void startConnection();
    void onSocketConnected();
    void onReadyRead();
    void onSocketGone();
    void scheduleReconnect(int seconds);
    void setState(State state);
    void send(const QByteArray &packet);
    bool handlePacket(quint8 header, const QByteArray &body);
    void reportError(const QString &code, const QString &message);

    QString m_hostname;
    int m_port = 1883;
    QString m_clientId;
    QString m_username;
    QByteArray m_password;
    bool m_cleanSession = false;
    int m_keepAlive = 30;
    bool m_tls = false;
    QString m_caFile;
    QStringList m_filters;

    State m_state = State::Disconnected;
    QTcpSocket *m_socket = nullptr;
    QByteArray m_buffer;
    quint64 m_connection = 0; // generation; acknowledgements of older ones are dropped
    bool m_wanted = false; // connectToHost() called and not disconnectFromHost()
    int m_backoff = 1;
    quint16 m_lastPacketId = 0;
    QHash<quint16, QString> m_pendingSubscriptions; // packet id → filter
    QHash<quint16, bool> m_unacknowledged; // packet ids of QoS 1 messages given out
    QTimer m_reconnectTimer;
    QTimer m_pingTimer;
    QElapsedTimer m_lastReceived;
};

} // namespace Onboarder
