#include "azureflashjob.h"

#include "common/logging.h"
#include "credentials/certificate.h"
#include "credentials/devicecredential.h"
#include "credentials/keypair.h"
#include "credentials/rootcertificates.h"
#include "modem/modemcredential.h"
#include "modem/modemcredentialstore.h"
#include "modem/nrf91modem.h"

#include <QCoreApplication>
#include <QPromise>

#include <tuple>
#include <utility>

namespace Onboarder {

namespace {

QByteArray bundledRoot(const QString &fileName)
{
    const auto root = RootCertificates::find(fileName);
    return root ? root->certificate.toPem() : QByteArray();
}

// Errors after which nobody knows whether the modem took the write.
bool lineInDoubt(const Error &error)
{
    static const QStringList codes{QStringLiteral("PortLost"), QStringLiteral("PortClosed"),
        QStringLiteral("ModemTimeout"), QStringLiteral("WriteFailed")};
    return codes.contains(error.code);
}

} // namespace

AzureCredentialSet AzureCredentialSet::forDevice(
    quint32 tag, std::optional<quint32> secondaryTag, const DeviceCredential &credential)
{
    return forDevice(tag, secondaryTag, credential.certificate.toPem(), credential.key.privateKeyPem());
}

AzureCredentialSet AzureCredentialSet::forDevice(quint32 tag, std::optional<quint32> secondaryTag,
    QByteArray certificatePem, SecretBytes keyPem, SecretBytes keyPassword)
{
    AzureCredentialSet set;
    set.tag = tag;
    set.secondaryTag = secondaryTag;
    set.deviceCertificate = std::move(certificatePem);
    set.deviceKey = std::move(keyPem);
    set.keyPassword = std::move(keyPassword);
    return set;
}

AzureCredentialSet AzureCredentialSet::forKeyInModem(
    quint32 tag, std::optional<quint32> secondaryTag, QByteArray certificatePem, const QString &modemKeySha256)
{
    AzureCredentialSet set;
    set.tag = tag;
    set.secondaryTag = secondaryTag;
    set.deviceCertificate = std::move(certificatePem);
    set.keyInModem = true;
    set.modemKeySha256 = modemKeySha256;
    return set;
}

QString FlashSlot::stateName(State state)
{
    switch (state) {
    case State::Pending: return QStringLiteral("pending");
    case State::Flashed: return QStringLiteral("flashed");
    case State::Unverified: return QStringLiteral("unverified");
    case State::Different: return QStringLiteral("different");
    case State::Absent: return QStringLiteral("absent");
    case State::Unknown: return QStringLiteral("unknown");
    }
    return {};
}

AzureFlashJob::AzureFlashJob(Nrf91Modem &modem, AzureCredentialSet set, QObject *parent)
    : QObject(parent)
    , m_modem(modem)
    , m_store(new ModemCredentialStore(modem, this))
    , m_set(std::move(set))
{ }

AzureFlashJob::~AzureFlashJob()
{
    // Whoever waits for the report may delete the job in its continuation; a QPromise destroyed there
    // hangs Qt 6.4 (its destructor takes the continuation lock the running continuation holds), so
    // the promise ends a moment later, from the event loop.
    if (m_promise && QCoreApplication::instance())
        QMetaObject::invokeMethod(
            QCoreApplication::instance(), [promise = std::move(m_promise)] {}, Qt::QueuedConnection);
    // The key and its password (SecretBytes in m_set and m_plan) are wiped as they go.
}

QByteArray AzureFlashJob::digiCertGlobalRootG2()
{
    return bundledRoot(QStringLiteral("digicert-global-root-g2.pem"));
}

QByteArray AzureFlashJob::microsoftRsaRootCa2017()
{
    return bundledRoot(QStringLiteral("microsoft-rsa-root-ca-2017.pem"));
}

Result<QList<FlashSlot>> AzureFlashJob::plan()
{
    m_plan.clear();
    if (auto ok = ModemCredentialStore::checkUserTag(m_set.tag); !ok)
        return std::unexpected(ok.error());
    if (m_set.secondaryTag) {
        if (auto ok = ModemCredentialStore::checkUserTag(*m_set.secondaryTag); !ok)
            return std::unexpected(ok.error());
        if (*m_set.secondaryTag == m_set.tag)
            return fail(ErrorKind::InvalidInput, QStringLiteral("SameTags"),
                tr("The secondary security tag must differ from the primary one; leave it out to keep both root "
                   "certificates in the primary tag."));
    }
    const auto digiCert = ModemCredentialStore::prepare(CredentialType::RootCa, digiCertGlobalRootG2());
    const auto microsoft = ModemCredentialStore::prepare(CredentialType::RootCa, microsoftRsaRootCa2017());
    const auto digiCertRoot
        = digiCert ? Certificate::fromPem(*digiCert) : Result<Certificate>(std::unexpected(digiCert.error()));
    const auto microsoftRoot
        = microsoft ? Certificate::fromPem(*microsoft) : Result<Certificate>(std::unexpected(microsoft.error()));
    if (!digiCertRoot || !microsoftRoot)
        return fail(ErrorKind::Internal, QStringLiteral("RootsMissing"),
            tr("The root CA certificates Onboarder ships are missing."));

    const auto cert = ModemCredentialStore::prepare(CredentialType::ClientCert, m_set.deviceCertificate);
    if (!cert)
        return std::unexpected(cert.error());
    const auto certificate = Certificate::fromPem(*cert);
    if (!certificate)
        return std::unexpected(certificate.error());

    // A device that trusts only roots past their end cannot reach the hub, and the modem keeps what it is
    // given for years: an expired root is refused unless asked for. Whatever ends soon is flashed, but said.
    m_warnings.clear();
    const QDateTime now = m_now.isValid() ? m_now : QDateTime::currentDateTimeUtc();
    const auto judge
        = [this, &now](const Certificate &judged, const QString &label, bool root) -> std::optional<Error> {
        const QDateTime end = judged.notAfter();
        const QString date = end.toUTC().date().toString(Qt::ISODate);
        if (now > end) {
            if (root && !m_allowExpiredRoots)
                return Error{ErrorKind::InvalidInput, QStringLiteral("RootExpired"),
                    tr("The root CA certificate %1 expired on %2: a modem that trusts it cannot check the hub's "
                       "certificate. Flash Azure's current roots (a newer Onboarder ships them), or allow expired "
                       "roots to flash it anyway.")
                        .arg(label, date)};
            m_warnings.append(tr("%1 expired on %2.").arg(label, date));
        } else if (now.secsTo(end) < qint64(expiryWarningDays) * 24 * 3600) {
            m_warnings.append(
                tr("%1 expires on %2, in less than %n day(s).", nullptr, int(now.daysTo(end)) + 1).arg(label, date));
        }
        return std::nullopt;
    };
    const QString digiCertLabel = QStringLiteral("DigiCert Global Root G2");
    const QString microsoftLabel = QStringLiteral("Microsoft RSA Root Certificate Authority 2017");
    const QString certificateLabel = tr("device certificate (%1)").arg(certificate->subjectCommonName());
    for (const auto &[judged, label, root] : {std::tuple(*digiCertRoot, digiCertLabel, true),
             std::tuple(*microsoftRoot, microsoftLabel, true), std::tuple(*certificate, certificateLabel, false)}) {
        if (auto refused = judge(judged, label, root))
            return std::unexpected(*refused);
    }
    for (const QString &warning : std::as_const(m_warnings))
        qCWarning(lcModem).noquote() << warning;

    SecretBytes keyContent;
    if (m_set.keyInModem) {
        if (!m_set.deviceKey.isEmpty() || m_set.modemKeySha256.isEmpty())
            return fail(ErrorKind::Internal, QStringLiteral("KeyInModemMisused"),
                tr("A key kept in the modem is known by its hash alone; no key bytes go with it."));
    } else {
        // prepare() reads and gives a QByteArray; what it gives is taken into a SecretBytes at once.
        auto key = ModemCredentialStore::prepare(CredentialType::ClientKey, m_set.deviceKey.exposeForWire());
        if (!key)
            return std::unexpected(key.error());
        keyContent = SecretBytes::fromQByteArray(std::move(*key));
        const auto pair = KeyPair::fromPem(keyContent.view(), m_set.keyPassword.view());
        if (!pair)
            return std::unexpected(pair.error());
        if (auto usable = pair->checkModemCompatible(); !usable)
            return std::unexpected(usable.error());
        if (!certificate->matches(*pair))
            return fail(ErrorKind::InvalidInput, QStringLiteral("KeyDoesNotMatch"),
                tr("The private key does not belong to the device certificate (%1).")
                    .arg(certificate->subjectCommonName()));
    }

    const auto add = [this](quint32 tag, int type, const QString &label, const QByteArray &content, bool secret) {
        m_plan.append(
            {FlashSlot{tag, type, label, ModemCredentialStore::sha256Hex(content), {}, FlashSlot::State::Pending},
                content, secret});
    };
    if (m_set.secondaryTag) {
        add(m_set.tag, CredentialType::RootCa, digiCertLabel, *digiCert, false);
        add(*m_set.secondaryTag, CredentialType::RootCa, microsoftLabel, *microsoft, false);
    } else {
        add(m_set.tag, CredentialType::RootCa, digiCertLabel + QStringLiteral(" + ") + microsoftLabel,
            *digiCert + '\n' + *microsoft, false);
    }
    add(m_set.tag, CredentialType::ClientCert, certificateLabel, *cert, false);
    if (m_set.keyInModem) {
        m_plan.append({FlashSlot{m_set.tag, CredentialType::ClientKey, tr("device private key (kept in the modem)"),
                           m_set.modemKeySha256.toUpper(), {}, FlashSlot::State::Pending},
            {}, true, true});
    } else {
        // Hashed in place (fromRawData copies nothing), then kept in the plan as a SecretBytes.
        m_plan.append(
            {FlashSlot{m_set.tag, CredentialType::ClientKey, tr("device private key"),
                 ModemCredentialStore::sha256Hex(QByteArray::fromRawData(keyContent.data(), keyContent.size())), {},
                 FlashSlot::State::Pending},
                {}, true, false, std::make_shared<const SecretBytes>(std::move(keyContent))});
    }

    QList<FlashSlot> slots;
    for (const Planned &planned : std::as_const(m_plan))
        slots.append(planned.slot);
    return slots;
}

QFuture<FlashReport> AzureFlashJob::start()
{
    Q_ASSERT(!m_started);
    m_started = true;
    m_promise = std::make_shared<QPromise<FlashReport>>();
    m_promise->start();
    const QFuture<FlashReport> future = m_promise->future();
    const auto planned = plan();
    m_report.warnings = m_warnings;
    if (!planned) {
        m_report.failure = planned.error();
        m_promise->addResult(m_report);
        m_promise->finish();
        return future;
    }
    if (AtChannel *channel = m_modem.channel()) {
        m_sentAtStart = channel->bytesSent();
        m_receivedAtStart = channel->bytesReceived();
    }
    readBefore();
    return future;
}

void AzureFlashJob::step(const QString &text)
{
    ++m_step;
    qCInfo(lcModem).noquote() << "flash step" << m_step << text;
    Q_EMIT progress(m_step, int(m_plan.size()) + 3, text);
}

void AzureFlashJob::readBefore()
{
    step(tr("Reading what the modem stores"));
    m_store->list().then(this, [this](Result<QList<ModemCredential>> entries) {
        if (!entries)
            return finish(entries.error());
        settle(*entries);
        goOffline();
    });
}

void AzureFlashJob::goOffline()
{
    if (stopIfCancelled())
        return;
    step(tr("Switching the modem to offline mode"));
    m_modem.enterOfflineMode().then(this, [this](Result<int> previous) {
        if (!previous)
            return finish(previous.error());
        m_report.previousMode = *previous;
        writeNext(0);
    });
}

void AzureFlashJob::writeNext(qsizetype index)
{
    if (stopIfCancelled())
        return;
    if (index == m_plan.size())
        return restoreMode();
    Planned &planned = m_plan[index];
    FlashSlot &slot = planned.slot;
    if ((!m_force || planned.inModem) && slot.state == FlashSlot::State::Flashed) {
        step(tr("%1 is in security tag %2 already").arg(slot.label).arg(slot.tag));
        return writeNext(index + 1);
    }
    if (planned.inModem) {
        m_failure = Error{ErrorKind::Device, QStringLiteral("ModemKeyMissing"),
            tr("The modem's own private key in security tag %1 is %2; the certificate cannot be used without it. "
               "Provision again to have the modem make a new key.")
                .arg(slot.tag)
                .arg(slot.state == FlashSlot::State::Absent ? tr("gone")
                                                            : tr("not the one the certificate was made for"))};
        return restoreMode();
    }
    step(tr("Writing %1 to security tag %2").arg(slot.label).arg(slot.tag));
    m_inFlight = index;
    // The AT channel takes QByteArrays: the key and its password are exposed for this write only.
    m_store
        ->writeAndVerifyEntry(slot.tag, slot.type, planned.key ? planned.key->exposeForWire() : planned.content,
            slot.type == CredentialType::ClientKey ? m_set.keyPassword.exposeForWire() : QByteArray())
        .then(this, [this, index](Result<ModemCredential> written) {
            m_inFlight = -1;
            FlashSlot &slot = m_plan[index].slot;
            if (!written) {
                if (lineInDoubt(written.error()))
                    slot.state = FlashSlot::State::Unknown;
                m_failure = written.error();
                return restoreMode();
            }
            slot.modemSha256 = written->sha256;
            slot.state = written->sha256.isEmpty() ? FlashSlot::State::Unverified : FlashSlot::State::Flashed;
            writeNext(index + 1);
        });
}

bool AzureFlashJob::stopIfCancelled()
{
    if (!m_cancelled)
        return false;
    m_failure = Error{ErrorKind::Cancelled, QStringLiteral("Cancelled"), tr("Cancelled.")};
    restoreMode();
    return true;
}

void AzureFlashJob::restoreMode()
{
    if (m_report.previousMode < 0)
        return finish(m_failure);
    step(tr("Restoring functional mode %1").arg(m_report.previousMode));
    m_modem.restoreFunctionalMode(m_report.previousMode).then(this, [this](Result<void> restored) {
        m_report.modeRestored = restored.has_value();
        if (!restored && !m_failure)
            m_failure = restored.error();
        finish(m_failure);
    });
}

// Marks the slots after a list of what the modem holds.
void AzureFlashJob::settle(const QList<ModemCredential> &now)
{
    for (Planned &planned : m_plan) {
        FlashSlot &slot = planned.slot;
        const auto found = std::find_if(now.cbegin(), now.cend(),
            [&slot](const ModemCredential &e) { return e.tag == slot.tag && e.type == slot.type; });
        if (found == now.cend()) {
            slot.state = FlashSlot::State::Absent;
            slot.modemSha256.clear();
            continue;
        }
        slot.modemSha256 = found->sha256;
        if (found->sha256.isEmpty())
            slot.state = slot.state == FlashSlot::State::Unverified ? slot.state : FlashSlot::State::Different;
        else
            slot.state = found->sha256 == slot.expectedSha256 ? FlashSlot::State::Flashed : FlashSlot::State::Different;
    }
}

void AzureFlashJob::finish(const std::optional<Error> &failure)
{
    m_report.failure = failure;
    const auto deliver = [this] {
        if (AtChannel *channel = m_modem.channel()) {
            m_report.bytesSent = channel->bytesSent() - m_sentAtStart;
            m_report.bytesReceived = channel->bytesReceived() - m_receivedAtStart;
        }
        for (const Planned &planned : std::as_const(m_plan))
            m_report.slots.append(planned.slot);
        m_promise->addResult(m_report);
        m_promise->finish();
    };
    if (!failure || !m_modem.isOpen())
        return deliver(); // success: every slot was verified on its own; no modem: what the job saw is all there is
    // Ask the modem what it holds now.
    m_store->list().then(this, [this, deliver](Result<QList<ModemCredential>> entries) {
        if (entries)
            settle(*entries);
        deliver();
    });
}

} // namespace Onboarder
