#pragma once

#include <QJsonObject>
#include <QString>

namespace Onboarder::TwinTags {

// "site=bench-1, batch=7" ↔ {"site": "bench-1", "batch": 7}: twin tags as one line of text in a form. A whole number
// becomes a JSON number. An entry without a name sets *problem (a sentence) and gives an empty object.
QJsonObject parse(const QString &text, QString *problem);
QString format(const QJsonObject &tags);

} // namespace Onboarder::TwinTags
