#include "modemstatus.h"

#include <QList>
#include <QTimeZone>
#include <QUuid>

#include <algorithm>

namespace Onboarder::ModemStatus {

namespace {

struct Field
{
    QByteArray text;
    bool quoted = false;
};

// The parameters after "<prefix>:", split at commas outside double quotes; quotes removed. nullopt when the
// line does not start with prefix or a quote is left open.
std::optional<QList<Field>> fields(const QByteArray &line, const QByteArray &prefix)
{
    const QByteArray trimmed = line.trimmed();
    if (!trimmed.startsWith(prefix))
        return std::nullopt;
    const QByteArray rest = trimmed.mid(prefix.size()).trimmed();
    QList<Field> out;
    if (rest.isEmpty())
        return out;
    Field current;
    bool inQuotes = false;
    for (const char c : rest) {
        if (c == '"') {
            inQuotes = !inQuotes;
            current.quoted = true;
        } else if (c == ',' && !inQuotes) {
            current.text = current.text.trimmed();
            out.append(current);
            current = {};
        } else {
            current.text.append(c);
        }
    }
    if (inQuotes)
        return std::nullopt;
    current.text = current.text.trimmed();
    out.append(current);
    return out;
}

std::optional<int> integer(const QList<Field> &f, qsizetype index, int min, int max)
{
    if (index >= f.size() || f.at(index).quoted)
        return std::nullopt;
    bool ok = false;
    const int value = f.at(index).text.toInt(&ok);
    if (!ok || value < min || value > max)
        return std::nullopt;
    return value;
}

bool isHex(const QByteArray &text, qsizetype minSize, qsizetype maxSize)
{
    if (text.size() < minSize || text.size() > maxSize)
        return false;
    for (const char c : text)
        if (!std::isxdigit(static_cast<unsigned char>(c)))
            return false;
    return true;
}

QString optionalHex(const QList<Field> &f, qsizetype index, qsizetype maxSize, bool *ok)
{
    if (index >= f.size() || f.at(index).text.isEmpty())
        return {};
    if (!isHex(f.at(index).text, 1, maxSize)) {
        *ok = false;
        return {};
    }
    return QString::fromLatin1(f.at(index).text).toUpper();
}

// A minimal CBOR reader for the attestation message: unsigned integers, byte strings, arrays, tags.
class Cbor
{
public:
    explicit Cbor(const QByteArray &bytes)
        : m_bytes(bytes)
    { }
    // Major type and argument of the next item; nullopt at the end or on an argument form not used here.
    std::optional<std::pair<int, quint64>> head()
    {
        if (m_pos >= m_bytes.size())
            return std::nullopt;
        const auto initial = quint8(m_bytes.at(m_pos++));
        const int major = initial >> 5;
        const int info = initial & 0x1f;
        if (info < 24)
            return std::pair(major, quint64(info));
        const int length = info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : info == 27 ? 8 : 0;
        if (length == 0 || m_pos + length > m_bytes.size())
            return std::nullopt;
        quint64 value = 0;
        for (int i = 0; i < length; ++i)
            value = (value << 8) | quint8(m_bytes.at(m_pos++));
        return std::pair(major, value);
    }
    std::optional<QByteArray> bytes(quint64 size)
    {
        if (size > quint64(m_bytes.size() - m_pos))
            return std::nullopt;
        QByteArray out = m_bytes.mid(m_pos, qsizetype(size));
        m_pos += qsizetype(size);
        return out;
    }

private:
    QByteArray m_bytes;
    qsizetype m_pos = 0;
};

QString uuidText(const QByteArray &bytes)
{
    return QUuid::fromRfc4122(bytes).toString(QUuid::WithoutBraces);
}

} // namespace

std::optional<SimState> parseCpin(const QByteArray &line)
{
    const auto f = fields(line, "+CPIN:");
    if (!f || f->size() != 1)
        return std::nullopt;
    const QByteArray code = f->constFirst().text;
    if (code == "READY")
        return SimState::Ready;
    if (code == "SIM PIN")
        return SimState::PinNeeded;
    if (code == "SIM PUK")
        return SimState::PukNeeded;
    if (code.isEmpty())
        return std::nullopt;
    return SimState::OtherCode; // PH-SIM PIN, SIM PIN2, …
}

QString simStateName(SimState state)
{
    switch (state) {
    case SimState::Ready: return QStringLiteral("ready");
    case SimState::Absent: return QStringLiteral("absent");
    case SimState::PinNeeded: return QStringLiteral("pin");
    case SimState::PukNeeded: return QStringLiteral("puk");
    case SimState::OtherCode: return QStringLiteral("code");
    case SimState::Off: return QStringLiteral("off");
    case SimState::Unknown: break;
    }
    return QStringLiteral("unknown");
}

std::optional<QString> parseIccid(const QByteArray &line)
{
    const auto f = fields(line, "%XICCID:");
    if (!f || f->size() != 1)
        return std::nullopt;
    QByteArray iccid = f->constFirst().text.toUpper();
    // An ICCID of odd length is padded with F to fill its last byte (ITU-T E.118).
    while (iccid.endsWith('F'))
        iccid.chop(1);
    if (iccid.size() < 18 || iccid.size() > 22)
        return std::nullopt;
    for (const char c : iccid)
        if (c < '0' || c > '9')
            return std::nullopt;
    return QString::fromLatin1(iccid);
}

QString SystemMode::describe() const
{
    QStringList parts;
    if (ltem)
        parts.append(QStringLiteral("LTE-M"));
    if (nbiot)
        parts.append(QStringLiteral("NB-IoT"));
    if (gnss)
        parts.append(QStringLiteral("GNSS"));
    return parts.isEmpty() ? Text::tr("none") : parts.join(QStringLiteral(", "));
}

std::optional<SystemMode> parseSystemMode(const QByteArray &line)
{
    const auto f = fields(line, "%XSYSTEMMODE:");
    if (!f || f->size() != 4)
        return std::nullopt;
    const auto ltem = integer(*f, 0, 0, 1), nbiot = integer(*f, 1, 0, 1), gnss = integer(*f, 2, 0, 1),
               preference = integer(*f, 3, 0, 4);
    if (!ltem || !nbiot || !gnss || !preference)
        return std::nullopt;
    return SystemMode{*ltem == 1, *nbiot == 1, *gnss == 1, *preference};
}

std::optional<Registration> parseCereg(const QByteArray &line, bool hasMode)
{
    const auto f = fields(line, "+CEREG:");
    if (!f || f->isEmpty())
        return std::nullopt;
    const qsizetype first = hasMode ? 1 : 0;
    if (hasMode && !integer(*f, 0, 0, 5))
        return std::nullopt;
    Registration r;
    const auto stat = integer(*f, first, 0, 90);
    if (!stat || (*stat > 5 && *stat != 90))
        return std::nullopt;
    r.stat = *stat;
    bool ok = true;
    r.tac = optionalHex(*f, first + 1, 4, &ok);
    r.cellId = optionalHex(*f, first + 2, 8, &ok);
    if (!ok)
        return std::nullopt;
    if (f->size() > first + 3 && !f->at(first + 3).text.isEmpty()) {
        const auto act = integer(*f, first + 3, 0, 9);
        if (!act)
            return std::nullopt;
        r.accessTech = *act;
    }
    if (f->size() > first + 5 && !f->at(first + 4).text.isEmpty()) {
        const auto type = integer(*f, first + 4, 0, 1);
        const auto cause = integer(*f, first + 5, 0, 255);
        if (!type || !cause)
            return std::nullopt;
        r.causeType = *type;
        r.rejectCause = *cause;
    }
    return r;
}

QString registrationName(int stat)
{
    switch (stat) {
    case 0: return QStringLiteral("not-searching");
    case 1: return QStringLiteral("home");
    case 2: return QStringLiteral("searching");
    case 3: return QStringLiteral("denied");
    case 5: return QStringLiteral("roaming");
    case 90: return QStringLiteral("uicc-failure");
    default: return QStringLiteral("unknown");
    }
}

QString registrationWords(int stat)
{
    switch (stat) {
    case 0: return Text::tr("not registered and not searching");
    case 1: return Text::tr("registered in its home network");
    case 2: return Text::tr("searching for a network");
    case 3: return Text::tr("registration denied");
    case 5: return Text::tr("registered, roaming");
    case 90: return Text::tr("not registered: the SIM failed");
    default: return Text::tr("registration unknown");
    }
}

QString accessTechName(int accessTech)
{
    switch (accessTech) {
    case 7: return QStringLiteral("LTE-M");
    case 9: return QStringLiteral("NB-IoT");
    default: return {};
    }
}

QString rejectCauseWords(int cause)
{
    switch (cause) {
    case 2: return Text::tr("the network does not know the SIM (IMSI unknown)");
    case 3: return Text::tr("illegal device: the network refuses this SIM");
    case 5: return Text::tr("the network refuses this IMEI");
    case 6: return Text::tr("illegal device: the network refuses this modem");
    case 7: return Text::tr("the SIM's subscription has no LTE data service");
    case 8: return Text::tr("the SIM's subscription has no LTE service");
    case 11: return Text::tr("the SIM may not use this operator");
    case 12: return Text::tr("the SIM may not use this area");
    case 13: return Text::tr("roaming is not allowed here");
    case 14: return Text::tr("the SIM may not use LTE on this operator");
    case 15: return Text::tr("no suitable cell in this area");
    case 17: return Text::tr("network failure");
    case 22: return Text::tr("the network is congested");
    default: return Text::tr("cause %1").arg(cause);
    }
}

std::optional<Signal> parseCesq(const QByteArray &line)
{
    const auto f = fields(line, "+CESQ:");
    if (!f || f->size() != 6)
        return std::nullopt;
    for (qsizetype i = 0; i < 4; ++i)
        if (!integer(*f, i, 0, 255))
            return std::nullopt;
    const auto rsrq = integer(*f, 4, 0, 255);
    const auto rsrp = integer(*f, 5, 0, 255);
    if (!rsrq || !rsrp || (*rsrq > 34 && *rsrq != 255) || (*rsrp > 97 && *rsrp != 255))
        return std::nullopt;
    Signal s;
    if (*rsrp != 255)
        s.rsrpDbm = *rsrp - 141;
    if (*rsrq != 255)
        s.rsrqDb = *rsrq / 2.0 - 20.0;
    return s;
}

SignalQuality signalQuality(const Signal &signal)
{
    if (!signal.rsrpDbm)
        return SignalQuality::Unknown;
    const int rsrp = *signal.rsrpDbm;
    if (rsrp >= -84)
        return SignalQuality::Excellent;
    if (rsrp >= -102)
        return SignalQuality::Good;
    if (rsrp >= -111)
        return SignalQuality::Fair;
    return SignalQuality::Poor;
}

QString signalQualityName(SignalQuality quality)
{
    switch (quality) {
    case SignalQuality::Excellent: return QStringLiteral("excellent");
    case SignalQuality::Good: return QStringLiteral("good");
    case SignalQuality::Fair: return QStringLiteral("fair");
    case SignalQuality::Poor: return QStringLiteral("poor");
    case SignalQuality::Unknown: break;
    }
    return QStringLiteral("unknown");
}

QString signalQualityWords(SignalQuality quality)
{
    switch (quality) {
    case SignalQuality::Excellent: return Text::tr("excellent");
    case SignalQuality::Good: return Text::tr("good");
    case SignalQuality::Fair: return Text::tr("fair");
    case SignalQuality::Poor: return Text::tr("weak");
    case SignalQuality::Unknown: break;
    }
    return Text::tr("unknown");
}

std::optional<Cell> parseXmonitor(const QByteArray &line)
{
    const auto f = fields(line, "%XMONITOR:");
    if (!f || f->isEmpty())
        return std::nullopt;
    Cell cell;
    const auto stat = integer(*f, 0, 0, 90);
    if (!stat)
        return std::nullopt;
    cell.stat = *stat;
    if (f->size() == 1)
        return cell;
    if (f->size() < 8)
        return std::nullopt;
    const auto text = [&f](qsizetype i) { return QString::fromUtf8(f->at(i).text); };
    cell.operatorName = text(1).isEmpty() ? text(2) : text(1);
    if (!f->at(3).text.isEmpty() && !isHex(f->at(3).text, 5, 6))
        return std::nullopt;
    cell.plmn = text(3);
    bool ok = true;
    cell.tac = optionalHex(*f, 4, 4, &ok);
    cell.cellId = optionalHex(*f, 7, 8, &ok);
    if (!ok)
        return std::nullopt;
    if (const auto act = integer(*f, 5, 0, 9))
        cell.accessTech = *act;
    if (const auto band = integer(*f, 6, 0, 255))
        cell.band = *band;
    if (const auto earfcn = integer(*f, 9, 0, 262143))
        cell.earfcn = *earfcn;
    if (const auto rsrp = integer(*f, 10, 0, 255); rsrp && *rsrp <= 97)
        cell.rsrpDbm = *rsrp - 141;
    return cell;
}

std::optional<QDateTime> parseCclk(const QByteArray &line)
{
    const auto f = fields(line, "+CCLK:");
    if (!f || f->size() != 1 || !f->at(0).quoted)
        return std::nullopt;
    // "yy/MM/dd,hh:mm:ss±zz"
    const QByteArray value = f->at(0).text;
    const qsizetype comma = value.indexOf(',');
    const QByteArray date = value.left(comma);
    const QByteArray time = comma < 0 ? QByteArray() : value.mid(comma + 1);
    if (date.size() != 8 || time.size() < 8 || time.size() > 11)
        return std::nullopt;
    const QByteArray clock = time.left(8);
    const QByteArray zone = time.mid(8);
    const QDate d = QDate::fromString(QString::fromLatin1(date), QStringLiteral("yy/MM/dd"));
    const QTime t = QTime::fromString(QString::fromLatin1(clock), QStringLiteral("HH:mm:ss"));
    if (!d.isValid() || !t.isValid())
        return std::nullopt;
    int quarters = 0;
    if (!zone.isEmpty()) {
        if (zone.at(0) != '+' && zone.at(0) != '-')
            return std::nullopt;
        const QByteArray digits = zone.mid(1);
        if (digits.isEmpty()
            || !std::all_of(digits.cbegin(), digits.cend(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        quarters = digits.toInt();
        if (quarters > 56)
            return std::nullopt;
        if (zone.at(0) == '-')
            quarters = -quarters;
    }
    // yy is 20yy: QDate reads two-digit years as 19yy.
    const QDate full(2000 + d.year() % 100, d.month(), d.day());
    return QDateTime(full, t, QTimeZone(quarters * 15 * 60)).toUTC();
}

QString AttestationToken::deviceTypeWords() const
{
    switch (deviceType) {
    case 1: return QStringLiteral("nRF9160 SIAA");
    case 2: return QStringLiteral("nRF9160 SIBA");
    case 3: return QStringLiteral("nRF9160 SICA");
    default: return Text::tr("device type %1").arg(deviceType);
    }
}

std::optional<AttestationToken> parseAttestationToken(const QByteArray &line)
{
    const auto f = fields(line, "%ATTESTTOKEN:");
    if (!f || f->size() != 1)
        return std::nullopt;
    const QByteArray token = f->constFirst().text;
    const qsizetype dot = token.indexOf('.');
    if (dot <= 0 || dot == token.size() - 1)
        return std::nullopt;
    const auto decoded = QByteArray::fromBase64Encoding(token.left(dot),
        QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    Cbor cbor(*decoded);
    auto item = cbor.head();
    if (item && item->first == 6 && item->second == 55799) // self-describe CBOR tag
        item = cbor.head();
    if (!item || item->first != 4 || item->second < 4 || item->second > 16)
        return std::nullopt;
    AttestationToken out;
    const auto unsignedValue = [&cbor]() -> std::optional<int> {
        const auto h = cbor.head();
        if (!h || h->first != 0 || h->second > 1000)
            return std::nullopt;
        return int(h->second);
    };
    const auto uuid = [&cbor]() -> std::optional<QString> {
        const auto h = cbor.head();
        if (!h || h->first != 2 || h->second != 16)
            return std::nullopt;
        const auto b = cbor.bytes(16);
        return b ? std::optional(uuidText(*b)) : std::nullopt;
    };
    const auto type = unsignedValue();
    const auto device = uuid();
    const auto deviceType = unsignedValue();
    const auto firmware = uuid();
    if (!type || !device || !deviceType || !firmware)
        return std::nullopt;
    out.messageType = *type;
    out.deviceUuid = *device;
    out.deviceType = *deviceType;
    out.firmwareUuid = *firmware;
    return out;
}

} // namespace Onboarder::ModemStatus
