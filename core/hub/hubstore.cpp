#include "hubstore.h"

#include "amqp/eventhubreader.h"
#include "common/logging.h"
#include "common/promise.h"
#include "common/settings.h"
#include "credentials/secretstore.h"
#include "dps/dpsstore.h"
#include "hub/identifiers.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QSslCertificate>

namespace Onboarder {

namespace {

Result<void> validatePort(int port, const QString &what)
{
    if (port < 0 || port > 65535)
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidPort"),
            HubStore::tr("The %1 port must be between 1 and 65535 (0 for the default); %2 is not.")
                .arg(what)
                .arg(port));
    return {};
}

} // namespace

HubStore::HubStore(Settings &settings, SecretStore &secrets, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_secrets(secrets)
{ }

QList<HubProfile> HubStore::hubs() const
{
    return m_settings.hubs();
}

std::optional<HubProfile> HubStore::find(const QString &name) const
{
    for (const HubProfile &hub : m_settings.hubs()) {
        if (hub.name == name)
            return hub;
    }
    return std::nullopt;
}

Result<HubProfile> HubStore::validate(
    const QString &name, const QString &connectionString, const HubEndpoint &endpoint) const
{
    if (auto ok = Identifiers::validateHubProfileName(name); !ok)
        return std::unexpected(ok.error());
    if (find(name) || m_pending.contains(name))
        return fail(ErrorKind::Conflict, QStringLiteral("HubExists"),
            HubStore::tr("A hub named \"%1\" exists already. Choose another name or remove that hub first.").arg(name));

    const auto parsed = ConnectionString::parse(connectionString);
    if (!parsed)
        return std::unexpected(parsed.error());
    if (parsed->kind() != ConnectionString::Kind::Service || parsed->sharedAccessKey().isEmpty())
        return fail(ErrorKind::InvalidInput, QStringLiteral("NotAHubConnectionString"),
            HubStore::tr(
                "This is a %1 connection string. A hub needs the connection string of a shared access policy "
                "(HostName, SharedAccessKeyName and SharedAccessKey), e.g. iothubowner's from the Azure portal: "
                "IoT Hub → Shared access policies.")
                .arg(ConnectionString::kindName(parsed->kind())));

    if (DpsStore::looksLikeDps(*parsed))
        return fail(ErrorKind::InvalidInput, QStringLiteral("DpsConnectionStringGivenForHub"),
            HubStore::tr(
                "This is a Device Provisioning Service's connection string (%1, policy %2), not a hub's. Add it "
                "with onboarder-cli dps add; a hub's names a host such as NAME.azure-devices.net and a policy "
                "such as iothubowner.")
                .arg(parsed->hostName(), parsed->sharedAccessKeyName()));
    if (auto ok = validatePort(endpoint.restPort, HubStore::tr("REST")); !ok)
        return std::unexpected(ok.error());
    if (auto ok = validatePort(endpoint.amqpPort, HubStore::tr("AMQP")); !ok)
        return std::unexpected(ok.error());
    if (auto ok = validatePort(endpoint.mqttPort, HubStore::tr("MQTT")); !ok)
        return std::unexpected(ok.error());

    HubProfile profile;
    profile.name = name;
    profile.hostName = parsed->hostName();
    profile.policyName = parsed->sharedAccessKeyName();
    profile.restPort = endpoint.restPort;
    profile.mqttPort = endpoint.mqttPort;
    profile.amqpPort = endpoint.amqpPort;
    profile.webSockets = endpoint.webSockets;
    if (!endpoint.proxy.isEmpty()) {
        if (const QString why = HubProfile::checkProxy(endpoint.proxy); !why.isEmpty())
            return fail(ErrorKind::InvalidInput, QStringLiteral("ProxyInvalid"), why);
        profile.proxy = endpoint.proxy;
        profile.proxy.setPath({});
    }

    if (!endpoint.caFile.isEmpty()) {
        const QFileInfo info(endpoint.caFile);
        if (!info.isFile() || !info.isReadable())
            return fail(ErrorKind::InvalidInput, QStringLiteral("CaFileUnreadable"),
                HubStore::tr("The CA file %1 does not exist or cannot be read.").arg(endpoint.caFile));
        const auto certificates = QSslCertificate::fromPath(info.absoluteFilePath(), QSsl::Pem);
        if (certificates.isEmpty())
            return fail(ErrorKind::InvalidInput, QStringLiteral("CaFileNotPem"),
                HubStore::tr("The CA file %1 holds no PEM certificate.").arg(endpoint.caFile));
        profile.caFile = info.absoluteFilePath();
    }
    return profile;
}

QFuture<Result<HubProfile>> HubStore::add(
    const QString &name, const QString &connectionString, const HubEndpoint &endpoint)
{
    const auto profile = validate(name, connectionString, endpoint);
    if (!profile)
        return readyFuture(profile);

    // Store the canonical form: the same text the user gave, minus anything parse() normalised.
    SecretBytes secret = SecretBytes::fromString(ConnectionString::parse(connectionString)->toString());
    m_pending.insert(name);
    return m_secrets.save(profile->secretName(), std::move(secret))
        .then(this,
            [this, profile = *profile](Result<void> saved) -> QFuture<Result<HubProfile>> {
                m_pending.remove(profile.name);
                if (!saved)
                    return readyFuture<HubProfile>(std::unexpected(saved.error()));
                QList<HubProfile> list = m_settings.hubs();
                list.append(profile);
                if (!m_settings.setHubs(list)) {
                    const auto error = fail(ErrorKind::Internal, QStringLiteral("SettingsNotWritable"),
                        HubStore::tr("The settings file %1 could not be written, so the hub was not added.")
                            .arg(m_settings.filePath()));
                    return m_secrets.remove(profile.secretName())
                        .then(this, [error](Result<void>) -> Result<HubProfile> { return error; });
                }
                qCInfo(lcHub) << "added hub" << profile.name << profile.hostName;
                Q_EMIT hubsChanged();
                return readyFuture<HubProfile>(profile);
            })
        .unwrap();
}

QFuture<Result<void>> HubStore::remove(const QString &name)
{
    const auto profile = find(name);
    if (!profile)
        return readyFuture<void>(fail(ErrorKind::NotFound, QStringLiteral("HubNotFound"),
            HubStore::tr("There is no hub named \"%1\".").arg(name)));

    // The Event Hub-compatible connection string goes first: a hub without it is still whole.
    QFuture<Result<void>> eventHubRemoved
        = profile->eventHub ? m_secrets.remove(profile->eventHubSecretName()) : readyFuture<void>({});
    return eventHubRemoved
        .then(this,
            [this, name, profile = *profile](Result<void> removed) -> QFuture<Result<void>> {
                if (!removed && removed.error().kind != ErrorKind::NotFound)
                    return readyFuture<void>(fail(removed.error().kind, removed.error().code,
                        HubStore::tr("The hub \"%1\" was kept because its Event Hub-compatible connection string could "
                                     "not be removed from the keychain: %2")
                            .arg(name, removed.error().message)));
                return m_secrets.remove(profile.secretName());
            })
        .unwrap()
        .then(this, [this, name](Result<void> removed) -> Result<void> {
            if (!removed && removed.error().kind != ErrorKind::NotFound)
                return fail(removed.error().kind, removed.error().code,
                    HubStore::tr("The hub \"%1\" was kept because its key could not be removed from the keychain: %2")
                        .arg(name, removed.error().message));
            QList<HubProfile> list = m_settings.hubs();
            list.removeIf([&](const HubProfile &hub) { return hub.name == name; });
            if (!m_settings.setHubs(list))
                return fail(ErrorKind::Internal, QStringLiteral("SettingsNotWritable"),
                    HubStore::tr("The hub's key was removed from the keychain, but the settings file %1 could not be "
                                 "written, so the hub is still listed.")
                        .arg(m_settings.filePath()));
            if (m_settings.currentHub() == name) {
                if (auto cleared = m_settings.setCurrentHub(QString()); !cleared)
                    qCWarning(lcHub).noquote() << cleared.error().message; // removed all the same
            }
            Q_EMIT hubsChanged();
            return {};
        });
}

QFuture<Result<ConnectionString>> HubStore::connectionString(const QString &name)
{
    const auto profile = find(name);
    if (!profile)
        return readyFuture<ConnectionString>(fail(ErrorKind::NotFound, QStringLiteral("HubNotFound"),
            HubStore::tr("There is no hub named \"%1\".").arg(name)));

    return m_secrets.load(profile->secretName())
        .then(this, [name](Result<SecretBytes> secret) -> Result<ConnectionString> {
            if (!secret) {
                if (secret.error().kind == ErrorKind::NotFound)
                    return fail(ErrorKind::NotFound, QStringLiteral("HubSecretMissing"),
                        HubStore::tr(
                            "The keychain has no connection string for hub \"%1\". Remove the hub and add it again.")
                            .arg(name));
                return std::unexpected(secret.error());
            }
            return ConnectionString::parse(secret->exposeAsString()); // the parser reads text
        });
}

Result<void> HubStore::setEventHubFlag(const QString &name, bool kept)
{
    QList<HubProfile> list = m_settings.hubs();
    for (HubProfile &hub : list) {
        if (hub.name == name)
            hub.eventHub = kept;
    }
    if (!m_settings.setHubs(list))
        return fail(ErrorKind::Internal, QStringLiteral("SettingsNotWritable"),
            HubStore::tr("The settings file %1 could not be written.").arg(m_settings.filePath()));
    Q_EMIT hubsChanged();
    return {};
}

QFuture<Result<void>> HubStore::setEventHub(const QString &name, const QString &connectionString)
{
    const auto profile = find(name);
    if (!profile)
        return readyFuture<void>(fail(ErrorKind::NotFound, QStringLiteral("HubNotFound"),
            HubStore::tr("There is no hub named \"%1\".").arg(name)));

    const QString text = connectionString.trimmed();
    if (text.isEmpty()) {
        return m_secrets.remove(profile->eventHubSecretName())
            .then(this, [this, name](Result<void> removed) -> Result<void> {
                if (!removed && removed.error().kind != ErrorKind::NotFound)
                    return removed;
                qCInfo(lcHub) << "forgot the Event Hub-compatible connection string of hub" << name;
                return setEventHubFlag(name, false);
            });
    }
    if (const auto endpoint = EventHubEndpoint::parse(text); !endpoint)
        return readyFuture<void>(std::unexpected(endpoint.error()));
    return m_secrets.save(profile->eventHubSecretName(), SecretBytes::fromString(QString(text)))
        .then(this, [this, name](Result<void> saved) -> Result<void> {
            if (!saved)
                return saved;
            qCInfo(lcHub) << "kept an Event Hub-compatible connection string for hub" << name;
            return setEventHubFlag(name, true);
        });
}

QFuture<Result<QString>> HubStore::eventHubConnectionString(const QString &name)
{
    const auto profile = find(name);
    if (!profile)
        return readyFuture<QString>(fail(ErrorKind::NotFound, QStringLiteral("HubNotFound"),
            HubStore::tr("There is no hub named \"%1\".").arg(name)));
    if (!profile->eventHub)
        return readyFuture<QString>(QString());
    return m_secrets.load(profile->eventHubSecretName())
        .then(this, [name](Result<SecretBytes> secret) -> Result<QString> {
            if (!secret) {
                if (secret.error().kind == ErrorKind::NotFound)
                    return fail(ErrorKind::NotFound, QStringLiteral("EventHubSecretMissing"),
                        HubStore::tr("The keychain has no Event Hub-compatible connection string for hub \"%1\" any "
                                     "more. Give it "
                                     "again with onboarder-cli hub event-hub %1, or forget it with --clear.")
                            .arg(name));
                return std::unexpected(secret.error());
            }
            // As text for EventHubEndpoint::parse() and the telemetry readers, which take it as a QString.
            return secret->exposeAsString();
        });
}

} // namespace Onboarder
