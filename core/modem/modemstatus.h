#pragma once

#include <QByteArray>
#include <QCoreApplication>
#include <QDateTime>
#include <QString>

#include <optional>

namespace Onboarder {

// The answers of the nRF91's network and SIM status commands, parsed (docs/nrf91-at.md §10). Every parser
// takes one information line as the modem sent it, prefix included, and gives nullopt for a line it cannot
// read: these lines come from a device and are checked like any other untrusted input (tests/fuzz).
namespace ModemStatus {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(ModemStatus)
};

// +CPIN: READY | SIM PIN | SIM PUK | …
enum class SimState { Unknown, Ready, Absent, PinNeeded, PukNeeded, OtherCode, Off };
std::optional<SimState> parseCpin(const QByteArray &line);
QString simStateName(SimState state); // stable, for JSON: "ready", "absent", "pin", "puk", "code", "off", "unknown"

// %XICCID: 8901234567012345678F — the ICCID without its F filler digits.
std::optional<QString> parseIccid(const QByteArray &line);

// %XSYSTEMMODE: <LTE-M>,<NB-IoT>,<GNSS>,<preference>
struct SystemMode
{
    bool ltem = false;
    bool nbiot = false;
    bool gnss = false;
    int preference = 0;
    QString describe() const; // "LTE-M and NB-IoT, GNSS"
};
std::optional<SystemMode> parseSystemMode(const QByteArray &line);

// +CEREG: <n>,<stat>[,[<tac>],[<ci>],[<AcT>][,<cause_type>,<reject_cause>[,…]]] (the read form) or the
// unsolicited form without <n>.
struct Registration
{
    int stat = -1; // 0 not searching, 1 home, 2 searching, 3 denied, 4 unknown, 5 roaming, 90 UICC failure
    QString tac; // 4 hex digits
    QString cellId; // 8 hex digits
    int accessTech = -1; // 7 LTE-M, 9 NB-IoT
    int causeType = -1; // 0: reject_cause is an EMM cause
    int rejectCause = -1;
    bool registered() const { return stat == 1 || stat == 5; }
};
std::optional<Registration> parseCereg(const QByteArray &line, bool hasMode = true);
QString registrationName(
    int stat); // stable: "home", "roaming", "searching", "denied", "not-searching", "unknown", "uicc-failure"
QString registrationWords(int stat); // translated, e.g. "searching for a network"
QString accessTechName(int accessTech); // "LTE-M", "NB-IoT", or empty
QString rejectCauseWords(int cause); // 3GPP TS 24.301 annex A, translated

// +CESQ: <rxlev>,<ber>,<rscp>,<ecno>,<rsrq>,<rsrp>; 255 is "unknown".
struct Signal
{
    std::optional<int> rsrpDbm; // index − 141: index 1 means −140 ≤ RSRP < −139 dBm
    std::optional<double> rsrqDb; // index / 2 − 20: index 1 means −19.5 ≤ RSRQ < −19 dB
};
std::optional<Signal> parseCesq(const QByteArray &line);
enum class SignalQuality { Unknown, Excellent, Good, Fair, Poor };
SignalQuality signalQuality(const Signal &signal);
QString signalQualityName(SignalQuality quality); // stable: "excellent", …, "unknown"
QString signalQualityWords(SignalQuality quality); // translated

// %XMONITOR:
// <reg_status>[,<full_name>,<short_name>,<plmn>,<tac>,<AcT>,<band>,<cell_id>,<phys_cell_id>,<EARFCN>,<rsrp>,<snr>,…]
struct Cell
{
    int stat = -1;
    QString operatorName; // full name, else the short one
    QString plmn; // MCC and MNC, "26295"
    QString tac;
    int accessTech = -1;
    int band = -1;
    QString cellId;
    int earfcn = -1;
    std::optional<int> rsrpDbm;
    bool hasCell() const { return !plmn.isEmpty() || !cellId.isEmpty(); }
};
std::optional<Cell> parseXmonitor(const QByteArray &line);

// +CCLK: "yy/MM/dd,hh:mm:ss±zz", the zone in quarter hours: the time in UTC.
std::optional<QDateTime> parseCclk(const QByteArray &line);

// %ATTESTTOKEN: "<attestation>.<COSE>": the attestation part's CBOR array [message type, device UUID (16 bytes),
// device type, firmware UUID (16 bytes)].
struct AttestationToken
{
    int messageType = -1;
    QString deviceUuid; // 8-4-4-4-12 lower-case hex
    int deviceType = -1;
    QString firmwareUuid;
    QString deviceTypeWords() const;
};
std::optional<AttestationToken> parseAttestationToken(const QByteArray &line);

} // namespace ModemStatus

} // namespace Onboarder
