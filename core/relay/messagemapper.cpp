#include "relay/messagemapper.h"

#include "hub/identifiers.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace Onboarder {

namespace {

std::unexpected<Error> unroutable(const QString &message)
{
    return fail(ErrorKind::InvalidInput, QStringLiteral("Unroutable"), message);
}

// The value at a dotted path of a JSON object, as text; null when there is none.
std::optional<QString> field(const QJsonObject &object, const QString &path)
{
    QJsonValue value(object);
    for (const QString &name : path.split(u'.')) {
        if (!value.isObject())
            return std::nullopt;
        value = value.toObject().value(name);
    }
    if (value.isString())
        return value.toString();
    if (value.isDouble())
        return QString::number(value.toDouble(), 'g', 17);
    if (value.isBool())
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    return std::nullopt;
}

bool isCapture(const QString &level)
{
    return level.size() > 2 && level.startsWith(u'{') && level.endsWith(u'}');
}

} // namespace

MessageMapper::MessageMapper(const RelayConfig &config)
    : m_pattern(config.deviceIdFromTopic.isEmpty() ? QStringList() : config.deviceIdFromTopic.split(u'/'))
    , m_payloadField(config.deviceIdFromPayload)
    , m_properties(config.properties)
{ }

Result<RelayMessage> MessageMapper::map(const MqttMessage &message, qint64 receivedMs) const
{
    RelayMessage result;
    result.payload = message.payload;
    result.receivedMs = receivedMs;

    QHash<QString, QString> captures;
    if (!m_pattern.isEmpty()) {
        const QStringList levels = message.topic.split(u'/');
        if (levels.size() != m_pattern.size())
            return unroutable(tr("The topic %1 does not fit the pattern %2.").arg(message.topic, m_pattern.join(u'/')));
        for (qsizetype i = 0; i < levels.size(); ++i) {
            const QString &level = m_pattern.at(i);
            if (isCapture(level))
                captures.insert(level.mid(1, level.size() - 2), levels.at(i));
            else if (level != levels.at(i))
                return unroutable(
                    tr("The topic %1 does not fit the pattern %2.").arg(message.topic, m_pattern.join(u'/')));
        }
        result.deviceId = captures.value(QStringLiteral("deviceId"));
    }

    QJsonObject payload;
    bool payloadParsed = false;
    const auto payloadObject = [&]() -> const QJsonObject & {
        if (!payloadParsed) {
            payload = QJsonDocument::fromJson(message.payload).object();
            payloadParsed = true;
        }
        return payload;
    };
    if (!m_payloadField.isEmpty()) {
        const auto id = field(payloadObject(), m_payloadField);
        if (!id)
            return unroutable(tr("The payload of a message on %1 has no field %2 for the device id.")
                                  .arg(message.topic, m_payloadField));
        result.deviceId = *id;
    }
    if (const auto valid = Identifiers::validateDeviceId(result.deviceId); !valid)
        return unroutable(tr("A message on %1 names the device \"%2\": %3")
                              .arg(message.topic, result.deviceId, valid.error().message));
    // Valid for IoT Hub, but a device sends on devices/{id}/messages/events/, where they are wildcards.
    if (result.deviceId.contains(u'+') || result.deviceId.contains(u'#'))
        return unroutable(tr("A message on %1 names the device \"%2\": IoT Hub accepts \"+\" and \"#\" in a device "
                             "ID, but a device cannot send with one over MQTT, where they are topic wildcards.")
                              .arg(message.topic, result.deviceId));

    for (const RelayConfig::Property &property : m_properties) {
        switch (property.source) {
        case RelayConfig::Property::Source::Constant: result.properties.append({property.name, property.value}); break;
        case RelayConfig::Property::Source::TopicCapture:
            result.properties.append({property.name, captures.value(property.value)});
            break;
        case RelayConfig::Property::Source::PayloadField:
            if (const auto value = field(payloadObject(), property.value))
                result.properties.append({property.name, *value}); // absent fields are left out
            break;
        }
    }
    return result;
}

} // namespace Onboarder
