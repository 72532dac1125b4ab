// RNN, GRU and LSTM (float32): forward, reverse and bidirectional, sequence_lens, initial_h/c,
// LSTM peepholes and input_forget, GRU linear_before_reset, clip, the activation functions with
// their alpha/beta, and opset 14's batch-first `layout`.
// Per direction, the input projection of every time step is one matrix product
//   XW[t,b,:] = X[t,b,:] · W^T + Wb + Rb          ([seq·batch, G·H], G gates)
// and each step adds one product of the previous hidden state, H · R^T ([batch, G·H]), then the
// gate arithmetic per batch row. Products with a weight (W, R initializers) run as oneDNN matmuls
// on weights reordered once; with run-time weights, as dnnl_sgemm. A batch row whose sequence
// (sequence_lens) has ended keeps its state; its Y rows stay zero. A reverse direction walks each
// row's own sequence backwards.
// Gate order in W, R, B: RNN i; GRU z, r, h; LSTM i, o, f, c; peepholes P: i, o, f.
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/dnnl_context.h"
#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/vector_math.h"

namespace effdl::runtime {
namespace {

enum class Cell { kRnn, kGru, kLstm };

// ------------------------------------------------------------------------------- activations
enum class ActKind { kRelu, kTanh, kSigmoid, kAffine, kLeakyRelu, kThresholdedRelu, kScaledTanh, kHardSigmoid, kElu,
                     kSoftsign, kSoftplus };

struct Activation {
  ActKind kind = ActKind::kTanh;
  float alpha = 0, beta = 0;

  void apply(float* x, int64_t n) const {
    const float a = alpha, b = beta;
    switch (kind) {
      case ActKind::kRelu:
        for (int64_t i = 0; i < n; ++i) x[i] = std::max(x[i], 0.f);
        break;
      case ActKind::kTanh:
        for (int64_t i = 0; i < n; ++i) x[i] = fastTanh(x[i]);
        break;
      case ActKind::kSigmoid:
        for (int64_t i = 0; i < n; ++i) x[i] = fastSigmoid(x[i]);
        break;
      case ActKind::kAffine:
        for (int64_t i = 0; i < n; ++i) x[i] = a * x[i] + b;
        break;
      case ActKind::kLeakyRelu:
        for (int64_t i = 0; i < n; ++i) x[i] = x[i] >= 0 ? x[i] : a * x[i];
        break;
      case ActKind::kThresholdedRelu:
        for (int64_t i = 0; i < n; ++i) x[i] = x[i] > a ? x[i] : 0.f;
        break;
      case ActKind::kScaledTanh:
        for (int64_t i = 0; i < n; ++i) x[i] = a * fastTanh(b * x[i]);
        break;
      case ActKind::kHardSigmoid:
        for (int64_t i = 0; i < n; ++i) x[i] = std::min(1.f, std::max(0.f, a * x[i] + b));
        break;
      case ActKind::kElu:
        for (int64_t i = 0; i < n; ++i) x[i] = x[i] >= 0 ? x[i] : a * fastExpm1(x[i]);
        break;
      case ActKind::kSoftsign:
        for (int64_t i = 0; i < n; ++i) x[i] = x[i] / (1.f + std::fabs(x[i]));
        break;
      case ActKind::kSoftplus:
        // log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|).
        for (int64_t i = 0; i < n; ++i) x[i] = std::max(x[i], 0.f) + std::log1p(std::exp(-std::fabs(x[i])));
        break;
    }
  }
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Builds the activations from their names; alpha/beta are consumed in order by the functions that
// take them, and default to the standalone ops' defaults when the lists run out.
std::vector<Activation> parseActivations(const KernelBuildContext& ctx, const std::vector<std::string>& names) {
  const ir::Attribute* alphaAttr = ctx.node.attr("activation_alpha");
  const ir::Attribute* betaAttr = ctx.node.attr("activation_beta");
  std::vector<float> alphas = alphaAttr ? alphaAttr->floats : std::vector<float>{};
  std::vector<float> betas = betaAttr ? betaAttr->floats : std::vector<float>{};
  size_t ai = 0, bi = 0;
  auto takeAlpha = [&](float def) { return ai < alphas.size() ? alphas[ai++] : def; };
  auto takeBeta = [&](float def) { return bi < betas.size() ? betas[bi++] : def; };
  std::vector<Activation> acts;
  for (const std::string& raw : names) {
    const std::string n = lower(raw);
    Activation a;
    if (n == "relu") a.kind = ActKind::kRelu;
    else if (n == "tanh") a.kind = ActKind::kTanh;
    else if (n == "sigmoid") a.kind = ActKind::kSigmoid;
    else if (n == "affine") a = {ActKind::kAffine, takeAlpha(1.f), takeBeta(0.f)};
    else if (n == "leakyrelu") a = {ActKind::kLeakyRelu, takeAlpha(0.01f), 0};
    else if (n == "thresholdedrelu") a = {ActKind::kThresholdedRelu, takeAlpha(1.f), 0};
    else if (n == "scaledtanh") a = {ActKind::kScaledTanh, takeAlpha(1.f), takeBeta(1.f)};
    else if (n == "hardsigmoid") a = {ActKind::kHardSigmoid, takeAlpha(0.2f), takeBeta(0.5f)};
    else if (n == "elu") a = {ActKind::kElu, takeAlpha(1.f), 0};
    else if (n == "softsign") a.kind = ActKind::kSoftsign;
    else if (n == "softplus") a.kind = ActKind::kSoftplus;
    else ctx.unsupported("activation function '" + raw + "'");
    acts.push_back(a);
  }
  return acts;
}

// ------------------------------------------------------------------------------ step product
// y[M,N] (row stride ldy) = h[M,K] · Bᵀ, B being N rows of K floats (a block of R). For a constant
// R: a oneDNN matmul with B reordered once into the layout it asks for (per row count and thread
// count); dnnl_sgemm re-reads B in R's own layout on every step. Otherwise dnnl_sgemm.
class StepProduct {
 public:
  void run(const KernelIo& io, const float* b, bool constant, int64_t M, int64_t N, int64_t K, const float* h,
           float* y, int64_t ldy) {
    if (M == 0 || N == 0) return;
    if (!constant || K == 0) {
      dnnl_status_t st = dnnl_sgemm('N', 'T', M, N, K, 1.f, h, K, b, K, 0.f, y, ldy);
      if (st != dnnl_success) throwDnnlError(io.describe(), dnnl::error(st, "dnnl_sgemm"));
      return;
    }
    try {
      Plan& p = planFor(b, M, N, K, ldy);
      p.src.set_data_handle(const_cast<float*>(h));
      p.dst.set_data_handle(y);
      p.prim.execute(dnnlStream(), p.args);
      dnnlStream().wait();
    } catch (const dnnl::error& e) {
      throwDnnlError(io.describe(), e);
    }
  }

 private:
  using memory = dnnl::memory;
  struct Plan {
    int64_t M = 0, ldy = 0;
    int threads = 0;
    dnnl::primitive prim;
    memory src, dst;
    std::unordered_map<int, memory> args;
  };

  Plan& planFor(const float* b, int64_t M, int64_t N, int64_t K, int64_t ldy) {
    const int threads = dnnlThreads();
    for (Plan& p : plans_)
      if (p.M == M && p.ldy == ldy && p.threads == threads) return p;
    const auto& eng = dnnlEngine();
    memory::desc hD({M, K}, memory::data_type::f32, memory::format_tag::ab);
    memory::desc yD({M, N}, memory::data_type::f32, memory::dims{ldy, 1});
    memory::desc wAny({K, N}, memory::data_type::f32, memory::format_tag::any);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(hD, wAny, yD), eng);
    Plan p;
    p.M = M;
    p.ldy = ldy;
    p.threads = threads;
    p.prim = dnnl::matmul(pd);
    p.src = memory(hD, eng, DNNL_MEMORY_NONE);
    p.dst = memory(yD, eng, DNNL_MEMORY_NONE);
    p.args = {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_WEIGHTS, weightsFor(b, K, N, pd.weights_desc())}, {DNNL_ARG_DST, p.dst}};
    if (plans_.size() >= 8) plans_.erase(plans_.begin());  // a batch size that keeps changing
    plans_.push_back(std::move(p));
    return plans_.back();
  }

  memory weightsFor(const float* b, int64_t K, int64_t N, const memory::desc& want) {
    for (auto& [desc, mem] : weights_)
      if (desc == want) return mem;
    const auto& eng = dnnlEngine();
    // B's rows are R's rows: as the [K, N] matrix the product needs, that is layout `ba`.
    memory src(memory::desc({K, N}, memory::data_type::f32, memory::format_tag::ba), eng, const_cast<float*>(b));
    memory dst(want, eng);
    dnnl::reorder(src, dst).execute(dnnlStream(), src, dst);
    dnnlStream().wait();
    weights_.emplace_back(want, dst);
    return dst;
  }

  std::vector<Plan> plans_;
  std::vector<std::pair<memory::desc, memory>> weights_;
};

// ------------------------------------------------------------------------------------- kernel
class RecurrentKernel : public Kernel {
 public:
  RecurrentKernel(const KernelBuildContext& ctx, Cell cell) : cell_(cell) {
    const ir::Node& n = ctx.node;
    gates_ = cell == Cell::kRnn ? 1 : cell == Cell::kGru ? 3 : 4;
    const int perDir = cell == Cell::kRnn ? 1 : cell == Cell::kGru ? 2 : 3;
    const std::string dir = n.attrString("direction", "forward");
    if (dir == "forward") numDir_ = 1;
    else if (dir == "reverse") numDir_ = 1, reverseOnly_ = true;
    else if (dir == "bidirectional") numDir_ = 2;
    else ctx.invalid("direction '" + dir + "' (expected forward, reverse or bidirectional)");
    hidden_ = n.attrInt("hidden_size", -1);
    if (n.attr("hidden_size") && hidden_ <= 0) ctx.invalid("hidden_size must be positive");
    layout_ = n.attrInt("layout", 0);
    if (layout_ != 0 && layout_ != 1) ctx.invalid("layout must be 0 or 1");
    if (const ir::Attribute* c = n.attr("clip")) {
      if (!(c->f > 0)) ctx.invalid("clip must be positive");
      clip_ = c->f;
    }
    linearBeforeReset_ = cell == Cell::kGru && n.attrInt("linear_before_reset", 0) != 0;
    inputForget_ = cell == Cell::kLstm && n.attrInt("input_forget", 0) != 0;
    std::vector<std::string> names;
    if (const ir::Attribute* a = n.attr("activations")) names = a->strings;
    if (names.empty()) {
      static const std::vector<std::string> kRnn{"Tanh"}, kGru{"Sigmoid", "Tanh"}, kLstm{"Sigmoid", "Tanh", "Tanh"};
      names = cell == Cell::kRnn ? kRnn : cell == Cell::kGru ? kGru : kLstm;
    }
    if (names.size() == static_cast<size_t>(perDir) && numDir_ == 2) {  // one list for both directions
      std::vector<std::string> twice = names;
      twice.insert(twice.end(), names.begin(), names.end());
      names = twice;
    }
    if (names.size() != static_cast<size_t>(perDir * numDir_))
      ctx.invalid(std::to_string(names.size()) + " activations, expected " + std::to_string(perDir * numDir_));
    acts_ = parseActivations(ctx, names);
    constR_ = ctx.constInput(2) != nullptr;
    constW_ = ctx.constInput(1) != nullptr;
    perDir_ = perDir;
    for (size_t i = 0; i < ctx.numInputs(); ++i) {
      const ir::Value* v = ctx.input(i);
      if (!v || i == 4) continue;  // sequence_lens is int32
      ir::DataType t = v->type().elemType;
      if (t != ir::DataType::kUndefined && t != ir::DataType::kFloat)
        ctx.unsupported(std::string(ir::dtypeName(t)) + " inputs (effdl's recurrent kernels compute float32)");
    }
  }

  void run(KernelIo& io) override {
    const RtTensor& X = floatInput(io, 0, "X");
    const RtTensor& W = floatInput(io, 1, "W");
    const RtTensor& R = floatInput(io, 2, "R");
    const RtTensor* B = optional(io, 3, "B");
    const RtTensor* lens = io.numInputs() > 4 ? io.input(4) : nullptr;
    const RtTensor* h0 = optional(io, 5, "initial_h");
    const RtTensor* c0 = cell_ == Cell::kLstm ? optional(io, 6, "initial_c") : nullptr;
    const RtTensor* P = cell_ == Cell::kLstm ? optional(io, 7, "P") : nullptr;
    if (X.rank() != 3) throwRunError(io, "X must be 3-D, got " + shapeString(X.dims));
    const int64_t seq = layout_ ? X.dims[1] : X.dims[0];
    const int64_t batch = layout_ ? X.dims[0] : X.dims[1];
    const int64_t in = X.dims[2];
    if (R.rank() != 3) throwRunError(io, "R must be 3-D, got " + shapeString(R.dims));
    const int64_t H = hidden_ > 0 ? hidden_ : R.dims[2];
    if (H <= 0) throwRunError(io, "the hidden size must be positive, got R " + shapeString(R.dims));
    const int64_t G = gates_ * H;
    expectShape(io, W, {numDir_, G, in}, "W");
    expectShape(io, R, {numDir_, G, H}, "R");
    if (B) expectShape(io, *B, {numDir_, 2 * G}, "B");
    const Shape stateShape = layout_ ? Shape{batch, numDir_, H} : Shape{numDir_, batch, H};
    if (h0) expectShape(io, *h0, stateShape, "initial_h");
    if (c0) expectShape(io, *c0, stateShape, "initial_c");
    if (P) expectShape(io, *P, {numDir_, 3 * H}, "P");
    std::vector<int64_t> len(static_cast<size_t>(batch), seq);
    if (lens) {
      if (lens->dtype != ir::DataType::kInt32 || lens->dims != Shape{batch})
        throwRunError(io, "sequence_lens must be int32 [" + std::to_string(batch) + "], got " +
                              std::string(ir::dtypeName(lens->dtype)) + " " + shapeString(lens->dims));
      for (int64_t b = 0; b < batch; ++b) {
        int64_t l = lens->as<int32_t>()[b];
        if (l < 0 || l > seq)
          throwRunError(io, "sequence_lens[" + std::to_string(b) + "] = " + std::to_string(l) + " is outside [0, " +
                                std::to_string(seq) + "]");
        len[static_cast<size_t>(b)] = l;
      }
    }

    float* Y = nullptr;
    if (io.hasOutput(0)) {
      Shape ys = layout_ ? Shape{batch, seq, numDir_, H} : Shape{seq, numDir_, batch, H};
      RtTensor& y = io.allocOutput(0, ir::DataType::kFloat, ys);
      Y = y.as<float>();
      if (y.nbytes) std::memset(Y, 0, y.nbytes);
    }
    float* Yh = io.numOutputs() > 1 && io.hasOutput(1) ? io.allocOutput(1, ir::DataType::kFloat, stateShape).as<float>() : nullptr;
    float* Yc = cell_ == Cell::kLstm && io.numOutputs() > 2 && io.hasOutput(2)
                    ? io.allocOutput(2, ir::DataType::kFloat, stateShape).as<float>()
                    : nullptr;

    const size_t sB = static_cast<size_t>(batch), sH = static_cast<size_t>(H), sG = static_cast<size_t>(G);
    xw_.resize(static_cast<size_t>(seq) * sB * sG);
    rec_.resize(sB * sG);
    h_.resize(sB * sH);
    c_.resize(sB * sH);
    tmp_.resize(sB * sH);
    gate_.resize(4 * sH);
    bias_.resize(sG);
    // Index of a state row [dir, b] in initial_h / Y_h, of X's row (t, b), of Y's row (t, dir, b).
    auto stateRow = [&](int64_t d, int64_t b) { return (layout_ ? b * numDir_ + d : d * batch + b) * H; };
    auto xRow = [&](int64_t t, int64_t b) { return layout_ ? b * seq + t : t * batch + b; };
    auto yRow = [&](int64_t t, int64_t d, int64_t b) {
      return (layout_ ? (b * seq + t) * numDir_ + d : (t * numDir_ + d) * batch + b) * H;
    };

    for (int64_t d = 0; d < numDir_; ++d) {
      const bool reverse = reverseOnly_ || d == 1;
      const float* Wd = W.as<float>() + d * G * in;
      const float* Rd = R.as<float>() + d * G * H;
      const float* Wb = B ? B->as<float>() + d * 2 * G : nullptr;
      const float* Rb = Wb ? Wb + G : nullptr;
      const float* Pd = P ? P->as<float>() + d * 3 * H : nullptr;
      const Activation* act = &acts_[static_cast<size_t>(d * perDir_)];
      // Biases folded into the projection; GRU's Rbh stays apart when applied before the reset.
      for (int64_t g = 0; g < G; ++g) {
        bool keepApart = linearBeforeReset_ && g >= 2 * H;
        bias_[static_cast<size_t>(g)] = Wb ? Wb[g] + (keepApart ? 0.f : Rb[g]) : 0.f;
      }
      const float* rbh = linearBeforeReset_ && Rb ? Rb + 2 * H : nullptr;
      const int64_t rows = seq * batch;
      if (in > 0) {
        projection_[static_cast<size_t>(d)].run(io, Wd, constW_, rows, G, in, X.as<float>(), xw_.data(), G);
        for (int64_t r = 0; r < rows; ++r) {
          float* row = &xw_[static_cast<size_t>(r) * sG];
          for (int64_t g = 0; g < G; ++g) row[g] += bias_[static_cast<size_t>(g)];
        }
      } else {
        for (int64_t r = 0; r < rows; ++r) std::memcpy(&xw_[static_cast<size_t>(r) * sG], bias_.data(), sG * sizeof(float));
      }
      for (int64_t b = 0; b < batch; ++b) {
        float* hb = &h_[static_cast<size_t>(b) * sH];
        float* cb = &c_[static_cast<size_t>(b) * sH];
        if (h0) std::memcpy(hb, h0->as<float>() + stateRow(d, b), sH * sizeof(float));
        else std::fill(hb, hb + H, 0.f);
        if (c0) std::memcpy(cb, c0->as<float>() + stateRow(d, b), sH * sizeof(float));
        else std::fill(cb, cb + H, 0.f);
      }
      const int64_t maxLen = batch ? *std::max_element(len.begin(), len.end()) : 0;
      for (int64_t s = 0; s < maxLen; ++s) {
        // Recurrent product for every row (rows that have ended are ignored below). GRU without
        // linear_before_reset needs r before its h block's product: z and r blocks only here.
        const bool splitGru = cell_ == Cell::kGru && !linearBeforeReset_;
        product_[static_cast<size_t>(2 * d)].run(io, Rd, constR_, batch, splitGru ? 2 * H : G, H, h_.data(), rec_.data(), G);
        for (int64_t b = 0; b < batch; ++b) {
          const int64_t l = len[static_cast<size_t>(b)];
          if (s >= l) continue;
          const int64_t t = reverse ? l - 1 - s : s;
          const float* xw = &xw_[static_cast<size_t>(xRow(t, b)) * sG];
          float* rec = &rec_[static_cast<size_t>(b) * sG];
          float* hb = &h_[static_cast<size_t>(b) * sH];
          float* cb = &c_[static_cast<size_t>(b) * sH];
          switch (cell_) {
            case Cell::kRnn: {
              for (int64_t k = 0; k < H; ++k) rec[k] = clip(rec[k] + xw[k]);
              act[0].apply(rec, H);
              std::memcpy(hb, rec, sH * sizeof(float));
              break;
            }
            case Cell::kGru: {
              float* z = rec;
              float* r = rec + H;
              for (int64_t k = 0; k < 2 * H; ++k) rec[k] = clip(rec[k] + xw[k]);
              act[0].apply(rec, 2 * H);
              if (splitGru) {
                float* rh = &tmp_[static_cast<size_t>(b) * sH];
                for (int64_t k = 0; k < H; ++k) rh[k] = r[k] * hb[k];
              } else {
                float* hh = rec + 2 * H;
                for (int64_t k = 0; k < H; ++k) hh[k] = clip(xw[2 * H + k] + r[k] * (hh[k] + (rbh ? rbh[k] : 0.f)));
                act[1].apply(hh, H);
                for (int64_t k = 0; k < H; ++k) hb[k] = (1.f - z[k]) * hh[k] + z[k] * hb[k];
              }
              break;
            }
            case Cell::kLstm: {
              float* gi = gate_.data();
              float* go = gi + H;
              float* gf = go + H;
              float* gc = gf + H;
              for (int64_t k = 0; k < H; ++k) {
                gi[k] = clip(rec[k] + xw[k] + (Pd ? Pd[k] * cb[k] : 0.f));
                gf[k] = clip(rec[2 * H + k] + xw[2 * H + k] + (Pd ? Pd[2 * H + k] * cb[k] : 0.f));
                gc[k] = clip(rec[3 * H + k] + xw[3 * H + k]);
              }
              act[0].apply(gi, H);
              if (inputForget_) {
                for (int64_t k = 0; k < H; ++k) gf[k] = 1.f - gi[k];
              } else {
                act[0].apply(gf, H);
              }
              act[1].apply(gc, H);
              for (int64_t k = 0; k < H; ++k) {
                cb[k] = gf[k] * cb[k] + gi[k] * gc[k];
                go[k] = clip(rec[H + k] + xw[H + k] + (Pd ? Pd[H + k] * cb[k] : 0.f));
              }
              act[0].apply(go, H);
              std::memcpy(gi, cb, sH * sizeof(float));  // gi is free now: h(C)
              act[2].apply(gi, H);
              for (int64_t k = 0; k < H; ++k) hb[k] = go[k] * gi[k];
              break;
            }
          }
        }
        if (cell_ == Cell::kGru && !linearBeforeReset_) {
          // h block: (r ⊙ H_prev) · Rh^T, for all rows at once, then the update of active rows.
          float* hh = &tmp_[0];
          product_[static_cast<size_t>(2 * d + 1)].run(io, Rd + 2 * H * H, constR_, batch, H, H, hh, rec_.data() + 2 * H, G);
          for (int64_t b = 0; b < batch; ++b) {
            const int64_t l = len[static_cast<size_t>(b)];
            if (s >= l) continue;
            const int64_t t = reverse ? l - 1 - s : s;
            const float* xw = &xw_[static_cast<size_t>(xRow(t, b)) * sG];
            float* rec = &rec_[static_cast<size_t>(b) * sG];
            float* hb = &h_[static_cast<size_t>(b) * sH];
            float* ht = rec + 2 * H;
            for (int64_t k = 0; k < H; ++k) ht[k] = clip(ht[k] + xw[2 * H + k]);
            act[1].apply(ht, H);
            for (int64_t k = 0; k < H; ++k) hb[k] = (1.f - rec[k]) * ht[k] + rec[k] * hb[k];
          }
        }
        if (Y)
          for (int64_t b = 0; b < batch; ++b) {
            const int64_t l = len[static_cast<size_t>(b)];
            if (s >= l) continue;
            const int64_t t = reverse ? l - 1 - s : s;
            std::memcpy(Y + yRow(t, d, b), &h_[static_cast<size_t>(b) * sH], sH * sizeof(float));
          }
      }
      for (int64_t b = 0; b < batch; ++b) {
        if (Yh) std::memcpy(Yh + stateRow(d, b), &h_[static_cast<size_t>(b) * sH], sH * sizeof(float));
        if (Yc) std::memcpy(Yc + stateRow(d, b), &c_[static_cast<size_t>(b) * sH], sH * sizeof(float));
      }
    }
  }

 private:
  float clip(float x) const { return std::min(clip_, std::max(-clip_, x)); }

  static const RtTensor& floatInput(const KernelIo& io, size_t i, const char* name) {
    const RtTensor* t = io.input(i);
    if (!t) throwRunError(io, std::string("input ") + name + " is missing");
    if (t->dtype != ir::DataType::kFloat)
      throwRunError(io, std::string("input ") + name + " is " + std::string(ir::dtypeName(t->dtype)) + ", expected float");
    return *t;
  }
  static const RtTensor* optional(const KernelIo& io, size_t i, const char* name) {
    if (i >= io.numInputs() || !io.input(i)) return nullptr;
    return &floatInput(io, i, name);
  }
  static void expectShape(const KernelIo& io, const RtTensor& t, const Shape& want, const char* name) {
    if (t.dims != want)
      throwRunError(io, std::string(name) + " has shape " + shapeString(t.dims) + ", expected " + shapeString(want));
  }
  Cell cell_;
  int64_t gates_ = 1, numDir_ = 1, hidden_ = -1, layout_ = 0;
  int perDir_ = 1;
  bool reverseOnly_ = false, linearBeforeReset_ = false, inputForget_ = false;
  float clip_ = std::numeric_limits<float>::infinity();
  std::vector<Activation> acts_;
  // Scratch kept between runs: projections, recurrent products, states, gate rows.
  std::vector<float> xw_, rec_, h_, c_, tmp_, gate_, bias_;
  bool constR_ = false;  // R is an initializer: its step products keep reordered weights
  StepProduct product_[4];
  bool constW_ = false;
  StepProduct projection_[2];  // per direction: X · Wᵀ  // per direction: all gates (or GRU's z, r), and GRU's h block
};

}  // namespace

void registerRecurrentKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "RNN", 1, 1000, [](const KernelBuildContext& c) { return std::make_unique<RecurrentKernel>(c, Cell::kRnn); }});
  r.add(KernelEntry{"", "GRU", 1, 1000, [](const KernelBuildContext& c) { return std::make_unique<RecurrentKernel>(c, Cell::kGru); }});
  r.add(KernelEntry{"", "LSTM", 1, 1000, [](const KernelBuildContext& c) { return std::make_unique<RecurrentKernel>(c, Cell::kLstm); }});
}

}  // namespace effdl::runtime
