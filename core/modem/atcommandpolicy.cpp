#include "atcommandpolicy.h"

namespace Onboarder {

AtCommandPolicy AtCommandPolicy::of(const QByteArray &command)
{
    const QByteArray text = command.trimmed();
    const QByteArray upper = text.toUpper();
    if (!upper.startsWith("AT"))
        return {Kind::NotAt, tr("AT commands start with \"AT\".")};
    if (text.contains('\r') || text.contains('\n'))
        return {Kind::NotAt, tr("One command at a time, on one line.")};
    // "AT+CFUN?;+CPIN=…" chains commands: each would need its own judgement, so chains are not sent.
    bool quoted = false;
    for (const char c : text) {
        if (c == '"')
            quoted = !quoted;
        else if (c == ';' && !quoted)
            return {Kind::NotAt, tr("One command at a time: commands chained with \";\" are not sent.")};
    }
    const QByteArray body = upper.mid(2);
    qsizetype end = 0;
    while (end < body.size() && body.at(end) != '=' && body.at(end) != '?')
        ++end;
    const QByteArray name = body.left(end);
    const QByteArray rest = body.mid(end);
    const bool set = rest.startsWith('=') && rest != "=?";

    if (name == "%CMNG" && set) {
        const QByteArray opcode = rest.mid(1).split(',').value(0).trimmed();
        if (opcode == "0")
            return {Kind::CarriesSecret,
                tr("Credentials are not written from the terminal: the content would stay in its "
                   "history. Use Write from File… on the Credentials tab (or `onboarder-cli modem creds write`).")};
        if (opcode == "3")
            return {Kind::Changes, tr("This deletes a credential from the modem.")};
    }
    if (name == "+CPIN" && set)
        return {Kind::CarriesSecret, tr("A SIM PIN is not entered from the terminal: it would stay in its history.")};
    if (name == "+CPWD" || name == "+CLCK" || (name == "+CGAUTH" && set))
        return {
            Kind::CarriesSecret, tr("Passwords are not entered from the terminal: they would stay in its history.")};
    if (name == "+CFUN" && set)
        return {Kind::Changes,
            tr("This changes the modem's functional mode (its radio and SIM): a device in the field may "
               "drop off the network.")};
    if (name == "%XFACTORYRESET")
        return {
            Kind::Changes, tr("This resets the modem to its factory settings: credentials and settings may be lost.")};
    if (name == "%KEYGEN")
        return {Kind::Changes, tr("This makes a new key in the modem, replacing what a tag holds.")};
    if (name == "%XSYSTEMMODE" && set)
        return {Kind::Changes, tr("This changes the LTE modes the modem may use.")};
    if ((name == "%XBANDLOCK" || name == "+COPS" || name == "%XFOTA" || name == "+CGDCONT" || name == "%XSIM"
            || name == "%XEPCO" || name == "%XPOFWARN" || name == "%REL14FEAT" || name == "%XMODEMTRACE"
            || name == "+CCLK")
        && set)
        return {Kind::Changes, tr("This changes a setting of the modem.")};
    return {};
}

QByteArray AtCommandPolicy::answerPrefix(const QByteArray &command)
{
    const QByteArray body = command.trimmed().mid(2).toUpper();
    if (body.isEmpty() || (body.at(0) != '+' && body.at(0) != '%' && body.at(0) != '#'))
        return {};
    qsizetype end = 1;
    while (end < body.size() && body.at(end) != '=' && body.at(end) != '?')
        ++end;
    return body.left(end) + ':';
}

} // namespace Onboarder
