// onboarder-cli provision --profile FILE --port PATH | --all · provision check · provision audit
// — the provisioning station without a window (core/provisioning).
#include "command.h"
#include "common/promise.h"
#include "common/stopsignals.h"
#include "credentials/credentialstore.h"
#include "dps/dpsclient.h"
#include "dps/dpsstore.h"
#include "hub/hubclient.h"
#include "hub/hubstore.h"
#include "modem/portfinder.h"
#include "provisioning/auditlog.h"
#include "provisioning/provisioningjob.h"
#include "provisioning/provisioningprofile.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPromise>

#include <cstdio>

namespace Onboarder::Cli {

namespace {

void writeLine(const QJsonObject &json)
{
    const QByteArray line = QJsonDocument(json).toJson(QJsonDocument::Compact);
    std::fwrite(line.constData(), 1, size_t(line.size()), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void progressLine(const QString &port, const QString &text)
{
    std::fprintf(stderr, "[%s] %s\n", qPrintable(port), qPrintable(text));
}

QString resultText(const ProvisioningReport &report)
{
    if (report.ok())
        return CliText::tr("passed");
    return report.cancelled() ? CliText::tr("cancelled") : CliText::tr("failed");
}

// The ports --all means: the AT port of every nRF91 board found, and every extra port (the simulator's).
QList<ModemPort> modemPorts()
{
    PortFinder finder;
    QList<ModemPort> ports;
    for (const ModemPort &port : finder.scan()) {
        if (port.role == ModemPort::Role::At || port.extra)
            ports.append(port);
    }
    return ports;
}

struct Run
{
    QList<ProvisioningJob *> jobs;
    std::unique_ptr<HubClient> hub;
    std::unique_ptr<DpsClient> dps; // provisioning through DPS
    std::unique_ptr<StopSignals> signals;
    QList<ProvisioningReport> reports;
    QPromise<int> promise;
    qsizetype pending = 0;
};

int finishRun(Context &ctx, const std::shared_ptr<Run> &run)
{
    int code = ExitOk;
    QList<QStringList> rows;
    const bool dps = run->dps != nullptr;
    for (const ProvisioningReport &report : std::as_const(run->reports)) {
        if (!report.ok() && code == ExitOk) {
            if (!report.failure)
                code = ExitInternal; // not finished, and no failure said why
            else
                code = report.cancelled() ? int(ExitCancelled) : exitCodeFor(report.failure->kind);
        }
        QStringList row{report.port, report.identity.imei, report.deviceId};
        if (dps)
            row.append(ProvisioningReport::enrollmentName(report.enrollment));
        row << ProvisioningReport::hubDeviceName(report.hubDevice) << resultText(report);
        rows.append(row);
    }
    if (!ctx.out.json()) {
        QStringList header{CliText::tr("PORT"), CliText::tr("IMEI"), CliText::tr("DEVICE")};
        if (dps)
            header.append(CliText::tr("ENROLLMENT"));
        header << CliText::tr("HUB") << CliText::tr("RESULT");
        ctx.out.text(formatTable(header, rows));
        for (const ProvisioningReport &report : std::as_const(run->reports)) {
            if (!report.failure)
                continue;
            std::fprintf(stderr, "error: [%s] %s\n", qPrintable(report.port), qPrintable(report.failure->message));
            for (const QString &line : report.stateSummary())
                std::fprintf(stderr, "  %s\n", qPrintable(line));
        }
    }
    return code;
}

// Through DPS: the profile's DPS and its service connection string.
struct DpsTarget
{
    DpsProfile profile;
    ConnectionString service;
};

QFuture<int> startJobs(Context &ctx, const ProvisioningProfile &profile, const HubProfile &hubProfile,
    const ConnectionString &service, const std::optional<DpsTarget> &dps, const QList<ModemPort> &ports,
    const ProvisioningOptions &options)
{
    auto run = std::make_shared<Run>();
    run->promise.start();
    run->hub = std::make_unique<HubClient>(hubProfile, service);
    if (dps)
        run->dps = std::make_unique<DpsClient>(dps->profile, dps->service);
    run->signals = std::make_unique<StopSignals>();
    // The run owns the StopSignals and the hub client, so this connection too: it points at the run without
    // owning it (a copy of the shared_ptr here made the run own itself, and it was never freed).
    QObject::connect(run->signals.get(), &StopSignals::stopRequested, run->hub.get(), [own = run.get()] {
        std::fprintf(stderr, "%s\n",
            qPrintable(CliText::tr("Stopping: each job ends after its current step and reports what it left.")));
        for (ProvisioningJob *job : std::as_const(own->jobs))
            job->cancel();
    });
    const bool json = ctx.out.json();
    run->pending = ports.size();
    for (const ModemPort &port : ports) {
        ProvisioningOptions own = options;
        own.usbSerial = port.serialNumber;
        auto *job
            = new ProvisioningJob(profile, port.path, *run->hub, hubProfile, ctx.credentials, own, run->hub.get());
        if (dps)
            job->setDps(run->dps.get(), dps->profile);
        run->jobs.append(job);
        QObject::connect(
            job, &ProvisioningJob::stepChanged, job, [json, path = port.path](int, const ProvisioningStep &step) {
                if (json)
                    writeLine({{QStringLiteral("event"), QStringLiteral("step")}, {QStringLiteral("port"), path},
                        {QStringLiteral("step"), ProvisioningStep::idName(step.id)},
                        {QStringLiteral("state"), ProvisioningStep::stateName(step.state)},
                        {QStringLiteral("detail"), step.detail}});
                else if (step.state != ProvisioningStep::State::Running)
                    progressLine(path,
                        QStringLiteral("%1: %2%3")
                            .arg(ProvisioningStep::title(step.id), ProvisioningStep::stateName(step.state),
                                step.detail.isEmpty() ? QString() : QStringLiteral(" — ") + step.detail));
            });
        QObject::connect(job, &ProvisioningJob::detail, job, [json, path = port.path](const QString &text) {
            if (json)
                writeLine({{QStringLiteral("event"), QStringLiteral("detail")}, {QStringLiteral("port"), path},
                    {QStringLiteral("text"), text}});
            else
                progressLine(path, QStringLiteral("  ") + text);
        });
        job->start().then(job, [&ctx, run, job, json, options](const ProvisioningReport &report) {
            run->reports.append(report);
            if (json) {
                QJsonObject line = report.toJson(options.operatorName, options.station);
                line.insert(QStringLiteral("event"), QStringLiteral("result"));
                writeLine(line);
            }
            job->deleteLater();
            if (--run->pending == 0) {
                const int code = finishRun(ctx, run);
                // The client and the jobs go before the caller has the exit code, since it ends the event
                // loop and main() then returns: from there on, the client's network thread could not finish.
                // Not here (this is a job's continuation): once it has returned. SIGINT and SIGTERM end the
                // process again.
                QMetaObject::invokeMethod(
                    QCoreApplication::instance(),
                    [run, code] {
                        run->signals.reset();
                        run->jobs.clear();
                        run->hub.reset(); // and the jobs, its children
                        run->promise.addResult(code);
                        run->promise.finish();
                    },
                    Qt::QueuedConnection);
            }
        });
    }
    return run->promise.future();
}

QFuture<int> provision(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr(
        "Provisions nRF91 modems as the profile says: reads each modem's IMEI, registers the device in the hub, makes "
        "or reuses its key and certificate (on this computer, or in the modem with %KEYGEN and signed by the profile's "
        "CA), flashes root CAs, certificate and key, verifies every hash on the modem and the thumbprint in the hub, "
        "and appends one line per modem to the audit log. Modems run in parallel. Running again after a failure "
        "finishes what is missing; an existing device with other credentials stops the job unless --replace."));
    p.addOption({QStringLiteral("profile"), CliText::tr("The provisioning profile (JSON)."), CliText::tr("FILE")});
    p.addOption(
        {QStringLiteral("port"), CliText::tr("A modem's serial port; repeat for several."), CliText::tr("PATH")});
    p.addOption({QStringLiteral("all"),
        CliText::tr("Every modem found: the AT port of each nRF91 board and each extra port.")});
    p.addOption({QStringLiteral("replace"),
        CliText::tr("A hub device of the same id with other credentials gets the new ones (default: stop).")});
    p.addOption({QStringLiteral("operator"),
        CliText::tr("Who provisions, for the audit log (default: the login name)."), CliText::tr("NAME")});
    p.addOption({QStringLiteral("station"), CliText::tr("Which station, for the audit log (default: the host name)."),
        CliText::tr("NAME")});
    p.addOption({QStringLiteral("baud"), CliText::tr("Baud rate (default 115200; 8N1)."), CliText::tr("N"),
        QStringLiteral("115200")});
    p.addOption({QStringLiteral("no-flow-control"), CliText::tr("Open the ports without RTS/CTS flow control.")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    if (!p.isSet(QStringLiteral("profile")))
        return finished(ctx.out.usage(CliText::tr("provision needs --profile FILE.")));
    if (p.isSet(QStringLiteral("port")) == p.isSet(QStringLiteral("all")))
        return finished(ctx.out.usage(CliText::tr("Give --port PATH (one or more) or --all.")));
    int exitCode = ExitOk;
    const auto baud = p.intValue(ctx.out, QStringLiteral("baud"), 1200, 4000000, &exitCode);
    if (!baud)
        return finished(exitCode);
    const auto profile = ProvisioningProfile::load(p.value(QStringLiteral("profile")));
    if (!profile)
        return finished(ctx.out.error(profile.error()));
    const auto hubProfile = ctx.hubs.find(profile->hub);
    if (!hubProfile)
        return finished(ctx.out.error({ErrorKind::NotFound, QStringLiteral("HubNotFound"),
            CliText::tr("The profile names the hub \"%1\", which was not added (onboarder-cli hub add).")
                .arg(profile->hub)}));
    std::optional<DpsProfile> dpsProfile;
    if (profile->registration == ProvisioningProfile::Registration::Dps) {
        dpsProfile = ctx.dpsInstances.find(profile->dps);
        if (!dpsProfile)
            return finished(ctx.out.error({ErrorKind::NotFound, QStringLiteral("DpsNotFound"),
                CliText::tr("The profile provisions through the DPS \"%1\", which was not added "
                            "(onboarder-cli dps add).")
                    .arg(profile->dps)}));
    }
    QList<ModemPort> ports;
    if (p.isSet(QStringLiteral("all"))) {
        ports = modemPorts();
        if (ports.isEmpty())
            return finished(ctx.out.error({ErrorKind::NotFound, QStringLiteral("NoModems"),
                CliText::tr("No nRF91 modem was found. Plug one in, or give --port PATH.")}));
    } else {
        for (const QString &path : p.parser().values(QStringLiteral("port"))) {
            ModemPort port;
            port.path = path;
            ports.append(port);
        }
    }
    ProvisioningOptions options;
    options.operatorName = p.value(QStringLiteral("operator"));
    options.station = p.value(QStringLiteral("station"));
    options.replaceConflicting = p.isSet(QStringLiteral("replace"));
    options.serial.baudRate = qint32(*baud);
    options.serial.hardwareFlowControl = !p.isSet(QStringLiteral("no-flow-control"));
    if (options.operatorName.isEmpty())
        options.operatorName = ProvisioningJob::defaultOperator();
    if (options.station.isEmpty())
        options.station = QSysInfo::machineHostName();
    // The DPS's connection string first (when the profile names one), then the hub's; both from the keychain.
    QFuture<Result<std::optional<DpsTarget>>> target = dpsProfile
        ? ctx.dpsInstances.connectionString(dpsProfile->name)
              .then(QCoreApplication::instance(),
                  [dps = *dpsProfile](Result<ConnectionString> service) -> Result<std::optional<DpsTarget>> {
                      if (!service)
                          return std::unexpected(service.error());
                      return std::optional<DpsTarget>(DpsTarget{dps, *service});
                  })
        : readyFuture<std::optional<DpsTarget>>(std::optional<DpsTarget>());
    return target
        .then(QCoreApplication::instance(),
            [&ctx, profile = *profile, hubProfile = *hubProfile, ports, options](
                Result<std::optional<DpsTarget>> dps) -> QFuture<int> {
                if (!dps)
                    return finished(ctx.out.error(dps.error()));
                return ctx.hubs.connectionString(profile.hub)
                    .then(QCoreApplication::instance(),
                        [&ctx, profile, hubProfile, ports, options, dps = *dps](Result<ConnectionString> service) {
                            if (!service)
                                return finished(ctx.out.error(service.error()));
                            return startJobs(ctx, profile, hubProfile, *service, dps, ports, options);
                        })
                    .unwrap();
            })
        .unwrap();
}

QFuture<int> check(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Checks a provisioning profile and prints it with its defaults filled in."));
    p.addOption({QStringLiteral("profile"), CliText::tr("The provisioning profile (JSON)."), CliText::tr("FILE")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    if (!p.isSet(QStringLiteral("profile")))
        return finished(ctx.out.usage(CliText::tr("check needs --profile FILE.")));
    const auto profile = ProvisioningProfile::load(p.value(QStringLiteral("profile")));
    if (!profile)
        return finished(ctx.out.error(profile.error()));
    if (!ctx.hubs.find(profile->hub))
        return finished(ctx.out.error({ErrorKind::NotFound, QStringLiteral("HubNotFound"),
            CliText::tr("The profile names the hub \"%1\", which was not added (onboarder-cli hub add).")
                .arg(profile->hub)}));
    if (ctx.out.json())
        ctx.out.document(profile->toJson());
    else
        ctx.out.text(QString::fromUtf8(QJsonDocument(profile->toJson()).toJson(QJsonDocument::Indented)).trimmed());
    return finished(ExitOk);
}

QFuture<int> audit(Context &ctx, const QStringList &args)
{
    VerbParser p(
        CliText::tr("Prints the provisioning audit log: JSON Lines with --json, CSV with --csv, else a table."));
    p.addOption({QStringLiteral("csv"), CliText::tr("As CSV (one row per job).")});
    p.addOption({QStringLiteral("out"), CliText::tr("Write to FILE instead of standard output."), CliText::tr("FILE")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    const AuditLog log(AuditLog::defaultDirectory());
    const auto records = log.records();
    if (!records)
        return finished(ctx.out.error(records.error()));
    QByteArray text;
    if (p.isSet(QStringLiteral("csv"))) {
        text = AuditLog::toCsv(*records);
    } else if (ctx.out.json()) {
        for (const QJsonObject &record : *records)
            text += QJsonDocument(record).toJson(QJsonDocument::Compact) + '\n';
    } else {
        QList<QStringList> rows;
        for (const QJsonObject &r : *records)
            rows.append({r.value(QStringLiteral("time")).toString(), r.value(QStringLiteral("imei")).toString(),
                r.value(QStringLiteral("deviceId")).toString(), r.value(QStringLiteral("result")).toString(),
                r.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString()});
        text = formatTable({CliText::tr("TIME"), CliText::tr("IMEI"), CliText::tr("DEVICE"), CliText::tr("RESULT"),
                               CliText::tr("ERROR")},
                   rows)
                   .toUtf8()
            + '\n';
    }
    if (p.isSet(QStringLiteral("out"))) {
        QFile file(p.value(QStringLiteral("out")));
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(text) != text.size())
            return finished(ctx.out.error({ErrorKind::InvalidInput, QStringLiteral("OutputUnwritable"),
                CliText::tr("Cannot write %1: %2").arg(file.fileName(), file.errorString())}));
        return finished(ExitOk);
    }
    std::fwrite(text.constData(), 1, size_t(text.size()), stdout);
    return finished(ExitOk);
}

} // namespace

QList<Noun> provisionNouns()
{
    return {
        {QStringLiteral("provision"), CliText::tr("Provision modems: hub device, credentials, flash, verify, audit."),
            {{QString(), CliText::tr("--profile FILE --port PATH | --all: provision modems."), provision},
                {QStringLiteral("check"), CliText::tr("Check a provisioning profile."), check},
                {QStringLiteral("audit"), CliText::tr("Print or export the provisioning audit log."), audit}}}};
}

} // namespace Onboarder::Cli
