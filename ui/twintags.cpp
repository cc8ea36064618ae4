#include "twintags.h"

#include <QCoreApplication>
#include <QStringList>

namespace Onboarder::TwinTags {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(TwinTags)
};

} // namespace

QJsonObject parse(const QString &text, QString *problem)
{
    QJsonObject tags;
    for (const QString &part : text.split(u',', Qt::SkipEmptyParts)) {
        const qsizetype equals = part.indexOf(u'=');
        const QString name = part.left(equals).trimmed();
        if (equals < 1 || name.isEmpty()) {
            *problem = Text::tr("Twin tags are name=value pairs separated by commas, e.g. site=bench-1, batch=7.");
            return {};
        }
        const QString value = part.mid(equals + 1).trimmed();
        bool isNumber = false;
        const qint64 number = value.toLongLong(&isNumber);
        tags.insert(name, isNumber ? QJsonValue(number) : QJsonValue(value));
    }
    return tags;
}

QString format(const QJsonObject &tags)
{
    QStringList parts;
    for (auto it = tags.begin(); it != tags.end(); ++it)
        parts.append(
            it.key() + u'=' + (it->isDouble() ? QString::number(it->toInteger()) : it->toVariant().toString()));
    return parts.join(QStringLiteral(", "));
}

} // namespace Onboarder::TwinTags
