// whenFinished (core/common/continuation.h): the answer reaches its context in the context's thread, and
// is dropped, without touching the context, when the context went first (from the same thread or another).
// Promise (core/common/promise.h): a move-only result reaches its continuation once, whenever the promise goes.
#include "common/continuation.h"
#include "common/promise.h"
#include "common/secretbytes.h"

#include <QPromise>
#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include <memory>

using namespace Onboarder;

class tst_Continuation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void calledInTheContextsThread()
    {
        QObject context;
        QPromise<Result<int>> promise;
        promise.start();
        int got = 0;
        QThread *where = nullptr;
        whenFinished(promise.future(), &context, [&](Result<int> value) {
            got = value.value_or(-1);
            where = QThread::currentThread();
        });
        std::unique_ptr<QThread> other(QThread::create([&promise] {
            promise.addResult(42);
            promise.finish();
        }));
        other->start();
        QVERIFY(other->wait(10000));
        QTRY_COMPARE(got, 42);
        QCOMPARE(where, QThread::currentThread());
    }

    void finishedAlreadyIsCalledAtOnce()
    {
        QObject context;
        int got = 0;
        whenFinished(readyFuture<int>(7), &context, [&](Result<int> value) { got = *value; });
        QCOMPARE(got, 7);
    }

    void droppedWhenTheContextIsGone()
    {
        for (const bool fromOtherThread : {false, true}) {
            auto context = std::make_unique<QObject>();
            QPromise<Result<int>> promise;
            promise.start();
            int calls = 0;
            whenFinished(promise.future(), context.get(), [&calls](Result<int>) { ++calls; });
            context.reset();
            if (fromOtherThread) {
                std::unique_ptr<QThread> other(QThread::create([&promise] {
                    promise.addResult(1);
                    promise.finish();
                }));
                other->start();
                QVERIFY(other->wait(10000));
            } else {
                promise.addResult(1);
                promise.finish();
            }
            // Whatever was to be delivered has been by now (posted events of this thread).
            QTest::qWait(50);
            QCoreApplication::sendPostedEvents();
            QCOMPARE(calls, 0);
        }
    }

    void cancelledIsNotCalled()
    {
        QObject context;
        int calls = 0;
        {
            QPromise<Result<int>> promise;
            promise.start();
            whenFinished(promise.future(), &context, [&calls](Result<int>) { ++calls; });
        } // a promise destroyed unfinished cancels its future
        QTest::qWait(50);
        QCoreApplication::sendPostedEvents();
        QCOMPARE(calls, 0);
        QVERIFY(context.findChildren<QObject *>().isEmpty()); // and its watcher is gone
    }

    // Qt 6.4 hands a move-only result to a continuation with takeResult(), which resets the future's state; a
    // QPromise destroyed after that ran the continuation a second time and crashed (every keychain read of a
    // SecretBytes did). Promise, and so deliver() and runInBackground(), must not.
    void aMoveOnlyResultReachesItsContinuationOnce()
    {
        QObject context;
        int runs = 0;
        QByteArray seen;
        auto promise = startedPromise<SecretBytes>();
        QFuture<int> queued = promise->future().then(&context, [&](Result<SecretBytes> secret) {
            ++runs;
            seen = secret->exposeForWire();
            return int(secret->size());
        });
        deliver<SecretBytes>(promise, SecretBytes::fromView("key"));
        QTRY_VERIFY(queued.isFinished());
        promise.reset(); // the promise goes after the continuation took the result, as a keychain job's does
        QCOMPARE(queued.result(), 3);
        QCOMPARE(seen, QByteArray("key"));

        auto direct = startedPromise<SecretBytes>();
        QFuture<int> synchronous
            = direct->future().then([&](Result<SecretBytes> secret) { return ++runs + int(secret->size()); });
        deliver<SecretBytes>(direct, SecretBytes::fromView("other"));
        direct.reset(); // the continuation took the result already
        QCOMPARE(synchronous.result(), 2 + 5);

        auto background = runInBackground([] {
            return Result<SecretBytes>(SecretBytes::fromView("pool"));
        }).then([&](Result<SecretBytes> secret) {
            ++runs;
            return int(secret->size());
        });
        QTRY_VERIFY(background.isFinished());
        QCOMPARE(background.result(), 4);
        QTest::qWait(50);
        QCOMPARE(runs, 3);
    }

    void aPromiseDroppedUnfinishedCancels()
    {
        auto promise = startedPromise<SecretBytes>();
        QFuture<Result<SecretBytes>> future = promise->future();
        promise.reset();
        QVERIFY(future.isFinished());
        QVERIFY(future.isCanceled());
    }
};

QTEST_GUILESS_MAIN(tst_Continuation)
#include "tst_continuation.moc"
