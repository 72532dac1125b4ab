// hash-embeddings: detection (through Cast/Reshape, tied tables, constant indices), the in-graph
// hash against a C++ reference on every id, kept ids, qr/cluster reconstructions, the byte
// budget, calibration frequencies and determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "eval/sample_set.h"
#include "io/npy.h"
#include "ir/onnx_export.h"
#include "passes/pipeline.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

// A [v, d] table whose rows are all different.
std::string tableText(int64_t v, int64_t d) {
  std::ostringstream s;
  s << "float[" << v << "," << d << "] emb = {";
  for (int64_t i = 0; i < v * d; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.5f", std::sin(0.37 * static_cast<double>(i)) + 1e-3 * static_cast<double>(i / d));
    s << (i ? ", " : "") << buf;
  }
  return s.str() + "}";
}

// y = Gather(emb, Reshape(Cast(ids)))  (int32 ids in, through Cast and Reshape).
std::string lookupModel(int64_t v, int64_t d, int64_t n) {
  std::ostringstream s;
  s << "<ir_version: 8, opset_import: [\"\" : 17]>\n"
    << "g (int32[" << n << "] ids) => (float[" << n << "," << d << "] y) <" << tableText(v, d)
    << ", int64[1] shape = {" << n << "}> {\n"
    << "  i = Cast <to = 7> (ids)\n  r = Reshape(i, shape)\n  y = Gather(emb, r)\n}\n";
  return s.str();
}

std::map<std::string, std::string> metadataFields(const ir::Model& m, const std::string& table) {
  const std::string* s = m.findMetadata("effdl.hash_embeddings." + table);
  EXPECT_NE(s, nullptr);
  std::map<std::string, std::string> f;
  if (!s) return f;
  std::stringstream in(*s);
  std::string kv;
  while (std::getline(in, kv, ';')) {
    auto eq = kv.find('=');
    if (eq != std::string::npos) f[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return f;
}

const ir::Tensor& init(const ir::Model& m, const std::string& name) {
  const ir::Value* v = m.graph->findValue(name);
  if (!v || !v->isInitializer()) throw std::runtime_error("no initializer " + name);
  return v->initializer();
}

// Runs the model on ids (int32) and returns y.
std::vector<float> lookup(const ir::Model& m, const std::vector<int32_t>& ids) {
  runtime::Session s(m, runtime::SessionOptions{1});
  ir::Tensor t = ir::Tensor::fromVector(ir::DataType::kInt32, {static_cast<int64_t>(ids.size())}, ids);
  auto out = s.run({{"ids", &t}});
  auto v = out.at(0).values<float>();
  return {v.begin(), v.end()};
}

std::vector<int32_t> allIds(int64_t v) {  // -v .. v-1: negative ids count from the end
  std::vector<int32_t> ids;
  for (int64_t i = -v; i < v; ++i) ids.push_back(static_cast<int32_t>(i));
  return ids;
}

double layerValue(const passes::PassResult& r, const std::string& column) {
  for (size_t c = 0; c < r.layerColumns.size(); ++c)
    if (r.layerColumns[c] == column) return r.layers.at(0).second.at(c);
  ADD_FAILURE() << "no column " << column;
  return 0;
}

TEST(HashEmbeddings, PlainComputesTheHashOnEveryIdAndKeepsKeptIds) {
  const int64_t v = 300, d = 4;
  auto m = parse(lookupModel(v, d, 2 * v));
  std::vector<float> original(init(*m, "emb").values<float>().begin(), init(*m, "emb").values<float>().end());
  auto r = runPass(*m, "hash-embeddings{buckets=40,keep-ids=[0;7;299],min-rows=1}");
  ASSERT_EQ(r.counter("tables hashed"), 1);
  auto f = metadataFields(*m, "emb");
  ASSERT_EQ(f["mode"], "plain");
  const int64_t a = std::stoll(f["a"]), b = std::stoll(f["b"]), p = std::stoll(f["p"]), k = std::stoll(f["hash_buckets"]);
  EXPECT_EQ(k, 40 - 3);
  const std::vector<int64_t> kept = {0, 7, 299};
  auto kt = init(*m, "emb_kept_ids").values<int32_t>();
  ASSERT_EQ(std::vector<int64_t>(kt.begin(), kt.end()), kept);
  auto table = init(*m, "emb_hashed").values<float>();
  ASSERT_EQ(table.size(), static_cast<size_t>(40 * d));
  auto ids = allIds(v);
  auto y = lookup(*m, ids);
  for (size_t n = 0; n < ids.size(); ++n) {
    const int64_t id = ids[n] < 0 ? ids[n] + v : ids[n];
    int64_t row = -1;
    for (size_t j = 0; j < kept.size(); ++j)
      if (kept[j] == id) row = static_cast<int64_t>(j);
    if (row < 0) row = 3 + ((a * id + b) % p) % k;
    for (int64_t c = 0; c < d; ++c) ASSERT_EQ(y[n * d + c], table[static_cast<size_t>(row * d + c)]) << "id " << ids[n];
    if (row < 3) {  // a kept id keeps its own row exactly
      for (int64_t c = 0; c < d; ++c) ASSERT_EQ(y[n * d + c], original[static_cast<size_t>(id * d + c)]);
    }
  }
}

TEST(HashEmbeddings, PlainRowsAreTheMeansOfTheirIds) {
  const int64_t v = 120, d = 3;
  auto m = parse(lookupModel(v, d, v));
  std::vector<float> e(init(*m, "emb").values<float>().begin(), init(*m, "emb").values<float>().end());
  runPass(*m, "hash-embeddings{buckets=16,min-rows=1}");
  auto f = metadataFields(*m, "emb");
  const int64_t a = std::stoll(f["a"]), b = std::stoll(f["b"]), p = std::stoll(f["p"]), k = 16;
  std::vector<double> sum(static_cast<size_t>(k * d), 0.0), cnt(static_cast<size_t>(k), 0.0);
  for (int64_t i = 0; i < v; ++i) {
    const int64_t row = ((a * i + b) % p) % k;
    cnt[static_cast<size_t>(row)] += 1;
    for (int64_t c = 0; c < d; ++c) sum[static_cast<size_t>(row * d + c)] += e[static_cast<size_t>(i * d + c)];
  }
  auto t = init(*m, "emb_hashed").values<float>();
  for (int64_t row = 0; row < k; ++row)
    for (int64_t c = 0; c < d; ++c) {
      const double want = cnt[static_cast<size_t>(row)] ? sum[static_cast<size_t>(row * d + c)] / cnt[static_cast<size_t>(row)] : 0.0;
      EXPECT_NEAR(t[static_cast<size_t>(row * d + c)], want, 1e-5);
    }
}

TEST(HashEmbeddings, PlainSpreadsConsecutiveIdsEvenly) {
  // 2000 consecutive ids into 400 rows (400 buckets, or 397 beside 3 kept ids): a balanced hash
  // leaves few buckets empty (uniform random hashing: ~400·e⁻⁵ ≈ 3) and none overfull.
  for (const char* keep : {"", ",keep-ids=[0;1;2]"}) {
    auto m = parse(lookupModel(2000, 1, 4));
    auto r = runPass(*m, std::string("hash-embeddings{buckets=400,min-rows=1") + keep + "}");
    EXPECT_LE(layerValue(r, "load_empty"), 4) << keep;
    EXPECT_LE(layerValue(r, "load_max"), 2.5 * layerValue(r, "load_mean")) << keep;
  }
}

TEST(HashEmbeddings, EveryModeStaysWithinTheByteBudget) {
  for (const char* mode : {"plain", "qr", "cluster"}) {
    auto m = parse(lookupModel(400, 8, 4));
    auto r = runPass(*m, std::string("hash-embeddings{ratio=0.3,min-rows=1,mode=") + mode + "}");
    ASSERT_EQ(r.counter("tables hashed"), 1) << mode;
    const double before = layerValue(r, "bytes_before"), after = layerValue(r, "bytes_after");
    EXPECT_EQ(before, 400.0 * 8 * 4);
    EXPECT_LE(after, 0.3 * before) << mode;
    EXPECT_GT(after, 0.2 * before) << mode << ": the budget should be used";
    EXPECT_EQ(r.counter("bytes saved"), static_cast<int64_t>(before - after));
    EXPECT_EQ(m->graph->findValue("emb"), nullptr) << "the original table is gone";
  }
}

TEST(HashEmbeddings, QuotientRemainderFitsASumTableAndKeepsIdsUnique) {
  // E[i] = A[i mod 16] + B[i div 16]: a qr pair with m = 16 (16 + ⌈60/16⌉ = 20 rows) fits exactly.
  const int64_t v = 60, d = 3, m = 16;
  std::ostringstream s;
  s << "<ir_version: 8, opset_import: [\"\" : 17]>\ng (int32[" << 2 * v << "] ids) => (float[" << 2 * v << "," << d
    << "] y) <float[" << v << "," << d << "] emb = {";
  for (int64_t i = 0; i < v; ++i)
    for (int64_t c = 0; c < d; ++c)
      s << (i + c ? ", " : "") << std::sin(1.7 * static_cast<double>((i % m) * d + c)) + 3 * std::cos(0.9 * static_cast<double>((i / m) * d + c));
  s << "}> {\n  y = Gather(emb, ids)\n}\n";
  auto model = parse(s.str());
  std::vector<float> e(init(*model, "emb").values<float>().begin(), init(*model, "emb").values<float>().end());
  auto r = runPass(*model, "hash-embeddings{mode=qr,buckets=20,iters=60,min-rows=1}");
  EXPECT_EQ(metadataFields(*model, "emb")["m"], "16");
  EXPECT_LT(layerValue(r, "rel_frobenius_error"), 1e-4);
  auto e1 = init(*model, "emb_qr_remainder").values<float>();
  auto e2 = init(*model, "emb_qr_quotient").values<float>();
  ASSERT_EQ(e1.size(), static_cast<size_t>(16 * d));
  ASSERT_EQ(e2.size(), static_cast<size_t>(4 * d));
  auto ids = allIds(v);
  auto y = lookup(*model, ids);
  for (size_t n = 0; n < ids.size(); ++n) {
    const int64_t id = ids[n] < 0 ? ids[n] + v : ids[n];
    for (int64_t c = 0; c < d; ++c) {
      EXPECT_EQ(y[n * d + c], e1[static_cast<size_t>((id % m) * d + c)] + e2[static_cast<size_t>((id / m) * d + c)]);
      EXPECT_NEAR(y[n * d + c], e[static_cast<size_t>(id * d + c)], 1e-3);
    }
  }
}

TEST(HashEmbeddings, ClusterIndexIsInt16AndBeatsPlainOnClusteredRows) {
  // 200 rows around 8 well-separated centres.
  const int64_t v = 200, d = 4;
  std::ostringstream s;
  s << "<ir_version: 8, opset_import: [\"\" : 17]>\ng (int32[" << 2 * v << "] ids) => (float[" << 2 * v << "," << d
    << "] y) <float[" << v << "," << d << "] emb = {";
  for (int64_t i = 0; i < v; ++i)
    for (int64_t c = 0; c < d; ++c)
      s << (i + c ? ", " : "") << 10 * std::sin(static_cast<double>((i * 7 % 8) * d + c)) + 0.01 * std::sin(static_cast<double>(i * d + c));
  s << "}> {\n  y = Gather(emb, ids)\n}\n";
  auto plain = parse(s.str());
  auto rp = runPass(*plain, "hash-embeddings{buckets=8,min-rows=1}");
  auto model = parse(s.str());
  auto r = runPass(*model, "hash-embeddings{mode=cluster,buckets=8,iters=20,min-rows=1}");
  EXPECT_LT(layerValue(r, "rel_frobenius_error"), 0.5 * layerValue(rp, "rel_frobenius_error"));
  const ir::Tensor& index = init(*model, "emb_cluster_index");
  ASSERT_EQ(index.dtype(), ir::DataType::kInt16);
  auto idx = index.values<int16_t>();
  auto c = init(*model, "emb_centroids").values<float>();
  auto ids = allIds(v);
  auto y = lookup(*model, ids);
  for (size_t n = 0; n < ids.size(); ++n) {
    const int64_t id = ids[n] < 0 ? ids[n] + v : ids[n];
    for (int64_t k = 0; k < d; ++k) ASSERT_EQ(y[n * d + k], c[static_cast<size_t>(idx[static_cast<size_t>(id)] * d + k)]);
  }
}

constexpr const char* kTied = R"(
  <ir_version: 8, opset_import: ["" : 17]>
  g (int64[4] ids, float[1,2] x) => (float[4,2] y, float[1,6] logits)
    <float[6,2] emb = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0},
     int64[2] pos = {0, 1}>
  {
    y = Gather(emb, ids)
    p = Gather(emb, pos)
    t = Transpose(emb)
    logits = MatMul(x, t)
  })";

TEST(HashEmbeddings, TiedTablesAreReportedAndLeftAlone) {
  auto m = parse(kTied);
  auto r = runPass(*m, "hash-embeddings{buckets=3,min-rows=1}");
  EXPECT_EQ(print(*m), canonical(kTied));
  EXPECT_EQ(r.counter("embedding tables found"), 1);
  EXPECT_EQ(r.declined["indices are constant"], 1);
  EXPECT_EQ(r.declined["table shared with other readers (tied); --hash-tied expand hashes it"], 1);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes[0].find("[6 x 2] 48 bytes, 1 lookup(s), ids from 'ids', shared with 2 other reader(s)"),
            std::string::npos)
      << r.notes[0];
}

TEST(HashEmbeddings, TiedExpandFeedsTheRebuiltTableToTheProjection) {
  auto m = parse(kTied);
  auto r = runPass(*m, "hash-embeddings{buckets=3,min-rows=1,tied=expand}");
  ASSERT_EQ(r.counter("tables hashed"), 1);
  EXPECT_EQ(r.counter("tied readers fed the expanded table"), 2);
  runtime::Session s(*m, runtime::SessionOptions{1});
  std::vector<int64_t> ids{0, 1, 2, 3};
  ir::Tensor it = ir::Tensor::fromVector(ir::DataType::kInt64, {4}, ids);
  ir::Tensor xt = ir::Tensor::fromVector(ir::DataType::kFloat, {1, 2}, std::vector<float>{1.0f, -2.0f});
  auto out = s.run({{"ids", &it}, {"x", &xt}});
  auto y = out[0].values<float>();
  auto logits = out[1].values<float>();
  auto t = init(*m, "emb_hashed").values<float>();
  auto f = metadataFields(*m, "emb");
  const int64_t a = std::stoll(f["a"]), b = std::stoll(f["b"]), p = std::stoll(f["p"]);
  for (int64_t i = 0; i < 6; ++i) {
    const int64_t row = ((a * i + b) % p) % 3;
    EXPECT_FLOAT_EQ(logits[static_cast<size_t>(i)], t[static_cast<size_t>(row * 2)] - 2 * t[static_cast<size_t>(row * 2 + 1)]);
    if (i < 4) {
      EXPECT_EQ(y[static_cast<size_t>(i * 2)], t[static_cast<size_t>(row * 2)]);
    }
  }
}

TEST(HashEmbeddings, SmallTablesAndOptionErrors) {
  auto m = parse(lookupModel(50, 2, 3));
  auto r = runPass(*m, "hash-embeddings");
  EXPECT_EQ(r.declined["fewer rows than min-rows"], 1);
  EXPECT_FALSE(r.changed);
  expectError([&] { runPass(*m, "hash-embeddings{min-rows=1,keep-top=3}"); }, ErrorKind::kUsage, "--calib");
  expectError([&] { runPass(*m, "hash-embeddings{min-rows=1,ratio=1.5}"); }, ErrorKind::kUsage, "ratio");
  expectError([&] { runPass(*m, "hash-embeddings{min-rows=1,mode=qr,keep-ids=[1]}"); }, ErrorKind::kUsage, "mode plain");
  expectError([&] { runPass(*m, "hash-embeddings{min-rows=1,keep-ids=[50]}"); }, ErrorKind::kUsage, "outside table");
  expectError([&] { runPass(*m, "hash-embeddings{min-rows=1,buckets=2,keep-ids=[1;2]}"); }, ErrorKind::kUsage, "budget");
}

TEST(HashEmbeddings, OldOpsetsAreLeftAlone) {
  std::string text = lookupModel(50, 2, 3);
  text.replace(text.find("\"\" : 17"), 7, "\"\" : 11");
  auto m = parse(text);
  auto r = runPass(*m, "hash-embeddings{min-rows=1}");
  EXPECT_EQ(r.declined["model opset below 12"], 1);
  EXPECT_EQ(print(*m), canonical(text));
}

TEST(HashEmbeddings, KeepTopTakesTheMostFrequentCalibrationIds) {
  const int64_t v = 64, d = 2;
  TempDir dir;
  // ids 9 (x5), 33 (x4), then 1..6 once each: keep-top 2 keeps 9 and 33.
  std::vector<int32_t> calib{9, 9, 9, 9, 9, 33, 33, 33, 33, 1, 2, 3, 4, 5, 6};
  io::writeNpy(dir / "ids.npy", ir::Tensor::fromVector(ir::DataType::kInt32, {15}, calib));
  auto samples = eval::SampleSet::open(dir.path().string(), uint64_t{1} << 30, 0);
  auto m = parse(lookupModel(v, d, 15));
  auto pipeline = passes::parsePipelineSpec("hash-embeddings{buckets=10,keep-top=2,min-rows=1}");
  passes::PassContext ctx;
  ctx.calib = &samples;
  auto reports = passes::runPipeline(*m, pipeline, ctx);
  auto kept = init(*m, "emb_kept_ids").values<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(kept.begin(), kept.end()), (std::vector<int32_t>{9, 33}));
  EXPECT_NE(metadataFields(*m, "emb")["weights"], "");
}

TEST(HashEmbeddings, SameInputAndOptionsGiveIdenticalBytes) {
  for (const char* spec : {"hash-embeddings{buckets=30,keep-ids=[0;1],min-rows=1}",
                           "hash-embeddings{mode=qr,ratio=0.4,min-rows=1}",
                           "hash-embeddings{mode=cluster,ratio=0.5,min-rows=1}"}) {
    auto a = parse(lookupModel(200, 4, 8)), b = parse(lookupModel(200, 4, 8));
    runPass(*a, spec);
    runPass(*b, spec);
    EXPECT_EQ(ir::serializeModel(*a), ir::serializeModel(*b)) << spec;
  }
}

}  // namespace
}  // namespace effdl::test
