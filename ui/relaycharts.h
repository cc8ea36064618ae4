#pragma once

#include "relay/relaymetrics.h"

#include <QWidget>

namespace Onboarder {

// The relay's last minutes as three small plots: messages per second in and out, outbox depth, and
// latency (p50, p99) from the local broker to the hub's acknowledgement.
class RelayCharts final : public QWidget
{
    Q_OBJECT

public:
    explicit RelayCharts(QWidget *parent = nullptr);

    void add(const RelayMetrics &metrics);
    void clear();
    int pointCount() const;

    static constexpr int windowSeconds = 180;

private:
    struct Plot;
    QList<Plot *> m_plots;
    qint64 m_startMs = 0;
};

} // namespace Onboarder
