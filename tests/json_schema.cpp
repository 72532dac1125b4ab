// Subset JSON Schema validation (see json_schema.h).
#include "json_schema.h"

#include <fstream>
#include <functional>
#include <set>

#include "test_util.h"

namespace effdl::test {
namespace {

bool hasType(const nlohmann::json& v, const std::string& t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "integer") return v.is_number_integer();
  if (t == "number") return v.is_number();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  return false;
}

// Keywords that only annotate, and the ones check() enforces.
const std::set<std::string> kKnownKeywords = {"$schema", "$id", "title", "description", "$defs", "$ref", "oneOf",
                                              "type", "enum", "required", "properties", "additionalProperties",
                                              "items", "minimum"};

void check(const nlohmann::json& v, const nlohmann::json& s, const nlohmann::json& root, const std::string& at,
           std::vector<std::string>& errors) {
  if (s.is_boolean()) {  // `true` allows anything, `false` nothing
    if (!s.get<bool>()) errors.push_back(at + ": not allowed here");
    return;
  }
  for (const auto& [k, unused] : s.items())
    if (!kKnownKeywords.count(k)) errors.push_back(at + ": schema keyword '" + k + "' is not supported by the test validator");
  if (s.contains("$ref")) {
    std::string ref = s["$ref"];
    const std::string prefix = "#/$defs/";
    if (ref.rfind(prefix, 0) != 0 || !root["$defs"].contains(ref.substr(prefix.size()))) {
      errors.push_back(at + ": unresolvable $ref " + ref);
      return;
    }
    check(v, root["$defs"][ref.substr(prefix.size())], root, at, errors);
    return;
  }
  if (s.contains("oneOf")) {
    int valid = 0;
    for (const auto& branch : s["oneOf"]) {
      std::vector<std::string> sub;
      check(v, branch, root, at, sub);
      valid += sub.empty();
    }
    if (valid != 1)
      errors.push_back(at + ": " + std::to_string(valid) + " oneOf branches match " + v.dump().substr(0, 60));
  }
  if (s.contains("type")) {
    bool ok = false;
    if (s["type"].is_array()) {
      for (const auto& t : s["type"]) ok = ok || hasType(v, t);
    } else {
      ok = hasType(v, s["type"]);
    }
    if (!ok) {
      errors.push_back(at + ": expected type " + s["type"].dump() + ", got " + v.dump().substr(0, 60));
      return;
    }
  }
  if (s.contains("enum")) {
    bool ok = false;
    for (const auto& e : s["enum"]) ok = ok || e == v;
    if (!ok) errors.push_back(at + ": " + v.dump() + " not in " + s["enum"].dump());
  }
  if (v.is_object()) {
    if (s.contains("required"))
      for (const auto& r : s["required"])
        if (!v.contains(r.get<std::string>())) errors.push_back(at + ": missing required '" + r.get<std::string>() + "'");
    if (s.contains("properties"))
      for (const auto& [k, sub] : s["properties"].items())
        if (v.contains(k)) check(v[k], sub, root, at + "/" + k, errors);
    if (s.contains("additionalProperties"))
      for (const auto& [k, sub] : v.items())
        if (!s.contains("properties") || !s["properties"].contains(k))
          check(sub, s["additionalProperties"], root, at + "/" + k, errors);
  }
  if (v.is_number() && s.contains("minimum") && v.get<double>() < s["minimum"].get<double>())
    errors.push_back(at + ": " + v.dump() + " is below the minimum " + s["minimum"].dump());
  if (v.is_array() && s.contains("items"))
    for (size_t i = 0; i < v.size(); ++i) check(v[i], s["items"], root, at + "/" + std::to_string(i), errors);
}

}  // namespace

std::vector<std::string> validateJson(const nlohmann::json& value, const nlohmann::json& schema) {
  std::vector<std::string> errors;
  check(value, schema, schema, "", errors);
  return errors;
}

std::vector<std::string> unsupportedKeywords(const nlohmann::json& schema) {
  std::vector<std::string> found;
  std::function<void(const nlohmann::json&, const std::string&)> walk = [&](const nlohmann::json& s,
                                                                           const std::string& at) {
    if (!s.is_object()) return;
    for (const auto& [k, v] : s.items()) {
      if (!kKnownKeywords.count(k)) found.push_back(at + "/" + k);
      if (k == "properties" || k == "$defs")
        for (const auto& [name, sub] : v.items()) walk(sub, at + "/" + k + "/" + name);
      if (k == "items" || k == "additionalProperties") walk(v, at + "/" + k);
      if (k == "oneOf")
        for (size_t i = 0; i < v.size(); ++i) walk(v[i], at + "/oneOf/" + std::to_string(i));
    }
  };
  walk(schema, "");
  return found;
}

nlohmann::json loadSchema(const std::string& name) {
  return nlohmann::json::parse(readFile(sourceDir() / "docs" / name));
}

}  // namespace effdl::test
