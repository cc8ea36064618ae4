// A full disk for the tests, without a filesystem of its own (mounting one needs privileges CI may not have): a
// library put in front of libc with LD_PRELOAD that makes writes to the files under one directory fail with ENOSPC
// while a switch file exists, as a full disk would, and lets them through again once it is removed ("space
// returns"). Reads, and files elsewhere, are never touched.
//   ONBOARDER_FULL_DISK_DIR     the directory whose files are on the "full disk" (absolute, no trailing slash)
//   ONBOARDER_FULL_DISK_SWITCH  the file whose existence means "full"; when it holds a number, that many bytes still
//                               fit (a write that needs more writes what fits and returns short, as when a disk fills
//                               in the middle of it; the number goes down as they are written)
// What fails: write, pwrite, pwrite64, writev, pwritev, fsync, fdatasync, ftruncate, fallocate and
// posix_fallocate on a descriptor of such a file; open and creat of a new file there.
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace {

template<typename Function> Function next(const char *name)
{
    return reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
}

bool switchedOn()
{
    const char *path = std::getenv("ONBOARDER_FULL_DISK_SWITCH");
    struct stat info;
    return path && *path && ::stat(path, &info) == 0;
}

bool underDirectory(const char *path)
{
    const char *dir = std::getenv("ONBOARDER_FULL_DISK_DIR");
    if (!dir || !*dir || !path)
        return false;
    const size_t length = std::strlen(dir);
    return std::strncmp(path, dir, length) == 0 && (path[length] == '/' || path[length] == '\0');
}

// Whether writing to fd must fail now.
bool full(int fd)
{
    if (!switchedOn())
        return false;
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    char path[4096];
    const ssize_t length = ::readlink(link, path, sizeof path - 1);
    if (length <= 0)
        return false;
    path[length] = '\0';
    return underDirectory(path);
}

int refuse()
{
    errno = ENOSPC;
    return -1;
}

// How many of count bytes still fit, taken from the switch file's number (none when it holds none).
size_t room(size_t count)
{
    static const auto realOpen = next<int (*)(const char *, int, ...)>("open");
    static const auto realRead = next<ssize_t (*)(int, void *, size_t)>("read");
    static const auto realPwrite = next<ssize_t (*)(int, const void *, size_t, off_t)>("pwrite");
    static const auto realFtruncate = next<int (*)(int, off_t)>("ftruncate");
    const char *path = std::getenv("ONBOARDER_FULL_DISK_SWITCH");
    const int fd = realOpen(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char text[32] = {};
    const ssize_t length = realRead(fd, text, sizeof text - 1);
    const unsigned long long left = length > 0 ? std::strtoull(text, nullptr, 10) : 0;
    const size_t fits = left < count ? size_t(left) : count;
    if (fits > 0) {
        const int written = std::snprintf(text, sizeof text, "%llu", left - fits);
        realFtruncate(fd, 0);
        realPwrite(fd, text, size_t(written), 0);
    }
    ::close(fd);
    return fits;
}

using OpenFunction = int (*)(const char *, int, ...);

int openOrRefuse(OpenFunction real, const char *path, int flags, va_list arguments)
{
    const mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? mode_t(va_arg(arguments, int)) : 0;
    struct stat info;
    if ((flags & O_CREAT) && switchedOn() && underDirectory(path) && ::stat(path, &info) != 0)
        return refuse();
    return real(path, flags, mode);
}

// Shrinking a file frees space; only growing it needs room.
bool grows(int fd, off64_t length)
{
    struct stat info;
    return ::fstat(fd, &info) == 0 && length > info.st_size;
}

} // namespace

extern "C" {

ssize_t write(int fd, const void *buffer, size_t count)
{
    static const auto real = next<ssize_t (*)(int, const void *, size_t)>("write");
    if (count == 0 || !full(fd))
        return real(fd, buffer, count);
    const size_t fits = room(count);
    return fits == 0 ? refuse() : real(fd, buffer, fits);
}

ssize_t pwrite(int fd, const void *buffer, size_t count, off_t offset)
{
    static const auto real = next<ssize_t (*)(int, const void *, size_t, off_t)>("pwrite");
    if (count == 0 || !full(fd))
        return real(fd, buffer, count, offset);
    const size_t fits = room(count);
    return fits == 0 ? refuse() : real(fd, buffer, fits, offset);
}

ssize_t pwrite64(int fd, const void *buffer, size_t count, off64_t offset)
{
    static const auto real = next<ssize_t (*)(int, const void *, size_t, off64_t)>("pwrite64");
    if (count == 0 || !full(fd))
        return real(fd, buffer, count, offset);
    const size_t fits = room(count);
    return fits == 0 ? refuse() : real(fd, buffer, fits, offset);
}

ssize_t writev(int fd, const struct iovec *vector, int count)
{
    static const auto real = next<ssize_t (*)(int, const struct iovec *, int)>("writev");
    return count > 0 && full(fd) ? refuse() : real(fd, vector, count);
}

ssize_t pwritev(int fd, const struct iovec *vector, int count, off_t offset)
{
    static const auto real = next<ssize_t (*)(int, const struct iovec *, int, off_t)>("pwritev");
    return count > 0 && full(fd) ? refuse() : real(fd, vector, count, offset);
}

int fsync(int fd)
{
    static const auto real = next<int (*)(int)>("fsync");
    return full(fd) ? refuse() : real(fd);
}

int fdatasync(int fd)
{
    static const auto real = next<int (*)(int)>("fdatasync");
    return full(fd) ? refuse() : real(fd);
}

int ftruncate(int fd, off_t length)
{
    static const auto real = next<int (*)(int, off_t)>("ftruncate");
    return grows(fd, length) && full(fd) ? refuse() : real(fd, length);
}

int ftruncate64(int fd, off64_t length)
{
    static const auto real = next<int (*)(int, off64_t)>("ftruncate64");
    return grows(fd, length) && full(fd) ? refuse() : real(fd, length);
}

int fallocate(int fd, int mode, off_t offset, off_t length)
{
    static const auto real = next<int (*)(int, int, off_t, off_t)>("fallocate");
    return full(fd) ? refuse() : real(fd, mode, offset, length);
}

int posix_fallocate(int fd, off_t offset, off_t length)
{
    static const auto real = next<int (*)(int, off_t, off_t)>("posix_fallocate");
    return full(fd) ? ENOSPC : real(fd, offset, length);
}

// A new file needs a directory entry, and a full disk may have no room for it. (The mode is read only when the
// flags say there is one, as open(2) does.)
int open(const char *path, int flags, ...)
{
    static const auto real = next<OpenFunction>("open");
    va_list arguments;
    va_start(arguments, flags);
    const int fd = openOrRefuse(real, path, flags, arguments);
    va_end(arguments);
    return fd;
}

int open64(const char *path, int flags, ...)
{
    static const auto real = next<OpenFunction>("open64");
    va_list arguments;
    va_start(arguments, flags);
    const int fd = openOrRefuse(real, path, flags, arguments);
    va_end(arguments);
    return fd;
}

} // extern "C"
