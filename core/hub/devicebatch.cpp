#include "devicebatch.h"

#include "hub/hubclient.h"

namespace Onboarder {

DeviceBatch::DeviceBatch(HubClient &client, Operation operation, const QStringList &deviceIds, QObject *parent)
    : QObject(parent)
    , m_client(&client)
    , m_operation(operation)
    , m_ids(deviceIds)
{ }

void DeviceBatch::start()
{
    if (m_started)
        return;
    m_started = true;
    Q_EMIT progress(0, total());
    startNext();
}

void DeviceBatch::cancel()
{
    if (!isRunning() || m_cancelled)
        return;
    m_cancelled = true;
    startNext(); // finishes at once when nothing is in flight
}

QStringList DeviceBatch::untouched() const
{
    return m_ids.mid(m_next);
}

void DeviceBatch::startNext()
{
    while (!m_cancelled && m_inFlight < m_maxInFlight && m_next < m_ids.size())
        run(m_ids.at(m_next++));
    if (m_inFlight == 0 && (m_cancelled || m_next >= m_ids.size()) && !m_finished) {
        m_finished = true;
        Q_EMIT finished();
    }
}

void DeviceBatch::run(const QString &id)
{
    ++m_inFlight;
    if (!m_client) {
        record(id,
            fail(ErrorKind::Cancelled, QStringLiteral("Cancelled"),
                tr("The hub was closed before the change was made.")));
        return;
    }
    if (m_operation == Operation::Delete) {
        m_client->deleteDevice(id).then(this, [this, id](Result<void> deleted) { record(id, deleted); });
        return;
    }
    // Read, change the status, write back under the ETag just read: a concurrent change to the same
    // device is refused (PreconditionFailed) rather than overwritten.
    const QString status = m_operation == Operation::Enable ? QStringLiteral("enabled") : QStringLiteral("disabled");
    m_client->device(id).then(this, [this, id, status](Result<DeviceIdentity> device) {
        if (!device) {
            record(id, std::unexpected(device.error()));
            return;
        }
        if (device->status == status || !m_client) {
            record(id, {});
            return;
        }
        device->status = status;
        m_client->updateDevice(*device).then(this, [this, id](Result<DeviceIdentity> updated) {
            record(id, updated ? Result<void>() : Result<void>(std::unexpected(updated.error())));
        });
    });
}

void DeviceBatch::record(const QString &id, const Result<void> &result)
{
    --m_inFlight;
    if (result)
        m_done.append(id);
    else
        m_failures.append({id, result.error()});
    Q_EMIT progress(finishedCount(), total());
    startNext();
}

QString DeviceBatch::summary() const
{
    // Singular and plural spelled out (no %n): right for English and German, the languages shipped.
    const int done = int(m_done.size());
    QString text;
    switch (m_operation) {
    case Operation::Enable: text = done == 1 ? tr("Enabled 1 device.") : tr("Enabled %1 devices.").arg(done); break;
    case Operation::Disable: text = done == 1 ? tr("Disabled 1 device.") : tr("Disabled %1 devices.").arg(done); break;
    case Operation::Delete: text = done == 1 ? tr("Deleted 1 device.") : tr("Deleted %1 devices.").arg(done); break;
    }
    if (!m_failures.isEmpty()) {
        const int failed = int(m_failures.size());
        QStringList lines{failed == 1 ? tr("1 failed:") : tr("%1 failed:").arg(failed)};
        for (const Failure &failure : m_failures.first(qMin(failed, 5)))
            lines.append(tr("%1: %2").arg(failure.deviceId, failure.error.message));
        if (failed > 5)
            lines.append(tr("… and %1 more.").arg(failed - 5));
        text += u' ' + lines.join(u'\n');
    }
    if (const int left = int(m_ids.size()) - m_next; m_cancelled && left > 0)
        text += u'\n'
            + (left == 1 ? tr("Cancelled: 1 device left unchanged.")
                         : tr("Cancelled: %1 devices left unchanged.").arg(left));
    return text;
}

} // namespace Onboarder
