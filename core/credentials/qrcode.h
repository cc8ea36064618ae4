#pragma once

#include "common/result.h"

#include <QBitArray>
#include <QByteArray>
#include <QString>

namespace Onboarder {

// A QR code (libqrencode) as a square matrix of modules, for showing a connection string to a phone
// camera. Core only computes the matrix; the GUI draws it (behind a warning: anyone who sees the
// screen can read the key). Byte mode, so a connection string comes back byte for byte.
class QrCode final
{
public:
    enum class ErrorCorrection { Low, Medium, Quartile, High };

    static Result<QrCode> encode(const QByteArray &data, ErrorCorrection level = ErrorCorrection::Medium);

    int size() const { return m_size; } // modules per side, without the quiet zone
    int version() const { return m_version; } // 1–40
    bool isDark(int x, int y) const; // x: column, y: row; false outside the matrix
    static constexpr int quietZone = 4; // light modules around it that a reader needs

    // The matrix as text for a terminal: two rows per line with half blocks, quiet zone included.
    QString toText() const;

private:
    int m_size = 0;
    int m_version = 0;
    QBitArray m_modules;
};

} // namespace Onboarder
