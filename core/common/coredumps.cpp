#include "coredumps.h"

#include "common/logging.h"

#include <cerrno>
#include <cstring>
#include <sys/prctl.h>
#include <sys/resource.h>

namespace Onboarder::CoreDumps {

bool disable()
{
    bool ok = true;
    const rlimit none = {0, 0};
    if (::setrlimit(RLIMIT_CORE, &none) != 0) {
        qCWarning(lcApp) << "cannot turn core files off:" << std::strerror(errno);
        ok = false;
    }
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        qCWarning(lcApp) << "cannot make the process non-dumpable:" << std::strerror(errno);
        ok = false;
    }
    return ok;
}

} // namespace Onboarder::CoreDumps
