#include "configurations.h"

#include "devicequery.h"
#include "registry.h"

#include <QSet>

#include <algorithm>

namespace Onboarder::Sandbox {

namespace {

std::unexpected<Error> invalid(const QString &message)
{
    return std::unexpected(azureError(QStringLiteral("ArgumentInvalid"), message));
}

std::unexpected<Error> notFound(const QString &id)
{
    return std::unexpected(azureError(
        QStringLiteral("ConfigurationNotFound"), QStringLiteral("The hub has no configuration '%1'.").arg(id)));
}

// IoT Hub's rule for configuration ids: lowercase letters, digits and - : + % _ # * ? ! ( ) , = @ ; ', at most 128.
bool validId(const QString &id)
{
    static const QString punctuation = QStringLiteral("-:+%_#*?!(),=@;'");
    return !id.isEmpty() && id.size() <= 128 && std::all_of(id.cbegin(), id.cend(), [](QChar c) {
        return (c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9') || punctuation.contains(c);
    });
}

QString etagText(qint64 counter)
{
    return QString::fromLatin1(QByteArray::number(counter).toBase64());
}

// Every row of a query, counted page by page.
Result<QJsonArray> allRows(const Registry &registry, const QString &text)
{
    const auto query = DeviceQuery::parse(text);
    if (!query)
        return std::unexpected(query.error());
    QJsonArray rows;
    QString continuation;
    do {
        const auto page = registry.query(*query, 1000, continuation);
        if (!page)
            return std::unexpected(page.error());
        for (const auto &row : page->items)
            rows.append(row);
        continuation = page->continuation;
    } while (!continuation.isEmpty());
    return rows;
}

QString targetQuery(const QString &condition)
{
    return QStringLiteral("SELECT deviceId FROM devices WHERE ") + condition;
}

} // namespace

Configurations::Configurations(Registry &registry, QObject *parent)
    : QObject(parent)
    , m_registry(registry)
{ }

Result<QJsonObject> Configurations::put(const QString &id, const QJsonObject &body, const QString &ifMatch)
{
    if (!validId(id))
        return invalid(QStringLiteral("A configuration id is 1–128 lowercase letters, digits and - : + % _ # * ? ! ( ) "
                                      ", = @ ; ', not '%1'.")
                           .arg(id));
    if (const QString named = jsonMember(body, QStringLiteral("id")).toString(); !named.isEmpty() && named != id)
        return invalid(QStringLiteral("The body's id '%1' is not the path's '%2'.").arg(named, id));
    const auto existing
        = std::find_if(m_entries.begin(), m_entries.end(), [&id](const auto &e) { return e.first == id; });
    if (ifMatch.isEmpty() && existing != m_entries.end())
        return std::unexpected(azureError(QStringLiteral("ConfigurationAlreadyExists"),
            QStringLiteral("The configuration '%1' exists already.").arg(id)));
    if (!ifMatch.isEmpty()) {
        if (existing == m_entries.end())
            return notFound(id);
        const QString unquoted = QString(ifMatch).remove(u'"');
        if (unquoted != QStringLiteral("*") && unquoted != etagText(existing->second.etag))
            return std::unexpected(azureError(QStringLiteral("PreconditionFailed"),
                QStringLiteral("The configuration '%1' changed since its ETag was read.").arg(id)));
    }

    Entry entry;
    entry.targetCondition = jsonMember(body, QStringLiteral("targetCondition")).toString().trimmed();
    if (!entry.targetCondition.isEmpty()) {
        if (const auto query = DeviceQuery::parse(targetQuery(entry.targetCondition)); !query)
            return invalid(
                QStringLiteral("The targetCondition is not a valid condition: %1").arg(query.error().message));
    }
    const QJsonValue priority = jsonMember(body, QStringLiteral("priority"));
    if (!priority.isUndefined() && !priority.isNull() && (!priority.isDouble() || priority.toInt(-1) < 0))
        return invalid(QStringLiteral("priority must be a whole number of 0 or more."));
    entry.priority = priority.toInt(0);
    const QJsonObject metrics
        = jsonMember(jsonMember(body, QStringLiteral("metrics")).toObject(), QStringLiteral("queries")).toObject();
    for (auto it = metrics.begin(); it != metrics.end(); ++it) {
        if (const auto query = DeviceQuery::parse(it->toString()); !query)
            return invalid(QStringLiteral("The metric '%1' is not a query the hub can run: %2")
                               .arg(it.key(), query.error().message));
    }
    const QJsonObject deviceContent
        = jsonMember(jsonMember(body, QStringLiteral("content")).toObject(), QStringLiteral("deviceContent"))
              .toObject();
    for (auto it = deviceContent.begin(); it != deviceContent.end(); ++it) {
        if (!it.key().startsWith(QStringLiteral("properties.desired.")) || it.key().size() <= 19)
            return invalid(QStringLiteral("deviceContent names desired properties (properties.desired.NAME), not '%1'.")
                               .arg(it.key()));
    }

    entry.body = body;
    for (const char *readOnly : {"etag", "createdTimeUtc", "lastUpdatedTimeUtc", "systemMetrics"})
        entry.body.remove(QLatin1String(readOnly));
    QJsonObject storedMetrics = entry.body.value(QStringLiteral("metrics")).toObject();
    storedMetrics.remove(QStringLiteral("results"));
    entry.body.insert(QStringLiteral("metrics"), storedMetrics);
    entry.body.insert(QStringLiteral("id"), id);
    if (!entry.body.contains(QLatin1String("schemaVersion")))
        entry.body.insert(QStringLiteral("schemaVersion"), QStringLiteral("1.0"));
    entry.deviceContent = !deviceContent.isEmpty();
    entry.updated = QDateTime::currentDateTimeUtc();
    entry.etag = ++m_lastEtag;
    if (existing != m_entries.end()) {
        entry.created = existing->second.created;
        existing->second = entry;
    } else {
        entry.created = entry.updated;
        m_entries.append({id, entry});
    }
    apply(id);
    return get(id);
}

Result<QJsonObject> Configurations::get(const QString &id) const
{
    for (const auto &[name, entry] : m_entries) {
        if (name == id)
            return toJson(id, entry);
    }
    return notFound(id);
}

QList<QJsonObject> Configurations::list(int top) const
{
    QList<QJsonObject> list;
    for (const auto &[id, entry] : m_entries) {
        if (list.size() >= top)
            break;
        list.append(toJson(id, entry));
    }
    return list;
}

Result<void> Configurations::remove(const QString &id, const QString &ifMatch)
{
    const auto existing
        = std::find_if(m_entries.begin(), m_entries.end(), [&id](const auto &e) { return e.first == id; });
    if (existing == m_entries.end())
        return notFound(id);
    const QString unquoted = QString(ifMatch).remove(u'"');
    if (!unquoted.isEmpty() && unquoted != QStringLiteral("*") && unquoted != etagText(existing->second.etag))
        return std::unexpected(azureError(QStringLiteral("PreconditionFailed"),
            QStringLiteral("The configuration '%1' changed since its ETag was read.").arg(id)));
    m_entries.erase(existing);
    return {};
}

Result<QStringList> Configurations::devicesOf(const QString &condition) const
{
    if (condition.isEmpty())
        return QStringList();
    const auto rows = allRows(m_registry, targetQuery(condition));
    if (!rows)
        return std::unexpected(rows.error());
    QStringList ids;
    for (const auto &row : *rows)
        ids.append(row.toObject().value(QStringLiteral("deviceId")).toString());
    return ids;
}

Result<QStringList> Configurations::appliedDevices(const QString &id) const
{
    const auto self
        = std::find_if(m_entries.cbegin(), m_entries.cend(), [&id](const auto &e) { return e.first == id; });
    auto targeted = devicesOf(self->second.targetCondition);
    if (!targeted)
        return targeted;
    // A device takes the configuration of highest priority that targets it; of equal priorities, the newest (the later
    // in creation order). Configurations of device content and of module content do not compete.
    QSet<QString> taken;
    const qsizetype position = self - m_entries.cbegin();
    for (qsizetype i = 0; i < m_entries.size(); ++i) {
        const Entry &entry = m_entries.at(i).second;
        if (i == position || entry.deviceContent != self->second.deviceContent)
            continue;
        const bool wins
            = entry.priority > self->second.priority || (entry.priority == self->second.priority && i > position);
        if (!wins)
            continue;
        const auto theirs = devicesOf(entry.targetCondition);
        if (!theirs)
            return theirs;
        for (const QString &device : *theirs)
            taken.insert(device);
    }
    targeted->removeIf([&taken](const QString &device) { return taken.contains(device); });
    return targeted;
}

void Configurations::apply(const QString &id)
{
    const auto self
        = std::find_if(m_entries.cbegin(), m_entries.cend(), [&id](const auto &e) { return e.first == id; });
    const QJsonObject content = self->second.body.value(QStringLiteral("content"))
                                    .toObject()
                                    .value(QStringLiteral("deviceContent"))
                                    .toObject();
    if (content.isEmpty())
        return;
    QJsonObject desired;
    for (auto it = content.begin(); it != content.end(); ++it)
        desired.insert(it.key().mid(19), *it); // properties.desired.NAME
    const auto devices = appliedDevices(id);
    if (!devices) {
        qWarning("sandbox: configuration %s not applied: %s", qPrintable(id), qPrintable(devices.error().message));
        return;
    }
    const QJsonObject patch{{QStringLiteral("properties"), QJsonObject{{QStringLiteral("desired"), desired}}}};
    for (const QString &device : *devices) {
        const auto before = m_registry.device(device);
        const auto updated = m_registry.updateTwin(device, patch, QString(), false);
        if (before && updated && updated->desiredVersion != before->desiredVersion)
            Q_EMIT desiredPropertiesChanged(device, desired, updated->desiredVersion);
    }
}

QJsonObject Configurations::toJson(const QString &id, const Entry &entry) const
{
    QJsonObject json = entry.body;
    json.insert(QStringLiteral("etag"), etagText(entry.etag));
    json.insert(QStringLiteral("priority"), entry.priority);
    json.insert(QStringLiteral("createdTimeUtc"), entry.created.toString(Qt::ISODateWithMs));
    json.insert(QStringLiteral("lastUpdatedTimeUtc"), entry.updated.toString(Qt::ISODateWithMs));

    // Counted now: what the hub counts every few minutes.
    const auto targeted = devicesOf(entry.targetCondition);
    const auto applied = appliedDevices(id);
    json.insert(QStringLiteral("systemMetrics"),
        QJsonObject{{QStringLiteral("results"),
                        QJsonObject{{QStringLiteral("targetedCount"), targeted ? int(targeted->size()) : 0},
                            {QStringLiteral("appliedCount"), applied ? int(applied->size()) : 0}}},
            {QStringLiteral("queries"),
                QJsonObject{{QStringLiteral("targetedCount"),
                    entry.targetCondition.isEmpty() ? QString() : targetQuery(entry.targetCondition)}}}});
    QJsonObject metrics = json.value(QStringLiteral("metrics")).toObject();
    const QJsonObject queries = metrics.value(QStringLiteral("queries")).toObject();
    QJsonObject results;
    for (auto it = queries.begin(); it != queries.end(); ++it) {
        const auto rows = allRows(m_registry, it->toString());
        results.insert(it.key(), rows ? int(rows->size()) : 0);
    }
    metrics.insert(QStringLiteral("queries"), queries);
    metrics.insert(QStringLiteral("results"), results);
    json.insert(QStringLiteral("metrics"), metrics);
    return json;
}

} // namespace Onboarder::Sandbox
