#pragma once

#include "common/result.h"

#include <QList>
#include <QObject>
#include <QPointer>
#include <QStringList>

namespace Onboarder {

class HubClient;

// One operation on many devices (the devices page's multi-select): enable, disable or delete, a few
// requests at a time. Cancelling stops starting new ones and lets those in flight finish, so that
// when finished() comes every device is either done, failed with its reason, or untouched, and the
// batch can say exactly which.
class DeviceBatch final : public QObject
{
    Q_OBJECT

public:
    enum class Operation { Enable, Disable, Delete };
    Q_ENUM(Operation)

    struct Failure
    {
        QString deviceId;
        Error error;
    };

    DeviceBatch(HubClient &client, Operation operation, const QStringList &deviceIds, QObject *parent = nullptr);

    void setMaxInFlight(int count) { m_maxInFlight = qMax(1, count); }

    void start();
    void cancel();

    Operation operation() const { return m_operation; }
    int total() const { return int(m_ids.size()); }
    int finishedCount() const { return int(m_done.size() + m_failures.size()); }
    bool isRunning() const { return m_started && !m_finished; }
    bool wasCancelled() const { return m_cancelled; }
    QStringList done() const { return m_done; }
    QList<Failure> failures() const { return m_failures; }
    QStringList untouched() const; // never started because of cancel()

    // "Disabled 12 devices.", "Deleted 3 of 5 devices; 2 failed: …", "Cancelled after 4 of 10: …".
    QString summary() const;

Q_SIGNALS:
    void progress(int finished, int total);
    void finished();

private:
    void startNext();
    void run(const QString &id);
    void record(const QString &id, const Result<void> &result);

    QPointer<HubClient> m_client;
    Operation m_operation;
    QStringList m_ids;
    int m_next = 0;
    int m_inFlight = 0;
    int m_maxInFlight = 4;
    bool m_started = false;
    bool m_cancelled = false;
    bool m_finished = false;
    QStringList m_done;
    QList<Failure> m_failures;
};

} // namespace Onboarder
