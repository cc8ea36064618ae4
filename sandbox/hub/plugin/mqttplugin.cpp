// The sandbox hub's mosquitto plugin: IoT Hub's device endpoint rules on a real mosquitto.
//   - authentication: devices and modules by SAS token (their key, or a policy with DeviceConnect) with the
//     username/client id rules of IoT Hub (a module: {host}/{deviceId}/{moduleId}/…, client id {deviceId}/{moduleId},
//     connecting only while its device is enabled); the telemetry consumer by a service policy's token; the
//     sandbox's own link by a shared secret; disabled or unknown devices are refused
//   - authorisation: each device or module may use only its own IoT Hub topics (a device touching another
//     device's topic is refused); a device that publishes where it may not, or a message larger than the hub
//     takes, loses its connection, as with IoT Hub (no acknowledgement: MQTT 3.1.1 has no way to say "refused")
//   - sessions closed as IoT Hub closes them: when the device's SAS token expires (its se=, with the
//     clock skew allowed at connect), and when the sandbox says the device was deleted, disabled or given
//     new credentials ($sandbox/close from its own link, the device id as payload)
//   - connection state and last activity written to the registry
//   - telemetry out: devices/{id}[/modules/{moduleId}]/messages/events/{bag} is re-published as
//     $sandbox/telemetry/{id} with the property bag and the hub's system properties (a module's id in
//     iothub-connection-module-id) as MQTT 5 user properties
//   - twin and method mediation: a device's $iothub/… publishes go to the sandbox as
//     $sandbox/in/{id}/$iothub/…; the sandbox's $sandbox/out/{id}/{topic} reach only that device (for a module,
//     {id} is {deviceId}/modules/{moduleId})
// Options (plugin_opt_…): registry (SQLite file of the sandbox), host_name, secret_file, max_message_bytes (of a
// device message, payload and property bag; IoT Hub's 256 KB when not given), clock_skew_seconds (how long past its
// expiry a SAS token is still taken; IoT Hub's 300 when not given).
// Written without Qt on purpose: it runs inside mosquitto's process.

#include "pluginauth.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <mqtt_protocol.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <optional>
#include <sqlite3.h>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

using namespace Onboarder::SandboxPlugin;

enum class Role { Device, Consumer, Internal };

struct ClientInfo
{
    Role role = Role::Device;
    std::string deviceId; // a module's key: {deviceId}/{moduleId}, which is also its client id
    long long tokenExpiry = 0; // the SAS token's se=; 0: no token (X.509)
};

bool isModuleKey(const std::string &key)
{
    return key.find('/') != std::string::npos;
}

// How the identity is named between the plugin and the sandbox: {deviceId} or {deviceId}/modules/{moduleId}.
std::string sandboxPath(const std::string &key)
{
    const size_t slash = key.find('/');
    return slash == std::string::npos ? key : key.substr(0, slash) + "/modules/" + key.substr(slash + 1);
}

// The identity's own topics start with this: devices/{deviceId}/ or devices/{deviceId}/modules/{moduleId}/.
std::string ownTopics(const std::string &key)
{
    return "devices/" + sandboxPath(key) + "/";
}

struct Plugin
{
    mosquitto_plugin_id_t *id = nullptr;
    sqlite3 *db = nullptr;
    std::string hostName;
    std::string secret;
    long long maxMessageBytes = 256 * 1024;
    long clockSkewSeconds = defaultClockSkewSeconds; // how long past its expiry a token still serves
    // By connection (mosquitto's context), once authenticated: never by client id. When a device connects again
    // before its old connection is gone (a takeover, a resumed session), the old connection's disconnect must not
    // touch the new one's record, or the new connection's publishes would be denied while being acknowledged.
    std::unordered_map<const struct mosquitto *, ClientInfo> clients;
    std::unordered_map<std::string, int> deviceConnections; // live authenticated connections per device id
    std::unordered_set<std::string> consumerSessions; // client ids that authenticated as telemetry consumers
    std::unordered_map<std::string, time_t> lastTouched; // last_activity writes, at most one a second
    long long telemetryCount = 0; // device-to-cloud messages since the broker started
    long long telemetryFlushed = -1;
    time_t telemetryFlushedAt = 0;
    time_t expiryCheckedAt = 0;
};

Plugin *plugin = nullptr;

const char *consumerSuffix = "/$sandbox/consumer";
const char *internalUser = "$sandbox/internal";
const char *mediatorClient = "$sandbox/mediator"; // the sandbox's own link (see sandbox/hub/mediator.cpp)

// The decoded sr: host case-insensitive, the path as it is.
bool resourceIs(const SasToken &token, const std::string &path)
{
    std::string resource = percentDecode(token.encodedResource);
    while (!resource.empty() && resource.back() == '/')
        resource.pop_back();
    const size_t slash = resource.find('/');
    const std::string host = lower(resource.substr(0, slash));
    const std::string rest = slash == std::string::npos ? std::string() : resource.substr(slash);
    return host == lower(plugin->hostName) && rest == path;
}

struct Policy
{
    std::vector<std::string> keys;
    std::string rights;
};

std::optional<Policy> loadPolicy(const std::string &name)
{
    sqlite3_stmt *stmt = nullptr;
    std::optional<Policy> policy;
    if (sqlite3_prepare_v2(
            plugin->db, "SELECT primary_key, secondary_key, rights FROM policies WHERE name = ?", -1, &stmt, nullptr)
        != SQLITE_OK)
        return policy;
    sqlite3_bind_text(stmt, 1, name.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        Policy p;
        p.keys = {reinterpret_cast<const char *>(sqlite3_column_text(stmt, 0)),
            reinterpret_cast<const char *>(sqlite3_column_text(stmt, 1))};
        p.rights = reinterpret_cast<const char *>(sqlite3_column_text(stmt, 2));
        policy = p;
    }
    sqlite3_finalize(stmt);
    return policy;
}

struct DeviceRow
{
    std::string status;
    std::string authType;
    std::vector<std::string> keys;
};

// A device by its id, or a module by its key ({deviceId}/{moduleId}).
std::optional<DeviceRow> loadDevice(const std::string &id)
{
    sqlite3_stmt *stmt = nullptr;
    std::optional<DeviceRow> device;
    if (sqlite3_prepare_v2(plugin->db,
            isModuleKey(id) ? "SELECT status, auth_type, primary_key, secondary_key FROM modules WHERE id = ?"
                            : "SELECT status, auth_type, primary_key, secondary_key FROM devices WHERE id = ?",
            -1, &stmt, nullptr)
        != SQLITE_OK)
        return device;
    sqlite3_bind_text(stmt, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        DeviceRow d;
        d.status = reinterpret_cast<const char *>(sqlite3_column_text(stmt, 0));
        d.authType = reinterpret_cast<const char *>(sqlite3_column_text(stmt, 1));
        for (int column : {2, 3}) {
            if (const auto *key = sqlite3_column_text(stmt, column))
                d.keys.emplace_back(reinterpret_cast<const char *>(key));
        }
        device = d;
    }
    sqlite3_finalize(stmt);
    return device;
}

std::string isoNow()
{
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    tm utc{};
    gmtime_r(&now.tv_sec, &utc);
    char text[96];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", utc.tm_year + 1900, utc.tm_mon + 1,
        utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, now.tv_nsec / 1000000);
    return text;
}

void execute(const char *sql, const std::vector<std::string> &values)
{
    sqlite3_stmt *stmt = nullptr;
    if (sqlite3_prepare_v2(plugin->db, sql, -1, &stmt, nullptr) != SQLITE_OK)
        return;
    for (size_t i = 0; i < values.size(); ++i)
        sqlite3_bind_text(stmt, int(i + 1), values[i].c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        mosquitto_log_printf(
            MOSQ_LOG_WARNING, "onboarder-sandbox: registry update failed: %s", sqlite3_errmsg(plugin->db));
    sqlite3_finalize(stmt);
}

void setConnectionState(const std::string &deviceId, bool connected)
{
    const std::string now = isoNow();
    execute(isModuleKey(deviceId)
            ? "UPDATE modules SET connection_state = ?, connection_state_updated = ?, last_activity = ? WHERE id = ?"
            : "UPDATE devices SET connection_state = ?, connection_state_updated = ?, last_activity = ? WHERE id = ?",
        {connected ? "Connected" : "Disconnected", now, now, deviceId});
}

void touch(const std::string &deviceId)
{
    const time_t now = std::time(nullptr);
    time_t &last = plugin->lastTouched[deviceId];
    if (last == now)
        return;
    last = now;
    execute(isModuleKey(deviceId) ? "UPDATE modules SET last_activity = ? WHERE id = ?"
                                  : "UPDATE devices SET last_activity = ? WHERE id = ?",
        {isoNow(), deviceId});
}

int onBasicAuth(int, void *eventData, void *)
{
    auto *event = static_cast<mosquitto_evt_basic_auth *>(eventData);
    const char *idText = mosquitto_client_id(event->client);
    const std::string clientId = idText ? idText : "";
    const std::string username = event->username ? event->username : "";
    const std::string password = event->password ? event->password : "";
    const auto refuse = [&](const char *why) {
        mosquitto_log_printf(MOSQ_LOG_NOTICE, "onboarder-sandbox: refused client '%s': %s", clientId.c_str(), why);
        return MOSQ_ERR_AUTH;
    };

    if (username == internalUser) {
        if (plugin->secret.empty() || !equalConstantTime(password, plugin->secret))
            return refuse("wrong internal secret");
        plugin->clients[event->client] = {Role::Internal, {}};
        return MOSQ_ERR_SUCCESS;
    }

    const auto token = parseToken(password);
    if (lower(username) == lower(plugin->hostName) + consumerSuffix) {
        if (!token || token->keyName.empty())
            return refuse("the consumer needs a policy's SAS token");
        const auto policy = loadPolicy(token->keyName);
        if (!policy || policy->rights.find("ServiceConnect") == std::string::npos)
            return refuse("the consumer's policy lacks ServiceConnect");
        if (!resourceIs(*token, "") || !tokenValid(*token, policy->keys, plugin->clockSkewSeconds))
            return refuse("invalid or expired consumer token");
        plugin->clients[event->client] = {Role::Consumer, {}};
        if (const char *id = mosquitto_client_id(event->client))
            plugin->consumerSessions.insert(id);
        return MOSQ_ERR_SUCCESS;
    }

    const std::vector<std::string> parts = usernamePath(username);
    if (parts.size() < 2 || parts.size() > 3 || lower(parts[0]) != lower(plugin->hostName))
        return refuse("the username is not {host}/{deviceId}[/{moduleId}]/?api-version=…");
    // A module's key, {deviceId}/{moduleId}, is its client id and its name in the registry's modules.
    const bool isModule = parts.size() == 3;
    const std::string deviceId = isModule ? parts[1] + "/" + parts[2] : parts[1];
    if (clientId != deviceId)
        return refuse(isModule ? "the client id must be {deviceId}/{moduleId}" : "the client id must be the device id");
    const auto parent = loadDevice(parts[1]);
    if (!parent)
        return refuse("no such device");
    if (parent->status != "enabled")
        return refuse("the device is disabled");
    const auto device = isModule ? loadDevice(deviceId) : parent;
    if (!device)
        return refuse("no such module");

    bool authenticated = false;
    if (startsWith(password, "x509:")) {
        // Asserted by the sandbox's TLS front after it checked the client certificate.
        authenticated = equalConstantTime(password.substr(5), hmacBase64(plugin->secret, "x509:" + deviceId));
    } else if (token) {
        const std::string path = "/" + ownTopics(deviceId).substr(0, ownTopics(deviceId).size() - 1);
        if (token->keyName.empty()) {
            authenticated = device->authType == "sas" && resourceIs(*token, path)
                && tokenValid(*token, device->keys, plugin->clockSkewSeconds);
        } else {
            const auto policy = loadPolicy(token->keyName);
            authenticated = policy && policy->rights.find("DeviceConnect") != std::string::npos
                && (resourceIs(*token, path) || resourceIs(*token, "/devices") || resourceIs(*token, ""))
                && tokenValid(*token, policy->keys, plugin->clockSkewSeconds);
        }
    }
    if (!authenticated)
        return refuse("bad credentials");
    const long long expiry = startsWith(password, "x509:") ? 0 : token->expiry;
    const auto [record, added]
        = plugin->clients.insert_or_assign(event->client, ClientInfo{Role::Device, deviceId, expiry});
    plugin->consumerSessions.erase(deviceId); // its client id is the device's now, not a consumer's
    (void)record;
    if (added)
        ++plugin->deviceConnections[deviceId];
    setConnectionState(deviceId, true);
    return MOSQ_ERR_SUCCESS;
}

bool matchesPrefix(const std::string &topic, const std::string &prefix)
{
    return startsWith(topic, prefix);
}

// Tells the sandbox something about a device's session ($sandbox/in/{id}/$sandbox/{what}), e.g. that it can now
// take cloud-to-device messages. Sent to the sandbox's client alone.
void notifySandbox(const std::string &deviceId, const char *what)
{
    const std::string topic = "$sandbox/in/" + sandboxPath(deviceId) + "/$sandbox/" + what;
    mosquitto_broker_publish_copy(mediatorClient, topic.c_str(), 0, nullptr, 0, false, nullptr);
}

// Ends the device's session (mosquitto knows a connection by its client id, which is the device id).
void closeSession(const std::string &deviceId, const char *why)
{
    if (plugin->deviceConnections.find(deviceId) == plugin->deviceConnections.end())
        return;
    mosquitto_log_printf(
        MOSQ_LOG_NOTICE, "onboarder-sandbox: closing the session of device '%s': %s", deviceId.c_str(), why);
    mosquitto_kick_client_by_clientid(deviceId.c_str(), false);
}

// The record of a connection that passed authentication, or clients.end().
std::unordered_map<const struct mosquitto *, ClientInfo>::iterator authenticatedClient(const struct mosquitto *client)
{
    return plugin->clients.find(client);
}

int onAclCheck(int, void *eventData, void *)
{
    auto *event = static_cast<mosquitto_evt_acl_check *>(eventData);
    const auto found = authenticatedClient(event->client);
    const std::string topic = event->topic ? event->topic : "";
    if (found == plugin->clients.end()) {
        // A session kept while its client is away (clean session off) is asked too, when a message is queued for
        // it: a telemetry consumer's session keeps what arrives meanwhile, as an Event Hub keeps it for its readers.
        const char *id = mosquitto_client_id(event->client);
        if (event->access == MOSQ_ACL_READ && id && plugin->consumerSessions.count(id)
            && matchesPrefix(topic, "$sandbox/telemetry/"))
            return MOSQ_ERR_SUCCESS;
        return MOSQ_ERR_ACL_DENIED;
    }
    const ClientInfo &info = found->second;
    switch (info.role) {
    case Role::Internal: return MOSQ_ERR_SUCCESS;
    case Role::Consumer:
        if ((event->access == MOSQ_ACL_SUBSCRIBE || event->access == MOSQ_ACL_READ
                || event->access == MOSQ_ACL_UNSUBSCRIBE)
            && matchesPrefix(topic, "$sandbox/telemetry/"))
            return MOSQ_ERR_SUCCESS;
        return MOSQ_ERR_ACL_DENIED;
    case Role::Device: break;
    }
    const std::string own = ownTopics(info.deviceId);
    const bool isModule = isModuleKey(info.deviceId);
    switch (event->access) {
    case MOSQ_ACL_WRITE:
        if (matchesPrefix(topic, own + "messages/events/")) {
            // IoT Hub counts the properties in; the bag is a fair measure of them.
            const long long size = (long long)event->payloadlen + (long long)(topic.size() - (own.size() + 16));
            if (size <= plugin->maxMessageBytes)
                return MOSQ_ERR_SUCCESS;
            mosquitto_log_printf(MOSQ_LOG_NOTICE,
                "onboarder-sandbox: closing the connection of device '%s': a message of %lld bytes, above the %lld "
                "the hub takes",
                info.deviceId.c_str(), size, plugin->maxMessageBytes);
            return MOSQ_ERR_PAYLOAD_SIZE; // not MOSQ_ERR_ACL_DENIED: the broker closes the connection, unacknowledged
        }
        if (matchesPrefix(topic, "$iothub/twin/GET/") || matchesPrefix(topic, "$iothub/twin/PATCH/properties/reported/")
            || matchesPrefix(topic, "$iothub/methods/res/"))
            return MOSQ_ERR_SUCCESS;
        // As IoT Hub: a publish to a topic the device may not use ends its connection (a denial would be acknowledged
        // to an MQTT 3.1.1 client as if the message had been taken).
        mosquitto_log_printf(MOSQ_LOG_NOTICE,
            "onboarder-sandbox: closing the connection of device '%s': it may not publish to '%s'",
            info.deviceId.c_str(), topic.c_str());
        return MOSQ_ERR_AUTH;
    case MOSQ_ACL_SUBSCRIBE:
    case MOSQ_ACL_UNSUBSCRIBE:
        // A module has no cloud-to-device queue; its inputs (messages routed to it on IoT Edge) are its own.
        if (!isModule && topic == own + "messages/devicebound/#" && event->access == MOSQ_ACL_SUBSCRIBE)
            notifySandbox(info.deviceId, "devicebound"); // its cloud-to-device queue may flow now
        if (topic == own + (isModule ? "inputs/#" : "messages/devicebound/#") || topic == "$iothub/twin/res/#"
            || topic == "$iothub/twin/PATCH/properties/desired/#" || topic == "$iothub/methods/POST/#")
            return MOSQ_ERR_SUCCESS;
        break;
    case MOSQ_ACL_READ:
        if (matchesPrefix(topic, own + (isModule ? "inputs/" : "messages/devicebound/"))
            || matchesPrefix(topic, "$iothub/"))
            return MOSQ_ERR_SUCCESS;
        break;
    default: break;
    }
    mosquitto_log_printf(
        MOSQ_LOG_NOTICE, "onboarder-sandbox: device '%s' may not use topic '%s'", info.deviceId.c_str(), topic.c_str());
    return MOSQ_ERR_ACL_DENIED;
}

void flushTelemetryCount()
{
    if (plugin->telemetryFlushed == plugin->telemetryCount)
        return;
    plugin->telemetryFlushed = plugin->telemetryCount;
    plugin->telemetryFlushedAt = std::time(nullptr);
    execute("INSERT OR REPLACE INTO statistics (name, value) VALUES ('telemetryMessages', ?)",
        {std::to_string(plugin->telemetryCount)});
}

// Replaces an incoming message's topic (the broker frees the old one).
int retopic(mosquitto_evt_message *event, const std::string &topic)
{
    char *replacement = mosquitto_strdup(topic.c_str());
    if (!replacement)
        return MOSQ_ERR_NOMEM;
    mosquitto_free(event->topic);
    event->topic = replacement;
    return MOSQ_ERR_SUCCESS;
}

int onMessage(int, void *eventData, void *)
{
    auto *event = static_cast<mosquitto_evt_message *>(eventData);
    const auto found = authenticatedClient(event->client);
    if (found == plugin->clients.end())
        return MOSQ_ERR_SUCCESS;

    if (found->second.role == Role::Internal) {
        const std::string topic = event->topic ? event->topic : "";
        if (topic == "$sandbox/close") {
            closeSession(std::string(static_cast<const char *>(event->payload), size_t(event->payloadlen)),
                "deleted, disabled or given new credentials");
            return retopic(event, "$sandbox/void");
        }
        // $sandbox/out/{deviceId}/{topic}: the sandbox answers one device; deliver to that client only.
        const std::string prefix = "$sandbox/out/";
        if (!startsWith(topic, prefix))
            return MOSQ_ERR_SUCCESS;
        const size_t slash = topic.find('/', prefix.size());
        if (slash == std::string::npos)
            return retopic(event, "$sandbox/void");
        std::string target = topic.substr(prefix.size(), slash - prefix.size());
        std::string deviceTopic = topic.substr(slash + 1);
        if (startsWith(deviceTopic, "modules/")) { // $sandbox/out/{deviceId}/modules/{moduleId}/{topic}
            const size_t end = deviceTopic.find('/', 8);
            if (end == std::string::npos)
                return retopic(event, "$sandbox/void");
            target += "/" + deviceTopic.substr(8, end - 8); // the module's client id
            deviceTopic = deviceTopic.substr(end + 1);
        }
        // Cloud-to-device messages go at QoS 1, as IoT Hub sends them; twin and method traffic at QoS 0.
        const int qos = startsWith(deviceTopic, "devices/") ? 1 : 0;
        mosquitto_broker_publish_copy(
            target.c_str(), deviceTopic.c_str(), int(event->payloadlen), event->payload, qos, false, nullptr);
        return retopic(event, "$sandbox/void"); // nobody listens there: the original goes nowhere
    }
    if (found->second.role != Role::Device)
        return MOSQ_ERR_SUCCESS;
    const std::string deviceId = found->second.deviceId;
    touch(deviceId);

    const std::string topic = event->topic ? event->topic : "";
    // Twin requests and method answers go to the sandbox, marked with who sent them.
    if (startsWith(topic, "$iothub/"))
        return retopic(event, "$sandbox/in/" + sandboxPath(deviceId) + "/" + topic);
    const std::string events = ownTopics(deviceId) + "messages/events/";
    if (!startsWith(topic, events))
        return MOSQ_ERR_SUCCESS;

    // The property bag becomes user properties; the hub adds its system properties.
    const std::string bag = topic.substr(events.size());
    size_t start = 0;
    while (start < bag.size()) {
        size_t end = bag.find('&', start);
        if (end == std::string::npos)
            end = bag.size();
        const std::string pair = bag.substr(start, end - start);
        if (!pair.empty()) {
            const size_t eq = pair.find('=');
            const std::string key = percentDecode(pair.substr(0, eq));
            const std::string value = eq == std::string::npos ? std::string() : percentDecode(pair.substr(eq + 1));
            // iothub-… names are the hub's own marks (which device, which module): a sender cannot set them.
            if (!startsWith(lower(key), "iothub-"))
                mosquitto_property_add_string_pair(
                    &event->properties, MQTT_PROP_USER_PROPERTY, key.c_str(), value.c_str());
        }
        start = end + 1;
    }
    const size_t moduleSlash = deviceId.find('/');
    mosquitto_property_add_string_pair(&event->properties, MQTT_PROP_USER_PROPERTY, "iothub-connection-device-id",
        deviceId.substr(0, moduleSlash).c_str());
    if (moduleSlash != std::string::npos)
        mosquitto_property_add_string_pair(&event->properties, MQTT_PROP_USER_PROPERTY, "iothub-connection-module-id",
            deviceId.substr(moduleSlash + 1).c_str());
    mosquitto_property_add_string_pair(
        &event->properties, MQTT_PROP_USER_PROPERTY, "iothub-enqueuedtime", isoNow().c_str());
    mosquitto_property_add_string_pair(
        &event->properties, MQTT_PROP_USER_PROPERTY, "iothub-message-source", "Telemetry");
    if (event->retain) {
        mosquitto_property_add_string_pair(&event->properties, MQTT_PROP_USER_PROPERTY, "mqtt-retain", "true");
        event->retain = false; // the hub does not store messages
    }
    // Counted for the hub's statistics; written to the registry at most once a second.
    ++plugin->telemetryCount;
    if (std::time(nullptr) != plugin->telemetryFlushedAt)
        flushTelemetryCount();
    return retopic(event, "$sandbox/telemetry/" + deviceId.substr(0, moduleSlash));
}

// The broker's periodic tick: counts of a burst's last messages reach the registry without waiting
// for the next message.
int onTick(int, void *, void *)
{
    flushTelemetryCount();
    // Sessions whose token has expired, once a second. Collected first: closing one changes clients.
    const time_t now = std::time(nullptr);
    if (now == plugin->expiryCheckedAt)
        return MOSQ_ERR_SUCCESS;
    plugin->expiryCheckedAt = now;
    std::vector<std::string> expired;
    for (const auto &[connection, info] : plugin->clients) {
        // A device with two connections is being taken over: the old one goes anyway, and a kick by client
        // id would hit the new one.
        const auto connections = plugin->deviceConnections.find(info.deviceId);
        if (info.role == Role::Device && info.tokenExpiry != 0
            && info.tokenExpiry + plugin->clockSkewSeconds < (long long)now
            && connections != plugin->deviceConnections.end() && connections->second == 1)
            expired.push_back(info.deviceId);
    }
    for (const std::string &deviceId : expired)
        closeSession(deviceId, "its SAS token expired");
    return MOSQ_ERR_SUCCESS;
}

int onDisconnect(int, void *eventData, void *)
{
    auto *event = static_cast<mosquitto_evt_disconnect *>(eventData);
    const auto found = authenticatedClient(event->client);
    if (found == plugin->clients.end())
        return MOSQ_ERR_SUCCESS;
    if (found->second.role == Role::Device) {
        const std::string deviceId = found->second.deviceId;
        // Only the device's last connection going away makes it disconnected (a takeover's old connection
        // ends after the new one is in).
        if (--plugin->deviceConnections[deviceId] <= 0) {
            plugin->deviceConnections.erase(deviceId);
            setConnectionState(deviceId, false);
            notifySandbox(deviceId, "disconnected");
            plugin->lastTouched.erase(deviceId);
        }
    }
    plugin->clients.erase(found);
    return MOSQ_ERR_SUCCESS;
}

std::string option(struct mosquitto_opt *options, int count, const char *key)
{
    for (int i = 0; i < count; ++i) {
        if (std::strcmp(options[i].key, key) == 0)
            return options[i].value ? options[i].value : "";
    }
    return {};
}

} // namespace

#define ONBOARDER_EXPORT __attribute__((visibility("default")))

extern "C" {

ONBOARDER_EXPORT int mosquitto_plugin_version(int count, const int *versions)
{
    for (int i = 0; i < count; ++i) {
        if (versions[i] == 5)
            return 5;
    }
    return -1;
}

ONBOARDER_EXPORT int mosquitto_plugin_init(
    mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *options, int count)
{
    auto state = std::make_unique<Plugin>();
    state->id = identifier;
    state->hostName = option(options, count, "host_name");
    const std::string registry = option(options, count, "registry");
    const std::string secretFile = option(options, count, "secret_file");
    if (const std::string limit = option(options, count, "max_message_bytes"); !limit.empty())
        state->maxMessageBytes = std::atoll(limit.c_str());
    if (const std::string skew = option(options, count, "clock_skew_seconds"); !skew.empty())
        state->clockSkewSeconds = std::atol(skew.c_str());
    if (state->hostName.empty() || registry.empty()) {
        mosquitto_log_printf(
            MOSQ_LOG_ERR, "onboarder-sandbox: plugin_opt_host_name and plugin_opt_registry are required");
        return MOSQ_ERR_INVAL;
    }
    if (!secretFile.empty()) {
        std::ifstream in(secretFile);
        std::getline(in, state->secret);
    }
    if (sqlite3_open_v2(registry.c_str(), &state->db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "onboarder-sandbox: cannot open the registry %s", registry.c_str());
        sqlite3_close(state->db);
        return MOSQ_ERR_UNKNOWN;
    }
    sqlite3_busy_timeout(state->db, 2000);
    // The registry is in WAL mode; like the sandbox's own connection, commits do not wait for the disk (a
    // device's last activity, written at most once a second per device, must not stall the broker's one
    // thread on fsync when a thousand devices send).
    sqlite3_exec(state->db, "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr);
    plugin = state.release();
    *userdata = plugin;
    mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, onBasicAuth, nullptr, nullptr);
    mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, onAclCheck, nullptr, nullptr);
    mosquitto_callback_register(identifier, MOSQ_EVT_MESSAGE, onMessage, nullptr, nullptr);
    mosquitto_callback_register(identifier, MOSQ_EVT_DISCONNECT, onDisconnect, nullptr, nullptr);
    mosquitto_callback_register(identifier, MOSQ_EVT_TICK, onTick, nullptr, nullptr);
    return MOSQ_ERR_SUCCESS;
}

ONBOARDER_EXPORT int mosquitto_plugin_cleanup(void *, struct mosquitto_opt *, int)
{
    if (!plugin)
        return MOSQ_ERR_SUCCESS;
    mosquitto_callback_unregister(plugin->id, MOSQ_EVT_BASIC_AUTH, onBasicAuth, nullptr);
    mosquitto_callback_unregister(plugin->id, MOSQ_EVT_ACL_CHECK, onAclCheck, nullptr);
    mosquitto_callback_unregister(plugin->id, MOSQ_EVT_MESSAGE, onMessage, nullptr);
    mosquitto_callback_unregister(plugin->id, MOSQ_EVT_DISCONNECT, onDisconnect, nullptr);
    mosquitto_callback_unregister(plugin->id, MOSQ_EVT_TICK, onTick, nullptr);
    flushTelemetryCount();
    // Every device the broker held is offline now.
    for (const auto &[connection, info] : plugin->clients) {
        if (info.role == Role::Device)
            setConnectionState(info.deviceId, false);
    }
    sqlite3_close(plugin->db);
    delete plugin;
    plugin = nullptr;
    return MOSQ_ERR_SUCCESS;
}

} // extern "C"
