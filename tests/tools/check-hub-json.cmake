# cmake -P tests/tools/check-hub-json.cmake — fails, naming file and line, when a source under ui/ or app/ holds an
# IoT Hub or DPS JSON field name in quotes. The front ends never read or write the services' JSON: core does
# (DeviceIdentity, DeviceTwin, DeviceSummary and DeviceQueryRow, QueryPager, DeviceStatistics, MethodResult,
# CloudToDevicePurge, C2dFeedback, DpsEnrollment, DpsAssignment, HubJob, DeviceJobRecord, HubConfiguration), so a change of the wire is one change in core.
#
# Forbidden are the names that belong to the services' JSON alone. Generic words the CLI's own output uses as well
# ("deviceId", "status", "type", "payload", …) are not, but where the CLI prints a hub or DPS record, a core
# serializer makes it. A line may hold a forbidden name that is not a JSON field (a CLI option named like one) when
# it says why, for that name: `// hub-json: allow NAME (reason)`.
#
# ROOT (default: the tree this script is in) holds ui/ and app/.
cmake_minimum_required(VERSION 3.25)

if(NOT ROOT)
    get_filename_component(ROOT "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
endif()

set(fields
    # device twins
    "$metadata" "$version" "$lastUpdated" "$lastUpdatedVersion" properties desired reported tags etag deviceEtag
    modelId deviceScope parentScopes
    # device identities, query rows
    authentication authenticationType symmetricKey primaryKey secondaryKey x509Thumbprint primaryThumbprint
    secondaryThumbprint connectionState connectionStateUpdatedTime lastActivityTime statusReason statusUpdatedTime
    statusUpdateTime generationId deviceGenerationId cloudToDeviceMessageCount capabilities iotEdge
    # queries, statistics, cloud-to-device, direct methods
    numberOfDevices continuationToken totalDeviceCount enabledDeviceCount disabledDeviceCount totalMessagesPurged
    originalMessageId enqueuedTimeUtc methodName responseTimeoutInSeconds connectTimeoutInSeconds
    # DPS enrollments, groups, registration states
    attestation initialTwin registrationState registrationId enrollmentGroupId assignedHub substatus
    provisioningStatus signingCertificates clientCertificates sha1Thumbprint sha256Thumbprint allocationPolicy
    iotHubs iotHubHostName reprovisionPolicy createdDateTimeUtc lastUpdatedDateTimeUtc operationId
    # jobs and their device records
    jobId jobType queryCondition updateTwin cloudToDeviceMethod maxExecutionTimeInSeconds deviceJobStatistics
    succeededCount failedCount runningCount pendingCount failureReason deviceMethodResponse startTimeUtc endTimeUtc
    # configurations
    targetCondition targetedCount appliedCount systemMetrics deviceContent modulesContent moduleContent schemaVersion
    createdTimeUtc lastUpdatedTimeUtc)

set(alternatives "")
foreach(field IN LISTS fields)
    string(REPLACE "$" "\\$" escaped "${field}")
    list(APPEND alternatives "${escaped}")
endforeach()
list(JOIN alternatives "|" alternatives)
set(quoted "\"(${alternatives})\"")

set(sources "")
foreach(folder ui app)
    file(GLOB_RECURSE found "${ROOT}/${folder}/*.cpp" "${ROOT}/${folder}/*.h")
    list(APPEND sources ${found})
endforeach()
list(LENGTH sources count)
if(count EQUAL 0)
    message(FATAL_ERROR "no sources under ${ROOT}/ui or ${ROOT}/app: the check proves nothing")
endif()
list(SORT sources)

set(findings 0)
foreach(source IN LISTS sources)
    file(READ "${source}" content)
    if(NOT content MATCHES "${quoted}")
        continue()
    endif()
    # One list element a line: what CMake's lists treat specially is set aside first.
    string(REPLACE "\\" "<backslash>" content "${content}")
    string(REPLACE ";" "<semicolon>" content "${content}")
    string(REPLACE "[" "<bracket>" content "${content}")
    string(REPLACE "]" "<closing-bracket>" content "${content}")
    string(REPLACE "\n" ";" lines "${content}")
    file(RELATIVE_PATH shown "${ROOT}" "${source}")
    set(number 0)
    foreach(line IN LISTS lines)
        math(EXPR number "${number} + 1")
        string(REGEX MATCHALL "${quoted}" names "${line}")
        foreach(name IN LISTS names)
            string(REPLACE "\"" "" bare "${name}")
            string(FIND "${line} " "hub-json: allow ${bare} " allowed)
            if(allowed GREATER_EQUAL 0)
                continue()
            endif()
            string(REPLACE "<backslash>" "\\" text "${line}")
            string(REPLACE "<semicolon>" ";" text "${text}")
            string(REPLACE "<bracket>" "[" text "${text}")
            string(REPLACE "<closing-bracket>" "]" text "${text}")
            string(STRIP "${text}" text)
            message("${shown}:${number}: ${name}: ${text}")
            math(EXPR findings "${findings} + 1")
        endforeach()
    endforeach()
endforeach()

if(findings GREATER 0)
    message(FATAL_ERROR "${findings} IoT Hub or DPS JSON field name(s) under ui/ or app/: read and write them in core "
                        "(core/hub, core/dps), or say on the line why it is no field: // hub-json: allow NAME (reason)")
endif()
message("ok: no IoT Hub or DPS JSON field name in ${count} sources under ui/ and app/")
