#include "querypager.h"

#include "common/promise.h"

#include <QCoreApplication>
#include <QPointer>

#include <algorithm>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(HubClient)
};

} // namespace

struct QueryPager::State
{
    QPointer<HubClient> client;
    QString query;
    QString continuation;
    bool atEnd = false;
};

namespace {

// One collect(): the pages read so far and where the answer goes.
struct Collection
{
    QueryPager pager;
    int limit = 0;
    qsizetype count = 0;
    QJsonArray items;
    std::function<void(const QJsonArray &)> each;
    SharedPromise<QueryPage> promise;
};

void readOn(const std::shared_ptr<Collection> &collection)
{
    const int wanted = int(std::min<qsizetype>(QueryPager::largestPage, collection->limit - collection->count));
    // Without a context: the next page is asked for as this one is handed over, in the client's thread.
    collection->pager.next(wanted).then([collection](Result<QueryPage> page) {
        if (!page)
            return deliver<QueryPage>(collection->promise, std::unexpected(page.error()));
        collection->count += page->items.size();
        if (collection->each) {
            collection->each(page->items);
        } else {
            for (const auto &item : std::as_const(page->items))
                collection->items.append(item);
        }
        if (!page->continuation.isEmpty() && collection->count < collection->limit)
            return readOn(collection);
        deliver<QueryPage>(collection->promise, QueryPage{collection->items, page->continuation});
    });
}

} // namespace

QueryPager::QueryPager(HubClient *client, const QString &query)
    : m_state(std::make_shared<State>(State{client, query, {}, false}))
{ }

QString QueryPager::query() const
{
    return m_state ? m_state->query : QString();
}

QString QueryPager::continuation() const
{
    return m_state ? m_state->continuation : QString();
}

bool QueryPager::atEnd() const
{
    return m_state && m_state->atEnd;
}

QueryPager QueryPager::detached() const
{
    QueryPager copy;
    if (m_state)
        copy.m_state = std::make_shared<State>(*m_state);
    return copy;
}

QFuture<Result<QueryPage>> QueryPager::next(int pageSize)
{
    if (!m_state || !m_state->client)
        return failedFuture<QueryPage>({ErrorKind::Cancelled, QStringLiteral("Cancelled"), Text::tr("Cancelled.")});
    if (m_state->atEnd)
        return readyFuture<QueryPage>(QueryPage{});
    const std::shared_ptr<State> state = m_state;
    return state->client->query(state->query, std::clamp(pageSize, 1, largestPage), state->continuation)
        .then([state](Result<QueryPage> page) {
            if (page) {
                state->continuation = page->continuation;
                state->atEnd = page->continuation.isEmpty();
            }
            return page;
        });
}

QFuture<Result<QueryPage>> QueryPager::collect(int limit, std::function<void(const QJsonArray &)> each) const
{
    auto collection = std::make_shared<Collection>();
    collection->pager = *this;
    collection->limit = std::max(limit, 1);
    collection->each = std::move(each);
    collection->promise = startedPromise<QueryPage>();
    auto future = collection->promise->future();
    readOn(collection);
    return future;
}

} // namespace Onboarder
