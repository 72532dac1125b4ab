// What effdl writes for a person at a terminal and for a log: colour only with --color always or
// on a terminal without NO_COLOR/CI/TERM=dumb; progress as a live line (carriage returns) on a
// terminal, one line per step start and end otherwise, nothing with -q. A pseudo-terminal comes
// from util-linux `script`.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "ir/onnx_export.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

class CliTerminal : public ::testing::Test {
 protected:
  TempDir dir;
  int runs = 0;
  // BatchNorm folding removes nodes: the table has a ratio below 1.00x to paint.
  std::string model() const { return "'" + (sourceDir() / "models" / "digits_cnn.onnx").string() + "'"; }
  std::string quick() const { return " --bench-iters 3 --fidelity-samples 2 --threads 1"; }
  std::string out() { return " -o '" + (dir / ("o" + std::to_string(runs++) + ".onnx")).string() + "'"; }
  // effdl with `args` under a clean environment (`env` adds variables), stdout and stderr on a
  // pipe each.
  CommandResult piped(const std::string& args, const std::string& env = "") {
    return runCommand("env -u CI -u NO_COLOR TERM=xterm " + env + " " + EFFDL_BINARY + " " + args);
  }
  // The same on a pseudo-terminal: stdout and stderr both reach it, returned in `out`.
  CommandResult onTerminal(const std::string& args, const std::string& env = "") {
    // No `script`, or no pseudo-terminal to be had (some containers): exitCode -1, the caller skips.
    if (runCommand("script -qec true /dev/null </dev/null").exitCode != 0) return {};
    auto script = dir / ("cmd" + std::to_string(runs) + ".sh");
    writeFile(script, "exec env -u CI -u NO_COLOR TERM=xterm " + env + " " + EFFDL_BINARY + " " + args + "\n");
    return runCommand("script -qec 'sh " + script.string() + "' /dev/null </dev/null");
  }
  static bool hasEscape(const std::string& s) { return s.find("\x1b[") != std::string::npos; }
  // A carriage return that does not end a line (a terminal turns "\n" into "\r\n").
  static bool redraws(const std::string& s) {
    for (size_t p = s.find('\r'); p != std::string::npos; p = s.find('\r', p + 1))
      if (p + 1 < s.size() && s[p + 1] != '\n') return true;
    return false;
  }
};

TEST_F(CliTerminal, ColorAlwaysNeverAndAuto) {
  auto always = piped("optimize " + model() + out() + quick() + " --color always");
  ASSERT_EQ(always.exitCode, 0) << always.err;
  EXPECT_NE(always.out.find("\x1b[32m0.82x\x1b[0m"), std::string::npos) << "nodes 11 -> 9, green:\n" << always.out;
  auto never = piped("optimize " + model() + out() + quick() + " --color never");
  ASSERT_EQ(never.exitCode, 0) << never.err;
  EXPECT_FALSE(hasEscape(never.out)) << never.out;
  auto pipe = piped("optimize " + model() + out() + quick());
  EXPECT_FALSE(hasEscape(pipe.out)) << "auto on a pipe: " << pipe.out;
  auto bad = piped("optimize " + model() + out() + " --color sometimes");
  EXPECT_EQ(bad.exitCode, 1) << bad.err;

  auto tty = onTerminal("optimize " + model() + out() + quick());
  if (tty.exitCode == -1) GTEST_SKIP() << "no pseudo-terminal (util-linux script) here";
  ASSERT_EQ(tty.exitCode, 0) << tty.out;
  EXPECT_NE(tty.out.find("\x1b[32m0.82x"), std::string::npos) << "auto on a terminal colours:\n" << tty.out;
  for (const char* env : {"CI=true", "NO_COLOR=1", "TERM=dumb"}) {
    auto plain = onTerminal("optimize " + model() + out() + quick(), env);
    ASSERT_EQ(plain.exitCode, 0) << env << ": " << plain.out;
    EXPECT_FALSE(hasEscape(plain.out)) << env << ": " << plain.out;
    if (std::string(env) != "NO_COLOR=1") {
      EXPECT_FALSE(redraws(plain.out)) << env << ": no live progress either:\n" << plain.out;
    }
  }
  auto forced = onTerminal("optimize " + model() + out() + quick() + " --color never");
  EXPECT_FALSE(hasEscape(forced.out)) << forced.out;
}

TEST_F(CliTerminal, FailedGateIsRedInTheBatchAndSingleTables) {
  auto r = piped("optimize " + model() + out() + quick() + " --fail-if 'size>0.5x' --color always");
  EXPECT_EQ(r.exitCode, 5) << r.err;
  EXPECT_NE(r.out.find("\x1b[31mgate FAILED:\x1b[0m size"), std::string::npos) << r.out;
  writeFile(dir / "bad.onnx", "not a model");
  auto b = piped("optimize " + model() + " '" + (dir / "bad.onnx").string() + "' --out-dir '" + (dir / "b").string() +
                 "'" + quick() + " --color always");
  EXPECT_EQ(b.exitCode, 6) << b.err;
  EXPECT_NE(b.out.find("\x1b[32mok\x1b[0m"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("\x1b[31mfailed (invalid_model)\x1b[0m"), std::string::npos) << b.out;
}

TEST_F(CliTerminal, InspectColoursWhatTheRuntimeCannotRun) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17, "com.example" : 2]>
    g (float[2] x) => (float[2] y) { a = com.example.Mystery(x)  y = Relu(a) })");
  ir::saveModel(*m, dir / "m.onnx");
  auto r = piped("inspect '" + (dir / "m.onnx").string() + "' --color always");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("runtime: \x1b[31mno kernel in effdl's runtime for com.example.Mystery (opset 2, 1 node)\x1b[0m:"),
            std::string::npos)
      << r.out;
  auto ok = piped("inspect " + model() + " --color always");
  EXPECT_NE(ok.out.find("\x1b[32meffdl's runtime has a kernel for every op\x1b[0m"), std::string::npos) << ok.out;
  auto never = piped("inspect '" + (dir / "m.onnx").string() + "' --color never");
  EXPECT_FALSE(hasEscape(never.out)) << never.out;
  EXPECT_FALSE(hasEscape(piped("inspect '" + (dir / "m.onnx").string() + "'").out)) << "auto on a pipe";
}

TEST_F(CliTerminal, ProgressIsOneLinePerStepOffATerminal) {
  auto r = piped("optimize " + model() + out() + quick() + " --quantize static --calib random:12");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  EXPECT_FALSE(hasEscape(r.err)) << r.err;
  // Each step: one line when it starts, one when it ends, nothing in between.
  for (const std::string step : {"quantize calibration", "bench original", "bench optimized"}) {
    const std::string prefix = "effdl: " + step + ": ";
    size_t lines = 0;
    for (size_t p = r.err.find(prefix); p != std::string::npos; p = r.err.find(prefix, p + 1)) ++lines;
    EXPECT_EQ(lines, 2u) << step << " in\n" << r.err;
  }
  EXPECT_NE(r.err.find("effdl: quantize calibration: 0/12\n"), std::string::npos) << r.err;
  EXPECT_TRUE(std::regex_search(r.err, std::regex("effdl: quantize calibration: 12/12 in [0-9.]+ s\n"))) << r.err;
  EXPECT_NE(r.err.find("effdl: bench original: 0/4\n"), std::string::npos) << "1 warm-up + 3 timed runs:\n" << r.err;
  // With --variants each step names its variant.
  auto v = piped("optimize " + model() + out() + quick() + " --variants 'baseline;int8' --calib random:8");
  ASSERT_EQ(v.exitCode, 0) << v.err;
  EXPECT_NE(v.err.find("effdl: variant int8: quantize calibration: 0/8\n"), std::string::npos) << v.err;
  EXPECT_NE(v.err.find("effdl: variant baseline: bench optimized: 4/4 in "), std::string::npos) << v.err;
  // CI set: the same lines, even on a terminal.
  auto ci = onTerminal("optimize " + model() + out() + quick() + " --quantize static --calib random:12", "CI=1");
  if (ci.exitCode == -1) GTEST_SKIP() << "no pseudo-terminal (util-linux script) here";
  EXPECT_FALSE(redraws(ci.out)) << ci.out;
  EXPECT_NE(ci.out.find("effdl: quantize calibration: 0/12\r\n"), std::string::npos) << ci.out;
  // -q: errors only.
  auto quiet = piped("-q optimize " + model() + out() + quick() + " --quantize static --calib random:12");
  ASSERT_EQ(quiet.exitCode, 0) << quiet.err;
  EXPECT_EQ(quiet.err.find("calibration"), std::string::npos) << quiet.err;
  EXPECT_EQ(quiet.err.find("bench"), std::string::npos) << quiet.err;
}

TEST_F(CliTerminal, ProgressIsALiveLineOnATerminal) {
  auto r = onTerminal("optimize " + model() + out() + quick() + " --quantize static --calib random:12 --json");
  if (r.exitCode == -1) GTEST_SKIP() << "no pseudo-terminal (util-linux script) here";
  ASSERT_EQ(r.exitCode, 0) << r.out;
  EXPECT_NE(r.out.find("\rquantize calibration 0/12"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\rbench optimized 4/4"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("effdl: quantize calibration"), std::string::npos) << "no log lines on a terminal";
  auto bench = onTerminal("bench " + model() + " --iters 5 --warmup 1 --threads 1");
  EXPECT_NE(bench.out.find("\rbench 0/6"), std::string::npos) << bench.out;
}

TEST_F(CliTerminal, BatchProgress) {
  auto a = dir / "a.onnx", b = dir / "b.onnx";
  fs::copy_file(sourceDir() / "models" / "mlp.onnx", a);
  fs::copy_file(sourceDir() / "models" / "mlp.onnx", b);
  auto r = piped("optimize '" + a.string() + "' '" + b.string() + "' --out-dir '" + (dir / "out").string() + "'" +
                 quick());
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.rfind("effdl: batch: 0/2\n", 0), 0u) << "the children draw nothing of their own:\n" << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 4) << "start, one line per model, end:\n" << r.err;
  EXPECT_NE(r.err.find("effdl: batch: 2/2 in"), std::string::npos) << r.err;
  auto t = onTerminal("optimize '" + a.string() + "' '" + b.string() + "' --out-dir '" + (dir / "out2").string() +
                      "'" + quick());
  if (t.exitCode == -1) GTEST_SKIP() << "no pseudo-terminal (util-linux script) here";
  EXPECT_NE(t.out.find("\rbatch 0/2"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("ok      " + a.string()), std::string::npos) << t.out;
}

}  // namespace
}  // namespace effdl::test
