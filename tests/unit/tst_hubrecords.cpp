// The hub's records as core writes them for the front ends (what onboarder-cli prints, docs/cli.md): a device
// identity with everything read and its keys masked, a device list's rows and CSV header, a method's answer, a purge,
// a feedback record. Read back with the hub's own reader where there is one.
#include "amqp/cloudtodeviceclient.h"
#include "hub/hubclient.h"

#include <QJsonDocument>
#include <QTest>

using namespace Onboarder;

namespace {

QStringList sortedKeys(const QJsonObject &object)
{
    QStringList keys = object.keys();
    keys.sort();
    return keys;
}

DeviceIdentity sasDevice()
{
    DeviceIdentity d;
    d.id = QStringLiteral("sensor-7");
    d.generationId = QStringLiteral("638000000000000001");
    d.etag = QStringLiteral("MQ==");
    d.status = QStringLiteral("disabled");
    d.statusReason = QStringLiteral("stolen");
    d.authType = QStringLiteral("sas");
    d.primaryKey = QStringLiteral("cHJpbWFyeS1rZXktb2Ytc2Vuc29yLTc=");
    d.secondaryKey = QStringLiteral("c2Vjb25kYXJ5LWtleS1vZi1zZW5zb3ItNw==");
    d.connectionState = QStringLiteral("Connected");
    d.lastActivity = QDateTime(QDate(2026, 3, 4), QTime(5, 6, 7, 890), Qt::UTC);
    d.cloudToDeviceMessageCount = 3;
    d.iotEdge = true;
    return d;
}

} // namespace

class tst_HubRecords : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void deviceRecordReadsBack()
    {
        const DeviceIdentity d = sasDevice();
        const QJsonObject shown = d.toRecordJson(true);
        QCOMPARE(sortedKeys(shown),
            (QStringList{QStringLiteral("authentication"), QStringLiteral("capabilities"),
                QStringLiteral("cloudToDeviceMessageCount"), QStringLiteral("connectionState"),
                QStringLiteral("deviceId"), QStringLiteral("etag"), QStringLiteral("generationId"),
                QStringLiteral("lastActivityTime"), QStringLiteral("status"), QStringLiteral("statusReason")}));
        const DeviceIdentity back = DeviceIdentity::fromJson(shown);
        QCOMPARE(back.id, d.id);
        QCOMPARE(back.generationId, d.generationId);
        QCOMPARE(back.etag, d.etag);
        QCOMPARE(back.status, d.status);
        QCOMPARE(back.statusReason, d.statusReason);
        QCOMPARE(back.authType, d.authType);
        QCOMPARE(back.primaryKey, d.primaryKey);
        QCOMPARE(back.secondaryKey, d.secondaryKey);
        QCOMPARE(back.connectionState, d.connectionState);
        QCOMPARE(back.lastActivity, d.lastActivity);
        QCOMPARE(back.cloudToDeviceMessageCount, d.cloudToDeviceMessageCount);
        QCOMPARE(back.iotEdge, d.iotEdge);
        QCOMPARE(
            shown.value(QStringLiteral("lastActivityTime")).toString(), QStringLiteral("2026-03-04T05:06:07.890Z"));
    }

    void deviceRecordMasksKeys()
    {
        const DeviceIdentity d = sasDevice();
        const QJsonObject masked = d.toRecordJson(false);
        const QString text = QString::fromUtf8(QJsonDocument(masked).toJson());
        QVERIFY(!text.contains(d.primaryKey));
        QVERIFY(!text.contains(d.secondaryKey));
        const DeviceIdentity back = DeviceIdentity::fromJson(masked);
        QCOMPARE(back.primaryKey, QStringLiteral("********"));
        QCOMPARE(back.secondaryKey, QStringLiteral("********"));
        QCOMPARE(back.authType, QStringLiteral("sas"));
        // Everything else as shown with the keys.
        QJsonObject withKeys = d.toRecordJson(true);
        withKeys.remove(QStringLiteral("authentication"));
        QJsonObject withoutKeys = masked;
        withoutKeys.remove(QStringLiteral("authentication"));
        QCOMPARE(withoutKeys, withKeys);

        // An X.509 device has no keys to mask: its thumbprints are shown either way.
        DeviceIdentity x509;
        x509.id = QStringLiteral("nrf-1");
        x509.authType = QStringLiteral("selfSigned");
        x509.primaryThumbprint = QStringLiteral("0123456789ABCDEF0123456789ABCDEF01234567");
        QCOMPARE(x509.toRecordJson(false), x509.toRecordJson(true));
        const DeviceIdentity read = DeviceIdentity::fromJson(x509.toRecordJson(false));
        QCOMPARE(read.primaryThumbprint, x509.primaryThumbprint);
        QVERIFY(!read.lastActivity.isValid());
        QCOMPARE(x509.toRecordJson(false).value(QStringLiteral("lastActivityTime")).toString(), QString());
        QVERIFY(!x509.toRecordJson(false).contains(QStringLiteral("statusReason")));
    }

    void moduleRecordReadsBackAndMasksKeys()
    {
        ModuleIdentity m;
        m.deviceId = QStringLiteral("gw-1");
        m.moduleId = QStringLiteral("reader");
        m.managedBy = QStringLiteral("IotEdge");
        m.generationId = QStringLiteral("638000000000000000");
        m.etag = QStringLiteral("MQ==");
        m.primaryKey = QString::fromLatin1(QByteArray(32, 'p').toBase64());
        m.secondaryKey = QString::fromLatin1(QByteArray(32, 's').toBase64());
        m.connectionState = QStringLiteral("Connected");
        m.lastActivity = QDateTime(QDate(2026, 3, 4), QTime(5, 6, 7, 890), Qt::UTC);
        const ModuleIdentity back = ModuleIdentity::fromJson(m.toRecordJson(true));
        QCOMPARE(back.deviceId, m.deviceId);
        QCOMPARE(back.moduleId, m.moduleId);
        QCOMPARE(back.managedBy, m.managedBy);
        QCOMPARE(back.generationId, m.generationId);
        QCOMPARE(back.etag, m.etag);
        QCOMPARE(back.primaryKey, m.primaryKey);
        QCOMPARE(back.secondaryKey, m.secondaryKey);
        QCOMPARE(back.connectionState, m.connectionState);
        QCOMPARE(back.lastActivity, m.lastActivity);
        // What is written for PUT: the writable fields only, no status (a module has none).
        const QJsonObject put = m.toJson();
        QVERIFY(!put.contains(QStringLiteral("status")) && !put.contains(QStringLiteral("connectionState")));
        QCOMPARE(put.value(QStringLiteral("moduleId")).toString(), m.moduleId);
        // Masked unless asked.
        const QString masked = QString::fromUtf8(QJsonDocument(m.toRecordJson(false)).toJson());
        QVERIFY(!masked.contains(m.primaryKey) && !masked.contains(m.secondaryKey));
        QCOMPARE(ModuleIdentity::fromJson(m.toRecordJson(false)).primaryKey, QStringLiteral("********"));
    }

    void queryRowsAndTheirCsvHeader()
    {
        // The CSV header of onboarder-cli device list (docs/cli.md; tst_clidevices reads it).
        QCOMPARE(DeviceQueryRow::fieldNames().join(u','),
            QStringLiteral(
                "deviceId,status,connectionState,lastActivityTime,authenticationType,cloudToDeviceMessageCount"));
        // Each name is the one the row's field is read from, in order.
        QJsonObject twin;
        const QStringList names = DeviceQueryRow::fieldNames();
        for (int i = 0; i < names.size() - 1; ++i)
            twin.insert(names.at(i), QStringLiteral("value-%1").arg(i));
        twin.insert(names.last(), 42);
        const DeviceQueryRow row = DeviceQueryRow::fromTwin(twin);
        QCOMPARE(
            (QStringList{row.deviceId, row.status, row.connectionState, row.lastActivityTime, row.authenticationType}),
            (QStringList{QStringLiteral("value-0"), QStringLiteral("value-1"), QStringLiteral("value-2"),
                QStringLiteral("value-3"), QStringLiteral("value-4")}));
        QCOMPARE(row.cloudToDeviceMessageCount, 42);
        QVERIFY(!row.neverActive());

        // As the hub writes "never", and a field the query did not select.
        const DeviceQueryRow never = DeviceQueryRow::fromTwin({{QStringLiteral("deviceId"), QStringLiteral("d")},
            {QStringLiteral("lastActivityTime"), QStringLiteral("0001-01-01T00:00:00Z")}});
        QVERIFY(never.neverActive());
        QCOMPARE(never.status, QString());
        QCOMPARE(never.cloudToDeviceMessageCount, 0);
        QVERIFY(!DeviceQueryRow::fromTwin({}).neverActive());
    }

    void answersInTheHubsWords()
    {
        const MethodResult answer{201, QJsonObject{{QStringLiteral("pong"), true}}};
        QCOMPARE(answer.toJson(),
            (QJsonObject{{QStringLiteral("status"), 201},
                {QStringLiteral("payload"), QJsonObject{{QStringLiteral("pong"), true}}}}));
        QCOMPARE((MethodResult{200, QJsonValue()}.toJson().value(QStringLiteral("payload"))), QJsonValue());

        QCOMPARE((CloudToDevicePurge{QStringLiteral("sensor-7"), 4}.toJson()),
            (QJsonObject{
                {QStringLiteral("deviceId"), QStringLiteral("sensor-7")}, {QStringLiteral("totalMessagesPurged"), 4}}));

        C2dFeedback feedback;
        feedback.originalMessageId = QStringLiteral("m-1");
        feedback.deviceId = QStringLiteral("sensor-7");
        feedback.statusCode = QStringLiteral("Success");
        feedback.description = QStringLiteral("Success");
        // Given in another zone, written in UTC with milliseconds.
        feedback.enqueuedTime = QDateTime(QDate(2026, 3, 4), QTime(7, 6, 7, 5), Qt::OffsetFromUTC, 7200);
        QCOMPARE(feedback.toJson(),
            (QJsonObject{{QStringLiteral("originalMessageId"), QStringLiteral("m-1")},
                {QStringLiteral("deviceId"), QStringLiteral("sensor-7")},
                {QStringLiteral("statusCode"), QStringLiteral("Success")},
                {QStringLiteral("description"), QStringLiteral("Success")},
                {QStringLiteral("enqueuedTimeUtc"), QStringLiteral("2026-03-04T05:06:07.005Z")}}));
    }
};

QTEST_GUILESS_MAIN(tst_HubRecords)
#include "tst_hubrecords.moc"
