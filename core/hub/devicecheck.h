#pragma once

#include "common/result.h"

#include <QDateTime>
#include <QFuture>
#include <QList>
#include <QString>

namespace Onboarder {

class HubClient;

// Support staff's first question about a device, answered item by item in plain language:
// registered? enabled? connected? last activity? reported properties last updated? answers a ping?
struct DeviceCheckItem
{
    enum class Verdict { Good, Warning, Problem, Skipped };
    enum class Question { Registered, Enabled, Connected, LastActivity, Reported, Ping };

    QString key; // registered | enabled | connected | lastActivity | reported | ping: keyName(question)
    Verdict verdict = Verdict::Good;
    QString sentence;
    Question question = Question::Registered;

    static QString verdictName(Verdict verdict); // good | warning | problem | skipped
    static QString keyName(Question question); // stable, for JSON
};

struct DeviceCheckOptions
{
    bool ping = false; // invoke the direct method "ping"
    int pingTimeoutSeconds = 10;
    QDateTime now = QDateTime::currentDateTimeUtc(); // for "… ago"
};

// Runs the check with the given client; the list always starts with "registered". A device that
// is not registered is the only failure that ends the check early (the list then has one item).
QFuture<Result<QList<DeviceCheckItem>>> checkDevice(
    HubClient &client, const QString &deviceId, const DeviceCheckOptions &options = {});

// "never", "just now", "5 minutes ago", "3 hours ago", "2 days ago" (translated).
QString ago(const QDateTime &time, const QDateTime &now);

} // namespace Onboarder
