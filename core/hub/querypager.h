#pragma once

#include "common/result.h"
#include "hub/hubclient.h"

#include <QFuture>
#include <QJsonArray>
#include <QString>

#include <functional>
#include <memory>

namespace Onboarder {

// A registry query read page by page: each page starts where the one before it ended, following the continuation
// token the hub sends with a page (x-ms-continuation), until a page comes without one. The one place that follows
// it, for the Devices page (a page at a time as the view scrolls, and the rows loaded so far again on a refresh) and
// for onboarder-cli device list (up to --top devices).
//
// A value: copies share their position, and a page in flight keeps what it needs, so the pager may go before its
// answer comes; the client may too (its requests then end Cancelled). One page at a time: a page asked for while
// another is in flight starts where the last answered one ended. Threads: the client's.
class QueryPager final
{
public:
    static constexpr int largestPage = 1000; // the most a hub gives in one page

    QueryPager() = default; // no query: every page fails (Cancelled)
    QueryPager(HubClient *client, const QString &query);

    // The next page, of at most pageSize items (1 to largestPage), from where the last one ended; once the last page
    // has come, an empty one without asking the hub. A page that fails leaves the position where it was.
    QFuture<Result<QueryPage>> next(int pageSize);
    // Pages from where the last one ended until limit items have come or the query has no more; no page asks for
    // more than largestPage items, nor for more than are still wanted. The answer has every page's items in order and
    // the continuation after the last page (empty: the query is read to its end). With each, every page's items go to
    // each as the page comes instead, and the answer's items stay empty: for rows much smaller than the twins.
    QFuture<Result<QueryPage>> collect(int limit, std::function<void(const QJsonArray &)> each = {}) const;

    QString query() const;
    // Where the next page starts; empty before the first page has come, and once the last one has (atEnd).
    QString continuation() const;
    bool atEnd() const;
    // A pager at the same position that no longer shares it: pages in flight for this one do not move it.
    QueryPager detached() const;

private:
    struct State;
    std::shared_ptr<State> m_state;
};

} // namespace Onboarder
