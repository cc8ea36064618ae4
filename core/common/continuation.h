#pragma once

#include <QFuture>
#include <QFutureWatcher>
#include <QObject>
#include <QThread>

#include <type_traits>
#include <utility>

namespace Onboarder {

// Calls f with the future's result in context's thread once the future has finished, unless context has been
// destroyed by then: then f is dropped, and nothing of context is touched. For a context that may go before the
// answer comes (a model or page deleted while its request is in flight). Qt 6.4's QFuture::then(context, f)
// does not promise that: it asserts (in our debug builds) when context is gone, and reads its QPointer to
// context in whichever thread finishes the future, racing context's destruction. Here a QFutureWatcher, a
// child of context, carries the result: destroying context destroys it, which detaches it from the future
// under the future's own lock, and its signal is delivered in context's thread only.
// Call from context's thread; a future that is finished already has f called at once, as then() does.
// A future finished without a result (cancelled) does not call f. A move-only result is moved to f.
template<typename T, typename F> void whenFinished(const QFuture<T> &future, QObject *context, F &&f)
{
    Q_ASSERT(context && context->thread() == QThread::currentThread());
    auto call = [](const QFuture<T> &done, F &g) {
        if constexpr (std::is_void_v<T>) {
            if (!done.isCanceled())
                g();
        } else if constexpr (std::is_copy_constructible_v<T>) {
            if (done.resultCount() > 0)
                g(done.result());
        } else {
            // A move-only result (a SecretBytes inside) is taken: f is its one consumer.
            if (done.resultCount() > 0)
                g(QFuture<T>(done).takeResult());
        }
    };
    if (future.isFinished()) {
        call(future, f);
        return;
    }
    auto *watcher = new QFutureWatcher<T>(context);
    QObject::connect(
        watcher, &QFutureWatcherBase::finished, watcher, [watcher, call, f = std::forward<F>(f)]() mutable {
            watcher->deleteLater();
            call(watcher->future(), f);
        });
    watcher->setFuture(future);
}

} // namespace Onboarder
