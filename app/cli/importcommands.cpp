// onboarder-cli device import — devices from a local CSV or JSON Lines file through the bulk registry API.
#include "command.h"
#include "credentials/securefile.h"
#include "hub/deviceimport.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QPromise>

#include <memory>

namespace Onboarder::Cli {

QFuture<int> deviceImport(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Registers the devices of a CSV or JSON Lines file in the hub, 100 a request, with progress on standard error. "
        "CSV: a header, then one device a row; columns id (required), auth (sas, x509-self-signed, x509-ca), status "
        "(enabled, disabled), thumbprint (x509-self-signed), tags (a JSON object). JSON Lines: one object a line with "
        "the same names. SAS keys are made by the hub. A device that exists already is left as it is, so running the "
        "same import again after a failure or Ctrl+C finishes it and duplicates nothing. Rows that are not imported "
        "are written with their reasons to the report (a new CSV file)."));
    p.addPositional(QStringLiteral("FILE"), CliText::tr("The devices: .csv, or .jsonl / .ndjson."));
    p.addOption({QStringLiteral("report"),
        CliText::tr("Write the rows that were not imported, and why, to FILE (default: FILE.report.csv, replaced)."),
        CliText::tr("FILE")});
    p.addOption({QStringLiteral("format"), CliText::tr("csv or jsonl (default: from the file's name or content)."),
        CliText::tr("FORMAT")});
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString path = p.positional().at(0);
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return finished(ctx.out.error({ErrorKind::InvalidInput, QStringLiteral("ImportUnreadable"),
            CliText::tr("Cannot read %1: %2").arg(path, file.errorString())}));
    const QByteArray content = file.readAll();
    DeviceImport::Format format = DeviceImport::formatFor(path, content);
    if (p.isSet(QStringLiteral("format"))) {
        const QString name = p.value(QStringLiteral("format"));
        if (name != QLatin1String("csv") && name != QLatin1String("jsonl"))
            return finished(ctx.out.usage(CliText::tr("--format is csv or jsonl, not \"%1\".").arg(name)));
        format = name == QLatin1String("csv") ? DeviceImport::Format::Csv : DeviceImport::Format::JsonLines;
    }
    const auto read = DeviceImport::read(content, format);
    if (!read)
        return finished(ctx.out.error(read.error()));
    const QString report
        = p.isSet(QStringLiteral("report")) ? p.value(QStringLiteral("report")) : path + QStringLiteral(".report.csv");

    return withHub(ctx, [&ctx, rows = read->rows, bad = read->problems, report](HubClient &client, const HubProfile &) {
        auto importer = std::make_shared<DeviceImporter>(client, rows);
        auto promise = std::make_shared<QPromise<int>>();
        promise->start();
        auto clock = std::make_shared<QElapsedTimer>();
        clock->start();
        QObject::connect(importer.get(), &DeviceImporter::progress, importer.get(), [&ctx](int done, int total) {
            if (!ctx.out.json())
                std::fprintf(stderr, "%s\n", qPrintable(CliText::tr("%1 of %2 sent").arg(done).arg(total)));
        });
        QObject::connect(
            importer.get(), &DeviceImporter::finished, importer.get(), [&ctx, importer, promise, clock, bad, report] {
                const QList<ImportProblem> problems = bad + importer->problems();
                const qint64 ms = clock->elapsed();
                QFile out(report);
                const bool written = out.open(QIODevice::WriteOnly | QIODevice::Truncate)
                    && out.write(DeviceImport::reportCsv(problems)) >= 0 && out.flush();
                const int untouched = importer->total() - importer->processed();
                ctx.out.text(CliText::tr("Created %1 devices, %2 existed already, %3 not imported (%4), in %5 s.")
                                 .arg(importer->created())
                                 .arg(importer->existing())
                                 .arg(problems.size())
                                 .arg(written ? CliText::tr("reasons in %1").arg(report)
                                              : CliText::tr("the report %1 could not be written").arg(report))
                                 .arg(double(ms) / 1000.0, 0, 'f', 1));
                QJsonArray notImported;
                for (const ImportProblem &problem : problems)
                    notImported.append(QJsonObject{{QStringLiteral("line"), problem.line},
                        {QStringLiteral("deviceId"), problem.deviceId}, {QStringLiteral("code"), problem.code},
                        {QStringLiteral("message"), problem.message}});
                QJsonObject json{{QStringLiteral("created"), importer->created()},
                    {QStringLiteral("existing"), importer->existing()}, {QStringLiteral("notImported"), notImported},
                    {QStringLiteral("report"), written ? report : QString()}, {QStringLiteral("milliseconds"), ms}};
                int code = problems.isEmpty() ? int(ExitOk) : int(ExitInvalidInput);
                if (const auto failure = importer->failure()) {
                    ctx.out.text(CliText::tr("Stopped after %1 of %2 rows: %3 Run the same import again to finish it.")
                                     .arg(importer->processed())
                                     .arg(importer->total())
                                     .arg(failure->message));
                    json.insert(QStringLiteral("notSent"), untouched);
                    code = exitCodeFor(failure->kind);
                }
                ctx.out.document(json);
                promise->addResult(code);
                promise->finish();
            });
        importer->start();
        return promise->future().then([importer](int code) { return code; });
    });
}

} // namespace Onboarder::Cli
