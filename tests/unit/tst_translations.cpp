// The shipped translations are complete and sound: no unfinished or empty entry, the same %n placeholders
// and mnemonics as the source, and the compiled catalogue in the binaries answers with exactly the .ts text.
#include <QDir>
#include <QFile>
#include <QLocale>
#include <QRegularExpression>
#include <QTest>
#include <QTranslator>
#include <QXmlStreamReader>

#include <algorithm>

namespace {

// Languages the package ships as complete; a language being started is not listed until it is done.
const QStringList completeLanguages{QStringLiteral("de")};

struct Message
{
    QString context;
    QString source;
    QString comment;
    bool numerus = false;
    bool unfinished = false;
    QStringList translations; // one, or the plural forms
};

QList<Message> readTs(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = file.errorString();
        return {};
    }
    QList<Message> messages;
    QString context;
    QXmlStreamReader xml(&file);
    while (!xml.atEnd()) {
        if (xml.readNext() != QXmlStreamReader::StartElement)
            continue;
        if (xml.name() == u"context") {
            context.clear();
        } else if (xml.name() == u"name") {
            context = xml.readElementText();
        } else if (xml.name() == u"message") {
            Message message;
            message.context = context;
            message.numerus = xml.attributes().value(QStringLiteral("numerus")) == u"yes";
            while (xml.readNextStartElement()) {
                if (xml.name() == u"source") {
                    message.source = xml.readElementText();
                } else if (xml.name() == u"comment") {
                    message.comment = xml.readElementText();
                } else if (xml.name() == u"translation") {
                    const auto type = xml.attributes().value(QStringLiteral("type"));
                    message.unfinished = type == u"unfinished" || type == u"vanished" || type == u"obsolete";
                    if (message.numerus) {
                        while (xml.readNextStartElement())
                            message.translations.append(xml.readElementText());
                    } else {
                        message.translations.append(xml.readElementText());
                    }
                } else {
                    xml.skipCurrentElement();
                }
            }
            messages.append(message);
        }
    }
    if (xml.hasError())
        *error = QStringLiteral("%1 at line %2").arg(xml.errorString()).arg(xml.lineNumber());
    return messages;
}

QStringList placeholders(const QString &text)
{
    static const QRegularExpression marker(QStringLiteral("%(?:n|L?\\d{1,2})"));
    QStringList found;
    for (const auto &match : marker.globalMatch(text))
        found.append(match.captured());
    found.sort();
    found.removeDuplicates();
    return found;
}

// A mnemonic is "&" before a letter; "&&" is a literal ampersand.
bool hasMnemonic(const QString &text)
{
    static const QRegularExpression mnemonic(
        QStringLiteral("(?<!&)&\\w"), QRegularExpression::UseUnicodePropertiesOption);
    return mnemonic.match(text).hasMatch();
}

QString tsPath(const QString &language)
{
    return QDir(qEnvironmentVariable("ONBOARDER_SOURCE_DIR"))
        .filePath(QStringLiteral("translations/onboarder_%1.ts").arg(language));
}

QString where(const Message &m)
{
    return QStringLiteral("[%1] \"%2\"").arg(m.context, m.source.left(70));
}

} // namespace

class tst_Translations : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(!qEnvironmentVariableIsEmpty("ONBOARDER_SOURCE_DIR"), "ONBOARDER_SOURCE_DIR is not set");
    }

    void complete_data()
    {
        QTest::addColumn<QString>("language");
        for (const QString &language : completeLanguages)
            QTest::newRow(qPrintable(language)) << language;
    }

    void complete()
    {
        QFETCH(QString, language);
        QString error;
        const QList<Message> messages = readTs(tsPath(language), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(!messages.isEmpty());

        QStringList problems;
        for (const Message &m : messages) {
            if (m.unfinished) {
                problems.append(QStringLiteral("unfinished: ") + where(m));
                continue;
            }
            if (m.translations.isEmpty() || std::ranges::any_of(m.translations, &QString::isEmpty)) {
                problems.append(QStringLiteral("empty: ") + where(m));
                continue;
            }
            for (const QString &translation : m.translations) {
                // Plural forms may leave %n out (e.g. "one device"), nothing else.
                QStringList expected = placeholders(m.source);
                QStringList actual = placeholders(translation);
                if (m.numerus) {
                    expected.removeAll(QStringLiteral("%n"));
                    actual.removeAll(QStringLiteral("%n"));
                }
                if (expected != actual)
                    problems.append(QStringLiteral("placeholders %1 became %2: %3")
                                        .arg(expected.join(u' '), actual.join(u' '), where(m)));
                if (hasMnemonic(m.source) != hasMnemonic(translation))
                    problems.append(QStringLiteral("mnemonic lost or added: ") + where(m));
            }
        }
        for (const QString &problem : std::as_const(problems))
            qWarning().noquote() << problem;
        QVERIFY2(problems.isEmpty(),
            qPrintable(QStringLiteral("%1 problem(s) in translations/onboarder_%2.ts, listed above: "
                                      "translate them (e.g. in Qt Linguist), then run "
                                      "scripts/update-translations")
                           .arg(problems.size())
                           .arg(language)));
    }

    void compiledCatalogueMatches_data() { complete_data(); }

    void compiledCatalogueMatches()
    {
        QFETCH(QString, language);
        // The same lookup as the executables' main(): by locale, from the resources.
        QTranslator translator;
        QVERIFY2(translator.load(
                     QLocale(language), QStringLiteral("onboarder"), QStringLiteral("_"), QStringLiteral(":/i18n")),
            "the compiled catalogue is not in the resources");

        QString error;
        const QList<Message> messages = readTs(tsPath(language), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QStringList stale;
        for (const Message &m : messages) {
            if (m.unfinished || m.translations.isEmpty())
                continue;
            const QByteArray context = m.context.toUtf8();
            const QByteArray source = m.source.toUtf8();
            const QByteArray comment = m.comment.toUtf8();
            const QString compiled = translator.translate(context.constData(), source.constData(),
                comment.isEmpty() ? nullptr : comment.constData(), m.numerus ? 1 : -1);
            if (compiled != m.translations.first())
                stale.append(where(m));
        }
        for (const QString &entry : std::as_const(stale))
            qWarning().noquote() << "compiled differently:" << entry;
        QVERIFY2(stale.isEmpty(),
            qPrintable(
                QStringLiteral("%1 entries of the compiled catalogue differ from the .ts: rebuild").arg(stale.size())));
    }
};

QTEST_GUILESS_MAIN(tst_Translations)
#include "tst_translations.moc"
