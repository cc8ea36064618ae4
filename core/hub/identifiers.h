#pragma once

#include "common/result.h"

#include <QString>

namespace Onboarder::Identifiers {

// Device and module ids: 1–128 characters, ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ '
Result<void> validateDeviceId(const QString &id);
Result<void> validateModuleId(const QString &id);
// Job ids: as device ids, without the apostrophe.
Result<void> validateJobId(const QString &id);

// An X.509 thumbprint as the registry takes one: 40 (SHA-1) or 64 (SHA-256) hex digits, either case.
bool isThumbprint(const QString &thumbprint);

// Shared access policy names: letters, digits, _ - @ . ; at most 256 characters.
Result<void> validatePolicyName(const QString &name);

// A hub's HostName: letters, digits, _ - . and at least one dot (name + suffix).
Result<void> validateHostName(const QString &hostName);

// The local name a user gives a hub profile: 1–64 characters, letters, digits, . _ - ; starts with a letter or digit.
Result<void> validateHubProfileName(const QString &name);

} // namespace Onboarder::Identifiers
