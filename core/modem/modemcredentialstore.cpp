#include "modemcredentialstore.h"

#include "common/logging.h"
#include "common/promise.h"
#include "credentials/certificate.h"
#include "credentials/keypair.h"
#include "modem/modemerror.h"
#include "modem/nrf91modem.h"

#include <QCryptographicHash>
#include <QRegularExpression>

namespace Onboarder {

namespace {

// "%CMNG: 16842753,0,\"2C43…5BD1\"" (real modems) or "%CMNG: 12345678, 0, \"978C…\"" (Nordic's examples);
// the hash is missing on firmware before 1.3.2.
std::optional<ModemCredential> parseListLine(const QByteArray &line)
{
    static const QRegularExpression pattern(
        QStringLiteral(R"re(^%CMNG:\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*"([0-9A-Fa-f]{64})")?)re"));
    const QRegularExpressionMatch match = pattern.match(QString::fromLatin1(line));
    if (!match.hasMatch())
        return std::nullopt;
    bool tagOk = false, typeOk = false;
    const qulonglong tag = match.captured(1).toULongLong(&tagOk);
    const int type = match.captured(2).toInt(&typeOk);
    if (!tagOk || !typeOk || tag > 0xFFFFFFFFull)
        return std::nullopt;
    return ModemCredential{quint32(tag), type, match.captured(3).toUpper()};
}

} // namespace

ModemCredentialStore::ModemCredentialStore(Nrf91Modem &modem, QObject *parent)
    : QObject(parent)
    , m_modem(modem)
{ }

ModemCredentialStore::~ModemCredentialStore() = default;

QString ModemCredentialStore::sha256Hex(const QByteArray &content)
{
    return QString::fromLatin1(QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex().toUpper());
}

Result<void> ModemCredentialStore::checkUserTag(qint64 tag)
{
    if (!CredentialType::isUserTag(tag))
        return fail(ErrorKind::InvalidInput, QStringLiteral("ReservedTag"),
            tr("Security tag %1 is not yours to change: tags from 0 to 2147483647 are, the ones above belong to the "
               "modem.")
                .arg(tag));
    return {};
}

QString ModemCredentialStore::where(quint32 tag, int type)
{
    return tr("the %1 in security tag %2").arg(CredentialType::description(type)).arg(tag);
}

Result<QByteArray> ModemCredentialStore::prepare(int type, const QByteArray &text, ContentForm form)
{
    QByteArray bytes = text;
    if (form == ContentForm::Normalized) {
        bytes.replace("\r\n", "\n");
        bytes.replace('\r', '\n');
        while (!bytes.isEmpty() && std::isspace(static_cast<unsigned char>(bytes.back())))
            bytes.chop(1);
    }
    const auto invalid
        = [](const QString &code, const QString &sentence) { return fail(ErrorKind::InvalidInput, code, sentence); };
    if (bytes.trimmed().isEmpty())
        return invalid(QStringLiteral("EmptyCredential"), tr("The credential is empty."));
    if (bytes.contains('"'))
        return invalid(QStringLiteral("QuoteInCredential"),
            tr("The credential contains a double quote (\"); AT commands have no way to send one."));
    if (bytes.contains('\0'))
        return invalid(QStringLiteral("NulInCredential"), tr("The credential contains a NUL byte; it is not text."));
    switch (type) {
    case CredentialType::RootCa: {
        const auto certificates = Certificate::listFromPem(bytes);
        if (!certificates || certificates->isEmpty())
            return invalid(QStringLiteral("NotACertificate"),
                tr("A root CA credential must be one or more PEM certificates (\"-----BEGIN CERTIFICATE-----\")."));
        break;
    }
    case CredentialType::ClientCert:
        if (!Certificate::fromPem(bytes))
            return invalid(QStringLiteral("NotACertificate"),
                tr("A client certificate must be a PEM certificate (\"-----BEGIN CERTIFICATE-----\")."));
        break;
    case CredentialType::ClientKey:
        if (!bytes.contains("PRIVATE KEY-----") || (!bytes.contains("ENCRYPTED") && !KeyPair::fromPem(bytes)))
            return invalid(QStringLiteral("NotAKey"),
                tr("A client key must be a PEM private key (\"-----BEGIN PRIVATE KEY-----\")."));
        break;
    case CredentialType::Psk:
        if (bytes.size() % 2 != 0 || !std::all_of(bytes.cbegin(), bytes.cend(), [](char c) {
                return std::isxdigit(static_cast<unsigned char>(c));
            }))
            return invalid(
                QStringLiteral("PskNotHex"), tr("A pre-shared key is written as hexadecimal text, two digits a byte."));
        break;
    case CredentialType::PskIdentity:
        if (!std::all_of(bytes.cbegin(), bytes.cend(), [](char c) { return c >= 0x20 && c < 0x7f; }))
            return invalid(QStringLiteral("PskIdentityNotText"), tr("A PSK identity is one line of plain ASCII text."));
        break;
    default: break;
    }
    return bytes;
}

QFuture<Result<QList<ModemCredential>>> ModemCredentialStore::list(
    std::optional<quint32> tag, std::optional<int> type, bool includeModemOwned)
{
    QByteArray command = QByteArrayLiteral("AT%CMNG=1");
    if (tag) {
        command += ',' + QByteArray::number(*tag);
        if (type)
            command += ',' + QByteArray::number(*type);
    }
    return m_modem
        .query(AtCommand(command).expecting(QByteArrayLiteral("%CMNG:")), tr("Listing the modem's credentials"))
        .then([includeModemOwned](Result<QList<QByteArray>> lines) -> Result<QList<ModemCredential>> {
            if (!lines)
                return std::unexpected(lines.error());
            QList<ModemCredential> entries;
            for (const QByteArray &line : *lines) {
                const auto entry = parseListLine(line);
                if (!entry) {
                    qCWarning(lcModem) << "unexpected %CMNG list line:" << line.left(80);
                    continue;
                }
                if (includeModemOwned || CredentialType::isUserTag(entry->tag))
                    entries.append(*entry);
            }
            std::sort(entries.begin(), entries.end(), [](const ModemCredential &a, const ModemCredential &b) {
                return std::pair(a.tag, a.type) < std::pair(b.tag, b.type);
            });
            return entries;
        });
}

QFuture<Result<QByteArray>> ModemCredentialStore::read(quint32 tag, int type)
{
    if (!CredentialType::isReadable(type))
        return failedFuture<QByteArray>({ErrorKind::InvalidInput, QStringLiteral("NotReadable"),
            tr("The modem never gives back a %1; compare its SHA-256 instead (verify).")
                .arg(CredentialType::description(type))});
    const QByteArray command = "AT%CMNG=2," + QByteArray::number(tag) + ',' + QByteArray::number(type);
    return m_modem
        .query(AtCommand(command).expecting(QByteArrayLiteral("%CMNG:")), tr("Reading %1").arg(where(tag, type)))
        .then([](Result<QList<QByteArray>> lines) -> Result<QByteArray> {
            if (!lines)
                return std::unexpected(lines.error());
            // The content is the last quoted value, CR and LF included (it holds no quote).
            const QByteArray line = lines->isEmpty() ? QByteArray() : lines->constLast();
            const qsizetype close = line.lastIndexOf('"');
            const qsizetype open = close > 0 ? line.lastIndexOf('"', close - 1) : -1;
            if (open < 0)
                return fail(ErrorKind::Device, QStringLiteral("UnexpectedAnswer"),
                    tr("The modem's answer to the read has no quoted content."));
            return line.mid(open + 1, close - open - 1);
        });
}

QFuture<Result<Verification>> ModemCredentialStore::verify(quint32 tag, int type, const QByteArray &content)
{
    const QString local = sha256Hex(content);
    return list(tag, type, true)
        .then([tag, type, local](Result<QList<ModemCredential>> entries) -> Result<Verification> {
            if (!entries)
                return std::unexpected(entries.error());
            Verification verification;
            verification.localSha256 = local;
            const auto found = std::find_if(entries->cbegin(), entries->cend(),
                [tag, type](const ModemCredential &e) { return e.tag == tag && e.type == type; });
            if (found == entries->cend()) {
                verification.outcome = Verification::Outcome::Absent;
            } else {
                verification.modemSha256 = found->sha256;
                verification.outcome = found->sha256.isEmpty()               ? Verification::Outcome::NoHash
                    : found->sha256.compare(local, Qt::CaseInsensitive) == 0 ? Verification::Outcome::Match
                                                                             : Verification::Outcome::Mismatch;
            }
            return verification;
        });
}

QFuture<Result<void>> ModemCredentialStore::writeEntry(
    quint32 tag, int type, const QByteArray &content, const QByteArray &password)
{
    if (auto ok = checkUserTag(tag); !ok)
        return failedFuture<void>(ok.error());
    if (content.isEmpty() || content.contains('"') || content.contains('\0'))
        return failedFuture<void>({ErrorKind::InvalidInput, QStringLiteral("InvalidCredential"),
            tr("The credential is empty or contains a double quote or a NUL byte, which AT commands cannot "
               "carry.")});
    if (password.size() > 32 || password.contains('"'))
        return failedFuture<void>({ErrorKind::InvalidInput, QStringLiteral("InvalidKeyPassword"),
            tr("The modem takes key passwords of at most 32 characters, without double quotes.")});
    QByteArray command
        = "AT%CMNG=0," + QByteArray::number(tag) + ',' + QByteArray::number(type) + ",\"" + content + '"';
    if (!password.isEmpty())
        command += ",\"" + password + '"';
    const bool secret = type == CredentialType::ClientKey || type == CredentialType::Psk || !password.isEmpty();
    const qsizetype bytes = command.size();
    return m_modem
        .query(
            AtCommand(command).timeout(writeTimeoutMs).carryingSecret(secret), tr("Writing %1").arg(where(tag, type)))
        .then(this,
            [this, tag, type, bytes](Result<QList<QByteArray>> lines) -> QFuture<Result<void>> {
                if (lines)
                    return readyFuture(Result<void>());
                if (lines.error().code != QStringLiteral("ModemTimeout"))
                    return failedFuture<void>(lines.error());
                // No answer to a long write: its tail was most likely lost on the way (some boards' USB bridges drop
                // bytes of long bursts). The AT host may still be reading the content; it is brought back first.
                const QString what = tr("The modem did not answer the write of %1 (%2 bytes): the data most likely "
                                        "stalled on the way, which some boards' USB-serial bridges do with long "
                                        "certificate chains.")
                                         .arg(where(tag, type))
                                         .arg(bytes);
                const QString advice = tr("Try again with hardware flow control on, at a lower baud rate, or with the "
                                          "board on a direct USB connection (not through a hub).");
                return m_modem.resynchronise()
                    .then(this,
                        [this, tag, type, what, advice](Result<void> back) -> QFuture<Result<void>> {
                            if (!back)
                                return failedFuture<void>({ErrorKind::Device, QStringLiteral("WriteStalled"),
                                    what + u' ' + back.error().message});
                            // What the tag holds now, so that nothing half-written goes unmentioned.
                            return list(tag, type).then([tag, type, what, advice](
                                                            Result<QList<ModemCredential>> held) -> Result<void> {
                                QString state;
                                if (!held)
                                    state = tr("The modem answers again; whether %1 holds something could not be "
                                               "read: %2")
                                                .arg(where(tag, type), held.error().message);
                                else if (held->isEmpty())
                                    state = tr("The modem answers again; nothing was stored in its place.");
                                else
                                    state = tr("The modem answers again; %1 holds an entry now (SHA-256 %2), which "
                                               "may be the old one or a part of this write: write it again before use.")
                                                .arg(where(tag, type), held->constFirst().sha256);
                                return fail(ErrorKind::Device, QStringLiteral("WriteStalled"),
                                    what + u' ' + state + u' ' + advice);
                            });
                        })
                    .unwrap();
            })
        .unwrap();
}

QFuture<Result<ModemCredential>> ModemCredentialStore::writeAndVerifyEntry(
    quint32 tag, int type, const QByteArray &content, const QByteArray &password)
{
    return writeEntry(tag, type, content, password)
        .then(this,
            [this, tag, type, content](Result<void> written) -> QFuture<Result<ModemCredential>> {
                if (!written)
                    return failedFuture<ModemCredential>(written.error());
                return verify(tag, type, content)
                    .then([tag, type](Result<Verification> check) -> Result<ModemCredential> {
                        if (!check)
                            return std::unexpected(check.error());
                        switch (check->outcome) {
                        case Verification::Outcome::Match: return ModemCredential{tag, type, check->modemSha256};
                        case Verification::Outcome::NoHash:
                            qCWarning(lcModem) << "the modem's firmware lists no hashes; tag" << tag << "type" << type
                                               << "is stored but could not be verified";
                            return ModemCredential{tag, type, {}};
                        case Verification::Outcome::Absent:
                            return fail(ErrorKind::Device, QStringLiteral("VerifyFailed"),
                                tr("The modem accepted %1 but does not list it.").arg(where(tag, type)));
                        case Verification::Outcome::Mismatch: break;
                        }
                        return fail(ErrorKind::Device, QStringLiteral("VerifyFailed"),
                            tr("The modem stores other bytes as %1 than were written: its SHA-256 is %2, the written "
                               "bytes' is %3.")
                                .arg(where(tag, type), check->modemSha256, check->localSha256));
                    });
            })
        .unwrap();
}

template<typename T> QFuture<Result<T>> ModemCredentialStore::offline(const std::function<QFuture<Result<T>>()> &work)
{
    return m_modem.enterOfflineMode()
        .then(this,
            [this, work](Result<int> previous) -> QFuture<Result<T>> {
                if (!previous)
                    return failedFuture<T>(previous.error());
                const int mode = *previous;
                return work()
                    .then(this,
                        [this, mode](Result<T> result) -> QFuture<Result<T>> {
                            // Back to the mode it was in, also after a failure; the failure is the news.
                            return m_modem.restoreFunctionalMode(mode).then(
                                [result = std::move(result)](Result<void> restored) mutable -> Result<T> {
                                    if (result && !restored)
                                        return std::unexpected(restored.error());
                                    return std::move(result);
                                });
                        })
                    .unwrap();
            })
        .unwrap();
}

QFuture<Result<ModemCredential>> ModemCredentialStore::write(
    quint32 tag, int type, const QByteArray &content, const QByteArray &password)
{
    if (auto ok = checkUserTag(tag); !ok)
        return failedFuture<ModemCredential>(ok.error());
    return offline<ModemCredential>(
        [this, tag, type, content, password] { return writeAndVerifyEntry(tag, type, content, password); });
}

QFuture<Result<void>> ModemCredentialStore::remove(quint32 tag, int type)
{
    if (auto ok = checkUserTag(tag); !ok)
        return failedFuture<void>(ok.error());
    return offline<void>([this, tag, type] {
        const QByteArray command = "AT%CMNG=3," + QByteArray::number(tag) + ',' + QByteArray::number(type);
        return m_modem.query(AtCommand(command), tr("Deleting %1").arg(where(tag, type)))
            .then([](Result<QList<QByteArray>> lines) -> Result<void> {
                if (!lines)
                    return std::unexpected(lines.error());
                return {};
            });
    });
}

QFuture<Result<ModemCsr>> ModemCredentialStore::generateKey(quint32 tag, const QString &commonName)
{
    if (auto ok = checkUserTag(tag); !ok)
        return failedFuture<ModemCsr>(ok.error());
    const QByteArray cn = commonName.toUtf8();
    if (cn.isEmpty() || cn.size() > 64 || cn.contains('"') || cn.contains(',') || cn.contains('='))
        return failedFuture<ModemCsr>({ErrorKind::InvalidInput, QStringLiteral("InvalidCommonName"),
            tr("The key's common name must have 1 to 64 characters, without \", comma or =.")});
    return offline<ModemCsr>([this, tag, cn, commonName] {
        const QByteArray command = "AT%KEYGEN=" + QByteArray::number(tag) + ",2,0,\"CN=" + cn + '"';
        return m_modem
            .query(AtCommand(command).expecting(QByteArrayLiteral("%KEYGEN:")).timeout(keygenTimeoutMs),
                tr("Generating a key in security tag %1").arg(tag))
            .then([commonName](Result<QList<QByteArray>> lines) -> Result<ModemCsr> {
                if (!lines)
                    return std::unexpected(lines.error());
                auto csr = ModemCsr::fromKeygenAnswer(lines->value(0));
                if (!csr)
                    return csr;
                if (auto checked = csr->check(commonName); !checked)
                    return std::unexpected(checked.error());
                return csr;
            });
    });
}

} // namespace Onboarder
