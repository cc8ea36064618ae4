#pragma once

#include "common/result.h"

#include <QFuture>
#include <QPromise>
#include <QThreadPool>

#include <memory>
#include <type_traits>

namespace Onboarder {

// A started promise for one result, for asynchronous core calls. It is QPromise's job done on QFutureInterface,
// because of a defect of Qt 6.4: a continuation takes a move-only result (a SecretBytes) with takeResult(), which
// resets the interface's state, and a QPromise destroyed after that takes itself for unfinished and runs the
// continuation a second time, with its promise already gone (a crash). This one remembers that it finished. Like a
// QPromise, one destroyed unfinished ends its future as canceled.
template<typename T> class Promise final
{
public:
    Promise() { m_interface.reportStarted(); }
    ~Promise()
    {
        if (!m_finished) {
            m_interface.reportCanceled();
            m_interface.reportFinished();
        }
    }
    Q_DISABLE_COPY_MOVE(Promise)

    QFuture<T> future() { return m_interface.future(); }
    bool isFinished() const { return m_finished; }
    void addResult(T &&result) { m_interface.reportResult(std::move(result)); }
    void addResult(const T &result) { m_interface.reportResult(result); }
    void finish()
    {
        if (m_finished)
            return;
        m_finished = true;
        m_interface.reportFinished();
    }

private:
    QFutureInterface<T> m_interface;
    bool m_finished = false;
};

// A started promise that callbacks can share, for asynchronous core calls that return QFuture<Result<T>>.
template<typename T> using SharedPromise = std::shared_ptr<Promise<Result<T>>>;

template<typename T> SharedPromise<T> startedPromise()
{
    return std::make_shared<Promise<Result<T>>>();
}

// Gives the promise its one result and finishes it; a promise that has its result already keeps it (a second
// finish would run its continuations again).
template<typename T> void deliver(const SharedPromise<T> &promise, Result<T> result)
{
    if (promise->isFinished())
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
    auto promise = std::make_shared<Promise<R>>();
    auto shared = std::make_shared<Work>(std::move(work));
    QThreadPool::globalInstance()->start([promise, shared] {
        promise->addResult((*shared)());
        promise->finish();
    });
    return promise->future();
}

} // namespace Onboarder
