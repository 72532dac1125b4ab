// `--variants "int8;prune=0.5;prune=0.5+int8;hash-embeddings=0.25+int8"`: build and measure several
// optimized versions of one model in one run, mark the Pareto-optimal ones (file size vs quality and
// latency vs quality) and, with `--select "max-drop=1%,minimize=latency"`, write the chosen one.
//
// A variant is '+'-joined items; an item is a pass flag with its value and options in braces
// (`prune=0.5{mode=channels}`, `quantize=dynamic`, `hash-embeddings=0.25{mode=qr}`) or a shorthand:
// `int8` (quantize=static with --calib, else quantize=dynamic), `fp16` (quantize=fp16), `baseline`
// (cleanup only). Passes run in the fixed order whatever the order of the items.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "optimize_job.h"

namespace effdl::cli {

struct VariantSpec {
  std::string name;
  std::map<std::string, std::map<std::string, std::string>> passes;  // pass name → options
};

// Throws kUsage naming the bad variant.
std::vector<VariantSpec> parseVariants(const std::string& spec, bool haveCalib);

struct SelectRule {
  double maxDrop = -1;  // quality drop allowed, in points (accuracy) or percent (agreement); <0: any
  std::string minimize = "size";  // size | latency
  std::string text;
};
SelectRule parseSelect(const std::string& spec);

// Optimizes `input` once per variant (each written to a temp file beside `output`), measures each,
// fills report.variants/qualityName/selection, and with a rule writes the chosen variant to
// `output` (its name and pipeline recorded in the model's metadata). Returns false when a rule
// was given and no variant met it.
bool runVariants(const OptimizeJob& job, const std::vector<VariantSpec>& variants, const SelectRule* rule,
                 const std::filesystem::path& input, const std::filesystem::path& output, report::OptimizeReport& report);

}  // namespace effdl::cli
