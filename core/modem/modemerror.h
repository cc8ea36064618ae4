#pragma once

#include "common/result.h"
#include "modem/atresponseparser.h"

#include <QCoreApplication>

namespace Onboarder {

// A modem's refusal as an Error: every +CME ERROR code of docs/nrf91-at.md §3 as a
// sentence, a bare ERROR, and the time-outs and lost ports of the channel.
class ModemError final
{
    Q_DECLARE_TR_FUNCTIONS(ModemError)

public:
    // what: the operation, as a sentence start ("Writing the root CA certificate to security tag 10").
    static Error fromResponse(const AtResponse &response, const QString &what);
    // The reason alone, lower case, for a sentence of the caller's.
    static QString reason(int cmeCode);
    static QString code(int cmeCode); // stable machine code: "StorageFull", "ModemActive", …
};

} // namespace Onboarder
