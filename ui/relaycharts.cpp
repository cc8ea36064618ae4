#include "relaycharts.h"

#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QLineSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace Onboarder {

namespace {

// A y axis from 0 to a round number above the highest value, with ticks at round steps (1, 2 or 5 × 10^n,
// never below 1: the plots count messages and milliseconds), so that no two labels read the same. Fixed
// ticks: the axis spans a whole number of steps, so each tick lands on a multiple of the step. An empty
// plot reads 0 to 4.
void fitAxis(QValueAxis *axis, double highest)
{
    constexpr double minimumTop = 4;
    const double top = std::max(minimumTop, highest * 1.1);
    const double raw = top / 4;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double normalised = raw / magnitude;
    const double step = std::max(1.0,
        (normalised <= 1          ? 1
                : normalised <= 2 ? 2
                : normalised <= 5 ? 5
                                  : 10)
            * magnitude);
    const int intervals = std::max(1, int(std::ceil(top / step - 1e-9)));
    axis->setRange(0, intervals * step);
    axis->setTickCount(intervals + 1);
}

} // namespace

struct RelayCharts::Plot
{
    QChart *chart = nullptr;
    QValueAxis *x = nullptr;
    QValueAxis *y = nullptr;
    QList<QLineSeries *> series;
};

RelayCharts::RelayCharts(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    const QList<std::pair<QString, QStringList>> plots{{tr("Messages per second"), {tr("in"), tr("out")}},
        {tr("Outbox depth"), {tr("messages")}}, {tr("Latency, ms"), {tr("p50"), tr("p99")}}};
    for (const auto &[title, names] : plots) {
        auto plot = std::make_unique<Plot>();
        plot->chart = new QChart;
        plot->chart->setTitle(title);
        plot->chart->legend()->setAlignment(Qt::AlignBottom);
        plot->chart->setMargins(QMargins(2, 2, 2, 2));
        plot->x = new QValueAxis;
        plot->x->setRange(0, 30);
        plot->x->setLabelFormat(QStringLiteral("%d s"));
        plot->x->setTickCount(4);
        plot->y = new QValueAxis;
        plot->y->setTickType(QValueAxis::TicksFixed);
        fitAxis(plot->y, 0);
        plot->y->setLabelFormat(QStringLiteral("%d")); // every tick is a whole multiple of a step ≥ 1
        QFont small = plot->y->labelsFont();
        small.setPointSizeF(small.pointSizeF() * 0.85);
        plot->y->setLabelsFont(small);
        plot->x->setLabelsFont(small);
        plot->chart->legend()->setFont(small);
        plot->chart->addAxis(plot->x, Qt::AlignBottom);
        plot->chart->addAxis(plot->y, Qt::AlignLeft);
        for (const QString &name : names) {
            auto *series = new QLineSeries;
            series->setName(name);
            plot->chart->addSeries(series);
            series->attachAxis(plot->x);
            series->attachAxis(plot->y);
            plot->series.append(series);
        }
        auto *view = new QChartView(plot->chart, this);
        view->setRenderHint(QPainter::Antialiasing);
        view->setMinimumHeight(200);
        layout->addWidget(view);
        m_plots.push_back(std::move(plot));
    }
}

RelayCharts::~RelayCharts() = default;

void RelayCharts::clear()
{
    for (const auto &plot : m_plots) {
        for (QLineSeries *series : std::as_const(plot->series))
            series->clear();
        fitAxis(plot->y, 0);
    }
    m_startMs = 0;
}

int RelayCharts::pointCount() const
{
    return m_plots.empty() || m_plots.front()->series.isEmpty() ? 0 : int(m_plots.front()->series.first()->count());
}

void RelayCharts::add(const RelayMetrics &metrics)
{
    if (m_startMs == 0)
        m_startMs = metrics.timeMs;
    const double t = (metrics.timeMs - m_startMs) / 1000.0;
    const QList<QList<double>> values{{metrics.inPerSecond, metrics.outPerSecond}, {double(metrics.outboxDepth)},
        {metrics.latencyP50Ms, metrics.latencyP99Ms}};
    for (size_t p = 0; p < m_plots.size(); ++p) {
        Plot *plot = m_plots[p].get();
        double top = 0;
        for (qsizetype s = 0; s < plot->series.size(); ++s) {
            QLineSeries *series = plot->series.at(s);
            series->append(t, values.at(p).at(s));
            // Only the window is kept: the plot of a relay that runs for days stays small.
            while (series->count() > 0 && series->at(0).x() < t - windowSeconds)
                series->remove(0);
            for (const QPointF &point : series->points())
                top = qMax(top, point.y());
        }
        plot->x->setRange(qMax(0.0, t - windowSeconds), qMax(t, 30.0));
        fitAxis(plot->y, top);
    }
}

} // namespace Onboarder
