// ONNX text that libonnx's parser rejects becomes one invalid-model error line, with the
// position and the problem but not the quoted text libonnx appends on further lines.
#include <gtest/gtest.h>

#include "test_util.h"

namespace effdl::test {
namespace {

TEST(TextParseErrors, OneLineWithPositionAndProblem) {
  std::string message;
  const char* text = R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x) => (float[2] y) {
  y = Relu(x
})";
  EXPECT_EQ(kindOf([&] { parse(text); }, &message), ErrorKind::kInvalidModel);
  EXPECT_EQ(message.rfind("<text>: parse error: [ParseError at position (line: ", 0), 0u) << message;
  EXPECT_NE(message.find("not found"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.find("Error context"), std::string::npos) << message;
}

TEST(TextParseErrors, EinsumWithUpperCaseLabelsAndNoOutputIsRefusedBeforeInference) {
  // Found by fuzz_text: libonnx 1.12 counts implicit-output labels in a 26-letter array; 'H'
  // wrote outside it (ASan: a bad free). With '->' the same labels load.
  expectError([] { parse(R"(
    <ir_version: 7, opset_import: ["" : 12]>
    g (double[5] x, double[5] y) => (double z) { z = Einsum <equation = "H,i"> (x, y) })"); },
              ErrorKind::kUnsupported, "equation 'H,i' has upper-case labels and no '->' output");
  EXPECT_NO_THROW(parse(R"(
    <ir_version: 7, opset_import: ["" : 12]>
    g (double[5] x, double[5] y) => (double z) { z = Einsum <equation = "H,H->"> (x, y) })"));
}

TEST(TextParseErrors, BadNumbersAreParseErrors) {
  // Found by fuzz_text: libonnx's parser let std::stof's exceptions escape.
  for (const char* value : {"/.0", "1e999999"}) {
    SCOPED_TRACE(value);
    std::string text = std::string(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x) => (float[2] y) {
  c = Constant <value = float[2] {1.0, )") + value + R"(}> ()
  y = Add(x, c)
})";
    expectError([&] { parse(text); }, ErrorKind::kInvalidModel, "<text>: parse error");
  }
}

TEST(TextParseErrors, TheSameTextCompletedParses) {
  EXPECT_NO_THROW(parse(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x) => (float[2] y) {
  y = Relu(x)
})"));
}

}  // namespace
}  // namespace effdl::test
