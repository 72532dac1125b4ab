// Calibration statistics of pruned layers' inputs; see the header.
#include "passes/prune/activation_stats.h"

#include "core/error.h"
#include "passes/common/activation_tap.h"

namespace effdl::passes::prune {
namespace {

// 2-D convolution geometry for im2col; valid = false when the Conv is not one we unfold.
struct ConvGeom {
  bool valid = false;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, ph = 0, pw = 0;
};

ConvGeom convGeom(const ir::Node& n) {
  ConvGeom g;
  const auto& wd = n.input(1)->initializer().dims();
  if (wd.size() != 4 || n.attrInt("group", 1) != 1) return g;
  const std::string pad = n.attrString("auto_pad", "NOTSET");
  if (pad != "NOTSET" && pad != "VALID") return g;
  auto st = n.attrInts("strides"), di = n.attrInts("dilations"), pa = n.attrInts("pads");
  g.kh = wd[2];
  g.kw = wd[3];
  if (st.size() == 2) g.sh = st[0], g.sw = st[1];
  if (di.size() == 2) g.dh = di[0], g.dw = di[1];
  if (pa.size() == 4 && pad == "NOTSET") g.ph = pa[0], g.pw = pa[1];
  g.valid = true;
  return g;
}

void addOuter(std::vector<double>& gram, const std::vector<double>& z) {
  const size_t d = z.size();
  for (size_t i = 0; i < d; ++i) {
    if (z[i] == 0) continue;
    double* row = gram.data() + i * d;
    const double zi = z[i];
    for (size_t j = 0; j < d; ++j) row[j] += zi * z[j];
  }
}

}  // namespace

std::vector<LayerStats> gatherStats(ir::Model& model, const std::vector<Target>& targets,
                                    const eval::SampleSet& calib, PassContext& ctx, bool wantGram,
                                    int64_t maxGramDim) {
  std::vector<std::string> taps;
  std::vector<ConvGeom> geoms;
  std::vector<LayerStats> stats(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    const Target& t = targets[i];
    taps.push_back(t.node->input(0)->name());
    const bool conv = t.node->opType() == "Conv";
    geoms.push_back(conv ? convGeom(*t.node) : ConvGeom{});
    const int64_t channels = t.view.groups * (t.view.cols / t.view.kernel);
    stats[i].sqNorm.assign(static_cast<size_t>(channels), 0.0);
    stats[i].mean.assign(static_cast<size_t>(channels), 0.0);
    if (wantGram && t.view.cols + 1 <= maxGramDim && (!conv || geoms.back().valid)) {
      stats[i].gramDim = t.view.cols + 1;
      stats[i].gram.assign(static_cast<size_t>(stats[i].gramDim * stats[i].gramDim), 0.0);
    }
  }
  std::vector<int64_t> meanCount(targets.size(), 0);
  TapOptions opts = tapOptions(ctx, "prune activation statistics");
  forEachActivation(model, taps, calib, opts, [&](size_t, const std::vector<const ir::Tensor*>& xs) {
    for (size_t i = 0; i < targets.size(); ++i) {
      const Target& t = targets[i];
      const ir::Tensor& x = *xs[i];
      if (x.dtype() != ir::DataType::kFloat)
        throwUnsupported("prune: input of node '" + layerName(t) + "' is not float32");
      auto v = x.values<float>();
      LayerStats& s = stats[i];
      const auto channels = static_cast<int64_t>(s.sqNorm.size());
      const auto& d = x.dims();
      if (t.node->opType() == "Conv") {
        if (d.size() < 3 || d[1] != channels)
          throwUnsupported("prune: input of Conv '" + layerName(t) + "' does not have the weight's channels");
        int64_t spatial = 1;
        for (size_t k = 2; k < d.size(); ++k) spatial *= d[k];
        for (int64_t b = 0; b < d[0]; ++b)
          for (int64_t c = 0; c < channels; ++c) {
            const float* p = v.data() + (b * channels + c) * spatial;
            for (int64_t e = 0; e < spatial; ++e) {
              s.sqNorm[static_cast<size_t>(c)] += static_cast<double>(p[e]) * p[e];
              s.mean[static_cast<size_t>(c)] += p[e];
            }
          }
        meanCount[i] += d[0] * spatial;
        if (s.gram.empty()) continue;
        const ConvGeom& g = geoms[i];
        const int64_t H = d[2], W = d[3];
        const int64_t OH = (H + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh + 1;
        const int64_t OW = (W + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw + 1;
        std::vector<double> z(static_cast<size_t>(s.gramDim));
        for (int64_t b = 0; b < d[0]; ++b)
          for (int64_t oh = 0; oh < OH; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow) {
              size_t e = 0;
              for (int64_t c = 0; c < channels; ++c)
                for (int64_t a = 0; a < g.kh; ++a)
                  for (int64_t bb = 0; bb < g.kw; ++bb) {
                    const int64_t ih = oh * g.sh - g.ph + a * g.dh, iw = ow * g.sw - g.pw + bb * g.dw;
                    z[e++] = (ih < 0 || ih >= H || iw < 0 || iw >= W) ? 0.0
                                                                      : v[static_cast<size_t>(((b * channels + c) * H + ih) * W + iw)];
                  }
              z[e] = 1.0;
              addOuter(s.gram, z);
              ++s.positions;
            }
      } else {
        if (d.empty() || d.back() != channels)
          throwUnsupported("prune: input of '" + layerName(t) + "' does not end in the weight's reduction size");
        const int64_t rows = x.numel() / channels;
        std::vector<double> z(static_cast<size_t>(channels + 1));
        for (int64_t r = 0; r < rows; ++r) {
          const float* p = v.data() + r * channels;
          for (int64_t c = 0; c < channels; ++c) {
            s.sqNorm[static_cast<size_t>(c)] += static_cast<double>(p[c]) * p[c];
            s.mean[static_cast<size_t>(c)] += p[c];
            z[static_cast<size_t>(c)] = p[c];
          }
          z[static_cast<size_t>(channels)] = 1.0;
          if (!s.gram.empty()) {
            addOuter(s.gram, z);
            ++s.positions;
          }
        }
        meanCount[i] += rows;
      }
    }
  });
  for (size_t i = 0; i < targets.size(); ++i)
    if (meanCount[i] > 0)
      for (double& m : stats[i].mean) m /= static_cast<double>(meanCount[i]);
  return stats;
}

}  // namespace effdl::passes::prune
