#pragma once

#include <QCoreApplication>
#include <QSerialPort>
#include <QString>
#include <QStringList>

namespace Onboarder {

// Why a serial port cannot be opened, in words a field technician can act on.
class PortDiagnosis final
{
    Q_DECLARE_TR_FUNCTIONS(PortDiagnosis)

public:
    struct Holder
    {
        qint64 pid = 0;
        QString name; // the program's name (/proc/<pid>/comm)
    };

    // Permission denied → the group that owns the port and how to get access (udev rule or dialout);
    // busy → which program holds it (when /proc says so) and ModemManager if it runs; not found → unplugged.
    static QString explainOpenFailure(
        const QString &path, QSerialPort::SerialPortError error, const QString &systemText);

    // Processes that have path open, as far as /proc lets this user see (other users' are hidden).
    static QList<Holder> holders(const QString &path);
    static bool modemManagerRuns();
};

} // namespace Onboarder
