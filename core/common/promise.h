#pragma once

#include "common/result.h"

#include <QFuture>
#include <QPromise>
#include <QThreadPool>

#include <memory>
#include <type_traits>

namespace Onboarder {

// A started promise that callbacks can share (QPromise itself is move-only), for asynchronous core
// calls that return QFuture<Result<T>>.
template<typename T> using SharedPromise = std::shared_ptr<QPromise<Result<T>>>;

template<typename T> SharedPromise<T> startedPromise()
{
    auto promise = std::make_shared<QPromise<Result<T>>>();
    promise->start();
    return promise;
}

// Gives the promise its one result and finishes it; a promise that has its result already keeps it (a second
// finish would run its continuations again).
template<typename T> void deliver(const SharedPromise<T> &promise, Result<T> result)
{
    if (promise->future().isFinished())
        return;
    promise->addResult(std::move(result));
    promise->finish();
}

// A future that is finished already: for answers known at once (bad input, a closed port).
template<typename T> QFuture<Result<T>> readyFuture(Result<T> result)
{
    return QtFuture::makeReadyFuture(std::move(result));
}

template<typename T> QFuture<Result<T>> failedFuture(const Error &error)
{
    return readyFuture<T>(std::unexpected(error));
}

// Runs work (a callable returning Result<T>) on Qt's global thread pool and returns its future. For
// CPU-bound or blocking library calls (RSA key generation, GPGME) that must not block the caller's
// thread. work may capture move-only values; it must not touch QObjects of other threads.
template<typename Work> auto runInBackground(Work work) -> QFuture<std::invoke_result_t<Work>>
{
    using R = std::invoke_result_t<Work>;
    auto promise = std::make_shared<QPromise<R>>();
    promise->start();
    auto shared = std::make_shared<Work>(std::move(work));
    QThreadPool::globalInstance()->start([promise, shared] {
        promise->addResult((*shared)());
        promise->finish();
    });
    return promise->future();
}

} // namespace Onboarder
