#include "devicelistquery.h"

#include <QRegularExpression>
#include <QStringList>

namespace Onboarder {

namespace {

// Characters and words that only a condition has; a device id cannot contain any of them
// (ids allow letters, digits and - . + % _ # * ? ! ( ) , : = @ $ ' but people filter by prefix).
bool looksLikeCondition(const QString &text)
{
    static const QRegularExpression condition(
        QStringLiteral(R"([<>=]|\b(AND|OR|NOT|IS_DEFINED|STARTSWITH|ENDSWITH)\b)"),
        QRegularExpression::CaseInsensitiveOption);
    return condition.match(text).hasMatch();
}

QString statusCondition(DeviceListQuery::Status status)
{
    switch (status) {
    case DeviceListQuery::Status::Any: return {};
    case DeviceListQuery::Status::Enabled: return QStringLiteral("status = 'enabled'");
    case DeviceListQuery::Status::Disabled: return QStringLiteral("status = 'disabled'");
    case DeviceListQuery::Status::Connected: return QStringLiteral("connectionState = 'Connected'");
    case DeviceListQuery::Status::Disconnected: return QStringLiteral("connectionState = 'Disconnected'");
    }
    return {};
}

} // namespace

QString DeviceListQuery::quoted(const QString &text)
{
    QString doubled = text;
    doubled.replace(u'\'', QStringLiteral("''"));
    return u'\'' + doubled + u'\'';
}

DeviceListQuery DeviceListQuery::fromFilter(const QString &filterText, Status status)
{
    const QString text = filterText.trimmed();
    DeviceListQuery query;
    if (text.startsWith(QStringLiteral("SELECT"), Qt::CaseInsensitive)) {
        query.select = text;
        query.userQuery = true;
        return query;
    }

    QStringList conditions;
    if (!text.isEmpty())
        conditions.append(looksLikeCondition(text) ? u'(' + text + u')'
                                                   : QStringLiteral("STARTSWITH(deviceId, %1)").arg(quoted(text)));
    if (const QString condition = statusCondition(status); !condition.isEmpty())
        conditions.append(condition);

    const QString where
        = conditions.isEmpty() ? QString() : QStringLiteral(" WHERE ") + conditions.join(QStringLiteral(" AND "));
    query.select = QStringLiteral("SELECT * FROM devices") + where;
    query.count = QStringLiteral("SELECT COUNT() AS numberOfDevices FROM devices") + where;
    return query;
}

} // namespace Onboarder
