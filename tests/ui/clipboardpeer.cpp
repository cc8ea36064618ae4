// Another X client for tst_secureclipboard: the user's other application.
//   clipboardpeer set TEXT   copies TEXT, prints "ready", keeps serving it until standard input closes
//   clipboardpeer show       prints the clipboard's MIME formats (one a line), then "text:" and its text
#include <QClipboard>
#include <QGuiApplication>
#include <QMimeData>
#include <QSocketNotifier>
#include <QTimer>

#include <cstdio>
#include <unistd.h>

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    const QStringList args = app.arguments();
    QClipboard *clipboard = QGuiApplication::clipboard();
    if (args.size() == 3 && args.at(1) == QStringLiteral("set")) {
        clipboard->setText(args.at(2));
        QSocketNotifier input(STDIN_FILENO, QSocketNotifier::Read);
        QObject::connect(&input, &QSocketNotifier::activated, &app, [&app] {
            char buffer[64];
            if (::read(STDIN_FILENO, buffer, sizeof buffer) <= 0)
                app.quit();
        });
        QTimer::singleShot(0, &app, [] {
            std::puts("ready");
            std::fflush(stdout);
        });
        return app.exec();
    }
    if (args.size() == 2 && args.at(1) == QStringLiteral("show")) {
        const QMimeData *data = clipboard->mimeData();
        for (const QString &format : data ? data->formats() : QStringList())
            std::printf("%s\n", qPrintable(format));
        std::printf("text:%s\n", qPrintable(clipboard->text()));
        return 0;
    }
    std::fputs("usage: clipboardpeer set TEXT | show\n", stderr);
    return 1;
}
