#include "modemstate.h"

#include "credentials/keypair.h"
#include "credentials/securefile.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUuid>

namespace Onboarder::Sandbox {

QString ModemState::sha256Hex(const QByteArray &content)
{
    return QString::fromLatin1(QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex().toUpper());
}

qint64 ModemState::storedBytes() const
{
    qint64 total = 0;
    for (const auto &[key, credential] : credentials)
        total += credential.content.size();
    return total;
}

void ModemState::addModemOwnedEntries()
{
    // Nordic's identity root and the modem's own key material live above the user range.
    credentials[{4294967292u, 0}] = {QByteArrayLiteral("modem-owned nordic identity root"), {}, true};
    // The device identity key signs the COSE part of %KEYGEN answers.
    if (auto key = KeyPair::generate(KeyPair::Type::EcP256))
        credentials[{identityKeyTag, 2}] = {key->privateKeyPem().exposeForWire(), {}, true};
    credentials[{2147483648u, 0}] = {QByteArrayLiteral("modem-owned decrypt-tag root"), {}, true};
}

bool ModemState::load(const QString &path, QString *error)
{
    m_path = path;
    QFile file(path);
    if (path.isEmpty() || !file.exists()) {
        deviceUuid = QUuid::createUuid().toString(QUuid::WithoutBraces);
        addModemOwnedEntries();
        return save(error);
    }
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return false;
    }
    QJsonParseError parseError;
    const QJsonObject json = QJsonDocument::fromJson(file.readAll(), &parseError).object();
    if (parseError.error != QJsonParseError::NoError) {
        *error = QStringLiteral("%1 is not a state file: %2").arg(path, parseError.errorString());
        return false;
    }
    imei = json.value(QStringLiteral("imei")).toString(imei);
    deviceUuid = json.value(QStringLiteral("deviceUuid")).toString(QUuid::createUuid().toString(QUuid::WithoutBraces));
    credentials.clear();
    const QJsonArray entries = json.value(QStringLiteral("credentials")).toArray();
    for (const auto &value : entries) {
        const QJsonObject entry = value.toObject();
        const auto tag = quint32(entry.value(QStringLiteral("tag")).toInteger());
        const int type = entry.value(QStringLiteral("type")).toInt();
        credentials[{tag, type}]
            = {QByteArray::fromBase64(entry.value(QStringLiteral("content")).toString().toLatin1()),
                QByteArray::fromBase64(entry.value(QStringLiteral("password")).toString().toLatin1()),
                entry.value(QStringLiteral("generated")).toBool()};
    }
    return true;
}

bool ModemState::save(QString *error) const
{
    if (m_path.isEmpty())
        return true;
    QJsonArray entries;
    for (const auto &[key, credential] : credentials) {
        QJsonObject entry{{QStringLiteral("tag"), qint64(key.first)}, {QStringLiteral("type"), key.second},
            {QStringLiteral("content"), QString::fromLatin1(credential.content.toBase64())},
            {QStringLiteral("sha256"), sha256Hex(credential.content)}};
        if (!credential.password.isEmpty())
            entry.insert(QStringLiteral("password"), QString::fromLatin1(credential.password.toBase64()));
        if (credential.generated)
            entry.insert(QStringLiteral("generated"), true);
        entries.append(entry);
    }
    const QJsonObject json{{QStringLiteral("imei"), imei}, {QStringLiteral("deviceUuid"), deviceUuid},
        {QStringLiteral("credentials"), entries}};
    // It holds the simulated modem's private keys (test keys, but keys).
    // Flashed private keys live here: never readable by others, not even for the moment before a chmod.
    if (auto written = SecureFile::replace(m_path, QJsonDocument(json).toJson()); !written) {
        *error = written.error().message;
        return false;
    }
    return true;
}

} // namespace Onboarder::Sandbox
