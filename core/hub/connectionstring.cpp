#include "connectionstring.h"

#include "hub/identifiers.h"
#include "hub/sastoken.h"

#include <QCoreApplication>
#include <QHash>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(ConnectionString)
};

const QString kHostName = QStringLiteral("HostName");
const QString kDeviceId = QStringLiteral("DeviceId");
const QString kModuleId = QStringLiteral("ModuleId");
const QString kKeyName = QStringLiteral("SharedAccessKeyName");
const QString kKey = QStringLiteral("SharedAccessKey");
const QString kSignature = QStringLiteral("SharedAccessSignature");
const QString kX509 = QStringLiteral("x509");
const QString kGateway = QStringLiteral("GatewayHostName");

const QStringList &knownKeys()
{
    static const QStringList keys{kHostName, kDeviceId, kModuleId, kKeyName, kKey, kSignature, kX509, kGateway};
    return keys;
}

const QString mask = QStringLiteral("********");

std::unexpected<Error> invalid(const QString &code, const QString &message)
{
    return fail(ErrorKind::InvalidInput, code, message);
}

// Wraps a rule's error in a sentence that says which part of the connection string it is about.
std::unexpected<Error> invalidPart(const QString &code, const QString &key, const Error &inner)
{
    return invalid(code, Text::tr("%1: %2").arg(key, inner.message));
}

bool isStrictBase64(const QString &text)
{
    if (text.isEmpty())
        return false;
    for (const QChar c : text) {
        if (c.unicode() > 127)
            return false;
    }
    const auto decoded = QByteArray::fromBase64Encoding(text.toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
    return bool(decoded) && !decoded.decoded.isEmpty();
}

} // namespace

Result<ConnectionString> ConnectionString::parse(const QString &text)
{
    if (text.trimmed().isEmpty())
        return invalid(QStringLiteral("Empty"), Text::tr("The connection string is empty."));
    if (text.front().isSpace() || text.back().isSpace())
        return invalid(QStringLiteral("SurroundingWhitespace"),
                       Text::tr("The connection string starts or ends with white space; copy it again without it."));

    QStringList segments = text.split(u';');
    if (segments.size() > 1 && segments.last().isEmpty())
        segments.removeLast(); // one trailing ';' is harmless

    QHash<QString, QString> values;
    for (qsizetype i = 0; i < segments.size(); ++i) {
        const QString &segment = segments.at(i);
        if (segment.isEmpty())
            return invalid(QStringLiteral("EmptySegment"),
                           Text::tr("The connection string has an empty part (two ';' in a row, or a leading ';')."));
        const qsizetype eq = segment.indexOf(u'=');
        if (eq < 0)
            return invalid(QStringLiteral("SegmentWithoutEquals"),
                           Text::tr("Part %1 of the connection string has no '=': each part is Key=Value.").arg(i + 1));
        const QString key = segment.left(eq);
        const QString value = segment.mid(eq + 1);
        if (key.isEmpty())
            return invalid(QStringLiteral("EmptyKey"),
                           Text::tr("Part %1 of the connection string has a value but no key before '='.").arg(i + 1));
        if (key.trimmed() != key)
            return invalid(QStringLiteral("WhitespaceInKey"),
                           Text::tr("The key \"%1\" has white space around it.").arg(key.trimmed()));
        if (!knownKeys().contains(key)) {
            for (const QString &known : knownKeys()) {
                if (known.compare(key, Qt::CaseInsensitive) == 0)
                    return invalid(QStringLiteral("UnknownKey"),
                                   Text::tr("Unknown key \"%1\": keys are case-sensitive, did you mean \"%2\"?")
                                       .arg(key, known));
            }
            return invalid(QStringLiteral("UnknownKey"),
                           Text::tr("Unknown key \"%1\". Known keys: %2.").arg(key.left(64), knownKeys().join(QStringLiteral(", "))));
        }
        if (values.contains(key))
            return invalid(QStringLiteral("DuplicateKey"), Text::tr("The key \"%1\" appears twice.").arg(key));
        if (value.isEmpty())
            return invalid(QStringLiteral("EmptyValue"), Text::tr("The key \"%1\" has an empty value.").arg(key));
        values.insert(key, value);
    }

    ConnectionString cs;
    cs.m_hostName = values.value(kHostName);
    cs.m_deviceId = values.value(kDeviceId);
    cs.m_moduleId = values.value(kModuleId);
    cs.m_sharedAccessKeyName = values.value(kKeyName);
    cs.m_sharedAccessKey = values.value(kKey);
    cs.m_sharedAccessSignature = values.value(kSignature);
    cs.m_gatewayHostName = values.value(kGateway);

    if (cs.m_hostName.isEmpty())
        return invalid(QStringLiteral("MissingHostName"),
                       Text::tr("The connection string has no HostName (e.g. HostName=myhub.azure-devices.net)."));
    if (auto ok = Identifiers::validateHostName(cs.m_hostName); !ok)
        return invalidPart(QStringLiteral("InvalidHostName"), kHostName, ok.error());
    if (!cs.m_gatewayHostName.isEmpty()) {
        if (auto ok = Identifiers::validateHostName(cs.m_gatewayHostName); !ok)
            return invalidPart(QStringLiteral("InvalidGatewayHostName"), kGateway, ok.error());
    }

    if (values.contains(kX509) && values.value(kX509) != QStringLiteral("true"))
        return invalid(QStringLiteral("InvalidX509Value"),
                       Text::tr("x509 can only be \"true\" (exactly, in lower case)."));
    const bool x509 = values.contains(kX509);

    if (!cs.m_moduleId.isEmpty() && cs.m_deviceId.isEmpty())
        return invalid(QStringLiteral("MissingDeviceId"), Text::tr("A ModuleId needs the DeviceId of its device."));
    if (!cs.m_deviceId.isEmpty()) {
        if (auto ok = Identifiers::validateDeviceId(cs.m_deviceId); !ok)
            return invalidPart(QStringLiteral("InvalidDeviceId"), kDeviceId, ok.error());
    }
    if (!cs.m_moduleId.isEmpty()) {
        if (auto ok = Identifiers::validateModuleId(cs.m_moduleId); !ok)
            return invalidPart(QStringLiteral("InvalidModuleId"), kModuleId, ok.error());
    }
    if (!cs.m_sharedAccessKeyName.isEmpty()) {
        if (auto ok = Identifiers::validatePolicyName(cs.m_sharedAccessKeyName); !ok)
            return invalidPart(QStringLiteral("InvalidPolicyName"), kKeyName, ok.error());
    }

    // Exactly one credential.
    QStringList credentials;
    if (!cs.m_sharedAccessKey.isEmpty())
        credentials.append(kKey);
    if (!cs.m_sharedAccessSignature.isEmpty())
        credentials.append(kSignature);
    if (x509)
        credentials.append(QStringLiteral("x509=true"));
    if (credentials.size() > 1)
        return invalid(QStringLiteral("MixedCredentials"),
                       Text::tr("The connection string has both %1 and %2; it can carry only one credential.")
                           .arg(credentials.at(0), credentials.at(1)));

    if (!cs.m_sharedAccessKey.isEmpty() && !isStrictBase64(cs.m_sharedAccessKey))
        return invalid(QStringLiteral("KeyNotBase64"),
                       Text::tr("The SharedAccessKey is not valid base64; it may be cut off or contain extra characters."));
    if (!cs.m_sharedAccessSignature.isEmpty()) {
        if (auto token = SasToken::parse(cs.m_sharedAccessSignature); !token)
            return invalidPart(QStringLiteral("InvalidSharedAccessSignature"), kSignature, token.error());
    }

    if (cs.m_deviceId.isEmpty()) {
        // A hub (service) connection string: a shared access policy's name and key.
        if (cs.m_sharedAccessKeyName.isEmpty())
            return invalid(credentials.isEmpty() ? QStringLiteral("MissingCredential") : QStringLiteral("MissingSharedAccessKeyName"),
                           credentials.isEmpty()
                               ? Text::tr("The connection string has no credential: a hub's needs SharedAccessKeyName and "
                                          "SharedAccessKey; a device's needs DeviceId and SharedAccessKey or x509=true.")
                               : Text::tr("The connection string has no DeviceId and no SharedAccessKeyName: it is "
                                          "neither a device's nor a hub's."));
        if (x509)
            return invalid(QStringLiteral("MixedCredentials"),
                           Text::tr("x509=true belongs to a device connection string; a hub's has no DeviceId."));
        if (cs.m_sharedAccessKey.isEmpty() && cs.m_sharedAccessSignature.isEmpty())
            return invalid(QStringLiteral("MissingSharedAccessKey"),
                           Text::tr("The policy \"%1\" has no SharedAccessKey.").arg(cs.m_sharedAccessKeyName));
        cs.m_kind = Kind::Service;
    } else {
        if (credentials.isEmpty())
            return invalid(QStringLiteral("MissingCredential"),
                           Text::tr("The device connection string has no credential: add SharedAccessKey, "
                                    "SharedAccessSignature or x509=true."));
        if (!cs.m_sharedAccessKeyName.isEmpty() && cs.m_sharedAccessKey.isEmpty())
            return invalid(QStringLiteral("MissingSharedAccessKey"),
                           Text::tr("SharedAccessKeyName in a device connection string needs the policy's SharedAccessKey."));
        cs.m_kind = cs.m_moduleId.isEmpty() ? Kind::Device : Kind::Module;
    }
    cs.m_credential = x509 ? Credential::X509
        : cs.m_sharedAccessSignature.isEmpty() ? Credential::SharedAccessKey
                                               : Credential::SharedAccessSignature;
    return cs;
}

ConnectionString ConnectionString::service(const QString &hostName, const QString &policyName, const QString &key)
{
    ConnectionString cs;
    cs.m_kind = Kind::Service;
    cs.m_credential = Credential::SharedAccessKey;
    cs.m_hostName = hostName;
    cs.m_sharedAccessKeyName = policyName;
    cs.m_sharedAccessKey = key;
    return cs;
}

ConnectionString ConnectionString::deviceWithKey(const QString &hostName, const QString &deviceId, const QString &key)
{
    ConnectionString cs;
    cs.m_kind = Kind::Device;
    cs.m_credential = Credential::SharedAccessKey;
    cs.m_hostName = hostName;
    cs.m_deviceId = deviceId;
    cs.m_sharedAccessKey = key;
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

QString ConnectionString::hubName() const
{
    return m_hostName.section(u'.', 0, 0);
}

QString ConnectionString::build(bool masked) const
{
    QStringList parts;
    auto add = [&parts](const QString &key, const QString &value) {
        if (!value.isEmpty())
            parts.append(key + u'=' + value);
    };
    add(kHostName, m_hostName);
    add(kDeviceId, m_deviceId);
    add(kModuleId, m_moduleId);
    add(kKeyName, m_sharedAccessKeyName);
    add(kKey, masked && !m_sharedAccessKey.isEmpty() ? mask : m_sharedAccessKey);
    if (!m_sharedAccessSignature.isEmpty()) {
        QString token = m_sharedAccessSignature;
        if (masked) {
            const qsizetype sig = token.indexOf(QStringLiteral("sig="));
            if (sig >= 0) {
                const qsizetype end = token.indexOf(u'&', sig);
                token.replace(sig + 4, (end < 0 ? token.size() : end) - sig - 4, mask);
            }
        }
        add(kSignature, token);
    }
    if (m_credential == Credential::X509)
        add(kX509, QStringLiteral("true"));
    add(kGateway, m_gatewayHostName);
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
