// OpenPgpEncryptor through GPGME against gpg itself: what we encrypt opens with `gpg --decrypt` in a
// throwaway GNUPGHOME to exactly the plaintext; recipients from the keyring or from an .asc file; each
// unusable recipient has its own error.
#include "credentials/openpgpencryptor.h"
#include "gnupghome.h"
#include "testsupport.h"

#include <QTest>

#include <atomic>
#include <poll.h>
#include <sys/inotify.h>
#include <thread>
#include <unistd.h>

using namespace Onboarder;

class tst_OpenPgpEncryptor : public QObject
{
    Q_OBJECT

    TestSupport::GnupgHome m_alice; // Alice's own keyring: her secret key, and Bob's public key (not certified)
    TestSupport::GnupgHome m_bob;
    QTemporaryDir m_dir;
    QString m_aliceFingerprint;
    QString m_bobFingerprint;
    const QByteArray m_secret = "HostName=contoso.azure-devices.net;DeviceId=microshare-1;SharedAccessKey="
        + TestSupport::randomKey().toLatin1();

private Q_SLOTS:
    void initTestCase()
    {
        m_aliceFingerprint = m_alice.generateKey(QStringLiteral("Alice Example <alice@example.invalid>"));
        m_bobFingerprint = m_bob.generateKey(QStringLiteral("Bob Example <bob@example.invalid>"));
        QCOMPARE(m_alice.gpg({QStringLiteral("--import")}, m_bob.exportPublic(m_bobFingerprint)).exitCode, 0);
    }

    void keyringRecipientByEmailDecryptsToExactlyThePlaintext()
    {
        const auto encrypted
            = OpenPgpEncryptor(m_alice.path()).encrypt(m_secret, QStringLiteral("alice@example.invalid"));
        QVERIFY2(encrypted.has_value(), encrypted ? "" : qPrintable(encrypted.error().message));
        QVERIFY(encrypted->armored.startsWith("-----BEGIN PGP MESSAGE-----"));
        QVERIFY(!encrypted->armored.contains(m_secret));
        QCOMPARE(encrypted->fingerprint, m_aliceFingerprint);
        QCOMPARE(encrypted->userId, QStringLiteral("Alice Example <alice@example.invalid>"));
        const auto decrypted = m_alice.decrypt(encrypted->armored);
        QVERIFY2(decrypted.exitCode == 0, decrypted.err.constData());
        QCOMPARE(decrypted.out, m_secret);
        // Bob cannot read it.
        QVERIFY(m_bob.decrypt(encrypted->armored).exitCode != 0);
    }

    void keyFileRecipientIsNotImported()
    {
        // An empty keyring of our own, and Bob's key as a file he sent.
        TestSupport::GnupgHome empty;
        const QString file
            = TestSupport::writeFile(m_dir.filePath(QStringLiteral("bob.asc")), m_bob.exportPublic(m_bobFingerprint));
        const auto encrypted = OpenPgpEncryptor(empty.path()).encrypt(m_secret, file);
        QVERIFY2(encrypted.has_value(), encrypted ? "" : qPrintable(encrypted.error().message));
        QCOMPARE(encrypted->fingerprint, m_bobFingerprint);
        const auto decrypted = m_bob.decrypt(encrypted->armored);
        QVERIFY2(decrypted.exitCode == 0, decrypted.err.constData());
        QCOMPARE(decrypted.out, m_secret);
        // Nothing was imported into the keyring used.
        QVERIFY(!empty.gpg({QStringLiteral("--list-keys")}).out.contains("bob@example.invalid"));

        // A secret key file and a file without a key are refused.
        const QString secretFile = TestSupport::writeFile(
            m_dir.filePath(QStringLiteral("secret.asc")), m_bob.exportSecret(m_bobFingerprint));
        QCOMPARE(OpenPgpEncryptor(empty.path()).encrypt(m_secret, secretFile).error().code,
            QStringLiteral("RecipientFileInvalid"));
        QCOMPARE(OpenPgpEncryptor(empty.path())
                     .encrypt(m_secret, TestSupport::sourcePath(QStringLiteral("README.md")))
                     .error()
                     .code,
            QStringLiteral("RecipientFileInvalid"));
    }

    void aKeyFileIsReadOnce()
    {
        // What is encrypted to is the key that was checked, even when the file is replaced once it has been
        // read (here by a thread that watches it and puts Alice's key in its place).
        TestSupport::GnupgHome empty;
        const QString file = TestSupport::writeFile(
            m_dir.filePath(QStringLiteral("recipient.asc")), m_bob.exportPublic(m_bobFingerprint));
        const QString other = TestSupport::writeFile(
            m_dir.filePath(QStringLiteral("other.asc")), m_alice.exportPublic(m_aliceFingerprint));
        const int watch = ::inotify_init1(IN_CLOEXEC);
        QVERIFY(watch >= 0);
        QVERIFY(::inotify_add_watch(watch, QFile::encodeName(file).constData(), IN_CLOSE_NOWRITE) >= 0);
        std::atomic_bool swapped = false;
        std::thread swapper([&] {
            pollfd readable = {watch, POLLIN, 0};
            char events[4096];
            if (::poll(&readable, 1, 30000) == 1 && ::read(watch, events, sizeof events) > 0)
                swapped = ::rename(QFile::encodeName(other).constData(), QFile::encodeName(file).constData()) == 0;
        });
        const auto encrypted = OpenPgpEncryptor(empty.path()).encrypt(m_secret, file);
        swapper.join();
        ::close(watch);
        QVERIFY(swapped);
        QVERIFY2(encrypted.has_value(), encrypted ? "" : qPrintable(encrypted.error().message));
        QCOMPARE(encrypted->fingerprint, m_bobFingerprint);
        const auto decrypted = m_bob.decrypt(encrypted->armored);
        QVERIFY2(decrypted.exitCode == 0, "Bob, whose key was checked, cannot read the message");
        QVERIFY(decrypted.out == m_secret);
        QVERIFY(m_alice.decrypt(encrypted->armored).exitCode != 0);
    }

    void uncertifiedKeysNeedTheirFingerprint()
    {
        // Bob's key is in Alice's keyring but nobody certified it.
        const OpenPgpEncryptor encryptor(m_alice.path());
        const auto byEmail = encryptor.encrypt(m_secret, QStringLiteral("bob@example.invalid"));
        QCOMPARE(byEmail.error().code, QStringLiteral("RecipientNotTrusted"));
        QVERIFY(byEmail.error().message.contains(m_bobFingerprint));
        const auto byFingerprint = encryptor.encrypt(m_secret, m_bobFingerprint);
        QVERIFY2(byFingerprint.has_value(), byFingerprint ? "" : qPrintable(byFingerprint.error().message));
        QCOMPARE(m_bob.decrypt(byFingerprint->armored).out, m_secret);
    }

    void recipientErrors()
    {
        const OpenPgpEncryptor encryptor(m_alice.path());
        QCOMPARE(encryptor.encrypt(m_secret, QStringLiteral("nobody@example.invalid")).error().code,
            QStringLiteral("RecipientNotFound"));
        QCOMPARE(encryptor.encrypt(m_secret, QStringLiteral("example.invalid")).error().code,
            QStringLiteral("RecipientAmbiguous"));
        QCOMPARE(encryptor.encrypt(m_secret, QString()).error().code, QStringLiteral("RecipientNotFound"));

        // A key that can only sign.
        TestSupport::GnupgHome home;
        const QString signer
            = home.generateKey(QStringLiteral("Signer <signer@example.invalid>"), QStringLiteral("sign"));
        const auto refused = OpenPgpEncryptor(home.path()).encrypt(m_secret, signer);
        QCOMPARE(refused.error().code, QStringLiteral("RecipientUnusable"));
    }
};

QTEST_GUILESS_MAIN(tst_OpenPgpEncryptor)
#include "tst_openpgpencryptor.moc"
