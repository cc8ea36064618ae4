// onboarder-sensor-sim: a few simulated sensors publishing JSON telemetry to a local MQTT broker, the relay's
// source. With --start-broker it brings its own mosquitto (loopback, a free port) and says where in its ready
// line; the demo runs it that way.
#include "quitonsignals.h"
#include "sensorbroker.h"
#include "sensorfleet.h"
#include "simulatortool.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonObject>

#include <cstdio>
#include <limits>
#include <optional>

using namespace Onboarder;
using namespace Onboarder::Sandbox;

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(SensorSimulator)
};

} // namespace

int main(int argc, char *argv[])
{
    endWithParent();
    QCoreApplication app(argc, argv);
    setUpSimulator(QStringLiteral("onboarder-sensor-sim"));

    QCommandLineParser parser;
    parser.setApplicationDescription(Text::tr(
        "Simulated sensors that publish JSON telemetry (QoS 1) to a local MQTT broker, for the relay: one reading per "
        "sensor and interval on sensors/<id>/telemetry. Either give the broker (--port) or let it start its own "
        "mosquitto on a free loopback port (--start-broker)."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({
        {QStringLiteral("start-broker"),
            Text::tr("Start a mosquitto of its own on a free port of 127.0.0.1 (anonymous, "
                     "reachable from this machine only); it ends with the simulator.")},
        {QStringLiteral("host"), Text::tr("The broker's host (default 127.0.0.1)."), QStringLiteral("HOST"),
            QStringLiteral("127.0.0.1")},
        {QStringLiteral("port"), Text::tr("The broker's port (plain MQTT, anonymous)."), QStringLiteral("N")},
        {QStringLiteral("sensors"), Text::tr("How many sensors (default 4)."), QStringLiteral("N"),
            QStringLiteral("4")},
        {QStringLiteral("interval-ms"), Text::tr("Each sensor publishes every N ms (default 1000)."),
            QStringLiteral("N"), QStringLiteral("1000")},
        {QStringLiteral("prefix"), Text::tr("Sensor ids are PREFIX1, PREFIX2, … (default demo-sensor-)."),
            QStringLiteral("PREFIX"), QStringLiteral("demo-sensor-")},
        {QStringLiteral("topic"),
            Text::tr("The topic, {deviceId} replaced by the sensor's id (default sensors/{deviceId}/telemetry)."),
            QStringLiteral("TOPIC"), QStringLiteral("sensors/{deviceId}/telemetry")},
        {QStringLiteral("rounds"),
            Text::tr("End after N rounds, once the broker has acknowledged them (default 0: run until "
                     "SIGINT or SIGTERM)."),
            QStringLiteral("N"), QStringLiteral("0")},
        {QStringLiteral("ready-json"),
            Text::tr("Print one JSON line once ready: host, port, topics, sensor ids, pid.")},
        {QStringLiteral("verbose"), Text::tr("Print every reading on standard output.")},
    });
    parser.process(app);

    if (parser.isSet(QStringLiteral("start-broker")) == parser.isSet(QStringLiteral("port")))
        usageError(Text::tr("Give either --port N (an existing broker) or --start-broker."));
    SensorFleet::Options options;
    options.host = parser.value(QStringLiteral("host"));
    options.sensors = int(wholeNumberOption(parser, QStringLiteral("sensors"), 1, 10000));
    options.intervalMs = int(wholeNumberOption(parser, QStringLiteral("interval-ms"), 10, 3600000));
    options.prefix = parser.value(QStringLiteral("prefix"));
    options.topic = parser.value(QStringLiteral("topic"));
    options.rounds = wholeNumberOption(parser, QStringLiteral("rounds"), 0, std::numeric_limits<qint64>::max());
    if (options.prefix.isEmpty() || options.prefix.contains(u'/') || options.prefix.contains(u'+')
        || options.prefix.contains(u'#'))
        usageError(Text::tr("--prefix must not be empty nor hold '/', '+' or '#'."));
    if (!options.topic.contains(QStringLiteral("{deviceId}")))
        usageError(Text::tr("--topic must hold {deviceId}."));

    quitOnSignals(app);
    std::optional<SensorBroker> broker;
    if (parser.isSet(QStringLiteral("start-broker"))) {
        broker.emplace();
        options.host = QStringLiteral("127.0.0.1");
        if (const auto started = broker->start(); !started) {
            std::fprintf(stderr, "error: %s\n", qPrintable(started.error().message));
            return 6;
        }
        options.port = broker->port();
    } else {
        options.port = int(wholeNumberOption(parser, QStringLiteral("port"), 1, 65535));
    }

    SensorFleet fleet(options);
    if (parser.isSet(QStringLiteral("verbose"))) {
        QObject::connect(
            &fleet, &SensorFleet::publishedReading, &app, [](const QString &topic, const QByteArray &payload) {
                std::printf("%s %s\n", qPrintable(topic), payload.constData());
                std::fflush(stdout);
            });
    }
    QObject::connect(&fleet, &SensorFleet::finished, &app, &QCoreApplication::quit, Qt::QueuedConnection);

    QString filter = options.topic;
    filter.replace(QStringLiteral("{deviceId}"), QStringLiteral("+"));
    if (parser.isSet(QStringLiteral("ready-json"))) {
        const QJsonObject ready{{QStringLiteral("host"), options.host}, {QStringLiteral("port"), options.port},
            {QStringLiteral("topics"), QJsonArray{filter}}, {QStringLiteral("deviceIdFromTopic"), options.topic},
            {QStringLiteral("sensors"), QJsonArray::fromStringList(fleet.deviceIds())},
            {QStringLiteral("intervalMs"), options.intervalMs},
            {QStringLiteral("pid"), qint64(QCoreApplication::applicationPid())}};
        printReadyJson(ready);
    } else {
        std::printf("%s\n",
            qPrintable(Text::tr("%1 sensors publish to mqtt://%2:%3 on %4 every %5 ms.")
                           .arg(options.sensors)
                           .arg(options.host)
                           .arg(options.port)
                           .arg(filter)
                           .arg(options.intervalMs)));
        std::fflush(stdout);
    }
    fleet.start();
    const int code = app.exec();
    if (fleet.skipped() > 0)
        std::fprintf(stderr, "%s\n",
            qPrintable(Text::tr("%1 readings published, %2 skipped while the broker was away.")
                           .arg(fleet.published())
                           .arg(fleet.skipped())));
    return code;
}
