#pragma once

#include "common/result.h"

#include <QFuture>
#include <QPromise>

#include <memory>

namespace Onboarder {

// A started promise that callbacks can share (QPromise itself is move-only), for asynchronous core
// calls that return QFuture<Result<T>>.
template<typename T>
using SharedPromise = std::shared_ptr<QPromise<Result<T>>>;

template<typename T>
SharedPromise<T> startedPromise()
{
    auto promise = std::make_shared<QPromise<Result<T>>>();
    promise->start();
    return promise;
}

// Gives the promise its one result and finishes it.
template<typename T>
void deliver(const SharedPromise<T> &promise, Result<T> result)
{
    promise->addResult(std::move(result));
    promise->finish();
}

} // namespace Onboarder
