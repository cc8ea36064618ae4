// The hand-over of a connection string, shared by device connection-string and module connection-string.
#include "handover.h"

#include "common/duration.h"
#include "credentials/secretexport.h"
#include "credentials/securefile.h"
#include "exportcli.h"
#include "hub/connectionstring.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>

namespace Onboarder::Cli {

namespace {

// The longest an expiring hand-over (--expires) may last.
constexpr qint64 MaxHandOverSeconds = 365LL * 24 * 3600;

// The identity's connection string as the options ask, with expiresAt in expiring for --expires.
Result<ConnectionString> build(
    const HandOverOptions &options, const HandOverIdentity &identity, const QString &host, QJsonObject &expiring)
{
    const bool x509 = identity.authType == QStringLiteral("selfSigned")
        || identity.authType == QStringLiteral("certificateAuthority");
    const QString name = identity.moduleId.isEmpty()
        ? CliText::tr("The device \"%1\"").arg(identity.deviceId)
        : CliText::tr("The module \"%1\" of device \"%2\"").arg(identity.moduleId, identity.deviceId);
    if (x509 && options.validFor > 0)
        return fail(ErrorKind::Conflict, QStringLiteral("NoKeyToSignWith"),
            CliText::tr("%1 authenticates with an X.509 certificate: there is no key to sign an expiring token with, "
                        "and its connection string holds no secret.")
                .arg(name));
    const auto ofIdentity = [&identity](const ConnectionString &device) {
        return identity.moduleId.isEmpty() ? device : device.forModule(identity.moduleId);
    };
    if (x509)
        return ofIdentity(ConnectionString::deviceWithX509(host, identity.deviceId));
    if (identity.authType != QStringLiteral("sas"))
        return fail(ErrorKind::Conflict, QStringLiteral("NoCredential"),
            CliText::tr("%1 has no authentication, so it has no connection string.").arg(name));
    const QString key = options.secondary ? identity.secondaryKey : identity.primaryKey;
    if (options.validFor > 0) {
        const qint64 expiry = QDateTime::currentSecsSinceEpoch() + options.validFor;
        auto made = ConnectionString::deviceWithExpiringToken(
            host, identity.deviceId, SecretBytes::fromString(QString(key)), expiry, identity.moduleId);
        if (made)
            expiring.insert(
                QStringLiteral("expiresAt"), QDateTime::fromSecsSinceEpoch(expiry, Qt::UTC).toString(Qt::ISODate));
        return made;
    }
    return ofIdentity(ConnectionString::deviceWithKey(host, identity.deviceId, key));
}

} // namespace

void addHandOverOptions(VerbParser &p)
{
    p.addOption({QStringLiteral("secondary"), CliText::tr("With the secondary key.")});
    p.addOption({QStringLiteral("expires"),
        CliText::tr("A connection string without the key, with a SAS token valid for DURATION (e.g. 30m, 12h, 7d; at "
                    "most 365d), signed with the key."),
        CliText::tr("DURATION")});
    p.addOption({QStringLiteral("reveal"), CliText::tr("Print the key itself (mind who sees your terminal).")});
    p.addOption(gpgRecipientOption());
    p.addOption({QStringLiteral("out"),
        CliText::tr("Write to FILE (new, readable by you only), with --gpg or --unencrypted."), CliText::tr("FILE")});
    p.addOption({QStringLiteral("unencrypted"),
        CliText::tr("With --out: write the connection string as plain text. Prefer --gpg.")});
    p.addOption({QStringLiteral("qr"),
        CliText::tr("Print a QR code of the connection string (needs --reveal: anyone who sees it has the key).")});
}

std::variant<HandOverOptions, int> handOverOptions(const Output &out, const VerbParser &p)
{
    HandOverOptions options;
    options.secondary = p.isSet(QStringLiteral("secondary"));
    options.reveal = p.isSet(QStringLiteral("reveal"));
    options.recipient = p.value(QStringLiteral("gpg"));
    options.out = p.value(QStringLiteral("out"));
    options.unencrypted = p.isSet(QStringLiteral("unencrypted"));
    options.qr = p.isSet(QStringLiteral("qr"));
    if (p.isSet(QStringLiteral("expires"))) {
        const auto parsed = Duration::parseSeconds(p.value(QStringLiteral("expires")), MaxHandOverSeconds);
        if (!parsed)
            return out.usage(parsed.error().message);
        options.validFor = *parsed;
    }
    if (p.isSet(QStringLiteral("gpg")) == options.out.isEmpty() && !options.unencrypted)
        return out.usage(CliText::tr("--gpg RECIPIENT and --out FILE go together."));
    if (options.unencrypted && (options.out.isEmpty() || p.isSet(QStringLiteral("gpg"))))
        return out.usage(CliText::tr("--unencrypted goes with --out FILE and without --gpg."));
    if (options.qr && !options.reveal)
        return out.usage(CliText::tr("A QR code shows the key to anyone who sees it: ask for it with --qr --reveal."));
    if (!options.out.isEmpty()) {
        if (auto ok = SecureFile::checkNew(options.out); !ok)
            return out.error(ok.error());
    }
    return options;
}

QFuture<int> handOver(
    const Output &output, const HandOverOptions &options, const HandOverIdentity &identity, const QString &host)
{
    QJsonObject expiring; // expiresAt, for --expires
    const auto built = build(options, identity, host, expiring);
    if (!built)
        return finished(output.error(built.error()));
    const ConnectionString &cs = *built;
    const QString deviceId = identity.deviceId;
    QJsonObject json = expiring;
    if (!identity.moduleId.isEmpty())
        json.insert(QStringLiteral("moduleId"), identity.moduleId);
    const QString until = expiring.value(QStringLiteral("expiresAt")).toString();
    const QString what = identity.moduleId.isEmpty()
        ? (until.isEmpty() ? CliText::tr("the connection string")
                           : CliText::tr("the connection string valid until %1").arg(until))
        : (until.isEmpty()
                ? CliText::tr("the connection string of module \"%1\"").arg(identity.moduleId)
                : CliText::tr("the connection string of module \"%1\" valid until %2").arg(identity.moduleId, until));
    if (options.unencrypted) {
        if (auto written = SecretExport::toPlaintextFile(SecretBytes::fromString(cs.toString()), options.out, true);
            !written)
            return finished(output.error(written.error()));
        output.text(CliText::tr("Wrote %1 of \"%2\" UNENCRYPTED to %3 (mode 0600). Delete it once it has been "
                                "handed over.")
                        .arg(what, deviceId, options.out));
        json.insert(QStringLiteral("deviceId"), deviceId);
        json.insert(QStringLiteral("file"), options.out);
        json.insert(QStringLiteral("format"), QStringLiteral("plaintext"));
        output.document(json);
        return finished(ExitOk);
    }
    if (!options.out.isEmpty()) {
        return SecretExport::toOpenPgpFile(SecretBytes::fromString(cs.toString()), options.recipient, options.out)
            .then([output, what, deviceId, file = options.out, json](Result<OpenPgpEncryptor::Encrypted> done) {
                return reportOpenPgpFile(output, what, deviceId, file, done, json);
            });
    }
    const QString text = options.reveal ? cs.toString() : cs.toMaskedString();
    output.text(text);
    json.insert(QStringLiteral("deviceId"), deviceId);
    json.insert(QStringLiteral("connectionString"), text);
    if (options.qr) {
        const auto code = SecretExport::toQrCode(SecretBytes::fromString(QString(text)));
        if (!code)
            return finished(output.error(code.error()));
        output.text(code->toText());
        QJsonArray rows;
        for (int y = 0; y < code->size(); ++y) {
            QString row;
            for (int x = 0; x < code->size(); ++x)
                row += code->isDark(x, y) ? u'1' : u'0';
            rows.append(row);
        }
        json.insert(QStringLiteral("qr"), rows);
    }
    output.document(json);
    return finished(ExitOk);
}

} // namespace Onboarder::Cli
