#pragma once

// What the benchmarks share: waiting for a future on the event loop, and the median of the runs.

#include <QCoreApplication>
#include <QFuture>
#include <QList>

#include <algorithm>

namespace BenchSupport {

template<typename T> T await(QFuture<T> future)
{
    while (!future.isFinished())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    return future.result();
}

inline double median(QList<double> values)
{
    std::sort(values.begin(), values.end());
    return values.isEmpty() ? 0 : values.at(values.size() / 2);
}

} // namespace BenchSupport
