#pragma once

#include <QString>

namespace Onboarder {

// What the devices page asks the hub for: the filter box and the status choice turned into an IoT Hub
// query, so that filtering happens on the server and works on a hub of any size.
//
// The filter text is read the way people type it:
//   empty                     every device
//   plain text (sensor-0)     device ids that start with it: STARTSWITH(deviceId, 'sensor-0')
//   a condition (tags.site = 'b1', status = 'disabled', IS_DEFINED(tags.x))
//                             used as the WHERE condition as it is
//   a whole query (SELECT …)  used as it is; no count, no status choice
struct DeviceListQuery
{
    enum class Status { Any, Enabled, Disabled, Connected, Disconnected };

    QString select; // SELECT * FROM devices [WHERE …]
    QString count; // SELECT COUNT() AS numberOfDevices FROM devices [WHERE …]; empty when not known
    bool userQuery = false; // the text was a whole query

    static DeviceListQuery fromFilter(const QString &filterText, Status status = Status::Any);
    static QString quoted(const QString &text); // an IoT Hub query string literal
};

} // namespace Onboarder
