#include "modemcheck.h"

#include "common/continuation.h"
#include "common/logging.h"
#include "credentials/certificate.h"
#include "credentials/credentialinventory.h"
#include "credentials/rootcertificates.h"
#include "modem/modemcredential.h"
#include "modem/modemcredentialstore.h"

#include <QFile>
#include <QJsonArray>
#include <QLocale>
#include <QTimer>

#include <cmath>

namespace Onboarder {

using namespace ModemStatus;

namespace {

QString signedDuration(qint64 seconds)
{
    const qint64 s = std::abs(seconds);
    if (s < 120)
        return ModemCheck::tr("%n second(s)", nullptr, int(s));
    if (s < 7200)
        return ModemCheck::tr("%n minute(s)", nullptr, int(s / 60));
    if (s < 3 * 86400)
        return ModemCheck::tr("%n hour(s)", nullptr, int(s / 3600));
    return ModemCheck::tr("%n day(s)", nullptr, int(s / 86400));
}

} // namespace

QString ModemCheckReport::verdictName(Verdict verdict)
{
    switch (verdict) {
    case Verdict::Ready: return QStringLiteral("ready");
    case Verdict::NoSim: return QStringLiteral("no-sim");
    case Verdict::SimLocked: return QStringLiteral("sim-locked");
    case Verdict::NoLteMode: return QStringLiteral("no-lte-mode");
    case Verdict::MissingCredentials: return QStringLiteral("missing-credentials");
    case Verdict::ClockWrong: return QStringLiteral("clock-wrong");
    case Verdict::LteOff: return QStringLiteral("lte-off");
    case Verdict::Denied: return QStringLiteral("denied");
    case Verdict::Searching: return QStringLiteral("searching");
    case Verdict::NotRegistered: return QStringLiteral("not-registered");
    case Verdict::WeakSignal: return QStringLiteral("weak-signal");
    }
    return QStringLiteral("unknown");
}

void ModemCheckReport::judge(qint64 clockToleranceSeconds)
{
    evidence.clear();
    std::optional<std::pair<Verdict, QString>> found;
    const auto problem = [&found](Verdict v, const QString &text) {
        if (!found)
            found = std::pair(v, text);
    };

    evidence.append(ModemCheck::tr("Modem: %1 %2, firmware %3, IMEI %4.")
                        .arg(identity.manufacturer, identity.model, identity.firmware, identity.imei));

    // SIM
    switch (sim) {
    case SimState::Ready:
        evidence.append(ModemCheck::tr("SIM: ready (ICCID %1, IMSI %2).")
                            .arg(iccid.isEmpty() ? ModemCheck::tr("not read") : iccid,
                                imsi.isEmpty() ? ModemCheck::tr("not read") : imsi));
        break;
    case SimState::Absent:
        evidence.append(ModemCheck::tr("SIM: none found (or it does not answer)."));
        problem(Verdict::NoSim, ModemCheck::tr("will not connect: no SIM"));
        break;
    case SimState::PinNeeded:
    case SimState::PukNeeded:
    case SimState::OtherCode:
        evidence.append(sim == SimState::PukNeeded ? ModemCheck::tr("SIM: locked, it needs its PUK.")
                                                   : ModemCheck::tr("SIM: locked, it needs a PIN."));
        problem(Verdict::SimLocked, ModemCheck::tr("will not connect: the SIM is locked by a PIN"));
        break;
    case SimState::Off:
        evidence.append(ModemCheck::tr("SIM: not powered in functional mode %1.").arg(functionalMode));
        break;
    case SimState::Unknown: evidence.append(ModemCheck::tr("SIM: the modem did not say.")); break;
    }

    // Credentials
    if (credentials.checked) {
        QStringList missing;
        const auto part = [this, &missing](
                              bool present, const QString &name, const QString &sha, const QString &knownAs) {
            if (!present) {
                missing.append(name);
                return ModemCheck::tr("%1: missing").arg(name);
            }
            if (!knownAs.isEmpty())
                return ModemCheck::tr("%1: %2").arg(name, knownAs);
            if (sha.isEmpty() || !credentials.hashesListed)
                return ModemCheck::tr("%1: present").arg(name);
            return ModemCheck::tr("%1: present, not one this computer knows (SHA-256 %2…)").arg(name, sha.left(12));
        };
        QStringList parts;
        parts.append(
            part(credentials.root, ModemCheck::tr("root CA"), credentials.rootSha256, credentials.rootKnownAs));
        parts.append(part(credentials.certificate, ModemCheck::tr("client certificate"), credentials.certificateSha256,
            credentials.certificateKnownAs));
        parts.append(part(credentials.key, ModemCheck::tr("private key"), {}, {}));
        evidence.append(
            ModemCheck::tr("Security tag %1: %2.").arg(credentials.tag).arg(parts.join(QStringLiteral("; "))));
        if (!missing.isEmpty())
            problem(Verdict::MissingCredentials,
                ModemCheck::tr("will not connect: security tag %1 lacks the %2")
                    .arg(credentials.tag)
                    .arg(QLocale().createSeparatedList(missing)));
    }

    // LTE mode
    if (systemMode) {
        evidence.append(ModemCheck::tr("System mode: %1.").arg(systemMode->describe()));
        if (!systemMode->ltem && !systemMode->nbiot)
            problem(Verdict::NoLteMode,
                ModemCheck::tr("will not connect: neither LTE-M nor NB-IoT is enabled (AT%XSYSTEMMODE)"));
    }

    // Clock
    if (modemClock) {
        const qint64 offset = pcClock.secsTo(*modemClock);
        const QString when = modemClock->toString(Qt::ISODate);
        if (std::abs(offset) <= 120)
            evidence.append(ModemCheck::tr("Clock: %1, in step with this computer.").arg(when));
        else
            evidence.append(ModemCheck::tr("Clock: %1, %2 %3 this computer's.")
                                .arg(when, signedDuration(offset),
                                    offset < 0 ? ModemCheck::tr("behind") : ModemCheck::tr("ahead of")));
        if (std::abs(offset) > clockToleranceSeconds)
            problem(Verdict::ClockWrong,
                ModemCheck::tr("will not connect: the modem's clock is %1 off, so the hub's "
                               "certificate looks invalid to it")
                    .arg(signedDuration(offset)));
    } else {
        evidence.append(ModemCheck::tr("Clock: not known to the modem yet (it takes the time from the network)."));
    }

    // Network
    if (functionalMode != 1 && !lteSwitchedOn) {
        evidence.append(ModemCheck::tr("Network: not checked, LTE is off (functional mode %1).").arg(functionalMode));
        problem(Verdict::LteOff,
            ModemCheck::tr("network not checked: LTE is off (functional mode %1); check again with "
                           "LTE switched on")
                .arg(functionalMode));
    } else if (registration) {
        QString where;
        if (!registration->tac.isEmpty() || !registration->cellId.isEmpty())
            where = ModemCheck::tr(" (TAC %1, cell %2)").arg(registration->tac, registration->cellId);
        const QString tech = accessTechName(registration->accessTech);
        evidence.append(ModemCheck::tr("Network: %1%2%3.")
                            .arg(registrationWords(registration->stat),
                                tech.isEmpty() ? QString() : ModemCheck::tr(" on %1").arg(tech), where)
            + (waitedForNetworkMs >= 1000
                    ? ModemCheck::tr(" Waited %n second(s) for the network.", nullptr, int(waitedForNetworkMs / 1000))
                    : QString()));
        switch (registration->stat) {
        case 1:
        case 5: break;
        case 3:
            problem(Verdict::Denied,
                registration->rejectCause >= 0
                    ? ModemCheck::tr("will not connect: the network denied registration (%1)")
                          .arg(rejectCauseWords(registration->rejectCause))
                    : ModemCheck::tr("will not connect: the network denied registration"));
            break;
        case 2:
            problem(Verdict::Searching,
                ModemCheck::tr("will not connect: searching for a network (no coverage here, or "
                               "no operator the SIM may use in the enabled LTE modes)"));
            break;
        default:
            problem(Verdict::NotRegistered, ModemCheck::tr("will not connect: not registered and not searching"));
            break;
        }
    } else {
        evidence.append(ModemCheck::tr("Network: the modem did not say."));
        problem(Verdict::NotRegistered, ModemCheck::tr("will not connect: the registration status is unknown"));
    }

    if (signal) {
        const SignalQuality quality = signalQuality(*signal);
        if (signal->rsrpDbm)
            evidence.append(
                ModemCheck::tr("Signal: RSRP %1 dBm, RSRQ %2 dB: %3.")
                    .arg(*signal->rsrpDbm)
                    .arg(signal->rsrqDb ? QLocale().toString(*signal->rsrqDb, 'f', 1) : ModemCheck::tr("unknown"))
                    .arg(signalQualityWords(quality)));
        else
            evidence.append(ModemCheck::tr("Signal: none measured."));
        if (quality == SignalQuality::Poor && registration && registration->registered() && signal->rsrpDbm)
            problem(Verdict::WeakSignal,
                ModemCheck::tr("registered but signal weak (RSRP %1 dBm): it may connect, then drop; "
                               "move the antenna or the device")
                    .arg(*signal->rsrpDbm));
    }
    if (cell && cell->hasCell())
        evidence.append(
            ModemCheck::tr("Cell: %1 (%2), band %3, TAC %4, cell %5.")
                .arg(cell->operatorName.isEmpty() ? ModemCheck::tr("operator unnamed") : cell->operatorName, cell->plmn,
                    cell->band >= 0 ? QString::number(cell->band) : QStringLiteral("?"), cell->tac, cell->cellId));
    for (const QString &refused : unanswered)
        evidence.append(ModemCheck::tr("Not answered: %1").arg(refused));

    if (found) {
        verdict = found->first;
        verdictText = found->second;
    } else {
        verdict = Verdict::Ready;
        verdictText
            = registration && registration->stat == 5 ? ModemCheck::tr("ready (roaming)") : ModemCheck::tr("ready");
    }
}

QJsonObject ModemCheckReport::toJson() const
{
    QJsonObject json{
        {QStringLiteral("port"), port},
        {QStringLiteral("verdict"), verdictName(verdict)},
        {QStringLiteral("verdictText"), verdictText},
        {QStringLiteral("evidence"), QJsonArray::fromStringList(evidence)},
        {QStringLiteral("identity"),
            QJsonObject{{QStringLiteral("imei"), identity.imei},
                {QStringLiteral("manufacturer"), identity.manufacturer}, {QStringLiteral("model"), identity.model},
                {QStringLiteral("firmware"), identity.firmware}, {QStringLiteral("modemUuid"), identity.modemUuid}}},
        {QStringLiteral("functionalMode"), functionalMode},
        {QStringLiteral("lteSwitchedOn"), lteSwitchedOn},
        {QStringLiteral("sim"),
            QJsonObject{{QStringLiteral("state"), simStateName(sim)}, {QStringLiteral("iccid"), iccid},
                {QStringLiteral("imsi"), imsi}}},
        {QStringLiteral("unanswered"), QJsonArray::fromStringList(unanswered)},
    };
    if (systemMode)
        json.insert(QStringLiteral("systemMode"),
            QJsonObject{{QStringLiteral("ltem"), systemMode->ltem}, {QStringLiteral("nbiot"), systemMode->nbiot},
                {QStringLiteral("gnss"), systemMode->gnss}, {QStringLiteral("preference"), systemMode->preference}});
    if (registration) {
        QJsonObject r{{QStringLiteral("status"), registrationName(registration->stat)},
            {QStringLiteral("stat"), registration->stat}, {QStringLiteral("tac"), registration->tac},
            {QStringLiteral("cellId"), registration->cellId},
            {QStringLiteral("accessTechnology"), accessTechName(registration->accessTech)},
            {QStringLiteral("waitedMs"), waitedForNetworkMs}};
        if (registration->rejectCause >= 0) {
            r.insert(QStringLiteral("rejectCause"), registration->rejectCause);
            r.insert(QStringLiteral("rejectCauseText"), rejectCauseWords(registration->rejectCause));
        }
        json.insert(QStringLiteral("registration"), r);
    }
    if (signal) {
        QJsonObject s{{QStringLiteral("quality"), signalQualityName(signalQuality(*signal))}};
        if (signal->rsrpDbm)
            s.insert(QStringLiteral("rsrpDbm"), *signal->rsrpDbm);
        if (signal->rsrqDb)
            s.insert(QStringLiteral("rsrqDb"), *signal->rsrqDb);
        json.insert(QStringLiteral("signal"), s);
    }
    if (cell) {
        QJsonObject c{{QStringLiteral("operator"), cell->operatorName}, {QStringLiteral("plmn"), cell->plmn},
            {QStringLiteral("tac"), cell->tac}, {QStringLiteral("cellId"), cell->cellId},
            {QStringLiteral("band"), cell->band}, {QStringLiteral("earfcn"), cell->earfcn},
            {QStringLiteral("accessTechnology"), accessTechName(cell->accessTech)}};
        json.insert(QStringLiteral("cell"), c);
    }
    QJsonObject clock{{QStringLiteral("pc"), pcClock.toString(Qt::ISODate)}};
    if (modemClock) {
        clock.insert(QStringLiteral("modem"), modemClock->toString(Qt::ISODate));
        clock.insert(QStringLiteral("offsetSeconds"), pcClock.secsTo(*modemClock));
    }
    json.insert(QStringLiteral("clock"), clock);
    if (credentials.checked)
        json.insert(QStringLiteral("credentials"),
            QJsonObject{{QStringLiteral("tag"), qint64(credentials.tag)}, {QStringLiteral("rootCa"), credentials.root},
                {QStringLiteral("rootCaSha256"), credentials.rootSha256},
                {QStringLiteral("rootCaKnownAs"), credentials.rootKnownAs},
                {QStringLiteral("clientCertificate"), credentials.certificate},
                {QStringLiteral("clientCertificateSha256"), credentials.certificateSha256},
                {QStringLiteral("clientCertificateKnownAs"), credentials.certificateKnownAs},
                {QStringLiteral("privateKey"), credentials.key},
                {QStringLiteral("privateKeySha256"), credentials.keySha256}});
    return json;
}

ModemCheck::ModemCheck(Nrf91Modem &modem, QObject *parent)
    : QObject(parent)
    , m_modem(&modem)
{ }

ModemCheck::~ModemCheck()
{
    if (m_promise && m_running)
        deliver<ModemCheckReport>(
            m_promise, fail(ErrorKind::Cancelled, QStringLiteral("Cancelled"), tr("The modem check was cancelled.")));
}

QHash<QString, QString> ModemCheck::knownRootHashes()
{
    QHash<QString, QString> known;
    const auto roots = RootCertificates::all();
    QList<std::pair<QString, QByteArray>> prepared;
    for (const auto &root : roots) {
        QFile file(root.resourcePath);
        if (!file.open(QIODevice::ReadOnly))
            continue;
        if (const auto content = ModemCredentialStore::prepare(CredentialType::RootCa, file.readAll()))
            prepared.append({root.certificate.subjectCommonName(), *content});
    }
    for (const auto &[name, content] : prepared) {
        known.insert(ModemCredentialStore::sha256Hex(content), tr("%1, as Onboarder flashes it").arg(name));
        for (const auto &[other, otherContent] : prepared)
            if (other != name)
                known.insert(ModemCredentialStore::sha256Hex(content + '\n' + otherContent),
                    tr("%1 + %2, as Onboarder flashes them").arg(name, other));
    }
    return known;
}

QHash<QString, QString> ModemCheck::knownCertificateHashes(const QList<CredentialRecord> &records)
{
    QHash<QString, QString> known;
    for (const CredentialRecord &record : records) {
        if (record.certificateFile.isEmpty() || record.kind == CredentialRecord::Kind::CertificateAuthority)
            continue;
        QFile file(record.certificateFile);
        if (!file.open(QIODevice::ReadOnly))
            continue;
        if (const auto content = ModemCredentialStore::prepare(CredentialType::ClientCert, file.readAll()))
            known.insert(ModemCredentialStore::sha256Hex(*content),
                tr("the certificate of %1 in hub %2").arg(record.deviceId, record.hub));
    }
    return known;
}

QFuture<Result<ModemCheckReport>> ModemCheck::run(const ModemCheckOptions &options)
{
    if (m_running)
        return failedFuture<ModemCheckReport>(
            {ErrorKind::Internal, QStringLiteral("Busy"), tr("A modem check is running already.")});
    if (!m_modem || !m_modem->isOpen())
        return failedFuture<ModemCheckReport>(
            {ErrorKind::Internal, QStringLiteral("ModemNotOpen"), tr("The modem's port is not open.")});
    m_running = true;
    m_cancelled = false;
    m_options = options;
    m_report = {};
    m_report.port = m_modem->portPath();
    m_ceregMode = -1;
    m_ceregChanged = m_modeChanged = m_ending = false;
    m_waited.invalidate();
    m_promise = startedPromise<ModemCheckReport>();
    m_steps.clear();

    step(tr("Reading the modem's identity"), [this] {
        whenFinished(m_modem->identity(), this, [this](Result<ModemIdentity> identity) {
            if (!identity)
                return abort(identity.error());
            m_report.identity = *identity;
            next();
        });
    });
    step(tr("Reading the functional mode"), [this] {
        whenFinished(m_modem->functionalMode(), this, [this](Result<int> mode) {
            if (!mode)
                return abort(mode.error());
            m_report.functionalMode = *mode;
            next();
        });
    });
    step(tr("Switching LTE on for the check"), [this] {
        if (!m_options.switchLteOn || m_report.functionalMode == 1)
            return next();
        // Marked before the answer: a cancel or time-out may cut the answer off after the modem switched.
        m_modeChanged = true;
        whenFinished(m_modem->setFunctionalMode(1), this, [this](Result<void> on) {
            if (!on)
                return abort(on.error());
            m_report.lteSwitchedOn = true;
            m_waited.start();
            next();
        });
    });
    step(tr("Reading the SIM"), [this] {
        ask(
            AtCommand(QByteArrayLiteral("AT+CPIN?")).expecting(QByteArrayLiteral("+CPIN:")),
            tr("Reading the SIM's state"),
            [this](const Lines &lines) {
                m_report.sim = parseCpin(lastWith(lines, "+CPIN:")).value_or(SimState::Unknown);
            },
            [this](const Error &error) {
                // 27.007 §9.2: 10 SIM not inserted, 13 SIM failure, 15 SIM wrong; with the UICC off nothing answers.
                // Flight mode 4 and power-off mode 0 power the SIM down too (44 is flight mode with the SIM on).
                const bool lteOn
                    = m_report.functionalMode == 1 || m_report.functionalMode == 21 || m_report.lteSwitchedOn;
                const bool uiccOff = !lteOn && m_report.functionalMode != 44 && m_report.functionalMode != 41;
                if (uiccOff)
                    m_report.sim = SimState::Off;
                else if (error.code == QStringLiteral("CmeError10") || error.code == QStringLiteral("CmeError13")
                    || error.code == QStringLiteral("CmeError15"))
                    m_report.sim = SimState::Absent;
                else
                    m_report.unanswered.append(error.message);
            });
    });
    step(tr("Reading the SIM"), [this] {
        if (m_report.sim != SimState::Ready)
            return next();
        ask(AtCommand(QByteArrayLiteral("AT%XICCID")).expecting(QByteArrayLiteral("%XICCID:")), tr("Reading the ICCID"),
            [this](
                const Lines &lines) { m_report.iccid = parseIccid(lastWith(lines, "%XICCID:")).value_or(QString()); });
    });
    step(tr("Reading the SIM"), [this] {
        if (m_report.sim != SimState::Ready)
            return next();
        ask(AtCommand(QByteArrayLiteral("AT+CIMI")).answeringText(), tr("Reading the IMSI"),
            [this](const Lines &lines) {
                for (const QByteArray &line : lines) {
                    const QByteArray text = line.trimmed();
                    if (text.size() >= 6 && text.size() <= 15
                        && std::all_of(text.cbegin(), text.cend(), [](char c) { return c >= '0' && c <= '9'; }))
                        m_report.imsi = QString::fromLatin1(text);
                }
            });
    });
    step(tr("Reading the LTE modes"), [this] {
        ask(AtCommand(QByteArrayLiteral("AT%XSYSTEMMODE?")).expecting(QByteArrayLiteral("%XSYSTEMMODE:")),
            tr("Reading the system mode"),
            [this](const Lines &lines) { m_report.systemMode = parseSystemMode(lastWith(lines, "%XSYSTEMMODE:")); });
    });
    step(tr("Reading the network registration"), [this] {
        ask(AtCommand(QByteArrayLiteral("AT+CEREG?")).expecting(QByteArrayLiteral("+CEREG:")),
            tr("Reading the registration"), [this](const Lines &lines) {
                const QByteArray line = lastWith(lines, "+CEREG:");
                m_report.registration = parseCereg(line);
                if (m_report.registration)
                    m_ceregMode = line.mid(7).trimmed().split(',').value(0).toInt();
            });
    });
    step(tr("Reading the network registration"), [this] {
        // Mode 5 adds the cell and the reject cause to the answer; the firmware's own setting is put back below.
        if (m_ceregMode == 5 || m_ceregMode < 0)
            return next();
        m_ceregChanged = true;
        ask(AtCommand(QByteArrayLiteral("AT+CEREG=5")), tr("Asking for the registration's details"),
            [this](const Lines &) {
                m_steps.emplace_front(tr("Reading the network registration"), [this] {
                    ask(AtCommand(QByteArrayLiteral("AT+CEREG?")).expecting(QByteArrayLiteral("+CEREG:")),
                        tr("Reading the registration"), [this](const Lines &lines) {
                            if (const auto parsed = parseCereg(lastWith(lines, "+CEREG:")))
                                m_report.registration = parsed;
                        });
                });
            });
    });
    step(tr("Waiting for the network"), [this] { waitForNetwork(); });
    step(tr("Reading the network registration"), [this] {
        if (m_ceregMode == 5 || m_ceregMode < 0)
            return next();
        ask(AtCommand("AT+CEREG=" + QByteArray::number(m_ceregMode)), tr("Restoring the registration reports"),
            [this](const Lines &) { m_ceregChanged = false; });
    });
    step(tr("Measuring the signal"), [this] {
        ask(AtCommand(QByteArrayLiteral("AT+CESQ")).expecting(QByteArrayLiteral("+CESQ:")), tr("Measuring the signal"),
            [this](const Lines &lines) { m_report.signal = parseCesq(lastWith(lines, "+CESQ:")); });
    });
    step(tr("Reading the cell"), [this] {
        ask(AtCommand(QByteArrayLiteral("AT%XMONITOR")).expecting(QByteArrayLiteral("%XMONITOR:")),
            tr("Reading the cell"),
            [this](const Lines &lines) { m_report.cell = parseXmonitor(lastWith(lines, "%XMONITOR:")); });
    });
    step(tr("Reading the modem's clock"), [this] {
        ask(
            AtCommand(QByteArrayLiteral("AT+CCLK?")).expecting(QByteArrayLiteral("+CCLK:")),
            tr("Reading the modem's clock"),
            [this](const Lines &lines) {
                m_report.pcClock = QDateTime::currentDateTimeUtc();
                m_report.modemClock = parseCclk(lastWith(lines, "+CCLK:"));
            },
            [this](const Error &) {
                // The modem has no time until the network gave it one: an answer of its own, not a failure.
                m_report.pcClock = QDateTime::currentDateTimeUtc();
            });
    });
    step(tr("Listing the credentials"), [this] {
        if (!m_options.secTag)
            return next();
        auto store = std::make_shared<ModemCredentialStore>(*m_modem);
        const quint32 tag = *m_options.secTag;
        whenFinished(store->list(tag), this, [this, store, tag](Result<QList<ModemCredential>> entries) {
            if (!entries) {
                const Error &error = entries.error();
                if (error.kind != ErrorKind::Device || error.code == QStringLiteral("ModemTimeout"))
                    return abort(error);
                m_report.unanswered.append(error.message); // a refusal is an answer; the credentials stay unchecked
                return next();
            }
            auto &c = m_report.credentials;
            c.checked = true;
            c.tag = tag;
            for (const ModemCredential &entry : *entries) {
                if (entry.tag != tag)
                    continue;
                if (entry.sha256.isEmpty())
                    c.hashesListed = false;
                const QString sha = entry.sha256.toUpper();
                if (entry.type == CredentialType::RootCa) {
                    c.root = true;
                    c.rootSha256 = sha;
                    c.rootKnownAs = m_options.knownHashes.value(sha);
                } else if (entry.type == CredentialType::ClientCert) {
                    c.certificate = true;
                    c.certificateSha256 = sha;
                    c.certificateKnownAs = m_options.knownHashes.value(sha);
                } else if (entry.type == CredentialType::ClientKey) {
                    c.key = true;
                    c.keySha256 = sha;
                }
            }
            next();
        });
    });
    step(tr("Switching the modem back"), [this] {
        if (!m_report.lteSwitchedOn)
            return next();
        whenFinished(m_modem->setFunctionalMode(m_report.functionalMode), this, [this](Result<void> back) {
            if (!back)
                return abort(back.error());
            m_modeChanged = false;
            next();
        });
    });
    next();
    return m_promise->future();
}

void ModemCheck::cancel()
{
    if (!m_running || m_cancelled)
        return;
    m_cancelled = true;
    m_steps.clear();
    if (m_modem && m_modem->channel() && m_modem->channel()->isBusy())
        m_modem->cancel(); // the command in flight fails, and abort() follows from its answer
    else
        abort({ErrorKind::Cancelled, QStringLiteral("Cancelled"), tr("The modem check was cancelled.")});
}

void ModemCheck::step(const QString &title, std::function<void()> work)
{
    m_steps.emplace_back(title, std::move(work));
}

void ModemCheck::next()
{
    if (!m_running || m_ending)
        return;
    if (m_cancelled)
        return abort({ErrorKind::Cancelled, QStringLiteral("Cancelled"), tr("The modem check was cancelled.")});
    if (m_steps.empty())
        return finish();
    auto [title, work] = std::move(m_steps.front());
    m_steps.pop_front();
    Q_EMIT progress(title);
    work();
}

void ModemCheck::ask(const AtCommand &command, const QString &what, std::function<void(const Lines &)> onLines,
    std::function<void(const Error &)> onRefused)
{
    if (!m_modem)
        return abort({ErrorKind::Device, QStringLiteral("ModemGone"), tr("The modem is gone.")});
    whenFinished(m_modem->query(command, what), this,
        [this, onLines = std::move(onLines), onRefused = std::move(onRefused)](Result<Lines> lines) {
            if (!lines) {
                // A refusal is an answer: older firmware lacks some commands. Silence or a lost port ends the check.
                const Error &error = lines.error();
                if (error.kind != ErrorKind::Device || error.code == QStringLiteral("ModemTimeout"))
                    return abort(error);
                if (onRefused)
                    onRefused(error);
                else
                    m_report.unanswered.append(error.message);
                return next();
            }
            onLines(*lines);
            next();
        });
}

void ModemCheck::waitForNetwork()
{
    // A modem whose LTE just came on (by this check, or by the flash before it putting its mode back) searches for
    // a few seconds before the network answers: "searching" is a verdict only once the wait is over.
    const auto &r = m_report.registration;
    const bool lteOn = m_report.lteSwitchedOn || m_report.functionalMode == 1;
    const bool undecided = !r || r->stat == 2 || (m_report.lteSwitchedOn && (r->stat == 0 || r->stat == 4));
    if (!m_waited.isValid())
        m_waited.start();
    if (!lteOn || m_report.sim != SimState::Ready || !undecided || m_waited.elapsed() >= m_options.registrationWaitMs) {
        m_report.waitedForNetworkMs = m_waited.elapsed();
        return next();
    }
    Q_EMIT progress(tr("Waiting for the network (%n second(s))", nullptr, int(m_waited.elapsed() / 1000)));
    QTimer::singleShot(m_options.pollIntervalMs, this, [this] {
        if (!m_running || m_ending || m_cancelled)
            return; // cancel() has ended the check already
        ask(AtCommand(QByteArrayLiteral("AT+CEREG?")).expecting(QByteArrayLiteral("+CEREG:")),
            tr("Reading the registration"), [this](const Lines &lines) {
                if (const auto parsed = parseCereg(lastWith(lines, "+CEREG:")))
                    m_report.registration = parsed;
                // Back to this step: ask() calls next(), so the wait is queued in front again.
                m_steps.emplace_front(tr("Waiting for the network"), [this] { waitForNetwork(); });
            });
    });
}

void ModemCheck::abort(const Error &error)
{
    if (!m_running || m_ending)
        return;
    m_ending = true;
    m_steps.clear();
    // What the check changed is put back before the check ends: the registration reports, then the functional mode.
    QList<std::pair<QByteArray, QString>> undo;
    if (m_ceregChanged && m_ceregMode >= 0)
        undo.append({"AT+CEREG=" + QByteArray::number(m_ceregMode), tr("Restoring the registration reports")});
    if (m_modeChanged && m_report.functionalMode >= 0)
        undo.append({"AT+CFUN=" + QByteArray::number(m_report.functionalMode),
            tr("Switching the modem back to functional mode %1").arg(m_report.functionalMode)});
    m_ceregChanged = m_modeChanged = false;
    undoNext(undo, error);
}

void ModemCheck::undoNext(QList<std::pair<QByteArray, QString>> undo, Error error)
{
    if (undo.isEmpty() || !m_modem || !m_modem->isOpen()) {
        m_running = false;
        m_ending = false;
        const auto promise = m_promise; // its receiver may delete this check
        return deliver<ModemCheckReport>(promise, std::unexpected(std::move(error)));
    }
    const auto [command, what] = undo.takeFirst();
    whenFinished(m_modem->query(AtCommand(command).timeout(Nrf91Modem::functionalModeTimeoutMs), what), this,
        [this, undo, error, what](Result<QList<QByteArray>> done) mutable {
            if (!done)
                error.message += QLatin1Char(' ') + tr("%1 failed: %2").arg(what, done.error().message);
            undoNext(undo, error);
        });
}

void ModemCheck::finish()
{
    m_running = false;
    m_report.judge(m_options.clockToleranceSeconds);
    qCInfo(lcModem) << "modem check:" << ModemCheckReport::verdictName(m_report.verdict);
    const auto promise = m_promise; // its receiver may delete this check
    deliver<ModemCheckReport>(promise, m_report);
}

QByteArray ModemCheck::lastWith(const Lines &lines, const QByteArray &prefix)
{
    for (auto it = lines.crbegin(); it != lines.crend(); ++it)
        if (it->trimmed().startsWith(prefix))
            return it->trimmed();
    return {};
}

} // namespace Onboarder
