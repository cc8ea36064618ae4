// The modem check's parsers (ModemStatus), its verdict (ModemCheckReport::judge) and what the AT terminal lets
// through (AtCommandPolicy), on answers in the forms of Nordic's AT command reference.
#include "modem/atcommandpolicy.h"
#include "modem/modemcheck.h"
#include "modem/modemstatus.h"

#include <QTest>

using namespace Onboarder;
using namespace Onboarder::ModemStatus;

class tst_ModemStatus : public QObject
{
    Q_OBJECT

    static ModemCheckReport readyReport()
    {
        ModemCheckReport r;
        r.identity = {QStringLiteral("352656100367872"), QStringLiteral("Nordic Semiconductor ASA"),
            QStringLiteral("nRF9160-SICA"), QStringLiteral("mfw_nrf9160_1.3.5"), {}};
        r.functionalMode = 1;
        r.sim = SimState::Ready;
        r.systemMode = SystemMode{true, true, false, 0};
        r.registration = parseCereg("+CEREG: 5,1,\"002F\",\"0012BEEF\",7");
        r.signal = parseCesq("+CESQ: 99,99,255,255,24,62");
        r.pcClock = QDateTime::currentDateTimeUtc();
        r.modemClock = r.pcClock.addSecs(3);
        return r;
    }

private Q_SLOTS:
    void sim()
    {
        QCOMPARE(parseCpin("+CPIN: READY"), SimState::Ready);
        QCOMPARE(parseCpin("+CPIN: \"SIM PIN\""), SimState::PinNeeded); // Nordic's example quotes it
        QCOMPARE(parseCpin("+CPIN: SIM PUK"), SimState::PukNeeded);
        QCOMPARE(parseCpin("+CPIN: PH-SIM PIN"), SimState::OtherCode);
        QVERIFY(!parseCpin("+CPIN:"));
        QVERIFY(!parseCpin("+CPIN: \"READY"));
        QCOMPARE(parseIccid("%XICCID: 8901234567012345678F"), QStringLiteral("8901234567012345678"));
        QCOMPARE(parseIccid("%XICCID: 89883030000012345678"), QStringLiteral("89883030000012345678"));
        QVERIFY(!parseIccid("%XICCID: 89012345A7012345678F"));
        QVERIFY(!parseIccid("%XICCID: 123F"));
    }

    void systemMode()
    {
        const auto mode = parseSystemMode("%XSYSTEMMODE: 1,0,1,0");
        QVERIFY(mode);
        QVERIFY(mode->ltem && !mode->nbiot && mode->gnss);
        QCOMPARE(mode->describe(), QStringLiteral("LTE-M, GNSS"));
        QVERIFY(!parseSystemMode("%XSYSTEMMODE: 1,0,1"));
        QVERIFY(!parseSystemMode("%XSYSTEMMODE: 2,0,1,0"));
    }

    void registration()
    {
        // The read form (with <n>) and the unsolicited one (without).
        const auto home = parseCereg("+CEREG: 5,1,\"002F\",\"0012BEEF\",7,,,\"11100000\",\"11100000\"");
        QVERIFY(home);
        QCOMPARE(home->stat, 1);
        QCOMPARE(home->tac, QStringLiteral("002F"));
        QCOMPARE(home->cellId, QStringLiteral("0012BEEF"));
        QCOMPARE(accessTechName(home->accessTech), QStringLiteral("LTE-M"));
        QCOMPARE(home->rejectCause, -1);
        const auto denied = parseCereg("+CEREG: 5,3,\"002F\",\"0012BEEF\",9,0,15");
        QVERIFY(denied);
        QCOMPARE(denied->stat, 3);
        QCOMPARE(denied->causeType, 0);
        QCOMPARE(denied->rejectCause, 15);
        QCOMPARE(registrationName(denied->stat), QStringLiteral("denied"));
        QCOMPARE(parseCereg("+CEREG: 0,90")->stat, 90);
        QCOMPARE(parseCereg("+CEREG: 2,\"002F\",\"0012BEEF\",7", false)->stat, 2);
        QVERIFY(!parseCereg("+CEREG: 0,7"));
        QVERIFY(!parseCereg("+CEREG: 5,1,\"00ZZ\""));
        QVERIFY(!parseCereg("+CEREG: 9,1"));
    }

    void signal()
    {
        // 3GPP TS 27.007 +CESQ: RSRP index 0..97 (index − 141 dBm), RSRQ 0..34 (index / 2 − 20 dB), 255 unknown.
        const auto s = parseCesq("+CESQ: 99,99,255,255,24,62");
        QVERIFY(s);
        QCOMPARE(*s->rsrpDbm, -79);
        QCOMPARE(*s->rsrqDb, -8.0);
        QCOMPARE(signalQuality(*s), SignalQuality::Excellent);
        QCOMPARE(signalQuality(*parseCesq("+CESQ: 99,99,255,255,10,45")), SignalQuality::Good); // −96 dBm
        QCOMPARE(signalQuality(*parseCesq("+CESQ: 99,99,255,255,10,33")), SignalQuality::Fair); // −108 dBm
        QCOMPARE(signalQuality(*parseCesq("+CESQ: 99,99,255,255,3,23")), SignalQuality::Poor); // −118 dBm
        const auto none = parseCesq("+CESQ: 99,99,255,255,255,255");
        QVERIFY(none && !none->rsrpDbm && !none->rsrqDb);
        QCOMPARE(signalQuality(*none), SignalQuality::Unknown);
        QVERIFY(!parseCesq("+CESQ: 99,99,255,255,35,62"));
        QVERIFY(!parseCesq("+CESQ: 99,99,255,255,24"));
    }

    void cell()
    {
        // The example of Nordic's %XMONITOR documentation.
        const auto c = parseXmonitor(
            "%XMONITOR: 1,\"EDAV\",\"EDAV\",\"26295\",\"00B7\",7,4,\"00011B07\",7,2300,63,39,\"\",\"11100000\","
            "\"11100000\",\"00001001\"");
        QVERIFY(c);
        QCOMPARE(c->stat, 1);
        QCOMPARE(c->operatorName, QStringLiteral("EDAV"));
        QCOMPARE(c->plmn, QStringLiteral("26295"));
        QCOMPARE(c->tac, QStringLiteral("00B7"));
        QCOMPARE(c->band, 4);
        QCOMPARE(c->cellId, QStringLiteral("00011B07"));
        QCOMPARE(c->earfcn, 2300);
        QCOMPARE(*c->rsrpDbm, -78);
        const auto bare = parseXmonitor("%XMONITOR: 2");
        QVERIFY(bare && bare->stat == 2 && !bare->hasCell());
        QVERIFY(!parseXmonitor("%XMONITOR: 1,\"EDAV\""));
    }

    void clock()
    {
        // The zone is in quarter hours: +08 is two hours east of UTC.
        const auto t = parseCclk("+CCLK: \"18/12/06,22:10:00+08\"");
        QVERIFY(t);
        QCOMPARE(*t, QDateTime(QDate(2018, 12, 6), QTime(20, 10), Qt::UTC));
        QCOMPARE(*parseCclk("+CCLK: \"26/01/31,23:30:00-04\""), QDateTime(QDate(2026, 2, 1), QTime(0, 30), Qt::UTC));
        QCOMPARE(*parseCclk("+CCLK: \"26/12/06,17:00:00\""),
            QDateTime(QDate(2026, 12, 6), QTime(17, 0), Qt::UTC)); // no zone: UTC
        QVERIFY(!parseCclk("+CCLK: \"18/12/06,22:10:00+-5\""));
        QVERIFY(!parseCclk("+CCLK: \"18/13/06,22:10:00+08\""));
        QVERIFY(!parseCclk("+CCLK: 18/12/06,22:10:00+08"));
    }

    void attestationToken()
    {
        // A token published with Nordic's examples: [1, device UUID, 3 (nRF9160 SICA), firmware UUID, nonce].
        const auto token = parseAttestationToken(
            "%ATTESTTOKEN: "
            "\"2dn3hQFQUFZBTjQyRAqARAIf47w9GANQ9uO9e33zS4i0OqepdmoErVDTluTkTuSk5wSathm9GYCY.0oRDoQEmoQ\"");
        QVERIFY(token);
        QCOMPARE(token->messageType, 1);
        QCOMPARE(token->deviceUuid, QStringLiteral("5056414e-3432-440a-8044-021fe3bc3d18"));
        QCOMPARE(token->deviceType, 3);
        QCOMPARE(token->deviceTypeWords(), QStringLiteral("nRF9160 SICA"));
        QCOMPARE(token->firmwareUuid, QStringLiteral("f6e3bd7b-7df3-4b88-b43a-a7a9766a04ad"));
        QVERIFY(!parseAttestationToken("%ATTESTTOKEN: \"2dn3hQFQUFZBTjQy.0oRD\""));
        QVERIFY(!parseAttestationToken("%ATTESTTOKEN: \"nodot\""));
    }

    void verdicts()
    {
        ModemCheckReport r = readyReport();
        r.judge();
        QCOMPARE(r.verdict, ModemCheckReport::Verdict::Ready);

        r = readyReport();
        r.signal = parseCesq("+CESQ: 99,99,255,255,3,23");
        r.judge();
        QCOMPARE(r.verdict, ModemCheckReport::Verdict::WeakSignal);

        // The most basic problem decides: no SIM before a weak signal and a wrong clock.
        r.sim = SimState::Absent;
        r.modemClock = r.pcClock.addYears(-1);
        r.judge();
        QCOMPARE(r.verdict, ModemCheckReport::Verdict::NoSim);
        QVERIFY(r.evidence.join(u'\n').contains(QStringLiteral("RSRP -118 dBm")));

        r = readyReport();
        r.modemClock = r.pcClock.addDays(-2);
        r.judge();
        QCOMPARE(r.verdict, ModemCheckReport::Verdict::ClockWrong);
        r.judge(3 * 24 * 3600); // a tolerance the caller sets
        QCOMPARE(r.verdict, ModemCheckReport::Verdict::Ready);

        r = readyReport();
        r.credentials.checked = true;
        r.credentials.tag = 10;
        r.credentials.root = r.credentials.certificate = true;
        r.judge();
        QCOMPARE(r.verdict, ModemCheckReport::Verdict::MissingCredentials);
        QVERIFY(r.verdictText.contains(QStringLiteral("private key")));

        r = readyReport();
        r.functionalMode = 4;
        r.registration = parseCereg("+CEREG: 0,0");
        r.judge();
        QCOMPARE(r.verdict, ModemCheckReport::Verdict::LteOff);

        r = readyReport();
        r.registration = parseCereg("+CEREG: 5,3,\"002F\",\"0012BEEF\",7,0,11");
        r.judge();
        QCOMPARE(r.verdict, ModemCheckReport::Verdict::Denied);
        QVERIFY(r.verdictText.contains(rejectCauseWords(11)));

        r = readyReport();
        r.systemMode = SystemMode{false, false, true, 0};
        r.judge();
        QCOMPARE(r.verdict, ModemCheckReport::Verdict::NoLteMode);
        QCOMPARE(r.toJson().value(QStringLiteral("verdict")).toString(), QStringLiteral("no-lte-mode"));
    }

    void terminalPolicy()
    {
        QCOMPARE(AtCommandPolicy::of("AT+CEREG?").kind, AtCommandPolicy::Kind::Reads);
        QCOMPARE(AtCommandPolicy::of("at%xmonitor").kind, AtCommandPolicy::Kind::Reads);
        QCOMPARE(AtCommandPolicy::of("AT%CMNG=1").kind, AtCommandPolicy::Kind::Reads);
        QCOMPARE(AtCommandPolicy::of("AT%CMNG=0,10,2,\"-----BEGIN").kind, AtCommandPolicy::Kind::CarriesSecret);
        QCOMPARE(AtCommandPolicy::of("at%cmng=0,10,3,\"00112233\"").kind, AtCommandPolicy::Kind::CarriesSecret);
        QCOMPARE(AtCommandPolicy::of("AT+CPIN=\"1234\"").kind, AtCommandPolicy::Kind::CarriesSecret);
        QCOMPARE(AtCommandPolicy::of("AT+CPIN?").kind, AtCommandPolicy::Kind::Reads);
        QCOMPARE(AtCommandPolicy::of("AT%CMNG=3,10,1").kind, AtCommandPolicy::Kind::Changes);
        QCOMPARE(AtCommandPolicy::of("AT+CFUN=0").kind, AtCommandPolicy::Kind::Changes);
        QCOMPARE(AtCommandPolicy::of("AT+CFUN?").kind, AtCommandPolicy::Kind::Reads);
        QCOMPARE(AtCommandPolicy::of("AT%XFACTORYRESET=0").kind, AtCommandPolicy::Kind::Changes);
        QCOMPARE(AtCommandPolicy::of("help").kind, AtCommandPolicy::Kind::NotAt);
        // A chain would carry a PIN or a mode switch past the first command's judgement.
        QCOMPARE(AtCommandPolicy::of("AT+CFUN?;+CPIN=\"1234\"").kind, AtCommandPolicy::Kind::NotAt);
        QCOMPARE(AtCommandPolicy::of("AT%XPDNCFG?").kind, AtCommandPolicy::Kind::Reads);
        QCOMPARE(AtCommandPolicy::of("AT+CGAUTH=0,1,\"user\",\"secret\"").kind, AtCommandPolicy::Kind::CarriesSecret);
        QCOMPARE(AtCommandPolicy::answerPrefix("AT+CFUN?"), QByteArray("+CFUN:"));
        QCOMPARE(AtCommandPolicy::answerPrefix("at%xmonitor"), QByteArray("%XMONITOR:"));
        QCOMPARE(AtCommandPolicy::answerPrefix("AT+CGMR"), QByteArray("+CGMR:"));
        QCOMPARE(AtCommandPolicy::answerPrefix("ATI"), QByteArray());
    }
};

QTEST_GUILESS_MAIN(tst_ModemStatus)
#include "tst_modemstatus.moc"
