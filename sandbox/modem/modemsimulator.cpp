#include "modemsimulator.h"

#include "credentials/keypair.h"
#include "simkeygen.h"

#include <QDateTime>
#include <QTimeZone>
#include <QTimer>

#include <algorithm>

namespace Onboarder::Sandbox {

namespace {

constexpr quint32 lastUserTag = 2147483647u;

const QList<int> supportedModes{0, 1, 4, 20, 21, 30, 31, 40, 41, 44};

QByteArray verboseCme(int code)
{
    switch (code) {
    case 50: return QByteArrayLiteral("incorrect parameters");
    case 513: return QByteArrayLiteral("not found");
    case 514: return QByteArrayLiteral("no access");
    case 515: return QByteArrayLiteral("memory full");
    case 518: return QByteArrayLiteral("not allowed in active state");
    case 519: return QByteArrayLiteral("already exists");
    case 523: return QByteArrayLiteral("key generation failed");
    case 528: return QByteArrayLiteral("not allowed when power off warning is active");
    default: return QByteArrayLiteral("unknown error");
    }
}

} // namespace

ModemSimulator::ModemSimulator(ModemState &state, const SimulatorOptions &options, QObject *parent)
    : QObject(parent)
    , m_state(state)
    , m_options(options)
    , m_slow(new QTimer(this))
{
    m_slow->setSingleShot(true);
    connect(m_slow, &QTimer::timeout, this, [this] {
        m_busy = false;
        send(m_pending);
    });
    const QByteArray mode = QByteArray::number(options.initialFunctionalMode);
    cfun("=" + mode);
}

ModemSimulator::~ModemSimulator() = default;

void ModemSimulator::receive(const QByteArray &bytes)
{
    for (const char c : bytes)
        receiveByte(c);
}

// The AT host's per-byte rules (sdk-nrf lib/at_host): the order of the checks matters.
void ModemSimulator::receiveByte(char c)
{
    if (m_options.shell)
        return shellByte(c);
    if (m_options.stallWriteBytes > 0) {
        // The bridge between USB and the modem's UART: once a long burst overflowed it, bytes are lost until the
        // host pauses (once per command). The AT host itself knows nothing of it and goes on reading the quoted
        // content.
        const bool pause = m_lastByte.isValid() && m_lastByte.elapsed() >= 1000;
        m_lastByte.start();
        if (m_dropping && !pause)
            return;
        m_dropping = false;
        if (!m_stalled && m_inQuotes && m_buffer.size() >= m_options.stallWriteBytes
            && m_buffer.trimmed().toUpper().startsWith("AT%CMNG=0")) {
            m_dropping = m_stalled = true;
            return;
        }
    }
    if (m_busy) // RX is off while a command executes
        return;
    if (!m_inQuotes) {
        bool ends = false;
        switch (m_options.terminator) {
        case SimulatorOptions::Terminator::Cr: ends = c == '\r'; break;
        case SimulatorOptions::Terminator::Lf: ends = c == '\n'; break;
        case SimulatorOptions::Terminator::Nul: ends = c == '\0'; break;
        case SimulatorOptions::Terminator::CrLf: ends = c == '\n' && m_buffer.endsWith('\r'); break;
        }
        if (ends) {
            QByteArray command = std::exchange(m_buffer, {});
            if (m_options.terminator == SimulatorOptions::Terminator::CrLf)
                command.chop(1);
            execute(command);
            return;
        }
        if (c == '\0') // a NUL is ignored unless it is the terminator
            return;
    }
    if (c == '\b' || c == '\x7f') {
        if (!m_buffer.isEmpty()) {
            if (m_buffer.back() == '"')
                m_inQuotes = !m_inQuotes;
            m_buffer.chop(1);
        }
        return;
    }
    // Overflow: the character is dropped (even a closing quote, so that the host never gets out of
    // the quoted state again: the wedge real AT hosts show with too long %CMNG writes).
    if (m_buffer.size() >= m_options.maxCommandBytes - 1) {
        m_wedged = m_inQuotes;
        return;
    }
    if (c == '"')
        m_inQuotes = !m_inQuotes;
    m_buffer.append(c);
}

void ModemSimulator::execute(const QByteArray &raw)
{
    m_inQuotes = false;
    m_stalled = false;
    // Whitespace-only commands are dropped; leading white space is the LF of a host that ends its
    // commands with CR LF.
    const QByteArray command = raw.trimmed();
    if (command.isEmpty())
        return;
    ++m_executed;
    const Reply reply = run(command);
    if (m_options.slowMs > 0) {
        m_busy = true;
        m_pending = reply;
        m_slow->start(m_options.slowMs);
        return;
    }
    send(reply);
}

ModemSimulator::Reply ModemSimulator::run(const QByteArray &command)
{
    if (!command.toUpper().startsWith("AT"))
        return {{}, QByteArrayLiteral("ERROR")};
    const QByteArray body = command.mid(2);
    if (body.isEmpty())
        return {};
    qsizetype end = 0;
    while (end < body.size() && body.at(end) != '=' && body.at(end) != '?')
        ++end;
    const QByteArray name = body.left(end).toUpper();
    const QByteArray rest = body.mid(end);
    const auto single = [&rest](const QByteArray &line) -> Reply {
        return rest.isEmpty() ? Reply{{line}} : Reply{{}, QByteArrayLiteral("ERROR")};
    };

    if (name == "+CMEE") {
        if (rest == "?")
            return {{"+CMEE: " + QByteArray::number(m_cmee)}};
        if (rest == "=?")
            return {{QByteArrayLiteral("+CMEE: (0-2)")}};
        bool ok = false;
        const int mode = rest.mid(1).toInt(&ok);
        if (!rest.startsWith('=') || !ok || mode < 0 || mode > 2)
            return error(50);
        m_cmee = mode;
        return {};
    }
    if (name == "+CFUN")
        return cfun(rest);
    if (name == "+CGSN") {
        const QByteArray imeisv = m_state.imei.left(14).toLatin1() + "89";
        if (rest.isEmpty() || rest == "=0") {
            // As when the board was reset while it answered: the AT host's greeting follows the IMEI.
            if (m_options.bannerInCgsn)
                return {{m_state.imei.toLatin1(), QByteArrayLiteral("The AT host sample started"),
                    QByteArrayLiteral("Ready")}};
            return {{m_state.imei.toLatin1()}};
        }
        if (rest == "=1")
            return {{"+CGSN: \"" + m_state.imei.toLatin1() + '"'}};
        if (rest == "=2")
            return {{"+CGSN: \"" + imeisv + '"'}};
        if (rest == "=3")
            return {{QByteArrayLiteral("+CGSN: \"89\"")}};
        if (rest == "=?")
            return {{QByteArrayLiteral("+CGSN: (0-3)")}};
        return error(50);
    }
    if (name == "+CGMI")
        return single(m_state.manufacturer.toLatin1());
    if (name == "+CGMM")
        return single(m_state.model.toLatin1());
    if (name == "+CGMR")
        return single(m_state.firmware.toLatin1());
    if (name == "%XMODEMUUID")
        return single("%XMODEMUUID: " + m_state.modemUuid.toLatin1());
    if (name == "%SHORTSWVER")
        return single("%SHORTSWVER: " + m_state.firmware.mid(4).toLatin1());
    if (name == "%HWVERSION")
        return single(QByteArrayLiteral("%HWVERSION: nRF9160 SICA B1A"));
    if (name == "+CEREG" || name == "%XSIM" || name == "%CESQ" || name == "+CSCON" || name == "%XTEMP"
        || name == "+CIMI" || name == "%XICCID" || name == "+CPIN" || name == "%XSYSTEMMODE" || name == "+CESQ"
        || name == "%XMONITOR" || name == "+CCLK" || name == "%ATTESTTOKEN" || name == "%XFACTORYRESET")
        return network(name, rest);
    if (name == "%CMNG" || name == "%KEYGEN") {
        // Test and read forms are not supported.
        if (!rest.startsWith('=') || rest == "=?")
            return {{}, QByteArrayLiteral("ERROR")};
        const auto params = parseParams(rest.mid(1));
        if (!params)
            return error(50);
        return name == "%CMNG" ? cmng(*params) : keygen(*params);
    }
    return {{}, QByteArrayLiteral("ERROR")};
}

ModemSimulator::Reply ModemSimulator::cfun(const QByteArray &rest)
{
    if (rest == "?")
        return {{"+CFUN: " + QByteArray::number(m_cfun)}};
    if (rest == "=?")
        return {{QByteArrayLiteral("+CFUN: (0,1,4,20,21,30,31,40,41,44)")}};
    bool ok = false;
    const int mode = rest.mid(1).toInt(&ok);
    if (!rest.startsWith('=') || !ok || !supportedModes.contains(mode))
        return error(50);
    // Functional mode as three switches; the read form reports the combination.
    bool lteOn = m_lte, gnssOn = m_gnss, uiccOn = m_uicc;
    switch (mode) {
    case 0: lteOn = gnssOn = uiccOn = false; break;
    case 1: lteOn = gnssOn = uiccOn = true; break;
    case 4: lteOn = gnssOn = uiccOn = false; break; // flight mode: the UICC off too
    case 44:
        lteOn = gnssOn = false;
        uiccOn = true;
        break; // flight mode with the UICC on
    case 20: lteOn = false; break;
    case 21: lteOn = uiccOn = true; break;
    case 30: gnssOn = false; break;
    case 31: gnssOn = uiccOn = true; break;
    case 40: uiccOn = lteOn = false; break;
    case 41: uiccOn = true; break;
    default: break;
    }
    if (lteOn && !m_lte)
        m_lteOn.start();
    m_lte = lteOn;
    m_gnss = gnssOn;
    m_uicc = uiccOn;
    m_cfun = m_lte ? 1 : m_gnss ? 31 : (m_uicc || mode == 4) ? 4 : 0;
    return {};
}

int ModemSimulator::registrationStat() const
{
    if (!m_lte)
        return 0;
    if (m_options.sim == SimulatorOptions::Sim::Absent)
        return 90; // not registered: UICC failure
    if (m_options.sim == SimulatorOptions::Sim::Pin)
        return 0;
    if (!m_options.ltem && !m_options.nbiot)
        return 0;
    if (m_lteOn.isValid() && m_lteOn.elapsed() < m_options.registrationDelayMs)
        return 2;
    switch (m_options.network) {
    case SimulatorOptions::Network::Home: return 1;
    case SimulatorOptions::Network::Roaming: return 5;
    case SimulatorOptions::Network::Searching: return 2;
    case SimulatorOptions::Network::Denied: return 3;
    case SimulatorOptions::Network::NotSearching: return 0;
    }
    return 0;
}

// SIM, registration, signal, cell, clock and the other status commands (docs/nrf91-at.md §10).
ModemSimulator::Reply ModemSimulator::network(const QByteArray &name, const QByteArray &rest)
{
    const bool read = rest == "?";
    const bool bare = rest.isEmpty();
    const bool simReady = m_uicc && m_options.sim == SimulatorOptions::Sim::Ready;
    const int stat = registrationStat();
    const bool registered = stat == 1 || stat == 5;
    if (name == "+CEREG") {
        if (read) {
            QByteArray line = "+CEREG: " + QByteArray::number(m_cereg) + ',' + QByteArray::number(stat);
            if (m_cereg >= 2 && (registered || stat == 3))
                line += QByteArrayLiteral(",\"002F\",\"0012BEEF\",7");
            if (m_cereg >= 3 && stat == 3)
                line += ",0," + QByteArray::number(m_options.rejectCause);
            return {{line}};
        }
        if (rest.startsWith('=') && rest != "=?") {
            bool ok = false;
            const int n = rest.mid(1).toInt(&ok);
            if (!ok || n < 0 || n > 5)
                return error(50);
            m_cereg = n;
            return {};
        }
        return error(50);
    }
    if (name == "%XSIM") {
        if (read)
            return {{simReady ? QByteArrayLiteral("%XSIM: 1") : QByteArrayLiteral("%XSIM: 0")}};
        return rest.startsWith('=') ? Reply{} : error(50);
    }
    if (name == "%CESQ" || name == "+CSCON" || name == "%XTEMP")
        return rest.startsWith('=') ? Reply{} : error(50);
    if (name == "+CPIN") {
        if (!read)
            return error(50);
        if (!m_uicc || m_options.sim == SimulatorOptions::Sim::Absent)
            return error(10); // SIM not inserted (or not powered)
        return {{m_options.sim == SimulatorOptions::Sim::Pin ? QByteArrayLiteral("+CPIN: \"SIM PIN\"")
                                                             : QByteArrayLiteral("+CPIN: READY")}};
    }
    if (name == "+CIMI")
        return !bare   ? error(50)
            : simReady ? Reply{{QByteArrayLiteral("284011234567890")}}
                       : Reply{{}, QByteArrayLiteral("ERROR")};
    if (name == "%XICCID")
        return !bare ? error(50)
            : (m_uicc && m_options.sim != SimulatorOptions::Sim::Absent)
            ? Reply{{QByteArrayLiteral("%XICCID: 8901234567012345678F")}}
            : Reply{{}, QByteArrayLiteral("ERROR")};
    if (name == "%XSYSTEMMODE") {
        if (read)
            return {{"%XSYSTEMMODE: " + QByteArray::number(int(m_options.ltem)) + ','
                + QByteArray::number(int(m_options.nbiot)) + ',' + QByteArray::number(int(m_options.gnss)) + ",0"}};
        const auto params = rest.startsWith('=') ? parseParams(rest.mid(1)) : std::nullopt;
        if (!params || params->size() != 4)
            return error(50);
        if (m_lte)
            return error(518);
        const auto flag = [&params](int i) { return number(*params, i).value_or(-1); };
        if (flag(0) < 0 || flag(0) > 1 || flag(1) < 0 || flag(1) > 1 || flag(2) < 0 || flag(2) > 1)
            return error(50);
        m_options.ltem = flag(0) == 1;
        m_options.nbiot = flag(1) == 1;
        m_options.gnss = flag(2) == 1;
        return {};
    }
    if (name == "+CESQ") {
        if (!bare)
            return error(50);
        if (!registered)
            return {{QByteArrayLiteral("+CESQ: 99,99,255,255,255,255")}};
        const int rsrq = std::clamp(int((m_options.rsrqDb + 20.0) * 2.0), 0, 34);
        const int rsrp = std::clamp(m_options.rsrpDbm + 141, 0, 97);
        return {{"+CESQ: 99,99,255,255," + QByteArray::number(rsrq) + ',' + QByteArray::number(rsrp)}};
    }
    if (name == "%XMONITOR") {
        if (!bare)
            return error(50);
        if (!registered)
            return {{"%XMONITOR: " + QByteArray::number(stat)}};
        const int rsrp = std::clamp(m_options.rsrpDbm + 141, 0, 97);
        return {{"%XMONITOR: " + QByteArray::number(stat)
            + ",\"Sandbox Mobile\",\"SbxMob\",\"00101\",\"002F\",7,20,\"0012BEEF\",123,6300," + QByteArray::number(rsrp)
            + ",24,\"\",\"11100000\",\"11100000\",\"00001001\""}};
    }
    if (name == "+CCLK") {
        if (read) {
            const QDateTime now
                = QDateTime::currentDateTimeUtc().addSecs(m_options.clockOffsetSeconds + m_clockSetOffset);
            return {{"+CCLK: \"" + now.toString(QStringLiteral("yy/MM/dd,HH:mm:ss")).toLatin1() + "+00\""}};
        }
        const auto params = rest.startsWith('=') ? parseParams(rest.mid(1)) : std::nullopt;
        if (!params || params->size() != 1 || !params->at(0).quoted || params->at(0).text.size() < 17)
            return error(50);
        const QByteArray text = params->at(0).text;
        const QDateTime set
            = QDateTime::fromString(QString::fromLatin1(text.left(17)), QStringLiteral("yy/MM/dd,HH:mm:ss"));
        if (!set.isValid())
            return error(50);
        const QDateTime utc(set.date().addYears(100), set.time(), Qt::UTC);
        m_clockSetOffset = QDateTime::currentDateTimeUtc().secsTo(utc) - m_options.clockOffsetSeconds;
        return {};
    }
    if (name == "%ATTESTTOKEN") {
        if (!bare)
            return error(50);
        // [1, device UUID, 3 (nRF9160 SICA), firmware UUID, nonce] in the self-describe tag; the COSE part is not
        // signed here.
        QByteArray cbor = QByteArray::fromHex("d9d9f78501");
        const auto uuidBytes
            = [](const QString &uuid) { return QByteArray::fromHex(uuid.toLatin1().replace('-', "")); };
        cbor += '\x50' + uuidBytes(m_state.deviceUuid) + '\x03' + '\x50' + uuidBytes(m_state.modemUuid) + '\x50'
            + QByteArray(16, '\x5a');
        const auto url = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
        return {{"%ATTESTTOKEN: \"" + cbor.toBase64(url) + '.' + QByteArray("sandbox-unsigned").toBase64(url) + '"'}};
    }
    if (name == "%XFACTORYRESET") {
        if (rest != "=0" && rest != "=1")
            return error(50);
        if (m_cfun != 0)
            return error(518);
        for (auto it = m_state.credentials.begin(); it != m_state.credentials.end();)
            it = it->first.first <= lastUserTag ? m_state.credentials.erase(it) : std::next(it);
        persist();
        return {};
    }
    return {{}, QByteArrayLiteral("ERROR")};
}

// A Zephyr shell instead of an AT host: echo, "command not found", the prompt.
void ModemSimulator::shellByte(char c)
{
    if (c == '\r' || c == '\n') {
        const QByteArray line = std::exchange(m_shellLine, {}).trimmed();
        QByteArray out = QByteArrayLiteral("\r\n");
        if (!line.isEmpty())
            out += line.split(' ').value(0) + ": command not found\r\n";
        Q_EMIT transmit(out + "uart:~$ ");
        return;
    }
    m_shellLine.append(c);
    Q_EMIT transmit(QByteArray(1, c));
}

ModemSimulator::Reply ModemSimulator::cmng(const QList<Param> &params)
{
    const auto opcode = number(params, 0);
    const auto tag = number(params, 1);
    const auto type = number(params, 2);
    if (!opcode || (params.size() > 1 && (!tag || *tag < 0 || *tag > 0xFFFFFFFFLL))
        || (params.size() > 2 && (!type || *type < 0 || *type > 13)))
        return error(50);
    const ModemState::Key key{quint32(tag.value_or(0)), int(type.value_or(0))};
    const auto found = m_state.credentials.find(key);
    const bool exists = found != m_state.credentials.end();

    switch (*opcode) {
    case 0: { // write
        if (params.size() < 4 || params.size() > 5 || !params.at(3).quoted || params.at(3).text.isEmpty()
            || (params.size() == 5 && (!params.at(4).quoted || params.at(4).text.size() > 32)))
            return error(50);
        if (m_options.powerOffWarning)
            return error(528);
        if (m_lte)
            return error(518);
        if (key.first > lastUserTag || key.second > 4)
            return error(514);
        if (++m_writes == m_options.failWrite)
            return m_options.failWriteCode > 0 ? error(m_options.failWriteCode) : Reply{{}, QByteArrayLiteral("ERROR")};
        if (exists && found->second.generated)
            return error(519);
        const QByteArray &content = params.at(3).text;
        if (m_state.storedBytes() - (exists ? found->second.content.size() : 0) + content.size()
            > m_options.storageBytes)
            return error(515);
        m_state.credentials[key] = {content, params.size() == 5 ? params.at(4).text : QByteArray(), false};
        persist();
        return {};
    }
    case 1: { // list: all, one tag, or one tag and type; nothing found is a bare OK
        if (params.size() > 3)
            return error(50);
        Reply reply;
        for (const auto &[entry, credential] : m_state.credentials) {
            if ((!tag || entry.first == key.first) && (!type || entry.second == key.second))
                reply.lines.append(listLine(entry.first, entry.second, credential));
        }
        if (m_options.blankLines && !reply.lines.isEmpty()) {
            reply.lines.prepend(QByteArray());
            reply.lines.append(QByteArray());
        }
        return reply;
    }
    case 2: { // read: only root certificates and PSK identities come back
        if (params.size() != 3)
            return error(50);
        if (!exists)
            return error(513);
        if ((key.second != 0 && key.second != 4) || found->second.generated)
            return error(514);
        return {{listLine(key.first, key.second, found->second) + ",\"" + found->second.content + '"'}};
    }
    case 3: { // delete
        if (params.size() != 3)
            return error(50);
        if (m_options.powerOffWarning)
            return error(528);
        if (m_lte)
            return error(518);
        if (!exists)
            return error(513);
        if (key.first > lastUserTag)
            return error(514);
        m_state.credentials.erase(found);
        persist();
        return {};
    }
    default: return error(50);
    }
}

// AT%KEYGEN=<sec_tag>,<key_type>[,<response_content>][,"<attributes>"][,"<key_usage>"]
ModemSimulator::Reply ModemSimulator::keygen(const QList<Param> &params)
{
    const auto tag = number(params, 0);
    const auto keyType = number(params, 1);
    if (!tag || !keyType || *tag < 0 || *tag > 0xFFFFFFFFLL || (*keyType != 2 && *keyType != 8))
        return error(50);
    qsizetype next = 2;
    qint64 content = 0;
    if (next < params.size() && !params.at(next).quoted) {
        const auto value = number(params, next++);
        if (!value || (*value != 0 && *value != 1))
            return error(50);
        content = *value;
    }
    const QByteArray attributes
        = next < params.size() && params.at(next).quoted ? params.at(next++).text : QByteArray();
    const QByteArray usage = next < params.size() && params.at(next).quoted ? params.at(next++).text : QByteArray();
    if (next != params.size())
        return error(50);
    if (m_options.powerOffWarning)
        return error(528);
    if (m_lte)
        return error(518);
    if (*tag > lastUserTag)
        return error(514);

    const ModemState::Key key{quint32(*tag), int(*keyType)};
    const auto found = m_state.credentials.find(key);
    const bool exists = found != m_state.credentials.end();
    if (exists && key.second == 2) // a client key is not replaced
        return error(519);
    // An endorsement key that exists already is answered for again.
    const Result<KeyPair> pair
        = exists ? KeyPair::fromPem(found->second.content) : KeyPair::generate(KeyPair::Type::EcP256);
    if (!pair)
        return error(523);
    const QByteArray pem = pair->privateKeyPem().exposeForWire();
    if (!exists && m_state.storedBytes() + pem.size() > m_options.storageBytes)
        return error(515);

    QString problem;
    const QByteArray subject = attributes.isEmpty() ? "CN=" + m_state.deviceUuid.toLatin1() : attributes;
    const QByteArray body = content == 0 ? SimKeygen::csrDer(*pair, QString::fromUtf8(subject), usage, &problem)
                                         : SimKeygen::publicKeyDer(*pair);
    if (body.isEmpty())
        return content == 0 && !attributes.isEmpty() ? error(50) : error(523);
    const auto identity = KeyPair::fromPem(m_state.credentials[{ModemState::identityKeyTag, 2}].content);
    const QByteArray cose
        = identity ? SimKeygen::coseSign1(*identity, m_state.deviceUuid, key.first, body, &problem) : QByteArray();
    if (cose.isEmpty())
        return error(523);
    m_state.credentials[key] = {pem, {}, true};
    persist();
    return {{"%KEYGEN: \"" + SimKeygen::responseToken(body, cose) + '"'}};
}

ModemSimulator::Reply ModemSimulator::error(int cmeCode) const
{
    switch (m_cmee) {
    case 1: return {{}, "+CME ERROR: " + QByteArray::number(cmeCode)};
    case 2: return {{}, "+CME ERROR: " + verboseCme(cmeCode)};
    default: return {{}, QByteArrayLiteral("ERROR")};
    }
}

QByteArray ModemSimulator::listLine(quint32 tag, int type, const SimCredential &credential) const
{
    const QByteArray comma = m_options.spacesAfterCommas ? QByteArrayLiteral(", ") : QByteArrayLiteral(",");
    QByteArray line = "%CMNG: " + QByteArray::number(tag) + comma + QByteArray::number(type);
    if (m_options.reportSha)
        line += comma + '"' + ModemState::sha256Hex(credential.content).toLatin1() + '"';
    return line;
}

void ModemSimulator::send(const Reply &reply)
{
    QByteArray bytes;
    for (const QByteArray &line : reply.lines) {
        bytes += line + "\r\n";
        if (m_options.urcNoise)
            bytes += nextUnsolicited() + "\r\n";
    }
    if (m_options.urcNoise && reply.lines.isEmpty())
        bytes += nextUnsolicited() + "\r\n";
    bytes += reply.final + "\r\n";
    Q_EMIT transmit(bytes);
}

void ModemSimulator::injectUnsolicited()
{
    if (!m_busy)
        Q_EMIT transmit(nextUnsolicited() + "\r\n");
}

QByteArray ModemSimulator::nextUnsolicited()
{
    static const QByteArray lines[] = {
        QByteArrayLiteral("+CEREG: 2,\"002F\",\"0012BEEF\",7"),
        QByteArrayLiteral("%CESQ: 62,3,12,1"),
        QByteArrayLiteral("%XSIM: 1"),
        QByteArrayLiteral("+CSCON: 0"),
        QByteArrayLiteral("+CEREG: 1,\"002F\",\"0012BEEF\",7,,,\"11100000\",\"11100000\""),
        QByteArrayLiteral("%XTEMP: 1,36"),
    };
    return lines[m_urc++ % std::size(lines)];
}

bool ModemSimulator::persist()
{
    QString problem;
    if (m_state.save(&problem))
        return true;
    Q_EMIT this->problem(problem);
    return false;
}

// Splits "0,42,0,\"…\"" at the commas outside quotes. A quoted parameter keeps every byte between its
// quotes (CR and LF included); white space around parameters is ignored.
std::optional<QList<ModemSimulator::Param>> ModemSimulator::parseParams(const QByteArray &text)
{
    QList<Param> params;
    qsizetype i = 0;
    const qsizetype n = text.size();
    const auto skipSpaces = [&] {
        while (i < n && (text.at(i) == ' ' || text.at(i) == '\t'))
            ++i;
    };
    while (true) {
        Param param;
        skipSpaces();
        if (i < n && text.at(i) == '"') {
            const qsizetype close = text.indexOf('"', i + 1);
            if (close < 0)
                return std::nullopt;
            param = {true, text.mid(i + 1, close - i - 1)};
            i = close + 1;
            skipSpaces();
        } else {
            const qsizetype comma = text.indexOf(',', i);
            param.text = text.mid(i, comma < 0 ? -1 : comma - i).trimmed();
            i = comma < 0 ? n : comma;
        }
        params.append(param);
        if (i >= n)
            break;
        if (text.at(i) != ',')
            return std::nullopt;
        ++i;
    }
    return params;
}

std::optional<qint64> ModemSimulator::number(const QList<Param> &params, qsizetype index)
{
    if (index >= params.size() || params.at(index).quoted || params.at(index).text.isEmpty())
        return std::nullopt;
    bool ok = false;
    const qint64 value = params.at(index).text.toLongLong(&ok);
    return ok ? std::optional(value) : std::nullopt;
}

} // namespace Onboarder::Sandbox
