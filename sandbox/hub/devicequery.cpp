#include "devicequery.h"

#include <QCoreApplication>
#include <QStringList>
#include <QVariant>

#include <algorithm>
#include <cmath>
#include <optional>

using namespace Qt::StringLiterals;

namespace Onboarder::Sandbox {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(Onboarder::Sandbox::DeviceQuery)
};

constexpr int maxNestingDepth = 32; // parentheses and NOT; keeps the recursion (and SQLite's) shallow

std::unexpected<Error> syntaxFailure(const QString &message)
{
    return fail(ErrorKind::InvalidInput, u"IotHubQuerySyntaxError"_s, message);
}

std::unexpected<Error> unsupportedFailure(const QString &message)
{
    return fail(ErrorKind::InvalidInput, u"UnsupportedQuery"_s, message);
}

// ---- Tokens ----

enum class TokenKind { Word, Text, Number, Symbol, End };

struct Token
{
    TokenKind kind = TokenKind::End;
    QString text; // as written in the query
    QVariant value; // Text: the string without quotes; Number: qlonglong or double
    qsizetype index = 0; // UTF-16 offset in the query
};

bool isDigit(char16_t c)
{
    return c >= u'0' && c <= u'9';
}

bool isNameStart(char16_t c)
{
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || c == u'_' || c == u'$';
}

bool isNameCharacter(char16_t c)
{
    return isNameStart(c) || isDigit(c) || c == u'-';
}

// Query text quoted in a message, cut when long.
QString shortened(const QString &text)
{
    constexpr qsizetype maxShown = 30;
    return text.size() > maxShown ? text.left(maxShown - 3) + u"..."_s : text;
}

// Names that cannot start a property path.
bool isReservedWord(const QString &word)
{
    static constexpr QLatin1StringView reserved[]
        = {"SELECT"_L1, "FROM"_L1, "WHERE"_L1, "AND"_L1, "OR"_L1, "NOT"_L1, "AS"_L1, "ORDER"_L1, "BY"_L1, "ASC"_L1,
            "DESC"_L1, "GROUP"_L1, "TOP"_L1, "JOIN"_L1, "IN"_L1, "NIN"_L1, "TRUE"_L1, "FALSE"_L1, "NULL"_L1};
    for (QLatin1StringView r : reserved) {
        if (word.compare(r, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

// ---- Paths and their SQL ----

enum class ValueType {
    Text, // an identity column holding a string
    Number, // an identity column holding an integer
    Json, // a value inside tags/desired/reported: any JSON type
    Object, // a whole JSON object (tags, properties, properties.desired/reported)
};

struct Target
{
    QString sql; // the value expression
    QString column; // Json: tags, desired or reported
    QString jsonPath; // Json: "$.a.b", placed inside single quotes
    ValueType type = ValueType::Text;
};

struct IdentityColumn
{
    QLatin1StringView name;
    QLatin1StringView column;
    ValueType type = ValueType::Text;
};

constexpr IdentityColumn identityColumns[] = {
    {"deviceId"_L1, "id"_L1, ValueType::Text},
    {"status"_L1, "status"_L1, ValueType::Text},
    {"connectionState"_L1, "connection_state"_L1, ValueType::Text},
    {"authenticationType"_L1, "auth_type"_L1, ValueType::Text},
    {"lastActivityTime"_L1, "last_activity"_L1, ValueType::Text},
    {"statusUpdateTime"_L1, "status_updated"_L1, ValueType::Text},
    {"cloudToDeviceMessageCount"_L1, "c2d_count"_L1, ValueType::Number},
    {"etag"_L1, "etag"_L1, ValueType::Text},
    {"version"_L1, "twin_version"_L1, ValueType::Number},
};

bool isPlainJsonLabel(const QString &name)
{
    for (QChar c : name) {
        const char16_t u = c.unicode();
        if (!(isNameStart(u) || isDigit(u)) || u == u'$')
            return false;
    }
    return true;
}

// A JSON path for SQLite. The grammar allows only [A-Za-z0-9_$-] in a name, so a name can neither
// end the SQL string nor the quoted label; names with '-' or '$' are quoted all the same.
Target jsonTarget(const QString &column, const QStringList &names)
{
    QString path = u"$"_s;
    for (const QString &name : names) {
        if (isPlainJsonLabel(name))
            path += u'.' + name;
        else
            path += u".\""_s + name + u'"';
    }
    return Target{u"json_extract(%1, '%2')"_s.arg(column, path), column, path, ValueType::Json};
}

Target objectTarget(const QString &sql)
{
    return Target{sql, {}, {}, ValueType::Object};
}

// Resolves a path (without "devices.") to its SQL; nullopt for an unknown property.
std::optional<Target> targetFor(const QStringList &names)
{
    const QString &first = names.first();
    if (names.size() == 1) {
        for (const IdentityColumn &identity : identityColumns) {
            if (first == identity.name)
                return Target{QString(identity.column), {}, {}, identity.type};
        }
        if (first == u"tags")
            return objectTarget(u"tags"_s);
        if (first == u"properties")
            return objectTarget(u"json_object('desired', json(desired), 'reported', json(reported))"_s);
        return std::nullopt;
    }
    if (first == u"tags")
        return jsonTarget(u"tags"_s, names.mid(1));
    if (first == u"properties" && (names.at(1) == u"desired" || names.at(1) == u"reported")) {
        if (names.size() == 2)
            return objectTarget(names.at(1));
        return jsonTarget(names.at(1), names.mid(2));
    }
    return std::nullopt;
}

// The path with the known leading names in their proper case, for a "did you mean" hint.
QStringList withKnownCase(QStringList names)
{
    QString &first = names.first();
    if (names.size() == 1) {
        for (const IdentityColumn &identity : identityColumns) {
            if (first.compare(identity.name, Qt::CaseInsensitive) == 0)
                first = QString(identity.name);
        }
    }
    if (first.compare("tags"_L1, Qt::CaseInsensitive) == 0)
        first = u"tags"_s;
    if (first.compare("properties"_L1, Qt::CaseInsensitive) == 0) {
        first = u"properties"_s;
        if (names.size() > 1) {
            QString &part = names[1];
            if (part.compare("desired"_L1, Qt::CaseInsensitive) == 0)
                part = u"desired"_s;
            if (part.compare("reported"_L1, Qt::CaseInsensitive) == 0)
                part = u"reported"_s;
        }
    }
    return names;
}

// ---- Literals and SQL fragments ----

enum class LiteralType { Text, Number, Boolean, Null };

struct Literal
{
    LiteralType type = LiteralType::Null;
    QVariant value;
};

enum class Precedence { Or, And, Atom };

struct Fragment
{
    QString sql;
    QVariantList parameters;
    Precedence precedence = Precedence::Atom;
};

// An undefined comparison (values of different types): matches neither plain nor under NOT.
Fragment undefinedFragment()
{
    return Fragment{u"NULL"_s, {}, Precedence::Atom};
}

// The SQL for the value of `target` when it holds a value of `type`, else NULL; nullopt when it
// never can (an identity column of another type).
std::optional<QString> valueOfType(const Target &target, LiteralType type)
{
    switch (target.type) {
    case ValueType::Text: return type == LiteralType::Text ? std::optional(target.sql) : std::nullopt;
    case ValueType::Number: return type == LiteralType::Number ? std::optional(target.sql) : std::nullopt;
    case ValueType::Json: {
        // json_extract alone would let '25' > 20 hold (SQLite orders text above numbers) and
        // true = 1 hold (JSON true comes back as 1); the json_type test keeps the types apart.
        QString typeTest;
        switch (type) {
        case LiteralType::Text: typeTest = u"= 'text'"_s; break;
        case LiteralType::Number: typeTest = u"IN ('integer', 'real')"_s; break;
        case LiteralType::Boolean: typeTest = u"IN ('true', 'false')"_s; break;
        case LiteralType::Null: return std::nullopt;
        }
        return u"CASE WHEN json_type(%1, '%2') %3 THEN json_extract(%1, '%2') END"_s.arg(
            target.column, target.jsonPath, typeTest);
    }
    case ValueType::Object: break;
    }
    return std::nullopt;
}

Fragment comparison(const Target &target, const QString &op, const Literal &literal)
{
    if (literal.type == LiteralType::Null) {
        if (op == u"=")
            return Fragment{target.sql + u" IS NULL"_s, {}, Precedence::Atom};
        if (op == u"!=")
            return Fragment{target.sql + u" IS NOT NULL"_s, {}, Precedence::Atom};
        return undefinedFragment(); // null has no order
    }
    const std::optional<QString> value = valueOfType(target, literal.type);
    if (!value)
        return undefinedFragment();
    return Fragment{*value + u' ' + op + u" ?"_s, {literal.value}, Precedence::Atom};
}

// Exact and case-sensitive, unlike LIKE; the text is bound twice.
Fragment startsWith(const Target &target, const QString &prefix)
{
    const std::optional<QString> value = valueOfType(target, LiteralType::Text);
    if (!value)
        return undefinedFragment();
    return Fragment{u"substr(%1, 1, length(?)) = ?"_s.arg(*value), {prefix, prefix}, Precedence::Atom};
}

// A suffix longer than the value yields a shorter substring, which cannot equal it.
Fragment endsWith(const Target &target, const QString &suffix)
{
    const std::optional<QString> value = valueOfType(target, LiteralType::Text);
    if (!value)
        return undefinedFragment();
    return Fragment{u"substr(%1, length(%1) - length(?) + 1) = ?"_s.arg(*value), {suffix, suffix}, Precedence::Atom};
}

Fragment isDefined(const Target &target)
{
    if (target.type == ValueType::Json) {
        const QString sql = u"json_type(%1, '%2') IS NOT NULL"_s.arg(target.column, target.jsonPath);
        return Fragment{sql, {}, Precedence::Atom};
    }
    return Fragment{target.sql + u" IS NOT NULL"_s, {}, Precedence::Atom};
}

QString wrapped(const Fragment &fragment, Precedence context)
{
    return fragment.precedence < context ? u'(' + fragment.sql + u')' : fragment.sql;
}

Fragment combined(const Fragment &left, const Fragment &right, Precedence precedence)
{
    const QString keyword = precedence == Precedence::And ? u" AND "_s : u" OR "_s;
    return Fragment{wrapped(left, precedence) + keyword + wrapped(right, precedence),
        left.parameters + right.parameters, precedence};
}

// ---- Parser ----

struct PathRef
{
    QStringList names; // without a leading "devices"
    Token start;

    QString text() const { return names.join(u'.'); }
};

struct Operand
{
    Token start;
    std::optional<Literal> literal; // else a path
    PathRef path;

    // For messages: a path in quotes, a value as written (a text keeps its own quotes), cut when long.
    QString shown() const { return literal ? shortened(start.text) : u'\'' + path.text() + u'\''; }
};

class Parser
{
public:
    explicit Parser(const QString &text)
        : m_text(text)
    { }

    Result<DeviceQuery> parseQuery();
    Result<QString> parseColumn();

private:
    Result<void> tokenize();

    const Token &current() const { return peek(0); }
    const Token &peek(qsizetype ahead) const { return m_tokens.at(qMin(m_pos + ahead, m_tokens.size() - 1)); }
    void advance();
    bool atKeyword(QLatin1StringView keyword, qsizetype ahead = 0) const;
    bool atSymbol(QStringView symbol, qsizetype ahead = 0) const;

    QString position(const Token &token) const;
    QString describe(const Token &token) const;
    std::unexpected<Error> expected(const Token &found, const QString &what) const;

    Result<void> parseSelectList(DeviceQuery &query);
    Result<QString> parseAlias();
    Result<PathRef> parsePath(const QString &what);
    Result<Target> resolve(const PathRef &path) const;
    Result<Target> resolveCondition(const PathRef &path) const;
    Result<Fragment> parseOr(int depth);
    Result<Fragment> parseAnd(int depth);
    Result<Fragment> parseUnary(int depth);
    Result<Fragment> parseFunction();
    Result<Fragment> parseComparison();
    Result<Operand> parseOperand(const QString &what);

    QString m_text;
    QList<Token> m_tokens;
    qsizetype m_pos = 0;
};

Result<void> Parser::tokenize()
{
    const qsizetype n = m_text.size();
    const auto at = [this, n](qsizetype i) { return i < n ? m_text.at(i).unicode() : u'\0'; };
    qsizetype i = 0;
    while (true) {
        while (i < n && m_text.at(i).isSpace())
            ++i;
        if (i >= n)
            break;
        Token token;
        token.index = i;
        const char16_t c = at(i);
        if (isNameStart(c)) {
            token.kind = TokenKind::Word;
            while (i < n && isNameCharacter(at(i)))
                ++i;
        } else if (isDigit(c) || (c == u'-' && isDigit(at(i + 1)))) {
            token.kind = TokenKind::Number;
            const auto digits = [&] {
                const qsizetype from = i;
                while (isDigit(at(i)))
                    ++i;
                return i > from;
            };
            ++i; // the sign or the first digit
            digits();
            bool isReal = false;
            if (at(i) == u'.' && isDigit(at(i + 1))) {
                ++i;
                digits();
                isReal = true;
            }
            if (at(i) == u'e' || at(i) == u'E') {
                const qsizetype mark = i++;
                if (at(i) == u'+' || at(i) == u'-')
                    ++i;
                if (digits())
                    isReal = true;
                else
                    i = mark; // "1e": caught below
            }
            bool ok = false;
            if (!isReal)
                token.value = m_text.mid(token.index, i - token.index).toLongLong(&ok);
            if (!ok) { // a real, or an integer beyond 64 bits
                const double real = m_text.mid(token.index, i - token.index).toDouble(&ok);
                ok = ok && std::isfinite(real);
                token.value = real;
            }
            if (!ok || isNameCharacter(at(i))) {
                while (isNameCharacter(at(i)))
                    ++i;
                return syntaxFailure(Text::tr("Syntax error at position %1: '%2' is not a valid number.")
                                         .arg(position(token), m_text.mid(token.index, i - token.index)));
            }
        } else if (c == u'\'' || c == u'"') {
            token.kind = TokenKind::Text;
            QString value = u""_s; // empty, not null: a null QString would bind as SQL NULL
            bool closed = false;
            ++i;
            while (i < n) {
                if (at(i) == c) {
                    if (at(i + 1) == c) { // a doubled quote stands for one
                        value += QChar(c);
                        i += 2;
                        continue;
                    }
                    ++i;
                    closed = true;
                    break;
                }
                value += m_text.at(i++);
            }
            if (!closed) {
                return syntaxFailure(
                    Text::tr("Syntax error at position %1: the text that starts with %2 here is not closed; end it "
                             "with another %2.")
                        .arg(position(token), QString(QChar(c))));
            }
            token.value = value;
        } else {
            token.kind = TokenKind::Symbol;
            static constexpr QStringView pairs[] = {u"!=", u"<>", u"<=", u">="};
            const QStringView rest = QStringView(m_text).mid(i);
            qsizetype length = QChar::isHighSurrogate(c) && QChar::isLowSurrogate(at(i + 1)) ? 2 : 1;
            for (QStringView pair : pairs) {
                if (rest.startsWith(pair))
                    length = 2;
            }
            i += length;
        }
        token.text = m_text.mid(token.index, i - token.index);
        m_tokens.append(token);
    }
    Token end;
    end.index = n;
    m_tokens.append(end);
    return {};
}

void Parser::advance()
{
    if (m_pos < m_tokens.size() - 1)
        ++m_pos;
}

bool Parser::atKeyword(QLatin1StringView keyword, qsizetype ahead) const
{
    const Token &token = peek(ahead);
    return token.kind == TokenKind::Word && token.text.compare(keyword, Qt::CaseInsensitive) == 0;
}

bool Parser::atSymbol(QStringView symbol, qsizetype ahead) const
{
    const Token &token = peek(ahead);
    return token.kind == TokenKind::Symbol && token.text == symbol;
}

// 1-based, in characters (code points) as a person counts them.
QString Parser::position(const Token &token) const
{
    qsizetype characters = 0;
    for (qsizetype i = 0; i < token.index; ++i) {
        if (!m_text.at(i).isLowSurrogate())
            ++characters;
    }
    return QString::number(characters + 1);
}

QString Parser::describe(const Token &token) const
{
    if (token.kind == TokenKind::End)
        return Text::tr("end of query");
    if (token.kind == TokenKind::Text)
        return Text::tr("the text %1").arg(shortened(token.text));
    return Text::tr("'%1'").arg(shortened(token.text));
}

std::unexpected<Error> Parser::expected(const Token &found, const QString &what) const
{
    return syntaxFailure(
        Text::tr("Syntax error at position %1: expected %2 but found %3.").arg(position(found), what, describe(found)));
}

Result<DeviceQuery> Parser::parseQuery()
{
    if (const Result<void> lexed = tokenize(); !lexed)
        return std::unexpected(lexed.error());

    DeviceQuery query;
    query.countAlias = u"numberOfDevices"_s;
    if (!atKeyword("SELECT"_L1))
        return expected(current(), Text::tr("'SELECT'"));
    advance();
    if (atKeyword("TOP"_L1)) {
        return unsupportedFailure(Text::tr("Unsupported query at position %1: TOP is not supported by the sandbox "
                                           "hub; page with the x-ms-max-item-count header instead.")
                                      .arg(position(current())));
    }
    if (const Result<void> selected = parseSelectList(query); !selected)
        return std::unexpected(selected.error());

    if (!atKeyword("FROM"_L1)) {
        const bool listed = query.kind == DeviceQuery::Kind::Select && !query.selectAll;
        return expected(current(), listed ? Text::tr("',' or 'FROM'") : Text::tr("'FROM'"));
    }
    advance();
    if (!atKeyword("devices"_L1))
        return expected(current(), Text::tr("'devices'"));
    advance();
    if (atSymbol(u".") && peek(1).kind == TokenKind::Word) {
        return unsupportedFailure(Text::tr("Unsupported query at position %1: only FROM devices is supported by "
                                           "the sandbox hub, not FROM devices.%2.")
                                      .arg(position(peek(1)), peek(1).text));
    }
    if (atKeyword("JOIN"_L1)) {
        return unsupportedFailure(Text::tr("Unsupported query at position %1: JOIN is not supported by the sandbox "
                                           "hub.")
                                      .arg(position(current())));
    }

    QString next = Text::tr("'WHERE', 'ORDER BY' or end of query");
    if (atKeyword("WHERE"_L1)) {
        advance();
        const Result<Fragment> where = parseOr(0);
        if (!where)
            return std::unexpected(where.error());
        query.whereSql = where->sql;
        query.parameters = where->parameters;
        next = Text::tr("'AND', 'OR', 'ORDER BY' or end of query");
    }
    if (atKeyword("GROUP"_L1)) {
        return unsupportedFailure(Text::tr("Unsupported query at position %1: GROUP BY is not supported by the "
                                           "sandbox hub.")
                                      .arg(position(current())));
    }
    if (atKeyword("ORDER"_L1)) {
        advance();
        if (!atKeyword("BY"_L1))
            return expected(current(), Text::tr("'BY' after 'ORDER'"));
        advance();
        const Result<PathRef> path = parsePath(Text::tr("'deviceId' after 'ORDER BY'"));
        if (!path)
            return std::unexpected(path.error());
        const Result<Target> target = resolve(*path);
        if (!target)
            return std::unexpected(target.error());
        if (target->sql != u"id") {
            return unsupportedFailure(Text::tr("Unsupported query at position %1: the sandbox hub can only order by "
                                               "deviceId, not by '%2'.")
                                          .arg(position(path->start), path->text()));
        }
        if (atKeyword("DESC"_L1)) {
            return unsupportedFailure(Text::tr("Unsupported query at position %1: descending order is not supported "
                                               "by the sandbox hub; leave out DESC.")
                                          .arg(position(current())));
        }
        if (atKeyword("ASC"_L1))
            advance();
        query.orderByDeviceId = true;
        next = Text::tr("end of query");
    }
    if (current().kind != TokenKind::End)
        return expected(current(), next);
    return query;
}

Result<void> Parser::parseSelectList(DeviceQuery &query)
{
    if (atSymbol(u"*")) {
        advance();
        return {};
    }
    query.selectAll = false;
    const auto countWithOthers = [this](const Token &at) {
        return unsupportedFailure(Text::tr("Unsupported query at position %1: COUNT() together with other "
                                           "projections (which needs GROUP BY) is not supported by the sandbox hub.")
                                      .arg(position(at)));
    };
    while (true) {
        const Token start = current();
        if (atKeyword("COUNT"_L1) && atSymbol(u"(", 1)) {
            if (!query.projection.isEmpty())
                return countWithOthers(start);
            advance();
            advance();
            if (!atSymbol(u")"))
                return expected(current(), Text::tr("')' after 'COUNT('"));
            advance();
            if (atKeyword("AS"_L1)) {
                advance();
                const Result<QString> alias = parseAlias();
                if (!alias)
                    return std::unexpected(alias.error());
                query.countAlias = *alias;
            }
            if (atSymbol(u","))
                return countWithOthers(start);
            query.kind = DeviceQuery::Kind::Count;
            return {};
        }
        if (start.kind == TokenKind::Word && !isReservedWord(start.text) && atSymbol(u"(", 1)) {
            return unsupportedFailure(Text::tr("Unsupported query at position %1: functions such as %2() are not "
                                               "supported in the SELECT list by the sandbox hub.")
                                          .arg(position(start), start.text));
        }
        const Result<PathRef> path
            = parsePath(query.projection.isEmpty() ? Text::tr("'*', 'COUNT()' or a property name")
                                                   : Text::tr("a property name after ','"));
        if (!path)
            return std::unexpected(path.error());
        if (const Result<Target> target = resolve(*path); !target)
            return std::unexpected(target.error());
        QString name = path->names.last();
        if (atKeyword("AS"_L1)) {
            advance();
            const Result<QString> alias = parseAlias();
            if (!alias)
                return std::unexpected(alias.error());
            name = *alias;
        }
        for (const auto &[earlierPath, earlierName] : std::as_const(query.projection)) {
            if (earlierName == name) {
                return syntaxFailure(Text::tr("Syntax error at position %1: the name '%2' is already used by an "
                                              "earlier projection; give one of them another name with AS.")
                                         .arg(position(start), name));
            }
        }
        query.projection.append({path->text(), name});
        if (!atSymbol(u","))
            return {};
        advance();
    }
}

Result<QString> Parser::parseAlias()
{
    const Token &token = current();
    if (token.kind != TokenKind::Word || isReservedWord(token.text))
        return expected(token, Text::tr("a name after 'AS'"));
    advance();
    return token.text;
}

Result<PathRef> Parser::parsePath(const QString &what)
{
    const Token first = current();
    if (first.kind != TokenKind::Word || isReservedWord(first.text))
        return expected(first, what);
    PathRef path;
    path.start = first;
    path.names.append(first.text);
    advance();
    while (atSymbol(u".")) {
        advance();
        if (current().kind != TokenKind::Word)
            return expected(current(), Text::tr("a property name after '.'"));
        path.names.append(current().text);
        advance();
    }
    if (path.names.size() > 1 && path.names.first().compare("devices"_L1, Qt::CaseInsensitive) == 0)
        path.names.removeFirst();
    return path;
}

Result<Target> Parser::resolve(const PathRef &path) const
{
    if (const std::optional<Target> target = targetFor(path.names))
        return *target;
    const QStringList suggestion = withKnownCase(path.names);
    if (suggestion != path.names && targetFor(suggestion)) {
        return fail(ErrorKind::InvalidInput, u"UnknownProperty"_s,
            Text::tr("Unknown property '%1' at position %2: property names are case-sensitive; did you "
                     "mean '%3'?")
                .arg(path.text(), position(path.start), suggestion.join(u'.')));
    }
    return fail(ErrorKind::InvalidInput, u"UnknownProperty"_s,
        Text::tr("Unknown property '%1' at position %2: the sandbox hub knows deviceId, status, "
                 "connectionState, authenticationType, lastActivityTime, statusUpdateTime, "
                 "cloudToDeviceMessageCount, etag, version, tags.<name>, properties.desired.<name> and "
                 "properties.reported.<name>.")
            .arg(path.text(), position(path.start)));
}

Result<Target> Parser::resolveCondition(const PathRef &path) const
{
    const Result<Target> target = resolve(path);
    if (target && target->type == ValueType::Object) {
        return unsupportedFailure(Text::tr("Unsupported query at position %1: a condition on the whole '%2' object "
                                           "is not supported; name one of its properties, such as '%2.name'.")
                                      .arg(position(path.start), path.text()));
    }
    return target;
}

Result<Fragment> Parser::parseOr(int depth)
{
    Result<Fragment> left = parseAnd(depth);
    while (left && atKeyword("OR"_L1)) {
        advance();
        const Result<Fragment> right = parseAnd(depth);
        if (!right)
            return right;
        left = combined(*left, *right, Precedence::Or);
    }
    return left;
}

Result<Fragment> Parser::parseAnd(int depth)
{
    Result<Fragment> left = parseUnary(depth);
    while (left && atKeyword("AND"_L1)) {
        advance();
        const Result<Fragment> right = parseUnary(depth);
        if (!right)
            return right;
        left = combined(*left, *right, Precedence::And);
    }
    return left;
}

Result<Fragment> Parser::parseUnary(int depth)
{
    if (depth > maxNestingDepth) {
        return unsupportedFailure(Text::tr("Unsupported query at position %1: conditions nested more than %2 levels "
                                           "deep are not supported.")
                                      .arg(position(current()), QString::number(maxNestingDepth)));
    }
    if (atKeyword("NOT"_L1)) {
        advance();
        const Result<Fragment> operand = parseUnary(depth + 1);
        if (!operand)
            return operand;
        return Fragment{u"NOT ("_s + operand->sql + u')', operand->parameters, Precedence::Atom};
    }
    if (atSymbol(u"(")) {
        advance();
        const Result<Fragment> inner = parseOr(depth + 1);
        if (!inner)
            return inner;
        if (!atSymbol(u")"))
            return expected(current(), Text::tr("'AND', 'OR' or ')'"));
        advance();
        return inner;
    }
    if (current().kind == TokenKind::Word && !isReservedWord(current().text) && atSymbol(u"(", 1))
        return parseFunction();
    return parseComparison();
}

Result<Fragment> Parser::parseFunction()
{
    const Token name = current();
    const QString function = name.text.toUpper();
    const bool startsOrEnds = function == u"STARTSWITH" || function == u"ENDSWITH";
    if (!startsOrEnds && function != u"IS_DEFINED") {
        return unsupportedFailure(Text::tr("Unsupported query at position %1: the function %2() is not supported by "
                                           "the sandbox hub; use STARTSWITH, ENDSWITH or IS_DEFINED.")
                                      .arg(position(name), name.text));
    }
    advance();
    advance(); // '('
    const Result<PathRef> path = parsePath(Text::tr("a property name after '%1('").arg(name.text));
    if (!path)
        return std::unexpected(path.error());
    const Result<Target> target = resolveCondition(*path);
    if (!target)
        return std::unexpected(target.error());

    if (!startsOrEnds) {
        if (!atSymbol(u")"))
            return expected(current(), Text::tr("')' after the property"));
        advance();
        return isDefined(*target);
    }
    if (!atSymbol(u","))
        return expected(current(), Text::tr("',' after the property"));
    advance();
    if (current().kind != TokenKind::Text)
        return expected(current(), Text::tr("a text in quotes as the second argument of %1").arg(name.text));
    const QString text = current().value.toString();
    advance();
    if (!atSymbol(u")"))
        return expected(current(), Text::tr("')' after the second argument of %1").arg(name.text));
    advance();
    return function == u"STARTSWITH" ? startsWith(*target, text) : endsWith(*target, text);
}

Result<Operand> Parser::parseOperand(const QString &what)
{
    Operand operand;
    operand.start = current();
    const Token &token = current();
    switch (token.kind) {
    case TokenKind::Text:
        operand.literal = Literal{LiteralType::Text, token.value};
        advance();
        return operand;
    case TokenKind::Number:
        operand.literal = Literal{LiteralType::Number, token.value};
        advance();
        return operand;
    case TokenKind::Word:
        if (atKeyword("TRUE"_L1) || atKeyword("FALSE"_L1)) {
            operand.literal = Literal{LiteralType::Boolean, QVariant(qlonglong(atKeyword("TRUE"_L1) ? 1 : 0))};
            advance();
            return operand;
        }
        if (atKeyword("NULL"_L1)) {
            operand.literal = Literal{LiteralType::Null, {}};
            advance();
            return operand;
        }
        if (Result<PathRef> path = parsePath(what); path) {
            operand.path = std::move(*path);
            return operand;
        } else {
            return std::unexpected(path.error());
        }
    case TokenKind::Symbol:
    case TokenKind::End: break;
    }
    return expected(token, what);
}

Result<Fragment> Parser::parseComparison()
{
    const Result<Operand> left = parseOperand(Text::tr("a condition"));
    if (!left)
        return std::unexpected(left.error());

    const Token op = current();
    static constexpr QStringView operators[] = {u"=", u"!=", u"<>", u"<", u">", u"<=", u">="};
    const bool isOperator
        = op.kind == TokenKind::Symbol && std::ranges::find(operators, QStringView(op.text)) != std::end(operators);
    if (!isOperator) {
        if (atKeyword("IN"_L1) || atKeyword("NIN"_L1)) {
            return unsupportedFailure(Text::tr("Unsupported query at position %1: the %2 operator is not supported by "
                                               "the sandbox hub; combine comparisons with OR instead.")
                                          .arg(position(op), op.text.toUpper()));
        }
        static constexpr QStringView arithmetic[] = {u"+", u"-", u"*", u"/", u"%"};
        if (op.kind == TokenKind::Symbol
            && std::ranges::find(arithmetic, QStringView(op.text)) != std::end(arithmetic)) {
            return unsupportedFailure(Text::tr("Unsupported query at position %1: arithmetic ('%2') is not supported "
                                               "by the sandbox hub.")
                                          .arg(position(op), op.text));
        }
        return expected(op, Text::tr("a comparison operator such as '=' after %1").arg(left->shown()));
    }
    advance();
    const Result<Operand> right = parseOperand(Text::tr("a value after '%1'").arg(op.text));
    if (!right)
        return std::unexpected(right.error());

    if (left->literal && right->literal) {
        return syntaxFailure(Text::tr("Syntax error at position %1: a comparison needs a property on one side, but "
                                      "%2 and %3 are both values.")
                                 .arg(position(left->start), left->shown(), right->shown()));
    }
    if (!left->literal && !right->literal) {
        return unsupportedFailure(Text::tr("Unsupported query at position %1: comparing two properties (%2 and %3) is "
                                           "not supported by the sandbox hub; compare a property with a value.")
                                      .arg(position(left->start), left->shown(), right->shown()));
    }

    QString sqlOperator = op.text == u"<>" ? u"!="_s : op.text;
    const bool mirrored = bool(left->literal); // "5 < x" is "x > 5"
    if (mirrored) {
        if (sqlOperator == u"<")
            sqlOperator = u">"_s;
        else if (sqlOperator == u">")
            sqlOperator = u"<"_s;
        else if (sqlOperator == u"<=")
            sqlOperator = u">="_s;
        else if (sqlOperator == u">=")
            sqlOperator = u"<="_s;
    }
    const Operand &property = mirrored ? *right : *left;
    // NOLINTNEXTLINE(bugprone-unchecked-optional-access): one side is a literal (checked above)
    const Literal &literal = mirrored ? *left->literal : *right->literal;
    const Result<Target> target = resolveCondition(property.path);
    if (!target)
        return std::unexpected(target.error());
    return comparison(*target, sqlOperator, literal);
}

Result<QString> Parser::parseColumn()
{
    if (const Result<void> lexed = tokenize(); !lexed)
        return std::unexpected(lexed.error());
    const Result<PathRef> path = parsePath(Text::tr("a property name"));
    if (!path)
        return std::unexpected(path.error());
    if (current().kind != TokenKind::End)
        return expected(current(), Text::tr("'.' or the end of the property"));
    const Result<Target> target = resolve(*path);
    if (!target)
        return std::unexpected(target.error());
    return target->sql;
}

} // namespace

Result<DeviceQuery> DeviceQuery::parse(const QString &query)
{
    return Parser(query).parseQuery();
}

Result<QString> DeviceQuery::columnFor(const QString &path)
{
    return Parser(path).parseColumn();
}

} // namespace Onboarder::Sandbox
