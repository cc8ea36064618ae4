#include "seriallink.h"

#include "common/logging.h"
#include "modem/portdiagnosis.h"

namespace Onboarder {

SerialLink::SerialLink(QObject *parent)
    : QObject(parent)
{
    connect(&m_port, &QSerialPort::errorOccurred, this, [this](QSerialPort::SerialPortError error) {
        // A resource error is the port going away (USB unplugged, the pseudo-terminal closed).
        if (m_lost || !m_port.isOpen()
            || (error != QSerialPort::ResourceError && error != QSerialPort::ReadError
                && error != QSerialPort::WriteError))
            return;
        m_lost = true;
        qCWarning(lcModem).noquote() << "serial port" << m_path << "lost:" << m_port.errorString();
        const Error lostError{ErrorKind::Device, QStringLiteral("PortLost"),
            tr("The connection to the modem on %1 was lost (%2). Was it unplugged or reset?")
                .arg(m_path, m_port.errorString())};
        Q_EMIT lost(lostError);
        m_port.close();
    });
}

SerialLink::~SerialLink() = default;

Result<void> SerialLink::open(const QString &path, const SerialSettings &settings)
{
    close();
    m_path = path;
    m_lost = false;
    m_port.setPortName(path);
    m_port.setBaudRate(settings.baudRate);
    m_port.setDataBits(QSerialPort::Data8);
    m_port.setParity(QSerialPort::NoParity);
    m_port.setStopBits(QSerialPort::OneStop);
    m_port.setFlowControl(settings.hardwareFlowControl ? QSerialPort::HardwareControl : QSerialPort::NoFlowControl);
    if (!m_port.open(QIODevice::ReadWrite)) {
        const QSerialPort::SerialPortError error = m_port.error();
        return fail(ErrorKind::Device, QStringLiteral("PortUnavailable"),
            PortDiagnosis::explainOpenFailure(path, error, m_port.errorString()));
    }
    return {};
}

void SerialLink::close()
{
    if (m_port.isOpen())
        m_port.close();
}

} // namespace Onboarder
