// AuditLog on a disk that fills up: a record is a whole line or nothing. The append that runs out of room in the
// middle of a record is made in a child process with tests/tools/fulldisk.cpp in front of libc (a disk with 40 bytes
// left); the records before it and after it (once there is room again) are all read back.
#include "fulldiskchild.h"
#include "provisioning/auditlog.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace Onboarder;

namespace {

QJsonObject record(int n)
{
    return {{QStringLiteral("n"), n}, {QStringLiteral("deviceId"), QStringLiteral("nrf-352656100367872")},
        {QStringLiteral("result"), QStringLiteral("done")},
        {QStringLiteral("steps"), QStringLiteral("connect:done; identity:done; flash:done; verify:done")}};
}

} // namespace

class tst_AuditLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Runs only as the child of appendThatRunsOutOfRoomLeavesNoHalfRecord, on the full disk.
    void appendInChild()
    {
        if (TestSupport::fullDiskDir().isEmpty())
            QSKIP("the child of appendThatRunsOutOfRoomLeavesNoHalfRecord");
        const auto appended = AuditLog(TestSupport::fullDiskDir()).append(record(2));
        QVERIFY(!appended);
        QCOMPARE(appended.error().code, QStringLiteral("AuditLogUnwritable"));
        QVERIFY2(appended.error().message.contains(QStringLiteral("No space left on device")),
            qPrintable(appended.error().message));
    }

    void appendThatRunsOutOfRoomLeavesNoHalfRecord()
    {
        QTemporaryDir dir;
        const QString directory = dir.filePath(QStringLiteral("audit"));
        AuditLog log(directory);
        QVERIFY(log.append(record(1)));

        const QString room = dir.filePath(QStringLiteral("room-left"));
        QFile budget(room);
        QVERIFY(budget.open(QIODevice::WriteOnly));
        budget.write("40"); // bytes: less than a record
        budget.close();
        QCOMPARE(TestSupport::runOnFullDisk(QStringLiteral("appendInChild"), directory, room), 0);
        QVERIFY(budget.open(QIODevice::ReadOnly));
        QCOMPARE(budget.readAll(), QByteArray("0")); // the 40 bytes were written, then cut off again
        budget.close();

        QVERIFY(QFile::remove(room)); // room again
        QVERIFY(log.append(record(3)));
        QFile file(log.filePath());
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = file.readAll().split('\n');
        QCOMPARE(lines.size(), 3); // two records and the empty rest after the last line end
        for (int i = 0; i < 2; ++i)
            QVERIFY2(QJsonDocument::fromJson(lines.at(i)).isObject(), lines.at(i).constData());
        const auto records = log.records();
        QVERIFY(records);
        QCOMPARE(records->size(), 2);
        QCOMPARE(records->at(0).value(QStringLiteral("n")).toInt(), 1);
        QCOMPARE(records->at(1).value(QStringLiteral("n")).toInt(), 3);
    }
};

QTEST_GUILESS_MAIN(tst_AuditLog)
#include "tst_auditlog.moc"
