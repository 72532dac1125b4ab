#!/usr/bin/python3
"""Issue 7's must-show table for pruning: accuracy (magnitude vs Wanda + reconstruction), file sizes
with sparse storage (raw, gzip, zstd), ONNX Runtime load and inference time dense vs encoded, and
structured resnet18 (parameters, p50 in ORT and effdl, ONNX checker, ORT/effdl agreement).
Run by hand (minutes; not in ctest):  scripts/bench_prune.sh [build-cc/effdl]
Needs /usr/bin/python3 with numpy + onnx, node + scripts/ort, and the zoo for resnet18 rows
(/usr/bin/python3 scripts/make_zoo.py). Timings alternate dense/encoded runs, median of --reps."""
import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

import numpy as np

root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
ap = argparse.ArgumentParser()
ap.add_argument("effdl", nargs="?", default=os.path.join(root, "build-cc", "effdl"))
ap.add_argument("--ort", default=os.environ.get("EFFDL_ORT_HARNESS", os.path.join(root, "scripts", "ort", "ort_run.js")))
ap.add_argument("--zoo", default="/tmp/effdl-zoo")
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--iters", type=int, default=20)
a = ap.parse_args()
tmp = tempfile.mkdtemp(prefix="bench_prune_")
M = lambda *p: os.path.join(root, "models", *p)


def sh(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise SystemExit("failed: %s\n%s" % (" ".join(cmd), r.stderr[-2000:]))
    return r.stdout


def optimize(model, out, flags, extra=()):
    return json.loads(sh([a.effdl, "optimize", model, "-o", out, "--force", "--json", "-q"] + flags + list(extra)))


def has_pass(name):
    return any(line.split()[:1] == [name] for line in sh([a.effdl, "passes"]).splitlines())


def sizes(path):
    raw = open(path, "rb").read()
    gz = len(gzip.compress(raw, 9))
    zs = None
    if shutil.which("zstd"):
        zs = len(subprocess.run(["zstd", "-19", "-c", path], capture_output=True).stdout)
    return len(raw), gz, zs


def ort_bench(path):
    return json.loads(sh(["node", a.ort, "bench", path, "--iters", str(a.iters), "--warmup", "2", "--json"]))


def effdl_bench(path):
    return json.loads(sh([a.effdl, "bench", path, "--threads", "1", "--iters", str(a.iters), "--json"]))


def effdl_p50(d):
    for k in ("latency_ms", "latency"):
        if k in d:
            v = d[k]
            return v["p50"] if isinstance(v, dict) else v
    raise SystemExit("effdl bench --json: no latency in %s" % list(d))


sh(["/usr/bin/python3", os.path.join(root, "scripts", "prune_calib.py"), os.path.join(tmp, "calib")])
calib = lambda n: os.path.join(tmp, "calib", n)
print("=== Accuracy (test split; Wanda + reconstruction calibrated on 512 training samples) ===")
print("%-16s %8s %10s %12s %10s %14s %14s" % ("model", "dense", "mag 50%", "mag 50% glob", "mag 70%", "wanda+rec 70%", "wanda+rec 50%"))
for name, x, y, c in (("digits_cnn", "digits_test_x", "digits_test_y", "digits"),
                      ("text_classifier", "text_test_ids", "text_test_y", "text")):
    ev = ["--eval-data", M(x + ".npy"), "--eval-labels", M(y + ".npy"), "--bench-iters", "1"]
    acc = {}
    for key, flags in (("m50", ["--prune", "0.5"]), ("g50", ["--prune", "0.5", "--prune-scope", "global"]),
                       ("m70", ["--prune", "0.7"]),
                       ("w70", ["--prune", "0.7", "--prune-method", "wanda", "--prune-reconstruct", "true", "--calib", calib(c)]),
                       ("w50", ["--prune", "0.5", "--prune-method", "wanda", "--prune-reconstruct", "true", "--calib", calib(c)])):
        r = optimize(M(name + ".onnx"), os.path.join(tmp, "acc.onnx"), flags, ev)
        acc["dense"] = r["measured"]["accuracy"]["before"] * 100
        acc[key] = r["measured"]["accuracy"]["after"] * 100
    print("%-16s %7.2f%% %9.2f%% %11.2f%% %9.2f%% %13.2f%% %13.2f%%" %
          (name, acc["dense"], acc["m50"], acc["g50"], acc["m70"], acc["w70"], acc["w50"]))

quant = has_pass("quantize")
print("\n=== File size (sparse-storage auto; gzip -9 and zstd -19 of the file; ratio to the fp32 file) ===")
print("int8 = --quantize static (calibrated on the training split; resnet18 on random:8). ORT: the encoded model")
print("loads in ONNX Runtime and its outputs equal the dense-storage model's (same pruning, same quantization);")
print("ORT~effdl: max abs diff between ORT and effdl's runtime on the encoded model (one sample)")
print("%-34s %10s %7s %10s %10s %5s %10s" % ("model", "bytes", "ratio", "gzip", "zstd", "ORT", "ORT~effdl"))
size_models = [("digits_cnn", M("digits_cnn.onnx"), calib("digits"), M("digits_test_x.npy")),
               ("text_classifier", M("text_classifier.onnx"), calib("text"), M("text_test_ids.npy"))]
if os.path.exists(os.path.join(a.zoo, "resnet18.onnx")):
    size_models.append(("resnet18", os.path.join(a.zoo, "resnet18.onnx"), "random:8", None))


def one_sample(model, x, d):
    """A folder with one input sample for `model` (the first test row, or seeded random)."""
    import onnx
    os.makedirs(d, exist_ok=True)
    inp = onnx.load(model, load_external_data=False).graph.input[0].name
    arr = np.load(x)[:1] if x else np.random.RandomState(0).randn(1, 3, 224, 224).astype(np.float32)
    np.save(os.path.join(d, inp + ".npy"), arr)
    return d, inp


def ort_vs_effdl(model, d, inp):
    for k in ("o", "e"):
        shutil.rmtree(os.path.join(tmp, "out_" + k), ignore_errors=True)
        os.makedirs(os.path.join(tmp, "out_" + k))
    sh(["node", a.ort, "run", model, "--input-dir", d, "--output-dir", os.path.join(tmp, "out_o")])
    sh([a.effdl, "run", model, "-q", "-i", inp + "=" + os.path.join(d, inp + ".npy"), "--output-dir",
        os.path.join(tmp, "out_e"), "--force"])
    diff = 0.0
    for f in os.listdir(os.path.join(tmp, "out_e")):
        if f.endswith(".npy"):
            diff = max(diff, float(np.abs(np.load(os.path.join(tmp, "out_o", f)).astype(np.float64) -
                                          np.load(os.path.join(tmp, "out_e", f))).max()))
    return diff


for name, path, cal, x in size_models:
    dense = os.path.join(tmp, name + "_dense.onnx")
    optimize(path, dense, ["--bench-iters", "0"])
    base = sizes(dense)
    d, inp = one_sample(dense, x, os.path.join(tmp, name + "_in"))
    rows = [("fp32 dense", dense, None)]
    last_dense = None
    for label, flags in (("50% pruned, dense storage", ["--prune", "0.5"]),
                         ("50% + sparse-format auto", ["--prune", "0.5", "--sparse-format", "auto"]),
                         ("50% + sparse-format coo", ["--prune", "0.5", "--sparse-format", "coo"]),
                         ("50% + int8, dense storage", ["--prune", "0.5", "--quantize", "static"]),
                         ("50% + int8 + auto", ["--prune", "0.5", "--quantize", "static", "--sparse-format", "auto"]),
                         ("75% + int8, dense storage", ["--prune", "0.75", "--quantize", "static"]),
                         ("75% + int8 + auto", ["--prune", "0.75", "--quantize", "static", "--sparse-format", "auto"])):
        out = os.path.join(tmp, "%s_%d.onnx" % (name, len(rows)))
        if "--quantize" in flags and not quant:
            rows.append((label, None, None))
            continue
        optimize(path, out, flags + ["--bench-iters", "0"] + (["--calib", cal] if "--quantize" in flags else []))
        # An encoded row is compared with the latest dense-storage row (same pruning and quantization).
        ref = last_dense if "--sparse-format" in flags else None
        if "--sparse-format" not in flags:
            last_dense = out
        rows.append((label, out, ref))
    for label, out, ref in rows:
        if out is None:
            print("%-34s %s" % (name + " " + label, "needs --quantize (not on this branch)"))
            continue
        s = sizes(out)
        ok = "-"
        if ref:
            ok = "same" if subprocess.run(["node", a.ort, "compare", ref, out, "--input-dir", d],
                                          capture_output=True).returncode == 0 else "DIFF"
        print("%-34s %10d %6.3fx %10d %10s %5s %10.3g" % (name + " " + label, s[0], s[0] / base[0], s[1], s[2], ok,
                                                          ort_vs_effdl(out, d, inp)))

if os.path.exists(os.path.join(a.zoo, "resnet18.onnx")):
    r18 = os.path.join(a.zoo, "resnet18.onnx")
    print("\n=== Session load and p50 (1 thread), dense pruned 50%% vs encoded, ORT and effdl; median of %d alternating runs ===" % a.reps)
    dense = os.path.join(tmp, "r18_p50.onnx")
    optimize(r18, dense, ["--prune", "0.5", "--bench-iters", "0"])
    enc = {}
    for fmt in ("bitmask", "coo"):
        enc[fmt] = os.path.join(tmp, "r18_p50_%s.onnx" % fmt)
        optimize(r18, enc[fmt], ["--prune", "0.5", "--sparse-format", fmt, "--bench-iters", "0"])
    res = {k: ([], [], [], []) for k in ["dense"] + list(enc)}
    for _ in range(a.reps):
        for k, p in [("dense", dense)] + list(enc.items()):
            b = ort_bench(p)
            res[k][0].append(b["session_load_ms"])
            res[k][1].append(b["latency_ms"]["p50"])
            e = effdl_bench(p)
            res[k][2].append(e["session_build_ms"])
            res[k][3].append(effdl_p50(e))
    med = {k: [statistics.median(x) for x in v] for k, v in res.items()}
    print("%-14s %9s %7s %9s %7s | %12s %7s %10s %7s %8s" % ("resnet18 50%", "ORT load", "ratio", "ORT p50", "ratio",
                                                          "effdl build", "ratio", "effdl p50", "ratio", "MiB"))
    for k in ["dense"] + list(enc):
        m, d0 = med[k], med["dense"]
        path = dense if k == "dense" else enc[k]
        print("%-14s %9.1f %6.2fx %9.2f %6.2fx | %12.1f %6.2fx %10.2f %6.2fx %8.2f" %
              (k, m[0], m[0] / d0[0], m[1], m[1] / d0[1], m[2], m[2] / d0[2], m[3], m[3] / d0[3],
               os.path.getsize(path) / 2**20))

    print("\n=== Structured: resnet18, 30% of channels per prunable group (L2) ===")
    dense = os.path.join(tmp, "r18_dense.onnx")
    ch = os.path.join(tmp, "r18_ch30.onnx")
    rd = optimize(r18, dense, ["--bench-iters", "0"])
    rc = optimize(r18, ch, ["--prune", "0.3", "--prune-mode", "channels", "--bench-iters", "0"])
    import onnx
    onnx.checker.check_model(onnx.load(ch))
    o, e = {"dense": [], "ch": []}, {"dense": [], "ch": []}
    for _ in range(a.reps):
        for k, p in (("dense", dense), ("ch", ch)):
            o[k].append(ort_bench(p)["latency_ms"]["p50"])
            e[k].append(effdl_p50(effdl_bench(p)))
    od, oc = statistics.median(o["dense"]), statistics.median(o["ch"])
    ed, ec = statistics.median(e["dense"]), statistics.median(e["ch"])
    # ORT vs effdl on one input.
    inp = os.path.join(tmp, "r18in")
    os.makedirs(inp, exist_ok=True)
    np.save(os.path.join(inp, "input.npy"), np.random.RandomState(0).randn(1, 3, 224, 224).astype(np.float32))
    for d in ("o", "e"):
        os.makedirs(os.path.join(tmp, "r18out_" + d), exist_ok=True)
    sh(["node", a.ort, "run", ch, "--input-dir", inp, "--output-dir", os.path.join(tmp, "r18out_o")])
    sh([a.effdl, "run", ch, "-q", "-i", "input=" + os.path.join(inp, "input.npy"), "--output-dir", os.path.join(tmp, "r18out_e"), "--force"])
    diff = float(np.abs(np.load(os.path.join(tmp, "r18out_o", "logits.npy")) - np.load(os.path.join(tmp, "r18out_e", "logits.npy"))).max())
    print("parameters        %10d -> %10d   %.3fx" % (rd["after"]["parameters"], rc["after"]["parameters"],
                                                    rc["after"]["parameters"] / rd["after"]["parameters"]))
    print("ORT p50 (1T)      %10.2f -> %10.2f ms %.3fx" % (od, oc, oc / od))
    print("effdl p50 (1T)    %10.2f -> %10.2f ms %.3fx" % (ed, ec, ec / ed))
    print("ONNX checker: ok; ORT vs effdl max abs diff on the pruned model: %.3g" % diff)

    print("\n=== 2:4 (resnet18): every group of 4 input channels keeps exactly 2 non-zeros; loads in ORT ===")
    nm = os.path.join(tmp, "r18_2of4.onnx")
    optimize(r18, nm, ["--prune", "0.5", "--prune-mode", "2:4", "--bench-iters", "0"])
    m = onnx.load(nm)
    from onnx import numpy_helper
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    bad = groups = 0
    for n in m.graph.node:
        if n.op_type == "Conv" and n.input[1] in inits:
            w = inits[n.input[1]]
            if w.shape[1] % 4:
                continue
            nz = (w.reshape(w.shape[0], w.shape[1] // 4, 4, -1) != 0).sum(axis=2)
            groups += nz.size
            bad += int((nz != 2).sum())
    b = ort_bench(nm)
    print("groups checked %d, groups without exactly 2 non-zeros %d; ORT load %.1f ms, p50 %.2f ms" %
          (groups, bad, b["session_load_ms"], b["latency_ms"]["p50"]))
shutil.rmtree(tmp)
