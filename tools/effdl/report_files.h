// Writing the optimize report to files (--report x.json / x.md / x.html) and describing the
// machine the measurements came from.
#pragma once

#include <string>

#include "optimize_job.h"
#include "report/optimize_report.h"

namespace effdl::cli {

// The format follows the extension (.json, .md, .html); written atomically.
void writeReportFile(const report::OptimizeReport& r, const std::string& path);

report::Environment currentEnvironment(const OptimizeJob& job, const report::Measurements& measured);

}  // namespace effdl::cli
