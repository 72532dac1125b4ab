#include "optimize_batch.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli_common.h"
#include "core/error.h"
#include "core/progress.h"
#include "report/table.h"

namespace fs = std::filesystem;

namespace effdl::cli {
namespace {

struct Outcome {
  int exitCode = 70;
  std::string kind, message;  // for failures
  nlohmann::json report;      // null when the model failed before its report
};

// A private folder for the children's reports, removed at the end.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "effdl-batch-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throwIo("cannot create a temporary folder in " + fs::temp_directory_path().string());
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// In the child: optimize one model, write its report (or error) as JSON to `resultFile`, and exit
// with the command's code. Never returns.
[[noreturn]] void runChild(const OptimizeJob& job, const BatchItem& item, const fs::path& resultFile) {
  // The parent reports progress per model; children drawing their own lines would interleave.
  setProgressMode(ProgressMode::kOff);
  int code = 0;
  nlohmann::json result;
  try {
    report::OptimizeReport rep = optimizeModel(job, item.input, item.output);
    std::ostringstream os;
    report::renderOptimizeJson(rep, os);
    result["report"] = nlohmann::json::parse(os.str());
    std::string gates = failedGatesMessage(rep);
    if (!gates.empty()) {
      code = exitCode(ErrorKind::kGateFailed);
      result["error"] = {{"kind", kindName(ErrorKind::kGateFailed)}, {"message", gates}};
    }
  } catch (const Error& e) {
    code = exitCode(e.kind());
    result["error"] = {{"kind", kindName(e.kind())}, {"message", e.what()}};
  } catch (const std::bad_alloc&) {
    code = exitCode(ErrorKind::kInternal);
    result["error"] = {{"kind", "internal"}, {"message", "out of memory"}};
  } catch (const std::exception& e) {
    code = exitCode(ErrorKind::kInternal);
    result["error"] = {{"kind", "internal"}, {"message", std::string("internal error: ") + e.what()}};
  }
  {
    std::ofstream f(resultFile);
    f << result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::cout.flush();
  std::cerr.flush();
  _exit(code);
}

Outcome collect(int status, const fs::path& resultFile) {
  Outcome o;
  if (WIFSIGNALED(status)) {
    o.exitCode = exitCode(ErrorKind::kInternal);
    o.kind = "internal";
    o.message = std::string("crashed (signal ") + std::to_string(WTERMSIG(status)) + ", " + strsignal(WTERMSIG(status)) +
                ")";
    return o;
  }
  o.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 70;
  std::ifstream f(resultFile);
  nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    o.kind = "internal";
    o.message = "the model's process ended (exit code " + std::to_string(o.exitCode) + ") without a result";
    if (o.exitCode == 0) o.exitCode = exitCode(ErrorKind::kInternal);
    return o;
  }
  if (j.contains("report")) o.report = j["report"];
  if (j.contains("error")) {
    o.kind = j["error"]["kind"];
    o.message = j["error"]["message"];
  }
  return o;
}

std::string sizeRatio(const nlohmann::json& r) {
  if (r.is_null()) return "-";
  return report::formatRatio(r["after"]["file_bytes"].get<double>(), r["before"]["file_bytes"].get<double>());
}

std::string latencyRatio(const nlohmann::json& r) {
  if (r.is_null() || r["measured"]["latency_before"].is_null()) return "-";
  return report::formatRatio(r["measured"]["latency_after"]["p50_ms"].get<double>(),
                             r["measured"]["latency_before"]["p50_ms"].get<double>());
}

// Green when the model got smaller (faster), red when it grew: "file_bytes" or "latency" (p50).
report::Tone ratioTone(const nlohmann::json& r, const std::string& what) {
  if (r.is_null()) return report::Tone::kPlain;
  if (what == "file_bytes")
    return report::lowerIsBetter(r["after"]["file_bytes"].get<double>(), r["before"]["file_bytes"].get<double>());
  const auto& m = r["measured"];
  if (m["latency_before"].is_null() || m["latency_after"].is_null()) return report::Tone::kPlain;
  return report::lowerIsBetter(m["latency_after"]["p50_ms"].get<double>(), m["latency_before"]["p50_ms"].get<double>());
}

std::string agreementText(const nlohmann::json& r) {
  if (r.is_null() || r["measured"]["agreement"].is_null()) return "-";
  const auto& a = r["measured"]["agreement"];
  char b[64];
  if (!a["top1_agreement"].is_null())
    std::snprintf(b, sizeof b, "top-1 %.1f%%", a["top1_agreement"].get<double>() * 100);
  else
    std::snprintf(b, sizeof b, "cos %.4f", a["cosine"].get<double>());
  return b;
}

}  // namespace

std::vector<BatchItem> planBatch(const std::vector<std::string>& inputs, const fs::path& outDir, bool force) {
  std::vector<BatchItem> items;
  for (const std::string& in : inputs) {
    fs::path p = in;
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) throwUsage(in + ": no such file or folder");
    if (fs::is_directory(st)) {
      std::vector<fs::path> found;
      // An output folder inside the input folder is skipped, so a rerun does not take earlier
      // outputs for inputs.
      const fs::path outCanonical = fs::weakly_canonical(outDir, ec);
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if ((!name.empty() && name[0] == '.') ||
            (it->is_directory() && fs::weakly_canonical(it->path(), ec) == outCanonical)) {
          if (it->is_directory()) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file() && it->path().extension() == ".onnx") found.push_back(it->path());
      }
      if (ec) throwIo(in + ": cannot list the folder: " + ec.message());
      std::sort(found.begin(), found.end());
      if (found.empty()) throwUsage(in + ": no .onnx model in this folder");
      for (const auto& f : found) items.push_back({f, outDir / fs::relative(f, p)});
    } else {
      items.push_back({p, outDir / p.filename()});
    }
  }
  std::set<fs::path> outputs;
  for (const auto& it : items) {
    fs::path key = fs::weakly_canonical(it.output);
    if (!outputs.insert(key).second)
      throwUsage("two models would be written to " + it.output.string() +
                 " (give models with distinct names, or folders whose relative paths differ)");
    checkOutputPath(it.input, it.output, force, /*folderMayBeCreated=*/true);
  }
  return items;
}

size_t runBatch(const OptimizeJob& job, const std::vector<BatchItem>& items, int jobs, bool json, bool color,
                std::ostream& os) {
  ScratchDir scratch;
  for (const auto& it : items) {
    std::error_code ec;
    fs::create_directories(it.output.parent_path(), ec);
    if (ec) throwIo(it.output.parent_path().string() + ": cannot create the output folder: " + ec.message());
  }
  std::vector<Outcome> outcomes(items.size());
  std::map<pid_t, size_t> running;
  size_t next = 0, done = 0, failed = 0;
  const auto start = std::chrono::steady_clock::now();
  std::cout.flush();
  std::cerr.flush();
  auto resultFile = [&](size_t i) { return scratch.path() / (std::to_string(i) + ".json"); };
  Progress progress("batch", items.size());
  while (done < items.size()) {
    while (next < items.size() && static_cast<int>(running.size()) < std::max(1, jobs)) {
      pid_t pid = fork();
      if (pid < 0) throwIo(std::string("cannot start a process for ") + items[next].input.string());
      if (pid == 0) runChild(job, items[next], resultFile(next));
      running[pid] = next++;
    }
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throwInternal("waitpid failed");
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    size_t i = it->second;
    running.erase(it);
    outcomes[i] = collect(status, resultFile(i));
    ++done;
    const Outcome& o = outcomes[i];
    failed += o.exitCode != 0;
    // One line per model as it finishes, with an estimate of the time left.
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double eta = elapsed / static_cast<double>(done) * static_cast<double>(items.size() - done);
    char prefix[64];
    std::snprintf(prefix, sizeof prefix, "[%zu/%zu, ETA %.0f s] ", done, items.size(), eta);
    if (o.exitCode == 0)
      progress.note(prefix + std::string("ok      ") + items[i].input.string() + " -> " + items[i].output.string() +
                    " (size " + sizeRatio(o.report) + ")");
    else
      progress.note(prefix + std::string("FAILED  ") + items[i].input.string() + ": " + o.message);
    progress.update(done);
  }
  progress.finish();

  if (json) {
    nlohmann::json j;
    j["schema_version"] = 1;
    j["command"] = "optimize";
    j["ok"] = failed == 0;
    j["batch"] = {{"total", items.size()}, {"succeeded", items.size() - failed}, {"failed", failed}, {"jobs", jobs}};
    j["models"] = nlohmann::json::array();
    for (size_t i = 0; i < items.size(); ++i) {
      const Outcome& o = outcomes[i];
      nlohmann::json m;
      m["input"] = items[i].input.string();
      m["output"] = items[i].output.string();
      m["ok"] = o.exitCode == 0;
      m["exit_code"] = o.exitCode;
      m["error"] = o.exitCode == 0 ? nlohmann::json(nullptr)
                                   : nlohmann::json{{"kind", o.kind}, {"message", o.message}};
      m["report"] = o.report;
      j["models"].push_back(m);
    }
    os << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return failed;
  }
  report::Table t({"model", "status", "size", "latency", "agreement", "output / reason"},
                  {false, false, true, true, true, false});
  for (size_t i = 0; i < items.size(); ++i) {
    const Outcome& o = outcomes[i];
    std::string status = o.exitCode == 0 ? "ok" : "failed (" + o.kind + ")";
    const report::Tone p = report::Tone::kPlain;
    t.addRow({items[i].input.string(), status, sizeRatio(o.report), latencyRatio(o.report), agreementText(o.report),
              o.exitCode == 0 ? items[i].output.string() : o.message},
             {p, o.exitCode == 0 ? report::Tone::kGood : report::Tone::kBad, ratioTone(o.report, "file_bytes"),
              ratioTone(o.report, "latency"), p, o.exitCode == 0 ? p : report::Tone::kBad});
  }
  t.print(os, "", color);
  os << items.size() - failed << " of " << items.size() << " models optimized";
  if (failed) os << ", " << failed << " failed";
  os << "\n";
  return failed;
}

}  // namespace effdl::cli
