// Benchmark: the Devices page on a hub of 100,000 devices. The sandbox hub runs as its own process
// (so that its memory is not counted); the page runs here, offscreen, with the real keychain.
// Prints: opening the page to the first page painted, each further fetch (scrolling to the bottom)
// until painted, applying a filter until painted, and the resident memory after scrolling to the end.
// The goals (first page < 150 ms, fetch < 50 ms, RSS < 120 MB) are printed beside the numbers.
#include "common/settings.h"
#include "credentials/credentialstore.h"
#include "credentials/secretstore.h"
#include "devicelistmodel.h"
#include "devicespage.h"
#include "hub/hubsession.h"
#include "hub/hubstore.h"
#include "mainwindow.h"
#include "sandboxprocess.h"

#include <QApplication>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QProcess>
#include <QTableView>
#include <QTemporaryDir>
#include <QUuid>

#include <algorithm>
#include <cstdio>

using namespace Onboarder;

namespace {

template<typename T> T await(QFuture<T> future)
{
    while (!future.isFinished())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    return future.result();
}

// Runs the event loop until done() holds, then paints the view once; the time includes the paint.
template<typename Done> bool waitAndPaint(QTableView *view, Done done, int timeoutMs = 60000)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!done()) {
        if (deadline.hasExpired())
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents | QEventLoop::WaitForMoreEvents, 5);
    }
    view->viewport()->repaint();
    return true;
}

double median(QList<double> values)
{
    std::sort(values.begin(), values.end());
    return values.isEmpty() ? 0 : values.at(values.size() / 2);
}

double rssMegabytes()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : status.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toDouble() / 1024.0;
    return 0;
}

} // namespace

int main(int argc, char *argv[])
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const int devices = argc > 1 ? QByteArray(argv[1]).toInt() : 100000;
    QTemporaryDir dir;

    TestSupport::SandboxProcess sandbox;
    if (const QString started = sandbox.start(
            dir.filePath(QStringLiteral("hub")), {QStringLiteral("--seed-devices"), QString::number(devices)}, 300000);
        !started.isEmpty()) {
        std::fprintf(stderr, "error: the sandbox hub did not start: %s\n", qPrintable(started));
        return 1;
    }

    Settings settings(dir.filePath(QStringLiteral("onboarder.conf")));
    SecretStore secrets(QStringLiteral("OnboarderBench-") + QUuid::createUuid().toString(QUuid::Id128));
    HubStore hubs(settings, secrets);
    const HubEndpoint endpoint{sandbox.restPort(), sandbox.mqttPort(), sandbox.caFile()};
    if (const auto added = await(hubs.add(QStringLiteral("bench"), sandbox.connectionString(), endpoint)); !added) {
        std::fprintf(stderr, "error: %s\n", qPrintable(added.error().message));
        return 1;
    }
    settings.setCurrentHub(QStringLiteral("bench"));
    HubSession session(hubs, settings);
    CredentialStore credentials(secrets, dir.filePath(QStringLiteral("data")));
    while (session.state() != HubSession::State::Ready) {
        if (session.state() == HubSession::State::Failed) {
            std::fprintf(stderr, "error: %s\n", qPrintable(session.errorMessage()));
            return 1;
        }
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    }
    await(session.client()->statistics()); // TLS session and token set up once, as in the running app

    const double rssBefore = rssMegabytes();

    // Opening: five times over (a new window each time), median reported.
    QList<double> opens;
    QList<double> shows;
    std::unique_ptr<MainWindow> window;
    for (int i = 0; i < 5; ++i) {
        window.reset();
        QElapsedTimer timer;
        timer.start();
        window = std::make_unique<MainWindow>(settings, hubs, session, credentials, secrets);
        window->resize(1100, 700);
        window->show();
        window->showPage(window->devicesPage());
        QCoreApplication::processEvents(); // shown and laid out
        shows.append(timer.nsecsElapsed() / 1e6);
        if (!waitAndPaint(
                window->devicesPage()->view(), [&] { return window->devicesPage()->model()->rowCount() > 0; })) {
            std::fprintf(stderr, "error: no first page\n");
            return 1;
        }
        opens.append(timer.nsecsElapsed() / 1e6);
    }
    DevicesPage *page = window->devicesPage();
    DeviceListModel *model = page->model();
    QTableView *view = page->view();
    QElapsedTimer timer;

    // Further pages: scroll to the bottom, as a user dragging the scroll bar down does.
    QList<double> fetches;
    for (int i = 0; i < 30; ++i) {
        while (model->isLoading())
            QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        const int before = model->rowCount();
        timer.restart();
        view->scrollToBottom();
        if (!waitAndPaint(view, [&] { return model->rowCount() > before; })) {
            std::fprintf(stderr, "error: fetch %d brought nothing\n", i + 1);
            return 1;
        }
        fetches.append(timer.nsecsElapsed() / 1e6);
    }

    // A filter, typed and applied (the page waits 300 ms after typing; Return applies at once).
    QList<double> filters;
    const QStringList prefixes{QStringLiteral("sandbox-device-0001"), QStringLiteral("sandbox-device-00123"),
        QStringLiteral("sandbox-device-0019")};
    for (const QString &prefix : prefixes) {
        timer.restart();
        page->filterEdit()->setText(prefix);
        page->applyFilter();
        if (!waitAndPaint(view, [&] { return model->rowCount() > 0 && !model->isLoading(); })) {
            std::fprintf(stderr, "error: the filter found nothing\n");
            return 1;
        }
        filters.append(timer.nsecsElapsed() / 1e6);
    }

    // Everything: clear the filter and scroll to the end.
    page->filterEdit()->clear();
    page->applyFilter();
    timer.restart();
    QDeadlineTimer deadline(600000);
    while ((model->rowCount() == 0 || model->hasMore() || model->isLoading()) && !deadline.hasExpired()) {
        view->scrollToBottom();
        QCoreApplication::processEvents(QEventLoop::AllEvents | QEventLoop::WaitForMoreEvents, 5);
    }
    view->viewport()->repaint();
    const double toTheEnd = timer.elapsed() / 1000.0;
    const double rssAfter = rssMegabytes();

    std::printf("devices page benchmark (%d devices, pages of 200)\n", devices);
    std::printf(
        "  open page to first page painted, median: %5.1f ms, max %.1f ms   (goal < 150 ms; of which building and "
        "showing the window %.1f ms)\n",
        median(opens), *std::max_element(opens.cbegin(), opens.cend()), median(shows));
    std::printf("  further fetch until painted, median: %6.1f ms, max %.1f ms   (goal < 50 ms)\n", median(fetches),
        *std::max_element(fetches.cbegin(), fetches.cend()));
    std::printf("  apply a filter until painted, median: %5.1f ms\n", median(filters));
    std::printf("  scroll to the end (%d rows):       %8.1f s\n", model->rowCount(), toTheEnd);
    std::printf("  RSS after scrolling to the end:    %8.1f MB   (goal < 120 MB; %.1f MB before the page opened)\n",
        rssAfter, rssBefore);

    await(hubs.remove(QStringLiteral("bench")));
    sandbox.stop();
    return model->rowCount() == devices ? 0 : 1;
}
