#include "hub/devicetwin.h"

namespace Onboarder {

namespace {

const QString tagsField = QStringLiteral("tags");
const QString desiredField = QStringLiteral("desired");
const QString reportedField = QStringLiteral("reported");
const QString propertiesField = QStringLiteral("properties");
const QString metadataField = QStringLiteral("$metadata");
const QString versionField = QStringLiteral("$version");

QJsonObject withoutBookkeeping(QJsonObject object)
{
    object.remove(metadataField);
    object.remove(versionField);
    return object;
}

} // namespace

DeviceTwin DeviceTwin::fromJson(const QJsonObject &json)
{
    DeviceTwin twin;
    twin.document = json;
    twin.deviceId = json.value(QStringLiteral("deviceId")).toString();
    twin.etag = json.value(QStringLiteral("etag")).toString();
    twin.version = json.value(QStringLiteral("version")).toInteger();
    twin.tags = json.value(tagsField).toObject();
    const QJsonObject properties = json.value(propertiesField).toObject();
    const QJsonObject desired = properties.value(desiredField).toObject();
    const QJsonObject reported = properties.value(reportedField).toObject();
    twin.desired = withoutBookkeeping(desired);
    twin.reported = withoutBookkeeping(reported);
    twin.desiredVersion = desired.value(versionField).toInteger();
    twin.reportedVersion = reported.value(versionField).toInteger();
    // The hub's reported properties start at version 1, empty: the device reported once it is above that.
    if (twin.reportedVersion > 1)
        twin.reportedUpdated = QDateTime::fromString(
            reported.value(metadataField).toObject().value(QStringLiteral("$lastUpdated")).toString(),
            Qt::ISODateWithMs);
    return twin;
}

QJsonObject DeviceTwin::editable() const
{
    return {{tagsField, tags}, {desiredField, desired}};
}

QJsonObject DeviceTwin::Change::toJson() const
{
    QJsonObject body;
    if (hasTags)
        body.insert(tagsField, tags);
    if (hasDesired)
        body.insert(propertiesField, QJsonObject{{desiredField, desired}});
    return body;
}

Result<DeviceTwin::Change> DeviceTwin::parseEditable(const QJsonObject &edited)
{
    Change change;
    for (auto it = edited.begin(); it != edited.end(); ++it) {
        if (it.key() != tagsField && it.key() != desiredField)
            return fail(ErrorKind::InvalidInput, QStringLiteral("TwinFieldNotEditable"),
                tr("Only \"tags\" and \"desired\" can be changed here, not \"%1\".").arg(it.key()));
        if (!it.value().isObject())
            return fail(ErrorKind::InvalidInput, QStringLiteral("TwinFieldNotObject"),
                tr("\"%1\" must be a JSON object.").arg(it.key()));
    }
    change.tags = edited.value(tagsField).toObject();
    change.desired = edited.value(desiredField).toObject();
    change.hasTags = true;
    change.hasDesired = true;
    return change;
}

} // namespace Onboarder
