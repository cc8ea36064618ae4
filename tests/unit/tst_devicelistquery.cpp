// The devices page's filter turned into IoT Hub queries (each parsed by the sandbox hub's query
// parser, the same one the hub serves), and the Create Device dialog's checks.
#include "devicequery.h"
#include "hub/devicedraft.h"
#include "hub/devicelistquery.h"

#include <QTest>

using namespace Onboarder;

class tst_DeviceListQuery : public QObject
{
    Q_OBJECT

    static void parses(const QString &query)
    {
        const auto parsed = Sandbox::DeviceQuery::parse(query);
        QVERIFY2(parsed.has_value(), qPrintable(query + u' ' + (parsed ? QString() : parsed.error().message)));
    }

private Q_SLOTS:
    void filterText_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("select");
        QTest::addColumn<QString>("count");
        QTest::newRow("everything") << QString() << int(DeviceListQuery::Status::Any)
                                    << QStringLiteral("SELECT * FROM devices")
                                    << QStringLiteral("SELECT COUNT() AS numberOfDevices FROM devices");
        QTest::newRow("prefix")
            << QStringLiteral(" sensor-0 ") << int(DeviceListQuery::Status::Any)
            << QStringLiteral("SELECT * FROM devices WHERE STARTSWITH(deviceId, 'sensor-0')")
            << QStringLiteral("SELECT COUNT() AS numberOfDevices FROM devices WHERE STARTSWITH(deviceId, 'sensor-0')");
        QTest::newRow("quote in id")
            << QStringLiteral("it's") << int(DeviceListQuery::Status::Disabled)
            << QStringLiteral("SELECT * FROM devices WHERE STARTSWITH(deviceId, 'it''s') AND status = 'disabled'")
            << QStringLiteral("SELECT COUNT() AS numberOfDevices FROM devices WHERE STARTSWITH(deviceId, 'it''s') AND "
                              "status = 'disabled'");
        QTest::newRow("condition") << QStringLiteral("tags.site = 'b1' OR tags.site = 'b2'")
                                   << int(DeviceListQuery::Status::Connected)
                                   << QStringLiteral("SELECT * FROM devices WHERE (tags.site = 'b1' OR tags.site = "
                                                     "'b2') AND connectionState = 'Connected'")
                                   << QStringLiteral("SELECT COUNT() AS numberOfDevices FROM devices WHERE (tags.site "
                                                     "= 'b1' OR tags.site = 'b2') AND connectionState = 'Connected'");
        QTest::newRow("function")
            << QStringLiteral("is_defined(tags.site)") << int(DeviceListQuery::Status::Any)
            << QStringLiteral("SELECT * FROM devices WHERE (is_defined(tags.site))")
            << QStringLiteral("SELECT COUNT() AS numberOfDevices FROM devices WHERE (is_defined(tags.site))");
    }

    void filterText()
    {
        QFETCH(QString, text);
        QFETCH(int, status);
        QFETCH(QString, select);
        QFETCH(QString, count);
        const DeviceListQuery query = DeviceListQuery::fromFilter(text, DeviceListQuery::Status(status));
        QCOMPARE(query.select, select);
        QCOMPARE(query.count, count);
        QVERIFY(!query.userQuery);
        parses(query.select);
        parses(query.count);
    }

    void wholeQueryIsUsedAsItIs()
    {
        const DeviceListQuery query = DeviceListQuery::fromFilter(
            QStringLiteral("select deviceId from devices"), DeviceListQuery::Status::Enabled);
        QCOMPARE(query.select, QStringLiteral("select deviceId from devices"));
        QVERIFY(query.count.isEmpty());
        QVERIFY(query.userQuery);
    }

    void draftProblemsNameTheirField()
    {
        DeviceDraft draft;
        QCOMPARE(draft.problems().size(), 1); // the empty id
        QCOMPARE(draft.problems().first().field, DeviceDraft::Field::Id);
        draft.id = QStringLiteral("dev-1");
        QVERIFY(draft.problems().isEmpty());

        draft.generateKeys = false;
        draft.primaryKey = DeviceDraft::randomKey();
        draft.secondaryKey = draft.primaryKey;
        QVERIFY(draft.problem(DeviceDraft::Field::PrimaryKey).isEmpty());
        QVERIFY(!draft.problem(DeviceDraft::Field::SecondaryKey).isEmpty()); // the same key twice
        draft.secondaryKey = QString::fromLatin1(QByteArray(65, 'k').toBase64());
        QVERIFY(draft.problem(DeviceDraft::Field::SecondaryKey).contains(QStringLiteral("65 bytes")));
        draft.secondaryKey = DeviceDraft::randomKey();
        QVERIFY(draft.problems().isEmpty());
        DeviceIdentity identity = draft.toIdentity();
        QCOMPARE(identity.authType, QStringLiteral("sas"));
        QCOMPARE(identity.primaryKey, draft.primaryKey);

        draft.auth = DeviceDraft::Auth::SelfSigned;
        draft.primaryThumbprint = QStringLiteral("ab:cd");
        QVERIFY(draft.problem(DeviceDraft::Field::PrimaryThumbprint).contains(QStringLiteral("hexadecimal")));
        draft.primaryThumbprint = QString(64, u'a');
        draft.enabled = false;
        QVERIFY(draft.problems().isEmpty());
        identity = draft.toIdentity();
        QCOMPARE(identity.primaryThumbprint, QString(64, u'A'));
        QCOMPARE(identity.status, QStringLiteral("disabled"));
        QVERIFY(identity.primaryKey.isEmpty()); // keys belong to SAS only

        const auto missing = DeviceDraft::thumbprintFromCertificateFile(QStringLiteral("/nonexistent/cert.pem"));
        QCOMPARE(missing.error().code, QStringLiteral("FileUnreadable"));
    }
};

QTEST_GUILESS_MAIN(tst_DeviceListQuery)
#include "tst_devicelistquery.moc"
