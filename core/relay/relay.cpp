#include "relay/relay.h"

#include "common/logging.h"
#include "common/promise.h"
#include "credentials/secretstore.h"
#include "mqtt/mqttclient.h"
#include "relay/devicelink.h"
#include "relay/outbox.h"
#include "relay/relaycredentials.h"

#include <QDateTime>
#include <QFile>

#include <algorithm>

namespace Onboarder {

namespace {

constexpr int writeBatchMs = 5; // outbox transaction every …
constexpr int writeBatchSize = 500; // … or at this many messages
constexpr int removeBatchMs = 20;
constexpr qint64 earlyGraceMs = 25; // a message sent early is stored when the hub takes longer than this
constexpr int previewBytes = 64;
constexpr int refusalStrikes = 3; // closes in a row, the message alone in flight, before it counts as refused

QString stateName(DeviceLink::State state)
{
    switch (state) {
    case DeviceLink::State::Resolving: return QStringLiteral("resolving");
    case DeviceLink::State::Connecting: return QStringLiteral("connecting");
    case DeviceLink::State::Connected: return QStringLiteral("connected");
    case DeviceLink::State::Waiting: return QStringLiteral("waiting");
    }
    return {};
}

double percentile(QList<qint64> &sorted, double p)
{
    if (sorted.isEmpty())
        return 0;
    const qsizetype index = std::min<qsizetype>(sorted.size() - 1, qsizetype(p * double(sorted.size())));
    return double(sorted.at(index));
}

} // namespace

Relay::Relay(const RelayConfig &config, const HubProfile &profile, const ConnectionString &service,
    CredentialStore *store, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_profile(profile)
    , m_mapper(config)
    , m_credentials(std::make_unique<RelayCredentials>(config, profile, service, store))
{
    m_writeTimer.setSingleShot(true);
    connect(&m_writeTimer, &QTimer::timeout, this, &Relay::flushWrites);
    m_removeTimer.setSingleShot(true);
    connect(&m_removeTimer, &QTimer::timeout, this, &Relay::flushRemovals);
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &Relay::flushWrites);
    connect(&m_housekeeping, &QTimer::timeout, this, &Relay::housekeeping);
    connect(&m_metricsTimer, &QTimer::timeout, this, &Relay::publishMetrics);
    connect(&m_stopTimer, &QTimer::timeout, this, [this] {
        bool inFlight = false;
        for (const auto &[id, link] : m_links)
            inFlight |= link->inFlight() > 0;
        if (!inFlight || m_stopClock.elapsed() >= m_drainMs)
            finishStop();
    });
}

Relay::~Relay()
{
    m_links.clear();
}

QFuture<Result<SecretBytes>> Relay::sourcePassword(const RelayConfig &config, SecretStore &secrets)
{
    if (!config.sourcePasswordKeychain.isEmpty())
        return secrets.load(sourcePasswordEntry(config.sourcePasswordKeychain));
    auto promise = startedPromise<SecretBytes>();
    if (config.sourcePasswordFile.isEmpty()) {
        deliver<SecretBytes>(promise, SecretBytes());
        return promise->future();
    }
    QFile file(config.sourcePasswordFile);
    if (!file.open(QIODevice::ReadOnly)) {
        deliver<SecretBytes>(promise,
            fail(ErrorKind::NotFound, QStringLiteral("PasswordFileUnreadable"),
                tr("Cannot read the local broker's password file %1: %2.")
                    .arg(config.sourcePasswordFile, file.errorString())));
        return promise->future();
    }
    if (file.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther))
        qCWarning(lcRelay) << "the password file" << config.sourcePasswordFile << "can be read by others; chmod 600 it";
    QByteArray password = file.readAll();
    while (password.endsWith('\n') || password.endsWith('\r'))
        password.chop(1);
    deliver<SecretBytes>(promise, SecretBytes::fromQByteArray(std::move(password)));
    return promise->future();
}

QString Relay::sourcePasswordEntry(const QString &name)
{
    return QStringLiteral("relay/source/") + name;
}

Result<void> Relay::start(const SecretBytes &sourcePassword)
{
    if (m_running)
        return {};
    auto outbox = Outbox::open(m_config.outboxPath, m_config.outboxMaxMessages);
    if (!outbox)
        return std::unexpected(outbox.error());
    m_outbox = std::move(*outbox);
    const auto waiting = m_outbox->devices();
    if (!waiting)
        return std::unexpected(waiting.error());
    m_waiting = *waiting;
    if (const auto letters = m_outbox->deadLetterCount())
        m_deadLetters = *letters;

    m_source = std::make_unique<MqttClient>();
    m_source->setHostname(m_config.sourceUrl.host());
    m_source->setPort(m_config.sourcePort());
    m_source->setTlsEnabled(m_config.sourceUsesTls());
    m_source->setCaFile(m_config.sourceCaFile);
    m_source->setClientId(m_config.sourceClientId);
    m_source->setUsername(m_config.sourceUsername);
    m_source->setPassword(sourcePassword.copy());
    m_source->setCleanSession(false);
    m_source->setManualAcknowledgement(true);
    m_source->setAutoReconnect(true);
    m_source->setPeerName(tr("the local broker %1:%2").arg(m_config.sourceUrl.host()).arg(m_config.sourcePort()));
    connect(m_source.get(), &MqttClient::messageReceived, this, &Relay::onMessage);
    connect(m_source.get(), &MqttClient::errorOccurred, this, &Relay::errorOccurred);
    connect(m_source.get(), &MqttClient::connected, this, [this](bool sessionPresent) {
        qCInfo(lcRelay) << "connected to the local broker; session present:" << sessionPresent;
        m_subscriptions = 0;
    });
    connect(m_source.get(), &MqttClient::subscribed, this, [this] { ++m_subscriptions; });

    m_running = true;
    m_stopping = false;
    m_clock.start();
    m_interval.start();
    m_housekeeping.start(1000);
    m_metricsTimer.start(m_config.metricsIntervalMs);
    if (m_outbox->depth() > 0)
        qCInfo(lcRelay) << "the outbox holds" << m_outbox->depth() << "messages of" << m_waiting.size() << "devices";
    for (auto it = m_waiting.cbegin(); it != m_waiting.cend(); ++it) {
        deviceStats(it.key()).waiting = it.value();
        pump(it.key());
    }
    m_source->connectToHost();
    for (const QString &topic : std::as_const(m_config.topics)) // sent on every connection
        if (auto subscribed = m_source->subscribe(topic, 1); !subscribed)
            qCWarning(lcRelay).noquote() << subscribed.error().message;
    return {};
}

RelayMetrics::Device &Relay::deviceStats(const QString &deviceId)
{
    m_changed.insert(deviceId);
    auto it = m_devices.find(deviceId);
    if (it == m_devices.end()) {
        it = m_devices.insert(deviceId, {});
        it->id = deviceId;
        it->state = QStringLiteral("idle");
    }
    return *it;
}

void Relay::onMessage(const MqttMessage &message)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    ++m_in;
    if (message.retain) {
        ++m_retainedSkipped;
        m_source->acknowledge(message);
        return;
    }
    auto mapped = m_mapper.map(message, now);
    if (!mapped) {
        ++m_unroutable;
        setAside(message, {}, now, mapped.error());
        return;
    }
    if (const qsizetype size = mapped->hubSize(); size > maxHubMessageBytes) {
        setAside(message, mapped->deviceId, now,
            Error{ErrorKind::InvalidInput, QStringLiteral("TooLarge"),
                tr("A message of %1 bytes for %2 is larger than the %3 bytes IoT Hub takes in one message.")
                    .arg(size)
                    .arg(mapped->deviceId)
                    .arg(maxHubMessageBytes)});
        return;
    }
    RelayMetrics::Device &stats = deviceStats(mapped->deviceId);
    stats.lastMessageMs = now;
    stats.lastPayload = message.payload.left(previewBytes);
    ++stats.in;
    Taken taken{message, std::move(*mapped), m_nextSeq++, m_clock.elapsed()};
    qint64 &waiting = m_waiting[taken.message.deviceId];
    // Everything earlier of this device is in flight on its open session: this one may go now, before it
    // is stored (see the class comment).
    if (const auto found = m_links.find(taken.message.deviceId); found != m_links.end()
        && waiting <= found->second->inFlight() && found->second->canSend() && !found->second->isProbing()) {
        RelayMessage early = taken.message;
        early.id = -taken.seq;
        taken.sentEarly = found->second->send(early).has_value();
    }
    stats.waiting = ++waiting;
    m_taken.append(std::move(taken));
    if (m_taken.size() >= writeBatchSize)
        flushWrites();
    else if (!m_writeTimer.isActive() && !m_retryTimer.isActive())
        m_writeTimer.start(writeBatchMs);
}

// A message the hub can never take goes to the outbox's dead letters, durably, and only then is acknowledged to
// the local broker; its device's later messages go on. Should the outbox fail, it is not acknowledged: the
// broker keeps it (held) and the error is reported.
void Relay::setAside(const MqttMessage &message, const QString &deviceId, qint64 receivedMs, const Error &why)
{
    DeadLetter letter{0, deviceId, message.topic, message.payload, receivedMs, why.code, why.message};
    if (const auto stored = m_outbox->deadLetter(letter); !stored) {
        Q_EMIT errorOccurred(stored.error());
        return;
    }
    ++m_deadLettered;
    ++m_deadLetters;
    qCWarning(lcRelay).noquote() << why.message << "- set aside as dead letter" << letter.id;
    m_source->acknowledge(message);
}

void Relay::flushWrites()
{
    m_writeTimer.stop();
    if (m_taken.isEmpty() && !m_outboxError.isEmpty()) {
        qCInfo(lcRelay) << "nothing is held for the outbox any more; it failed with:" << m_outboxError;
        m_outboxError.clear(); // what it could not store reached the hub meanwhile
    }
    if (m_taken.isEmpty() || !m_outbox)
        return;
    // The longest head of m_taken whose messages not yet delivered fit in the outbox, up to the first one
    // sent early whose grace has not run out.
    const qint64 now = m_clock.elapsed();
    const qint64 room = std::max<qint64>(0, m_outbox->maxMessages() - m_outbox->depth());
    qsizetype count = 0;
    qint64 needed = 0;
    qint64 graceLeft = -1;
    for (; count < m_taken.size(); ++count) {
        const Taken &taken = m_taken.at(count);
        if (taken.delivered)
            continue;
        if (taken.sentEarly && !m_stopping && now - taken.takenMs < earlyGraceMs) {
            graceLeft = earlyGraceMs - (now - taken.takenMs);
            break;
        }
        if (needed == room)
            break;
        ++needed;
    }
    const bool full = count < m_taken.size() && graceLeft < 0;
    if (graceLeft >= 0)
        m_writeTimer.start(std::max<qint64>(1, graceLeft));
    if (full && !m_outboxFull) {
        m_outboxFull = true;
        qCWarning(lcRelay) << "the outbox is full (" << m_outbox->maxMessages()
                           << "messages): new messages stay unacknowledged with the local broker";
        Q_EMIT errorOccurred({ErrorKind::Conflict, QStringLiteral("OutboxFull"),
            tr("The outbox is full (%1 messages): new messages stay with the local broker until the hub "
               "takes some.")
                .arg(m_outbox->maxMessages())});
    }
    if (count == 0)
        return; // retried when messages leave the outbox
    QList<RelayMessage> batch;
    batch.reserve(needed);
    for (qsizetype i = 0; i < count; ++i) {
        if (!m_taken.at(i).delivered)
            batch.append(m_taken.at(i).message);
    }
    if (!batch.isEmpty()) {
        if (const auto stored = m_outbox->append(batch); !stored) {
            // Said once; the messages stay unacknowledged with the local broker, which sends no more than its
            // in-flight limit, and the write is tried again every second.
            if (m_outboxError.isEmpty())
                Q_EMIT errorOccurred(stored.error());
            m_outboxError = stored.error().message;
            m_writeTimer.stop();
            m_retryTimer.start(1000);
            return;
        }
        m_stored += batch.size();
    }
    // Stored, or nothing needed storing any more (the hub took it meanwhile): nothing is held for the outbox's sake.
    if (!m_outboxError.isEmpty()) {
        qCInfo(lcRelay) << "the outbox stores again after:" << m_outboxError;
        m_outboxError.clear();
    }
    if (!full)
        m_outboxFull = false;
    QSet<QString> behind;
    qsizetype next = 0;
    for (qsizetype i = 0; i < count; ++i) {
        const Taken &taken = m_taken.at(i);
        m_source->acknowledge(taken.source); // false for an earlier connection: the broker resends it
        if (taken.delivered)
            continue;
        const RelayMessage &message = batch.at(next++);
        if (taken.sentEarly) {
            // In flight on its session: its PUBACK removes it from the outbox; what follows it is read after it.
            m_storedEarly.insert(taken.seq, {message.deviceId, message.id});
            qint64 &cursor = m_cursor[message.deviceId];
            cursor = std::max(cursor, message.id);
        } else {
            behind.insert(message.deviceId); // pump() sends it from the outbox, in order
        }
    }
    m_taken.remove(0, count);
    for (const QString &device : std::as_const(behind))
        pump(device);
}

void Relay::acknowledgeDeliveredHead()
{
    // In the order the local broker sent them: up to the first message that is neither delivered nor stored.
    while (!m_taken.isEmpty() && m_taken.constFirst().delivered) {
        m_source->acknowledge(m_taken.constFirst().source);
        m_taken.removeFirst();
    }
    if (m_taken.isEmpty())
        m_writeTimer.stop();
}

DeviceLink &Relay::link(const QString &deviceId)
{
    auto it = m_links.find(deviceId);
    if (it != m_links.end())
        return *it->second;
    // The relay's own "hubConnection" wins; else the hub profile's network settings.
    const DeviceLink::Options options{m_config.tokenLifetimeSeconds, m_config.hubWebSockets || m_profile.webSockets,
        m_config.hubProxy.isEmpty() ? m_profile.proxy : m_config.hubProxy, m_config.hubKeepAliveSeconds};
    auto created = std::make_unique<DeviceLink>(deviceId, m_profile, options, *m_credentials);
    DeviceLink &link = *created;
    connect(&link, &DeviceLink::readyToSend, this, &Relay::pump);
    connect(&link, &DeviceLink::delivered, this, &Relay::onDelivered);
    connect(&link, &DeviceLink::interrupted, this, &Relay::onInterrupted);
    connect(&link, &DeviceLink::stateChanged, this, [this](const QString &id, DeviceLink::State state) {
        RelayMetrics::Device &stats = deviceStats(id);
        stats.state = stateName(state);
        if (const auto found = m_links.find(id); found != m_links.end())
            stats.lastError = found->second->lastError();
    });
    m_links.emplace(deviceId, std::move(created));
    m_cursor.insert(deviceId, 0);
    deviceStats(deviceId).state = stateName(link.state());
    link.start();
    return link;
}

void Relay::pump(const QString &deviceId)
{
    if (!m_outbox || m_waiting.value(deviceId) == 0)
        return;
    DeviceLink &l = link(deviceId);
    // Refill when half the window is free (one outbox read per half window), and only when the outbox
    // holds more of this device's messages than are in flight.
    if (!l.canSend() || l.inFlight() > DeviceLink::window / 2 || m_waiting.value(deviceId) <= l.inFlight())
        return;
    const auto batch = m_outbox->peek(deviceId, m_cursor.value(deviceId), DeviceLink::window - l.inFlight());
    if (!batch) {
        Q_EMIT errorOccurred(batch.error());
        return;
    }
    for (const RelayMessage &message : *batch) {
        if (!l.send(message))
            break;
        m_cursor[deviceId] = message.id;
    }
}

void Relay::onDelivered(const QString &deviceId, qint64 messageId, qint64 receivedMs)
{
    ++m_out;
    m_latencies.append(std::max<qint64>(0, QDateTime::currentMSecsSinceEpoch() - receivedMs));
    if (messageId > 0) {
        m_removals.append(messageId);
    } else if (const auto stored = m_storedEarly.constFind(-messageId); stored != m_storedEarly.cend()) {
        m_removals.append(stored->outboxId); // sent early, stored while in flight
        m_storedEarly.erase(stored);
    } else if (!m_taken.isEmpty()) {
        // Sent early and not stored yet: it never needs to be.
        const qint64 seq = -messageId;
        const qint64 index = seq - m_taken.constFirst().seq;
        if (index >= 0 && index < m_taken.size() && m_taken.at(index).seq == seq) {
            m_taken[index].delivered = true;
            m_taken[index].sentEarly = false;
            acknowledgeDeliveredHead();
        }
    }
    qint64 &waiting = m_waiting[deviceId];
    waiting = std::max<qint64>(0, waiting - 1);
    RelayMetrics::Device &stats = deviceStats(deviceId);
    ++stats.out;
    stats.waiting = waiting;
    endProbe(deviceId, messageId);
    if (m_removals.size() >= writeBatchSize)
        flushRemovals();
    else if (!m_removeTimer.isActive())
        m_removeTimer.start(removeBatchMs);
    pump(deviceId);
}

void Relay::onInterrupted(const QString &deviceId, const DeviceLink::Interruption &interruption)
{
    // What was in flight is sent again, in order, from the outbox once the session is back; what was sent
    // early and is not stored yet is stored and sent from there.
    flushRemovals();
    m_cursor[deviceId] = 0;
    for (Taken &taken : m_taken) {
        if (taken.sentEarly && taken.message.deviceId == deviceId)
            taken.sentEarly = false;
    }
    for (auto it = m_storedEarly.begin(); it != m_storedEarly.end();)
        it = it->deviceId == deviceId ? m_storedEarly.erase(it) : std::next(it);

    // Did the hub refuse a message? (See the class comment.)
    const auto found = m_links.find(deviceId);
    if (found == m_links.end())
        return;
    DeviceLink &l = *found->second;
    auto probe = m_probes.find(deviceId);
    if (interruption.closedWhileSending) {
        if (probe == m_probes.end()) {
            qCInfo(lcRelay).noquote() << "the hub closed the session of" << deviceId << "with" << interruption.inFlight
                                      << "messages in flight: sending them one at a time";
            probe = m_probes.insert(deviceId, {});
            l.setProbing(true);
        } else if (interruption.inFlight == 1 && interruption.oldestMessageId > 0) {
            if (probe->heldAside != 0) {
                // The message after the held one is refused too: the hub refuses the device, not one message.
                const Error why{ErrorKind::Network, QStringLiteral("RefusedByHub"),
                    tr("The hub closes the session of %1 whenever it sends a message (%2 in a row); its messages stay "
                       "in the outbox.")
                        .arg(deviceId)
                        .arg(refusalStrikes + 1)};
                qCWarning(lcRelay).noquote() << why.message;
                *probe = {};
                l.holdOff(why);
            } else {
                if (probe->suspect == interruption.oldestMessageId) {
                    ++probe->strikes;
                } else {
                    probe->suspect = interruption.oldestMessageId;
                    probe->strikes = 1;
                }
                if (probe->strikes >= refusalStrikes) {
                    probe->heldAside = probe->suspect;
                    qCWarning(lcRelay).noquote() << "the hub closed the session of" << deviceId << probe->strikes
                                                 << "times in a row with its message" << probe->suspect
                                                 << "alone in flight: trying the next message before setting it aside";
                }
            }
        }
    }
    if (probe != m_probes.end() && probe->heldAside != 0)
        m_cursor[deviceId] = probe->heldAside; // sent from the next one on
}

// The hub took a message of a device whose messages go one at a time: a message held aside before it is one the hub
// refuses (a dead letter now), and the device goes on at full speed.
void Relay::endProbe(const QString &deviceId, qint64 deliveredId)
{
    const auto probe = m_probes.find(deviceId);
    if (probe == m_probes.end())
        return;
    const qint64 heldAside = probe->heldAside;
    const int strikes = probe->strikes;
    m_probes.erase(probe);
    if (heldAside != 0 && heldAside != deliveredId) {
        const auto letter = m_outbox->setAsideStored(heldAside, QStringLiteral("RefusedByHub"),
            tr("The hub closed the session of %1 each of the %2 times this message was sent, and took the next one.")
                .arg(deviceId)
                .arg(strikes));
        if (!letter) {
            // Kept in the outbox and sent again; the error is said.
            Q_EMIT errorOccurred(letter.error());
        } else {
            ++m_deadLettered;
            ++m_deadLetters;
            qint64 &waiting = m_waiting[deviceId];
            waiting = std::max<qint64>(0, waiting - 1);
            deviceStats(deviceId).waiting = waiting;
            qCWarning(lcRelay).noquote() << letter->reason << "- set aside as dead letter" << letter->id;
        }
        m_cursor[deviceId] = std::max(m_cursor.value(deviceId), heldAside);
    }
    if (const auto found = m_links.find(deviceId); found != m_links.end())
        found->second->setProbing(false);
}

void Relay::flushRemovals()
{
    m_removeTimer.stop();
    if (m_removals.isEmpty() || !m_outbox)
        return;
    if (const auto removed = m_outbox->remove(m_removals); !removed) {
        Q_EMIT errorOccurred(removed.error()); // kept: removed next time (or sent again after a restart)
        m_removeTimer.start(1000);
        return;
    }
    m_removals.clear();
    if (!m_taken.isEmpty() && !m_stopping)
        flushWrites(); // room again for what was held
}

void Relay::housekeeping()
{
    const qint64 idleMs = qint64(m_config.idleTimeoutSeconds) * 1000;
    for (auto it = m_links.begin(); it != m_links.end();) {
        DeviceLink &l = *it->second;
        if (l.inFlight() == 0 && m_waiting.value(it->first) == 0 && l.idleMs() >= idleMs) {
            qCInfo(lcRelay) << "closing the idle session of" << it->first;
            l.close();
            deviceStats(it->first).state = QStringLiteral("idle");
            m_cursor.remove(it->first);
            m_probes.remove(it->first);
            it->second.release()->deleteLater();
            it = m_links.erase(it);
        } else {
            ++it;
        }
    }
    // `relay dead-letters --purge` may have emptied the table meanwhile.
    if (const auto letters = m_outbox ? m_outbox->deadLetterCount() : Result<qint64>(0))
        m_deadLetters = *letters;
}

RelayMetrics Relay::metrics() const
{
    return m_lastMetrics;
}

void Relay::publishMetrics()
{
    const double seconds = std::max<qint64>(1, m_interval.restart()) / 1000.0;
    RelayMetrics metrics;
    metrics.timeMs = QDateTime::currentMSecsSinceEpoch();
    metrics.inPerSecond = double(m_in - m_lastIn) / seconds;
    metrics.outPerSecond = double(m_out - m_lastOut) / seconds;
    m_lastIn = m_in;
    m_lastOut = m_out;
    metrics.inTotal = m_in;
    metrics.outTotal = m_out;
    metrics.unroutable = m_unroutable;
    metrics.deadLettered = m_deadLettered;
    metrics.deadLetters = m_deadLetters;
    metrics.retainedSkipped = m_retainedSkipped;
    std::sort(m_latencies.begin(), m_latencies.end());
    metrics.latencyP50Ms = percentile(m_latencies, 0.50);
    metrics.latencyP99Ms = percentile(m_latencies, 0.99);
    m_latencies.clear();
    metrics.storedTotal = m_stored;
    metrics.outboxDepth = m_outbox ? m_outbox->depth() : 0;
    metrics.outboxLimit = m_config.outboxMaxMessages;
    metrics.outboxFull = m_outboxFull;
    metrics.held = m_outboxFull || !m_outboxError.isEmpty() ? m_taken.size() : 0;
    metrics.outboxError = m_outboxError;
    metrics.sessions = int(m_links.size());
    if (!m_source)
        metrics.sourceState = QStringLiteral("disconnected");
    else if (m_source->state() == MqttClient::State::Connected)
        metrics.sourceState
            = m_subscriptions >= m_config.topics.size() ? QStringLiteral("subscribed") : QStringLiteral("connected");
    else
        metrics.sourceState = m_source->state() == MqttClient::State::Connecting ? QStringLiteral("connecting")
                                                                                 : QStringLiteral("disconnected");
    for (const QString &id : std::as_const(m_changed))
        metrics.devices.append(m_devices.value(id));
    std::sort(metrics.devices.begin(), metrics.devices.end(), [](const auto &a, const auto &b) { return a.id < b.id; });
    m_changed.clear();
    m_lastMetrics = metrics;
    Q_EMIT metricsUpdated(metrics);
}

void Relay::stop(int drainMs)
{
    if (!m_running || m_stopping)
        return;
    m_stopping = true;
    flushWrites(); // what was taken is stored and acknowledged before we leave
    m_source->disconnectFromHost();
    m_drainMs = drainMs;
    m_stopClock.start();
    m_stopTimer.start(50);
}

void Relay::finishStop()
{
    m_stopTimer.stop();
    flushRemovals();
    for (auto &[id, link] : m_links)
        link->close();
    m_links.clear();
    m_probes.clear();
    m_storedEarly.clear();
    m_housekeeping.stop();
    m_metricsTimer.stop();
    publishMetrics();
    if (!m_taken.isEmpty())
        qCWarning(lcRelay) << m_taken.size()
                           << "messages were not stored (outbox full or failing); the local broker sends them again";
    m_source.reset();
    m_outbox.reset();
    m_running = false;
    m_stopping = false;
    Q_EMIT stopped();
}

} // namespace Onboarder
