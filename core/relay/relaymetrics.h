#pragma once

#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>

namespace Onboarder {

// What the relay reports every metricsIntervalMs: on Relay::metricsUpdated for the GUI, and as one
// JSON Lines record (toJson) for `onboarder-cli relay run --json`.
struct RelayMetrics
{
    struct Device
    {
        QString id;
        QString state; // resolving | connecting | connected | waiting | idle
        QString lastError; // empty when fine
        qint64 lastMessageMs = 0; // when its last message came from the local broker (ms since the epoch)
        qint64 in = 0; // since the relay started
        qint64 out = 0;
        qint64 waiting = 0; // in the outbox
        QByteArray lastPayload; // the first bytes of its last message (the GUI's preview; not in toJson)
    };

    qint64 timeMs = 0;
    double inPerSecond = 0; // taken from the local broker
    double outPerSecond = 0; // acknowledged by the hub
    qint64 inTotal = 0;
    qint64 outTotal = 0;
    qint64 unroutable = 0; // no valid device id: set aside as dead letters (counted in deadLettered too)
    qint64 deadLettered = 0; // set aside since the relay started: too large for the hub, or unroutable
    qint64 deadLetters = 0; // in the outbox's dead-letter table now (`relay dead-letters` lists and purges them)
    qint64 retainedSkipped = 0; // a broker's retained copy, sent again on subscribe: not new telemetry
    double latencyP50Ms = 0; // local broker → hub PUBACK, over the interval
    double latencyP99Ms = 0;
    qint64 storedTotal = 0; // written to the outbox; the others reached the hub before a write was due
    qint64 outboxDepth = 0;
    qint64 outboxLimit = 0;
    bool outboxFull = false;
    qint64 held = 0; // taken from the broker but not acknowledged: the outbox is full (or failing)
    QString outboxError; // why the outbox cannot store now (a full disk, an I/O error); empty while it can
    int sessions = 0; // hub sessions open or opening
    QString sourceState; // connected | connecting | disconnected
    QList<Device> devices; // the devices that changed during the interval

    QJsonObject toJson() const;
};

} // namespace Onboarder

Q_DECLARE_METATYPE(Onboarder::RelayMetrics)
