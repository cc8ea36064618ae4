#include "provisioningprofile.h"

#include "hub/identifiers.h"
#include "modem/modemcredentialstore.h"
#include "modem/nrf91modem.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSaveFile>

#include <cmath>

namespace Onboarder {

namespace {

Error invalid(const QString &code, const QString &message)
{
    return Error{ErrorKind::InvalidInput, code, message};
}

// A non-negative integer key, or the error that names it.
Result<std::optional<qint64>> integerKey(const QJsonObject &json, const QString &key, qint64 min, qint64 max)
{
    const QJsonValue value = json.value(key);
    if (value.isUndefined() || value.isNull())
        return std::optional<qint64>();
    const double number = value.toDouble(-1.0);
    // In range before the whole-number check: converting a double beyond qint64 is undefined (fuzz_configjson).
    if (!value.isDouble() || !(number >= double(min) && number <= double(max)) || number != std::floor(number))
        return std::unexpected(invalid(QStringLiteral("ProfileInvalidNumber"),
            ProvisioningProfile::tr("\"%1\" in the provisioning profile must be a whole number from %2 to %3.")
                .arg(key)
                .arg(min)
                .arg(max)));
    return std::optional<qint64>(qint64(number));
}

Result<QString> stringKey(const QJsonObject &json, const QString &key, const QString &fallback)
{
    const QJsonValue value = json.value(key);
    if (value.isUndefined())
        return fallback;
    if (!value.isString())
        return std::unexpected(invalid(QStringLiteral("ProfileInvalidText"),
            ProvisioningProfile::tr("\"%1\" in the provisioning profile must be text.").arg(key)));
    return value.toString();
}

const QStringList &knownKeys()
{
    static const QStringList keys{QStringLiteral("hub"), QStringLiteral("deviceIdTemplate"), QStringLiteral("prefix"),
        QStringLiteral("auth"), QStringLiteral("ca"), QStringLiteral("hubAuth"), QStringLiteral("keyBirth"),
        QStringLiteral("keepKeyOnPc"), QStringLiteral("keyType"), QStringLiteral("validityDays"),
        QStringLiteral("secTag"), QStringLiteral("secondarySecTag"), QStringLiteral("twinTags"),
        QStringLiteral("registration"), QStringLiteral("dps"), QStringLiteral("enrollment"),
        QStringLiteral("enrollmentGroup"), QStringLiteral("testRegistration"), QStringLiteral("name"),
        QStringLiteral("$schema")};
    return keys;
}

} // namespace

QString ProvisioningProfile::authName(Auth auth)
{
    return auth == Auth::SelfSigned ? QStringLiteral("x509-self-signed") : QStringLiteral("x509-ca");
}

QString ProvisioningProfile::keyBirthName(KeyBirth birth)
{
    return birth == KeyBirth::Pc ? QStringLiteral("pc") : QStringLiteral("modem");
}

QString ProvisioningProfile::hubAuthName(HubAuth auth)
{
    return auth == HubAuth::Thumbprint ? QStringLiteral("thumbprint") : QStringLiteral("ca");
}

QString ProvisioningProfile::registrationName(Registration registration)
{
    return registration == Registration::Hub ? QStringLiteral("hub") : QStringLiteral("dps");
}

QString ProvisioningProfile::enrollmentName(Enrollment enrollment)
{
    return enrollment == Enrollment::Individual ? QStringLiteral("individual") : QStringLiteral("group");
}

QString ProvisioningProfile::hubAuthType() const
{
    if (registration == Registration::Dps)
        return QStringLiteral(
            "selfSigned"); // what DPS makes of an X.509 attestation; the job reports what the hub holds
    return auth == Auth::CaSigned && hubAuth == HubAuth::CertificateAuthority ? QStringLiteral("certificateAuthority")
                                                                              : QStringLiteral("selfSigned");
}

Result<ProvisioningProfile> ProvisioningProfile::fromJson(const QJsonObject &json)
{
    for (auto it = json.begin(); it != json.end(); ++it) {
        if (!knownKeys().contains(it.key()))
            return std::unexpected(invalid(QStringLiteral("ProfileUnknownKey"),
                tr("The provisioning profile has an unknown key \"%1\"; known keys are %2.")
                    .arg(it.key(), knownKeys().mid(0, knownKeys().size() - 2).join(QStringLiteral(", ")))));
    }
    ProvisioningProfile profile;
    auto hub = stringKey(json, QStringLiteral("hub"), {});
    auto idTemplate = stringKey(json, QStringLiteral("deviceIdTemplate"), profile.deviceIdTemplate);
    auto prefix = stringKey(json, QStringLiteral("prefix"), {});
    auto auth = stringKey(json, QStringLiteral("auth"), authName(profile.auth));
    auto ca = stringKey(json, QStringLiteral("ca"), {});
    auto keyBirth = stringKey(json, QStringLiteral("keyBirth"), keyBirthName(profile.keyBirth));
    auto keyType = stringKey(json, QStringLiteral("keyType"), QStringLiteral("ec-p256"));
    auto registration = stringKey(json, QStringLiteral("registration"), registrationName(profile.registration));
    auto dps = stringKey(json, QStringLiteral("dps"), {});
    auto enrollment = stringKey(json, QStringLiteral("enrollment"), enrollmentName(profile.enrollment));
    auto group = stringKey(json, QStringLiteral("enrollmentGroup"), {});
    for (const auto *text :
        {&hub, &idTemplate, &prefix, &auth, &ca, &keyBirth, &keyType, &registration, &dps, &enrollment, &group}) {
        if (!*text)
            return std::unexpected(text->error());
    }
    profile.hub = *hub;
    profile.deviceIdTemplate = *idTemplate;
    profile.prefix = *prefix;
    profile.caName = *ca;

    if (*auth == QStringLiteral("x509-self-signed"))
        profile.auth = Auth::SelfSigned;
    else if (*auth == QStringLiteral("x509-ca"))
        profile.auth = Auth::CaSigned;
    else
        return std::unexpected(invalid(QStringLiteral("ProfileInvalidAuth"),
            tr("\"auth\" is \"x509-self-signed\" or \"x509-ca\", not \"%1\". (Modems authenticate with "
               "X.509 certificates; SAS keys cannot be flashed as credentials.)")
                .arg(*auth)));
    if (*keyBirth == QStringLiteral("pc"))
        profile.keyBirth = KeyBirth::Pc;
    else if (*keyBirth == QStringLiteral("modem"))
        profile.keyBirth = KeyBirth::Modem;
    else
        return std::unexpected(invalid(QStringLiteral("ProfileInvalidKeyBirth"),
            tr("\"keyBirth\" is \"pc\" or \"modem\", not \"%1\".").arg(*keyBirth)));
    if (*keyType != QStringLiteral("ec-p256"))
        return std::unexpected(invalid(QStringLiteral("ProfileInvalidKeyType"),
            tr("\"keyType\" can only be \"ec-p256\": the nRF91 modem's TLS stack takes EC P-256 keys.")));

    if (*registration == QStringLiteral("hub")) {
        profile.registration = Registration::Hub;
        for (const char *key : {"dps", "enrollment", "enrollmentGroup", "testRegistration"}) {
            if (json.contains(QLatin1String(key)))
                return std::unexpected(invalid(QStringLiteral("ProfileDpsKeyWithoutDps"),
                    tr("\"%1\" applies to provisioning through DPS only; add \"registration\": \"dps\" or "
                       "remove it.")
                        .arg(QLatin1String(key))));
        }
    } else if (*registration == QStringLiteral("dps")) {
        profile.registration = Registration::Dps;
    } else {
        return std::unexpected(invalid(QStringLiteral("ProfileInvalidRegistration"),
            tr("\"registration\" is \"hub\" (the station registers each device in the hub) or \"dps\" (it "
               "enrolls each device in a Device Provisioning Service), not \"%1\".")
                .arg(*registration)));
    }
    profile.dps = *dps;
    profile.enrollmentGroup = *group;
    if (*enrollment == QStringLiteral("individual"))
        profile.enrollment = Enrollment::Individual;
    else if (*enrollment == QStringLiteral("group"))
        profile.enrollment = Enrollment::Group;
    else
        return std::unexpected(invalid(QStringLiteral("ProfileInvalidEnrollment"),
            tr("\"enrollment\" is \"individual\" (one enrollment per device, with its certificate) or "
               "\"group\" (an enrollment group whose CA signs the devices' certificates), not \"%1\".")
                .arg(*enrollment)));
    const QJsonValue test = json.value(QStringLiteral("testRegistration"));
    if (!test.isUndefined() && !test.isBool())
        return std::unexpected(
            invalid(QStringLiteral("ProfileInvalidFlag"), tr("\"testRegistration\" must be true or false.")));
    profile.testRegistration
        = profile.registration == Registration::Dps && test.toBool(profile.keyBirth == KeyBirth::Pc);

    const QJsonValue hubAuth = json.value(QStringLiteral("hubAuth"));
    if (profile.registration == Registration::Dps) {
        if (!hubAuth.isUndefined())
            return std::unexpected(invalid(QStringLiteral("ProfileHubAuthWithDps"),
                tr("\"hubAuth\" does not apply with \"registration\": \"dps\": DPS makes the hub device "
                   "from the enrollment. Remove it.")));
        profile.hubAuth = HubAuth::Thumbprint;
    } else if (hubAuth.isUndefined()) {
        profile.hubAuth = profile.auth == Auth::CaSigned ? HubAuth::CertificateAuthority : HubAuth::Thumbprint;
    } else if (hubAuth.toString() == QStringLiteral("thumbprint")) {
        profile.hubAuth = HubAuth::Thumbprint;
    } else if (hubAuth.toString() == QStringLiteral("ca")) {
        profile.hubAuth = HubAuth::CertificateAuthority;
    } else {
        return std::unexpected(invalid(QStringLiteral("ProfileInvalidHubAuth"),
            tr("\"hubAuth\" is \"thumbprint\" (the hub knows the device by its certificate's thumbprint) or "
               "\"ca\" (the hub trusts the CA that signed it).")));
    }

    const QJsonValue keep = json.value(QStringLiteral("keepKeyOnPc"));
    if (!keep.isUndefined() && !keep.isBool())
        return std::unexpected(
            invalid(QStringLiteral("ProfileInvalidFlag"), tr("\"keepKeyOnPc\" must be true or false.")));
    profile.keepKeyOnPc = keep.toBool(true);

    auto validity = integerKey(json, QStringLiteral("validityDays"), 1, 36500);
    auto secTag = integerKey(json, QStringLiteral("secTag"), 0, 2147483647);
    auto secondary = integerKey(json, QStringLiteral("secondarySecTag"), 0, 2147483647);
    for (const auto *number : {&validity, &secTag, &secondary}) {
        if (!*number)
            return std::unexpected(number->error());
    }
    profile.validityDays = int(validity->value_or(profile.validityDays));
    profile.secTag = quint32(secTag->value_or(profile.secTag));
    if (json.contains(QStringLiteral("secondarySecTag"))) {
        if (const auto &value = *secondary; value) // null: one security tag for both roots
            profile.secondarySecTag = quint32(*value);
        else
            profile.secondarySecTag = std::nullopt;
    }

    const QJsonValue tags = json.value(QStringLiteral("twinTags"));
    if (!tags.isUndefined() && !tags.isObject())
        return std::unexpected(invalid(QStringLiteral("ProfileInvalidTwinTags"),
            tr("\"twinTags\" must be a JSON object, e.g. {\"site\": \"bench-1\"}.")));
    profile.twinTags = tags.toObject();

    if (auto ok = profile.validate(); !ok)
        return std::unexpected(ok.error());
    return profile;
}

Result<void> ProvisioningProfile::validate() const
{
    if (hub.isEmpty())
        return std::unexpected(
            invalid(QStringLiteral("ProfileNoHub"), tr("The provisioning profile names no hub (\"hub\").")));
    if (deviceIdTemplate.isEmpty())
        return std::unexpected(
            invalid(QStringLiteral("ProfileNoTemplate"), tr("The device id template is empty; e.g. \"nrf-{imei}\".")));
    static const QRegularExpression placeholder(QStringLiteral("\\{([^}]*)\\}"));
    static const QStringList known{QStringLiteral("imei"), QStringLiteral("imei6"), QStringLiteral("uuid"),
        QStringLiteral("serial"), QStringLiteral("prefix")};
    for (auto it = placeholder.globalMatch(deviceIdTemplate); it.hasNext();) {
        const QString name = it.next().captured(1);
        if (!known.contains(name))
            return std::unexpected(invalid(QStringLiteral("ProfileUnknownPlaceholder"),
                tr("The device id template has an unknown placeholder {%1}; use {imei}, {imei6}, {uuid}, "
                   "{serial} or {prefix}.")
                    .arg(name)));
    }
    if (deviceIdTemplate.contains(QStringLiteral("{prefix}")) && prefix.isEmpty())
        return std::unexpected(invalid(QStringLiteral("ProfileNoPrefix"),
            tr("The device id template uses {prefix}, but the profile gives no \"prefix\".")));
    if (auth == Auth::CaSigned && caName.isEmpty())
        return std::unexpected(invalid(QStringLiteral("ProfileNoCa"),
            tr("\"auth\": \"x509-ca\" needs \"ca\": the name of a CA imported into the keychain "
               "(onboarder-cli cred import-ca).")));
    if (keyBirth == KeyBirth::Modem && auth != Auth::CaSigned)
        return std::unexpected(invalid(QStringLiteral("ProfileModemKeyNeedsCa"),
            tr("A key born in the modem needs \"auth\": \"x509-ca\": only a CA can sign the modem's "
               "certificate request (the key never leaves the modem, so nothing else can sign it).")));
    if (auth == Auth::SelfSigned && hubAuth == HubAuth::CertificateAuthority)
        return std::unexpected(invalid(QStringLiteral("ProfileSelfSignedNeedsThumbprint"),
            tr("A self-signed device is known to the hub by its thumbprint; \"hubAuth\": \"ca\" needs "
               "\"auth\": \"x509-ca\".")));
    if (auto ok = ModemCredentialStore::checkUserTag(secTag); !ok)
        return std::unexpected(ok.error());
    if (secondarySecTag) {
        if (auto ok = ModemCredentialStore::checkUserTag(*secondarySecTag); !ok)
            return std::unexpected(ok.error());
        if (*secondarySecTag == secTag)
            return std::unexpected(invalid(QStringLiteral("ProfileSameTags"),
                tr("\"secondarySecTag\" must differ from \"secTag\" (or be null to keep both roots in "
                   "\"secTag\").")));
    }
    if (validityDays < 1)
        return std::unexpected(
            invalid(QStringLiteral("ProfileInvalidNumber"), tr("\"validityDays\" must be at least 1.")));
    if (registration == Registration::Dps) {
        if (dps.isEmpty())
            return std::unexpected(invalid(QStringLiteral("ProfileNoDps"),
                tr("Provisioning through DPS needs \"dps\": the name of a DPS added here (onboarder-cli dps "
                   "add).")));
        if (enrollment == Enrollment::Group) {
            if (enrollmentGroup.isEmpty())
                return std::unexpected(invalid(QStringLiteral("ProfileNoEnrollmentGroup"),
                    tr("\"enrollment\": \"group\" needs \"enrollmentGroup\": the id of the enrollment group "
                       "in DPS.")));
            if (auth != Auth::CaSigned)
                return std::unexpected(invalid(QStringLiteral("ProfileGroupNeedsCa"),
                    tr("An enrollment group admits devices whose certificate its CA signed: it needs "
                       "\"auth\": \"x509-ca\" with \"ca\" the CA the group holds.")));
            if (!twinTags.isEmpty())
                return std::unexpected(invalid(QStringLiteral("ProfileGroupTwinTags"),
                    tr("Devices of an enrollment group get the group's initial twin; set the tags there and "
                       "remove \"twinTags\" from the profile.")));
        }
        if (testRegistration && keyBirth == KeyBirth::Modem)
            return std::unexpected(invalid(QStringLiteral("ProfileTestRegistrationNeedsKey"),
                tr("A test registration from the bench needs the device's key on this computer; a key "
                   "made in the modem never leaves it. Set \"testRegistration\": false (the modem "
                   "registers when it first connects).")));
    }
    return {};
}

QJsonObject ProvisioningProfile::toJson() const
{
    QJsonObject json{{QStringLiteral("hub"), hub}, {QStringLiteral("deviceIdTemplate"), deviceIdTemplate},
        {QStringLiteral("auth"), authName(auth)}, {QStringLiteral("keyBirth"), keyBirthName(keyBirth)},
        {QStringLiteral("keyType"), QStringLiteral("ec-p256")}, {QStringLiteral("validityDays"), validityDays},
        {QStringLiteral("secTag"), qint64(secTag)},
        {QStringLiteral("secondarySecTag"), secondarySecTag ? QJsonValue(qint64(*secondarySecTag)) : QJsonValue()},
        {QStringLiteral("twinTags"), twinTags}};
    if (!prefix.isEmpty())
        json.insert(QStringLiteral("prefix"), prefix);
    if (auth == Auth::CaSigned) {
        json.insert(QStringLiteral("ca"), caName);
        json.insert(QStringLiteral("hubAuth"), hubAuthName(hubAuth));
    }
    if (keyBirth == KeyBirth::Pc)
        json.insert(QStringLiteral("keepKeyOnPc"), keepKeyOnPc);
    if (registration == Registration::Dps) {
        json.remove(QStringLiteral("hubAuth"));
        json.insert(QStringLiteral("registration"), registrationName(registration));
        json.insert(QStringLiteral("dps"), dps);
        json.insert(QStringLiteral("enrollment"), enrollmentName(enrollment));
        if (enrollment == Enrollment::Group)
            json.insert(QStringLiteral("enrollmentGroup"), enrollmentGroup);
        json.insert(QStringLiteral("testRegistration"), testRegistration);
    }
    return json;
}

Result<ProvisioningProfile> ProvisioningProfile::load(const QString &filePath)
{
    QFile file(filePath);
    if (!file.open(QIODevice::ReadOnly))
        return std::unexpected(invalid(QStringLiteral("ProfileUnreadable"),
            tr("Cannot read the provisioning profile %1: %2").arg(filePath, file.errorString())));
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &error);
    if (error.error != QJsonParseError::NoError)
        return std::unexpected(invalid(QStringLiteral("ProfileNotJson"),
            tr("The provisioning profile %1 is not valid JSON: %2 at character %3.")
                .arg(filePath, error.errorString())
                .arg(error.offset)));
    if (!document.isObject())
        return std::unexpected(invalid(QStringLiteral("ProfileNotJson"),
            tr("The provisioning profile %1 must be one JSON object.").arg(filePath)));
    return fromJson(document.object());
}

Result<void> ProvisioningProfile::save(const QString &filePath) const
{
    QSaveFile file(filePath);
    if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(toJson()).toJson(QJsonDocument::Indented)) < 0
        || !file.commit())
        return fail(ErrorKind::InvalidInput, QStringLiteral("ProfileUnwritable"),
            tr("Cannot write the provisioning profile %1: %2").arg(filePath, file.errorString()));
    return {};
}

Result<QString> ProvisioningProfile::deviceId(const ModemIdentity &identity, const QString &usbSerial) const
{
    QString id = deviceIdTemplate;
    const auto need = [&](const QString &name, const QString &value, const QString &what) -> Result<void> {
        const QString placeholder = u'{' + name + u'}';
        if (!id.contains(placeholder))
            return {};
        if (value.isEmpty())
            return std::unexpected(invalid(QStringLiteral("DeviceIdPartMissing"),
                tr("The device id template uses {%1}, but %2.").arg(name, what)));
        id.replace(placeholder, value);
        return {};
    };
    for (const auto &ok : {need(QStringLiteral("imei"), identity.imei, tr("the modem gave no IMEI")),
             need(QStringLiteral("imei6"), identity.imei.right(6), tr("the modem gave no IMEI")),
             need(QStringLiteral("uuid"), identity.modemUuid, tr("the modem's firmware gives no UUID")),
             need(QStringLiteral("serial"), usbSerial, tr("the port is no USB device with a serial number")),
             need(QStringLiteral("prefix"), prefix, tr("the profile gives no prefix"))}) {
        if (!ok)
            return std::unexpected(ok.error());
    }
    if (auto ok = Identifiers::validateDeviceId(id); !ok)
        return std::unexpected(invalid(ok.error().code,
            tr("The device id \"%1\" made from the template \"%2\" is not valid: %3")
                .arg(id, deviceIdTemplate, ok.error().message)));
    return id;
}

} // namespace Onboarder
