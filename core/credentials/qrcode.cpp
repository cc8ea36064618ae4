#include "qrcode.h"

#include <QCoreApplication>
#include <qrencode.h>

#include <cerrno>
#include <memory>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(QrCode)
};

QRecLevel toLevel(QrCode::ErrorCorrection level)
{
    switch (level) {
    case QrCode::ErrorCorrection::Low: return QR_ECLEVEL_L;
    case QrCode::ErrorCorrection::Medium: return QR_ECLEVEL_M;
    case QrCode::ErrorCorrection::Quartile: return QR_ECLEVEL_Q;
    case QrCode::ErrorCorrection::High: return QR_ECLEVEL_H;
    }
    return QR_ECLEVEL_M;
}

} // namespace

Result<QrCode> QrCode::encode(const QByteArray &data, ErrorCorrection level)
{
    if (data.isEmpty())
        return fail(
            ErrorKind::InvalidInput, QStringLiteral("QrEmpty"), Text::tr("There is nothing to put into a QR code."));
    errno = 0;
    std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
        QRcode_encodeData(
            int(data.size()), reinterpret_cast<const unsigned char *>(data.constData()), 0, toLevel(level)),
        &QRcode_free);
    if (!code)
        return fail(ErrorKind::InvalidInput, QStringLiteral("QrTooLong"),
            errno == ERANGE ? Text::tr("%1 bytes are too many for one QR code.").arg(data.size())
                            : Text::tr("The QR code could not be made (error %1).").arg(errno));
    QrCode qr;
    qr.m_size = code->width;
    qr.m_version = code->version;
    qr.m_modules.resize(qsizetype(code->width) * code->width);
    for (int i = 0; i < code->width * code->width; ++i)
        qr.m_modules.setBit(i, code->data[i] & 1); // bit 0: dark module
    return qr;
}

bool QrCode::isDark(int x, int y) const
{
    if (x < 0 || y < 0 || x >= m_size || y >= m_size)
        return false;
    return m_modules.testBit(qsizetype(y) * m_size + x);
}

QString QrCode::toText() const
{
    // Light modules are drawn, dark ones left blank, so that it reads on a dark terminal.
    QString text;
    for (int y = -quietZone; y < m_size + quietZone; y += 2) {
        for (int x = -quietZone; x < m_size + quietZone; ++x) {
            const bool top = !isDark(x, y);
            const bool bottom = !isDark(x, y + 1) && y + 1 < m_size + quietZone;
            text += top && bottom ? QChar(0x2588) : top ? QChar(0x2580) : bottom ? QChar(0x2584) : QChar(u' ');
        }
        text += u'\n';
    }
    return text;
}

} // namespace Onboarder
