#!/usr/bin/python3
"""How much ONNX Runtime's session load pays for in-graph sparse-weight decodes (issue 7).
Builds MatMul chains over pruned (50%) square weights, once per decode variant, and times ORT's
session load (min and median of --reps alternating runs, 1 thread) and p50. Run by hand:
    /usr/bin/python3 scripts/bench_sparse_decode.py [--size 2048] [--layers 2] [--reps 7]
Variants (all bit-identical outputs; the script checks with `ort_run.js compare`):
  dense        the pruned weights stored densely (the reference)
  bitmask_v1   the first effdl decode: BitShift/Mod bits -> Cast -> CumSum -> Mul -> Gather -> Reshape
  bitmask      effdl's decode: byte rank/popcount tables -> Gather rows, CumSum, Add, Max -> Gather
  bitmask_el   the same ending in GatherElements on the flat index (+ a Reshape of the values)
  gather_idx   no bit decoding: int32 indices stored (not compact), one Gather + Reshape: a floor
               for any decode that ends in a per-weight Gather
  gatherel_idx the same with GatherElements
  where_full   Where(bool mask, all values, 0): no compression, one elementwise op"""
import argparse, os, statistics, subprocess, sys, tempfile, json
import numpy as np
import onnx
from onnx import helper as h, numpy_helper as nh, TensorProto as TP

root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
ap = argparse.ArgumentParser()
ap.add_argument("--size", type=int, default=2048)
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--reps", type=int, default=7)
ap.add_argument("--ort", default=os.path.join(root, "scripts", "ort", "ort_run.js"))
a = ap.parse_args()

rng = np.random.RandomState(0)
ws = []
for _ in range(a.layers):
    w = rng.randn(a.size, a.size).astype(np.float32)
    w[np.abs(w) < np.median(np.abs(w))] = 0
    ws.append(w)
rank = np.zeros((256, 8), np.int32)
count = np.zeros((256, 1), np.int32)
for m in range(256):
    r = 0
    for j in range(8):
        if m >> j & 1:
            r += 1
            rank[m, j] = r
        else:
            rank[m, j] = -(1 << 30)
    count[m, 0] = r


def build(variant, path):
    nodes, inits, shared = [], [], set()

    def C(name, arr):
        if name not in shared:
            inits.append(nh.from_array(np.asarray(arr), name))
            shared.add(name)
        return name

    x = "x"
    for i, w in enumerate(ws):
        nm = "w%d" % i
        flat = w.reshape(-1)
        keep = flat != 0
        nz = np.concatenate([[0], flat[keep]]).astype(np.float32)
        mask = np.packbits(keep, bitorder="little")
        idx = (np.cumsum(keep) * keep).astype(np.int32)
        shape = C(nm + "_shape", np.array(w.shape, np.int64))
        N = lambda op, ins, out, **kw: nodes.append(h.make_node(op, ins, [out], **kw)) or out
        if variant == "dense":
            C(nm, w)
        elif variant == "bitmask_v1":
            s = N("BitShift", [C(nm + "_mask", mask.reshape(-1, 1)), C("shifts", np.arange(8, dtype=np.uint8).reshape(1, 8))],
                  nm + "_s", direction="RIGHT")
            b = N("Mod", [s, C("two", np.array([2], np.uint8))], nm + "_b")
            b = N("Reshape", [b, C("flat", np.array([-1], np.int64))], nm + "_bf")
            k = N("Cast", [b], nm + "_k", to=TP.INT32)
            c = N("CumSum", [k, C("ax0", np.array(0, np.int32))], nm + "_c")
            ix = N("Mul", [c, k], nm + "_i")
            g = N("Gather", [C(nm + "_nz", nz), ix], nm + "_g")
            N("Reshape", [g, shape], nm)
        elif variant in ("bitmask", "bitmask_el"):
            mi = N("Cast", [C(nm + "_mask", mask)], nm + "_mi", to=TP.INT32)
            t = N("Gather", [C("rank", rank), mi], nm + "_t")
            p = N("Gather", [C("count", count), mi], nm + "_p")
            c = N("CumSum", [p, C("zero", np.array(0, np.int32))], nm + "_c", exclusive=1)
            s = N("Add", [t, c], nm + "_a")
            ix = N("Max", [s, "zero"], nm + "_i")
            if variant == "bitmask":
                ix = N("Reshape", [ix, shape], nm + "_is")
                N("Gather", [C(nm + "_nz", nz), ix], nm)
            else:  # GatherElements needs data and indices of one rank: flat, then the weight's shape
                ix = N("Reshape", [ix, C("flat", np.array([-1], np.int64))], nm + "_if")
                g = N("GatherElements", [C(nm + "_nz", nz), ix], nm + "_g")
                N("Reshape", [g, shape], nm)
        elif variant in ("gather_idx", "gatherel_idx"):
            op = "Gather" if variant == "gather_idx" else "GatherElements"
            g = N(op, [C(nm + "_nz", nz), C(nm + "_idx", idx)], nm + "_g")
            N("Reshape", [g, shape], nm)
        elif variant == "where_full":
            N("Where", [C(nm + "_keep", keep.reshape(w.shape)), C(nm + "_v", w), C("fzero", np.array(0, np.float32))], nm)
        nodes.append(h.make_node("MatMul", [x, nm], ["y%d" % i]))
        x = "y%d" % i
    g = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", TP.FLOAT, [1, a.size])],
                     [h.make_tensor_value_info(x, TP.FLOAT, [1, a.size])], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


tmp = tempfile.mkdtemp(prefix="bench_decode_")
variants = ["dense", "bitmask_v1", "bitmask", "bitmask_el", "gather_idx", "gatherel_idx", "where_full"]
paths = {v: os.path.join(tmp, v + ".onnx") for v in variants}
for v in variants:
    build(v, paths[v])
    if v != "dense":
        r = subprocess.run(["node", a.ort, "compare", paths["dense"], paths[v], "--random", "1"], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("%s differs from dense:\n%s" % (v, r.stdout + r.stderr))
load = {v: [] for v in variants}
p50 = {v: [] for v in variants}
for _ in range(a.reps):
    for v in variants:
        r = subprocess.run(["node", a.ort, "bench", paths[v], "--iters", "5", "--warmup", "1", "--json"],
                           capture_output=True, text=True, check=True)
        d = json.loads(r.stdout)
        load[v].append(d["session_load_ms"])
        p50[v].append(d["latency_ms"]["p50"])
print("%d x MatMul with a pruned (50%%) %dx%d weight; ORT session load, %d alternating runs" % (a.layers, a.size, a.size, a.reps))
print("%-13s %9s %9s %7s %9s %9s" % ("variant", "MiB", "min ms", "ratio", "median", "p50 ms"))
for v in variants:
    print("%-13s %9.2f %9.1f %6.2fx %9.1f %9.2f" % (v, os.path.getsize(paths[v]) / 2**20, min(load[v]),
          min(load[v]) / min(load["dense"]), statistics.median(load[v]), statistics.median(p50[v])))
for p in paths.values():
    os.remove(p)
os.rmdir(tmp)
