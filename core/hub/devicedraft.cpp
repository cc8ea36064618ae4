#include "devicedraft.h"

#include "credentials/certificate.h"
#include "hub/identifiers.h"

#include <QCoreApplication>
#include <QFile>
#include <QRandomGenerator>
#include <QRegularExpression>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(DeviceDraft)
};

QString keyProblem(const QString &key, bool required)
{
    if (key.isEmpty())
        return required ? Text::tr("Enter a key, or let the hub generate them.") : QString();
    const auto decoded = QByteArray::fromBase64Encoding(key.toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || key.toLatin1() != key.toUtf8())
        return Text::tr("A key is base64 text (letters, digits, + / and = at the end).");
    if (decoded.decoded.size() < 16 || decoded.decoded.size() > 64)
        return Text::tr("A key must be 16 to 64 bytes long; this one is %1 bytes.").arg(decoded.decoded.size());
    return {};
}

QString thumbprintProblem(const QString &thumbprint, bool required)
{
    static const QRegularExpression hex(QStringLiteral("^[0-9A-Fa-f]*$"));
    if (thumbprint.isEmpty())
        return required ? Text::tr("Enter the certificate's thumbprint, or take it from the certificate file.")
                        : QString();
    if (!hex.match(thumbprint).hasMatch())
        return Text::tr("A thumbprint is hexadecimal digits only (0–9, A–F), without colons or spaces.");
    if (thumbprint.size() != 40 && thumbprint.size() != 64)
        return Text::tr("A thumbprint has 40 digits (SHA-1) or 64 digits (SHA-256); this one has %1.")
            .arg(thumbprint.size());
    return {};
}

} // namespace

QList<DeviceDraft::Problem> DeviceDraft::problems() const
{
    QList<Problem> found;
    if (const auto valid = Identifiers::validateDeviceId(id); !valid)
        found.append({Field::Id, valid.error().message});
    if (auth == Auth::Sas && !generateKeys) {
        if (const QString p = keyProblem(primaryKey, true); !p.isEmpty())
            found.append({Field::PrimaryKey, p});
        if (const QString p = keyProblem(secondaryKey, true); !p.isEmpty())
            found.append({Field::SecondaryKey, p});
        else if (!primaryKey.isEmpty() && primaryKey == secondaryKey)
            found.append({Field::SecondaryKey,
                Text::tr("Use a different key than the primary one, so that either can be "
                         "replaced without cutting the device off.")});
    }
    if (auth == Auth::SelfSigned && !generateCertificate) {
        if (const QString p = thumbprintProblem(primaryThumbprint, true); !p.isEmpty())
            found.append({Field::PrimaryThumbprint, p});
        if (const QString p = thumbprintProblem(secondaryThumbprint, false); !p.isEmpty())
            found.append({Field::SecondaryThumbprint, p});
    }
    return found;
}

QString DeviceDraft::problem(Field field) const
{
    for (const Problem &p : problems())
        if (p.field == field)
            return p.message;
    return {};
}

DeviceIdentity DeviceDraft::toIdentity() const
{
    DeviceIdentity device;
    device.id = id;
    device.status = enabled ? QStringLiteral("enabled") : QStringLiteral("disabled");
    switch (auth) {
    case Auth::Sas:
        device.authType = QStringLiteral("sas");
        if (!generateKeys) {
            device.primaryKey = primaryKey;
            device.secondaryKey = secondaryKey;
        }
        break;
    case Auth::SelfSigned:
        device.authType = QStringLiteral("selfSigned");
        device.primaryThumbprint = primaryThumbprint.toUpper();
        device.secondaryThumbprint = secondaryThumbprint.toUpper();
        break;
    case Auth::CertificateAuthority: device.authType = QStringLiteral("certificateAuthority"); break;
    }
    return device;
}

Result<QString> DeviceDraft::thumbprintFromCertificateFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorKind::InvalidInput, QStringLiteral("FileUnreadable"),
            Text::tr("Cannot read %1: %2.").arg(path, file.errorString()));
    const QByteArray bytes = file.readAll();
    const auto cert = bytes.contains("-----BEGIN") ? Certificate::fromPem(bytes) : Certificate::fromDer(bytes);
    if (!cert)
        return std::unexpected(cert.error());
    return cert->thumbprintSha1();
}

QString DeviceDraft::randomKey()
{
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()), bytes.size() / 4);
    return QString::fromLatin1(bytes.toBase64());
}

} // namespace Onboarder
