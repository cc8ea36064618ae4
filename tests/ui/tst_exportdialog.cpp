// The export dialog, driven through its widgets (offscreen): every way a secret leaves the app, each
// checked with an independent tool (gpg --decrypt in a throwaway GnuPG home, openssl pkcs12, the file's
// mode), and the guards: no plaintext file without the tick, no file written over another.
#include "common/settings.h"
#include "credentials/certificate.h"
#include "credentials/keypair.h"
#include "credentials/qrcode.h"
#include "exportdialog.h"
#include "gnupghome.h"
#include "hub/connectionstring.h"
#include "hub/sastoken.h"
#include "opensslcli.h"
#include "secureclipboard.h"
#include "testsupport.h"

#include <QApplication>
#include <QClipboard>
#include <QDateTime>
#include <QFile>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>

using namespace Onboarder;

namespace {

const QByteArray secret
    = "HostName=h.azure-devices.net;DeviceId=dev-1;SharedAccessKey=c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==";

void waitUntilDone(ExportDialog &dialog)
{
    QTRY_VERIFY_WITH_TIMEOUT(!dialog.isBusy(), 60000);
}

} // namespace

class tst_ExportDialog : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<Settings> m_settings;

private Q_SLOTS:
    void init()
    {
        m_settings = std::make_unique<Settings>(m_dir.filePath(QStringLiteral("onboarder.conf")));
        m_settings->setClipboardClearSeconds(1);
    }

    void clipboardClearsItself()
    {
        ExportDialog dialog(QStringLiteral("a connection string"), SecretBytes::fromView(secret), *m_settings);
        QCOMPARE(dialog.method(), ExportDialog::Method::Clipboard);
        QSignalSpy cleared(dialog.clipboard(), &SecureClipboard::cleared);
        dialog.exportButton()->click();
        QVERIFY(QGuiApplication::clipboard()->text().toUtf8() == secret); // not QCOMPARE: no key in the log
        QTRY_COMPARE_WITH_TIMEOUT(cleared.count(), 1, 3000);
        QVERIFY(QGuiApplication::clipboard()->text().isEmpty());
    }

    void aKeysConnectionStringLeavesAsOneThatExpires()
    {
        // As the device page offers it for a SAS device: the validity maker signs a device token with the key.
        const QString key = QStringLiteral("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==");
        ExportDialog dialog(QStringLiteral("a connection string"), SecretBytes::fromView(secret), *m_settings);
        QList<qint64> asked;
        dialog.offerExpiry([&asked, key](qint64 seconds) -> Result<SecretBytes> {
            asked.append(seconds);
            auto made = ConnectionString::deviceWithExpiringToken(QStringLiteral("h.azure-devices.net"),
                QStringLiteral("dev-1"), SecretBytes::fromString(QString(key)),
                QDateTime::currentSecsSinceEpoch() + seconds);
            if (!made)
                return std::unexpected(made.error());
            return SecretBytes::fromString(made->toString());
        });
        dialog.show();
        QCOMPARE(dialog.validitySeconds(), 86400); // a day unless the user chooses otherwise
        const QString dir = qEnvironmentVariable("ONBOARDER_SCREENSHOT_DIR");
        if (!dir.isEmpty())
            dialog.grab().save(dir + QStringLiteral("/export-expiring.png"));

        // The clipboard gets a connection string with the device's token, valid a day, and not the key.
        dialog.exportButton()->click();
        QCOMPARE(asked, QList<qint64>{86400});
        const QString copied = QGuiApplication::clipboard()->text();
        QVERIFY(!copied.contains(QStringLiteral("SharedAccessKey")) && !copied.contains(key));
        const auto parsed = ConnectionString::parse(copied);
        QVERIFY(parsed && parsed->credential() == ConnectionString::Credential::SharedAccessSignature);
        const auto token = SasToken::parse(parsed->sharedAccessSignature());
        QVERIFY(token && token->verify(key));
        QVERIFY(qAbs(token->expiry() - (QDateTime::currentSecsSinceEpoch() + 86400)) <= 5);
        QVERIFY2(dialog.outcome().contains(QStringLiteral("It stops working at")), qPrintable(dialog.outcome()));

        // So does the QR code, for the validity chosen there; "No expiry" hands over the key itself.
        dialog.setValiditySeconds(3600);
        dialog.setMethod(ExportDialog::Method::QrCode);
        dialog.runExport();
        QVERIFY(dialog.isQrCodeShown());
        QCOMPARE(asked.last(), 3600);
        dialog.setValiditySeconds(0);
        QVERIFY(!dialog.isQrCodeShown()); // the code shown was for the other validity
        dialog.setMethod(ExportDialog::Method::Clipboard);
        dialog.exportButton()->click();
        QCOMPARE(asked.size(), 2);
        QVERIFY(QGuiApplication::clipboard()->text().toUtf8() == secret); // not QCOMPARE: no key in the log
        QVERIFY(!dialog.outcome().contains(QStringLiteral("It stops working at")));
    }

    void openPgpFileOpensWithGpg()
    {
        TestSupport::GnupgHome gnupg;
        const QString fingerprint = gnupg.generateKey(QStringLiteral("Alice <alice@example.org>"));
        ExportDialog dialog(QStringLiteral("a connection string"), SecretBytes::fromView(secret), *m_settings);
        dialog.setGnupgHome(gnupg.path());
        dialog.setMethod(ExportDialog::Method::OpenPgp);
        QVERIFY(!dialog.exportButton()->isEnabled()); // no recipient, no file yet
        dialog.setRecipient(fingerprint);
        const QString path = m_dir.filePath(QStringLiteral("for-alice.asc"));
        dialog.setOutputPath(path);
        QVERIFY(dialog.exportButton()->isEnabled());
        dialog.exportButton()->click();
        waitUntilDone(dialog);
        QVERIFY2(!dialog.outcomeIsError(), qPrintable(dialog.outcome()));
        QVERIFY(dialog.outcome().contains(fingerprint));
        QCOMPARE(QFile::permissions(path),
            QFile::ReadOwner | QFile::WriteOwner | QFile::ReadUser | QFile::WriteUser); // 0600
        const auto decrypted = gnupg.gpg({QStringLiteral("--decrypt"), path});
        QCOMPARE(decrypted.exitCode, 0);
        QVERIFY(decrypted.out == secret);

        // The same file again: refused before gpg runs; the first file is untouched.
        const QByteArray before = [&] {
            QFile f(path);
            f.open(QIODevice::ReadOnly);
            return f.readAll();
        }();
        dialog.exportButton()->click();
        waitUntilDone(dialog);
        QVERIFY(dialog.outcomeIsError());
        QVERIFY2(dialog.outcome().contains(QStringLiteral("exists")), qPrintable(dialog.outcome()));
        QFile again(path);
        QVERIFY(again.open(QIODevice::ReadOnly));
        QCOMPARE(again.readAll(), before);

        // A recipient nobody knows: said, nothing written.
        dialog.setRecipient(QStringLiteral("nobody@example.org"));
        dialog.setOutputPath(m_dir.filePath(QStringLiteral("for-nobody.asc")));
        dialog.exportButton()->click();
        waitUntilDone(dialog);
        QVERIFY(dialog.outcomeIsError());
        QVERIFY(!QFile::exists(m_dir.filePath(QStringLiteral("for-nobody.asc"))));
    }

    void plaintextNeedsTheTick()
    {
        ExportDialog dialog(QStringLiteral("a connection string"), SecretBytes::fromView(secret), *m_settings);
        dialog.setMethod(ExportDialog::Method::Plaintext);
        const QString path = m_dir.filePath(QStringLiteral("plain.txt"));
        dialog.setOutputPath(path);
        QVERIFY(!dialog.exportButton()->isEnabled());
        dialog.runExport(); // even when called directly: nothing without the tick
        QVERIFY(!QFile::exists(path));
        dialog.setPlaintextConfirmed(true);
        QVERIFY(dialog.exportButton()->isEnabled());
        dialog.exportButton()->click();
        QVERIFY2(!dialog.outcomeIsError(), qPrintable(dialog.outcome()));
        QCOMPARE(QFile::permissions(path),
            QFile::ReadOwner | QFile::WriteOwner | QFile::ReadUser | QFile::WriteUser); // 0600
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY(file.readAll() == secret);
    }

    void qrCodeOnlyAfterTheWarning()
    {
        ExportDialog dialog(QStringLiteral("a connection string"), SecretBytes::fromView(secret), *m_settings);
        dialog.show();
        dialog.setMethod(ExportDialog::Method::QrCode);
        QVERIFY(!dialog.isQrCodeShown());
        auto *show = dialog.findChild<QPushButton *>();
        for (QPushButton *button : dialog.findChildren<QPushButton *>())
            if (button->text() == QStringLiteral("Show QR Code"))
                show = button;
        show->click();
        QVERIFY(dialog.isQrCodeShown());
        // The image is the code: the modules of core's matrix, dark where it is dark (finder pattern
        // in the top-left corner, the quiet zone light).
        const QrCode code = *QrCode::encode(secret);
        const QImage image = dialog.qrCodeImage();
        QCOMPARE(image.width(), (code.size() + 2 * QrCode::quietZone) * 5);
        for (int y = 0; y < code.size(); ++y)
            for (int x = 0; x < code.size(); ++x) {
                const QPoint centre((x + QrCode::quietZone) * 5 + 2, (y + QrCode::quietZone) * 5 + 2);
                QCOMPARE(qGray(image.pixel(centre)) < 128, code.isDark(x, y));
            }
        QCOMPARE(qGray(image.pixel(2, 2)), 255);
        const QString dir = qEnvironmentVariable("ONBOARDER_SCREENSHOT_DIR");
        if (!dir.isEmpty())
            dialog.grab().save(dir + QStringLiteral("/export-qr.png"));
        dialog.setMethod(ExportDialog::Method::Clipboard);
        QVERIFY(!dialog.isQrCodeShown()); // gone when another way is chosen
    }

    void pkcs12OfACertificateAndKey()
    {
        const KeyPair key = *KeyPair::generate();
        DeviceCredential credential{
            *Certificate::selfSigned(key, {QStringLiteral("dev-p12"), {}, {}, 30, Certificate::Usage::Client}), key};
        ExportDialog dialog(QStringLiteral("a certificate and key"), credential, *m_settings);
        QCOMPARE(dialog.method(), ExportDialog::Method::OpenPgp); // the clipboard is not offered for a key
        dialog.setMethod(ExportDialog::Method::Clipboard);
        QCOMPARE(dialog.method(), ExportDialog::Method::OpenPgp);
        dialog.setMethod(ExportDialog::Method::Pkcs12);
        QCOMPARE(dialog.method(), ExportDialog::Method::Pkcs12);
        const QString path = m_dir.filePath(QStringLiteral("dev.p12"));
        dialog.setOutputPath(path);
        dialog.setPkcs12Password(QStringLiteral("correct horse"), QStringLiteral("correct hors"));
        QVERIFY(!dialog.exportButton()->isEnabled()); // they differ
        dialog.setPkcs12Password(QStringLiteral("short"), QStringLiteral("short"));
        QVERIFY(!dialog.exportButton()->isEnabled()); // too short
        dialog.setPkcs12Password(QStringLiteral("correct horse"), QStringLiteral("correct horse"));
        QVERIFY(dialog.exportButton()->isEnabled());
        dialog.exportButton()->click();
        waitUntilDone(dialog);
        QVERIFY2(!dialog.outcomeIsError(), qPrintable(dialog.outcome()));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("P12PASS"), QStringLiteral("correct horse"));
        const auto [code, out]
            = TestSupport::openssl({QStringLiteral("pkcs12"), QStringLiteral("-in"), path, QStringLiteral("-passin"),
                                       QStringLiteral("env:P12PASS"), QStringLiteral("-nokeys")},
                {}, env);
        QCOMPARE(code, 0);
        QVERIFY(out.contains("subject=CN = dev-p12"));
    }
};

QTEST_MAIN(tst_ExportDialog)
#include "tst_exportdialog.moc"
