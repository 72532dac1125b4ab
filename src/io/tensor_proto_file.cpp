// TensorProto .pb files (see tensor_proto_file.h). Before protobuf parses anything, a scan of the
// top-level wire format bounds what parsing will allocate; after a failed parse as a tensor, the
// same scan tells a sequence, optional or map (onnx-data.proto) from a corrupt file.
#include "io/tensor_proto_file.h"

#include <onnx/onnx_pb.h>

#include <climits>
#include <optional>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "io/byte_limit.h"
#include "ir/model_validator.h"
#include "ir/proto_convert.h"

namespace effdl::io {
namespace {

struct WireField {
  uint32_t number = 0;
  uint32_t wireType = 0;
  uint64_t varint = 0;                // wire type 0
  std::span<const uint8_t> payload;  // wire types 1, 2, 5
};

bool readVarint(std::span<const uint8_t> b, size_t& pos, uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64 && pos < b.size(); shift += 7) {
    const uint8_t byte = b[pos++];
    out |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

// The top-level fields of a protobuf message; nullopt when the bytes are not one (groups, which
// no ONNX message uses, count as malformed).
std::optional<std::vector<WireField>> scanMessage(std::span<const uint8_t> b) {
  std::vector<WireField> fields;
  size_t pos = 0;
  while (pos < b.size()) {
    uint64_t tag = 0;
    if (!readVarint(b, pos, tag)) return std::nullopt;
    WireField f;
    f.number = static_cast<uint32_t>(tag >> 3);
    f.wireType = static_cast<uint32_t>(tag & 7);
    if (f.number == 0 || (tag >> 3) > 0x1FFFFFFF) return std::nullopt;
    size_t len = 0;
    switch (f.wireType) {
      case 0:
        if (!readVarint(b, pos, f.varint)) return std::nullopt;
        break;
      case 1: len = 8; break;
      case 5: len = 4; break;
      case 2: {
        uint64_t n = 0;
        if (!readVarint(b, pos, n) || n > b.size() - pos) return std::nullopt;
        len = static_cast<size_t>(n);
        break;
      }
      default: return std::nullopt;
    }
    if (len > b.size() - pos) return std::nullopt;
    f.payload = b.subspan(pos, len);
    pos += len;
    fields.push_back(f);
  }
  return fields;
}

// Dims beyond this are no tensor anyone wrote; the cap keeps parsing them cheap.
constexpr uint64_t kMaxDims = 1 << 16;

// Upper bound of the data fields' memory once parsed as a TensorProto: raw_data as is, packed
// numbers one slot per varint however short, each string with its std::string. Names and other
// metadata cost no more than their bytes in the file. For a raw_data tensor this is its size.
// Returns nullopt when the proto lists more than kMaxDims dims.
std::optional<uint64_t> dataSizeBound(const std::vector<WireField>& fields) {
  constexpr uint64_t kStringOverhead = 32;
  uint64_t n = 0, dims = 0;
  auto varints = [](std::span<const uint8_t> p) {
    uint64_t c = 0;
    for (uint8_t byte : p) c += (byte & 0x80) ? 0 : 1;
    return c;
  };
  for (const auto& f : fields) {
    const bool packed = f.wireType == 2;
    switch (f.number) {
      case 1: dims += packed ? varints(f.payload) : 1; break;           // dims
      case 4: n += packed ? f.payload.size() : 4; break;                // float_data
      case 5: n += packed ? 4 * varints(f.payload) : 4; break;          // int32_data
      case 6: n += f.payload.size() + kStringOverhead; break;           // string_data
      case 7:                                                           // int64_data
      case 11: n += packed ? 8 * varints(f.payload) : 8; break;         // uint64_data
      case 9: n += f.payload.size(); break;                             // raw_data
      case 10: n += packed ? f.payload.size() : 8; break;               // double_data
      default: break;
    }
  }
  if (dims > kMaxDims) return std::nullopt;
  return n;
}

// What a file that failed to read as a TensorProto holds instead, when its top level has the shape
// of one of onnx-data.proto's other messages:
//   SequenceProto / OptionalProto: 1 name, 2 elem_type (1 tensor … 5 optional), 3-7 elements.
//   MapProto: 1 name, 2 key_type (a tensor dtype), 3 keys, 4 string_keys, 5 values.
std::optional<std::string> describeNonTensor(std::span<const uint8_t> b) {
  auto fields = scanMessage(b);
  if (!fields) return std::nullopt;
  // Wire types each field number may have in the two message shapes.
  auto fitsSequence = [](const WireField& f) {
    if (f.number == 2) return f.wireType == 0;
    return f.number <= 7 && f.wireType == 2;
  };
  auto fitsMap = [](const WireField& f) {
    if (f.number == 2) return f.wireType == 0;
    if (f.number == 3) return f.wireType == 0 || f.wireType == 2;
    return f.number <= 5 && f.wireType == 2;
  };
  bool seqShape = true, mapShape = true;
  int counts[8] = {};
  std::optional<uint64_t> kind;
  for (const auto& f : *fields) {
    seqShape = seqShape && fitsSequence(f);
    mapShape = mapShape && fitsMap(f);
    if (f.number < 8) ++counts[f.number];
    if (f.number == 2) kind = f.varint;
  }
  if (!kind) return std::nullopt;
  if (seqShape && *kind <= 5) {
    const int elements = counts[3] + counts[4] + counts[5] + counts[6] + counts[7];
    if (elements == 0) return std::string("an empty sequence or optional");
    const int elementField = static_cast<int>(*kind) + 2;  // TENSOR=1 → field 3, … OPTIONAL=5 → field 7
    if (*kind != 0 && counts[elementField] == elements)
      return std::string(elements == 1 ? "an optional or a one-element sequence" : "a sequence");
  }
  const bool keyIsDtype = *kind >= 2 && (*kind <= 8 || *kind == 12 || *kind == 13);
  if (mapShape && keyIsDtype && counts[5] <= 1) return std::string("a map");
  return std::nullopt;
}

}  // namespace

NamedTensor readTensorProtoBytes(std::span<const uint8_t> bytes, const std::string& display, uint64_t maxBytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    throwUnsupported(display + ": protobuf files above 2 GiB are not supported (" + std::to_string(bytes.size()) +
                     " bytes)");
  if (bytes.empty()) throwInvalid(display + ": empty file, not a TensorProto");
  auto fields = scanMessage(bytes);
  if (!fields) throwInvalid(display + ": not a TensorProto (malformed protobuf)");
  auto bound = dataSizeBound(*fields);
  if (!bound) throwInvalid(display + ": lists more than " + std::to_string(kMaxDims) + " dims");
  checkByteLimit(*bound, maxBytes, display);

  onnx::TensorProto proto;
  try {
    if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
      throwInvalid(display + ": not a TensorProto (protobuf parse failed)");
    if (proto.has_data_location() && proto.data_location() == onnx::TensorProto::EXTERNAL)
      throwUnsupported(display + ": tensor '" + proto.name() + "' refers to external data, which tensor files do not support");
    const uint64_t need = ir::validateTensor(proto, display);
    checkByteLimit(need, maxBytes, display + ": tensor '" + proto.name() + "'");
  } catch (const Error&) {
    // Any failure as a tensor may be a file of another kind; say so when the bytes show it.
    if (auto what = describeNonTensor(bytes))
      throwUnsupported(display + ": holds " + *what + " (onnx-data.proto), not a tensor; effdl reads tensors only");
    throw;
  }
  NamedTensor out;
  out.name = proto.name();
  out.tensor = ir::tensorFromProto(proto, nullptr);
  return out;
}

NamedTensor readTensorProto(const std::filesystem::path& path, uint64_t maxBytes) {
  auto file = MappedFile::open(path);
  return readTensorProtoBytes({file->data(), file->size()}, path.string(), maxBytes);
}

void writeTensorProto(const std::filesystem::path& path, const NamedTensor& t) {
  onnx::TensorProto proto;
  ir::tensorToProto(t.tensor, t.name, &proto);
  const size_t size = proto.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX))
    throwUnsupported(path.string() + ": tensor '" + t.name + "' needs " + std::to_string(size) +
                     " bytes, above protobuf's 2 GiB limit; write it as .npy instead");
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) throwInternal(path.string() + ": could not serialize tensor '" + t.name + "'");
  AtomicFileWriter w(path);
  w.write(bytes);
  w.commit();
}

}  // namespace effdl::io
