#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QList>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace Onboarder {

// The relay's configuration file (JSON), documented in docs/cli.md ("Relay configuration") and packaging/systemd/:
//
//   { "hub": "NAME",                                   // a hub added with `onboarder-cli hub add`
//     "source": { "url": "mqtt://127.0.0.1:1883",      // or mqtts://host:8883
//                 "username": "relay",                 // optional
//                 "passwordFile": "/run/credentials/onboarder-relay.service/source-password",
//                 "passwordKeychain": "local",         // or: from the keychain (onboarder-cli relay source-password
//                 local) "caFile": "/etc/ssl/local-ca.pem",   // mqtts only, trusted in addition to the system CAs
//                 "clientId": "onboarder-relay",       // stable: the broker keeps the session (clean session off)
//                 "topics": ["sensors/+/telemetry"] },
//     "deviceIdFromTopic": "sensors/{deviceId}/telemetry",   // or "deviceIdFromPayload": "meta.id"
//     "properties": { "site": "{site}", "kind": "$.type", "source": "relay" },
//     "autoRegister": false,                           // register a device the hub does not know on its first message
//     "deviceAuth": "sas",                             // or "x509" (certificate and key from the keychain; with
//     "autoRegisterCa": "NAME",                        //   autoRegister, made by the relay: self-signed, or by this
//     CA) "hubConnection": { "webSockets": false,          // true: MQTT over WebSockets (port 443 on Azure)
//                        "proxy": "http://proxy:3128",     // optional: an HTTP proxy that tunnels (CONNECT)
//                        "keepAliveSeconds": 120 },        // MQTT keep-alive of each device session (5–1177)
//     "idleTimeoutSeconds": 300, "tokenLifetimeSeconds": 3600,
//     "outbox": { "path": "relay-outbox.db", "maxMessages": 1000000 },
//     "metricsIntervalMs": 1000 }
//
// Secrets: the source broker's password is never in the file in clear: "password" is refused with a
// sentence that names the two places it may come from (a file readable by the relay only, e.g. a systemd
// credential, or the keychain). Relative paths are relative to the configuration file's folder.
// Unknown keys are refused too, so that a misspelt key does not silently fall back to a default.
struct RelayConfig
{
    Q_DECLARE_TR_FUNCTIONS(RelayConfig)

public:
    enum class DeviceAuth { Sas, X509 };

    // One message property (they are sent in the order of their names): the value of a {capture} of deviceIdFromTopic,
    // of a payload JSON field
    // ("$.a.b"), or a fixed text.
    struct Property
    {
        enum class Source { TopicCapture, PayloadField, Constant };
        QString name;
        Source source = Source::Constant;
        QString value; // capture name, dotted field path, or the text
    };

    QString hub;
    QUrl sourceUrl;
    QString sourceUsername;
    QString sourcePasswordFile; // absolute
    QString sourcePasswordKeychain; // a name given to onboarder-cli relay source-password (Relay::sourcePasswordEntry)
    QString sourceCaFile; // absolute
    QString sourceClientId;
    QStringList topics;
    QString deviceIdFromTopic; // pattern; segments "{name}" capture, others must match
    QString deviceIdFromPayload; // dotted JSON path
    QList<Property> properties;
    bool autoRegister = false;
    DeviceAuth deviceAuth = DeviceAuth::Sas;
    QString autoRegisterCa; // x509 + autoRegister: the imported CA that signs the certificates the relay makes; empty:
                            // self-signed
    bool hubWebSockets = false; // MQTT over WebSockets to the hub (wss://HOST:443/$iothub/websocket)
    QUrl hubProxy; // http://HOST:PORT, or empty
    int hubKeepAliveSeconds = 120; // MQTT keep-alive of each device session to the hub
    int idleTimeoutSeconds = 300;
    int tokenLifetimeSeconds = 3600;
    QString outboxPath; // absolute
    qint64 outboxMaxMessages = 1000000;
    int metricsIntervalMs = 1000;

    // Parses and checks a configuration; baseDir resolves relative paths. Every error names the key
    // (code "InvalidRelayConfig", kind InvalidInput).
    static Result<RelayConfig> parse(const QByteArray &json, const QString &baseDir);
    static Result<RelayConfig> load(const QString &path);

    bool sourceUsesTls() const { return sourceUrl.scheme() == QStringLiteral("mqtts"); }
    int sourcePort() const { return sourceUrl.port(sourceUsesTls() ? 8883 : 1883); }
    bool hasSourcePassword() const { return !sourcePasswordFile.isEmpty() || !sourcePasswordKeychain.isEmpty(); }
};

} // namespace Onboarder
