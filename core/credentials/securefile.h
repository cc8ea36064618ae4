#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace Onboarder {

// Writes an export (PKCS#12, OpenPGP, and the plaintext one the user confirmed) to a new file that
// only its owner can read: created with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600, so it never exists
// with wider permissions, never follows a planted symlink, and never replaces an existing file. A
// failed write removes what was written.
class SecureFile final
{
public:
    // FileExists (Conflict) when the path exists; FileUnwritable otherwise.
    static Result<void> writeNew(const QString &path, QByteArrayView data);
    // The same checks before any work is done (writeNew still refuses a file that appears meanwhile).
    static Result<void> checkNew(const QString &path);
    // Replaces path (or creates it) with data, atomically: written to a new owner-only file beside it (mode 0600 from
    // its first byte, whatever the umask) and renamed over it. FileUnwritable on failure, which leaves path as it was.
    static Result<void> replace(const QString &path, const QByteArray &data);
};

} // namespace Onboarder
