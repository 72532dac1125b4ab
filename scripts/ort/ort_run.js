#!/usr/bin/env node
'use strict';
// ONNX Runtime harness for effdl tests (onnxruntime-node, CPU).
//
// Usage:
//   node ort_run.js check
//   node ort_run.js run MODEL (--input-dir DIR | --random SEED) --output-dir OUT [--threads N] [--graph-opt L]
//   node ort_run.js compare MODEL_A MODEL_B (--input-dir DIR | --random SEED) [--expected-dir DIR] [--json]
//                           [--threads N] [--graph-opt L]
//   node ort_run.js batch JOBS.json [--threads N] [--graph-opt L] [--strict-expected]
//   node ort_run.js bench MODEL [--threads N] [--warmup W] [--iters N] [--random SEED] [--dims name=value,...]
//                         [--int-high N|auto] [--json]
//
// Input directories hold either input_<i>.pb (onnx.TensorProto; matched to the model inputs by the
// proto's name when it names a model input, else by <i>) or <name>.npy files.
//
// Exit codes:
//   0  check ok / run ok / compare: all outputs bit-identical / batch: no different, failed_b or error
//   1  compare: outputs differ (or expected mismatch with --expected-dir) / batch: some job failed /
//      check: onnxruntime-node unusable
//   2  usage or harness error (bad arguments, missing input files, ...)
//   3  ORT cannot load or run model A (bench: the model), or the inputs are of an unsupported kind
//      (sequence/optional/...): the caller should report "skipped: <message>"
//   4  model A loads and runs but model B fails to load or run (a real failure of B)
//
// Options:
//   --threads N        intra-op threads (default 1, which keeps ORT deterministic)
//   --graph-opt L      ORT graph optimization level: disabled|basic|extended|layout|all (default: all,
//                      ORT's own default)

const fs = require('fs');
const path = require('path');
const { decodeTensorProto, encodeTensorProto, NotATensorError, Reader, Writer, TYPED_ARRAY, numElements } =
  require('./tensor_proto');
const { decodeNpy, encodeNpy } = require('./npy');

const EXIT = { OK: 0, DIFFERENT: 1, USAGE: 2, SKIP: 3, FAIL_B: 4 };

// ---------------------------------------------------------------------------
// errors

class HarnessError extends Error {} // bad usage / missing files: exit 2, batch status "error"
class UnsupportedInputError extends Error {} // sequence/optional/map inputs: treated as "skipped"

// ---------------------------------------------------------------------------
// ORT loading

let ortModule = null;
function loadOrt() {
  if (ortModule) return ortModule;
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    const hint = e && e.code === 'MODULE_NOT_FOUND'
      ? ' (run scripts/ort/install.sh to install it)'
      : '';
    throw new HarnessError(`cannot load onnxruntime-node${hint}: ${e.message.split('\n')[0]}`);
  }
  try {
    ort.env.logLevel = 'error';
  } catch (_) { /* older versions */ }
  ortModule = ort;
  return ort;
}

function sessionOptions(opts) {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: opts.graphOpt,
    logSeverityLevel: 4,
  };
}

async function createSession(modelPath, opts) {
  const ort = loadOrt();
  if (!fs.existsSync(modelPath)) throw new HarnessError(`model file not found: ${modelPath}`);
  return ort.InferenceSession.create(modelPath, sessionOptions(opts));
}

async function releaseSession(session) {
  if (session) {
    try { await session.release(); } catch (_) { /* ignore */ }
  }
}

function errMessage(e) {
  const m = (e && e.message) ? e.message : String(e);
  return m.trim();
}

// ---------------------------------------------------------------------------
// float16 helpers

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function halfToFloat(h) {
  const s = (h & 0x8000) ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function floatToHalf(v) {
  // round-to-nearest-even conversion of a float32 value to IEEE half bits
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let hm = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (hm & 1))) hm++;
    return sign | hm;
  }
  let hm = mant >> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (hm & 1))) {
    hm++;
    if (hm === 0x400) { hm = 0; e++; if (e >= 31) return sign | 0x7c00; }
  }
  return sign | (e << 10) | hm;
}

// ---------------------------------------------------------------------------
// tensors <-> ort.Tensor

function toOrtTensor(t) {
  const ort = loadOrt();
  return new ort.Tensor(t.type, t.data, t.dims);
}

// pos: position of the output among all of the session's outputs.
function fromOrtTensor(name, ot, pos) {
  return { name, pos, type: ot.type, dims: Array.from(ot.dims, Number), data: ot.data };
}

function bytesOf(data) {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

// Element i of a numeric tensor as a JS number (float16 decoded, bigint converted).
function elementReader(t) {
  const d = t.data;
  if (t.type === 'float16') {
    const u16 = new Uint16Array(d.buffer, d.byteOffset, d.length);
    return (i) => halfToFloat(u16[i]);
  }
  if (t.type === 'int64' || t.type === 'uint64') return (i) => Number(d[i]);
  return (i) => Number(d[i]);
}

function isFloatType(type) {
  return type === 'float32' || type === 'float64' || type === 'float16';
}

function sameDims(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// Bit-exact comparison plus max abs diff.
function compareTensors(a, b) {
  const res = { identical: false, max_abs_diff: null, num_different: null, note: '' };
  if (a.type !== b.type) {
    res.note = `dtype ${a.type} vs ${b.type}`;
    return res;
  }
  if (!sameDims(a.dims, b.dims)) {
    res.note = `shape [${a.dims}] vs [${b.dims}]`;
    return res;
  }
  const n = a.data.length;
  if (a.type === 'string') {
    let nd = 0;
    for (let i = 0; i < n; i++) if (a.data[i] !== b.data[i]) nd++;
    res.identical = nd === 0;
    res.num_different = nd;
    if (nd) res.note = `${nd}/${n} strings differ`;
    return res;
  }
  res.identical = bytesOf(a.data).equals(bytesOf(b.data));
  if (res.identical) {
    res.max_abs_diff = 0;
    res.num_different = 0;
    return res;
  }
  const ra = elementReader(a);
  const rb = elementReader(b);
  const big = a.type === 'int64' || a.type === 'uint64';
  let maxd = 0;
  let nd = 0;
  let nanMismatch = 0;
  let bitOnly = 0;
  for (let i = 0; i < n; i++) {
    if (big) {
      if (a.data[i] !== b.data[i]) {
        nd++;
        const dd = a.data[i] > b.data[i] ? a.data[i] - b.data[i] : b.data[i] - a.data[i];
        maxd = Math.max(maxd, Number(dd));
      }
      continue;
    }
    const x = ra(i);
    const y = rb(i);
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) && Number.isNaN(y)) {
        // both NaN: counts as different only if the bits differ (handled by byte compare)
        if (isFloatType(a.type) && bitsDiffer(a, b, i)) { nd++; bitOnly++; }
        continue;
      }
      nd++;
      nanMismatch++;
      maxd = Infinity;
      continue;
    }
    if (Object.is(x, y)) continue;
    nd++;
    if (x === y) { bitOnly++; continue; } // +0 vs -0
    const diff = x === y ? 0 : Math.abs(x - y);
    if (diff > maxd || Number.isNaN(diff)) maxd = Number.isNaN(diff) ? Infinity : diff;
  }
  res.max_abs_diff = maxd;
  res.num_different = nd;
  const extra = [];
  if (nanMismatch) extra.push(`${nanMismatch} NaN vs non-NaN`);
  if (bitOnly) extra.push(`${bitOnly} only in bits: signed zero or NaN payload`);
  res.note = `${nd}/${n} elements differ` + (extra.length ? ` (${extra.join(', ')})` : '');
  return res;
}

function bitsDiffer(a, b, i) {
  const sz = a.data.BYTES_PER_ELEMENT;
  const ba = bytesOf(a.data);
  const bb = bytesOf(b.data);
  return ba.compare(bb, i * sz, (i + 1) * sz, i * sz, (i + 1) * sz) !== 0;
}

// allclose(actual, expected, rtol, atol), NaN == NaN.
function compareExpected(actual, expected, rtol, atol) {
  const res = { ok: false, max_abs_diff: null, note: '' };
  if (actual.type !== expected.type) {
    res.note = `dtype ${actual.type} vs expected ${expected.type}`;
    return res;
  }
  if (!sameDims(actual.dims, expected.dims)) {
    res.note = `shape [${actual.dims}] vs expected [${expected.dims}]`;
    return res;
  }
  const n = actual.data.length;
  if (actual.type === 'string') {
    let nd = 0;
    for (let i = 0; i < n; i++) if (actual.data[i] !== expected.data[i]) nd++;
    res.ok = nd === 0;
    if (nd) res.note = `${nd}/${n} strings differ from expected`;
    return res;
  }
  const big = actual.type === 'int64' || actual.type === 'uint64';
  const fl = isFloatType(actual.type);
  const ra = elementReader(actual);
  const re = elementReader(expected);
  let maxd = 0;
  let bad = 0;
  for (let i = 0; i < n; i++) {
    if (big) {
      if (actual.data[i] !== expected.data[i]) {
        bad++;
        const a = actual.data[i];
        const e = expected.data[i];
        maxd = Math.max(maxd, Number(a > e ? a - e : e - a));
      }
      continue;
    }
    const x = ra(i);
    const y = re(i);
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (!(Number.isNaN(x) && Number.isNaN(y))) { bad++; maxd = Infinity; }
      continue;
    }
    if (x === y) continue;
    const diff = Math.abs(x - y);
    if (Number.isNaN(diff)) { bad++; maxd = Infinity; continue; } // inf vs -inf
    maxd = Math.max(maxd, diff);
    if (!fl || diff > atol + rtol * Math.abs(y)) bad++;
  }
  res.ok = bad === 0;
  res.max_abs_diff = maxd;
  if (bad) res.note = `${bad}/${n} elements outside rtol=${rtol} atol=${atol} (max abs diff ${fmtNum(maxd)})`;
  return res;
}

function fmtNum(v) {
  if (v === null || v === undefined) return 'n/a';
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : 'inf';
  return String(v);
}

function jsonNum(v) {
  if (v === null || v === undefined) return null;
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : 'inf';
  return v;
}

// ---------------------------------------------------------------------------
// reading input / expected-output directories

function sanitizeName(name) {
  const s = String(name).replace(/[^A-Za-z0-9._-]/g, '_');
  return s.length ? s : '_';
}

// Reads <prefix>_<i>.pb and *.npy files of a directory.
// Returns entries { file, name, index, tensor | null, error | null }.
function readTensorDir(dir, prefix) {
  if (!dir) throw new HarnessError('no input directory given');
  let files;
  try {
    files = fs.readdirSync(dir);
  } catch (e) {
    throw new HarnessError(`cannot read directory ${dir}: ${e.message}`);
  }
  const entries = [];
  const pbRe = new RegExp(`^${prefix}_(\\d+)\\.pb$`);
  for (const f of files.sort()) {
    const full = path.join(dir, f);
    let m;
    if ((m = pbRe.exec(f))) {
      const e = { file: full, name: '', index: Number(m[1]), tensor: null, error: null };
      try {
        e.tensor = decodeTensorProto(fs.readFileSync(full));
        e.name = e.tensor.name;
      } catch (err) {
        if (!(err instanceof NotATensorError)) throw err;
        e.error = err.message;
      }
      entries.push(e);
    } else if (f.endsWith('.npy')) {
      const stem = f.slice(0, -4);
      const im = new RegExp(`^${prefix}_(\\d+)$`).exec(stem);
      const e = { file: full, name: stem, index: im ? Number(im[1]) : null, tensor: null, error: null, npy: true };
      try {
        e.tensor = decodeNpy(fs.readFileSync(full));
        e.tensor.name = stem;
      } catch (err) {
        e.error = err.message;
      }
      entries.push(e);
    }
  }
  entries.sort((x, y) => (x.index ?? 1e9) - (y.index ?? 1e9) || x.file.localeCompare(y.file));
  return entries;
}

// Matches directory entries to a list of names: by name (exact, or sanitized for .npy) if the
// entry's name is one of `names`, otherwise by its index position.
function matchEntries(entries, names) {
  const result = new Array(names.length).fill(null);
  const used = new Set();
  names.forEach((n, i) => {
    const e = entries.find((x) => !used.has(x) && x.name && (x.name === n || (x.npy && x.name === sanitizeName(n))));
    if (e) { result[i] = e; used.add(e); }
  });
  const nameSet = new Set(names);
  const sanSet = new Set(names.map(sanitizeName));
  names.forEach((n, i) => {
    if (result[i]) return;
    const e = entries.find((x) => !used.has(x) && x.index === i &&
      !(x.name && (nameSet.has(x.name) || (x.npy && sanSet.has(x.name)))));
    if (e) { result[i] = e; used.add(e); }
  });
  return result;
}

function checkTensorInputs(session) {
  session.inputNames.forEach((n, i) => {
    const md = session.inputMetadata[i];
    if (md && md.isTensor === false) {
      throw new UnsupportedInputError(`unsupported input kind: model input '${n}' is not a tensor (sequence/map/optional)`);
    }
  });
}

// Builds { tensors: [...] } in the order of session.inputNames from an input directory.
function inputsFromDir(session, dir) {
  checkTensorInputs(session);
  const entries = readTensorDir(dir, 'input');
  const matched = matchEntries(entries, session.inputNames);
  return session.inputNames.map((n, i) => {
    const e = matched[i];
    if (!e) throw new HarnessError(`no input data for model input '${n}' (index ${i}) in ${dir}`);
    if (e.error) {
      if (e.npy) throw new HarnessError(`cannot read ${e.file}: ${e.error}`);
      throw new UnsupportedInputError(`unsupported input kind: ${path.basename(e.file)} for model input '${n}' is not a plain tensor (${e.error})`);
    }
    // A wrong dtype/shape is a mistake of whoever wrote the input files, not a reason to skip.
    const md = session.inputMetadata[i];
    if (md && md.type && md.type !== e.tensor.type) {
      throw new HarnessError(`${e.file}: dtype ${e.tensor.type} does not match model input '${n}' (${md.type})`);
    }
    if (md && md.shape && md.shape.length) {
      const bad = md.shape.length !== e.tensor.dims.length ||
        md.shape.some((d, k) => typeof d === 'number' && d >= 0 && d !== e.tensor.dims[k]);
      if (bad) {
        throw new HarnessError(`${e.file}: shape [${e.tensor.dims}] does not match model input '${n}' [${md.shape}]`);
      }
    }
    return { ...e.tensor, name: n };
  });
}

// ---------------------------------------------------------------------------
// seeded random inputs

function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DEFAULT_INT_HIGH = 10;

// Largest value + 1 that an integer input of this type can hold (random ints stay below it).
const INT_TYPE_LIMIT = { int8: 128, uint8: 256, int16: 32768, uint16: 65536, int32: 2 ** 31, uint32: 2 ** 32 };

// opts (all optional): dims { name: value } for symbolic dims (others become 1);
// intHigh: integers are drawn from [0, intHigh) (default 10), or 'auto': for an input that indexes a
// Gather (directly or through Cast/Reshape/Unsqueeze/Squeeze/Flatten/Identity), the size of the
// table's gathered axis, like `effdl bench` does (needs modelPath; other inputs keep 10).
function randomInputs(session, seed, opts = {}, modelPath = null) {
  checkTensorInputs(session);
  const rnd = mulberry32(Number(seed) ^ 0x9e3779b9);
  const dimValues = opts.dims || {};
  let autoBounds = null;
  const intHighFor = (name, type) => {
    let high = DEFAULT_INT_HIGH;
    if (opts.intHigh === 'auto') {
      if (!autoBounds) autoBounds = modelPath ? gatherIndexBounds(modelPath) : new Map();
      if (autoBounds.has(name)) high = autoBounds.get(name);
    } else if (opts.intHigh !== undefined && opts.intHigh !== null) {
      high = opts.intHigh;
    }
    return Math.min(high, INT_TYPE_LIMIT[type] || high);
  };
  return session.inputNames.map((n, i) => {
    const md = session.inputMetadata[i];
    const type = md.type;
    const dims = (md.shape || []).map((d) => {
      if (typeof d === 'number' && d >= 0) return d;
      if (typeof d === 'string' && Object.prototype.hasOwnProperty.call(dimValues, d)) return dimValues[d];
      return 1;
    });
    const count = numElements(dims);
    const isInt = !['string', 'float32', 'float64', 'float16', 'bool'].includes(type);
    const high = isInt ? intHighFor(n, type) : DEFAULT_INT_HIGH;
    let data;
    if (type === 'string') {
      data = Array.from({ length: count }, () => `s${Math.floor(rnd() * 10)}`);
    } else {
      const TA = TYPED_ARRAY[type];
      if (!TA) throw new UnsupportedInputError(`unsupported input kind: input '${n}' has type ${type}`);
      data = new TA(count);
      for (let k = 0; k < count; k++) {
        const r = rnd();
        switch (type) {
          case 'float32':
          case 'float64':
            data[k] = r * 2 - 1;
            break;
          case 'float16':
            data[k] = floatToHalf(r * 2 - 1);
            break;
          case 'bool':
            data[k] = r < 0.5 ? 0 : 1;
            break;
          case 'int64':
          case 'uint64':
            data[k] = BigInt(Math.floor(r * high));
            break;
          default:
            data[k] = Math.floor(r * high);
        }
      }
    }
    const t = { name: n, type, dims, data };
    if (isInt) t.intHigh = high;
    return t;
  });
}


// For `--int-high auto`: reads the model's graph (ModelProto.graph, top level only) and returns
// Map(graph input name -> bound) for inputs used as Gather indices, the bound being the smallest
// gathered-axis size over the Gathers reached. Tables are initializers or Constant nodes; a model
// that cannot be parsed gives an empty map (every input then keeps the default bound).
function gatherIndexBounds(modelPath) {
  const bounds = new Map();
  let buf;
  try {
    buf = fs.readFileSync(modelPath);
  } catch (_) {
    return bounds;
  }
  // A Reader over the length-delimited field at r's position; r moves past it.
  const subReader = (r) => {
    const len = r.uint();
    if (r.pos + len > r.end) throw new Error('truncated field');
    const sub = new Reader(r.buf, r.pos, r.pos + len);
    r.pos += len;
    return sub;
  };
  const str = (b) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8');
  const tensorInfo = (r) => { // r: Reader over a TensorProto { dims = 1, name = 8 }
    const info = { dims: [], name: '' };
    while (!r.eof()) {
      const tag = r.uint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 1 && wire === 0) info.dims.push(r.uint());
      else if (field === 1 && wire === 2) {
        const sub = subReader(r);
        while (!sub.eof()) info.dims.push(sub.uint());
      } else if (field === 8 && wire === 2) info.name = str(r.bytes());
      else r.skip(wire);
    }
    return info;
  };
  try {
    const shapes = new Map(); // tensor name -> dims of initializers / Constant outputs
    const nodes = []; // { op, inputs, outputs, axis }
    const graphInputs = [];
    const top = new Reader(buf);
    while (!top.eof()) {
      const tag = top.uint();
      if (tag !== ((7 << 3) | 2)) { top.skip(tag & 7); continue; } // ModelProto.graph
      const g = subReader(top);
      while (!g.eof()) {
        const gt = g.uint();
        const field = Math.floor(gt / 8);
        if ((gt & 7) !== 2 || ![1, 5, 11].includes(field)) { g.skip(gt & 7); continue; }
        const m = subReader(g);
        if (field === 5) { // initializer
          const info = tensorInfo(m);
          shapes.set(info.name, info.dims);
        } else if (field === 11) { // input: ValueInfoProto { name = 1 }
          while (!m.eof()) {
            const t = m.uint();
            if (t === ((1 << 3) | 2)) graphInputs.push(str(m.bytes()));
            else m.skip(t & 7);
          }
        } else { // node: NodeProto { input = 1, output = 2, op_type = 4, attribute = 5 }
          const node = { op: '', inputs: [], outputs: [], axis: 0, value: null };
          while (!m.eof()) {
            const t = m.uint();
            const f = Math.floor(t / 8);
            if ((t & 7) !== 2) { m.skip(t & 7); continue; }
            const b = m.bytes();
            if (f === 1) node.inputs.push(str(b));
            else if (f === 2) node.outputs.push(str(b));
            else if (f === 4) node.op = str(b);
            else if (f === 5) { // AttributeProto { name = 1, i = 3, t = 5 }
              const a = new Reader(buf, m.pos - b.length, m.pos);
              let aname = '';
              let ival = null;
              let tdims = null;
              while (!a.eof()) {
                const at = a.uint();
                const af = Math.floor(at / 8);
                if (af === 1 && (at & 7) === 2) aname = str(a.bytes());
                else if (af === 3 && (at & 7) === 0) {
                  const [lo, hi] = a.varint64();
                  ival = Number(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)));
                } else if (af === 5 && (at & 7) === 2) {
                  tdims = tensorInfo(subReader(a)).dims;
                } else a.skip(at & 7);
              }
              if (aname === 'axis' && ival !== null) node.axis = ival;
              if (aname === 'value' && tdims) node.value = tdims;
            }
          }
          nodes.push(node);
          if (node.op === 'Constant' && node.value && node.outputs[0]) shapes.set(node.outputs[0], node.value);
        }
      }
    }
    const PASS = new Set(['Cast', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten', 'Identity']);
    const visit = (value, depth, acc) => {
      if (depth > 8) return;
      for (const n of nodes) {
        n.inputs.forEach((inp, k) => {
          if (inp !== value) return;
          if (n.op === 'Gather' && k === 1) {
            const dims = shapes.get(n.inputs[0]);
            if (!dims) return;
            const axis = n.axis < 0 ? n.axis + dims.length : n.axis;
            if (axis < 0 || axis >= dims.length || !(dims[axis] > 0)) return;
            acc.bound = acc.bound === null ? dims[axis] : Math.min(acc.bound, dims[axis]);
          } else if (PASS.has(n.op) && k === 0 && n.outputs[0]) {
            visit(n.outputs[0], depth + 1, acc);
          }
        });
      }
    };
    for (const name of graphInputs) {
      if (shapes.has(name)) continue; // an initializer listed as an input
      const acc = { bound: null };
      visit(name, 0, acc);
      if (acc.bound !== null) bounds.set(name, acc.bound);
    }
  } catch (_) {
    return new Map();
  }
  return bounds;
}

// ---------------------------------------------------------------------------
// running

// Maps input tensors (named for model A) onto session's inputs: by name, else by position.
function feedsFor(session, inputs) {
  const byName = new Map(inputs.map((t) => [t.name, t]));
  const feeds = {};
  session.inputNames.forEach((n, i) => {
    const t = byName.get(n) || inputs[i];
    if (!t) throw new Error(`no input data for input '${n}' (index ${i})`);
    feeds[n] = toOrtTensor(t);
  });
  return feeds;
}

// Runs the session and returns its tensor outputs (non-tensor outputs such as sequences are not
// fetched); each output carries `pos`, its index among all of the model's outputs.
async function runSession(session, inputs) {
  const positions = new Map(session.outputNames.map((n, i) => [n, i]));
  const outNames = session.outputNames.filter((_, i) => {
    const md = session.outputMetadata[i];
    return !md || md.isTensor !== false;
  });
  if (outNames.length === 0) {
    throw new UnsupportedInputError('unsupported output kind: model has no tensor outputs (sequence/map/optional)');
  }
  const feeds = feedsFor(session, inputs);
  const res = await session.run(feeds, outNames);
  return outNames.map((n) => fromOrtTensor(n, res[n], positions.get(n)));
}

function writeOutputs(outputs, outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  const usedNpy = new Set();
  outputs.forEach((t) => {
    const i = t.pos;
    fs.writeFileSync(path.join(outDir, `output_${i}.pb`), encodeTensorProto(t));
    let base = sanitizeName(t.name || `output_${i}`);
    if (usedNpy.has(base)) base = `${base}_${i}`;
    usedNpy.add(base);
    fs.writeFileSync(path.join(outDir, `${base}.npy`), encodeNpy(t));
  });
}

// ---------------------------------------------------------------------------
// compare job (shared by `compare` and `batch`)

// job: { name, a, b, input_dir, random_seed, expected_dir }
async function runCompareJob(job, opts) {
  const result = { name: job.name, status: 'identical', message: '', max_abs_diff: null };
  let sa = null;
  let sb = null;
  try {
    // --- model A
    try {
      sa = await createSession(job.a, opts);
    } catch (e) {
      if (e instanceof HarnessError) throw e;
      return { ...result, status: 'skipped', message: `ORT cannot load model A: ${errMessage(e)}` };
    }
    let inputs;
    try {
      if (job.random_seed !== null && job.random_seed !== undefined) {
        inputs = randomInputs(sa, job.random_seed, opts, job.a);
      } else {
        inputs = inputsFromDir(sa, job.input_dir);
      }
    } catch (e) {
      if (e instanceof UnsupportedInputError) return { ...result, status: 'skipped', message: e.message };
      throw e;
    }
    let outA;
    const allOutputNamesA = sa.outputNames.slice();
    const nonTensorOutputs = sa.outputNames.filter((_, i) => sa.outputMetadata[i] && sa.outputMetadata[i].isTensor === false);
    try {
      outA = await runSession(sa, inputs);
    } catch (e) {
      if (e instanceof UnsupportedInputError) return { ...result, status: 'skipped', message: e.message };
      return { ...result, status: 'skipped', message: `ORT cannot run model A: ${errMessage(e)}` };
    }
    await releaseSession(sa);
    sa = null;

    // --- model B
    try {
      sb = await createSession(job.b, opts);
    } catch (e) {
      if (e instanceof HarnessError) throw e;
      return { ...result, status: 'failed_b', message: `ORT cannot load model B: ${errMessage(e)}` };
    }
    let outB;
    try {
      outB = await runSession(sb, inputs);
    } catch (e) {
      return { ...result, status: 'failed_b', message: `ORT cannot run model B: ${errMessage(e)}` };
    }

    // --- compare A vs B
    const bByName = new Map(outB.map((t) => [t.name, t]));
    const outputs = [];
    let maxd = 0;
    let anyDiff = false;
    const notes = [];
    outA.forEach((ta, i) => {
      const tb = bByName.get(ta.name) || (outB.length === outA.length ? outB[i] : undefined);
      if (!tb) {
        anyDiff = true;
        notes.push(`output '${ta.name}' missing from model B`);
        outputs.push({ index: ta.pos, name: ta.name, identical: false, max_abs_diff: null, note: 'missing from model B' });
        maxd = null;
        return;
      }
      const c = compareTensors(ta, tb);
      outputs.push({ index: ta.pos, name: ta.name, identical: c.identical, max_abs_diff: jsonNum(c.max_abs_diff), note: c.note });
      if (!c.identical) {
        anyDiff = true;
        notes.push(`output '${ta.name}': ${c.note}`);
      }
      if (maxd !== null) maxd = c.max_abs_diff === null ? (c.identical ? maxd : null) : Math.max(maxd, c.max_abs_diff);
    });
    if (outB.length !== outA.length) {
      anyDiff = true;
      notes.push(`model A has ${outA.length} tensor outputs, model B has ${outB.length}`);
    }
    result.outputs = outputs;
    if (nonTensorOutputs.length) result.unchecked_outputs = nonTensorOutputs;
    result.max_abs_diff = jsonNum(maxd);
    if (anyDiff) {
      result.status = 'different';
      result.message = notes.join('; ');
    }

    // --- A vs expected outputs
    if (job.expected_dir) {
      const ex = checkExpected(outA, allOutputNamesA, job.expected_dir, opts);
      result.expected_max_abs_diff = jsonNum(ex.maxd);
      if (ex.unchecked.length) result.expected_unchecked = ex.unchecked;
      if (!ex.ok) {
        if (result.status === 'identical') {
          result.status = 'mismatch_expected';
          result.message = ex.notes.join('; ');
        } else {
          result.message += `; also model A vs expected: ${ex.notes.join('; ')}`;
        }
      }
    }
    return result;
  } finally {
    await releaseSession(sa);
    await releaseSession(sb);
  }
}

// outputs: tensor outputs of model A (each with .pos); names: all of model A's output names.
function checkExpected(outputs, names, dir, opts) {
  const entries = readTensorDir(dir, 'output');
  const matched = matchEntries(entries, names);
  let ok = true;
  let maxd = 0;
  const notes = [];
  const unchecked = [];
  outputs.forEach((t) => {
    const e = matched[t.pos];
    if (!e) {
      ok = false;
      notes.push(`no expected data for output '${t.name}'`);
      return;
    }
    if (e.error) {
      unchecked.push(`${path.basename(e.file)}: ${e.error}`);
      return;
    }
    const c = compareExpected(t, e.tensor, opts.rtol, opts.atol);
    if (c.max_abs_diff !== null && maxd !== null) maxd = Math.max(maxd, c.max_abs_diff);
    if (!c.ok) {
      ok = false;
      notes.push(`output '${t.name}' vs expected: ${c.note}`);
    }
  });
  return { ok, maxd, notes, unchecked };
}

// ---------------------------------------------------------------------------
// check: load ORT and run a tiny Identity model built in memory

function tinyIdentityModel() {
  const valueInfo = (name) => {
    const dim = new Writer(); dim.varintField(1, 3); // Dimension.dim_value
    const shape = new Writer(); shape.messageField(1, dim); // TensorShapeProto.dim
    const tt = new Writer(); tt.varintField(1, 1); tt.messageField(2, shape); // TypeProto.Tensor
    const type = new Writer(); type.messageField(1, tt); // TypeProto.tensor_type
    const vi = new Writer(); vi.stringField(1, name); vi.messageField(2, type);
    return vi;
  };
  const node = new Writer();
  node.stringField(1, 'x'); node.stringField(2, 'y'); node.stringField(4, 'Identity');
  const graph = new Writer();
  graph.messageField(1, node);
  graph.stringField(2, 'check');
  graph.messageField(11, valueInfo('x'));
  graph.messageField(12, valueInfo('y'));
  const opset = new Writer(); opset.stringField(1, ''); opset.varintField(2, 13);
  const model = new Writer();
  model.varintField(1, 8); // ir_version
  model.messageField(7, graph);
  model.messageField(8, opset);
  return new Uint8Array(model.finish());
}

async function cmdCheck() {
  let ort;
  try {
    ort = loadOrt();
    const session = await ort.InferenceSession.create(tinyIdentityModel(), sessionOptions({ threads: 1, graphOpt: 'all' }));
    const x = new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [3]);
    const out = await session.run({ x });
    const y = Array.from(out.y.data);
    await session.release();
    if (y.join(',') !== '1,2,3') throw new Error(`Identity test model returned [${y}]`);
  } catch (e) {
    process.stderr.write(`onnxruntime-node unusable: ${errMessage(e)}\n`);
    return 1;
  }
  const v = ort.env.versions || {};
  process.stdout.write(`onnxruntime-node ${v.node || 'unknown'} (onnxruntime-common ${v.common || 'unknown'})\n`);
  return 0;
}

// ---------------------------------------------------------------------------
// commands

async function cmdRun(args) {
  const model = args.positional[0];
  if (!model || !args.outputDir || (!args.inputDir && args.random === null)) {
    throw new HarnessError('usage: run MODEL (--input-dir DIR | --random SEED) --output-dir OUT [--threads N]');
  }
  let session;
  try {
    session = await createSession(model, args);
  } catch (e) {
    if (e instanceof HarnessError) throw e;
    process.stdout.write(`skipped: ORT cannot load model: ${errMessage(e)}\n`);
    return EXIT.SKIP;
  }
  try {
    let inputs;
    try {
      inputs = args.random !== null ? randomInputs(session, args.random, args, model) : inputsFromDir(session, args.inputDir);
    } catch (e) {
      if (e instanceof UnsupportedInputError) {
        process.stdout.write(`skipped: ${e.message}\n`);
        return EXIT.SKIP;
      }
      throw e;
    }
    let outputs;
    try {
      outputs = await runSession(session, inputs);
    } catch (e) {
      const msg = e instanceof UnsupportedInputError ? e.message : `ORT cannot run model: ${errMessage(e)}`;
      process.stdout.write(`skipped: ${msg}\n`);
      return EXIT.SKIP;
    }
    writeOutputs(outputs, args.outputDir);
    outputs.forEach((t) => process.stdout.write(`output ${t.pos} '${t.name}': ${t.type} [${t.dims}]\n`));
    return EXIT.OK;
  } finally {
    await releaseSession(session);
  }
}

function statusExit(status) {
  switch (status) {
    case 'identical': return EXIT.OK;
    case 'different':
    case 'mismatch_expected': return EXIT.DIFFERENT;
    case 'skipped': return EXIT.SKIP;
    case 'failed_b': return EXIT.FAIL_B;
    default: return EXIT.USAGE;
  }
}

async function cmdCompare(args) {
  const [a, b] = args.positional;
  if (!a || !b || (!args.inputDir && args.random === null)) {
    throw new HarnessError('usage: compare MODEL_A MODEL_B (--input-dir DIR | --random SEED) [--expected-dir DIR] [--json]');
  }
  const job = {
    name: path.basename(b), a, b, input_dir: args.inputDir, random_seed: args.random, expected_dir: args.expectedDir,
  };
  let r;
  try {
    r = await runCompareJob(job, args);
  } catch (e) {
    if (!(e instanceof HarnessError)) throw e;
    r = { name: job.name, status: 'error', message: e.message, max_abs_diff: null };
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } else {
    for (const o of r.outputs || []) {
      process.stdout.write(`output ${o.index} '${o.name}': ${o.identical ? 'identical' : 'DIFFERENT'}` +
        ` max_abs_diff=${fmtNum(o.max_abs_diff)}${o.note ? ` (${o.note})` : ''}\n`);
    }
    if (r.unchecked_outputs) {
      process.stdout.write(`not compared (non-tensor outputs): ${r.unchecked_outputs.join(', ')}\n`);
    }
    if (r.expected_max_abs_diff !== undefined) {
      process.stdout.write(`model A vs expected: max_abs_diff=${fmtNum(r.expected_max_abs_diff)}\n`);
    }
    process.stdout.write(`${r.status}${r.message ? `: ${r.message}` : ''}\n`);
  }
  if (r.status === 'error' && args.json) process.stderr.write(`error: ${r.message}\n`);
  return statusExit(r.status);
}

async function cmdBatch(args) {
  const jobsFile = args.positional[0];
  if (!jobsFile) throw new HarnessError('usage: batch JOBS.json');
  let jobs;
  try {
    jobs = JSON.parse(fs.readFileSync(jobsFile, 'utf8'));
  } catch (e) {
    throw new HarnessError(`cannot read jobs file ${jobsFile}: ${e.message}`);
  }
  if (!Array.isArray(jobs)) throw new HarnessError('jobs file must contain a JSON list');
  const t0 = Date.now();
  const counts = { total: 0, identical: 0, different: 0, skipped: 0, failed_b: 0, mismatch_expected: 0, error: 0 };
  for (const [i, job] of jobs.entries()) {
    const name = job.name || `job_${i}`;
    let r;
    try {
      if (!job.a || !job.b) throw new HarnessError('job needs "a" and "b"');
      if (!job.input_dir && (job.random_seed === null || job.random_seed === undefined)) {
        throw new HarnessError('job needs "input_dir" or "random_seed"');
      }
      r = await runCompareJob({ ...job, name }, args);
    } catch (e) {
      r = { name, status: 'error', message: errMessage(e), max_abs_diff: null };
    }
    const line = { name, status: r.status, message: r.message, max_abs_diff: r.max_abs_diff };
    if (r.expected_max_abs_diff !== undefined) line.expected_max_abs_diff = r.expected_max_abs_diff;
    if (r.expected_unchecked) line.expected_unchecked = r.expected_unchecked;
    if (r.unchecked_outputs) line.unchecked_outputs = r.unchecked_outputs;
    if (args.verbose && r.outputs) line.outputs = r.outputs;
    process.stdout.write(`${JSON.stringify(line)}\n`);
    counts.total++;
    counts[r.status] = (counts[r.status] || 0) + 1;
  }
  const failed = counts.different + counts.failed_b + counts.error +
    (args.strictExpected ? counts.mismatch_expected : 0);
  process.stdout.write(`${JSON.stringify({ summary: counts, elapsed_s: (Date.now() - t0) / 1000, ok: failed === 0 })}\n`);
  return failed === 0 ? EXIT.OK : EXIT.DIFFERENT;
}

// ---------------------------------------------------------------------------
// bench: session load time and per-run latency of one model in ORT, on seeded random inputs

// Nearest-rank percentile of sorted values (the same definition as `effdl bench`).
function percentile(sorted, p) {
  if (!sorted.length) return 0;
  const k = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, k === 0 ? 0 : k - 1)];
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

async function cmdBench(args) {
  const model = args.positional[0];
  if (!model || args.positional.length > 1) {
    throw new HarnessError('usage: bench MODEL [--threads N] [--warmup W] [--iters N] [--random SEED] ' +
      '[--dims name=value,...] [--int-high N|auto] [--json]');
  }
  const seed = args.random !== null ? args.random : 0;
  const skip = (message) => {
    if (args.json) {
      process.stdout.write(`${JSON.stringify({
        schema_version: 1, command: 'bench', ok: false, model, error: { kind: 'skipped', message },
      })}\n`);
    } else {
      process.stdout.write(`skipped: ${message}\n`);
    }
    return EXIT.SKIP;
  };
  const ort = loadOrt();
  if (!fs.existsSync(model)) throw new HarnessError(`model file not found: ${model}`);
  let session;
  const t0 = nowMs();
  try {
    session = await createSession(model, args);
  } catch (e) {
    if (e instanceof HarnessError) throw e;
    return skip(`ORT cannot load model: ${errMessage(e)}`);
  }
  const loadMs = nowMs() - t0;
  try {
    let inputs;
    try {
      inputs = randomInputs(session, seed, args, model);
    } catch (e) {
      if (e instanceof UnsupportedInputError) return skip(e.message);
      throw e;
    }
    // Feeds are built once: the timed loop measures session.run (which includes ORT's own copy of
    // the outputs into JS memory), not input conversion.
    const feeds = feedsFor(session, inputs);
    const samples = [];
    try {
      for (let i = 0; i < args.warmup; i++) await session.run(feeds);
      for (let i = 0; i < args.iters; i++) {
        const s = process.hrtime.bigint();
        await session.run(feeds);
        samples.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
    } catch (e) {
      return skip(`ORT cannot run model: ${errMessage(e)}`);
    }
    const sorted = samples.slice().sort((x, y) => x - y);
    const lat = {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      min: sorted[0],
      mean: samples.reduce((x, y) => x + y, 0) / samples.length,
    };
    const v = ort.env.versions || {};
    if (args.json) {
      process.stdout.write(`${JSON.stringify({
        schema_version: 1,
        command: 'bench',
        ok: true,
        runtime: 'onnxruntime-node',
        ort_version: v.node || null,
        model,
        threads: args.threads,
        warmup: args.warmup,
        iterations: args.iters,
        seed,
        session_load_ms: loadMs,
        latency_ms: lat,
        inputs: inputs.map((t) => ({
          name: t.name, type: t.type, shape: t.dims, ...(t.intHigh !== undefined ? { int_high: t.intHigh } : {}),
        })),
      })}\n`);
    } else {
      const ms = (x) => (x < 1 ? `${(x * 1000).toFixed(1)} us` : `${x.toFixed(3)} ms`);
      const thr = args.threads === 0 ? "ORT's default threads" : `${args.threads} thread${args.threads === 1 ? '' : 's'}`;
      process.stdout.write(`${model}  (onnxruntime-node ${v.node || '?'}, ${thr}, ${args.iters} runs after ` +
        `${args.warmup} warm-up)\n`);
      process.stdout.write(`  latency    p50 ${ms(lat.p50)}   p90 ${ms(lat.p90)}   min ${ms(lat.min)}   mean ${ms(lat.mean)}\n`);
      process.stdout.write(`  session load ${ms(loadMs)}\n`);
      for (const t of inputs) {
        process.stdout.write(`  input '${t.name}' ${t.type} [${t.dims}]` +
          `${t.intHigh !== undefined ? ` values in [0, ${t.intHigh})` : ''}\n`);
      }
    }
    return EXIT.OK;
  } finally {
    await releaseSession(session);
  }
}

// ---------------------------------------------------------------------------
// argument parsing

function parseArgs(argv) {
  const args = {
    cmd: argv[0], positional: [], inputDir: null, outputDir: null, expectedDir: null, random: null,
    threads: 1, graphOpt: 'all', json: false, verbose: false, strictExpected: false, rtol: 1e-3, atol: 1e-5,
    warmup: 5, iters: 50, dims: {}, intHigh: null,
  };
  const nonNegInt = (v, flag) => {
    const n = Number(v);
    if (!/^\d+$/.test(String(v)) || !Number.isSafeInteger(n)) throw new HarnessError(`${flag} needs a non-negative integer`);
    return n;
  };
  const need = (i, flag) => {
    if (i + 1 >= argv.length) throw new HarnessError(`${flag} needs a value`);
    return argv[i + 1];
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--input-dir': args.inputDir = need(i, a); i++; break;
      case '--output-dir': args.outputDir = need(i, a); i++; break;
      case '--expected-dir': args.expectedDir = need(i, a); i++; break;
      case '--random': {
        const v = Number(need(i, a)); i++;
        if (!Number.isInteger(v)) throw new HarnessError('--random needs an integer seed');
        args.random = v;
        break;
      }
      case '--threads': {
        const v = Number(need(i, a)); i++;
        if (!Number.isInteger(v) || v < 0) throw new HarnessError('--threads needs a non-negative integer');
        args.threads = v;
        break;
      }
      case '--graph-opt': {
        const v = need(i, a); i++;
        if (!['disabled', 'basic', 'extended', 'layout', 'all'].includes(v)) {
          throw new HarnessError('--graph-opt must be disabled|basic|extended|layout|all');
        }
        args.graphOpt = v;
        break;
      }
      case '--warmup': args.warmup = nonNegInt(need(i, a), a); i++; break;
      case '--iters': {
        args.iters = nonNegInt(need(i, a), a); i++;
        if (args.iters < 1) throw new HarnessError('--iters must be at least 1');
        break;
      }
      case '--dims': {
        for (const kv of need(i, a).split(',').filter((x) => x)) {
          const m = /^([^=]+)=(\d+)$/.exec(kv);
          if (!m) throw new HarnessError(`--dims takes name=value,... (got '${kv}')`);
          args.dims[m[1]] = nonNegInt(m[2], '--dims');
        }
        i++;
        break;
      }
      case '--int-high': {
        const v = need(i, a); i++;
        if (v === 'auto') { args.intHigh = 'auto'; break; }
        args.intHigh = nonNegInt(v, '--int-high (or auto)');
        if (args.intHigh < 1) throw new HarnessError('--int-high must be at least 1');
        break;
      }
      case '--rtol': args.rtol = Number(need(i, a)); i++; break;
      case '--atol': args.atol = Number(need(i, a)); i++; break;
      case '--json': args.json = true; break;
      case '--verbose': args.verbose = true; break;
      case '--strict-expected': args.strictExpected = true; break;
      default:
        if (a.startsWith('--')) throw new HarnessError(`unknown option ${a}`);
        args.positional.push(a);
    }
  }
  return args;
}

const USAGE = `usage:
  ort_run.js check
  ort_run.js run MODEL (--input-dir DIR | --random SEED) --output-dir OUT [--threads N] [--graph-opt L]
  ort_run.js compare MODEL_A MODEL_B (--input-dir DIR | --random SEED) [--expected-dir DIR] [--json]
  ort_run.js batch JOBS.json [--verbose] [--strict-expected]
  ort_run.js bench MODEL [--threads N] [--warmup W] [--iters N] [--random SEED] [--dims name=value,...]
                   [--int-high N|auto] [--json]
random inputs (run/compare/batch/bench): symbolic dims are 1 unless given with --dims; integers are
drawn from [0, --int-high) (default 10; auto: Gather index inputs stay within their table)
exit codes: 0 ok/identical, 1 different, 2 usage/harness error, 3 model A not loadable/runnable by ORT
(skip), 4 model B failed`;

async function main(argv) {
  let args;
  try {
    args = parseArgs(argv);
    switch (args.cmd) {
      case 'check': return await cmdCheck();
      case 'run': return await cmdRun(args);
      case 'compare': return await cmdCompare(args);
      case 'batch': return await cmdBatch(args);
      case 'bench': return await cmdBench(args);
      case undefined:
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        return args.cmd ? EXIT.OK : EXIT.USAGE;
      default:
        throw new HarnessError(`unknown command '${args.cmd}'\n${USAGE}`);
    }
  } catch (e) {
    if (e instanceof HarnessError) {
      process.stderr.write(`error: ${e.message}\n`);
      if (args && args.cmd === 'bench' && args.json) {
        process.stdout.write(`${JSON.stringify({
          schema_version: 1, command: 'bench', ok: false, error: { kind: 'error', message: e.message },
        })}\n`);
      }
      return EXIT.USAGE;
    }
    // ORT not installed etc.
    process.stderr.write(`error: ${errMessage(e)}\n`);
    return EXIT.USAGE;
  }
}

if (require.main === module) {
  // e.g. `ort_run.js batch jobs.json | head`: stop quietly when the reader goes away
  process.stdout.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode || 0);
    throw e;
  });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (e) => {
    process.stderr.write(`internal error: ${e && e.stack ? e.stack : e}\n`);
    process.exitCode = EXIT.USAGE;
  });
}

module.exports = { main, compareTensors, compareExpected, halfToFloat, floatToHalf, sanitizeName };
