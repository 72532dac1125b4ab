// PassOptions lookups and PassResult bookkeeping.
#include "passes/pass.h"

#include <algorithm>

#include "core/error.h"

namespace effdl::passes {

const std::string& PassOptions::raw(const std::string& name) const {
  auto it = values_.find(name);
  if (it != values_.end()) return it->second;
  if (specs_)
    for (const auto& s : *specs_)
      if (s.name == name) return s.defaultValue;
  throwInternal("pass option '" + name + "' is not declared");
}

bool PassOptions::getBool(const std::string& name) const { return raw(name) == "true"; }
int64_t PassOptions::getInt(const std::string& name) const { return std::stoll(raw(name)); }
double PassOptions::getFloat(const std::string& name) const { return std::stod(raw(name)); }
std::string PassOptions::getString(const std::string& name) const { return raw(name); }

std::vector<std::string> PassOptions::getList(const std::string& name) const {
  std::vector<std::string> out;
  const std::string& s = raw(name);
  size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    size_t end = s.find(';', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

void PassResult::count(const std::string& key, int64_t n) {
  for (auto& [k, v] : counters) {
    if (k == key) {
      v += n;
      return;
    }
  }
  counters.emplace_back(key, n);
}

int64_t PassResult::counter(const std::string& key) const {
  for (const auto& [k, v] : counters)
    if (k == key) return v;
  return 0;
}

void PassResult::merge(const PassResult& other) {
  for (const auto& [k, v] : other.counters) count(k, v);
  for (const auto& [k, v] : other.declined) declined[k] += v;
  notes.insert(notes.end(), other.notes.begin(), other.notes.end());
  changed = changed || other.changed;
}

}  // namespace effdl::passes
