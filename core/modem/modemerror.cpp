#include "modemerror.h"

namespace Onboarder {

QString ModemError::code(int cmeCode)
{
    switch (cmeCode) {
    case 0: return QStringLiteral("NotSupported");
    case 513: return QStringLiteral("CredentialNotFound");
    case 514: return QStringLiteral("NotAllowed");
    case 515: return QStringLiteral("StorageFull");
    case 518: return QStringLiteral("ModemActive");
    case 519: return QStringLiteral("AlreadyExists");
    case 523: return QStringLiteral("KeyGenerationFailed");
    case 528: return QStringLiteral("PowerOffWarning");
    default: return QStringLiteral("CmeError%1").arg(cmeCode);
    }
}

QString ModemError::reason(int cmeCode)
{
    switch (cmeCode) {
    case 0:
        return tr(
            "the modem's firmware does not support this command (it may be too old: %KEYGEN needs 1.3.0 or newer)");
    case 23: return tr("the modem reported a memory failure");
    case 50: return tr("the modem found the parameters incorrect");
    case 51: return tr("this command is disabled in the modem's firmware build");
    case 60: return tr("the modem reported a system error");
    case 513: return tr("nothing is stored there");
    case 514:
        return tr("the modem does not allow it (the security tag is reserved for the modem, or this kind of credential "
                  "cannot be read back)");
    case 515: return tr("the modem's credential storage is full; delete credentials that are no longer needed");
    case 518: return tr("the modem is online; credentials can only be changed in offline mode (AT+CFUN=4)");
    case 519:
        return tr("it exists already and cannot be replaced (a key the modem generated itself must be deleted first)");
    case 520: return tr("the modem refused the authentication");
    case 523: return tr("the modem could not generate the key");
    case 527: return tr("the modem found the content invalid");
    case 528:
        return tr(
            "a power-off warning is active (the supply voltage is too low); power the modem properly and try again");
    case 529: return tr("the modem could not build the claim token");
    default: return tr("the modem answered +CME ERROR: %1").arg(cmeCode);
    }
}

Error ModemError::fromResponse(const AtResponse &response, const QString &what)
{
    switch (response.final) {
    case AtFinal::CmeError:
        if (response.code < 0) // verbose error text (AT+CMEE=2)
            return {ErrorKind::Device, QStringLiteral("CmeError"),
                tr("%1 failed: the modem answered \"%2\".").arg(what, QString::fromLatin1(response.finalLine))};
        return {response.code == 513 ? ErrorKind::NotFound : ErrorKind::Device, code(response.code),
            tr("%1 failed: %2.").arg(what, reason(response.code))};
    case AtFinal::CmsError:
        return {ErrorKind::Device, QStringLiteral("CmsError"),
            tr("%1 failed: the modem answered \"%2\".").arg(what, QString::fromLatin1(response.finalLine))};
    case AtFinal::Error:
        return {ErrorKind::Device, QStringLiteral("ModemError"),
            tr("%1 failed: the modem refused the command without giving a reason.").arg(what)};
    case AtFinal::Ok:
    case AtFinal::None: break;
    }
    return {ErrorKind::Internal, QStringLiteral("NoError"), tr("%1 succeeded.").arg(what)};
}

} // namespace Onboarder
