// The explicit list of passes: one table that `effdl passes`, --help and the recipe reader use.
#pragma once

#include <string>
#include <vector>

#include "passes/pass.h"

namespace effdl::passes {

const std::vector<PassInfo>& passRegistry();
// nullptr when unknown.
const PassInfo* findPass(const std::string& name);

}  // namespace effdl::passes
