// onboarder-cli configuration … — the hub's configurations (automatic device management) and their metrics.
#include "command.h"
#include "hub/hubclient.h"

#include <QJsonArray>

namespace Onboarder::Cli {

namespace {

QString timeText(const QDateTime &time)
{
    return localTimeText(time, QStringLiteral("-"));
}

QFuture<int> list(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Lists the hub's configurations (automatic device management) with how many devices each "
                             "targets and has been applied to."));
    p.addOption({QStringLiteral("top"), CliText::tr("At most N configurations (1–100, default 100)."), CliText::tr("N"),
        QStringLiteral("100")});
    if (auto done = p.parse(ctx.out, args, 0, 0))
        return finished(*done);
    int exitCode = ExitOk;
    const auto top = p.intValue(ctx.out, QStringLiteral("top"), 1, 100, &exitCode);
    if (!top)
        return finished(exitCode);
    return withHub(ctx, [&ctx, top = int(*top)](HubClient &client, const HubProfile &) {
        return client.configurations(top).then(&client, [&ctx](Result<QList<HubConfiguration>> configurations) {
            if (!configurations)
                return ctx.out.error(configurations.error());
            QJsonArray json;
            QList<QStringList> rows;
            for (const HubConfiguration &c : *configurations) {
                json.append(c.document);
                rows.append({c.id, QString::number(c.priority), QString::number(c.targetedCount()),
                    QString::number(c.appliedCount()), c.targetCondition});
            }
            ctx.out.document(json);
            ctx.out.text(formatTable({CliText::tr("CONFIGURATION"), CliText::tr("PRIORITY"), CliText::tr("TARGETED"),
                                         CliText::tr("APPLIED"), CliText::tr("TARGET CONDITION")},
                rows));
            return int(ExitOk);
        });
    });
}

QFuture<int> show(Context &ctx, const QStringList &args)
{
    VerbParser p(CliText::tr("Shows a configuration: its target condition, priority, labels, what it sets, and its "
                             "metrics as the hub counts them now."));
    p.addPositional(QStringLiteral("ID"), CliText::tr("The configuration's id."));
    if (auto done = p.parse(ctx.out, args, 1, 1))
        return finished(*done);
    const QString id = p.positional().at(0);
    return withHub(ctx, [&ctx, id](HubClient &client, const HubProfile &) {
        return client.configuration(id).then(&client, [&ctx](Result<HubConfiguration> c) {
            if (!c)
                return ctx.out.error(c.error());
            ctx.out.document(c->document);
            QStringList labels;
            for (const auto &[name, value] : c->labels)
                labels.append(name + u'=' + value);
            ctx.out.text(formatTable({CliText::tr("FIELD"), CliText::tr("VALUE")},
                {{CliText::tr("Configuration"), c->id}, {CliText::tr("Priority"), QString::number(c->priority)},
                    {CliText::tr("Target condition"), c->targetCondition},
                    {CliText::tr("Labels"), labels.join(QStringLiteral(", "))},
                    {CliText::tr("Sets"), c->contentNames.join(QStringLiteral(", "))},
                    {CliText::tr("Created"), timeText(c->created)}, {CliText::tr("Updated"), timeText(c->updated)}}));
            QList<QStringList> rows;
            for (const HubConfiguration::Metric &metric : c->systemMetrics)
                rows.append({metric.name, QString::number(metric.count), CliText::tr("system")});
            for (const HubConfiguration::Metric &metric : c->metrics)
                rows.append({metric.name, QString::number(metric.count), metric.query});
            ctx.out.text(QString());
            ctx.out.text(formatTable({CliText::tr("METRIC"), CliText::tr("DEVICES"), CliText::tr("QUERY")}, rows));
            return int(ExitOk);
        });
    });
}

} // namespace

QList<Noun> configurationNouns()
{
    return {
        Noun{QStringLiteral("configuration"),
            CliText::tr("The hub's configurations (automatic device management) and their metrics."),
            {
                {QStringLiteral("list"), CliText::tr("List the configurations."), list},
                {QStringLiteral("show"), CliText::tr("Show a configuration and its metrics."), show},
            }},
    };
}

} // namespace Onboarder::Cli
