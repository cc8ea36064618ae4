// onboarder-cli device import|export — devices from and to a local CSV or JSON Lines file, through the bulk registry
// API and queries.
#include "command.h"
#include "credentials/secretexport.h"
#include "credentials/securefile.h"
#include "exportcli.h"
#include "hub/deviceimport.h"
#include "hub/querypager.h"

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
        QObject::connect(importer.get(), &DeviceImporter::finished, importer.get(),
            [&ctx, raw = importer.get(), promise, clock, bad, report] {
                const QList<ImportProblem> problems = bad + raw->problems();
                const qint64 ms = clock->elapsed();
                QFile out(report);
                const bool written = out.open(QIODevice::WriteOnly | QIODevice::Truncate)
                    && out.write(DeviceImport::reportCsv(problems)) >= 0 && out.flush();
                const int untouched = raw->total() - raw->processed();
                ctx.out.text(CliText::tr("Created %1 devices, %2 existed already, %3 not imported (%4), in %5 s.")
                                 .arg(raw->created())
                                 .arg(raw->existing())
                                 .arg(problems.size())
                                 .arg(written ? CliText::tr("reasons in %1").arg(report)
                                              : CliText::tr("the report %1 could not be written").arg(report))
                                 .arg(double(ms) / 1000.0, 0, 'f', 1));
                QJsonArray notImported;
                for (const ImportProblem &problem : problems)
                    notImported.append(QJsonObject{{QStringLiteral("line"), problem.line},
                        {QStringLiteral("deviceId"), problem.deviceId}, {QStringLiteral("code"), problem.code},
                        {QStringLiteral("message"), problem.message}});
                QJsonObject json{{QStringLiteral("created"), raw->created()},
                    {QStringLiteral("existing"), raw->existing()}, {QStringLiteral("notImported"), notImported},
                    {QStringLiteral("report"), written ? report : QString()}, {QStringLiteral("milliseconds"), ms}};
                int code = problems.isEmpty() ? int(ExitOk) : int(ExitInvalidInput);
                if (const auto failure = raw->failure()) {
                    ctx.out.text(CliText::tr("Stopped after %1 of %2 rows: %3 Run the same import again to finish it.")
                                     .arg(raw->processed())
                                     .arg(raw->total())
                                     .arg(failure->message));
                    json.insert(QStringLiteral("notSent"), untouched);
                    code = exitCodeFor(failure->kind);
                }
                ctx.out.document(json);
                promise->addResult(code);
                promise->finish();
            });
        importer->start();
        return promise->future().then([importer](int code) { return code; }); // alive until it has finished
    });
}

QFuture<int> deviceExport(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Writes the hub's devices to a new CSV or JSON Lines file that device import takes back: id, auth, status, "
        "thumbprint, tags. Keys only with --with-keys, and then only OpenPGP-encrypted to --gpg RECIPIENT."));
    p.addPositional(QStringLiteral("FILE"), CliText::tr("A new file: .csv, or .jsonl / .ndjson."));
    p.addOption({QStringLiteral("format"), CliText::tr("csv or jsonl (default: from the file's name; csv)."),
        CliText::tr("FORMAT")});
    p.addOption({QStringLiteral("query"),
        CliText::tr("Only the devices of this IoT Hub query (default: SELECT * FROM devices)."), CliText::tr("SQL")});
    p.addOption({QStringLiteral("with-keys"), CliText::tr("Also each SAS device's keys (needs --gpg).")});
    p.addOption(gpgRecipientOption());
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString path = p.positional().at(0);
    const bool withKeys = p.isSet(QStringLiteral("with-keys"));
    const QString recipient = p.value(QStringLiteral("gpg"));
    if (withKeys && recipient.isEmpty())
        return finished(ctx.out.usage(
            CliText::tr("Keys leave this computer only encrypted: give --gpg RECIPIENT with --with-keys.")));
    DeviceImport::Format format = DeviceImport::formatFor(path, {});
    if (p.isSet(QStringLiteral("format"))) {
        const QString name = p.value(QStringLiteral("format"));
        if (name != QLatin1String("csv") && name != QLatin1String("jsonl"))
            return finished(ctx.out.usage(CliText::tr("--format is csv or jsonl, not \"%1\".").arg(name)));
        format = name == QLatin1String("csv") ? DeviceImport::Format::Csv : DeviceImport::Format::JsonLines;
    }
    if (auto ok = SecureFile::checkNew(path); !ok)
        return finished(ctx.out.error(ok.error()));
    const QString query
        = p.isSet(QStringLiteral("query")) ? p.value(QStringLiteral("query")) : QStringLiteral("SELECT * FROM devices");

    return withHub(ctx, [&ctx, path, format, withKeys, recipient, query](HubClient &client, const HubProfile &) {
        auto rows = std::make_shared<QList<ImportRow>>();
        return QueryPager(&client, query)
            .collect(1000000,
                [rows](const QJsonArray &twins) {
                    for (const auto &twin : twins)
                        rows->append(ImportRow::fromTwin(twin.toObject()));
                })
            .then(&client,
                [&client, rows, withKeys](Result<QueryPage> read) -> QFuture<Result<void>> {
                    if (!read)
                        return QtFuture::makeReadyFuture(Result<void>(std::unexpected(read.error())));
                    if (!withKeys)
                        return QtFuture::makeReadyFuture(Result<void>());
                    // The keys are the identities', not the twins': one request a SAS device, the network's
                    // connection limit keeping them a few at a time.
                    QList<QFuture<Result<DeviceIdentity>>> identities;
                    for (const ImportRow &row : std::as_const(*rows)) {
                        if (row.authType == QLatin1String("sas"))
                            identities.append(client.device(row.id));
                    }
                    return QtFuture::whenAll(identities.begin(), identities.end())
                        .then([rows](const QList<QFuture<Result<DeviceIdentity>>> &done) -> Result<void> {
                            QHash<QString, const DeviceIdentity *> byId;
                            for (const auto &future : done) {
                                const Result<DeviceIdentity> &identity = future.result();
                                if (!identity && identity.error().code != QLatin1String("DeviceNotFound"))
                                    return std::unexpected(identity.error());
                                if (identity)
                                    byId.insert(identity->id, &*identity);
                            }
                            for (ImportRow &row : *rows) {
                                if (const DeviceIdentity *identity = byId.value(row.id)) {
                                    row.primaryKey = identity->primaryKey;
                                    row.secondaryKey = identity->secondaryKey;
                                }
                            }
                            return {};
                        });
                })
            .unwrap()
            .then(&client,
                [&ctx, rows, path, format, withKeys, recipient](Result<void> ready) -> QFuture<int> {
                    if (!ready)
                        return finished(ctx.out.error(ready.error()));
                    QByteArray content = DeviceImport::write(*rows, format, withKeys);
                    const int count = int(rows->size());
                    if (!recipient.isEmpty()) {
                        return SecretExport::toOpenPgpFile(
                            SecretBytes::fromQByteArray(std::move(content)), recipient, path)
                            .then([&ctx, path, count, withKeys](Result<OpenPgpEncryptor::Encrypted> done) {
                                return reportOpenPgpFile(ctx.out,
                                    withKeys ? CliText::tr("%1 devices with their keys").arg(count)
                                             : CliText::tr("%1 devices").arg(count),
                                    QString(), path, done, QJsonObject{{QStringLiteral("devices"), count}});
                            });
                    }
                    QFile out(path);
                    if (!out.open(QIODevice::NewOnly | QIODevice::WriteOnly) || out.write(content) != content.size()
                        || !out.flush())
                        return finished(ctx.out.error({ErrorKind::InvalidInput, QStringLiteral("ExportUnwritable"),
                            CliText::tr("Cannot write %1: %2").arg(path, out.errorString())}));
                    ctx.out.text(CliText::tr("Wrote %1 devices to %2.").arg(count).arg(path));
                    ctx.out.document(QJsonObject{{QStringLiteral("devices"), count}, {QStringLiteral("file"), path}});
                    return finished(ExitOk);
                })
            .unwrap();
    });
}

} // namespace Onboarder::Cli
