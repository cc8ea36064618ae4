#include "devicequery.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

#include <algorithm>
#include <expected>

using namespace Onboarder;
using namespace Onboarder::Sandbox;
using namespace Qt::StringLiterals;

namespace {

// The type-guarded value expressions the translator emits for values inside tags/desired/reported.
QString textValue(const QString &column, const QString &path)
{
    return u"CASE WHEN json_type(%1, '%2') = 'text' THEN json_extract(%1, '%2') END"_s.arg(column, path);
}

QString numberValue(const QString &column, const QString &path)
{
    return u"CASE WHEN json_type(%1, '%2') IN ('integer', 'real') THEN json_extract(%1, '%2') END"_s.arg(column, path);
}

QString booleanValue(const QString &column, const QString &path)
{
    return u"CASE WHEN json_type(%1, '%2') IN ('true', 'false') THEN json_extract(%1, '%2') END"_s.arg(column, path);
}

// Parameters with their types, so that 20 (integer) and 20.0 (real) and "20" differ.
QString typed(const QVariantList &values)
{
    QStringList out;
    for (const QVariant &value : values)
        out.append(QString::fromLatin1(value.typeName()) + u':' + value.toString());
    return out.join(u", "_s);
}

// The order of SQLite's BINARY collation (bytes of UTF-8).
QStringList sortedIds(QStringList ids)
{
    std::ranges::sort(ids, [](const QString &a, const QString &b) { return a.toUtf8() < b.toUtf8(); });
    return ids;
}

struct Device
{
    QString id;
    QString status;
    QString connectionState;
    QString authType;
    QString lastActivity;
    int c2dCount;
    int version;
    QString tags;
    QString desired;
    QString reported;
};

const QList<Device> &devices()
{
    static const QList<Device> all = {
        {u"dev_1"_s, u"enabled"_s, u"Connected"_s, u"sas"_s, u"2024-05-01T10:00:00Z"_s, 0, 3,
            u"{\"site\":\"bench-1\",\"floor\":1,\"loc\":{\"building\":\"B1\",\"room\":\"101\"}}"_s,
            u"{\"interval\":10,\"on\":true}"_s, u"{\"temp\":21.5,\"on\":true,\"fw\":\"1.2.0\"}"_s},
        {u"dev-2"_s, u"enabled"_s, u"Disconnected"_s, u"sas"_s, u"2024-01-01T00:00:00Z"_s, 2, 1,
            u"{\"site\":\"bench-2\",\"floor\":2}"_s, u"{}"_s, u"{\"temp\":19,\"on\":false,\"fw\":\"1.3.0\"}"_s},
        {u"devX"_s, u"disabled"_s, u"Disconnected"_s, u"selfSigned"_s, u"2023-12-31T23:59:59Z"_s, 0, 5,
            u"{\"site\":\"Bench-1\"}"_s, u"{\"interval\":\"10\"}"_s, u"{\"temp\":\"25\"}"_s},
        {u"DEV_4"_s, u"enabled"_s, u"Connected"_s, u"certificateAuthority"_s, u"2024-06-01T00:00:00Z"_s, 1, 2,
            u"{\"site\":\"bench-1\",\"loc\":{\"building\":\"B2\"}}"_s, u"{}"_s, u"{\"temp\":30,\"on\":1}"_s},
        {u"a'b"_s, u"enabled"_s, u"Connected"_s, u"sas"_s, u"2024-01-01T00:00:00Z"_s, 0, 1, u"{}"_s, u"{}"_s,
            u"{\"temp\":20}"_s},
        {u"x%y"_s, u"disabled"_s, u"Disconnected"_s, u"none"_s, u"2024-01-01T00:00:00Z"_s, 7, 1,
            u"{\"site\":\"lab\"}"_s, u"{}"_s, u"{\"temp\":-5}"_s},
        {u"dev%"_s, u"enabled"_s, u"Disconnected"_s, u"sas"_s, u"2024-01-01T00:00:00Z"_s, 0, 1,
            u"{\"note\":\"x'y\",\"site\":null}"_s, u"{}"_s, u"{\"on\":\"true\"}"_s},
        {u"x_y"_s, u"enabled"_s, u"Disconnected"_s, u"sas"_s, u"2024-01-01T00:00:00Z"_s, 0, 4,
            u"{\"site\":\"bench-1x\",\"a-b\":\"dash\"}"_s, u"{}"_s, u"{\"temp\":100}"_s},
        {u"d1"_s, u"disabled"_s, u"Connected"_s, u"sas"_s, u"2024-01-01T00:00:00Z"_s, 0, 1,
            u"{\"loc\":{\"building\":\"B1\"}}"_s, u"{}"_s, u"{}"_s},
        {u"xAy"_s, u"enabled"_s, u"Connected"_s, u"sas"_s, u"2024-01-01T00:00:00Z"_s, 3, 1,
            u"{\"site\":\"lab\",\"floor\":\"2\"}"_s, u"{}"_s, u"{\"temp\":20.5,\"fw\":\"2.0\"}"_s},
        {u"dev1"_s, u"enabled"_s, u"Disconnected"_s, u"sas"_s, u"2024-01-01T00:00:00Z"_s, 0, 1,
            u"{\"site\":\"bench-1\"}"_s, u"{}"_s, u"{\"temp\":21}"_s},
        {u"zeta"_s, u"enabled"_s, u"Connected"_s, u"sas"_s, u"2024-01-01T00:00:00Z"_s, 0, 2,
            u"{\"site\":\"Zürich-1\"}"_s, u"{}"_s, u"{\"fw\":\"1.2.0-beta\"}"_s},
    };
    return all;
}

QStringList allIds()
{
    QStringList ids;
    for (const Device &device : devices())
        ids.append(device.id);
    return ids;
}

} // namespace

class tst_DeviceQuery : public QObject
{
    Q_OBJECT

private:
    QSqlDatabase database() const { return QSqlDatabase::database(m_connection); }

    std::expected<QStringList, QString> matchingIds(const DeviceQuery &query) const
    {
        QString text = u"SELECT id FROM devices"_s;
        if (!query.whereSql.isEmpty())
            text += u" WHERE "_s + query.whereSql;
        text += u" ORDER BY id"_s;
        QSqlQuery sql(database());
        if (!sql.prepare(text))
            return std::unexpected(sql.lastError().text() + u" in: "_s + text);
        for (const QVariant &parameter : query.parameters)
            sql.addBindValue(parameter);
        if (!sql.exec())
            return std::unexpected(sql.lastError().text() + u" in: "_s + text);
        QStringList ids;
        while (sql.next())
            ids.append(sql.value(0).toString());
        return ids;
    }

    QString m_connection = u"tst_devicequery"_s;

private Q_SLOTS:
    void initTestCase()
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, m_connection);
        db.setDatabaseName(u":memory:"_s);
        QVERIFY2(db.open(), qPrintable(db.lastError().text()));
        QSqlQuery create(db);
        QVERIFY2(create.exec(u"CREATE TABLE devices(id TEXT PRIMARY KEY, status TEXT, connection_state TEXT, "
                             "auth_type TEXT, last_activity TEXT, status_updated TEXT, c2d_count INTEGER, etag TEXT, "
                             "twin_version INTEGER, tags TEXT, desired TEXT, reported TEXT)"_s),
            qPrintable(create.lastError().text()));
        QSqlQuery insert(db);
        QVERIFY(insert.prepare(u"INSERT INTO devices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"_s));
        for (const Device &d : devices()) {
            const QVariantList values = {d.id, d.status, d.connectionState, d.authType, d.lastActivity,
                u"2024-01-01T00:00:00Z"_s, d.c2dCount, u"AAAAAAAAAAE="_s, d.version, d.tags, d.desired, d.reported};
            for (const QVariant &value : values)
                insert.addBindValue(value);
            QVERIFY2(insert.exec(), qPrintable(insert.lastError().text()));
        }
    }

    void cleanupTestCase() { QSqlDatabase::removeDatabase(m_connection); }

    // ---- Translation ----

    void translatesConditions_data()
    {
        QTest::addColumn<QString>("query");
        QTest::addColumn<QString>("whereSql");
        QTest::addColumn<QVariantList>("parameters");

        const QString tagSite = textValue(u"tags"_s, u"$.site"_s);
        const QString temp = numberValue(u"reported"_s, u"$.temp"_s);

        QTest::newRow("no WHERE") << u"SELECT * FROM devices"_s << QString() << QVariantList();
        QTest::newRow("deviceId") << u"SELECT * FROM devices WHERE deviceId = 'dev1'"_s << u"id = ?"_s
                                  << QVariantList{u"dev1"_s};
        QTest::newRow("devices. prefix, double quotes")
            << u"SELECT * FROM devices WHERE devices.deviceId = \"dev1\""_s << u"id = ?"_s << QVariantList{u"dev1"_s};
        QTest::newRow("keywords in any case, <>")
            << u"select * from DEVICES where status = 'enabled' and connectionState <> 'Connected'"_s
            << u"status = ? AND connection_state != ?"_s << QVariantList{u"enabled"_s, u"Connected"_s};
        QTest::newRow("AND binds tighter than OR")
            << u"SELECT * FROM devices WHERE status = 'enabled' OR authenticationType = 'sas' AND version > 2"_s
            << u"status = ? OR auth_type = ? AND twin_version > ?"_s
            << QVariantList{u"enabled"_s, u"sas"_s, qlonglong(2)};
        QTest::newRow("parentheses kept where needed")
            << u"SELECT * FROM devices WHERE (status = 'enabled' OR status = 'disabled') AND version >= 2"_s
            << u"(status = ? OR status = ?) AND twin_version >= ?"_s
            << QVariantList{u"enabled"_s, u"disabled"_s, qlonglong(2)};
        QTest::newRow("redundant parentheses")
            << u"SELECT * FROM devices WHERE ((status = 'enabled'))"_s << u"status = ?"_s << QVariantList{u"enabled"_s};
        QTest::newRow("NOT")
            << u"SELECT * FROM devices WHERE NOT status = 'enabled' AND NOT (version < 1 OR version > 5)"_s
            << u"NOT (status = ?) AND NOT (twin_version < ? OR twin_version > ?)"_s
            << QVariantList{u"enabled"_s, qlonglong(1), qlonglong(5)};
        QTest::newRow("tag text, spelled out")
            << u"SELECT * FROM devices WHERE tags.site = 'bench-1'"_s
            << u"CASE WHEN json_type(tags, '$.site') = 'text' THEN json_extract(tags, '$.site') END = ?"_s
            << QVariantList{u"bench-1"_s};
        QTest::newRow("nested tag") << u"SELECT * FROM devices WHERE tags.loc.building != 'B1'"_s
                                    << textValue(u"tags"_s, u"$.loc.building"_s) + u" != ?"_s << QVariantList{u"B1"_s};
        QTest::newRow("quoted JSON labels")
            << u"SELECT * FROM devices WHERE tags.a-b = 'x' AND properties.desired.$meta = 1"_s
            << textValue(u"tags"_s, u"$.\"a-b\""_s) + u" = ? AND "_s + numberValue(u"desired"_s, u"$.\"$meta\""_s)
                + u" = ?"_s
            << QVariantList{u"x"_s, qlonglong(1)};
        QTest::newRow("reported number") << u"SELECT * FROM devices WHERE properties.reported.temp > 20"_s
                                         << temp + u" > ?"_s << QVariantList{qlonglong(20)};
        QTest::newRow("real and negative numbers")
            << u"SELECT * FROM devices WHERE properties.reported.temp >= -2.5 AND properties.reported.temp < 1e3"_s
            << temp + u" >= ? AND "_s + temp + u" < ?"_s << QVariantList{-2.5, 1000.0};
        QTest::newRow("booleans")
            << u"SELECT * FROM devices WHERE properties.desired.on = true OR properties.desired.on = FALSE"_s
            << booleanValue(u"desired"_s, u"$.on"_s) + u" = ? OR "_s + booleanValue(u"desired"_s, u"$.on"_s) + u" = ?"_s
            << QVariantList{qlonglong(1), qlonglong(0)};
        QTest::newRow("null")
            << u"SELECT * FROM devices WHERE tags.site = null AND properties.reported.fw != NULL AND etag <> null"_s
            << u"json_extract(tags, '$.site') IS NULL AND json_extract(reported, '$.fw') IS NOT NULL AND etag IS NOT NULL"_s
            << QVariantList();
        QTest::newRow("value on the left")
            << u"SELECT * FROM devices WHERE 20 < properties.reported.temp AND 'enabled' = status"_s
            << temp + u" > ? AND status = ?"_s << QVariantList{qlonglong(20), u"enabled"_s};
        QTest::newRow("STARTSWITH") << u"SELECT * FROM devices WHERE STARTSWITH(devices.deviceId, 'dev')"_s
                                    << u"substr(id, 1, length(?)) = ?"_s << QVariantList{u"dev"_s, u"dev"_s};
        QTest::newRow("ENDSWITH on a tag")
            << u"SELECT * FROM devices WHERE endswith(tags.site, '-1')"_s
            << u"substr(%1, length(%1) - length(?) + 1) = ?"_s.arg(tagSite) << QVariantList{u"-1"_s, u"-1"_s};
        QTest::newRow("IS_DEFINED")
            << u"SELECT * FROM devices WHERE IS_DEFINED(tags.loc) AND is_defined(lastActivityTime)"_s
            << u"json_type(tags, '$.loc') IS NOT NULL AND last_activity IS NOT NULL"_s << QVariantList();
        QTest::newRow("doubled single quote is data") << u"SELECT * FROM devices WHERE deviceId = 'x'' OR 1=1 --'"_s
                                                      << u"id = ?"_s << QVariantList{u"x' OR 1=1 --"_s};
        QTest::newRow("empty text") << u"SELECT * FROM devices WHERE deviceId = ''"_s << u"id = ?"_s
                                    << QVariantList{u""_s};
        QTest::newRow("doubled double quote")
            << u"SELECT * FROM devices WHERE tags.note = \"say \"\"hi\"\"\""_s
            << textValue(u"tags"_s, u"$.note"_s) + u" = ?"_s << QVariantList{u"say \"hi\""_s};
        QTest::newRow("type mismatch is undefined")
            << u"SELECT * FROM devices WHERE deviceId = 5 OR version = 'x' OR status = true"_s
            << u"NULL OR NULL OR NULL"_s << QVariantList();
        QTest::newRow("null has no order")
            << u"SELECT * FROM devices WHERE version > null"_s << u"NULL"_s << QVariantList();
        QTest::newRow("STARTSWITH on a number")
            << u"SELECT * FROM devices WHERE STARTSWITH(version, '1')"_s << u"NULL"_s << QVariantList();
        QTest::newRow("identity columns")
            << u"SELECT * FROM devices WHERE cloudToDeviceMessageCount >= 1 AND lastActivityTime > '2024-01-01' AND "
               "statusUpdateTime < '2025' AND authenticationType = 'sas'"_s
            << u"c2d_count >= ? AND last_activity > ? AND status_updated < ? AND auth_type = ?"_s
            << QVariantList{qlonglong(1), u"2024-01-01"_s, u"2025"_s, u"sas"_s};
        QTest::newRow("integer beyond 64 bits") << u"SELECT * FROM devices WHERE version = 99999999999999999999"_s
                                                << u"twin_version = ?"_s << QVariantList{1e20};
        QTest::newRow("white space") << u"  SELECT\t*\nFROM devices\nWHERE version=1  "_s << u"twin_version = ?"_s
                                     << QVariantList{qlonglong(1)};
    }

    void translatesConditions()
    {
        QFETCH(QString, query);
        QFETCH(QString, whereSql);
        QFETCH(QVariantList, parameters);

        const Result<DeviceQuery> parsed = DeviceQuery::parse(query);
        QVERIFY2(parsed, qPrintable(parsed ? QString() : parsed.error().message));
        QCOMPARE(parsed->whereSql, whereSql);
        QCOMPARE(typed(parsed->parameters), typed(parameters));
        for (const QVariant &parameter : parsed->parameters) // a null QString would bind as SQL NULL
            QVERIFY(parameter.typeId() != QMetaType::QString || !parameter.toString().isNull());
        QCOMPARE(parsed->whereSql.count(u'?'), parsed->parameters.size());
        QCOMPARE(parsed->kind, DeviceQuery::Kind::Select);
        QVERIFY(parsed->selectAll);
    }

    void parsesSelectListAndOrder()
    {
        const Result<DeviceQuery> plain = DeviceQuery::parse(u"SELECT * FROM devices"_s);
        QVERIFY(plain);
        QVERIFY(!plain->orderByDeviceId);

        for (const QString &text : {u"SELECT * FROM devices ORDER BY deviceId"_s,
                 u"SELECT * FROM devices WHERE version > 1 order by devices.deviceId asc"_s}) {
            const Result<DeviceQuery> ordered = DeviceQuery::parse(text);
            QVERIFY2(ordered, qPrintable(text));
            QVERIFY(ordered->orderByDeviceId);
        }

        const Result<DeviceQuery> projected
            = DeviceQuery::parse(u"SELECT deviceId AS DeviceId, status, tags.site, properties.reported, "
                                 u"devices.tags.loc.building as building "
                                 "FROM devices WHERE status = 'enabled'"_s);
        QVERIFY2(projected, qPrintable(projected ? QString() : projected.error().message));
        QCOMPARE(projected->kind, DeviceQuery::Kind::Select);
        QVERIFY(!projected->selectAll);
        const QList<std::pair<QString, QString>> expected = {
            {u"deviceId"_s, u"DeviceId"_s},
            {u"status"_s, u"status"_s},
            {u"tags.site"_s, u"site"_s},
            {u"properties.reported"_s, u"reported"_s},
            {u"tags.loc.building"_s, u"building"_s},
        };
        QCOMPARE(projected->projection, expected);
        QCOMPARE(projected->whereSql, u"status = ?"_s);

        const Result<DeviceQuery> count = DeviceQuery::parse(u"SELECT COUNT() FROM devices"_s);
        QVERIFY(count);
        QCOMPARE(count->kind, DeviceQuery::Kind::Count);
        QCOMPARE(count->countAlias, u"numberOfDevices"_s);
        QVERIFY(count->whereSql.isEmpty());

        const Result<DeviceQuery> named
            = DeviceQuery::parse(u"select count() as total from devices where status = 'disabled'"_s);
        QVERIFY(named);
        QCOMPARE(named->kind, DeviceQuery::Kind::Count);
        QCOMPARE(named->countAlias, u"total"_s);
        QCOMPARE(named->whereSql, u"status = ?"_s);
    }

    void columnFor_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("sql");

        QTest::newRow("deviceId") << u"deviceId"_s << u"id"_s;
        QTest::newRow("prefixed") << u"devices.deviceId"_s << u"id"_s;
        QTest::newRow("status") << u"status"_s << u"status"_s;
        QTest::newRow("connectionState") << u"connectionState"_s << u"connection_state"_s;
        QTest::newRow("authenticationType") << u"authenticationType"_s << u"auth_type"_s;
        QTest::newRow("lastActivityTime") << u"lastActivityTime"_s << u"last_activity"_s;
        QTest::newRow("statusUpdateTime") << u"statusUpdateTime"_s << u"status_updated"_s;
        QTest::newRow("cloudToDeviceMessageCount") << u"cloudToDeviceMessageCount"_s << u"c2d_count"_s;
        QTest::newRow("etag") << u"etag"_s << u"etag"_s;
        QTest::newRow("version") << u"version"_s << u"twin_version"_s;
        QTest::newRow("tags") << u"tags"_s << u"tags"_s;
        QTest::newRow("tag") << u"tags.site"_s << u"json_extract(tags, '$.site')"_s;
        QTest::newRow("dashed tag") << u"tags.a-b.c"_s << u"json_extract(tags, '$.\"a-b\".c')"_s;
        QTest::newRow("desired") << u"properties.desired"_s << u"desired"_s;
        QTest::newRow("reported value") << u"properties.reported.temp"_s << u"json_extract(reported, '$.temp')"_s;
        QTest::newRow("properties") << u"properties"_s
                                    << u"json_object('desired', json(desired), 'reported', json(reported))"_s;
    }

    void columnFor()
    {
        QFETCH(QString, path);
        QFETCH(QString, sql);
        const Result<QString> column = DeviceQuery::columnFor(path);
        QVERIFY2(column, qPrintable(column ? QString() : column.error().message));
        QCOMPARE(*column, sql);
    }

    void columnForRejects_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("code");

        QTest::newRow("empty") << QString() << u"IotHubQuerySyntaxError"_s;
        QTest::newRow("dangling dot") << u"tags."_s << u"IotHubQuerySyntaxError"_s;
        QTest::newRow("two names") << u"deviceId status"_s << u"IotHubQuerySyntaxError"_s;
        QTest::newRow("unknown") << u"modelId"_s << u"UnknownProperty"_s;
        QTest::newRow("wrong case") << u"Tags.site"_s << u"UnknownProperty"_s;
        QTest::newRow("below an identity column") << u"deviceId.x"_s << u"UnknownProperty"_s;
    }

    void columnForRejects()
    {
        QFETCH(QString, path);
        QFETCH(QString, code);
        const Result<QString> column = DeviceQuery::columnFor(path);
        QVERIFY(!column);
        QCOMPARE(column.error().code, code);
    }

    // ---- Errors ----

    void rejects_data()
    {
        QTest::addColumn<QString>("query");
        QTest::addColumn<QString>("code");
        QTest::addColumn<int>("position");

        const QString syntax = u"IotHubQuerySyntaxError"_s;
        const QString unknown = u"UnknownProperty"_s;
        const QString unsupported = u"UnsupportedQuery"_s;

        QTest::newRow("empty") << QString() << syntax << 1;
        QTest::newRow("only SELECT") << u"SELECT"_s << syntax << 7;
        QTest::newRow("no collection") << u"SELECT * FROM"_s << syntax << 14;
        QTest::newRow("no value") << u"SELECT * FROM devices WHERE deviceId ="_s << syntax << 39;
        QTest::newRow("open text") << u"SELECT * FROM devices WHERE deviceId = 'abc"_s << syntax << 40;
        QTest::newRow("open parenthesis") << u"SELECT * FROM devices WHERE (status = 'enabled'"_s << syntax << 48;
        QTest::newRow("dangling AND") << u"SELECT * FROM devices WHERE status = 'enabled' AND"_s << syntax << 51;
        QTest::newRow("trailing word") << u"SELECT * FROM devices WHERE status = 'enabled' extra"_s << syntax << 48;
        QTest::newRow("second statement") << u"SELECT * FROM devices; DROP TABLE devices"_s << syntax << 22;
        QTest::newRow("SQL comment") << u"SELECT * FROM devices WHERE deviceId = 'a' -- comment"_s << syntax << 44;
        QTest::newRow("==") << u"SELECT * FROM devices WHERE tags.site == 'x'"_s << syntax << 40;
        QTest::newRow("empty path segment") << u"SELECT * FROM devices WHERE tags..site = 'x'"_s << syntax << 34;
        QTest::newRow("two values") << u"SELECT * FROM devices WHERE 1 = 1"_s << syntax << 29;
        QTest::newRow("STARTSWITH number") << u"SELECT * FROM devices WHERE STARTSWITH(deviceId, 5)"_s << syntax << 50;
        QTest::newRow("bad number") << u"SELECT * FROM devices WHERE version = 12abc"_s << syntax << 39;
        QTest::newRow("duplicate output name") << u"SELECT deviceId AS x, status AS x FROM devices"_s << syntax << 23;
        QTest::newRow("COUNT(*)") << u"SELECT COUNT(*) FROM devices"_s << syntax << 14;
        QTest::newRow("positions count characters")
            << u"SELECT * FROM devices WHERE tags.site = '\U0001F600' AND"_s << syntax << 48;
        QTest::newRow("unknown property") << u"SELECT * FROM devices WHERE foo = 1"_s << unknown << 29;
        QTest::newRow("case matters") << u"SELECT * FROM devices WHERE DeviceId = 'x'"_s << unknown << 29;
        QTest::newRow("unknown properties part")
            << u"SELECT * FROM devices WHERE properties.foo.x = 1"_s << unknown << 29;
        QTest::newRow("unknown projection") << u"SELECT statusUpdatedTime FROM devices"_s << unknown << 8;
        QTest::newRow("TOP") << u"SELECT TOP 10 * FROM devices"_s << unsupported << 8;
        QTest::newRow("modules") << u"SELECT * FROM devices.modules"_s << unsupported << 23;
        QTest::newRow("COUNT with projection")
            << u"SELECT properties.reported.fw, COUNT() FROM devices GROUP BY properties.reported.fw"_s << unsupported
            << 32;
        QTest::newRow("GROUP BY") << u"SELECT * FROM devices GROUP BY status"_s << unsupported << 23;
        QTest::newRow("other function") << u"SELECT * FROM devices WHERE IS_STRING(tags.site)"_s << unsupported << 29;
        QTest::newRow("function in projection") << u"SELECT LOWER(deviceId) FROM devices"_s << unsupported << 8;
        QTest::newRow("DESC") << u"SELECT * FROM devices ORDER BY deviceId DESC"_s << unsupported << 41;
        QTest::newRow("ORDER BY other") << u"SELECT * FROM devices ORDER BY status"_s << unsupported << 32;
        QTest::newRow("IN") << u"SELECT * FROM devices WHERE deviceId IN ['a', 'b']"_s << unsupported << 38;
        QTest::newRow("two properties") << u"SELECT * FROM devices WHERE deviceId = status"_s << unsupported << 29;
        QTest::newRow("whole object") << u"SELECT * FROM devices WHERE tags = 'x'"_s << unsupported << 29;
        QTest::newRow("arithmetic") << u"SELECT * FROM devices WHERE properties.reported.temp + 1 > 2"_s << unsupported
                                    << 54;
        // 28 characters before the first '('; the 34th '(' would be the 33rd level below the top.
        QTest::newRow("too deep") << u"SELECT * FROM devices WHERE "_s + QString(40, u'(') + u"status = 'enabled'"_s
                + QString(40, u')')
                                  << unsupported << 62;
    }

    void rejects()
    {
        QFETCH(QString, query);
        QFETCH(QString, code);
        QFETCH(int, position);

        const Result<DeviceQuery> parsed = DeviceQuery::parse(query);
        QVERIFY(!parsed);
        QCOMPARE(parsed.error().kind, ErrorKind::InvalidInput);
        QCOMPARE(parsed.error().code, code);
        const QString where = u"position %1:"_s.arg(position);
        QVERIFY2(parsed.error().message.contains(where), qPrintable(parsed.error().message));
        QVERIFY(parsed.error().message.endsWith(u'.') || parsed.error().message.endsWith(u'?'));
    }

    void messagesSayWhatWasExpected()
    {
        const Result<DeviceQuery> noValue = DeviceQuery::parse(u"SELECT * FROM devices WHERE deviceId ="_s);
        QVERIFY(!noValue);
        QCOMPARE(noValue.error().message,
            u"Syntax error at position 39: expected a value after '=' but found end of query."_s);

        const Result<DeviceQuery> wrongCase = DeviceQuery::parse(u"SELECT * FROM devices WHERE Tags.site = 'x'"_s);
        QVERIFY(!wrongCase);
        QVERIFY2(wrongCase.error().message.contains(u"'Tags.site'"_s), qPrintable(wrongCase.error().message));
        QVERIFY2(wrongCase.error().message.contains(u"'tags.site'"_s), qPrintable(wrongCase.error().message));

        const Result<DeviceQuery> top = DeviceQuery::parse(u"SELECT TOP 5 * FROM devices"_s);
        QVERIFY(!top);
        QVERIFY2(top.error().message.contains(u"TOP"_s), qPrintable(top.error().message));
    }

    // ---- Semantics against SQLite ----

    void matchesDevices_data()
    {
        QTest::addColumn<QString>("condition");
        QTest::addColumn<QStringList>("expected");

        QTest::newRow("everything") << QString() << allIds();
        QTest::newRow("status") << u"status = 'enabled'"_s
                                << QStringList{u"dev_1"_s, u"dev-2"_s, u"DEV_4"_s, u"a'b"_s, u"dev%"_s, u"x_y"_s,
                                       u"xAy"_s, u"dev1"_s, u"zeta"_s};
        QTest::newRow("AND before OR")
            << u"status = 'enabled' AND connectionState = 'Connected' OR authenticationType = 'none'"_s
            << QStringList{u"dev_1"_s, u"DEV_4"_s, u"a'b"_s, u"xAy"_s, u"zeta"_s, u"x%y"_s};
        QTest::newRow("parentheses")
            << u"status = 'enabled' AND (connectionState = 'Connected' OR authenticationType = 'none')"_s
            << QStringList{u"dev_1"_s, u"DEV_4"_s, u"a'b"_s, u"xAy"_s, u"zeta"_s};
        QTest::newRow("OR then AND") << u"status = 'enabled' OR status = 'disabled' AND deviceId = 'd1'"_s
                                     << QStringList{u"dev_1"_s, u"dev-2"_s, u"DEV_4"_s, u"a'b"_s, u"dev%"_s, u"x_y"_s,
                                            u"xAy"_s, u"dev1"_s, u"zeta"_s, u"d1"_s};
        QTest::newRow("grouped OR then AND")
            << u"(status = 'enabled' OR status = 'disabled') AND deviceId = 'd1'"_s << QStringList{u"d1"_s};
        QTest::newRow("NOT") << u"NOT (status = 'enabled')"_s << QStringList{u"devX"_s, u"x%y"_s, u"d1"_s};
        QTest::newRow("NOT binds tighter than AND") << u"version = 1 AND NOT connectionState = 'Connected'"_s
                                                    << QStringList{u"dev-2"_s, u"x%y"_s, u"dev%"_s, u"dev1"_s};
        QTest::newRow("STARTSWITH is case-sensitive")
            << u"STARTSWITH(deviceId, 'dev')"_s << QStringList{u"dev_1"_s, u"dev-2"_s, u"devX"_s, u"dev%"_s, u"dev1"_s};
        QTest::newRow("STARTSWITH _ is no wildcard") << u"STARTSWITH(deviceId, 'x_')"_s << QStringList{u"x_y"_s};
        QTest::newRow("STARTSWITH % is no wildcard") << u"STARTSWITH(deviceId, 'dev%')"_s << QStringList{u"dev%"_s};
        QTest::newRow("STARTSWITH empty") << u"STARTSWITH(deviceId, '')"_s << allIds();
        QTest::newRow("STARTSWITH non-ASCII") << u"STARTSWITH(tags.site, 'Zü')"_s << QStringList{u"zeta"_s};
        QTest::newRow("STARTSWITH tag") << u"STARTSWITH(tags.site, 'bench')"_s
                                        << QStringList{u"dev_1"_s, u"dev-2"_s, u"DEV_4"_s, u"x_y"_s, u"dev1"_s};
        QTest::newRow("ENDSWITH") << u"ENDSWITH(deviceId, 'y')"_s << QStringList{u"x%y"_s, u"x_y"_s, u"xAy"_s};
        QTest::newRow("ENDSWITH longer than the id") << u"ENDSWITH(deviceId, 'adev1')"_s << QStringList();
        QTest::newRow("ENDSWITH empty") << u"ENDSWITH(deviceId, '')"_s << allIds();
        QTest::newRow("ENDSWITH reported")
            << u"ENDSWITH(properties.reported.fw, '.0')"_s << QStringList{u"dev_1"_s, u"dev-2"_s, u"xAy"_s};
        QTest::newRow("tag text is exact")
            << u"tags.site = 'bench-1'"_s << QStringList{u"dev_1"_s, u"DEV_4"_s, u"dev1"_s};
        QTest::newRow("number ignores text '25'")
            << u"properties.reported.temp > 20"_s << QStringList{u"dev_1"_s, u"DEV_4"_s, u"x_y"_s, u"xAy"_s, u"dev1"_s};
        QTest::newRow("value on the left")
            << u"20 < properties.reported.temp"_s << QStringList{u"dev_1"_s, u"DEV_4"_s, u"x_y"_s, u"xAy"_s, u"dev1"_s};
        QTest::newRow("range") << u"properties.reported.temp >= 20 AND properties.reported.temp < 22"_s
                               << QStringList{u"dev_1"_s, u"a'b"_s, u"xAy"_s, u"dev1"_s};
        QTest::newRow("negative") << u"properties.reported.temp = -5"_s << QStringList{u"x%y"_s};
        QTest::newRow("exponent") << u"properties.reported.temp < 5e-1"_s << QStringList{u"x%y"_s};
        QTest::newRow("true is not 1 nor 'true'") << u"properties.reported.on = true"_s << QStringList{u"dev_1"_s};
        QTest::newRow("!= true only among booleans") << u"properties.reported.on != true"_s << QStringList{u"dev-2"_s};
        QTest::newRow("NOT of undefined stays undefined")
            << u"NOT (properties.reported.on = true)"_s << QStringList{u"dev-2"_s};
        QTest::newRow("number is not text") << u"tags.floor = 2"_s << QStringList{u"dev-2"_s};
        QTest::newRow("text is not number") << u"tags.floor = '2'"_s << QStringList{u"xAy"_s};
        QTest::newRow("desired number") << u"properties.desired.interval = 10"_s << QStringList{u"dev_1"_s};
        QTest::newRow("= null: missing or null") << u"tags.site = null"_s << QStringList{u"a'b"_s, u"dev%"_s, u"d1"_s};
        QTest::newRow("!= null") << u"tags.site != null"_s
                                 << QStringList{u"dev_1"_s, u"dev-2"_s, u"devX"_s, u"DEV_4"_s, u"x%y"_s, u"x_y"_s,
                                        u"xAy"_s, u"dev1"_s, u"zeta"_s};
        QTest::newRow("!= text skips missing")
            << u"tags.site != 'bench-1'"_s
            << QStringList{u"dev-2"_s, u"devX"_s, u"x%y"_s, u"x_y"_s, u"xAy"_s, u"zeta"_s};
        QTest::newRow("nested tag") << u"tags.loc.building = 'B1'"_s << QStringList{u"dev_1"_s, u"d1"_s};
        QTest::newRow("IS_DEFINED object") << u"IS_DEFINED(tags.loc)"_s << QStringList{u"dev_1"_s, u"DEV_4"_s, u"d1"_s};
        QTest::newRow("IS_DEFINED counts null") << u"IS_DEFINED(tags.site)"_s
                                                << QStringList{u"dev_1"_s, u"dev-2"_s, u"devX"_s, u"DEV_4"_s, u"x%y"_s,
                                                       u"dev%"_s, u"x_y"_s, u"xAy"_s, u"dev1"_s, u"zeta"_s};
        QTest::newRow("id with a quote") << u"deviceId = 'a''b'"_s << QStringList{u"a'b"_s};
        QTest::newRow("text with a quote") << u"tags.note = \"x'y\""_s << QStringList{u"dev%"_s};
        QTest::newRow("dashed tag") << u"tags.a-b = 'dash'"_s << QStringList{u"x_y"_s};
        QTest::newRow("identity number") << u"cloudToDeviceMessageCount > 1"_s
                                         << QStringList{u"dev-2"_s, u"x%y"_s, u"xAy"_s};
        QTest::newRow("time as text") << u"lastActivityTime >= '2024-05-01'"_s << QStringList{u"dev_1"_s, u"DEV_4"_s};
        QTest::newRow("id compared with a number") << u"deviceId = 5 OR NOT (deviceId = 5)"_s << QStringList();
        QTest::newRow("empty text is a value") << u"NOT (deviceId = '')"_s << allIds();
        QTest::newRow("injection attempt") << u"deviceId = 'x'' OR 1=1 --'"_s << QStringList();
    }

    void matchesDevices()
    {
        QFETCH(QString, condition);
        QFETCH(QStringList, expected);

        const QString text
            = condition.isEmpty() ? u"SELECT * FROM devices"_s : u"SELECT * FROM devices WHERE "_s + condition;
        const Result<DeviceQuery> parsed = DeviceQuery::parse(text);
        QVERIFY2(parsed, qPrintable(parsed ? QString() : parsed.error().message));
        const std::expected<QStringList, QString> ids = matchingIds(*parsed);
        QVERIFY2(ids, qPrintable(ids ? QString() : ids.error()));
        QCOMPARE(*ids, sortedIds(expected));
    }

    void injectionStaysData()
    {
        const Result<DeviceQuery> parsed
            = DeviceQuery::parse(u"SELECT * FROM devices WHERE deviceId = 'x'' OR 1=1 --'"_s);
        QVERIFY(parsed);
        QVERIFY(!parsed->whereSql.contains(u"1=1"_s));
        QCOMPARE(parsed->parameters, QVariantList{u"x' OR 1=1 --"_s});
        const std::expected<QStringList, QString> ids = matchingIds(*parsed);
        QVERIFY2(ids, qPrintable(ids ? QString() : ids.error()));
        QVERIFY(ids->isEmpty());

        // The table is intact after a query that tries a second statement as data.
        const Result<DeviceQuery> drop
            = DeviceQuery::parse(u"SELECT * FROM devices WHERE deviceId = '''; DROP TABLE devices; --'"_s);
        QVERIFY(drop);
        const std::expected<QStringList, QString> none = matchingIds(*drop);
        QVERIFY2(none, qPrintable(none ? QString() : none.error()));
        QVERIFY(none->isEmpty());
        const std::expected<QStringList, QString> all = matchingIds(*DeviceQuery::parse(u"SELECT * FROM devices"_s));
        QVERIFY(all);
        QCOMPARE(all->size(), devices().size());
    }

    void countsDevices()
    {
        const Result<DeviceQuery> parsed
            = DeviceQuery::parse(u"SELECT COUNT() FROM devices WHERE status = 'disabled'"_s);
        QVERIFY(parsed);
        QSqlQuery sql(database());
        QVERIFY(sql.prepare(u"SELECT COUNT(*) FROM devices WHERE "_s + parsed->whereSql));
        for (const QVariant &parameter : parsed->parameters)
            sql.addBindValue(parameter);
        QVERIFY2(sql.exec() && sql.next(), qPrintable(sql.lastError().text()));
        QCOMPARE(sql.value(0).toInt(), 3);
    }

    void projectsColumns()
    {
        const Result<DeviceQuery> parsed = DeviceQuery::parse(
            u"SELECT deviceId AS DeviceId, tags.site, tags.loc.building, properties.reported.temp, version, tags, "
            "properties FROM devices WHERE deviceId = 'dev_1'"_s);
        QVERIFY2(parsed, qPrintable(parsed ? QString() : parsed.error().message));
        QStringList columns;
        for (const auto &[path, name] : std::as_const(parsed->projection)) {
            const Result<QString> column = DeviceQuery::columnFor(path);
            QVERIFY2(column, qPrintable(path));
            columns.append(*column);
        }
        QSqlQuery sql(database());
        QVERIFY(sql.prepare(u"SELECT "_s + columns.join(u", "_s) + u" FROM devices WHERE "_s + parsed->whereSql));
        for (const QVariant &parameter : parsed->parameters)
            sql.addBindValue(parameter);
        QVERIFY2(sql.exec() && sql.next(), qPrintable(sql.lastError().text()));
        QCOMPARE(sql.value(0).toString(), u"dev_1"_s);
        QCOMPARE(sql.value(1).toString(), u"bench-1"_s);
        QCOMPARE(sql.value(2).toString(), u"B1"_s);
        QCOMPARE(sql.value(3).toDouble(), 21.5);
        QCOMPARE(sql.value(4).toInt(), 3);
        QCOMPARE(sql.value(5).toString(), devices().first().tags);
        QCOMPARE(sql.value(6).toString(),
            u"{\"desired\":{\"interval\":10,\"on\":true},\"reported\":{\"temp\":21.5,\"on\":true,\"fw\":\"1.2.0\"}}"_s);
    }
};

QTEST_GUILESS_MAIN(tst_DeviceQuery)
#include "tst_devicequery.moc"
