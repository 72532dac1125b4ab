// Pipeline parsing (CLI spec and JSON recipe) and execution with timing and --verify.
#include "passes/pipeline.h"

#include <algorithm>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/log.h"
#include "ir/onnx_export.h"
#include "ir/verify.h"

#ifdef _OPENMP
#include <omp.h>
#endif
#include "passes/registry.h"

namespace effdl::passes {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n");
  size_t e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Splits on `sep` outside {} and [].
std::vector<std::string> splitTopLevel(const std::string& s, char sep) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    if (c == sep && depth == 0) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

void validateValue(const PassInfo& info, const OptionSpec& spec, const std::string& value) {
  const std::string where = "pass '" + info.name + "' option '" + spec.name + "'";
  auto bad = [&](const std::string& want) { throwUsage(where + ": '" + value + "' is not " + want); };
  switch (spec.type) {
    case OptionType::kBool:
      if (value != "true" && value != "false") bad("true or false");
      break;
    case OptionType::kInt: {
      size_t pos = 0;
      try {
        (void)std::stoll(value, &pos);
      } catch (...) {
        pos = 0;
      }
      if (pos == 0 || pos != value.size()) bad("an integer");
      break;
    }
    case OptionType::kFloat: {
      size_t pos = 0;
      try {
        (void)std::stod(value, &pos);
      } catch (...) {
        pos = 0;
      }
      if (pos == 0 || pos != value.size()) bad("a number");
      break;
    }
    case OptionType::kEnum: {
      bool ok = false;
      std::string all;
      for (const auto& c : spec.choices) {
        ok = ok || c == value;
        all += (all.empty() ? "" : ", ") + c;
      }
      if (!ok) bad("one of: " + all);
      break;
    }
    case OptionType::kString:
    case OptionType::kStringList: break;
  }
}

}  // namespace

PipelineStep makeStep(const std::string& passName, const std::map<std::string, std::string>& options) {
  const PassInfo* info = findPass(passName);
  if (!info) {
    std::string all;
    for (const auto& p : passRegistry()) all += (all.empty() ? "" : ", ") + p.name;
    throwUsage("unknown pass '" + passName + "' (known: " + all + ")");
  }
  std::map<std::string, std::string> values;
  for (const auto& [k, v] : options) {
    const OptionSpec* spec = nullptr;
    for (const auto& s : info->options)
      if (s.name == k) spec = &s;
    if (!spec) {
      std::string all;
      for (const auto& s : info->options) all += (all.empty() ? "" : ", ") + s.name;
      throwUsage("pass '" + passName + "' has no option '" + k + "'" +
                 (all.empty() ? " (it takes none)" : " (options: " + all + ")"));
    }
    validateValue(*info, *spec, v);
    values[k] = v;
  }
  return PipelineStep{info, PassOptions(&info->options, std::move(values))};
}

Pipeline fixedOrderPipeline(const std::map<std::string, std::map<std::string, std::string>>& flagged) {
  std::vector<PipelineStep> steps;
  for (const auto& [name, options] : flagged) steps.push_back(makeStep(name, options));
  std::stable_sort(steps.begin(), steps.end(), [](const PipelineStep& a, const PipelineStep& b) {
    return a.info->fixedOrder < b.info->fixedOrder;
  });
  Pipeline p;
  p.steps.push_back(makeStep("cleanup", {}));
  p.steps.push_back(makeStep("fold-batchnorm", {}));
  for (auto& s : steps)
    if (s.info->fixedOrder < kStorageOrder) p.steps.push_back(s);
  p.steps.push_back(makeStep("cleanup", {}));
  for (auto& s : steps)
    if (s.info->fixedOrder >= kStorageOrder) p.steps.push_back(s);
  return p;
}

Pipeline parsePipelineSpec(const std::string& spec) {
  Pipeline p;
  for (const std::string& rawItem : splitTopLevel(spec, ',')) {
    std::string item = trim(rawItem);
    if (item.empty()) throwUsage("empty pass name in pipeline '" + spec + "'");
    std::map<std::string, std::string> opts;
    std::string name = item;
    size_t brace = item.find('{');
    if (brace != std::string::npos) {
      if (item.back() != '}') throwUsage("pipeline item '" + item + "': missing '}'");
      name = trim(item.substr(0, brace));
      std::string body = item.substr(brace + 1, item.size() - brace - 2);
      for (const std::string& kvRaw : splitTopLevel(body, ',')) {
        std::string kv = trim(kvRaw);
        if (kv.empty()) continue;
        size_t eq = kv.find('=');
        if (eq == std::string::npos) throwUsage("pipeline item '" + item + "': option '" + kv + "' needs =value");
        std::string value = trim(kv.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '[' && value.back() == ']') {
          // A list: [a,b] is stored as "a;b".
          std::string inner = value.substr(1, value.size() - 2);
          value.clear();
          for (const auto& e : splitTopLevel(inner, ',')) value += (value.empty() ? "" : ";") + trim(e);
        }
        opts[trim(kv.substr(0, eq))] = value;
      }
    }
    p.steps.push_back(makeStep(name, opts));
  }
  return p;
}

Pipeline parseRecipeJson(const std::string& text, const std::string& display) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throwUsage(display + ": not valid JSON: " + std::string(e.what()));
  }
  if (!j.is_object() || !j.contains("passes") || !j["passes"].is_array())
    throwUsage(display + ": a recipe is an object with a \"passes\" array");
  if (j.contains("schema_version") && (!j["schema_version"].is_number_integer() || j["schema_version"] != 1))
    throwUsage(display + ": unsupported recipe schema_version (this effdl reads version 1)");
  // A misspelt key would otherwise be ignored silently (docs/recipe.schema.json lists the keys).
  for (const auto& [k, v] : j.items())
    if (k != "schema_version" && k != "description" && k != "passes")
      throwUsage(display + ": unknown recipe key '" + k + "' (a recipe has \"passes\", \"schema_version\", \"description\")");
  Pipeline p;
  for (const auto& item : j["passes"]) {
    std::string name;
    std::map<std::string, std::string> opts;
    if (item.is_string()) {
      name = item.get<std::string>();
    } else if (item.is_object() && item.contains("name") && item["name"].is_string()) {
      name = item["name"].get<std::string>();
      for (const auto& [k, v] : item.items())
        if (k != "name" && k != "options")
          throwUsage(display + ": pass '" + name + "': unknown key '" + k + "' (a pass has \"name\" and \"options\")");
      if (item.contains("options")) {
        if (!item["options"].is_object()) throwUsage(display + ": pass '" + name + "': \"options\" must be an object");
        for (const auto& [k, v] : item["options"].items()) {
          if (v.is_string()) opts[k] = v.get<std::string>();
          else if (v.is_boolean()) opts[k] = v.get<bool>() ? "true" : "false";
          else if (v.is_number_integer()) opts[k] = std::to_string(v.get<int64_t>());
          else if (v.is_number()) {
            std::ostringstream ss;
            ss << v.get<double>();
            opts[k] = ss.str();
          } else if (v.is_array()) {
            std::string joined;
            for (const auto& e : v) {
              if (!e.is_string()) throwUsage(display + ": pass '" + name + "' option '" + k + "': list items must be strings");
              joined += (joined.empty() ? "" : ";") + e.get<std::string>();
            }
            opts[k] = joined;
          } else {
            throwUsage(display + ": pass '" + name + "' option '" + k + "': unsupported value type");
          }
        }
      }
    } else {
      throwUsage(display + ": each pass is a name or an object with \"name\"");
    }
    p.steps.push_back(makeStep(name, opts));
  }
  return p;
}

Pipeline loadRecipeFile(const std::filesystem::path& path) {
  std::ifstream f(path);
  if (!f) throwIo(path.string() + ": cannot open the recipe file");
  std::stringstream ss;
  ss << f.rdbuf();
  return parseRecipeJson(ss.str(), path.string());
}

std::string Pipeline::toSpec() const {
  std::string s;
  for (const auto& st : steps) {
    if (!s.empty()) s += ",";
    s += st.info->name;
    const auto& ex = st.options.explicitValues();
    if (!ex.empty()) {
      s += "{";
      bool first = true;
      for (const auto& [k, v] : ex) {
        s += (first ? "" : ",") + k + "=" + (v.find(';') != std::string::npos ? "[" + v + "]" : v);
        first = false;
      }
      s += "}";
    }
  }
  for (auto& c : s)
    if (c == ';') c = ',';
  return s;
}

std::vector<StepReport> runPipeline(ir::Model& model, const Pipeline& pipeline, PassContext& ctx,
                                    const RunOptions& options) {
  std::vector<StepReport> reports;
#ifdef _OPENMP
  // Passes' own loops (quantizing weights) share OpenMP with the runtime: --threads bounds both.
  if (ctx.threads > 0) omp_set_num_threads(ctx.threads);
#endif
  bool strict = true;
  if (options.verify) {
    // A model that already fails strict checks is verified leniently, so that only what a pass
    // breaks is blamed on it.
    try {
      ir::verifyModel(model, /*strict=*/true);
    } catch (const Error& e) {
      logWarn(std::string("--verify: the input already fails strict shape inference (") + e.what() +
              "); verifying passes with the loader's lenient checks");
      strict = false;
    }
  }
  for (const auto& step : pipeline.steps) {
    std::string before;
    if (options.verify) before = ir::serializeModel(model);
    auto pass = step.info->create(step.options);
    StepReport r;
    r.pass = step.info->name;
    r.nodesBefore = model.graph->numNodes();
    auto t0 = std::chrono::steady_clock::now();
    r.result = pass->run(model, ctx);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.nodesAfter = model.graph->numNodes();
    std::string line = "pass " + r.pass + ": " + std::to_string(r.nodesBefore) + " -> " +
                       std::to_string(r.nodesAfter) + " nodes";
    for (const auto& [k, v] : r.result.counters) line += ", " + k + " " + std::to_string(v);
    for (const auto& [k, v] : r.result.declined) line += ", declined " + std::to_string(v) + " (" + k + ")";
    char ms[32];
    std::snprintf(ms, sizeof ms, " in %.1f ms", r.seconds * 1e3);
    logInfo(line + ms);
    if (options.verify) {
      try {
        ir::verifyModel(model, strict);
      } catch (const Error& e) {
        ir::checkDeclaredShapes(model);  // a wrong declared shape is the input's fault, not the pass's
        auto repro = options.reproducerDir / ("effdl-reproducer-" + r.pass + ".onnx");
        std::ofstream f(repro, std::ios::binary);
        f << before;
        throwInternal("pass '" + r.pass + "' broke the model: " + e.what() + "; reproducer: " + repro.string() +
                      " (pipeline: " + pipeline.toSpec() + ")");
      }
    }
    reports.push_back(std::move(r));
  }
  ir::checkDeclaredShapes(model);
  return reports;
}

}  // namespace effdl::passes
