// onboarder-sandbox: a local IoT Hub for tests, the demo and training (see docs/cli.md, "Sandbox tools").
#include "common/appinfo.h"
#include "common/epolleventdispatcher.h"
#include "common/logging.h"
#include "quitonsignals.h"
#include "sandboxhub.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QJsonDocument>
#include <QStandardPaths>

#include <cstdio>
#include <memory>

using namespace Onboarder;
using namespace Onboarder::Sandbox;

namespace {

quint16 portOption(const QCommandLineParser &parser, const QString &name, bool *ok)
{
    const uint value = parser.value(name).toUInt(ok);
    *ok = *ok && value <= 65535;
    return quint16(value);
}

} // namespace

int main(int argc, char *argv[])
{
    // The sandbox holds two sockets per connected device on its main thread: an epoll event loop, whose
    // passes cost what is ready (Qt's GLib and poll() dispatchers walk every socket on every pass, and GLib's
    // walks them all again for every notifier switched on or off). Any other thread: Qt's poll() dispatcher.
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", "1");
    if (auto dispatcher = std::make_unique<EpollEventDispatcher>(); dispatcher->isValid())
        QCoreApplication::setEventDispatcher(dispatcher.release());
    QCoreApplication app(argc, argv);
    AppInfo::setUp(QStringLiteral("onboarder-sandbox"));
    QCoreApplication::setApplicationName(QStringLiteral("onboarder-sandbox"));
    installRedactingMessageHandler();

    QCommandLineParser parser;
    parser.setApplicationDescription(QCoreApplication::translate("Sandbox",
        "A local Azure IoT Hub: the registry's HTTPS REST API and the devices' MQTT over TLS (a mosquitto "
        "with IoT Hub's authentication, topics, twins, direct methods and cloud-to-device messages), with "
        "its own CA, for tests, the demo and training."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QString defaultData
        = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + QStringLiteral("/onboarder/sandbox");
    parser.addOptions({
        {QStringLiteral("data"),
            QCoreApplication::translate("Sandbox", "Data directory (default %1).").arg(defaultData),
            QStringLiteral("DIR"), defaultData},
        {QStringLiteral("host-name"),
            QCoreApplication::translate("Sandbox", "Host name in connection strings and the server certificate."),
            QStringLiteral("NAME"), QStringLiteral("127.0.0.1")},
        {QStringLiteral("rest-port"),
            QCoreApplication::translate("Sandbox", "HTTPS port of the registry API (0: a free one)."),
            QStringLiteral("N"), QStringLiteral("0")},
        {QStringLiteral("mqtt-port"),
            QCoreApplication::translate("Sandbox", "MQTT over TLS port for devices (0: a free one)."),
            QStringLiteral("N"), QStringLiteral("0")},
        {QStringLiteral("amqp-port"),
            QCoreApplication::translate("Sandbox",
                "AMQPS port for services: cloud-to-device, feedback, the Event Hub-compatible endpoint (0: a free "
                "one)."),
            QStringLiteral("N"), QStringLiteral("0")},
        {QStringLiteral("partitions"),
            QCoreApplication::translate("Sandbox", "Partitions of a new Event Hub-compatible endpoint (1–32)."),
            QStringLiteral("N"), QStringLiteral("4")},
        {QStringLiteral("consumer-group"),
            QCoreApplication::translate("Sandbox", "Create this consumer group besides $Default; repeatable."),
            QStringLiteral("NAME")},
        {QStringLiteral("seed-devices"),
            QCoreApplication::translate("Sandbox", "Register N devices with SAS keys at start."), QStringLiteral("N"),
            QStringLiteral("0")},
        {QStringLiteral("throttle"),
            QCoreApplication::translate("Sandbox", "Answer 429 ThrottlingException above N requests a minute."),
            QStringLiteral("N"), QStringLiteral("0")},
        {QStringLiteral("max-message-bytes"),
            QCoreApplication::translate("Sandbox",
                "Close a device's connection when it sends a message larger than N bytes, as IoT Hub does above "
                "256 KB."),
            QStringLiteral("N"), QStringLiteral("262144")},
        {QStringLiteral("clock-skew"),
            QCoreApplication::translate("Sandbox",
                "Take a device's SAS token up to N seconds past its expiry, as IoT Hub does for 300 (tests shorten "
                "it)."),
            QStringLiteral("N"), QStringLiteral("300")},
        {QStringLiteral("trust-ca"),
            QCoreApplication::translate("Sandbox", "Trust this CA (PEM) for certificateAuthority devices; repeatable."),
            QStringLiteral("FILE")},
        {QStringLiteral("dps"),
            QCoreApplication::translate("Sandbox",
                "Also serve a Device Provisioning Service (enrollments, device registration) on its own address.")},
        {QStringLiteral("dps-address"),
            QCoreApplication::translate("Sandbox", "Loopback address of the DPS (its certificate names it)."),
            QStringLiteral("ADDR"), QStringLiteral("127.0.0.2")},
        {QStringLiteral("dps-rest-port"),
            QCoreApplication::translate(
                "Sandbox", "HTTPS port of the DPS: service API and device registration (0: a free one)."),
            QStringLiteral("N"), QStringLiteral("0")},
        {QStringLiteral("dps-mqtt-port"),
            QCoreApplication::translate(
                "Sandbox", "MQTT over TLS port of the DPS for device registration (0: a free one)."),
            QStringLiteral("N"), QStringLiteral("0")},
        {QStringLiteral("ready-json"),
            QCoreApplication::translate(
                "Sandbox", "Print one JSON line once ready (connection string, CA file, ports).")},
    });
    parser.process(app);

    SandboxHub::Options options;
    options.dataDir = QDir(parser.value(QStringLiteral("data"))).absolutePath();
    options.hostName = parser.value(QStringLiteral("host-name"));
    options.trustedCaFiles = parser.values(QStringLiteral("trust-ca"));
    bool ok = true;
    options.restPort = portOption(parser, QStringLiteral("rest-port"), &ok);
    bool mqttOk = true;
    options.mqttPort = portOption(parser, QStringLiteral("mqtt-port"), &mqttOk);
    bool amqpOk = true;
    options.amqpPort = portOption(parser, QStringLiteral("amqp-port"), &amqpOk);
    options.dps = parser.isSet(QStringLiteral("dps"));
    options.dpsAddress = parser.value(QStringLiteral("dps-address"));
    bool dpsRestOk = true;
    options.dpsRestPort = portOption(parser, QStringLiteral("dps-rest-port"), &dpsRestOk);
    bool dpsMqttOk = true;
    options.dpsMqttPort = portOption(parser, QStringLiteral("dps-mqtt-port"), &dpsMqttOk);
    ok = ok && dpsRestOk && dpsMqttOk;
    bool partitionsOk = true;
    options.eventHubPartitions = parser.value(QStringLiteral("partitions")).toInt(&partitionsOk);
    partitionsOk = partitionsOk && options.eventHubPartitions >= 1 && options.eventHubPartitions <= 32;
    options.consumerGroups = parser.values(QStringLiteral("consumer-group"));
    bool seedOk = true;
    options.seedDevices = parser.value(QStringLiteral("seed-devices")).toInt(&seedOk);
    bool throttleOk = true;
    options.throttlePerMinute = parser.value(QStringLiteral("throttle")).toInt(&throttleOk);
    bool sizeOk = true;
    options.maxMessageBytes = parser.value(QStringLiteral("max-message-bytes")).toInt(&sizeOk);
    bool skewOk = true;
    options.clockSkewSeconds = parser.value(QStringLiteral("clock-skew")).toInt(&skewOk);
    if (!ok || !mqttOk || !amqpOk || !seedOk || !throttleOk || !sizeOk || !skewOk || options.seedDevices < 0
        || options.throttlePerMinute < 0 || options.maxMessageBytes < 1 || options.clockSkewSeconds < 0) {
        std::fprintf(stderr,
            "error: ports are 0–65535; --seed-devices, --throttle and --clock-skew take whole numbers ≥ 0, "
            "--max-message-bytes ≥ 1\n");
        return 1;
    }
    if (!partitionsOk) {
        std::fprintf(stderr, "error: --partitions takes a whole number from 1 to 32\n");
        return 1;
    }

    quitOnSignals(app);
    SandboxHub hub(options);
    QObject::connect(&hub, &SandboxHub::failed, &app, [](const QString &message) {
        std::fprintf(stderr, "error: %s\n", qPrintable(message));
        QCoreApplication::exit(10);
    });
    if (auto started = hub.start(); !started) {
        std::fprintf(stderr, "error: %s\n", qPrintable(started.error().message));
        return 10;
    }

    if (parser.isSet(QStringLiteral("ready-json"))) {
        std::printf("%s\n", QJsonDocument(hub.readyInfo()).toJson(QJsonDocument::Compact).constData());
    } else {
        const QJsonObject info = hub.readyInfo();
        std::printf("Sandbox IoT Hub ready.\n  REST API:  https://%s:%d/\n  MQTT:      mqtts://%s:%d\n  AMQP:      "
                    "amqps://%s:%d\n  CA file:   %s\n  Owner connection string (keep it to yourself):\n    %s\n"
                    "  Event Hub-compatible endpoint (telemetry for Event Hubs clients):\n    %s\n",
            qPrintable(info.value(QStringLiteral("hostName")).toString()),
            info.value(QStringLiteral("restPort")).toInt(),
            qPrintable(info.value(QStringLiteral("hostName")).toString()),
            info.value(QStringLiteral("mqttPort")).toInt(),
            qPrintable(info.value(QStringLiteral("hostName")).toString()),
            info.value(QStringLiteral("amqpPort")).toInt(), qPrintable(info.value(QStringLiteral("caFile")).toString()),
            qPrintable(info.value(QStringLiteral("connectionString")).toString()),
            qPrintable(info.value(QStringLiteral("eventHubConnectionString")).toString()));
        if (const QJsonObject dps = info.value(QStringLiteral("dps")).toObject(); !dps.isEmpty())
            std::printf("Sandbox Device Provisioning Service ready.\n  ID scope:  %s\n  HTTPS:     https://%s:%d/\n  "
                        "MQTT:      mqtts://%s:%d\n"
                        "  Service connection string (keep it to yourself):\n    %s\n",
                qPrintable(dps.value(QStringLiteral("idScope")).toString()),
                qPrintable(dps.value(QStringLiteral("host")).toString()), dps.value(QStringLiteral("restPort")).toInt(),
                qPrintable(dps.value(QStringLiteral("host")).toString()), dps.value(QStringLiteral("mqttPort")).toInt(),
                qPrintable(dps.value(QStringLiteral("connectionString")).toString()));
    }
    std::fflush(stdout);
    return app.exec();
}
