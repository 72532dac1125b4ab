// spdlog sink on stderr, plain pattern (no timestamps: logs are compared in tests and CI).
#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace effdl {
namespace {

LogLevel gLevel = LogLevel::kWarn;

spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> l = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto lg = std::make_shared<spdlog::logger>("effdl", sink);
    lg->set_pattern("effdl: %l: %v");
    lg->set_level(spdlog::level::warn);
    return lg;
  }();
  return *l;
}

spdlog::level::level_enum toSpd(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

void setLogLevel(LogLevel level) {
  gLevel = level;
  logger().set_level(toSpd(level));
}
LogLevel logLevel() { return gLevel; }
void logDebug(const std::string& m) { logger().debug("{}", m); }
void logInfo(const std::string& m) { logger().info("{}", m); }
void logWarn(const std::string& m) { logger().warn("{}", m); }
void logError(const std::string& m) { logger().error("{}", m); }

}  // namespace effdl
