// The sandbox hub's parser of IoT Hub device queries (sandbox/hub/devicequery.h), which turns a query a client
// POSTs into SQLite. Promises: nothing crashes; a literal never reaches the SQL text (the '?' placeholders are as
// many as the bound parameters, and the only quotes are those around the JSON paths the grammar allows and
// json_type()'s type names); a
// projection names what it selects.
#include "devicequery.h"
#include "fuzzcheck.h"

#include <QRegularExpression>

#include <cstddef>
#include <cstdint>

using namespace Onboarder::Sandbox;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString text = QString::fromUtf8(reinterpret_cast<const char *>(data), qsizetype(size));
    const auto query = DeviceQuery::parse(text);
    if (!query) {
        FUZZ_CHECK(!query.error().message.isEmpty());
        return 0;
    }
    // The quoted text the translation writes itself: JSON paths of the names the grammar allows, and json_type()'s
    // type names.
    static const QRegularExpression jsonPath(
        QStringLiteral("'(\\$[A-Za-z0-9_$.\"-]*|integer|real|text|true|false|null|object|array)'"));
    QString sql = query->whereSql;
    FUZZ_CHECK(sql.count(u'?') == query->parameters.size());
    sql.remove(jsonPath);
    FUZZ_CHECK(!sql.contains(u'\'') && !sql.contains(u';'));
    if (query->kind == DeviceQuery::Kind::Select && !query->selectAll) {
        FUZZ_CHECK(!query->projection.isEmpty());
        for (const auto &[path, name] : query->projection) {
            FUZZ_CHECK(!path.isEmpty() && !name.isEmpty());
            const auto column = DeviceQuery::columnFor(path);
            if (column) {
                QString columnSql = *column;
                columnSql.remove(jsonPath);
                FUZZ_CHECK(!columnSql.contains(u'\'') && !columnSql.contains(u'?'));
            }
        }
    }
    return 0;
}
