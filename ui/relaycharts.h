#pragma once

#include "relay/relaymetrics.h"

#include <QWidget>

#include <memory>
#include <vector>

namespace Onboarder {

// The relay's last minutes as three small plots: messages per second in and out, outbox depth, and
// latency (p50, p99) from the local broker to the hub's acknowledgement.
class RelayCharts final : public QWidget
{
    Q_OBJECT

public:
    explicit RelayCharts(QWidget *parent = nullptr);
    ~RelayCharts() override;

    void add(const RelayMetrics &metrics);
    void clear();
    int pointCount() const;

    static constexpr int windowSeconds = 180;

private:
    // The chart, axes and series of a plot belong to its QChartView; the Plot only points at them.
    struct Plot;
    std::vector<std::unique_ptr<Plot>> m_plots;
    qint64 m_startMs = 0;
};

} // namespace Onboarder
