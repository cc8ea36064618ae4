// docs/cli.md is the CLI's reference for people and scripts; this test holds it to what `onboarder-cli --help`
// says, both ways, so that neither can change without the other: the nouns and their verbs (§6, and the
// third level given in parentheses), the global options (§2) and the exit codes (§5). Every verb's own
// --help must work as well.
#include "testsupport.h"

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>

namespace {

struct Run
{
    int exitCode = -1;
    QString out;
};

Run cli(const QStringList &args)
{
    QProcess process;
    process.start(TestSupport::buildPath(QStringLiteral("app/onboarder-cli")), args);
    if (!process.waitForFinished(30000))
        return {};
    return {process.exitCode(), QString::fromUtf8(process.readAllStandardOutput() + process.readAllStandardError())};
}

// The lines of one section of docs/cli.md ("## 6. Nouns and verbs" → everything up to the next "## ").
QStringList section(const QString &doc, const QString &heading)
{
    QStringList lines;
    bool inside = false;
    for (const QString &line : doc.split(u'\n')) {
        if (line.startsWith(QStringLiteral("## ")))
            inside = line.contains(heading);
        else if (inside)
            lines << line;
    }
    return lines;
}

QStringList cells(const QString &row)
{
    QStringList parts = row.split(u'|');
    if (parts.size() < 3)
        return {};
    parts.removeFirst();
    parts.removeLast();
    for (QString &part : parts)
        part = part.trimmed();
    return parts;
}

QStringList backticked(const QString &text)
{
    QStringList words;
    static const QRegularExpression word(QStringLiteral("`([^`]+)`"));
    for (auto it = word.globalMatch(text); it.hasNext();)
        words << it.next().captured(1);
    return words;
}

using Tree = QMap<QString, QSet<QString>>; // "noun" → verbs, "noun verb" → third-level verbs

// §6's table: | `noun` | `verb`, `verb` (`sub`, `sub`), (default verb) | what |
Tree documentedTree(const QString &doc)
{
    Tree tree;
    for (const QString &line : section(doc, QStringLiteral("Nouns and verbs"))) {
        const QStringList row = cells(line);
        if (row.size() < 2 || !row.at(0).startsWith(u'`'))
            continue;
        const QString noun = backticked(row.at(0)).value(0);
        QSet<QString> &verbs = tree[noun];
        QString lastVerb;
        int depth = 0;
        QString pending;
        // Walk the cell: a word in backticks outside parentheses is a verb, inside it belongs to the verb before.
        for (qsizetype i = 0; i < row.at(1).size(); ++i) {
            const QChar c = row.at(1).at(i);
            if (c == u'(') {
                ++depth;
            } else if (c == u')') {
                --depth;
            } else if (c == u'`') {
                const qsizetype end = row.at(1).indexOf(u'`', i + 1);
                const QString word = row.at(1).mid(i + 1, end - i - 1);
                i = end;
                if (depth == 0) {
                    verbs.insert(word);
                    lastVerb = word;
                } else {
                    tree[noun + u' ' + lastVerb].insert(word);
                }
            }
        }
    }
    return tree;
}

// `onboarder-cli --help`'s "Commands:" lines ("  noun verb   summary"; a noun alone is its default verb), and
// for each noun with a third level, that verb's "Verbs:" list.
Tree helpTree(const QString &help)
{
    Tree tree;
    bool inCommands = false;
    static const QRegularExpression command(QStringLiteral("^  ([a-z0-9]+)(?: ([a-z0-9-]+))?(?:  |$)"));
    for (const QString &line : help.split(u'\n')) {
        if (line == QStringLiteral("Commands:")) {
            inCommands = true;
            continue;
        }
        if (inCommands && line.isEmpty())
            break;
        const auto match = command.match(line);
        if (inCommands && match.hasMatch()) {
            QSet<QString> &verbs = tree[match.captured(1)];
            if (!match.captured(2).isEmpty())
                verbs.insert(match.captured(2));
        }
    }
    return tree;
}

QSet<QString> verbsListed(const QString &help)
{
    QSet<QString> verbs;
    static const QRegularExpression verb(QStringLiteral("^  ([a-z0-9-]+)  "));
    bool inVerbs = false;
    for (const QString &line : help.split(u'\n')) {
        if (line == QStringLiteral("Verbs:"))
            inVerbs = true;
        else if (inVerbs && verb.match(line).hasMatch())
            verbs.insert(verb.match(line).captured(1));
    }
    return verbs;
}

QString describe(const QSet<QString> &set)
{
    QStringList list(set.cbegin(), set.cend());
    list.sort();
    return list.join(QStringLiteral(", "));
}

} // namespace

class tst_CliReference : public QObject
{
    Q_OBJECT

    QString m_doc;
    QString m_help;

private Q_SLOTS:
    void initTestCase()
    {
        QFile file(TestSupport::sourcePath(QStringLiteral("docs/cli.md")));
        QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.fileName()));
        m_doc = QString::fromUtf8(file.readAll());
        const Run help = cli({QStringLiteral("--help")});
        QCOMPARE(help.exitCode, 0);
        m_help = help.out;
        QVERIFY(m_help.contains(QStringLiteral("Commands:")));
    }

    void nounsAndVerbsAgree()
    {
        const Tree documented = documentedTree(m_doc);
        const Tree printed = helpTree(m_help);
        QVERIFY2(documented.size() >= 10, "the table in docs/cli.md §6 was not found or not read");
        QCOMPARE(
            QStringList(documented.keys().filter(QRegularExpression(QStringLiteral("^[a-z0-9]+$")))), printed.keys());
        for (auto it = printed.cbegin(); it != printed.cend(); ++it) {
            const QSet<QString> inDoc = documented.value(it.key());
            QVERIFY2(inDoc == it.value(),
                qPrintable(QStringLiteral("%1: --help has [%2], docs/cli.md has [%3]")
                               .arg(it.key(), describe(it.value()), describe(inDoc))));
        }
        // The third level (modem creds list|write|delete): the verb's own help lists the same.
        int thirdLevels = 0;
        for (auto it = documented.cbegin(); it != documented.cend(); ++it) {
            if (!it.key().contains(u' '))
                continue;
            ++thirdLevels;
            const Run run = cli(it.key().split(u' ') << QStringLiteral("--help"));
            QCOMPARE(run.exitCode, 0);
            QVERIFY2(verbsListed(run.out) == it.value(),
                qPrintable(QStringLiteral("%1: --help lists [%2], docs/cli.md has [%3]")
                               .arg(it.key(), describe(verbsListed(run.out)), describe(it.value()))));
        }
        QVERIFY(thirdLevels >= 1);
    }

    void everyVerbHasHelp()
    {
        const Tree printed = helpTree(m_help);
        for (auto it = printed.cbegin(); it != printed.cend(); ++it) {
            QStringList commands;
            for (const QString &verb : it.value())
                commands << it.key() + u' ' + verb;
            if (commands.isEmpty())
                commands << it.key();
            for (const QString &command : std::as_const(commands)) {
                const Run run = cli(command.split(u' ') << QStringLiteral("--help"));
                QVERIFY2(run.exitCode == 0 && run.out.startsWith(QStringLiteral("Usage: ")),
                    qPrintable(QStringLiteral("%1 --help: exit %2\n%3").arg(command).arg(run.exitCode).arg(run.out)));
            }
        }
    }

    void globalOptionsAgree()
    {
        QSet<QString> documented;
        for (const QString &line : section(m_doc, QStringLiteral("Global options"))) {
            const QStringList row = cells(line);
            if (!row.isEmpty() && row.at(0).startsWith(QStringLiteral("`--")))
                documented.insert(backticked(row.at(0)).value(0).section(u' ', 0, 0));
        }
        QSet<QString> printed;
        const QString options
            = m_help.section(QStringLiteral("Global options:\n"), 1).section(QStringLiteral("\n\n"), 0, 0);
        static const QRegularExpression option(QStringLiteral("^  (--[a-z-]+)"), QRegularExpression::MultilineOption);
        for (auto it = option.globalMatch(options); it.hasNext();)
            printed.insert(it.next().captured(1));
        QVERIFY2(printed.size() >= 4, qPrintable(m_help));
        QVERIFY2(documented == printed,
            qPrintable(QStringLiteral("--help has [%1], docs/cli.md §2 has [%2]")
                           .arg(describe(printed), describe(documented))));
    }

    void exitCodesAgree()
    {
        QSet<QString> documented;
        for (const QString &line : section(m_doc, QStringLiteral("Exit codes"))) {
            const QStringList row = cells(line);
            bool number = false;
            if (!row.isEmpty() && (row.at(0).toInt(&number), number))
                documented.insert(row.at(0));
        }
        QSet<QString> printed;
        const QString codes = m_help.section(QStringLiteral("Exit codes: "), 1).section(u'\n', 0, 0);
        static const QRegularExpression code(QStringLiteral("(\\d+) [a-z]"));
        for (auto it = code.globalMatch(codes); it.hasNext();)
            printed.insert(it.next().captured(1));
        QVERIFY2(documented.size() >= 10, "the table in docs/cli.md §5 was not found or not read");
        QVERIFY2(documented == printed,
            qPrintable(QStringLiteral("--help has [%1], docs/cli.md §5 has [%2]")
                           .arg(describe(printed), describe(documented))));
    }
};

QTEST_GUILESS_MAIN(tst_CliReference)
#include "tst_clireference.moc"
