#include "securefile.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(SecureFile)
};

} // namespace

Result<void> SecureFile::checkNew(const QString &path)
{
    const QFileInfo info(path);
    if (path.isEmpty())
        return fail(ErrorKind::InvalidInput, QStringLiteral("FileUnwritable"), Text::tr("No output file was given."));
    if (info.exists() || info.isSymLink())
        return fail(ErrorKind::Conflict, QStringLiteral("FileExists"),
                    Text::tr("%1 exists already; choose another name or remove it first. Nothing was written.").arg(path));
    const QFileInfo dir(info.absolutePath());
    if (!dir.isDir() || !dir.isWritable())
        return fail(ErrorKind::InvalidInput, QStringLiteral("FileUnwritable"),
                    Text::tr("Cannot create %1: the folder %2 does not exist or is not writable.").arg(path, QDir::toNativeSeparators(dir.filePath())));
    return {};
}

Result<void> SecureFile::writeNew(const QString &path, const QByteArray &data)
{
    const QByteArray name = QFile::encodeName(path);
    const int fd = ::open(name.constData(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);
    if (fd < 0) {
        const int error = errno;
        if (error == EEXIST)
            return fail(ErrorKind::Conflict, QStringLiteral("FileExists"),
                        Text::tr("%1 exists already; choose another name or remove it first. Nothing was written.").arg(path));
        return fail(ErrorKind::InvalidInput, QStringLiteral("FileUnwritable"),
                    Text::tr("Cannot create %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(error))));
    }
    // The umask can only take permissions away; make sure of 0600 all the same before any byte is written.
    bool ok = ::fchmod(fd, S_IRUSR | S_IWUSR) == 0;
    qsizetype written = 0;
    while (ok && written < data.size()) {
        const ssize_t n = ::write(fd, data.constData() + written, size_t(data.size() - written));
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        written += ok ? n : 0;
    }
    const int error = errno;
    ok = ::fsync(fd) == 0 && ok;
    ok = ::close(fd) == 0 && ok;
    if (!ok) {
        ::unlink(name.constData());
        return fail(ErrorKind::InvalidInput, QStringLiteral("FileUnwritable"),
                    Text::tr("Cannot write %1: %2. The incomplete file was removed.").arg(path, QString::fromLocal8Bit(std::strerror(error))));
    }
    return {};
}

} // namespace Onboarder
