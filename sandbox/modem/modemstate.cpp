#include "modemstate.h"

#include "credentials/keypair.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUuid>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Onboarder::Sandbox {

namespace {

// Replaces path with data through a new file that is 0600 from its creation (mkostemp), whatever the
// umask and the mode of the file it replaces: it holds private keys, and QSaveFile would make a new file
// with the umask's mode (or keep the old file's) until it was changed afterwards.
bool writeOwnerOnly(const QString &path, const QByteArray &data, QString *error)
{
    QByteArray name = QFile::encodeName(path) + ".XXXXXX";
    const int fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    bool ok = ::fchmod(fd, S_IRUSR | S_IWUSR) == 0;
    qsizetype written = 0;
    while (ok && written < data.size()) {
        const ssize_t n = ::write(fd, data.constData() + written, size_t(data.size() - written));
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        written += ok ? n : 0;
    }
    ok = ok && ::fsync(fd) == 0;
    ok = ::close(fd) == 0 && ok;
    ok = ok && ::rename(name.constData(), QFile::encodeName(path).constData()) == 0;
    if (!ok) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        ::unlink(name.constData());
        return false;
    }
    return true;
}

} // namespace

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
        credentials[{identityKeyTag, 2}] = {key->privateKeyPem(), {}, true};
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
    for (const QJsonValue &value : entries) {
        const QJsonObject entry = value.toObject();
        const auto tag = quint32(entry.value(QStringLiteral("tag")).toInteger());
        const int type = entry.value(QStringLiteral("type")).toInt();
        credentials[{tag, type}] = {QByteArray::fromBase64(entry.value(QStringLiteral("content")).toString().toLatin1()),
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
        QJsonObject entry{{QStringLiteral("tag"), qint64(key.first)},
                          {QStringLiteral("type"), key.second},
                          {QStringLiteral("content"), QString::fromLatin1(credential.content.toBase64())},
                          {QStringLiteral("sha256"), sha256Hex(credential.content)}};
        if (!credential.password.isEmpty())
            entry.insert(QStringLiteral("password"), QString::fromLatin1(credential.password.toBase64()));
        if (credential.generated)
            entry.insert(QStringLiteral("generated"), true);
        entries.append(entry);
    }
    const QJsonObject json{{QStringLiteral("imei"), imei},
                           {QStringLiteral("deviceUuid"), deviceUuid},
                           {QStringLiteral("credentials"), entries}};
    // It holds the simulated modem's private keys (test keys, but keys).
    return writeOwnerOnly(m_path, QJsonDocument(json).toJson(), error);
}

} // namespace Onboarder::Sandbox
