'use strict';
// Minimal hand-written protobuf decoder/encoder for onnx.TensorProto.
//
// Only what the ORT harness needs: dense tensors stored inline (raw_data or the
// typed *_data fields). Values are represented as
//   { name: string, type: <ort type string>, dims: number[], data: TypedArray | string[] }
// where `data` is the TypedArray kind that ort.Tensor expects for `type`
// (float16 -> Uint16Array of IEEE half bit patterns, bool -> Uint8Array,
// int64 -> BigInt64Array, uint64 -> BigUint64Array, string -> string[]).

// onnx.TensorProto.DataType -> ort.Tensor type string
const ONNX_TO_ORT = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
};
const ORT_TO_ONNX = {};
for (const [k, v] of Object.entries(ONNX_TO_ORT)) ORT_TO_ONNX[v] = Number(k);

// Names of the ONNX data types we do not support, for error messages.
const ONNX_TYPE_NAMES = {
  0: 'UNDEFINED', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
  17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ',
  21: 'UINT4', 22: 'INT4', 23: 'FLOAT4E2M1',
};

const TYPED_ARRAY = {
  float32: Float32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
  float16: Uint16Array,
  float64: Float64Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
};

// Thrown when the bytes are not a (supported) dense TensorProto, e.g. an
// onnx.SequenceProto / OptionalProto / MapProto test-data file.
class NotATensorError extends Error {
  constructor(message) {
    super(message);
    this.name = 'NotATensorError';
    this.code = 'NOT_TENSOR';
  }
}

// ---------------------------------------------------------------------------
// protobuf wire-format reading

class Reader {
  constructor(buf, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  eof() {
    return this.pos >= this.end;
  }

  // Reads a varint as two uint32 halves [lo, hi].
  varint64() {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    let byte;
    // first 4 bytes -> 28 bits of lo
    for (; shift < 28; shift += 7) {
      if (this.pos >= this.end) throw new NotATensorError('truncated varint');
      byte = b[this.pos++];
      lo |= (byte & 0x7f) << shift;
      if (byte < 0x80) return [lo >>> 0, 0];
    }
    // 5th byte: 4 bits into lo, 3 bits into hi
    if (this.pos >= this.end) throw new NotATensorError('truncated varint');
    byte = b[this.pos++];
    lo |= (byte & 0x0f) << 28;
    hi = (byte & 0x7f) >> 4;
    if (byte < 0x80) return [lo >>> 0, hi >>> 0];
    for (shift = 3; shift < 32; shift += 7) {
      if (this.pos >= this.end) throw new NotATensorError('truncated varint');
      byte = b[this.pos++];
      hi |= (byte & 0x7f) << shift;
      if (byte < 0x80) return [lo >>> 0, hi >>> 0];
    }
    throw new NotATensorError('malformed varint');
  }

  // Varint as a JS number (for tags, lengths, enums); exact up to 2^53.
  uint() {
    const [lo, hi] = this.varint64();
    return hi * 4294967296 + lo;
  }

  bytes() {
    const len = this.uint();
    if (this.pos + len > this.end) throw new NotATensorError('truncated length-delimited field');
    const s = this.pos;
    this.pos += len;
    return this.buf.subarray(s, s + len);
  }

  skip(wire) {
    switch (wire) {
      case 0: this.varint64(); break;
      case 1: this.pos += 8; break;
      case 2: { const len = this.uint(); this.pos += len; break; }
      case 5: this.pos += 4; break;
      default: throw new NotATensorError(`unsupported wire type ${wire}`);
    }
    if (this.pos > this.end) throw new NotATensorError('truncated field');
  }
}

function toBigInt64(lo, hi) {
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
}
function toBigUint64(lo, hi) {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

// Copies bytes into a fresh, properly aligned ArrayBuffer.
function alignedCopy(bytes) {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out.buffer;
}

// Reads a repeated varint field (packed or not) into `out` via `push(lo, hi)`.
function readRepeatedVarint(r, wire, push) {
  if (wire === 0) {
    const [lo, hi] = r.varint64();
    push(lo, hi);
  } else if (wire === 2) {
    const sub = r.bytes();
    const rr = new Reader(sub);
    while (!rr.eof()) {
      const [lo, hi] = rr.varint64();
      push(lo, hi);
    }
  } else {
    throw new NotATensorError(`bad wire type ${wire} for varint field`);
  }
}

// Reads a repeated fixed32/fixed64 field (packed or not) into an array of byte chunks.
function readRepeatedFixed(r, wire, size, chunks) {
  const expectWire = size === 4 ? 5 : 1;
  if (wire === expectWire) {
    if (r.pos + size > r.end) throw new NotATensorError('truncated fixed field');
    chunks.push(r.buf.subarray(r.pos, r.pos + size));
    r.pos += size;
  } else if (wire === 2) {
    const sub = r.bytes();
    if (sub.length % size !== 0) throw new NotATensorError('packed fixed field length not a multiple of element size');
    chunks.push(sub);
  } else {
    throw new NotATensorError(`bad wire type ${wire} for fixed${size * 8} field`);
  }
}

function concatChunks(chunks) {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

function numElements(dims) {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/**
 * Decodes an onnx.TensorProto. Throws NotATensorError if the bytes do not look
 * like a dense, inline, supported TensorProto.
 */
function decodeTensorProto(buf) {
  if (!(buf instanceof Uint8Array)) buf = new Uint8Array(buf);
  try {
    return decodeTensorProtoStrict(buf);
  } catch (e) {
    if (e instanceof NotATensorError && looksLikeContainerProto(buf)) {
      throw new NotATensorError('looks like an onnx.SequenceProto/OptionalProto/MapProto, not a TensorProto');
    }
    throw e;
  }
}

// True if the bytes parse as onnx.SequenceProto / OptionalProto / MapProto, which share the
// layout name=1 (string), elem_type/key_type=2 (varint), 3..7 (sub-messages; MapProto keys=3 varints).
function looksLikeContainerProto(buf) {
  try {
    const r = new Reader(buf);
    let sawType = false;
    while (!r.eof()) {
      const tag = r.uint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 1) {
        if (wire !== 2) return false;
        const b = r.bytes();
        new TextDecoder('utf-8', { fatal: true }).decode(b); // throws on invalid UTF-8
      } else if (field === 2) {
        if (wire !== 0) return false;
        const v = r.uint();
        if (v > 16) return false;
        sawType = true;
      } else if (field >= 3 && field <= 7) {
        if (wire !== 2 && !(field === 3 && wire === 0)) return false;
        r.skip(wire);
      } else {
        return false;
      }
    }
    return sawType || buf.length === 0;
  } catch (_) {
    return false;
  }
}

function decodeTensorProtoStrict(buf) {
  const r = new Reader(buf);
  const dims = [];
  let dataType = 0;
  let name = '';
  let raw = null;
  const floatChunks = [];
  const doubleChunks = [];
  const int32Vals = [];
  const int64Vals = [];
  const uint64Vals = [];
  const strings = [];
  let dataLocation = 0;
  let hasExternal = false;
  let hasSegment = false;

  while (!r.eof()) {
    const tag = r.uint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    switch (field) {
      case 1: // dims
        readRepeatedVarint(r, wire, (lo, hi) => {
          const v = toBigInt64(lo, hi);
          if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new NotATensorError(`invalid dim ${v}`);
          dims.push(Number(v));
        });
        break;
      case 2: // data_type
        if (wire !== 0) throw new NotATensorError('bad wire type for data_type');
        dataType = r.uint();
        break;
      case 3: // segment
        if (wire !== 2) throw new NotATensorError('bad wire type for segment');
        hasSegment = true;
        r.skip(wire);
        break;
      case 4: // float_data
        readRepeatedFixed(r, wire, 4, floatChunks);
        break;
      case 5: // int32_data
        readRepeatedVarint(r, wire, (lo) => int32Vals.push(lo | 0));
        break;
      case 6: // string_data
        if (wire !== 2) throw new NotATensorError('bad wire type for string_data');
        strings.push(r.bytes());
        break;
      case 7: // int64_data
        readRepeatedVarint(r, wire, (lo, hi) => int64Vals.push(toBigInt64(lo, hi)));
        break;
      case 8: // name
        if (wire !== 2) throw new NotATensorError('bad wire type for name');
        name = Buffer.from(r.bytes()).toString('utf8');
        break;
      case 9: // raw_data
        if (wire !== 2) throw new NotATensorError('bad wire type for raw_data');
        raw = r.bytes();
        break;
      case 10: // double_data
        readRepeatedFixed(r, wire, 8, doubleChunks);
        break;
      case 11: // uint64_data
        readRepeatedVarint(r, wire, (lo, hi) => uint64Vals.push(toBigUint64(lo, hi)));
        break;
      case 12: // doc_string
        if (wire !== 2) throw new NotATensorError('bad wire type for doc_string');
        r.skip(wire);
        break;
      case 13: // external_data
        if (wire !== 2) throw new NotATensorError('bad wire type for external_data');
        hasExternal = true;
        r.skip(wire);
        break;
      case 14: // data_location
        if (wire !== 0) throw new NotATensorError('bad wire type for data_location');
        dataLocation = r.uint();
        break;
      case 16: // metadata_props
        r.skip(wire);
        break;
      default:
        throw new NotATensorError(`unexpected field ${field} (not a TensorProto?)`);
    }
  }

  if (dataType === 0) throw new NotATensorError('data_type not set (not a TensorProto?)');
  const type = ONNX_TO_ORT[dataType];
  if (!type) {
    throw new NotATensorError(`unsupported tensor data type ${ONNX_TYPE_NAMES[dataType] || dataType}`);
  }
  if (hasSegment) throw new NotATensorError('segmented TensorProto not supported');
  if (hasExternal || dataLocation === 1) throw new NotATensorError('external-data TensorProto not supported');

  const n = numElements(dims);
  let data;
  if (type === 'string') {
    if (raw) throw new NotATensorError('string tensor with raw_data');
    data = strings.map((s) => Buffer.from(s).toString('utf8'));
  } else {
    const TA = TYPED_ARRAY[type];
    if (raw) {
      if (raw.length !== n * TA.BYTES_PER_ELEMENT) {
        throw new NotATensorError(`raw_data size ${raw.length} does not match dims [${dims}] of ${type}`);
      }
      data = new TA(alignedCopy(raw));
    } else {
      switch (type) {
        case 'float32':
          data = new Float32Array(alignedCopy(concatChunks(floatChunks)));
          break;
        case 'float64':
          data = new Float64Array(alignedCopy(concatChunks(doubleChunks)));
          break;
        case 'int64':
          data = BigInt64Array.from(int64Vals);
          break;
        case 'uint64':
          data = BigUint64Array.from(uint64Vals);
          break;
        case 'uint32':
          // stored in uint64_data per onnx.proto
          data = Uint32Array.from(uint64Vals.map((v) => Number(BigInt.asUintN(32, v))));
          break;
        case 'bool':
          data = Uint8Array.from(int32Vals.map((v) => (v ? 1 : 0)));
          break;
        default: // int32, int16, uint16, int8, uint8, float16 all stored in int32_data
          data = TA.from(int32Vals);
          break;
      }
    }
  }
  if (data.length !== n) {
    throw new NotATensorError(`element count ${data.length} does not match dims [${dims}]`);
  }
  return { name, dataType, type, dims, data };
}

// ---------------------------------------------------------------------------
// protobuf wire-format writing

class Writer {
  constructor() {
    this.parts = [];
  }

  raw(bytes) {
    this.parts.push(Buffer.from(bytes.buffer ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes));
  }

  varint(v) {
    // v: non-negative number or bigint (two's complement 64-bit for negatives)
    let x = typeof v === 'bigint' ? BigInt.asUintN(64, v) : BigInt.asUintN(64, BigInt(v));
    const out = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.parts.push(Buffer.from(out));
  }

  tag(field, wire) {
    this.varint(field * 8 + wire);
  }

  bytesField(field, bytes) {
    this.tag(field, 2);
    this.varint(bytes.length);
    this.raw(bytes);
  }

  stringField(field, s) {
    this.bytesField(field, Buffer.from(s, 'utf8'));
  }

  varintField(field, v) {
    this.tag(field, 0);
    this.varint(v);
  }

  packedVarints(field, values) {
    const w = new Writer();
    for (const v of values) w.varint(v);
    this.bytesField(field, w.finish());
  }

  messageField(field, writer) {
    this.bytesField(field, writer.finish());
  }

  finish() {
    return Buffer.concat(this.parts);
  }
}

/**
 * Encodes a tensor as an onnx.TensorProto (dims, data_type, name, raw_data or string_data).
 * `t` = { name, type, dims, data } where data is a TypedArray (any TypedArray with the right
 * byte layout, e.g. Float16Array or Uint16Array for float16) or string[] for 'string'.
 */
function encodeTensorProto(t) {
  const dataType = ORT_TO_ONNX[t.type];
  if (!dataType) throw new Error(`cannot encode tensor type ${t.type}`);
  const w = new Writer();
  if (t.dims.length) w.packedVarints(1, t.dims);
  w.varintField(2, dataType);
  if (t.type === 'string') {
    for (const s of t.data) w.bytesField(6, Buffer.from(String(s), 'utf8'));
  }
  if (t.name) w.stringField(8, t.name);
  if (t.type !== 'string') {
    const d = t.data;
    w.bytesField(9, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return w.finish();
}

module.exports = {
  ONNX_TO_ORT,
  ORT_TO_ONNX,
  TYPED_ARRAY,
  NotATensorError,
  decodeTensorProto,
  looksLikeContainerProto,
  encodeTensorProto,
  numElements,
  Reader,
  Writer,
};
