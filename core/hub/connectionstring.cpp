#include "connectionstring.h"

#include "hub/identifiers.h"
#include "hub/sastoken.h"

#include <QCoreApplication>
#include <QHostAddress>
#include <QStringList>

#include <algorithm>
#include <array>
#include <optional>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(Onboarder::ConnectionString)
};

// The keys, in the canonical order toString() emits them.
enum Key : int {
    HostName,
    DeviceId,
    ModuleId,
    SharedAccessKeyName,
    SharedAccessKey,
    SharedAccessSignature,
    X509,
    GatewayHostName,
    KeyCount
};

QString keyName(Key key)
{
    switch (key) {
    case HostName: return QStringLiteral("HostName");
    case DeviceId: return QStringLiteral("DeviceId");
    case ModuleId: return QStringLiteral("ModuleId");
    case SharedAccessKeyName: return QStringLiteral("SharedAccessKeyName");
    case SharedAccessKey: return QStringLiteral("SharedAccessKey");
    case SharedAccessSignature: return QStringLiteral("SharedAccessSignature");
    case X509: return QStringLiteral("x509");
    case GatewayHostName: return QStringLiteral("GatewayHostName");
    case KeyCount: break;
    }
    return {};
}

std::optional<Key> keyFromName(QStringView name, Qt::CaseSensitivity cs)
{
    for (int i = 0; i < KeyCount; ++i) {
        if (name.compare(keyName(Key(i)), cs) == 0)
            return Key(i);
    }
    return std::nullopt;
}

const QString &mask()
{
    static const QString text = QStringLiteral("********");
    return text;
}

const QString &x509True()
{
    static const QString text = QStringLiteral("true");
    return text;
}

std::unexpected<Error> invalid(const QString &code, const QString &message)
{
    return fail(ErrorKind::InvalidInput, code, message);
}

// Whether a key name as typed may appear in a message. A pasted bare key ("abc…=" or "abc…==") splits
// into a base64 "name" and an empty or '='-only value; such a name is a secret. So a name is shown only
// when it looks like a key name (letters, or short with digits, like X509Cert) next to a real value.
bool isSafeToShow(QStringView name, QStringView value)
{
    const QStringView trimmed = name.trimmed();
    if (keyFromName(trimmed, Qt::CaseInsensitive))
        return true;
    if (value.isEmpty() || value.front() == u'=')
        return false;
    if (trimmed.isEmpty() || trimmed.size() > 40)
        return false;
    const auto isLetter = [](QChar c) { return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z'); };
    const auto isDigit = [](QChar c) { return c >= u'0' && c <= u'9'; };
    if (!isLetter(trimmed.front()))
        return false;
    if (!std::all_of(trimmed.begin(), trimmed.end(), [&](QChar c) { return isLetter(c) || isDigit(c) || c == u'_'; }))
        return false;
    return trimmed.size() <= 12 || std::none_of(trimmed.begin(), trimmed.end(), isDigit);
}

QString number(qsizetype n)
{
    return QString::number(n);
}

bool hasSurroundingWhitespace(QStringView text)
{
    return !text.isEmpty() && (text.front().isSpace() || text.back().isSpace());
}

// Canonical base64 only: the base64 alphabet, '=' padding present, no stray bits, not empty.
bool isStrictBase64(const QString &text)
{
    if (text.isEmpty())
        return false;
    for (const QChar c : text) {
        if (c.unicode() > 0x7f)
            return false;
    }
    const QByteArray latin1 = text.toLatin1();
    const auto decoded = QByteArray::fromBase64Encoding(latin1, QByteArray::AbortOnBase64DecodingErrors);
    return decoded && !decoded.decoded.isEmpty() && decoded.decoded.toBase64() == latin1;
}

bool isGatewayCharacter(QChar c)
{
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') || c == u'-' || c == u'.'
        || c == u'_';
}

// A gateway is often a LAN name or an address, so unlike HostName it needs no dot.
Result<void> validateGatewayHostName(const QString &name)
{
    const QString code = QStringLiteral("InvalidGatewayHostName");
    for (qsizetype i = 0; i < name.size(); ++i) {
        if (!isGatewayCharacter(name.at(i)))
            return invalid(code,
                Text::tr("The GatewayHostName contains a character that is not allowed at position %1. Only "
                         "ASCII letters, digits and _ - . are allowed.")
                    .arg(number(i + 1)));
    }
    if (name.startsWith(u'.') || name.endsWith(u'.') || name.contains(QStringLiteral("..")))
        return invalid(code,
            Text::tr("The GatewayHostName has an empty part: it must not start or end with a dot, nor "
                     "contain two dots in a row."));
    return {};
}

// The token with only its signature replaced by the mask; the whole text masked if it has no sig field.
QString maskedToken(const QString &token)
{
    const QString prefix = QStringLiteral("SharedAccessSignature ");
    if (!token.startsWith(prefix))
        return mask();
    QStringList fields = token.mid(prefix.size()).split(u'&');
    bool masked = false;
    for (QString &field : fields) {
        if (field.startsWith(QStringLiteral("sig="))) {
            field = QStringLiteral("sig=") + mask();
            masked = true;
        }
    }
    return masked ? prefix + fields.join(u'&') : mask();
}

} // namespace

Result<ConnectionString> ConnectionString::parse(const QString &text)
{
    if (text.isEmpty())
        return invalid(QStringLiteral("Empty"), Text::tr("The connection string is empty."));
    if (text.trimmed().isEmpty())
        return invalid(QStringLiteral("Empty"), Text::tr("The connection string holds only white space."));
    if (hasSurroundingWhitespace(text))
        return invalid(QStringLiteral("SurroundingWhitespace"),
            Text::tr("The connection string starts or ends with white space. Copy it again without "
                     "the spaces or line breaks around it."));

    QStringView body(text);
    if (body.endsWith(u';'))
        body.chop(1); // a single trailing ';' is harmless; a second one leaves an empty part below

    std::array<std::optional<QString>, KeyCount> values;
    qsizetype position = 0;
    for (const QStringView segment : body.split(u';')) {
        ++position;
        if (segment.isEmpty())
            return invalid(QStringLiteral("EmptySegment"),
                Text::tr("Part %1 of the connection string is empty. Parts are Key=Value, separated by a "
                         "single \";\".")
                    .arg(number(position)));
        const qsizetype equals = segment.indexOf(u'=');
        if (equals < 0)
            return invalid(QStringLiteral("SegmentWithoutEquals"),
                Text::tr("Part %1 of the connection string has no \"=\". Every part must be Key=Value.")
                    .arg(number(position)));
        const QStringView name = segment.left(equals);
        const QStringView value = segment.mid(equals + 1);
        if (name.isEmpty())
            return invalid(QStringLiteral("EmptyKey"),
                Text::tr("Part %1 of the connection string has no key before its \"=\".").arg(number(position)));
        if (hasSurroundingWhitespace(name)) {
            if (!isSafeToShow(name, value))
                return invalid(QStringLiteral("WhitespaceInKey"),
                    Text::tr("Part %1 of the connection string has white space around its key. Remove the "
                             "spaces.")
                        .arg(number(position)));
            return invalid(QStringLiteral("WhitespaceInKey"),
                Text::tr("The key \"%1\" in part %2 of the connection string has white space around it. "
                         "Remove the spaces.")
                    .arg(name.trimmed().toString(), number(position)));
        }
        const auto key = keyFromName(name, Qt::CaseSensitive);
        if (!key) {
            if (const auto similar = keyFromName(name, Qt::CaseInsensitive))
                return invalid(QStringLiteral("UnknownKey"),
                    Text::tr("The connection string has an unknown key \"%1\". Did you mean %2? Keys are "
                             "case-sensitive.")
                        .arg(name.toString(), keyName(*similar)));
            if (!isSafeToShow(name, value))
                return invalid(QStringLiteral("UnknownKey"),
                    Text::tr("Part %1 of the connection string is not a known Key=Value pair. Known keys are "
                             "HostName, DeviceId, ModuleId, SharedAccessKeyName, SharedAccessKey, "
                             "SharedAccessSignature, x509 and GatewayHostName.")
                        .arg(number(position)));
            return invalid(QStringLiteral("UnknownKey"),
                Text::tr("The connection string has an unknown key \"%1\". Known keys are HostName, "
                         "DeviceId, ModuleId, SharedAccessKeyName, SharedAccessKey, SharedAccessSignature, "
                         "x509 and GatewayHostName.")
                    .arg(name.toString()));
        }
        if (values[*key])
            return invalid(QStringLiteral("DuplicateKey"),
                Text::tr("The key %1 appears more than once in the connection string.").arg(keyName(*key)));
        if (value.isEmpty())
            return invalid(
                QStringLiteral("EmptyValue"), Text::tr("The key %1 has no value after its \"=\".").arg(keyName(*key)));
        if (hasSurroundingWhitespace(value))
            return invalid(QStringLiteral("WhitespaceInValue"),
                Text::tr("The value of %1 starts or ends with white space. Remove the spaces.").arg(keyName(*key)));
        values[*key] = value.toString();
    }

    const auto has = [&values](Key key) { return values[key].has_value(); };
    const auto value = [&values](Key key) { return values[key].value_or(QString()); };

    // Where the hub is.
    if (!has(HostName))
        return invalid(QStringLiteral("MissingHostName"),
            Text::tr("The connection string has no HostName, for example "
                     "HostName=myhub.azure-devices.net."));
    if (auto ok = Identifiers::validateHostName(value(HostName)); !ok)
        return std::unexpected(ok.error());

    // Whose it is.
    if (has(ModuleId) && !has(DeviceId))
        return invalid(QStringLiteral("MissingDeviceId"),
            Text::tr("The connection string has a ModuleId but no DeviceId. A module connection string "
                     "needs the DeviceId of the module's device as well."));
    if (has(DeviceId)) {
        if (auto ok = Identifiers::validateDeviceId(value(DeviceId)); !ok)
            return std::unexpected(ok.error());
    }
    if (has(ModuleId)) {
        if (auto ok = Identifiers::validateModuleId(value(ModuleId)); !ok)
            return std::unexpected(ok.error());
    }

    // Which credential: exactly one of a key, a token and x509=true.
    if (has(X509) && value(X509) != x509True())
        return invalid(QStringLiteral("InvalidX509Value"),
            Text::tr("The only value x509 accepts is \"true\", exactly and in lower case."));
    QStringList credentials;
    if (has(SharedAccessKey))
        credentials.append(keyName(SharedAccessKey));
    if (has(SharedAccessSignature))
        credentials.append(keyName(SharedAccessSignature));
    if (has(X509))
        credentials.append(QStringLiteral("x509=true"));
    if (credentials.size() == 3)
        return invalid(QStringLiteral("MixedCredentials"),
            Text::tr("The connection string has SharedAccessKey, SharedAccessSignature and x509=true. "
                     "It can carry only one of them."));
    if (credentials.size() == 2)
        return invalid(QStringLiteral("MixedCredentials"),
            Text::tr("The connection string has both %1 and %2. It can carry only one of them.")
                .arg(credentials.at(0), credentials.at(1)));

    const bool forDevice = has(DeviceId);
    if (!forDevice) {
        if (has(X509))
            return invalid(QStringLiteral("MissingDeviceId"),
                Text::tr("The connection string has x509=true but no DeviceId. X.509 authentication "
                         "belongs to a device or module connection string."));
        if (!has(SharedAccessKeyName)) {
            if (credentials.isEmpty())
                return invalid(QStringLiteral("MissingCredential"),
                    Text::tr("The connection string has no credential. A hub connection string needs "
                             "SharedAccessKeyName and SharedAccessKey; a device connection string needs "
                             "DeviceId and one of SharedAccessKey, SharedAccessSignature or x509=true."));
            return invalid(QStringLiteral("MissingSharedAccessKeyName"),
                Text::tr("The connection string has %1 but neither SharedAccessKeyName (for a hub's shared "
                         "access policy) nor DeviceId (for a device).")
                    .arg(credentials.constFirst()));
        }
        if (credentials.isEmpty())
            return invalid(QStringLiteral("MissingSharedAccessKey"),
                Text::tr("The connection string names a shared access policy (SharedAccessKeyName) but "
                         "has no SharedAccessKey for it."));
        if (has(GatewayHostName))
            return invalid(QStringLiteral("UnexpectedGatewayHostName"),
                Text::tr("GatewayHostName belongs to a device or module connection string; a hub "
                         "connection string (one without DeviceId) cannot have it."));
    } else {
        if (has(SharedAccessKeyName) && !has(SharedAccessKey))
            return invalid(QStringLiteral("MissingSharedAccessKey"),
                Text::tr("The connection string names a shared access policy (SharedAccessKeyName) but "
                         "has no SharedAccessKey for it."));
        if (credentials.isEmpty())
            return invalid(QStringLiteral("MissingCredential"),
                Text::tr("The device connection string has no credential. Add one of SharedAccessKey, "
                         "SharedAccessSignature or x509=true."));
    }

    // The values themselves.
    if (has(SharedAccessKeyName)) {
        if (auto ok = Identifiers::validatePolicyName(value(SharedAccessKeyName)); !ok)
            return std::unexpected(ok.error());
    }
    if (has(SharedAccessKey) && !isStrictBase64(value(SharedAccessKey)))
        return invalid(QStringLiteral("KeyNotBase64"),
            Text::tr("The SharedAccessKey is not valid base64. It may be cut off or have extra characters; "
                     "copy it again from the portal."));
    if (has(SharedAccessSignature)) {
        if (const auto token = SasToken::parse(value(SharedAccessSignature)); !token)
            return invalid(QStringLiteral("InvalidSharedAccessSignature"),
                Text::tr("The SharedAccessSignature is not a valid token. %1").arg(token.error().message));
    }
    if (has(GatewayHostName)) {
        if (auto ok = validateGatewayHostName(value(GatewayHostName)); !ok)
            return std::unexpected(ok.error());
    }

    ConnectionString cs;
    cs.m_kind = !forDevice ? Kind::Service : has(ModuleId) ? Kind::Module : Kind::Device;
    cs.m_credential = has(X509)      ? Credential::X509
        : has(SharedAccessSignature) ? Credential::SharedAccessSignature
                                     : Credential::SharedAccessKey;
    cs.m_hostName = value(HostName);
    cs.m_deviceId = value(DeviceId);
    cs.m_moduleId = value(ModuleId);
    cs.m_sharedAccessKeyName = value(SharedAccessKeyName);
    cs.m_sharedAccessKey = SecretBytes::fromString(value(SharedAccessKey));
    cs.m_sharedAccessSignature = value(SharedAccessSignature);
    cs.m_gatewayHostName = value(GatewayHostName);
    return cs;
}

ConnectionString ConnectionString::service(const QString &hostName, const QString &policyName, const QString &key)
{
    ConnectionString cs;
    cs.m_kind = Kind::Service;
    cs.m_credential = Credential::SharedAccessKey;
    cs.m_hostName = hostName;
    cs.m_sharedAccessKeyName = policyName;
    cs.m_sharedAccessKey = SecretBytes::fromString(QString(key));
    return cs;
}

ConnectionString ConnectionString::deviceWithKey(const QString &hostName, const QString &deviceId, const QString &key)
{
    ConnectionString cs;
    cs.m_kind = Kind::Device;
    cs.m_credential = Credential::SharedAccessKey;
    cs.m_hostName = hostName;
    cs.m_deviceId = deviceId;
    cs.m_sharedAccessKey = SecretBytes::fromString(QString(key));
    return cs;
}

ConnectionString ConnectionString::deviceWithX509(const QString &hostName, const QString &deviceId)
{
    ConnectionString cs;
    cs.m_kind = Kind::Device;
    cs.m_credential = Credential::X509;
    cs.m_hostName = hostName;
    cs.m_deviceId = deviceId;
    return cs;
}

ConnectionString ConnectionString::forModule(const QString &moduleId) const
{
    ConnectionString cs = *this;
    cs.m_kind = Kind::Module;
    cs.m_moduleId = moduleId;
    return cs;
}

Result<ConnectionString> ConnectionString::deviceWithExpiringToken(
    const QString &hostName, const QString &deviceId, const SecretBytes &key, qint64 expiry, const QString &moduleId)
{
    // The resource is the device (or module), as a device SDK signs its own tokens: {host}/devices/{id}
    // [/modules/{moduleId}], no policy name.
    QString resource = hostName + QStringLiteral("/devices/") + deviceId;
    if (!moduleId.isEmpty())
        resource += QStringLiteral("/modules/") + moduleId;
    const auto token = SasToken::create(resource, key, expiry);
    if (!token)
        return std::unexpected(token.error());
    ConnectionString cs;
    cs.m_kind = moduleId.isEmpty() ? Kind::Device : Kind::Module;
    cs.m_credential = Credential::SharedAccessSignature;
    cs.m_hostName = hostName;
    cs.m_deviceId = deviceId;
    cs.m_moduleId = moduleId;
    cs.m_sharedAccessSignature = token->toString();
    return cs;
}

ConnectionString::ConnectionString(const ConnectionString &other)
    : m_kind(other.m_kind)
    , m_credential(other.m_credential)
    , m_hostName(other.m_hostName)
    , m_deviceId(other.m_deviceId)
    , m_moduleId(other.m_moduleId)
    , m_sharedAccessKeyName(other.m_sharedAccessKeyName)
    , m_sharedAccessKey(other.m_sharedAccessKey.copy())
    , m_sharedAccessSignature(other.m_sharedAccessSignature)
    , m_gatewayHostName(other.m_gatewayHostName)
{ }

ConnectionString &ConnectionString::operator=(const ConnectionString &other)
{
    if (this != &other)
        *this = ConnectionString(other);
    return *this;
}

QString ConnectionString::hubName() const
{
    if (!QHostAddress(m_hostName).isNull())
        return m_hostName;
    const qsizetype dot = m_hostName.indexOf(u'.');
    return dot < 0 ? m_hostName : m_hostName.left(dot);
}

QString ConnectionString::build(bool masked) const
{
    QStringList parts;
    const auto add = [&parts](Key key, const QString &value) {
        if (!value.isEmpty())
            parts.append(keyName(key) + u'=' + value);
    };
    add(HostName, m_hostName);
    add(DeviceId, m_deviceId);
    add(ModuleId, m_moduleId);
    add(SharedAccessKeyName, m_sharedAccessKeyName);
    add(SharedAccessKey, masked && !m_sharedAccessKey.isEmpty() ? mask() : m_sharedAccessKey.exposeAsString());
    add(SharedAccessSignature,
        masked && !m_sharedAccessSignature.isEmpty() ? maskedToken(m_sharedAccessSignature) : m_sharedAccessSignature);
    if (m_credential == Credential::X509)
        add(X509, x509True());
    add(GatewayHostName, m_gatewayHostName);
    return parts.join(u';');
}

QString ConnectionString::toString() const
{
    return build(false);
}

QString ConnectionString::toMaskedString() const
{
    return build(true);
}

QString ConnectionString::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Service: return Text::tr("hub (shared access policy)");
    case Kind::Device: return Text::tr("device");
    case Kind::Module: return Text::tr("module");
    }
    return {};
}

} // namespace Onboarder
