// oneDNN plumbing shared by the heavy kernels (conv, matmul): the one CPU engine of the process, a
// stream per thread, memory descriptors from runtime shapes, a per-thread scratch arena for
// layout conversions, and the translation of oneDNN's errors into effdl's.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <cstddef>
#include <string>

#include "runtime/rt_tensor.h"

namespace effdl::runtime {

// One CPU engine for the whole process: engines are cheap to share and primitives built on one
// engine can run on any stream of it.
const dnnl::engine& dnnlEngine();
// This thread's stream. With oneDNN's OpenMP runtime a stream is only an execution context, so one
// per thread is enough: a session runs its kernels on the thread that called run().
dnnl::stream& dnnlStream();

// Shapes → oneDNN dims (same values, oneDNN's type).
dnnl::memory::dims toDnnlDims(const Shape& s);
// Row-major (abc…) and channels-last (acb, acdb, acdeb: N, spatial…, C) tags for 1–6-D tensors.
dnnl::memory::format_tag plainTag(size_t rank);
dnnl::memory::format_tag channelsLastTag(size_t rank);
inline dnnl::memory::desc f32Desc(const Shape& s, dnnl::memory::format_tag tag) {
  return dnnl::memory::desc(toDnnlDims(s), dnnl::memory::data_type::f32, tag);
}

// The OpenMP thread count primitives are created for now. oneDNN's JIT kernels fix their thread
// partition when a primitive is created, so a primitive must be run under the same count it was
// made for: kernels key their cached primitives by this value.
int dnnlThreads();

// Sets the OpenMP thread count for the current thread while it lives (session build creates
// primitives for the session's count, which run() later sets).
class DnnlThreadScope {
 public:
  explicit DnnlThreadScope(int threads);
  ~DnnlThreadScope();
  DnnlThreadScope(const DnnlThreadScope&) = delete;
  DnnlThreadScope& operator=(const DnnlThreadScope&) = delete;

 private:
  int saved_;
};

// Scratch memory for reorders around a primitive (e.g. NCHW ↔ NHWC copies of activations),
// shared by all kernels that run on this thread: kernels run one at a time per thread and never
// hold a scratch pointer across runs. `slot` (0–3) lets one kernel use several buffers at once.
// The buffers grow to the largest request and live as long as the thread.
void* dnnlScratch(int slot, size_t bytes);

// Copies t between row-major (N, C, spatial…) and channels-last (N, spatial…, C) into `to`
// (t.nbytes bytes) and waits for it: the layout conversion around kernels that compute in NCHW
// while fused groups pass channels-last values. f32, u8, s8 or s32 data.
void dnnlRelayout(const RtTensor& t, bool fromChannelsLast, void* to);
// The same into this thread's scratch `slot` (see dnnlScratch); returns the converted data.
void* dnnlRelayoutToScratch(const RtTensor& t, bool fromChannelsLast, int slot);

// oneDNN failed while running: an internal error naming the node (shapes were checked before).
[[noreturn]] void throwDnnlError(const std::string& describe, const dnnl::error& e);

}  // namespace effdl::runtime
