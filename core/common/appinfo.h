#pragma once

#include <QString>

namespace Onboarder::AppInfo {

// Gives every executable (GUI, CLI, sandbox) the same identity, so they share settings and data:
// ~/.config/onboarder/ and ~/.local/share/onboarder/ on Linux.
void setUp(const QString &displayName);

QString version();
QString configDir(); // created on demand
QString dataDir(); // created on demand

// The service name under which secrets are filed in the OS keychain.
QString keychainService();

} // namespace Onboarder::AppInfo
