#pragma once

#include "common/result.h"

#include <QObject>
#include <QSerialPort>

namespace Onboarder {

struct SerialSettings
{
    qint32 baudRate = 115200; // 8N1 always
    // RTS/CTS, as Nordic's nrfcredstore opens the port by default; boards whose AT host runs without it
    // still work, and it can be turned off.
    bool hardwareFlowControl = true;
};

// The serial port under an AtChannel: opens it 8N1 with the settings, explains why it cannot be opened,
// and reports once when it vanishes (unplugged, the simulator ended) instead of failing silently.
//
// Threads: one thread, the one it was created in (its QSerialPort is a member, not a child: it cannot be moved),
// where lost() is emitted.
class SerialLink final : public QObject
{
    Q_OBJECT

public:
    explicit SerialLink(QObject *parent = nullptr);
    ~SerialLink() override;

    Result<void> open(const QString &path, const SerialSettings &settings = {});
    void close();
    bool isOpen() const { return m_port.isOpen(); }
    QString path() const { return m_path; }
    QSerialPort *port() { return &m_port; }

Q_SIGNALS:
    void lost(const Onboarder::Error &error);

private:
    QSerialPort m_port;
    QString m_path;
    bool m_lost = false;
};

} // namespace Onboarder
