// The CSV reader (RFC 4180) and the import rows read from CSV and JSON Lines files: what is accepted, and the
// sentence for what is not.
#include "common/csv.h"
#include "hub/deviceimport.h"

#include <QTest>

using namespace Onboarder;

class tst_CsvImport : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void readsRfc4180()
    {
        const auto records
            = Csv::parse("\xEF\xBB\xBFid,note\r\n\"a, b\",\"say \"\"hi\"\"\"\r\n\r\n\"two\nlines\",\nlast,x");
        QVERIFY2(records, records ? "" : qPrintable(records.error().message));
        QCOMPARE(records->size(), 4);
        QCOMPARE(records->at(0).fields, (QStringList{QStringLiteral("id"), QStringLiteral("note")}));
        QCOMPARE(records->at(1).fields, (QStringList{QStringLiteral("a, b"), QStringLiteral("say \"hi\"")}));
        QCOMPARE(records->at(2).fields, (QStringList{QStringLiteral("two\nlines"), QString()}));
        QCOMPARE(records->at(2).line, 4); // the empty line 3 is skipped
        QCOMPARE(records->at(3).line, 6);
        QCOMPARE(records->at(3).fields, (QStringList{QStringLiteral("last"), QStringLiteral("x")}));
    }

    void refusesWhatIsNotCsv_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("why");
        QTest::newRow("open quote") << QByteArray("id\nx,\"open\n")
                                    << QStringLiteral("Line 2 is not valid CSV: a quoted field is never closed");
        QTest::newRow("quote inside") << QByteArray("id\nab\"c\n")
                                      << QStringLiteral("Line 2 is not valid CSV: a quote inside a field");
        QTest::newRow("after closing") << QByteArray("id\n\"ab\"c\n")
                                       << QStringLiteral("Line 2 is not valid CSV: text after a closing quote");
        QTest::newRow("not utf-8") << QByteArray("id\n\xff\xfe\n") << QStringLiteral("not UTF-8");
    }

    void refusesWhatIsNotCsv()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, why);
        const auto records = Csv::parse(text);
        QVERIFY(!records);
        QCOMPARE(records.error().code, QStringLiteral("InvalidCsv"));
        QVERIFY2(records.error().message.contains(why), qPrintable(records.error().message));
    }

    void importRowsFromCsvAndJsonLines()
    {
        const auto csv
            = DeviceImport::read("DeviceId,Tags\ns-1,\"{\"\"site\"\":\"\"n\"\"}\"\ns-2,\n", DeviceImport::Format::Csv);
        QVERIFY(csv);
        QCOMPARE(csv->rows.size(), 2);
        QCOMPARE(csv->rows.at(0).id, QStringLiteral("s-1"));
        QCOMPARE(csv->rows.at(0).tags.value(QStringLiteral("site")).toString(), QStringLiteral("n"));
        QCOMPARE(csv->rows.at(1).line, 3);
        QCOMPARE(csv->rows.at(1).toBulkJson().value(QStringLiteral("importMode")).toString(), QStringLiteral("create"));

        const auto jsonl = DeviceImport::read(
            "{\"id\":\"j-1\",\"status\":\"disabled\"}\n\n[1]\n{\"id\":\"j-2\",\"colour\":\"red\"}\n",
            DeviceImport::Format::JsonLines);
        QVERIFY(jsonl);
        QCOMPARE(jsonl->rows.size(), 1);
        QCOMPARE(jsonl->rows.at(0).status, QStringLiteral("disabled"));
        QCOMPARE(jsonl->problems.size(), 2);
        QCOMPARE(jsonl->problems.at(0).line, 3);
        QCOMPARE(jsonl->problems.at(0).code, QStringLiteral("InvalidJson"));
        QCOMPARE(jsonl->problems.at(1).code, QStringLiteral("UnknownField"));

        QCOMPARE(DeviceImport::formatFor(QStringLiteral("a.ndjson"), "id\n"), DeviceImport::Format::JsonLines);
        QCOMPARE(DeviceImport::formatFor(QStringLiteral("a.txt"), "  {\"id\":1}"), DeviceImport::Format::JsonLines);
        QCOMPARE(DeviceImport::formatFor(QStringLiteral("a.txt"), "id\n"), DeviceImport::Format::Csv);
    }

    void aWholeFileRefused()
    {
        QCOMPARE(DeviceImport::read("name,auth\nx,sas\n", DeviceImport::Format::Csv).error().code,
            QStringLiteral("UnknownColumn"));
        QCOMPARE(
            DeviceImport::read("auth\nsas\n", DeviceImport::Format::Csv).error().code, QStringLiteral("NoIdColumn"));
        QCOMPARE(DeviceImport::read("", DeviceImport::Format::Csv).error().code, QStringLiteral("EmptyImport"));
        QCOMPARE(DeviceImport::read("id\na\nb\nc\n", DeviceImport::Format::Csv, 2).error().code,
            QStringLiteral("InvalidCsv"));
    }

    void edgesOfTheRows()
    {
        // device list --csv defuses an id that starts like a formula; it imports as itself.
        const auto defused = DeviceImport::read("id\n'-dev\n'x\n", DeviceImport::Format::Csv);
        QVERIFY(defused);
        QCOMPARE(defused->rows.at(0).id, QStringLiteral("-dev"));
        QCOMPARE(defused->rows.at(1).id, QStringLiteral("'x"));
        // JSON values of the wrong type are refused, not taken for their defaults.
        const auto typed = DeviceImport::read(
            "{\"id\":\"a\",\"status\":false}\n{\"id\":\"b\",\"auth\":1}\n", DeviceImport::Format::JsonLines);
        QVERIFY(typed);
        QVERIFY(typed->rows.isEmpty());
        QCOMPARE(typed->problems.size(), 2);
        QCOMPARE(typed->problems.at(0).code, QStringLiteral("InvalidField"));
        // A header alone holds no devices.
        QCOMPARE(
            DeviceImport::read("id,auth\n", DeviceImport::Format::Csv).error().code, QStringLiteral("EmptyImport"));
        // Keys: both or neither, base64, only for sas.
        const QString key = QString::fromLatin1(QByteArray(32, 'k').toBase64());
        const auto keys
            = DeviceImport::read(QStringLiteral("id,primaryKey,secondaryKey\na,%1,%1\nb,%1,\n").arg(key).toUtf8(),
                DeviceImport::Format::Csv);
        QVERIFY(keys);
        QCOMPARE(keys->rows.size(), 1);
        QCOMPARE(keys->rows.at(0)
                     .toBulkJson()[QStringLiteral("authentication")][QStringLiteral("symmetricKey")]
                                  [QStringLiteral("primaryKey")]
                     .toString(),
            key);
        QCOMPARE(keys->problems.at(0).code, QStringLiteral("InvalidKey"));
    }

    void whatIsWrittenReadsBack_data()
    {
        QTest::addColumn<int>("format");
        QTest::addColumn<bool>("withKeys");
        QTest::newRow("csv") << int(DeviceImport::Format::Csv) << false;
        QTest::newRow("csv with keys") << int(DeviceImport::Format::Csv) << true;
        QTest::newRow("jsonl") << int(DeviceImport::Format::JsonLines) << false;
        QTest::newRow("jsonl with keys") << int(DeviceImport::Format::JsonLines) << true;
    }

    void whatIsWrittenReadsBack()
    {
        QFETCH(int, format);
        QFETCH(bool, withKeys);
        ImportRow sas;
        sas.id = QStringLiteral("=odd,id");
        sas.status = QStringLiteral("disabled");
        sas.tags = QJsonObject{{QStringLiteral("site"), QStringLiteral("a, \"b\"")}};
        sas.primaryKey = QString::fromLatin1(QByteArray(32, 'p').toBase64());
        sas.secondaryKey = QString::fromLatin1(QByteArray(32, 's').toBase64());
        ImportRow x509;
        x509.id = QStringLiteral("nrf-1");
        x509.authType = QStringLiteral("selfSigned");
        x509.thumbprint = QString(40, u'A');
        const QByteArray text = DeviceImport::write({sas, x509}, DeviceImport::Format(format), withKeys);
        QCOMPARE(text.contains(sas.primaryKey.toLatin1()), withKeys);
        const auto back = DeviceImport::read(text, DeviceImport::Format(format));
        QVERIFY2(back && back->problems.isEmpty(), back ? "" : qPrintable(back.error().message));
        QCOMPARE(back->rows.size(), 2);
        QCOMPARE(back->rows.at(0).id, sas.id);
        QCOMPARE(back->rows.at(0).status, sas.status);
        QCOMPARE(back->rows.at(0).tags, sas.tags);
        QCOMPARE(back->rows.at(0).primaryKey, withKeys ? sas.primaryKey : QString());
        QCOMPARE(back->rows.at(1).authType, x509.authType);
        QCOMPARE(back->rows.at(1).thumbprint, x509.thumbprint);
    }

    void theReportIsCsvThatDefusesFormulas()
    {
        const QByteArray report = DeviceImport::reportCsv({{4, QStringLiteral("=cmd"),
            QStringLiteral("InvalidDeviceId"), QStringLiteral("Line 4 (=cmd): no, \"really\"")}});
        QCOMPARE(report,
            QByteArray("line,deviceId,code,message\n4,'=cmd,InvalidDeviceId,\"Line 4 (=cmd): no, \"\"really\"\"\"\n"));
        const auto back = Csv::parse(report);
        QVERIFY(back);
        QCOMPARE(back->at(1).fields.at(3), QStringLiteral("Line 4 (=cmd): no, \"really\""));
    }
};

QTEST_GUILESS_MAIN(tst_CsvImport)
#include "tst_csvimport.moc"
