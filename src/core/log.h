// Logging to stderr (stdout is for results). A thin front so that only log.cpp pays for
// spdlog's headers; callers format their message with std::format-free string building.
#pragma once

#include <string>

namespace effdl {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };

void setLogLevel(LogLevel level);
LogLevel logLevel();
void logDebug(const std::string& message);
void logInfo(const std::string& message);
void logWarn(const std::string& message);
void logError(const std::string& message);

}  // namespace effdl
