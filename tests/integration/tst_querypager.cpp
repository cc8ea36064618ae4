// QueryPager against the sandbox hub over real HTTPS: a registry query read page by page, following the hub's
// continuation token to the end; a failed page leaves the position; collect() up to a limit, each page no larger
// than what is still wanted.
#include "hub/querypager.h"
#include "sandboxhub.h"
#include "testsupport.h"

#include <QSet>
#include <QTemporaryDir>

using namespace Onboarder;
using namespace Onboarder::Sandbox;
using TestSupport::await;

namespace {

// More than the hub gives in one page.
constexpr int seeded = 1010;
const QString seededDevices = QStringLiteral("SELECT * FROM devices WHERE STARTSWITH(deviceId, 'sandbox-device-')");

QStringList idsOf(const QJsonArray &twins)
{
    QStringList ids;
    for (const QJsonValue &twin : twins)
        ids.append(DeviceQueryRow::fromTwin(twin.toObject()).deviceId);
    return ids;
}

qsizetype distinct(const QStringList &ids)
{
    return QSet<QString>(ids.cbegin(), ids.cend()).size();
}

} // namespace

class tst_QueryPager : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<SandboxHub> m_hub;
    HubProfile m_profile;
    ConnectionString m_owner;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        SandboxHub::Options options;
        options.dataDir = m_dir.filePath(QStringLiteral("hub"));
        options.seedDevices = seeded;
        m_hub = std::make_unique<SandboxHub>(options);
        const auto started = m_hub->start();
        QVERIFY2(started.has_value(), started ? "" : qPrintable(started.error().message));
        const QJsonObject info = m_hub->readyInfo();
        m_profile.name = QStringLiteral("sandbox");
        m_profile.hostName = info.value(QStringLiteral("hostName")).toString();
        m_profile.policyName = QStringLiteral("iothubowner");
        m_profile.restPort = info.value(QStringLiteral("restPort")).toInt();
        m_profile.caFile = info.value(QStringLiteral("caFile")).toString();
        m_owner = *ConnectionString::parse(m_hub->ownerConnectionString());
    }

    void pagesFollowTheContinuationToTheEnd()
    {
        HubClient client(m_profile, m_owner);
        QueryPager pager(&client, seededDevices);
        QCOMPARE(pager.query(), seededDevices);
        QVERIFY(pager.continuation().isEmpty());
        QVERIFY(!pager.atEnd());
        QStringList ids;
        QList<qsizetype> sizes;
        while (!pager.atEnd() && sizes.size() < 10) {
            const auto page = await(pager.next(400));
            QVERIFY2(page.has_value(), page ? "" : qPrintable(page.error().message));
            QCOMPARE(pager.continuation(), page->continuation);
            ids += idsOf(page->items);
            sizes.append(page->items.size());
        }
        QCOMPARE(sizes, (QList<qsizetype>{400, 400, 210}));
        QCOMPARE(distinct(ids), seeded);
        QVERIFY(pager.continuation().isEmpty());

        // Read to its end, it does not start over: an empty page at once, without asking the hub.
        const auto after = pager.next(400);
        QVERIFY(after.isFinished());
        QVERIFY(after.result().has_value());
        QVERIFY(after.result()->items.isEmpty());
        QVERIFY(pager.atEnd());
    }

    void aFailedPageLeavesThePosition()
    {
        HubClient client(m_profile, m_owner);
        QueryPager pager(&client, seededDevices);
        const auto first = await(pager.next(10));
        QVERIFY(first.has_value());
        const QString afterFirst = pager.continuation();
        QVERIFY(!afterFirst.isEmpty());

        auto lost = pager.next(10);
        client.cancelAll();
        QCOMPARE(await(lost).error().kind, ErrorKind::Cancelled);
        QCOMPARE(pager.continuation(), afterFirst);

        const auto second = await(pager.next(10));
        QVERIFY(second.has_value());
        QCOMPARE(second->items.size(), 10);
        QCOMPARE(distinct(idsOf(first->items) + idsOf(second->items)), 20);

        // Copies share the position; a detached one keeps its own.
        QueryPager copy = pager;
        const QueryPager apart = pager.detached();
        QVERIFY(await(copy.next(10)).has_value());
        QCOMPARE(pager.continuation(), copy.continuation());
        QVERIFY(apart.continuation() != pager.continuation());
        QCOMPARE(apart.continuation(), second->continuation);

        const auto refused = await(QueryPager(&client, QStringLiteral("SELECT * FROM nowhere")).next(10));
        QCOMPARE(refused.error().kind, ErrorKind::InvalidInput);
        QCOMPARE(await(QueryPager().next(10)).error().kind, ErrorKind::Cancelled);
    }

    void collectsUpToALimit()
    {
        HubClient client(m_profile, m_owner);
        QueryPager pager(&client, seededDevices);
        // 1005 wanted: the most a hub gives in a page, then a page of the five still wanted, not of 1000.
        QList<qsizetype> sizes;
        QStringList ids;
        const auto most = await(pager.collect(1005,
                                    [&](const QJsonArray &items) {
                                        sizes.append(items.size());
                                        ids += idsOf(items);
                                    }),
            60000);
        QVERIFY2(most.has_value(), most ? "" : qPrintable(most.error().message));
        QCOMPARE(sizes, (QList<qsizetype>{QueryPager::largestPage, 5}));
        QVERIFY(most->items.isEmpty()); // they went to each
        QVERIFY(!most->continuation.isEmpty());
        QCOMPARE(pager.continuation(), most->continuation);

        // On from there: what is left, in the answer itself.
        const auto rest = await(pager.collect(100));
        QVERIFY(rest.has_value());
        QCOMPARE(rest->items.size(), seeded - 1005);
        QVERIFY(rest->continuation.isEmpty());
        QVERIFY(pager.atEnd());
        ids += idsOf(rest->items);
        QCOMPARE(distinct(ids), seeded);
        const auto none = await(pager.collect(100));
        QVERIFY(none.has_value());
        QVERIFY(none->items.isEmpty());

        // A limit the hub has fewer than: all of them, in one answer.
        const auto all = await(QueryPager(&client, seededDevices).collect(5000), 60000);
        QVERIFY(all.has_value());
        QCOMPARE(all->items.size(), seeded);
        QCOMPARE(distinct(idsOf(all->items)), seeded);
        QVERIFY(all->continuation.isEmpty());

        // Fewer than a page: exactly that many, and where to go on.
        const auto three = await(QueryPager(&client, seededDevices).collect(3));
        QVERIFY(three.has_value());
        QCOMPARE(three->items.size(), 3);
        QVERIFY(!three->continuation.isEmpty());

        const auto refused = await(QueryPager(&client, QStringLiteral("SELECT * FROM nowhere")).collect(10));
        QCOMPARE(refused.error().kind, ErrorKind::InvalidInput);
    }
};

QTEST_GUILESS_MAIN(tst_QueryPager)
#include "tst_querypager.moc"
