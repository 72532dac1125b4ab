// A small JSON Schema checker for the subset our schemas use (type, required, properties,
// additionalProperties, items, enum, minimum, oneOf, $ref to #/$defs/...): tests validate every
// --json output against docs/*.schema.json. A keyword it does not know is an error, so a schema
// never silently checks less than it says.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace effdl::test {

// Problems found, each with its JSON pointer; empty when `value` conforms.
std::vector<std::string> validateJson(const nlohmann::json& value, const nlohmann::json& schema);
// Keywords of `schema` (and every subschema) that validateJson does not enforce or know.
std::vector<std::string> unsupportedKeywords(const nlohmann::json& schema);
// Loads docs/<name> from the source tree.
nlohmann::json loadSchema(const std::string& name);

}  // namespace effdl::test
