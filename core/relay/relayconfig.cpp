#include "relay/relayconfig.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>

#include <cmath>

namespace Onboarder {

namespace {

std::unexpected<Error> invalid(const QString &message)
{
    return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidRelayConfig"), message);
}

// Refuses keys that are not in allowed; prefix names the enclosing object ("source.").
Result<void> checkKeys(const QJsonObject &object, const QStringList &allowed, const QString &prefix)
{
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (prefix == QStringLiteral("source.") && it.key() == QStringLiteral("password"))
            return invalid(RelayConfig::tr("\"source.password\": the password is not kept in the configuration file. "
                                           "Put it in a file only the relay can read and name it in "
                                           "\"source.passwordFile\", or in the keychain and name the entry in "
                                           "\"source.passwordKeychain\"."));
        if (!allowed.contains(it.key()))
            return invalid(RelayConfig::tr("\"%1%2\" is not a relay configuration key.").arg(prefix, it.key()));
    }
    return {};
}

Result<QString> optionalString(const QJsonObject &object, const QString &key, const QString &prefix)
{
    const QJsonValue value = object.value(key);
    if (value.isUndefined() || value.isNull())
        return QString();
    if (!value.isString())
        return invalid(RelayConfig::tr("\"%1%2\" must be a string.").arg(prefix, key));
    return value.toString();
}

Result<qint64> optionalInteger(
    const QJsonObject &object, const QString &key, const QString &prefix, qint64 fallback, qint64 min, qint64 max)
{
    const QJsonValue value = object.value(key);
    if (value.isUndefined())
        return fallback;
    const double number = value.toDouble(-1.0);
    // In range before the whole-number check: converting a double beyond qint64 is undefined (fuzz_configjson).
    if (!value.isDouble() || !(number >= double(min) && number <= double(max)) || number != std::floor(number))
        return invalid(
            RelayConfig::tr("\"%1%2\" must be a whole number from %3 to %4.").arg(prefix, key).arg(min).arg(max));
    return qint64(number);
}

Result<bool> optionalBool(const QJsonObject &object, const QString &key, const QString &prefix)
{
    const QJsonValue value = object.value(key);
    if (!value.isUndefined() && !value.isBool())
        return invalid(RelayConfig::tr("\"%1%2\" must be true or false.").arg(prefix, key));
    return value.toBool(false);
}

// An optional section (absent: empty) with only the allowed keys; shape shows what it looks like.
Result<QJsonObject> optionalSection(
    const QJsonObject &root, const QString &key, const QStringList &allowed, const QString &shape)
{
    const QJsonValue value = root.value(key);
    if (!value.isUndefined() && !value.isObject())
        return invalid(RelayConfig::tr("\"%1\" must be an object: %2.").arg(key, shape));
    QJsonObject section = value.toObject();
    if (auto ok = checkKeys(section, allowed, key + u'.'); !ok)
        return std::unexpected(ok.error());
    return section;
}

QString absolute(const QString &path, const QString &baseDir)
{
    return path.isEmpty() ? path : QDir(baseDir).absoluteFilePath(path);
}

// A topic filter as MQTT allows it: '#' only as the last whole level, '+' only as a whole level.
bool validFilter(const QString &filter)
{
    if (filter.isEmpty())
        return false;
    const QStringList levels = filter.split(u'/');
    for (qsizetype i = 0; i < levels.size(); ++i) {
        const QString &level = levels.at(i);
        if (level.contains(u'#') && (level != QStringLiteral("#") || i != levels.size() - 1))
            return false;
        if (level.contains(u'+') && level != QStringLiteral("+"))
            return false;
    }
    return true;
}

QStringList patternCaptures(const QString &pattern)
{
    QStringList names;
    static const QRegularExpression capture(QStringLiteral("^\\{([A-Za-z][A-Za-z0-9_]*)\\}$"));
    for (const QString &segment : pattern.split(u'/')) {
        const auto match = capture.match(segment);
        if (match.hasMatch())
            names.append(match.captured(1));
    }
    return names;
}

} // namespace

Result<RelayConfig> RelayConfig::load(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorKind::NotFound, QStringLiteral("RelayConfigUnreadable"),
            tr("Cannot read the relay configuration %1: %2.").arg(path, file.errorString()));
    return parse(file.readAll(), QFileInfo(path).absolutePath());
}

Result<RelayConfig> RelayConfig::parse(const QByteArray &json, const QString &baseDir)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return invalid(tr("The relay configuration is not valid JSON (at character %1: %2).")
                           .arg(parseError.offset)
                           .arg(parseError.errorString()));
    if (!document.isObject())
        return invalid(tr("The relay configuration must be a JSON object."));
    const QJsonObject root = document.object();
    const QString none;
    if (auto ok = checkKeys(root,
            {QStringLiteral("hub"), QStringLiteral("source"), QStringLiteral("deviceIdFromTopic"),
                QStringLiteral("deviceIdFromPayload"), QStringLiteral("properties"), QStringLiteral("autoRegister"),
                QStringLiteral("deviceAuth"), QStringLiteral("autoRegisterCa"), QStringLiteral("hubConnection"),
                QStringLiteral("idleTimeoutSeconds"), QStringLiteral("tokenLifetimeSeconds"), QStringLiteral("outbox"),
                QStringLiteral("metricsIntervalMs")},
            none);
        !ok)
        return std::unexpected(ok.error());

    RelayConfig config;
    // hub
    const auto hub = optionalString(root, QStringLiteral("hub"), none);
    if (!hub)
        return std::unexpected(hub.error());
    if (hub->isEmpty())
        return invalid(tr("\"hub\" is missing: name a hub added with onboarder-cli hub add."));
    config.hub = *hub;

    // source
    const QJsonValue sourceValue = root.value(QStringLiteral("source"));
    if (!sourceValue.isObject())
        return invalid(tr("\"source\" is missing or not an object: it names the local broker (url, topics)."));
    const QJsonObject source = sourceValue.toObject();
    const QString sp = QStringLiteral("source.");
    if (auto ok = checkKeys(source,
            {QStringLiteral("url"), QStringLiteral("username"), QStringLiteral("passwordFile"),
                QStringLiteral("passwordKeychain"), QStringLiteral("caFile"), QStringLiteral("clientId"),
                QStringLiteral("topics")},
            sp);
        !ok)
        return std::unexpected(ok.error());
    QString strings[6];
    const QString stringKeys[6] = {QStringLiteral("url"), QStringLiteral("username"), QStringLiteral("passwordFile"),
        QStringLiteral("passwordKeychain"), QStringLiteral("caFile"), QStringLiteral("clientId")};
    for (int i = 0; i < 6; ++i) {
        const auto value = optionalString(source, stringKeys[i], sp);
        if (!value)
            return std::unexpected(value.error());
        strings[i] = *value;
    }
    config.sourceUrl = QUrl(strings[0], QUrl::StrictMode);
    const QString scheme = config.sourceUrl.scheme();
    if (strings[0].isEmpty() || !config.sourceUrl.isValid() || config.sourceUrl.host().isEmpty()
        || (scheme != QStringLiteral("mqtt") && scheme != QStringLiteral("mqtts"))
        || !config.sourceUrl.path().isEmpty())
        return invalid(
            tr("\"source.url\" must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT], not \"%1\".").arg(strings[0]));
    if (!config.sourceUrl.userInfo().isEmpty())
        return invalid(tr("\"source.url\" must not hold a user name or password: use \"source.username\" and "
                          "\"source.passwordFile\"."));
    config.sourceUsername = strings[1];
    config.sourcePasswordFile = absolute(strings[2], baseDir);
    config.sourcePasswordKeychain = strings[3];
    if (!config.sourcePasswordFile.isEmpty() && !config.sourcePasswordKeychain.isEmpty())
        return invalid(tr("\"source.passwordFile\" and \"source.passwordKeychain\" exclude each other: give one."));
    config.sourceCaFile = absolute(strings[4], baseDir);
    if (!config.sourceCaFile.isEmpty() && !config.sourceUsesTls())
        return invalid(tr("\"source.caFile\" needs an mqtts:// \"source.url\"."));
    config.sourceClientId = strings[5].isEmpty() ? QStringLiteral("onboarder-relay-") + config.hub : strings[5];
    if (config.sourceClientId.toUtf8().size() > 65535)
        return invalid(tr("\"source.clientId\" is too long."));
    const QJsonValue topics = source.value(QStringLiteral("topics"));
    if (!topics.isArray() || topics.toArray().isEmpty())
        return invalid(
            tr("\"source.topics\" must be a non-empty array of topic filters, e.g. [\"sensors/+/telemetry\"]."));
    for (const auto &topic : topics.toArray()) {
        if (!topic.isString() || !validFilter(topic.toString()))
            return invalid(
                tr("\"source.topics\" holds an invalid topic filter: %1.")
                    .arg(QString::fromUtf8(QJsonDocument(QJsonArray{topic}).toJson(QJsonDocument::Compact))));
        config.topics.append(topic.toString());
    }

    // device id
    const auto fromTopic = optionalString(root, QStringLiteral("deviceIdFromTopic"), none);
    if (!fromTopic)
        return std::unexpected(fromTopic.error());
    const auto fromPayload = optionalString(root, QStringLiteral("deviceIdFromPayload"), none);
    if (!fromPayload)
        return std::unexpected(fromPayload.error());
    if (fromTopic->isEmpty() == fromPayload->isEmpty())
        return invalid(tr("Give exactly one of \"deviceIdFromTopic\" (e.g. \"sensors/{deviceId}/telemetry\") and "
                          "\"deviceIdFromPayload\" (a JSON field of the payload, e.g. \"meta.id\")."));
    config.deviceIdFromTopic = *fromTopic;
    config.deviceIdFromPayload = *fromPayload;
    const QStringList captures = patternCaptures(config.deviceIdFromTopic);
    if (!config.deviceIdFromTopic.isEmpty()) {
        if (captures.count(QStringLiteral("deviceId")) != 1)
            return invalid(tr(
                "\"deviceIdFromTopic\" must hold the level {deviceId} once, e.g. \"sensors/{deviceId}/telemetry\"."));
        if (config.deviceIdFromTopic.contains(u'+') || config.deviceIdFromTopic.contains(u'#'))
            return invalid(
                tr("\"deviceIdFromTopic\" is a pattern, not a filter: write {name} for a level that varies."));
        if (QSet<QString>(captures.cbegin(), captures.cend()).size() != captures.size())
            return invalid(tr("\"deviceIdFromTopic\" names a level twice."));
    }

    // properties
    const QJsonValue propertiesValue = root.value(QStringLiteral("properties"));
    if (!propertiesValue.isUndefined() && !propertiesValue.isObject())
        return invalid(
            tr("\"properties\" must be an object: property name → \"{topicLevel}\", \"$.payload.field\" or a text."));
    const QJsonObject properties = propertiesValue.toObject();
    static const QRegularExpression propertyName(QStringLiteral("^[A-Za-z0-9_\\-.]{1,64}$"));
    for (auto it = properties.begin(); it != properties.end(); ++it) {
        if (!propertyName.match(it.key()).hasMatch() || it.key().startsWith(u'$')
            || it.key().startsWith(QStringLiteral("iothub-")))
            return invalid(
                tr("\"properties.%1\": a property name has 1 to 64 letters, digits, '_', '-' or '.', and is not "
                   "a system property.")
                    .arg(it.key()));
        if (!it.value().isString())
            return invalid(tr("\"properties.%1\" must be a string.").arg(it.key()));
        const QString text = it.value().toString();
        Property property{it.key(), Property::Source::Constant, text};
        if (text.startsWith(QStringLiteral("$."))) {
            property.source = Property::Source::PayloadField;
            property.value = text.mid(2);
            if (property.value.isEmpty())
                return invalid(tr("\"properties.%1\": \"$.\" must be followed by a field name.").arg(it.key()));
        } else if (text.startsWith(u'{') && text.endsWith(u'}')) {
            property.source = Property::Source::TopicCapture;
            property.value = text.mid(1, text.size() - 2);
            if (!captures.contains(property.value))
                return invalid(
                    tr("\"properties.%1\" takes the topic level {%2}, which \"deviceIdFromTopic\" does not name.")
                        .arg(it.key(), property.value));
        }
        config.properties.append(property);
    }

    // flags and numbers
    const auto autoRegister = optionalBool(root, QStringLiteral("autoRegister"), none);
    if (!autoRegister)
        return std::unexpected(autoRegister.error());
    config.autoRegister = *autoRegister;
    const auto auth = optionalString(root, QStringLiteral("deviceAuth"), none);
    if (!auth)
        return std::unexpected(auth.error());
    if (auth->isEmpty() || *auth == QStringLiteral("sas"))
        config.deviceAuth = DeviceAuth::Sas;
    else if (*auth == QStringLiteral("x509"))
        config.deviceAuth = DeviceAuth::X509;
    else
        return invalid(tr(
            "\"deviceAuth\" must be \"sas\" (keys from the registry) or \"x509\" (certificates from the keychain)."));
    const auto autoRegisterCa = optionalString(root, QStringLiteral("autoRegisterCa"), none);
    if (!autoRegisterCa)
        return std::unexpected(autoRegisterCa.error());
    config.autoRegisterCa = *autoRegisterCa;
    if (!config.autoRegisterCa.isEmpty() && (!config.autoRegister || config.deviceAuth != DeviceAuth::X509))
        return invalid(
            tr("\"autoRegisterCa\" names the CA that signs the certificates the relay makes for unknown devices: it "
               "needs \"autoRegister\": true and \"deviceAuth\": \"x509\"."));

    // hubConnection
    const auto connection = optionalSection(root, QStringLiteral("hubConnection"),
        {QStringLiteral("webSockets"), QStringLiteral("proxy"), QStringLiteral("keepAliveSeconds")},
        QStringLiteral("{\"webSockets\": true, \"proxy\": \"http://HOST:PORT\", \"keepAliveSeconds\": 120}"));
    if (!connection)
        return std::unexpected(connection.error());
    const QString cp = QStringLiteral("hubConnection.");
    const auto webSockets = optionalBool(*connection, QStringLiteral("webSockets"), cp);
    if (!webSockets)
        return std::unexpected(webSockets.error());
    config.hubWebSockets = *webSockets;
    // IoT Hub allows at most 1,177 seconds; shorter than a cellular network's NAT timeout keeps a quiet session open.
    const auto keepAlive = optionalInteger(*connection, QStringLiteral("keepAliveSeconds"), cp, 120, 5, 1177);
    if (!keepAlive)
        return std::unexpected(keepAlive.error());
    config.hubKeepAliveSeconds = int(*keepAlive);
    const auto proxy = optionalString(*connection, QStringLiteral("proxy"), cp);
    if (!proxy)
        return std::unexpected(proxy.error());
    if (!proxy->isEmpty()) {
        config.hubProxy = QUrl(*proxy, QUrl::StrictMode);
        if (!config.hubProxy.isValid() || config.hubProxy.scheme() != QStringLiteral("http")
            || config.hubProxy.host().isEmpty() || !config.hubProxy.path().isEmpty())
            return invalid(tr("\"hubConnection.proxy\" must be http://HOST:PORT, not \"%1\".").arg(*proxy));
        if (!config.hubProxy.userInfo().isEmpty())
            return invalid(tr("\"hubConnection.proxy\" must not hold a user name or password: the relay supports "
                              "proxies that need no sign-in."));
    }

    const auto idle = optionalInteger(root, QStringLiteral("idleTimeoutSeconds"), none, 300, 1, 86400);
    const auto lifetime = optionalInteger(root, QStringLiteral("tokenLifetimeSeconds"), none, 3600, 60, 86400 * 365);
    const auto interval = optionalInteger(root, QStringLiteral("metricsIntervalMs"), none, 1000, 100, 3600000);
    for (const auto *value : {&idle, &lifetime, &interval}) {
        if (!*value)
            return std::unexpected(value->error());
    }
    config.idleTimeoutSeconds = int(*idle);
    config.tokenLifetimeSeconds = int(*lifetime);
    config.metricsIntervalMs = int(*interval);

    // outbox
    const auto outboxSection
        = optionalSection(root, QStringLiteral("outbox"), {QStringLiteral("path"), QStringLiteral("maxMessages")},
            QStringLiteral("{\"path\": FILE, \"maxMessages\": N}"));
    if (!outboxSection)
        return std::unexpected(outboxSection.error());
    const QJsonObject &outbox = *outboxSection;
    const QString op = QStringLiteral("outbox.");
    const auto outboxPath = optionalString(outbox, QStringLiteral("path"), op);
    if (!outboxPath)
        return std::unexpected(outboxPath.error());
    config.outboxPath = absolute(outboxPath->isEmpty() ? QStringLiteral("relay-outbox.db") : *outboxPath, baseDir);
    const auto maxMessages = optionalInteger(outbox, QStringLiteral("maxMessages"), op, 1000000, 1, qint64(1) << 40);
    if (!maxMessages)
        return std::unexpected(maxMessages.error());
    config.outboxMaxMessages = *maxMessages;
    return config;
}

} // namespace Onboarder
