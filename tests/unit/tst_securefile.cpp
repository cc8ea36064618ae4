// SecureFile: new files only, mode 0600 from the first byte, no symlink followed.
#include "credentials/securefile.h"
#include "testsupport.h"

#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

using namespace Onboarder;

class tst_SecureFile : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    static mode_t modeOf(const QString &path)
    {
        struct stat info = {};
        if (::lstat(QFile::encodeName(path).constData(), &info) != 0)
            return 0;
        return info.st_mode & 07777;
    }

private Q_SLOTS:
    void writesOwnerOnlyEvenWithOpenUmask()
    {
        const mode_t saved = ::umask(0);
        const QString path = m_dir.filePath(QStringLiteral("secret.txt"));
        const auto written = SecureFile::writeNew(path, "the secret");
        ::umask(saved);
        QVERIFY(written.has_value());
        QCOMPARE(modeOf(path), mode_t(0600));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), QByteArray("the secret"));
    }

    void neverReplacesNorFollows()
    {
        const QString existing = TestSupport::writeFile(m_dir.filePath(QStringLiteral("existing.txt")), "keep me");
        QFile file(existing);
        QCOMPARE(SecureFile::checkNew(existing).error().code, QStringLiteral("FileExists"));
        const auto refused = SecureFile::writeNew(existing, "new");
        QCOMPARE(refused.error().code, QStringLiteral("FileExists"));
        QCOMPARE(refused.error().kind, ErrorKind::Conflict);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), QByteArray("keep me"));

        // A dangling symlink planted where the export goes: not followed, nothing created at its target.
        const QString target = m_dir.filePath(QStringLiteral("target.txt"));
        const QString link = m_dir.filePath(QStringLiteral("link.txt"));
        QVERIFY(QFile::link(target, link));
        QCOMPARE(SecureFile::writeNew(link, "secret").error().code, QStringLiteral("FileExists"));
        QVERIFY(!QFile::exists(target));

        QCOMPARE(SecureFile::writeNew(m_dir.filePath(QStringLiteral("no/such/dir/x")), "x").error().code,
            QStringLiteral("FileUnwritable"));
        QCOMPARE(SecureFile::checkNew(m_dir.filePath(QStringLiteral("no/such/dir/x"))).error().code,
            QStringLiteral("FileUnwritable"));
        QVERIFY(SecureFile::checkNew(m_dir.filePath(QStringLiteral("fresh.txt"))).has_value());
    }
};

QTEST_GUILESS_MAIN(tst_SecureFile)
#include "tst_securefile.moc"
