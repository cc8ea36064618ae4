#include "relay/relaymetrics.h"

#include <QDateTime>
#include <QJsonArray>

namespace Onboarder {

QJsonObject RelayMetrics::toJson() const
{
    QJsonArray deviceArray;
    for (const Device &device : devices) {
        QJsonObject json{{QStringLiteral("id"), device.id}, {QStringLiteral("state"), device.state},
            {QStringLiteral("in"), device.in}, {QStringLiteral("out"), device.out},
            {QStringLiteral("waiting"), device.waiting}};
        if (device.lastMessageMs > 0)
            json.insert(QStringLiteral("lastMessage"),
                QDateTime::fromMSecsSinceEpoch(device.lastMessageMs, Qt::UTC).toString(Qt::ISODateWithMs));
        if (!device.lastError.isEmpty())
            json.insert(QStringLiteral("error"), device.lastError);
        deviceArray.append(json);
    }
    const auto rounded = [](double value) { return qRound(value * 100) / 100.0; };
    return {{QStringLiteral("time"), QDateTime::fromMSecsSinceEpoch(timeMs, Qt::UTC).toString(Qt::ISODateWithMs)},
        {QStringLiteral("inPerSecond"), rounded(inPerSecond)}, {QStringLiteral("outPerSecond"), rounded(outPerSecond)},
        {QStringLiteral("in"), inTotal}, {QStringLiteral("out"), outTotal}, {QStringLiteral("unroutable"), unroutable},
        {QStringLiteral("deadLettered"), deadLettered}, {QStringLiteral("deadLetters"), deadLetters},
        {QStringLiteral("retainedSkipped"), retainedSkipped}, {QStringLiteral("latencyP50Ms"), rounded(latencyP50Ms)},
        {QStringLiteral("latencyP99Ms"), rounded(latencyP99Ms)}, {QStringLiteral("stored"), storedTotal},
        {QStringLiteral("outboxDepth"), outboxDepth}, {QStringLiteral("outboxLimit"), outboxLimit},
        {QStringLiteral("outboxFull"), outboxFull}, {QStringLiteral("held"), held},
        {QStringLiteral("outboxError"), outboxError.isEmpty() ? QJsonValue() : QJsonValue(outboxError)},
        {QStringLiteral("sessions"), sessions}, {QStringLiteral("source"), sourceState},
        {QStringLiteral("devices"), deviceArray}};
}

} // namespace Onboarder
