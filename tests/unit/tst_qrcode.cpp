// QrCode: what libqrencode gives us is read back by an independent decoder (zbarimg, ZBar) to exactly
// the connection string.
#include "credentials/qrcode.h"
#include "testsupport.h"

#include <QImage>
#include <QProcess>
#include <QTemporaryDir>

using namespace Onboarder;

class tst_QrCode : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    // The matrix as a PNG, 6 pixels a module, with the quiet zone.
    QString png(const QrCode &qr, const QString &name)
    {
        const int scale = 6;
        const int side = (qr.size() + 2 * QrCode::quietZone) * scale;
        QImage image(side, side, QImage::Format_Grayscale8);
        for (int y = 0; y < side; ++y) {
            for (int x = 0; x < side; ++x) {
                const bool dark = qr.isDark(x / scale - QrCode::quietZone, y / scale - QrCode::quietZone);
                image.setPixel(x, y, dark ? qRgb(0, 0, 0) : qRgb(255, 255, 255));
            }
        }
        const QString path = m_dir.filePath(name);
        if (!image.save(path))
            qFatal("cannot save %s", qPrintable(path));
        return path;
    }

private Q_SLOTS:
    void zbarReadsBackExactlyTheConnectionString()
    {
        const QByteArray text = "HostName=contoso.azure-devices.net;DeviceId=microshare-occupancy;SharedAccessKey="
            + TestSupport::randomKey().toLatin1();
        const auto qr = QrCode::encode(text);
        QVERIFY2(qr.has_value(), qr ? "" : qPrintable(qr.error().message));
        QCOMPARE(qr->size(), 17 + 4 * qr->version());

        QProcess zbar;
        zbar.start(QStringLiteral("zbarimg"),
            {QStringLiteral("--raw"), QStringLiteral("-q"), QStringLiteral("-Sbinary"),
                png(*qr, QStringLiteral("cs.png"))});
        QVERIFY2(zbar.waitForFinished(30000), "zbarimg (Debian zbar-tools, installed by scripts/setup) did not run");
        QVERIFY2(zbar.exitCode() == 0, zbar.readAllStandardError().constData());
        QByteArray decoded = zbar.readAllStandardOutput();
        if (decoded.endsWith('\n'))
            decoded.chop(1);
        QCOMPARE(decoded, text);

        // A different string gives a different picture: the check above can fail.
        QVERIFY(QrCode::encode(text + "x")->size() >= qr->size());
    }

    void textRenderingAndLimits()
    {
        const auto qr = QrCode::encode("x");
        QVERIFY(qr.has_value());
        QCOMPARE(qr->version(), 1);
        const QStringList lines = qr->toText().split(u'\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), (21 + 2 * QrCode::quietZone + 1) / 2);
        QCOMPARE(lines.first().size(), 21 + 2 * QrCode::quietZone);
        QVERIFY(qr->isDark(0, 0)); // finder pattern corner
        QVERIFY(!qr->isDark(-1, 0)); // quiet zone
        QCOMPARE(QrCode::encode({}).error().code, QStringLiteral("QrEmpty"));
        QCOMPARE(QrCode::encode(QByteArray(8000, 'a')).error().code, QStringLiteral("QrTooLong"));
    }
};

QTEST_MAIN(tst_QrCode)
#include "tst_qrcode.moc"
