// Conv/ConvTranspose attributes and output shapes (see conv_geometry.h).
#include "runtime/kernels/conv_geometry.h"

#include <algorithm>

namespace effdl::runtime {
namespace {

std::string intsString(const std::vector<int64_t>& v) { return shapeString(v); }

AutoPad parseAutoPad(const KernelBuildContext& ctx) {
  const std::string s = ctx.node.attrString("auto_pad", "NOTSET");
  if (s == "NOTSET") return AutoPad::kNotSet;
  if (s == "SAME_UPPER") return AutoPad::kSameUpper;
  if (s == "SAME_LOWER") return AutoPad::kSameLower;
  if (s == "VALID") return AutoPad::kValid;
  ctx.invalid("auto_pad '" + s + "' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID");
}

}  // namespace

Geometry resolveGeometry(const ConvAttrs& a, const Shape& x, const Shape& w, const std::string& describe) {
  auto fail = [&](const std::string& what) { throwInvalid(describe + ": " + what); };
  Geometry g;
  g.x = x;
  g.w = w;
  g.group = a.group;
  if (x.size() < 3) fail("input shape " + shapeString(x) + " has no spatial dims (expected [N,C,D…])");
  if (w.size() != x.size())
    fail("weight shape " + shapeString(w) + " does not match input shape " + shapeString(x) + " (rank differs)");
  const size_t nsp = x.size() - 2;
  const int64_t C = x[1];
  if (a.group <= 0) fail("group must be positive, got " + std::to_string(a.group));
  int64_t M = 0;
  if (!a.transposed) {
    M = w[0];
    if (w[1] * a.group != C)
      fail("input has " + std::to_string(C) + " channels, weight " + shapeString(w) + " with group " +
           std::to_string(a.group) + " expects " + std::to_string(w[1] * a.group));
    if (M % a.group != 0)
      fail(std::to_string(M) + " output channels are not divisible by group " + std::to_string(a.group));
  } else {
    if (w[0] != C)
      fail("input has " + std::to_string(C) + " channels, weight " + shapeString(w) + " expects " + std::to_string(w[0]));
    if (C % a.group != 0) fail(std::to_string(C) + " input channels are not divisible by group " + std::to_string(a.group));
    M = w[1] * a.group;
  }
  g.kernel.assign(w.begin() + 2, w.end());
  if (!a.kernelShape.empty() && a.kernelShape != g.kernel)
    fail("kernel_shape " + intsString(a.kernelShape) + " does not match weight shape " + shapeString(w));
  auto perDim = [&](const std::vector<int64_t>& v, const char* name, size_t count, int64_t def) {
    if (v.empty()) return std::vector<int64_t>(count, def);
    if (v.size() != count)
      fail(std::string(name) + " " + intsString(v) + " must have " + std::to_string(count) + " values for input " +
           shapeString(x));
    return v;
  };
  g.strides = perDim(a.strides, "strides", nsp, 1);
  g.dilations = perDim(a.dilations, "dilations", nsp, 1);
  std::vector<int64_t> pads = perDim(a.pads, "pads", 2 * nsp, 0);
  for (size_t i = 0; i < nsp; ++i) {
    if (g.strides[i] <= 0 || g.dilations[i] <= 0) fail("strides and dilations must be positive");
    if (g.kernel[i] <= 0) fail("weight shape " + shapeString(w) + " has an empty kernel");
    if (pads[i] < 0 || pads[nsp + i] < 0) fail("pads " + intsString(pads) + " must not be negative");
  }
  g.padBegin.resize(nsp);
  g.padEnd.resize(nsp);
  g.y = {x[0], M};
  for (size_t i = 0; i < nsp; ++i) {
    const int64_t in = x[2 + i], s = g.strides[i], ext = (g.kernel[i] - 1) * g.dilations[i] + 1;
    int64_t out = 0, pb = pads[i], pe = pads[nsp + i];
    if (!a.transposed) {
      if (a.autoPad == AutoPad::kValid) {
        pb = pe = 0;
      } else if (a.autoPad != AutoPad::kNotSet) {
        const int64_t want = (in + s - 1) / s;
        const int64_t total = std::max<int64_t>(0, (want - 1) * s + ext - in);
        pb = a.autoPad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
        pe = total - pb;
      }
      const int64_t span = in + pb + pe - ext;
      if (span < 0)
        fail("input shape " + shapeString(x) + " is smaller than the (dilated) kernel " + shapeString(g.kernel) +
             " plus padding");
      out = span / s + 1;
    } else {
      const std::vector<int64_t> op = perDim(a.outputPadding, "output_padding", nsp, 0);
      if (op[i] < 0) fail("output_padding " + intsString(a.outputPadding) + " must not be negative");
      const int64_t full = (in - 1) * s + ext;  // length of the full transposed conv
      const int64_t natural = full + op[i];
      // ONNX's rule (ORT 1.30 and the backend tests agree): SAME_UPPER puts an odd padding element
      // at the end, SAME_LOWER and an explicit output_shape at the beginning. As in ORT, a total
      // below 0 (output_shape longer than the data reaches) is clamped: the tail gets only bias.
      auto distribute = [&](int64_t total) {
        total = std::max<int64_t>(0, total);
        pb = a.autoPad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
        pe = total - pb;
      };
      if (!a.outputShape.empty()) {
        if (a.outputShape.size() != nsp && a.outputShape.size() != nsp + 2)
          fail("output_shape " + intsString(a.outputShape) + " must have " + std::to_string(nsp) + " or " +
               std::to_string(nsp + 2) + " values");
        out = a.outputShape[a.outputShape.size() - nsp + i];
        if (out <= 0) fail("output_shape " + intsString(a.outputShape) + " must be positive");
        distribute(natural - out);
      } else {
        if (a.autoPad == AutoPad::kSameUpper || a.autoPad == AutoPad::kSameLower) distribute(natural - in * s);
        else if (a.autoPad == AutoPad::kValid) pb = pe = 0;
        out = natural - pb - pe;
      }
      pe = full - pb - out;  // may be negative: see Geometry
    }
    if (out <= 0)
      fail("output would be empty: input " + shapeString(x) + ", weight " + shapeString(w) + ", pads " +
           intsString(pads) + ", strides " + intsString(g.strides));
    g.padBegin[i] = pb;
    g.padEnd[i] = pe;
    g.y.push_back(out);
  }
  return g;
}

ConvAttrs parseConvAttrs(const KernelBuildContext& ctx, bool transposed) {
  if (ctx.numInputs() < 2 || !ctx.input(0) || !ctx.input(1)) ctx.invalid("needs inputs X and W");
  ConvAttrs a;
  a.transposed = transposed;
  a.autoPad = parseAutoPad(ctx);
  a.group = ctx.node.attrInt("group", 1);
  if (a.group <= 0) ctx.invalid("group must be positive, got " + std::to_string(a.group));
  a.kernelShape = ctx.node.attrInts("kernel_shape");
  a.strides = ctx.node.attrInts("strides");
  a.dilations = ctx.node.attrInts("dilations");
  a.pads = ctx.node.attrInts("pads");
  if (transposed) {
    a.outputPadding = ctx.node.attrInts("output_padding");
    a.outputShape = ctx.node.attrInts("output_shape");
  }
  return a;
}

}  // namespace effdl::runtime
