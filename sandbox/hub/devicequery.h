#pragma once

#include "common/result.h"

#include <QList>
#include <QString>
#include <QVariantList>

#include <utility>

namespace Onboarder::Sandbox {

// A device query of IoT Hub's query language (the subset the sandbox hub serves at
// POST /devices/query), translated to SQLite over the `devices` table of the sandbox registry.
//
// Literals never reach the SQL text: each becomes a '?' placeholder bound from `parameters`.
// Conditions follow IoT Hub's typing: a value is only compared with a value of the same JSON type
// (a string with a string, a number with a number, a boolean with a boolean); any other comparison
// is undefined, which SQL expresses as NULL, so it neither matches nor matches when negated with NOT.
//
// Errors are ErrorKind::InvalidInput with the code "IotHubQuerySyntaxError", "UnknownProperty" or
// "UnsupportedQuery" and a sentence naming the 1-based character position in the query.
struct DeviceQuery
{
    enum class Kind { Select, Count };

    Kind kind = Kind::Select;
    bool selectAll = true; // SELECT *
    // When !selectAll: (twin path without a "devices." prefix, e.g. "deviceId" or "tags.site";
    // output name: the alias or else the last path segment).
    QList<std::pair<QString, QString>> projection;
    QString whereSql; // SQLite boolean expression over the devices columns; empty = no WHERE
    QVariantList parameters; // bound to the '?' of whereSql, in order
    bool orderByDeviceId = false; // ORDER BY deviceId [ASC]
    QString countAlias; // SELECT COUNT() [AS name]; "numberOfDevices" by default

    static Result<DeviceQuery> parse(const QString &query);

    // The SQL value expression for a twin path, for projections: "id" for deviceId,
    // "json_extract(tags, '$.site')" for tags.site, "tags" for the whole tags object (JSON text);
    // "properties" is a JSON object built from the desired and reported columns.
    static Result<QString> columnFor(const QString &path);
};

} // namespace Onboarder::Sandbox
