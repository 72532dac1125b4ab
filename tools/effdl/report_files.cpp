#include "report_files.h"

#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "runtime/cpu_int8.h"
#include "runtime/session.h"

namespace fs = std::filesystem;

namespace effdl::cli {

void writeReportFile(const report::OptimizeReport& r, const std::string& path) {
  std::ostringstream os;
  auto ext = fs::path(path).extension();
  if (ext == ".md") report::renderOptimizeMarkdown(r, os);
  else if (ext == ".html") report::renderOptimizeHtml(r, os);
  else report::renderOptimizeJson(r, os);
  AtomicFileWriter w(path);
  w.write(os.str());
  w.commit();
}

report::Environment currentEnvironment(const OptimizeJob& job, const report::Measurements& measured) {
  report::Environment e;
  e.effdlVersion = EFFDL_VERSION;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("model name", 0) == 0) {
      e.cpu = line.substr(line.find(':') + 2);
      break;
    }
  if (e.cpu.empty()) e.cpu = "unknown CPU";
  e.int8Support = runtime::int8Support().describe();
  e.threads = job.threads > 0 ? job.threads : runtime::availableCores();
  e.inputShapes = measured.inputShapes;
  return e;
}

}  // namespace effdl::cli
