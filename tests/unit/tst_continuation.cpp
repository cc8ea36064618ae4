// whenFinished (core/common/continuation.h): the answer reaches its context in the context's thread, and
// is dropped, without touching the context, when the context went first (from the same thread or another).
#include "common/continuation.h"
#include "common/promise.h"

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
};

QTEST_GUILESS_MAIN(tst_Continuation)
#include "tst_continuation.moc"
