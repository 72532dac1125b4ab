// The process-wide oneDNN engine, per-thread streams and scratch (see dnnl_context.h).
#include "runtime/dnnl_context.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>

#include "core/error.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace effdl::runtime {

const dnnl::engine& dnnlEngine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& dnnlStream() {
  thread_local dnnl::stream stream(dnnlEngine());
  return stream;
}

dnnl::memory::dims toDnnlDims(const Shape& s) { return dnnl::memory::dims(s.begin(), s.end()); }

dnnl::memory::format_tag plainTag(size_t rank) {
  using tag = dnnl::memory::format_tag;
  switch (rank) {
    case 1: return tag::a;
    case 2: return tag::ab;
    case 3: return tag::abc;
    case 4: return tag::abcd;
    case 5: return tag::abcde;
    case 6: return tag::abcdef;
    default: throwInternal("plainTag: rank " + std::to_string(rank) + " is not supported");
  }
}

dnnl::memory::format_tag channelsLastTag(size_t rank) {
  using tag = dnnl::memory::format_tag;
  switch (rank) {
    case 3: return tag::acb;
    case 4: return tag::acdb;
    case 5: return tag::acdeb;
    default: throwInternal("channelsLastTag: rank " + std::to_string(rank) + " is not supported");
  }
}

int dnnlThreads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

DnnlThreadScope::DnnlThreadScope(int threads) : saved_(dnnlThreads()) {
#ifdef _OPENMP
  if (threads > 0) omp_set_num_threads(threads);
#else
  (void)threads;
#endif
}

DnnlThreadScope::~DnnlThreadScope() {
#ifdef _OPENMP
  omp_set_num_threads(saved_);
#endif
}

namespace {
struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
struct ScratchBuffer {
  std::unique_ptr<void, FreeDeleter> data;
  size_t bytes = 0;
};
}  // namespace

void* dnnlScratch(int slot, size_t bytes) {
  thread_local std::array<ScratchBuffer, 4> buffers;
  if (slot < 0 || slot >= static_cast<int>(buffers.size())) throwInternal("dnnlScratch: bad slot");
  ScratchBuffer& b = buffers[static_cast<size_t>(slot)];
  if (b.bytes < bytes || !b.data) {
    // 64-byte alignment: what oneDNN's vector kernels prefer.
    size_t rounded = (std::max<size_t>(bytes, 64) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    if (!p) throwInternal("out of memory for " + std::to_string(rounded) + " bytes of kernel scratch");
    b.data.reset(p);
    b.bytes = rounded;
  }
  return b.data.get();
}

void dnnlRelayout(const RtTensor& t, bool fromChannelsLast, void* to) {
  using dt = dnnl::memory::data_type;
  dt type = dt::f32;
  switch (t.dtype) {
    case ir::DataType::kFloat: type = dt::f32; break;
    case ir::DataType::kUint8: type = dt::u8; break;
    case ir::DataType::kInt8: type = dt::s8; break;
    case ir::DataType::kInt32: type = dt::s32; break;
    default: throwInternal("dnnlRelayout: no layout conversion for " + std::string(ir::dtypeName(t.dtype)) + " data");
  }
  const size_t rank = t.dims.size();
  const auto plain = plainTag(rank), last = channelsLastTag(rank);
  const auto& eng = dnnlEngine();
  dnnl::memory src({toDnnlDims(t.dims), type, fromChannelsLast ? last : plain}, eng, const_cast<void*>(t.data));
  dnnl::memory dst({toDnnlDims(t.dims), type, fromChannelsLast ? plain : last}, eng, to);
  dnnl::reorder(src, dst).execute(dnnlStream(), src, dst);
  dnnlStream().wait();
}

void* dnnlRelayoutToScratch(const RtTensor& t, bool fromChannelsLast, int slot) {
  void* to = dnnlScratch(slot, t.nbytes);
  dnnlRelayout(t, fromChannelsLast, to);
  return to;
}

void throwDnnlError(const std::string& describe, const dnnl::error& e) {
  throwInternal(describe + ": oneDNN failed: " + e.what() + " (status " + std::to_string(static_cast<int>(e.status)) +
                ")");
}

}  // namespace effdl::runtime
