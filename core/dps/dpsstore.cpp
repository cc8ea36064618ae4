#include "dpsstore.h"

#include "common/logging.h"
#include "common/promise.h"
#include "common/settings.h"
#include "credentials/secretstore.h"

#include <QFileInfo>
#include <QRegularExpression>
#include <QSslCertificate>

namespace Onboarder {

namespace {

Result<void> validatePort(int port, const QString &what)
{
    if (port < 0 || port > 65535)
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidPort"),
            DpsStore::tr("The %1 port must be between 1 and 65535 (0 for the default); %2 is not.")
                .arg(what)
                .arg(port));
    return {};
}

bool isHubHost(const QString &host)
{
    return host.endsWith(QLatin1String(".azure-devices.net"), Qt::CaseInsensitive);
}

} // namespace

DpsStore::DpsStore(Settings &settings, SecretStore &secrets, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_secrets(secrets)
{ }

QList<DpsProfile> DpsStore::instances() const
{
    return m_settings.dpsInstances();
}

std::optional<DpsProfile> DpsStore::find(const QString &name) const
{
    for (const DpsProfile &dps : m_settings.dpsInstances()) {
        if (dps.name == name)
            return dps;
    }
    return std::nullopt;
}

bool DpsStore::looksLikeDps(const ConnectionString &connectionString)
{
    return connectionString.hostName().endsWith(QLatin1String(".azure-devices-provisioning.net"), Qt::CaseInsensitive)
        || connectionString.hostName().endsWith(QLatin1String(".azure-devices-provisioning.cn"), Qt::CaseInsensitive)
        || connectionString.sharedAccessKeyName().startsWith(QLatin1String("provisioningservice"), Qt::CaseInsensitive);
}

Result<DpsProfile> DpsStore::validate(
    const QString &name, const QString &connectionString, const DpsEndpoint &endpoint) const
{
    static const QRegularExpression namePattern(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"));
    if (!namePattern.match(name).hasMatch())
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidDpsName"),
            DpsStore::tr("\"%1\" cannot name a DPS here: use 1 to 64 ASCII letters, digits and . _ -, starting with a "
                         "letter or digit.")
                .arg(name));
    if (find(name) || m_pending.contains(name))
        return fail(ErrorKind::Conflict, QStringLiteral("DpsExists"),
            DpsStore::tr("A DPS named \"%1\" exists already. Choose another name or remove that one first.").arg(name));

    const auto parsed = ConnectionString::parse(connectionString);
    if (!parsed)
        return std::unexpected(parsed.error());
    if (parsed->kind() != ConnectionString::Kind::Service || parsed->sharedAccessKey().isEmpty())
        return fail(ErrorKind::InvalidInput, QStringLiteral("NotADpsConnectionString"),
            DpsStore::tr(
                "This is a %1 connection string. A DPS needs the connection string of one of its shared access "
                "policies (HostName, SharedAccessKeyName and SharedAccessKey), e.g. provisioningserviceowner's "
                "from the Azure portal: the DPS → Shared access policies.")
                .arg(ConnectionString::kindName(parsed->kind())));
    static const QStringList hubPolicies{QStringLiteral("iothubowner"), QStringLiteral("service"),
        QStringLiteral("registryRead"), QStringLiteral("registryReadWrite"), QStringLiteral("device")};
    if (!looksLikeDps(*parsed)
        && (isHubHost(parsed->hostName()) || hubPolicies.contains(parsed->sharedAccessKeyName())))
        return fail(ErrorKind::InvalidInput, QStringLiteral("HubConnectionStringGivenForDps"),
            DpsStore::tr("This is an IoT hub's connection string (%1, policy %2), not a DPS's. A DPS's names a host "
                         "such as NAME.azure-devices-provisioning.net and a policy such as provisioningserviceowner "
                         "(Azure portal: the DPS → Shared access policies). Add a hub with onboarder-cli hub add.")
                .arg(parsed->hostName(), parsed->sharedAccessKeyName()));

    static const QRegularExpression scopePattern(QStringLiteral("^[0-9A-Za-z]{1,32}$"));
    if (!scopePattern.match(endpoint.idScope).hasMatch())
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidIdScope"),
            endpoint.idScope.isEmpty()
                ? DpsStore::tr("The ID scope is missing: devices register with it. It is on the DPS's Overview page in "
                               "the Azure portal, e.g. 0ne00ABCDEF.")
                : DpsStore::tr(
                    "\"%1\" is not an ID scope: it is letters and digits, e.g. 0ne00ABCDEF (the DPS's Overview "
                    "page in the Azure portal).")
                      .arg(endpoint.idScope));
    if (auto ok = validatePort(endpoint.restPort, DpsStore::tr("REST")); !ok)
        return std::unexpected(ok.error());
    if (auto ok = validatePort(endpoint.mqttPort, DpsStore::tr("MQTT")); !ok)
        return std::unexpected(ok.error());

    DpsProfile profile;
    profile.name = name;
    profile.hostName = parsed->hostName();
    profile.policyName = parsed->sharedAccessKeyName();
    profile.idScope = endpoint.idScope;
    profile.restPort = endpoint.restPort;
    profile.mqttPort = endpoint.mqttPort;
    profile.address = endpoint.address.trimmed();
    if (!endpoint.caFile.isEmpty()) {
        const QFileInfo info(endpoint.caFile);
        if (!info.isFile() || !info.isReadable())
            return fail(ErrorKind::InvalidInput, QStringLiteral("CaFileUnreadable"),
                DpsStore::tr("The CA file %1 does not exist or cannot be read.").arg(endpoint.caFile));
        if (QSslCertificate::fromPath(info.absoluteFilePath(), QSsl::Pem).isEmpty())
            return fail(ErrorKind::InvalidInput, QStringLiteral("CaFileNotPem"),
                DpsStore::tr("The CA file %1 holds no PEM certificate.").arg(endpoint.caFile));
        profile.caFile = info.absoluteFilePath();
    }
    return profile;
}

QFuture<Result<DpsProfile>> DpsStore::add(
    const QString &name, const QString &connectionString, const DpsEndpoint &endpoint)
{
    const auto profile = validate(name, connectionString, endpoint);
    if (!profile)
        return readyFuture(profile);
    SecretBytes secret = SecretBytes::fromString(ConnectionString::parse(connectionString)->toString());
    m_pending.insert(name);
    return m_secrets.save(profile->secretName(), std::move(secret))
        .then(this,
            [this, profile = *profile](Result<void> saved) -> QFuture<Result<DpsProfile>> {
                m_pending.remove(profile.name);
                if (!saved)
                    return readyFuture<DpsProfile>(std::unexpected(saved.error()));
                QList<DpsProfile> list = m_settings.dpsInstances();
                list.append(profile);
                if (!m_settings.setDpsInstances(list)) {
                    const auto error = fail(ErrorKind::Internal, QStringLiteral("SettingsNotWritable"),
                        DpsStore::tr("The settings file %1 could not be written, so the DPS was not added.")
                            .arg(m_settings.filePath()));
                    return m_secrets.remove(profile.secretName())
                        .then(this, [error](Result<void>) -> Result<DpsProfile> { return error; });
                }
                qCInfo(lcHub) << "added DPS" << profile.name << profile.hostName;
                Q_EMIT instancesChanged();
                return readyFuture<DpsProfile>(profile);
            })
        .unwrap();
}

QFuture<Result<void>> DpsStore::remove(const QString &name)
{
    const auto profile = find(name);
    if (!profile)
        return readyFuture<void>(fail(ErrorKind::NotFound, QStringLiteral("DpsNotFound"),
            DpsStore::tr("There is no DPS named \"%1\".").arg(name)));
    return m_secrets.remove(profile->secretName()).then(this, [this, name](Result<void> removed) -> Result<void> {
        if (!removed && removed.error().kind != ErrorKind::NotFound)
            return fail(removed.error().kind, removed.error().code,
                DpsStore::tr("The DPS \"%1\" was kept because its key could not be removed from the keychain: %2")
                    .arg(name, removed.error().message));
        QList<DpsProfile> list = m_settings.dpsInstances();
        list.removeIf([&](const DpsProfile &dps) { return dps.name == name; });
        if (!m_settings.setDpsInstances(list))
            return fail(ErrorKind::Internal, QStringLiteral("SettingsNotWritable"),
                DpsStore::tr(
                    "The DPS's key was removed from the keychain, but the settings file %1 could not be written, "
                    "so the DPS is still listed.")
                    .arg(m_settings.filePath()));
        if (m_settings.currentDps() == name) {
            if (auto cleared = m_settings.setCurrentDps(QString()); !cleared)
                qCWarning(lcApp).noquote() << cleared.error().message; // removed all the same
        }
        Q_EMIT instancesChanged();
        return {};
    });
}

QFuture<Result<ConnectionString>> DpsStore::connectionString(const QString &name)
{
    const auto profile = find(name);
    if (!profile)
        return readyFuture<ConnectionString>(fail(ErrorKind::NotFound, QStringLiteral("DpsNotFound"),
            DpsStore::tr("There is no DPS named \"%1\".").arg(name)));
    return m_secrets.load(profile->secretName())
        .then(this, [name](Result<SecretBytes> secret) -> Result<ConnectionString> {
            if (!secret) {
                if (secret.error().kind == ErrorKind::NotFound)
                    return fail(ErrorKind::NotFound, QStringLiteral("DpsSecretMissing"),
                        DpsStore::tr(
                            "The keychain has no connection string for DPS \"%1\". Remove it and add it again.")
                            .arg(name));
                return std::unexpected(secret.error());
            }
            return ConnectionString::parse(secret->exposeAsString()); // the parser reads text
        });
}

} // namespace Onboarder
