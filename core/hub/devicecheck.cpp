#include "devicecheck.h"

#include "hub/hubclient.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QPromise>

#include <memory>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(DeviceCheck)
};

using Verdict = DeviceCheckItem::Verdict;
using Question = DeviceCheckItem::Question;

struct State
{
    QPromise<Result<QList<DeviceCheckItem>>> promise;
    QList<DeviceCheckItem> items;
    QElapsedTimer pingTimer;

    void add(Question question, Verdict verdict, const QString &sentence)
    {
        items.append({DeviceCheckItem::keyName(question), verdict, sentence, question});
    }
    void finish()
    {
        promise.addResult(items);
        promise.finish();
    }
};

} // namespace

QString DeviceCheckItem::verdictName(Verdict verdict)
{
    switch (verdict) {
    case Verdict::Good: return QStringLiteral("good");
    case Verdict::Warning: return QStringLiteral("warning");
    case Verdict::Problem: return QStringLiteral("problem");
    case Verdict::Skipped: return QStringLiteral("skipped");
    }
    return {};
}

QString DeviceCheckItem::keyName(Question question)
{
    switch (question) {
    case Question::Registered: return QStringLiteral("registered");
    case Question::Enabled: return QStringLiteral("enabled");
    case Question::Connected: return QStringLiteral("connected");
    case Question::LastActivity: return QStringLiteral("lastActivity");
    case Question::Reported: return QStringLiteral("reported");
    case Question::Ping: return QStringLiteral("ping");
    }
    return {};
}

QString ago(const QDateTime &time, const QDateTime &now)
{
    if (!time.isValid())
        return Text::tr("never");
    const qint64 seconds = time.secsTo(now);
    if (seconds < 60)
        return Text::tr("just now");
    // Singular and plural spelled out: right for English and German, the languages shipped.
    if (seconds < 3600) {
        const int n = int(seconds / 60);
        return n == 1 ? Text::tr("a minute ago") : Text::tr("%1 minutes ago").arg(n);
    }
    if (seconds < 86400) {
        const int n = int(seconds / 3600);
        return n == 1 ? Text::tr("an hour ago") : Text::tr("%1 hours ago").arg(n);
    }
    const int n = int(seconds / 86400);
    return n == 1 ? Text::tr("a day ago") : Text::tr("%1 days ago").arg(n);
}

QFuture<Result<QList<DeviceCheckItem>>> checkDevice(
    HubClient &client, const QString &deviceId, const DeviceCheckOptions &options)
{
    auto state = std::make_shared<State>();
    state->promise.start();
    auto future = state->promise.future();

    client.device(deviceId).then(&client, [&client, state, deviceId, options](Result<DeviceIdentity> device) {
        if (!device) {
            if (device.error().kind != ErrorKind::NotFound) {
                state->promise.addResult(std::unexpected(device.error()));
                state->promise.finish();
                return;
            }
            state->add(Question::Registered, Verdict::Problem,
                Text::tr("Not registered: the hub has no device \"%1\".").arg(deviceId));
            return state->finish();
        }
        state->add(
            Question::Registered, Verdict::Good, Text::tr("Registered (%1 authentication).").arg(device->authType));
        const bool enabled = device->status == QStringLiteral("enabled");
        state->add(Question::Enabled, enabled ? Verdict::Good : Verdict::Problem,
            enabled ? Text::tr("Enabled.")
                    : Text::tr("Disabled: the hub refuses its connections%1.")
                          .arg(device->statusReason.isEmpty() ? QString()
                                                              : QStringLiteral(" (%1)").arg(device->statusReason)));
        const bool connected = device->connectionState == QStringLiteral("Connected");
        state->add(Question::Connected, connected ? Verdict::Good : Verdict::Warning,
            connected ? Text::tr("Connected since %1.").arg(ago(device->connectionStateUpdated, options.now))
                : device->connectionStateUpdated.isValid()
                ? Text::tr("Not connected since %1.").arg(ago(device->connectionStateUpdated, options.now))
                : Text::tr("Not connected, and never has been."));
        state->add(Question::LastActivity, device->lastActivity.isValid() ? Verdict::Good : Verdict::Warning,
            device->lastActivity.isValid() ? Text::tr("Last activity %1.").arg(ago(device->lastActivity, options.now))
                                           : Text::tr("No activity ever: it has never connected."));

        client.twin(deviceId).then(&client, [&client, state, deviceId, options, connected](Result<DeviceTwin> twin) {
            if (!twin) {
                state->add(Question::Reported, Verdict::Warning,
                    Text::tr("The twin could not be read: %1").arg(twin.error().message));
            } else {
                const bool any = twin->reportedVersion > 1;
                state->add(Question::Reported, any ? Verdict::Good : Verdict::Warning,
                    any ? Text::tr("Reported properties last updated %1.").arg(ago(twin->reportedUpdated, options.now))
                        : Text::tr("The device has never reported properties."));
            }
            if (!options.ping) {
                state->add(Question::Ping, Verdict::Skipped, Text::tr("Not asked to answer a ping."));
                return state->finish();
            }
            if (!connected) {
                state->add(Question::Ping, Verdict::Skipped, Text::tr("Not pinged: it is not connected."));
                return state->finish();
            }
            state->pingTimer.start();
            client.invokeMethod(deviceId, QStringLiteral("ping"), QJsonValue(), options.pingTimeoutSeconds)
                .then(&client, [state, options](Result<MethodResult> answer) {
                    if (answer)
                        state->add(Question::Ping,
                            answer->status >= 200 && answer->status < 300 ? Verdict::Good : Verdict::Warning,
                            Text::tr("Answered the ping with status %1 in %2 ms.")
                                .arg(answer->status)
                                .arg(state->pingTimer.elapsed()));
                    else if (answer.error().code == QStringLiteral("GatewayTimeout"))
                        state->add(Question::Ping, Verdict::Problem,
                            Text::tr("Did not answer the ping within %1 seconds.").arg(options.pingTimeoutSeconds));
                    else
                        state->add(Question::Ping, Verdict::Problem,
                            Text::tr("The ping failed: %1").arg(answer.error().message));
                    state->finish();
                });
        });
    });
    return future;
}

} // namespace Onboarder
