#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <utility>

namespace Onboarder {

// A configuration of the hub (automatic device management): content for the devices a target condition selects, of
// a priority, with the hub's counts of how many devices it targets and has been applied to, and its own metrics
// (named queries the hub counts the rows of). What HubClient's configuration calls give; the only place that reads a
// configuration's JSON.
struct HubConfiguration
{
    struct Metric
    {
        QString name;
        qint64 count = 0;
        QString query; // empty when the hub gave none
    };

    QString id;
    QString targetCondition;
    int priority = 0;
    QDateTime created;
    QDateTime updated;
    QList<std::pair<QString, QString>> labels; // by name
    QList<Metric> systemMetrics; // the hub's: targeted and applied devices, …
    QList<Metric> metrics; // the configuration's own
    QStringList contentNames; // what it sets: "properties.desired.x" of deviceContent, the modules of modulesContent
    QJsonObject document; // as the hub answered: what onboarder-cli prints with --json

    static HubConfiguration fromJson(const QJsonObject &json);
    // The hub's counts of the devices it targets and it has been applied to (0 when the hub gave none).
    qint64 targetedCount() const;
    qint64 appliedCount() const;
};

} // namespace Onboarder
