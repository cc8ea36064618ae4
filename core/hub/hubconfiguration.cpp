#include "hubconfiguration.h"

#include "hub/identityauth.h"

namespace Onboarder {

namespace {

QList<HubConfiguration::Metric> metricsOf(const QJsonObject &metrics)
{
    const QJsonObject results = metrics.value(QStringLiteral("results")).toObject();
    const QJsonObject queries = metrics.value(QStringLiteral("queries")).toObject();
    QList<HubConfiguration::Metric> list;
    for (const QString &name : results.keys())
        list.append({name, results.value(name).toInteger(), queries.value(name).toString()});
    for (const QString &name : queries.keys()) {
        if (!results.contains(name))
            list.append({name, 0, queries.value(name).toString()});
    }
    return list;
}

} // namespace

HubConfiguration HubConfiguration::fromJson(const QJsonObject &json)
{
    HubConfiguration c;
    c.id = json.value(QStringLiteral("id")).toString();
    c.targetCondition = json.value(QStringLiteral("targetCondition")).toString();
    c.priority = json.value(QStringLiteral("priority")).toInt();
    c.created = IdentityAuth::parseTime(json.value(QStringLiteral("createdTimeUtc")).toString());
    c.updated = IdentityAuth::parseTime(json.value(QStringLiteral("lastUpdatedTimeUtc")).toString());
    const QJsonObject labels = json.value(QStringLiteral("labels")).toObject();
    for (auto it = labels.begin(); it != labels.end(); ++it)
        c.labels.append({it.key(), it->toString()});
    c.systemMetrics = metricsOf(json.value(QStringLiteral("systemMetrics")).toObject());
    c.metrics = metricsOf(json.value(QStringLiteral("metrics")).toObject());
    const QJsonObject content = json.value(QStringLiteral("content")).toObject();
    c.contentNames = content.value(QStringLiteral("deviceContent")).toObject().keys();
    for (const char *modules : {"modulesContent", "moduleContent"})
        c.contentNames += content.value(QLatin1String(modules)).toObject().keys();
    c.document = json;
    return c;
}

namespace {

qint64 countOf(const QList<HubConfiguration::Metric> &metrics, QLatin1String name)
{
    for (const HubConfiguration::Metric &metric : metrics) {
        if (metric.name == name)
            return metric.count;
    }
    return 0;
}

} // namespace

qint64 HubConfiguration::targetedCount() const
{
    return countOf(systemMetrics, QLatin1String("targetedCount"));
}

qint64 HubConfiguration::appliedCount() const
{
    return countOf(systemMetrics, QLatin1String("appliedCount"));
}

} // namespace Onboarder
