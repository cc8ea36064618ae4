#include "securefile.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <cstdlib>
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
            Text::tr("Cannot create %1: the folder %2 does not exist or is not writable.")
                .arg(path, QDir::toNativeSeparators(dir.filePath())));
    return {};
}

namespace {

// All of data to fd (mode 0600 made sure of first), synced and closed; false with errno set on a failure.
bool writeOwnerOnly(int fd, QByteArrayView data)
{
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
    errno = error;
    return ok;
}

} // namespace

Result<void> SecureFile::replace(const QString &path, const QByteArray &data)
{
    QByteArray temporary = QFile::encodeName(path) + ".XXXXXX";
    const int fd = ::mkostemp(temporary.data(), O_CLOEXEC);
    const bool ok = fd >= 0 && writeOwnerOnly(fd, data)
        && ::rename(temporary.constData(), QFile::encodeName(path).constData()) == 0;
    if (ok)
        return {};
    const int error = errno;
    if (fd >= 0)
        ::unlink(temporary.constData());
    return fail(ErrorKind::InvalidInput, QStringLiteral("FileUnwritable"),
        Text::tr("Cannot write %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(error))));
}

Result<void> SecureFile::writeNew(const QString &path, QByteArrayView data)
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
    if (!writeOwnerOnly(fd, data)) {
        const int error = errno;
        ::unlink(name.constData());
        return fail(ErrorKind::InvalidInput, QStringLiteral("FileUnwritable"),
            Text::tr("Cannot write %1: %2. The incomplete file was removed.")
                .arg(path, QString::fromLocal8Bit(std::strerror(error))));
    }
    return {};
}

} // namespace Onboarder
