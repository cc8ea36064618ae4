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
