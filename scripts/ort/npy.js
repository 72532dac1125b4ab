'use strict';
// Minimal NumPy .npy reader/writer (little-endian, C order).
// Writes format version 1.0; reads 1.0, 2.0 and 3.0 headers.
// Tensor representation is the same as tensor_proto.js: { name, type, dims, data }.

const { TYPED_ARRAY, numElements } = require('./tensor_proto');

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

// ort type -> numpy descr
const ORT_TO_DESCR = {
  float32: '<f4',
  float64: '<f8',
  float16: '<f2',
  uint8: '|u1',
  int8: '|i1',
  uint16: '<u2',
  int16: '<i2',
  int32: '<i4',
  int64: '<i8',
  uint32: '<u4',
  uint64: '<u8',
  bool: '|b1',
};

// (kind, itemsize) -> ort type
const KIND_SIZE_TO_ORT = {
  f4: 'float32', f8: 'float64', f2: 'float16',
  u1: 'uint8', i1: 'int8', u2: 'uint16', i2: 'int16',
  i4: 'int32', i8: 'int64', u4: 'uint32', u8: 'uint64', b1: 'bool',
};

function parseHeaderDict(text) {
  // e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) throw new Error(`cannot parse .npy header: ${text.trim()}`);
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(v) || v < 0) throw new Error(`bad .npy shape: (${shape[1]})`);
      return v;
    });
  return { descr: descr[1], fortranOrder: fortran[1] === 'True', dims };
}

/** Reads a .npy buffer into { name: '', type, dims, data }. */
function decodeNpy(buf) {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new Error('not a .npy file (bad magic)');
  const major = buf[6];
  let headerLen;
  let offset;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    offset = 10;
  } else if (major === 2 || major === 3) {
    headerLen = buf.readUInt32LE(8);
    offset = 12;
  } else {
    throw new Error(`unsupported .npy version ${major}.${buf[7]}`);
  }
  const header = buf.subarray(offset, offset + headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const { descr, fortranOrder, dims } = parseHeaderDict(header);
  const body = buf.subarray(offset + headerLen);
  const n = numElements(dims);

  if (fortranOrder && dims.filter((d) => d > 1).length > 1) {
    throw new Error('fortran_order .npy files are not supported');
  }

  const order = descr[0];
  const kind = descr[1];
  const size = Number(descr.slice(2));
  if (order === '>' && size > 1) throw new Error(`big-endian .npy not supported (${descr})`);

  if (kind === 'U') {
    // fixed-width UTF-32LE strings, NUL padded
    const data = [];
    for (let i = 0; i < n; i++) {
      let s = '';
      for (let j = 0; j < size; j++) {
        const cp = body.readUInt32LE((i * size + j) * 4);
        if (cp === 0) break;
        s += String.fromCodePoint(cp);
      }
      data.push(s);
    }
    return { name: '', type: 'string', dims, data };
  }
  if (kind === 'S' || kind === 'a') {
    const data = [];
    for (let i = 0; i < n; i++) {
      const chunk = body.subarray(i * size, (i + 1) * size);
      let end = chunk.indexOf(0);
      if (end < 0) end = chunk.length;
      data.push(chunk.subarray(0, end).toString('utf8'));
    }
    return { name: '', type: 'string', dims, data };
  }
  if (kind === 'O') throw new Error('object-dtype (pickled) .npy files are not supported');

  const type = KIND_SIZE_TO_ORT[`${kind}${size}`];
  if (!type) throw new Error(`unsupported .npy dtype ${descr}`);
  const TA = TYPED_ARRAY[type];
  const nbytes = n * TA.BYTES_PER_ELEMENT;
  if (body.length < nbytes) throw new Error(`.npy data truncated: need ${nbytes} bytes, have ${body.length}`);
  const copy = new Uint8Array(nbytes);
  copy.set(body.subarray(0, nbytes));
  let data = new TA(copy.buffer);
  if (type === 'bool') data = data.map((v) => (v ? 1 : 0));
  return { name: '', type, dims, data };
}

function shapeString(dims) {
  if (dims.length === 0) return '()';
  if (dims.length === 1) return `(${dims[0]},)`;
  return `(${dims.join(', ')})`;
}

function buildHeader(descr, dims) {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeString(dims)}, }`;
  // total of magic(6)+version(2)+len(2)+dict+'\n' must be a multiple of 64
  const unpadded = 10 + dict.length + 1;
  const pad = (64 - (unpadded % 64)) % 64;
  dict = dict + ' '.repeat(pad) + '\n';
  const head = Buffer.alloc(10);
  MAGIC.copy(head, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1')]);
}

/** Encodes { type, dims, data } as a .npy (v1.0) buffer. */
function encodeNpy(t) {
  if (t.type === 'string') {
    const cps = t.data.map((s) => Array.from(String(s), (c) => c.codePointAt(0)));
    const width = Math.max(1, ...cps.map((a) => a.length));
    const body = Buffer.alloc(cps.length * width * 4);
    cps.forEach((a, i) => a.forEach((cp, j) => body.writeUInt32LE(cp, (i * width + j) * 4)));
    return Buffer.concat([buildHeader(`<U${width}`, t.dims), body]);
  }
  const descr = ORT_TO_DESCR[t.type];
  if (!descr) throw new Error(`cannot write tensor type ${t.type} to .npy`);
  const d = t.data;
  const body = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.concat([buildHeader(descr, t.dims), body]);
}

module.exports = { decodeNpy, encodeNpy };
