// `effdl passes`: every pass with its summary and options, from the registry.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "commands.h"
#include "passes/registry.h"

namespace effdl::cli {
namespace {

const char* typeName(passes::OptionType t) {
  switch (t) {
    case passes::OptionType::kBool: return "bool";
    case passes::OptionType::kInt: return "int";
    case passes::OptionType::kFloat: return "float";
    case passes::OptionType::kString: return "string";
    case passes::OptionType::kEnum: return "enum";
    case passes::OptionType::kStringList: return "list";
  }
  return "string";
}

}  // namespace

void registerPasses(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("passes", "list the passes and their options");
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->footer(
      "Pipelines name passes with their options: --passes \"cleanup,fold-batchnorm\" or\n"
      "--passes \"eliminate-dead{inputs=true}\"; a recipe file (--recipe) lists the same in JSON.");
  cmd->callback([json] {
    outputMode() = {*json, "passes"};
    if (*json) {
      nlohmann::json j;
      j["schema_version"] = 1;
      j["command"] = "passes";
      j["ok"] = true;
      j["passes"] = nlohmann::json::array();
      for (const auto& p : passes::passRegistry()) {
        nlohmann::json pj{{"name", p.name}, {"summary", p.summary}, {"options", nlohmann::json::array()}};
        for (const auto& o : p.options) {
          nlohmann::json oj{{"name", o.name}, {"type", typeName(o.type)}, {"default", o.defaultValue}, {"help", o.help}};
          if (!o.choices.empty()) oj["choices"] = o.choices;
          pj["options"].push_back(oj);
        }
        j["passes"].push_back(pj);
      }
      std::cout << j.dump(2) << "\n";
      return;
    }
    size_t width = 0;
    for (const auto& p : passes::passRegistry()) width = std::max(width, p.name.size());
    for (const auto& p : passes::passRegistry()) {
      std::cout << p.name << std::string(width + 2 - p.name.size(), ' ') << p.summary << "\n";
      for (const auto& o : p.options) {
        std::cout << std::string(width + 4, ' ') << o.name << "=" << typeName(o.type) << " (default " << o.defaultValue
                  << ")  " << o.help;
        if (!o.choices.empty()) {
          std::cout << " [";
          for (size_t i = 0; i < o.choices.size(); ++i) std::cout << (i ? "|" : "") << o.choices[i];
          std::cout << "]";
        }
        std::cout << "\n";
      }
    }
  });
}

}  // namespace effdl::cli
