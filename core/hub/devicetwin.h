#pragma once

#include "common/result.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonObject>
#include <QString>

namespace Onboarder {

// A device twin as IoT Hub returns it (GET or PUT/PATCH /twins/{id}, docs/iothub-protocols.md §5), read once here
// so that front ends never handle its JSON field names: the tags, the desired and reported properties without the
// hub's bookkeeping ($metadata, $version), their versions, the ETag for a conditional update, and the whole
// document as it came (to show it or print it).
struct DeviceTwin
{
    Q_DECLARE_TR_FUNCTIONS(DeviceTwin)

public:
    QString deviceId;
    QString etag;
    qint64 version = 0;
    QJsonObject tags;
    QJsonObject desired;
    QJsonObject reported;
    qint64 desiredVersion = 0;
    qint64 reportedVersion = 0;
    QDateTime reportedUpdated; // invalid: the device never reported
    QJsonObject document;

    bool isNull() const { return document.isEmpty(); }
    static DeviceTwin fromJson(const QJsonObject &json);

    // What a person edits: {"tags": {…}, "desired": {…}}.
    QJsonObject editable() const;

    // A change to a twin: its tags and desired properties, as a whole (replace) or merged (patch: null removes).
    struct Change
    {
        QJsonObject tags;
        QJsonObject desired;
        bool hasTags = false;
        bool hasDesired = false;

        static Change tagsOnly(const QJsonObject &tags) { return {tags, {}, true, false}; }
        // The body of the request: {"tags": …, "properties": {"desired": …}}.
        QJsonObject toJson() const;
    };
    // Reads what a person edited (editable()'s shape); InvalidInput, with the reason, for anything else.
    static Result<Change> parseEditable(const QJsonObject &edited);
};

} // namespace Onboarder
