#include "portdiagnosis.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Onboarder {

namespace {

QString groupName(gid_t gid)
{
    const group *entry = ::getgrgid(gid);
    return entry ? QString::fromLocal8Bit(entry->gr_name) : QString::number(gid);
}

bool inGroup(gid_t gid)
{
    if (::getegid() == gid)
        return true;
    const int count = ::getgroups(0, nullptr);
    std::vector<gid_t> groups(size_t(std::max(count, 0)));
    if (count > 0 && ::getgroups(count, groups.data()) == count)
        return std::find(groups.cbegin(), groups.cend(), gid) != groups.cend();
    return false;
}

QString processName(const QString &pid)
{
    QFile comm(QStringLiteral("/proc/%1/comm").arg(pid));
    return comm.open(QIODevice::ReadOnly) ? QString::fromLocal8Bit(comm.readAll()).trimmed() : QString();
}

} // namespace

QList<PortDiagnosis::Holder> PortDiagnosis::holders(const QString &path)
{
    const QString target = QFileInfo(path).canonicalFilePath();
    QList<Holder> found;
    if (target.isEmpty())
        return found;
    const QStringList pids = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &pid : pids) {
        bool numeric = false;
        const qint64 number = pid.toLongLong(&numeric);
        if (!numeric || number == QCoreApplication::applicationPid())
            continue;
        const QDir fds(QStringLiteral("/proc/%1/fd").arg(pid));
        const QStringList entries = fds.entryList(QDir::Files | QDir::System | QDir::NoDotAndDotDot);
        for (const QString &fd : entries) {
            if (QFile::symLinkTarget(fds.filePath(fd)) == target) {
                found.append({number, processName(pid)});
                break;
            }
        }
    }
    return found;
}

bool PortDiagnosis::modemManagerRuns()
{
    const QStringList pids = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    return std::any_of(pids.cbegin(), pids.cend(),
        [](const QString &pid) { return processName(pid) == QStringLiteral("ModemManager"); });
}

QString PortDiagnosis::explainOpenFailure(
    const QString &path, QSerialPort::SerialPortError error, const QString &systemText)
{
    const QByteArray native = QFile::encodeName(path);
    struct stat info = {};
    const bool exists = ::stat(native.constData(), &info) == 0;
    if (error == QSerialPort::DeviceNotFoundError || !exists)
        return tr("There is no serial port %1. Is the modem plugged in and switched on? \"onboarder-cli modem list\" "
                  "shows the "
                  "ports there are.")
            .arg(path);
    if (::access(native.constData(), R_OK | W_OK) != 0) {
        const QString group = groupName(info.st_gid);
        if (!inGroup(info.st_gid))
            return tr(
                "You may not open %1: it belongs to the group \"%2\" and you are not a member. Either install "
                "Onboarder's udev rule (it comes with the package as 70-onboarder-nordic.rules and gives the user at "
                "the desk access to Nordic boards), or join the group: sudo usermod -aG %2 $USER, then log out and in "
                "again.")
                .arg(path, group);
        return tr("You may not open %1 (mode %2, group \"%3\"): %4")
            .arg(path, QString::number(info.st_mode & 0777, 8), group, systemText);
    }
    if (error == QSerialPort::PermissionError || error == QSerialPort::OpenError) {
        // Readable and writable, yet refused: someone else has it (Qt reports EBUSY as a permission error).
        QStringList who;
        for (const Holder &holder : holders(path))
            who.append(tr("%1 (process %2)").arg(holder.name).arg(holder.pid));
        QString sentence = who.isEmpty()
            ? tr("%1 is in use by another program (a terminal such as minicom or screen, nRF Connect, or another "
                 "Onboarder). Close it and try again.")
                  .arg(path)
            : tr("%1 is in use by %2. Close it and try again.").arg(path, who.join(QStringLiteral(", ")));
        if (modemManagerRuns())
            sentence += u' '
                + tr("ModemManager runs on this computer and probes new serial ports as modems; Onboarder's udev rule "
                     "tells "
                     "it to leave Nordic boards alone, or stop it while you work: sudo systemctl stop ModemManager.");
        return sentence;
    }
    return tr("Cannot open %1: %2").arg(path, systemText);
}

} // namespace Onboarder
