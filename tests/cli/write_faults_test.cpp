// Faults while writing an output (issue 9, item 6, without batch mode): a read-only output
// folder, a full disk (a file-size limit, `ulimit -f`), SIGKILL in the middle of a large write.
// After each: no file at the output path, no temp file left (except after SIGKILL, which no
// process can clean up after: then only a .tmp- file, never a partial file at the final path),
// the input unchanged, the documented exit code and a one-line message.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "cli/hostile_model.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

// y = Add(x, w) with w a float initializer of `floats` elements (raw_data, so inside the file).
std::string bigModel(int64_t floats) {
  auto m = addModel();
  auto* g = m.mutable_graph();
  auto* w = g->mutable_initializer(0);
  w->set_dims(0, floats);
  std::string raw(static_cast<size_t>(floats) * 4, '\0');
  for (size_t i = 0; i < raw.size(); i += 4097) raw[i] = static_cast<char>(i);
  w->set_raw_data(std::move(raw));
  for (auto* vi : {g->mutable_input(0), g->mutable_output(0)})
    vi->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_value(floats);
  return m.SerializeAsString();
}

std::vector<std::string> tempFiles(const fs::path& dir) {
  std::vector<std::string> temps;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) temps.push_back(e.path().string());
  return temps;
}

class WriteFaults : public ::testing::Test {
 protected:
  TempDir dir;
  fs::path input() const { return dir / "in" / "model.onnx"; }
  void SetUp() override {
    fs::create_directories(dir / "in");
    fs::create_directories(dir / "out");
  }
  void expectNoOutput(const fs::path& out) {
    EXPECT_FALSE(fs::exists(out)) << out;
    EXPECT_TRUE(tempFiles(out.parent_path()).empty());
  }
};

TEST_F(WriteFaults, FileSizeLimitIsAnIoErrorWithoutLeftovers) {
  // 1 MiB of weights against a 256 KiB file-size limit: the write fails with EFBIG.
  writeFile(input(), bigModel(256 * 1024));
  const std::string before = readFile(input());
  const fs::path out = dir / "out" / "model.onnx";
  for (const char* command : {"convert", "optimize"}) {
    SCOPED_TRACE(command);
    auto r = runCommand("ulimit -f 256; " + std::string(EFFDL_BINARY) + " " + command + " '" + input().string() +
                        "' -o '" + out.string() + "'");
    EXPECT_EQ(r.exitCode, kIo) << r.err;
    EXPECT_EQ(r.err.rfind("effdl: " + out.string() + ": write failed: File too large", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    expectNoOutput(out);
  }
  EXPECT_EQ(readFile(input()), before);
}

TEST_F(WriteFaults, ReadOnlyOutputFolder) {
  // Root writes through any mode bits, so the writer runs as nobody when the test runs as root.
  writeFile(input(), addModel().SerializeAsString());
  const std::string before = readFile(input());
  std::string prefix;
  if (::geteuid() == 0) {
    if (!fs::exists("/usr/bin/setpriv")) GTEST_SKIP() << "running as root without setpriv to drop privileges";
    prefix = "/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups ";
    fs::permissions(dir.path(), fs::perms::all, fs::perm_options::add);  // nobody reaches the folders
    fs::permissions(input(), fs::perms::others_read, fs::perm_options::add);
  }
  fs::permissions(dir / "out", fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  const fs::path out = dir / "out" / "model.onnx";
  for (const char* command : {"convert", "optimize"}) {
    SCOPED_TRACE(command);
    auto r = runCommand(prefix + EFFDL_BINARY + " " + command + " '" + input().string() + "' -o '" + out.string() + "'");
    EXPECT_EQ(r.exitCode, kIo) << r.err;
    EXPECT_EQ(r.err.rfind("effdl: " + out.string() + ": cannot create a file in '" + (dir / "out").string() + "'", 0),
              0u)
        << r.err;
    EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    expectNoOutput(out);
  }
  EXPECT_EQ(readFile(input()), before);
}

TEST_F(WriteFaults, SigkillDuringALargeWriteLeavesNoPartialOutput) {
  // 32 MiB of weights; effdl is killed as soon as its temp file has bytes in it.
  writeFile(input(), bigModel(8 * 1024 * 1024));
  const auto beforeSize = fs::file_size(input());
  const std::string beforeHead = readFile(input()).substr(0, 1 << 20);
  const fs::path out = dir / "out" / "model.onnx";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl(EFFDL_BINARY, EFFDL_BINARY, "convert", input().c_str(), "-o", out.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool killedMidWrite = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    auto temps = tempFiles(dir / "out");
    std::error_code ec;
    if (!temps.empty() && fs::file_size(temps[0], ec) > 0 && !ec) {
      ::kill(pid, SIGKILL);
      killedMidWrite = true;
      break;
    }
    if (::waitpid(pid, nullptr, WNOHANG) == pid) break;  // finished before we saw it writing
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  int status = 0;
  if (killedMidWrite) ::waitpid(pid, &status, 0);
  if (!killedMidWrite) GTEST_SKIP() << "effdl finished before the temp file was seen (machine too fast)";
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  EXPECT_FALSE(fs::exists(out)) << "a partial file at the final path";
  EXPECT_EQ(fs::file_size(input()), beforeSize);
  EXPECT_EQ(readFile(input()).substr(0, 1 << 20), beforeHead);
  // What SIGKILL leaves is only a hidden, uniquely named temp file, never the output's name.
  for (const auto& e : fs::directory_iterator(dir / "out"))
    EXPECT_EQ(e.path().filename().string().rfind(".model.onnx.tmp-", 0), 0u) << e.path();
}

}  // namespace
}  // namespace effdl::test
