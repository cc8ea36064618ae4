#include "identifiers.h"

#include <QCoreApplication>
#include <QList>

#include <algorithm>
#include <optional>

namespace Onboarder::Identifiers {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(Onboarder::Identifiers)
};

constexpr qsizetype maxIdLength = 128;
constexpr qsizetype maxPolicyNameLength = 256;
constexpr qsizetype maxHostNameLength = 253; // the DNS limit for a full name
constexpr qsizetype maxHubProfileNameLength = 64;

bool isAsciiLetterOrDigit(char32_t c)
{
    return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || (c >= U'0' && c <= U'9');
}

bool isOneOf(char32_t c, std::u32string_view set)
{
    return set.find(c) != std::u32string_view::npos;
}

bool isIdCharacter(char32_t c)
{
    return isAsciiLetterOrDigit(c) || isOneOf(c, U"-:.+%_#*?!(),=@;$'");
}

bool isPolicyNameCharacter(char32_t c)
{
    return isAsciiLetterOrDigit(c) || isOneOf(c, U"_-@.");
}

bool isHostNameCharacter(char32_t c)
{
    return isAsciiLetterOrDigit(c) || isOneOf(c, U"_-.");
}

bool isHubProfileNameCharacter(char32_t c)
{
    return isAsciiLetterOrDigit(c) || isOneOf(c, U"._-");
}

// A value seen as code points, so that lengths and positions match what a person counts.
struct CodePoints
{
    explicit CodePoints(const QString &text)
        : points(text.toUcs4())
    { }

    qsizetype length() const { return points.size(); }

    struct Offending
    {
        char32_t character;
        qsizetype position; // 1-based
    };

    std::optional<Offending> firstNotMatching(bool (*allowed)(char32_t)) const
    {
        for (qsizetype i = 0; i < points.size(); ++i) {
            if (!allowed(char32_t(points.at(i))))
                return Offending{char32_t(points.at(i)), i + 1};
        }
        return std::nullopt;
    }

    QList<uint> points;
};

// `"é" (U+00E9)` for a visible character, `U+000A` for white space and anything else that would not show.
QString describe(char32_t c)
{
    QString code = QStringLiteral("U+") + QString::number(uint(c), 16).toUpper().rightJustified(4, u'0');
    if (!QChar::isSpace(c) && QChar::isPrint(c))
        return u'"' + QString::fromUcs4(&c, 1) + QStringLiteral("\" (") + code + u')';
    return code;
}

QString number(qsizetype n)
{
    return QString::number(n);
}

} // namespace

namespace {

// The sentences of one kind of id: empty, too long (%1 its length, %2 the limit), a character not allowed (%1 which,
// %2 where).
struct IdSentences
{
    QString empty;
    QString tooLong;
    QString badCharacter;
};

Result<void> validateId(const QString &id, const QString &code, bool (*allowed)(char32_t), const IdSentences &say)
{
    const CodePoints points(id);
    if (points.length() == 0)
        return fail(ErrorKind::InvalidInput, code, say.empty);
    if (points.length() > maxIdLength)
        return fail(ErrorKind::InvalidInput, code, say.tooLong.arg(number(points.length()), number(maxIdLength)));
    if (const auto bad = points.firstNotMatching(allowed))
        return fail(
            ErrorKind::InvalidInput, code, say.badCharacter.arg(describe(bad->character), number(bad->position)));
    return {};
}

} // namespace

Result<void> validateDeviceId(const QString &id)
{
    return validateId(id, QStringLiteral("InvalidDeviceId"), isIdCharacter,
        {Text::tr("The device ID is empty."), Text::tr("The device ID is %1 characters long; at most %2 are allowed."),
            Text::tr("The device ID contains %1 at position %2. Only ASCII letters, digits and "
                     "- : . + % _ # * ? ! ( ) , = @ ; $ ' are allowed.")});
}

Result<void> validateModuleId(const QString &id)
{
    return validateId(id, QStringLiteral("InvalidModuleId"), isIdCharacter,
        {Text::tr("The module ID is empty."), Text::tr("The module ID is %1 characters long; at most %2 are allowed."),
            Text::tr("The module ID contains %1 at position %2. Only ASCII letters, digits and "
                     "- : . + % _ # * ? ! ( ) , = @ ; $ ' are allowed.")});
}

Result<void> validateJobId(const QString &id)
{
    // A job id goes into a device query between apostrophes: it may not hold one.
    return validateId(id, QStringLiteral("InvalidJobId"), [](char32_t c) { return c != U'\'' && isIdCharacter(c); },
        {Text::tr("The job ID is empty."), Text::tr("The job ID is %1 characters long; at most %2 are allowed."),
            Text::tr("The job ID contains %1 at position %2. Only ASCII letters, digits and "
                     "- : . + % _ # * ? ! ( ) , = @ ; $ are allowed.")});
}

bool isThumbprint(const QString &thumbprint)
{
    return (thumbprint.size() == 40 || thumbprint.size() == 64)
        && std::all_of(thumbprint.cbegin(), thumbprint.cend(),
            [](QChar c) { return c.isDigit() || (c.toUpper() >= u'A' && c.toUpper() <= u'F'); });
}

Result<void> validatePolicyName(const QString &name)
{
    const QString code = QStringLiteral("InvalidPolicyName");
    const CodePoints points(name);
    if (points.length() == 0)
        return fail(ErrorKind::InvalidInput, code, Text::tr("The shared access policy name is empty."));
    if (points.length() > maxPolicyNameLength)
        return fail(ErrorKind::InvalidInput, code,
            Text::tr("The shared access policy name is %1 characters long; at most %2 are allowed.")
                .arg(number(points.length()), number(maxPolicyNameLength)));
    if (const auto bad = points.firstNotMatching(isPolicyNameCharacter))
        return fail(ErrorKind::InvalidInput, code,
            Text::tr("The shared access policy name contains %1 at position %2. Only ASCII letters, "
                     "digits and _ - @ . are allowed.")
                .arg(describe(bad->character), number(bad->position)));
    return {};
}

Result<void> validateHostName(const QString &hostName)
{
    const QString code = QStringLiteral("InvalidHostName");
    const CodePoints points(hostName);
    if (points.length() == 0)
        return fail(ErrorKind::InvalidInput, code, Text::tr("The host name is empty."));
    if (points.length() > maxHostNameLength)
        return fail(ErrorKind::InvalidInput, code,
            Text::tr("The host name is %1 characters long; at most %2 are allowed.")
                .arg(number(points.length()), number(maxHostNameLength)));
    if (const auto bad = points.firstNotMatching(isHostNameCharacter))
        return fail(ErrorKind::InvalidInput, code,
            Text::tr("The host name contains %1 at position %2. Only ASCII letters, digits and _ - . "
                     "are allowed.")
                .arg(describe(bad->character), number(bad->position)));
    // Only ASCII from here on, so the QString itself can be inspected.
    // The value is not echoed: whatever was pasted here may be a secret put in the wrong place.
    if (!hostName.contains(u'.'))
        return fail(ErrorKind::InvalidInput, code,
            Text::tr("The host name has no dot. It must be the hub's full name, for example "
                     "myhub.azure-devices.net."));
    if (hostName.startsWith(u'.') || hostName.endsWith(u'.') || hostName.contains(QStringLiteral("..")))
        return fail(ErrorKind::InvalidInput, code,
            Text::tr("The host name has an empty part: it must not start or end with a dot, nor contain "
                     "two dots in a row."));
    return {};
}

Result<void> validateHubProfileName(const QString &name)
{
    const QString code = QStringLiteral("InvalidHubProfileName");
    const CodePoints points(name);
    if (points.length() == 0)
        return fail(ErrorKind::InvalidInput, code, Text::tr("The hub name is empty."));
    if (points.length() > maxHubProfileNameLength)
        return fail(ErrorKind::InvalidInput, code,
            Text::tr("The hub name is %1 characters long; at most %2 are allowed.")
                .arg(number(points.length()), number(maxHubProfileNameLength)));
    if (const auto bad = points.firstNotMatching(isHubProfileNameCharacter))
        return fail(ErrorKind::InvalidInput, code,
            Text::tr("The hub name contains %1 at position %2. Only ASCII letters, digits and . _ - are "
                     "allowed.")
                .arg(describe(bad->character), number(bad->position)));
    if (!isAsciiLetterOrDigit(char32_t(points.points.constFirst())))
        return fail(ErrorKind::InvalidInput, code,
            Text::tr("The hub name starts with %1; it must start with an ASCII letter or digit.")
                .arg(describe(char32_t(points.points.constFirst()))));
    return {};
}

} // namespace Onboarder::Identifiers
