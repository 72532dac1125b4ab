#include "pass_flags.h"

#include <set>

#include "core/error.h"
#include "passes/registry.h"

namespace effdl::cli {
namespace {

std::string optionFlagName(const passes::PassInfo& info, const passes::OptionSpec& o) {
  return (info.cliOptionPrefix.empty() ? info.cliFlag : info.cliOptionPrefix) + "-" + o.name;
}

// The values a yes/no pass option takes (passes/pipeline.cpp).
bool isYesNoWord(const std::string& w) { return w == "true" || w == "false"; }

}  // namespace

void normalizePassSwitches(std::vector<std::string>& args) {
  std::set<std::string> switches;
  for (const passes::PassInfo& info : passes::passRegistry())
    if (!info.cliFlag.empty())
      for (const auto& o : info.options)
        if (o.type == passes::OptionType::kBool && o.name != info.primaryOption)
          switches.insert("--" + optionFlagName(info, o));
  for (size_t i = 0; i < args.size(); ++i)
    if (switches.count(args[i]) && (i + 1 == args.size() || !isYesNoWord(args[i + 1]))) args[i] += "=true";
}

void PassFlags::add(CLI::App& cmd) {
  for (const passes::PassInfo& info : passes::passRegistry()) {
    if (info.cliFlag.empty()) continue;
    const passes::OptionSpec* primary = nullptr;
    for (const auto& o : info.options)
      if (o.name == info.primaryOption) primary = &o;
    if (!primary) throwInternal("pass '" + info.name + "': primary option '" + info.primaryOption + "' not declared");
    Flag& f = flags_[info.cliFlag];
    f = {info.name, primary->name, true, "", nullptr};
    std::string help = info.summary + " — " + primary->help;
    if (!primary->choices.empty()) {
      help += " (";
      for (size_t i = 0; i < primary->choices.size(); ++i) help += (i ? "|" : "") + primary->choices[i];
      help += ")";
    }
    f.opt = cmd.add_option("--" + info.cliFlag, f.value, help)->group("Passes (run in a fixed order)");
    for (const auto& o : info.options) {
      if (&o == primary) continue;
      std::string name = optionFlagName(info, o);
      Flag& g = flags_[name];
      g = {info.name, o.name, false, "", nullptr};
      std::string h = o.help;
      if (!o.choices.empty()) {
        h += " (";
        for (size_t i = 0; i < o.choices.size(); ++i) h += (i ? "|" : "") + o.choices[i];
        h += ")";
      }
      if (!o.defaultValue.empty()) h += " [default: " + o.defaultValue + "]";
      if (o.type == passes::OptionType::kStringList) h += "; comma-separated";
      g.opt = cmd.add_option("--" + name, g.value, h)->group("Passes (run in a fixed order)");
      // A yes/no option works as a plain switch too: `--prune-reconstruct` means true.
      if (o.type == passes::OptionType::kBool) g.opt->expected(0, 1);
    }
  }
}

bool PassFlags::any() const {
  for (const auto& [name, f] : flags_)
    if (f.opt && f.opt->count() > 0) return true;
  return false;
}

std::string PassFlags::firstGiven() const {
  for (const auto& [name, f] : flags_)
    if (f.opt && f.opt->count() > 0) return "--" + name;
  return "";
}

passes::Pipeline PassFlags::toPipeline() const {
  std::map<std::string, std::map<std::string, std::string>> flagged;
  for (const auto& [name, f] : flags_)
    if (f.primary && f.opt->count() > 0) flagged[f.pass][f.option] = f.value;
  for (const auto& [name, f] : flags_) {
    if (f.primary || f.opt->count() == 0) continue;
    if (!flagged.count(f.pass)) {
      std::string primaryFlag;
      for (const auto& [n, p] : flags_)
        if (p.primary && p.pass == f.pass) primaryFlag = n;
      throwUsage("--" + name + " needs --" + primaryFlag);
    }
    const passes::PassInfo* info = passes::findPass(f.pass);
    std::string value = f.value;
    for (const auto& o : info->options) {
      if (o.name != f.option) continue;
      if (o.type == passes::OptionType::kStringList)
        std::replace(value.begin(), value.end(), ',', ';');  // lists are stored ';'-joined
      if (o.type == passes::OptionType::kBool && value.empty()) value = "true";
    }
    flagged[f.pass][f.option] = value;
  }
  return passes::fixedOrderPipeline(flagged);
}

}  // namespace effdl::cli
