// Duration::parseSeconds: the lengths of time a person types on a command line (device connection-string --expires).
#include "common/duration.h"

#include <QTest>

using namespace Onboarder;

class tst_Duration : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void accepted_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("seconds");
        QTest::newRow("bare seconds") << QStringLiteral("90") << qint64(90);
        QTest::newRow("seconds") << QStringLiteral("45s") << qint64(45);
        QTest::newRow("minutes") << QStringLiteral("30m") << qint64(1800);
        QTest::newRow("hours") << QStringLiteral("12h") << qint64(43200);
        QTest::newRow("days") << QStringLiteral("7d") << qint64(604800);
        QTest::newRow("combined") << QStringLiteral("1d12h") << qint64(129600);
        QTest::newRow("every unit") << QStringLiteral("1d1h1m1s") << qint64(90061);
        QTest::newRow("upper case, spaces around") << QStringLiteral(" 2H ") << qint64(7200);
        QTest::newRow("exactly the limit") << QStringLiteral("365d") << qint64(365 * 86400);
    }

    void accepted()
    {
        QFETCH(QString, text);
        QFETCH(qint64, seconds);
        const auto parsed = Duration::parseSeconds(text, 365LL * 86400);
        QVERIFY2(parsed, parsed ? "" : qPrintable(parsed.error().message));
        QCOMPARE(*parsed, seconds);
    }

    void refused_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("code");
        const QString invalid = QStringLiteral("InvalidDuration");
        QTest::newRow("empty") << QString() << invalid;
        QTest::newRow("zero") << QStringLiteral("0s") << invalid;
        QTest::newRow("unknown unit") << QStringLiteral("3w") << invalid;
        QTest::newRow("unit alone") << QStringLiteral("h") << invalid;
        QTest::newRow("negative") << QStringLiteral("-5m") << invalid;
        QTest::newRow("fraction") << QStringLiteral("1.5h") << invalid;
        QTest::newRow("last number without a unit") << QStringLiteral("1d5") << invalid;
        QTest::newRow("space inside") << QStringLiteral("1d 5h") << invalid;
        QTest::newRow("non-ASCII digits") << QStringLiteral("٣h") << invalid;
        const QString tooLong = QStringLiteral("DurationTooLong");
        QTest::newRow("a second too long") << QStringLiteral("365d1s") << tooLong;
        QTest::newRow("digits beyond any integer") << QStringLiteral("99999999999999999999999999d") << tooLong;
        QTest::newRow("many large parts") << QStringLiteral("300d300d300d300d") << tooLong;
    }

    void refused()
    {
        QFETCH(QString, text);
        QFETCH(QString, code);
        const auto parsed = Duration::parseSeconds(text, 365LL * 86400);
        QVERIFY(!parsed);
        QCOMPARE(parsed.error().code, code);
        QVERIFY(!parsed.error().message.isEmpty());
    }

    void described()
    {
        QCOMPARE(Duration::describe(365LL * 86400), QStringLiteral("365 d"));
        QCOMPARE(Duration::describe(90061), QStringLiteral("1 d 1 h 1 min 1 s"));
        QCOMPARE(Duration::describe(0), QStringLiteral("0 s"));
    }
};

QTEST_APPLESS_MAIN(tst_Duration)
#include "tst_duration.moc"
